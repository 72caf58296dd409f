"""Tuning of the spotter (spotter.py), and the voice and talk checks it is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from voicecoach.commands import Command
from voicecoach.echo import EchoSettings

#: Rough length of a spoken word, to place a heard phrase in time (vosk gives no partial times).
WORD_SECONDS = 0.4
#: Seconds of latest audio -> whether a voice (pitch) is in them (VoiceTrace.is_voiced).
Voiced = Callable[[float], bool]
#: Session seconds [t0, t1] -> seconds of it louder than the coach's echo (TalkMeter.talking).
Talking = Callable[[float, float], float | None]


@dataclass(frozen=True)
class SpotSettings:
    """Tuning of the spotter (defaults measured by benchmarks/bench_listen.py)."""

    hold: float = 0.15
    """Seconds a command phrase must stay the tail of the partial hypothesis before it fires:
    0.06 s took 10 % more words said on their own for commands, and 2 commands fewer of 528
    right (benchmarks/bench_words.py, bench_listen.py), for 50-90 ms less latency."""
    quiet: float = 0.12
    """Seconds of quiet after the phrase that show it was said on its own."""
    resume_quiet: float = 0.2
    """...for a "resume" phrase: a heading read out on its own by a TV or a radio ("Overuse",
    "Conclusion") is heard as "resume" or "continue", and the next word follows within 0.2 s
    (0.15-0.18 s in benchmarks/bench_unrelated.py); a pause is a rest, where a tenth of a second
    more before the coach goes on costs nothing. 0.25 s cost more latency across a room."""
    gap: float = 0.5
    """Seconds of quiet after which the words of a noise heard so far no longer come before a
    phrase."""
    barge_hold: float = 0.15
    """While the coach speaks there is no quiet: the tail must stay this long instead."""
    barge_in: tuple[str, ...] = ("pause", "stop", "it hurts")
    """Phrases that may fire after other words while the coach is speaking (interrupting it);
    few, because any phrase the coach's voice is misheard as would fire too. "it hurts" is
    one: pain comes mid-hold, while the coach counts every second, and the welcome says to
    say it "at any point" (a user's run-through found it ignored there). Not "pain" alone:
    one word is misheard far more often than two (benchmarks/bench_bargein.py)."""
    echo: EchoSettings = EchoSettings()
    """How heard words are matched against the coach's clips."""
    barge_learnt: tuple[str, ...] = ("it hurts",)
    """Barge-in phrases that interrupt the coach only once its echo is learnt (TalkMeter.learnt)
    and the microphone stands over it: the coach's voice is misheard as "it hurts" every few
    minutes (its "start": "let's start", "back to the start"), and before its echo is known
    only the words are checked. "pause" and "stop" must work from the first word; "it hurts"
    said then fires once the coach stops, or the keyword search pauses for it (it waits for
    the echo too: bargein.py)."""
    barge_talk: float = 0.06
    """Seconds of a barge-in phrase in which the microphone must be louder than the coach's
    echo explains (a person talking over it), once that echo is known (doubletalk.py): three
    frames, one more than the coach alone ever gave (benchmarks/bench_bargein.py)."""
    talk_lead: float = 0.4
    """Seconds before a barge-in phrase's estimated start also looked at for the person's voice:
    the recognizer names a word up to 0.4 s after it ends, so the estimate comes late."""
    name_lag: float = 0.5
    """Seconds after a word ends within which the recognizer names it: the voice check looks
    back past up to this much quiet after a phrase for the phrase's own voice."""
    echo_reach: float = 0.8
    """Seconds back from the latest audio in which a word the coach said may be the last of a
    hypothesis: such words after a phrase are set aside as its echo (on 2026-12-05, live, a
    "pause" said just before a count was heard as "pause two" and had to be said again)."""
    speaking_margin: float = 0.3
    """Seconds around each clip that count as the coach speaking, when only barge-in phrases
    may fire (the heard phrase's own start is an estimate: see WORD_SECONDS)."""
    fore_hold: float = 0.09
    """Seconds a phrase must stay the tail before it is checked for standing out of another
    voice talking on (foreground.py), instead of `hold`: the stretch of voice found, with only
    the TV's level after it, says where the phrase ended, and the TV's next word, named 0.12 s
    after "next" ("next on"), left it no 0.15 s to hold (bench_tv.py)."""
    edge_talk: float = 0.15
    """Seconds after the coach's clip ends, before a phrase is named, in which the microphone
    must hold more than its echo for the phrase to count as said after it, though within
    `speaking_margin` (Isolation._said_after_coach): a word takes 0.3-0.5 s to say, and the
    coach's own last word misheard has only its room's tail there."""

    def quiet_after(self, command: Command) -> float:
        """Seconds of quiet after a phrase of `command` before it fires on a partial result."""
        return self.resume_quiet if command is Command.RESUME else self.quiet


def settings_for(recognizer: object) -> SpotSettings:
    """The default settings, with the hold the recognizer asks for (its `spot_hold`, if it has
    one): how long a phrase must stay the same depends on how often its partial results come."""
    hold = getattr(recognizer, "spot_hold", None)
    return SpotSettings() if hold is None else replace(SpotSettings(), hold=float(hold))

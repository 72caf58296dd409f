"""Whether a phrase is said on its own: the coach's words, its echo and noises around it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from voicecoach.echo import EchoSettings, coach_speaking, echo_of
from voicecoach.spotsettings import WORD_SECONDS

if TYPE_CHECKING:
    from voicecoach.commands import Command
    from voicecoach.speaker import Playing, Utterance
    from voicecoach.spotsettings import SpotSettings, Talking


class Isolation:
    """Spotter's methods for the words before and after a phrase that are not the person's."""

    #: Session time a phrase was first named, its words -> whether the latest audio holds it
    #: said over another voice talking on, standing out of it (foreground.py; the Pipeline's).
    foreground: Callable[[float, int], bool] | None = None
    #: A phrase's session times (t0, t1) and command -> why it is turned down as no louder than
    #: another voice talking on, or "" (Pipeline._over_room): a quiet TV's own word between
    #: its pauses.
    under_room: Callable[[float, float, Command], str] | None = None

    if TYPE_CHECKING:
        # What these use of the Spotter's state (set in Spotter.__init__).
        settings: SpotSettings
        playing: Playing | None
        room: Callable[[float], float | None] | None
        _start: int
        _before_gap: int | None
        _fired: set[Command]
        _aside: bool
        _preceded: set[str]
        _replying: bool
        _coach_upto: int | None
        _before_quiet: int

    def _coach_words(self, words: tuple[str, ...], now: float, quiet: float) -> None:
        """While the coach speaks (an instruction, a count, its reply to a command), the words
        heard are its own, and a phrase said after them is on its own. Live, "pause", the
        coach's "Paused." and the person's "continue" or "next" right after it were one
        utterance, so the "next" was turned down as not said on its own; and a "repeat" said
        half a second after "Rest for ten seconds. Next, set two of three." was turned down
        the same way (2026-12-06). After a command, with no reply to hear (captions only),
        `gap` seconds of quiet do the same: the utterance may stay open for a second (vosk)
        or as long as a TV talks (pocketsphinx's endpointer)."""
        if quiet < self.settings.quiet:
            self._before_quiet = len(words)
            if self._aside:
                # New sound after a set-aside: a phrase in it is a new one, even the
                # command that fired before it.
                self._fired, self._aside = set(), False
        if self._replying and quiet >= self.settings.gap:
            # The words named before the quiet began; a word named late, into it, is still
            # the person's next one.
            self._set_aside(min(len(words), self._before_quiet))
            return
        if self.playing is None:
            return
        margin = EchoSettings(margin=self.settings.speaking_margin)
        speaking = coach_speaking(now, now, list(self.playing(now, now, margin.margin)), margin)
        if speaking and self._replying:
            self._set_aside(len(words))
        elif speaking:
            # Not yet: while it speaks, what is heard is still judged as before (its echo,
            # only barge-in phrases); the words count as its own once it stops, and until
            # `speaking_margin` after its last sound, as the recognizer may name its last word
            # late (a count misheard as "repeat" would then be on its own).
            self._coach_upto = len(words)
        elif self._coach_upto is not None:
            # ...unless another voice talks on in the coach's silences (roomvoice.py): a TV's
            # words right after the coach's line would be said on their own too (a TV level
            # with the coach's echo then fired "resume", bench_bargein.py --tv-talk 0).
            other = self.room(now) if self.room is not None else None
            if self._start != -1 and other is None:
                self._start, self._before_gap = max(self._start, self._coach_upto), None
                self._preceded = set()
            self._coach_upto = None

    def _set_aside(self, upto: int) -> None:
        """The first `upto` words heard are done with: a phrase starts after them."""
        self._start, self._before_gap = upto, None
        self._preceded = set()
        # What fired stays fired until new sound comes: in the quiet after "next" the final
        # result may name the same sound again, one word longer ("[unk] next", "go back",
        # "say again"), which fired a second time (two steps on; a second "stop" answered
        # the end-the-session question itself) when no spoken reply came in between.
        self._aside = True

    def _echo_tail(self, words: tuple[str, ...], now: float) -> int:
        """How many of the last `words` (all but the first) the coach was saying in the
        `echo_reach` seconds before session time `now`."""
        s = self.settings
        if self.playing is None or len(words) < 2:
            return 0
        playing = list(self.playing(now - s.echo_reach, now, s.echo.margin))
        k = 0
        while (playing and k < len(words) - 1
               and echo_of(words[-1 - k :][:1], now - s.echo_reach, now, playing, s.echo)):
            k += 1
        return k

    def _own_start(self, words: tuple[str, ...]) -> int:
        """Where in `words` a phrase would be said on its own; -1 for nowhere."""
        # By count: the recognizer may still rename what it heard before the gap (a cough,
        # "back" then "it"), but no later word goes in front of it. (Should it drop the
        # cough's word and hear a word said after the gap in its place, "no back" would
        # count as "back" said on its own: rare, and it is still a word the person said.)
        gap = self._before_gap
        if self._start != -1 and gap is not None and len(words) > gap:
            return gap
        return self._start

    def _said_after_coach(self, t1: float, playing: list[Utterance],
                          talking: Talking | None, learnt: bool) -> bool:
        """Whether a phrase named at `t1`, within `speaking_margin` of the coach's clips, was
        said once they had ended: for `edge_talk` s between their end and `t1` the microphone
        held more than the coach's echo explains (doubletalk.py). People answer 0.2-0.3 s after
        the coach stops; a phrase's start is only an estimate (spotsettings.WORD_SECONDS), and a
        "repeat" said 0.3 s after "Next, set two of three." was turned down as said while the
        coach spoke, 3 live runs in 11 (2026-12-07)."""
        if talking is None or not learnt or not playing:
            return False
        ends = [u.end for u in playing]
        if any(end is None for end in ends):
            return False  # a clip still plays, or is about to
        end = max(e for e in ends if e is not None)
        if end >= t1:
            return False
        over = talking(end, t1)
        return over is not None and over >= self.settings.edge_talk

    def _stands_out(self, isolated: bool, barge_in: bool, held: float, quiet: float,
                    needed: float, words: int, named: float, now: float, final: bool
                    ) -> tuple[bool, float, float, bool, bool]:
        """(isolated, quiet, held, barge_in, stood out) for a phrase of `words` words, which
        needs `needed` seconds of quiet after it (SpotSettings.quiet_after), first
        named at session time `named` (`final`: the utterance ends with it), judged by how it
        stands out of another voice talking on (foreground.py): said over a TV in the coach's
        silence, with only the TV's talk around it, it is said on its own, and the TV's level
        after it is its quiet and its hold. A barge-in in that silence waits for this, as any
        phrase does. Over the coach's voice the coach's words stand out of a TV too: there the
        rules are the coach's (spotter.py)."""
        s = self.settings
        if self.foreground is None or self.room is None:
            return isolated, quiet, held, barge_in, False
        t0 = named - WORD_SECONDS * words
        playing = list(self.playing(t0, now, s.echo.margin)) if self.playing else []
        if coach_speaking(t0, now, playing, EchoSettings(margin=s.speaking_margin)):
            return isolated, quiet, held, barge_in, False
        if ((held >= s.fore_hold or final) and (not isolated or quiet < needed or held < s.hold)
                and self.foreground(named, words)):
            return True, max(quiet, needed), max(held, s.hold), barge_in, True
        if (barge_in and not isolated and not coach_speaking(t0, now, playing, s.echo)
                and self.room(t0 - s.talk_lead) is not None):
            # Within `echo.margin` of a clip it is judged as over the coach (turned down for
            # the other voice, and the person told so); the silences before the phrase only.
            return isolated, quiet, held, False, False
        return isolated, quiet, held, barge_in, False

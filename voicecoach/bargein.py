"""Barge-in over the coach's running speech: a keyword search beside the command recognizer.

A word said on top of one of the coach's sentences rarely comes out of the command recognizer:
its language model fits the whole stretch of speech, the coach's voice and the person's, to one
hypothesis, and the person's "pause" is lost in it. A keyword search (sphinx_keywords.py) finds
the word wherever it stands out, but it finds the coach's own voice too. So it is fed only
while the coach speaks (around its clips in the SpeechLog) and the microphone holds more than
the coach's echo (doubletalk.py; the last 1.5 s first, for a run-up), and a find is taken only
when:

* the coach was speaking then (else the command recognizer hears the word on its own),
* the coach was not saying that word itself (echo.py),
* no question waits for its answer (the coach's questions end in words like "touch"),
* the microphone held more than the coach's echo for `talk` seconds of it (doubletalk.py):
  the person's voice, not the coach's. Until the echo's level is known nothing is taken.
* no other voice talks on in the coach's silences (roomvoice.py): a TV, whose words are found
  as "pause" again and again; the person then says it in the coach's pauses.
* there is a voice in it (voicing.py).

Whether "pause" or "stop" was found, the coach only *pauses*: over running speech the two are
often taken for each other, and a pause loses nothing, while ending the session is said again
in the quiet that follows. "it hurts" is the exception (BargeSettings.own): it stops the
exercise and asks about the pain, as it does said on its own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from voicecoach.commands import Command
from voicecoach.echo import EchoSettings, coach_speaking, echo_of
from voicecoach.recognizer import KeywordSpotter
from voicecoach.roomvoice import OTHER_VOICE
from voicecoach.speaker import Playing
from voicecoach.spotter import Spot, Talking, Voiced


@dataclass(frozen=True)
class BargeSettings:
    """When the keyword search is fed and what it takes to act on a find."""

    before: float = 0.5
    """Seconds before a clip's start from which the coach counts as speaking here."""
    after: float = 1.0
    """Seconds after a clip's end until which it still does (a word said as it stops)."""
    trigger: float = 0.1
    """The search starts when, in this many latest seconds, the microphone held more than the
    coach's echo for any frame: it costs a core's 6 % while it runs, so not on the coach
    alone, whose echo rarely tops the threshold (doubletalk.py)."""
    runup: float = 1.5
    """Seconds of audio before the trigger the search is given first: the word began before
    its loudest frames, and the search needs some sound before the word."""
    linger: float = 1.5
    """Seconds the search goes on after the microphone last held more than the echo."""
    talk: float = 0.06
    """Seconds of the word (and `lead` before it) in which the microphone must be louder than
    the coach's echo explains: the same three frames as a barge-in by the recognizer."""
    lead: float = 0.2
    """Seconds before the word's start also looked at for the person's voice: the search
    often dates a word from its last sound ("pause" from its "z"), after the vowel that shows
    above the echo (offline, 32 of 97 words over the coach's lines interrupted it against 24
    with none: benchmarks/bench_bargein.py --kws-lead). With the loudest coach frame of a
    quarter second for the echo (before doubletalk.py learnt the echo's shape), 0.2 s once let
    the coach alone through in a live session (its rep counts, 515 s in)."""
    again: float = 2.0
    """Seconds after a command fired in which further finds are ignored (one word, one act;
    but "it hurts" may follow a pause: `own`)."""
    echo: EchoSettings = EchoSettings()
    """How a find is matched against the coach's clips."""
    own: tuple[str, ...] = ("it hurts",)
    """Keyphrases whose find fires their own command, not a pause: a person in pain who says
    "it hurts" over the counts should be asked about it, not told "Paused." and left to say
    it again."""
    own_after: float = 0.7
    """Seconds after an `own` keyphrase's find (from its end) that are waited for before it
    fires: in them the microphone may stand over the coach's echo for at most `own_talk`
    seconds. A person says "it hurts" and stops; a TV or a conversation over the coach talks on.
    Sentences of the source article said over the coach's lines (12.4 minutes) fired it 11 times
    at once, 4 times with 0.4 s and none with 0.7, while "it hurts" said over the counts asked
    about the pain as often (26, 27 of 48: benchmarks/bench_bargein.py --unrelated, --words);
    its sound is usually found as "pause" first, so the coach stops at once all the same..."""
    own_talk: float = 0.1
    """...(seconds)."""


class BargeIn:
    """Feeds a KeywordSpotter around the coach's clips and turns its finds into pauses (or the
    `own` phrases' commands)."""

    def __init__(self, keywords: KeywordSpotter, playing: Playing,
                 settings: BargeSettings = BargeSettings(),
                 match: Callable[[str], Command | None] | None = None,
                 room: Callable[[float], float | None] | None = None) -> None:
        self.keywords = keywords
        # Session time -> the voiced share of the coach's silences before it, when another
        # voice talks on in them (RoomVoice.talking_on), else None.
        self._room = room
        self.settings = settings
        self._match = match  # phrase -> command, for the `own` keyphrases
        self._playing = playing
        self._recent: deque[tuple[bytes, float]] = deque()
        self._searching_until = float("-inf")
        self._acted: tuple[float, Command] | None = None  # when and what it last fired
        self._acted_word = ""  # the word it found then ("stop" pauses too)
        # When and what fired last, by either way (fired(): None when it did not say).
        self._last: tuple[float, Command | None] = (float("-inf"), None)
        self._waiting: tuple[Spot, float] | None = None  # an `own` find and its end (own_after)
        #: Bytes of audio the keyword search has taken in (its cost; see the benchmark).
        self.searched = 0

    def feed(self, pcm: bytes, captured_at: float, talking: Talking | None,
             voiced: Voiced | None = None, question: bool = False,
             learnt: bool = False) -> Spot | None:
        """Take in a chunk whose last sample is at session time `captured_at`;
        a Spot when a find was decided on (fired or turned down), else None. `learnt`: whether
        the coach's echo is learnt (spotter.SpotSettings.barge_learnt: "it hurts" waits for
        it)."""
        s = self.settings
        self._recent.append((pcm, captured_at))
        while self._recent and self._recent[0][1] < captured_at - s.runup:
            self._recent.popleft()
        near = self._playing(captured_at - s.after, captured_at + s.before, 0.0)
        over = talking(captured_at - s.trigger, captured_at) if near and talking else None
        backlog: list[tuple[bytes, float]] = []
        if over:
            if captured_at > self._searching_until:  # the run-up: the word began before this
                backlog = list(self._recent)[:-1]
            self._searching_until = captured_at + s.linger
        waited = self._waited(captured_at, talking)
        if captured_at > self._searching_until:
            if self._searching_until > float("-inf"):
                self.keywords.reset()
                self._searching_until = float("-inf")
            return waited
        found = []
        for old_pcm, old_at in [*backlog, (pcm, captured_at)]:
            found += self.keywords.accept(old_pcm, old_at)
            self.searched += len(old_pcm)
        spot = waited
        acted = waited is not None and not waited.rejected
        for kw in found:
            decided = self._decide(kw.word, kw.start, kw.end, captured_at, talking, voiced,
                                   question, learnt)
            # An `own` phrase's find (a find of any other is a pause).
            if decided.command is not Command.PAUSE and not decided.rejected:
                # Every find of "it hurts" is looked at, even one in the same chunk as the
                # "pause" found in its sound (the run-up is searched in one go).
                if self._waiting is None:
                    self._waiting = (decided, kw.end)
                continue
            if acted:
                continue  # one act a chunk; `again` turns the others down anyway
            spot = decided
            if not decided.rejected:
                self._acted_now(decided)
                acted = True
        return spot

    def _waited(self, now: float, talking: Talking | None) -> Spot | None:
        """The `own` find waiting, decided once `own_after` has passed since its end."""
        if self._waiting is None:
            return None
        spot, end = self._waiting
        s = self.settings
        # Not in the chunk where the command recognizer fired: the Listener acts on one
        # command a chunk, and this one would be lost.
        if now < end + s.own_after or self._last[0] >= now:
            return None
        self._waiting = None
        talked = talking(end + 0.05, end + s.own_after) if talking is not None else None
        if talked is None or talked > s.own_talk:
            return _reject(spot, "keyword search: talk went on after it "
                           f"({talked or 0.0:.2f} s over the echo): not said on its own")
        if now - self._last[0] < s.again and not self._escalates(spot.command):
            return _reject(spot, "keyword search: it fired just now")
        fired = replace(spot, t1=now)
        self._acted_now(fired)
        return fired

    def _acted_now(self, spot: Spot) -> None:
        self._acted = self._last = (spot.t1, spot.command)
        self._acted_word = spot.heard

    def _escalates(self, command: Command) -> bool:
        """Whether `command` (an `own` phrase's) may follow the command fired last, by either
        way: only a pause ("it hurts" is found as "pause" too, and sooner; it still stops the
        exercise and asks), not a "next" or a "stop", nor itself."""
        # Not after a pause this search made for a "stop": "it hurts" was found in that
        # sound too (CI, 2026-12-08), and the "stop" asks whether to end all the same.
        stopped = self._last == self._acted and self._acted_word == "stop"
        return self._last[1] is Command.PAUSE and command is not Command.PAUSE and not stopped

    def _decide(self, word: str, t0: float, t1: float, now: float, talking: Talking | None,
                voiced: Voiced | None, question: bool, learnt: bool) -> Spot:
        s = self.settings
        own = self._match(word) if self._match and word in s.own else None
        spot = Spot(own or Command.PAUSE, word, t0, now, by="keyword search")
        playing = list(self._playing(t0, t1, s.echo.margin))
        if not coach_speaking(t0, t1, playing, s.echo):
            return _reject(spot, "keyword search: the coach was not speaking")
        if question:
            return _reject(spot, "keyword search: a question waits for its answer")
        echo = echo_of(_telling(word), t0, t1, playing, s.echo)
        if echo is not None:
            return _reject(spot, f"keyword search: echo of the coach saying {echo.text!r}")
        over = talking(t0 - s.lead, t1) if talking is not None else None
        if over is None:
            return _reject(spot, "keyword search: the coach's echo level is not known yet")
        if over < s.talk:
            return _reject(spot, f"keyword search: only the coach's echo ({over:.2f} s above it)")
        if own is not None and not learnt:
            # As for the command recognizer: the coach's "start" was heard as "it hurts".
            return _reject(spot, "keyword search: the coach's echo is not learnt yet")
        if voiced is not None and not voiced(min(2.0, now - t0 + 0.2)):
            return _reject(spot, "keyword search: no voice in it")
        # One phrase, one act; but "it hurts" found after a pause still stops the exercise.
        if now - self._last[0] < s.again and not (own is not None and self._escalates(own)):
            return _reject(spot, "keyword search: it fired just now")
        # The silences before the find only: its own sound is the person's.
        room = self._room(t0 - s.lead) if self._room is not None else None
        if room is not None:
            return _reject(spot, f"keyword search: {OTHER_VOICE} ({room:.0%} of them voiced): "
                           "a TV?")
        return spot

    def acted_since(self, at: float) -> Command | None:
        """The command this keyword search fired within `again` seconds before `at`, if any."""
        if self._acted is None or not self._acted[0] <= at < self._acted[0] + self.settings.again:
            return None
        return self._acted[1]

    def acted_on(self, word: str, at: float) -> bool:
        """Whether this keyword search acted on a find of `word` within `again` seconds before
        `at`: its sound was then louder than the coach's echo, as a barge-in must be."""
        return self.acted_since(at) is not None and self._acted_word == word

    def fired(self, at: float, command: Command | None = None) -> None:
        """`command` (a pause, or another) fired at session time `at` by another way: a find
        of the same word must not act again, nor "it hurts" ask twice."""
        self._last = (at, command)

    def reset(self) -> None:
        """The stream breaks here (the microphone restarted)."""
        self.keywords.reset()
        self._recent.clear()
        self._searching_until = float("-inf")
        # Its wait would be measured over audio the meter never had: as if all quiet.
        self._waiting = None


def _reject(spot: Spot, reason: str) -> Spot:
    return replace(spot, rejected=reason)


def _telling(phrase: str) -> tuple[str, ...]:
    """The words of a keyphrase to look for in what the coach said: not a short word like "it"
    of "it hurts", which the coach says all the time; a keyphrase is one sound."""
    words = phrase.split()
    return tuple(w for w in words if len(w) > 2) or tuple(words)

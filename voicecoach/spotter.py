"""Deciding when what the recognizer hears is a command: stable partials, isolation, echoes.

Pure logic over Hearings, so it is tested with scripted hypotheses. The rules:

* A command is the phrase at the end of the current hypothesis. It fires once that tail has
  stayed the same for `hold` seconds of audio (a *stable partial*) and the audio has gone quiet
  for `quiet` seconds (`resume_quiet` for "resume": a TV's heading read alone), or when the
  recognizer closes the utterance, whichever is first: no waiting for the recognizer's
  end-of-utterance silence (0.3-0.5 s).
* It must start the utterance (nothing heard before it, not even words the recognizer drops
  again from its final result), and only one command fires per utterance: running speech
  ("pain in the back of your knee") has words around the phrase and no quiet after it, a
  command has silence on both sides. Words heard in a sound with no voice in it (a cough, a
  knock) and followed by `gap` seconds of quiet no longer count as coming before it: a cough
  too short for the recognizer to close its utterance, then "pause" two seconds later, is a
  command said on its own.
* Exception, barge-in: while the coach is speaking its voice fills the utterance, so "pause",
  "stop" and "it hurts" may fire after other words, as long as the coach is not saying that
  word then and not while a question waits for its answer. While the coach speaks they fire
  only when the microphone is louder than the coach's echo explains (doubletalk.py): its
  voice alone was once heard as "it stop".
* While the coach is speaking, only the barge-in phrases fire at all: whatever else is heard
  then is most likely its own voice misheard (the count "three" as "repeat").
* Never a phrase the coach was saying at that moment (see echo.py), isolated or not.
* A command that means nothing in the session's state (`paused`: "resume" while it runs,
  "pause" while paused) is ignored, so it leaves the utterance open: in noise "hold on" was
  first heard as "go on", and "go on" taken as the utterance's one command. (pocketsphinx
  also leaves "resume" out of its language model while the session runs.)
* Answers ("yes", "seven") count only while a question expects that section of the phrase
  table (`expect`), only said on their own, and never while the coach speaks (its question
  "from zero to ten" would answer itself).
* While another voice talks on in the coach's silences (`room`, roomvoice.py: a TV): no
  barge-in (a TV says "stop" too), and a phrase standing out of that talk, with only the talk
  around it, is said on its own (`foreground`, foreground.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voicecoach.commands import Command
from voicecoach.echo import EchoSettings, coach_speaking, echo_of
from voicecoach.isolation import Isolation
from voicecoach.phrases import PhraseTable
from voicecoach.recognizer import Hearing
from voicecoach.roomvoice import OTHER_VOICE
from voicecoach.speaker import Playing
from voicecoach.spotsettings import WORD_SECONDS
from voicecoach.spotsettings import SpotSettings as SpotSettings
from voicecoach.spotsettings import Talking as Talking
from voicecoach.spotsettings import Voiced as Voiced
from voicecoach.spotsettings import settings_for as settings_for

#: How a barge-in no louder than the coach's echo is turned down (the pipeline reads it).
ECHO_ONLY = "only the coach's echo"


@dataclass(frozen=True)
class Spot:
    """A command the spotter decided on, or a phrase it turned down, with why."""

    command: Command
    """The command the phrase asks for."""
    heard: str
    """The words of the phrase as heard."""
    t0: float
    """Estimated session time (s) the phrase started."""
    t1: float
    """Session time (s) of the audio when it was decided."""
    rejected: str = ""
    """Empty when it fires; else the reason it did not ("echo: ...", "not isolated")."""
    by: str = "recognizer"
    """What heard it: "recognizer", or "keyword search" (bargein.py)."""


class Spotter(Isolation):
    """Feeds on Hearings and says when a command fires; one per audio stream."""

    def __init__(
        self,
        table: PhraseTable,
        playing: Playing | None = None,
        settings: SpotSettings = SpotSettings(),  # noqa: B008 - frozen: safe to share
    ) -> None:
        self.table = table
        self.settings = settings
        self.playing = playing
        #: Session time -> the voiced share of the coach's silences when another voice talks
        #: on in them, else None (roomvoice.RoomVoice.talking_on; set by the Pipeline).
        self.room: Callable[[float], float | None] | None = None
        self._utterance = -1
        # A phrase at index _start is said on its own (-1: none can be); before _decided: done.
        self._start = 0
        # How many words were heard before the last `gap` of quiet after a noise: a phrase
        # right after them is on its own.
        self._before_gap: int | None = None
        self._gap_checked: tuple[str, ...] = ()
        self._decided = 0
        self._decided_words: tuple[str, ...] = ()
        self._candidate: tuple[int, Command] | None = None
        self._since = 0.0
        # Recognizers re-segment the final result; one command fires once per utterance.
        self._fired: set[Command] = set()
        self._aside = False  # see Isolation._set_aside
        # Commands heard after other words in this utterance: still not said on their own when
        # the final result drops those words (the article's "Overweight": "away wait", "wait").
        self._preceded: set[str] = set()
        # A command fired in this utterance: what the coach says next is its reply, and a
        # phrase right after the reply is said on its own (words, as _before_gap).
        self._replying = False
        # How many words were heard while the coach spoke (None: it has not, or they are
        # counted already): once it stops, a phrase after them is said on its own.
        self._coach_upto: int | None = None
        # How many words were heard before the latest quiet began.
        self._before_quiet = 0
        # Answer section a question is waiting for; set from another thread (one assignment).
        self._section: str | None = None
        # The command that means nothing in the session's state; also set from another thread.
        self._idle: Command | None = None

    def expect(self, section: str | None) -> None:
        """Listen for answers of `section` ("yes_no", "numbers") too; None: commands only."""
        if section is not None and section not in self.table.answers:
            raise KeyError(f"no answer section {section!r} in the {self.table.name} phrase table")
        self._section = section

    def paused(self, paused: bool | None) -> None:
        """The session paused (True), runs (False) or there is none (None): ignore "pause"
        while paused and "resume" while running."""
        self._idle = {None: None, False: Command.RESUME, True: Command.PAUSE}[paused]

    @property
    def expecting(self) -> str | None:
        """The answer section a question waits for, or None."""
        return self._section

    def _tail(self, words: tuple[str, ...]) -> tuple[Command, int] | None:
        """The command phrase, else the expected answer phrase, that ends `words`."""
        found = self.table.match_tail(words)
        if found is not None and found[0] is self._idle:
            return None
        section = self._section
        if found is not None or section is None:
            return found
        best = 0
        for phrase in self.table.answers[section]:
            n = len(phrase.split())
            if best < n <= len(words) and " ".join(words[-n:]) == phrase:
                best = n
        return (Command.ANSWER, best) if best else None

    def feed(self, hearing: Hearing, quiet: float = 0.0, offset: float = 0.0,
             voiced: Voiced | None = None, talking: Talking | None = None,
             learnt: bool = False) -> Spot | None:
        """Look at the latest Hearing; `quiet` is the trailing quiet (s) in the audio so far,
        `offset` turns stream seconds into session seconds, `voiced` (if given) says whether
        the latest seconds of audio hold a voice: a phrase without one does not fire,
        `talking` (if given) how much of a span is louder than the coach's echo: a barge-in
        without enough of it does not fire, and `learnt` whether that echo is learnt
        (SpotSettings.barge_learnt).

        Returns a Spot when a phrase was decided on, fired or turned down; None otherwise.
        """
        if hearing.utterance != self._utterance:
            self._new_utterance(hearing.utterance)
        spot = self._decide(hearing, quiet, offset, voiced, talking, learnt)
        if hearing.final:
            # The next Hearing belongs to a new utterance, whatever its counter says.
            self._new_utterance(-1)
        return spot

    def _new_utterance(self, counter: int) -> None:
        self._utterance, self._start, self._decided = counter, 0, 0
        self._before_gap, self._gap_checked = None, ()
        self._decided_words, self._candidate, self._fired = (), None, set()
        self._aside = False  # words set aside, _fired kept until new sound (Isolation)
        self._preceded = set()
        self._replying = False
        self._coach_upto = None
        self._before_quiet = 0

    def _decide(self, hearing: Hearing, quiet: float, offset: float,
                voiced: Voiced | None, talking: Talking | None, learnt: bool) -> Spot | None:
        words = hearing.words
        self._coach_words(words, offset + hearing.end, quiet)
        # Once per hypothesis (a check costs ~1 ms). Only a noise: after words with a voice
        # the endpointer would have ended the utterance already (pocketsphinx), and running
        # speech with a pause in it (vosk keeps its utterance open for 0.5-1 s) stays so.
        if (quiet >= self.settings.gap and words and self._start != -1 and voiced is not None
                and words != self._gap_checked):
            self._gap_checked = words
            if not voiced(min(2.0, quiet + 1.0)):
                self._before_gap = len(words)
        if words[: self._decided] != self._decided_words:
            # The recognizer revised the words already decided on ("back continue" became
            # "next"): look at the new ones; what fired stays fired (_fired, _start).
            self._decided, self._decided_words = 0, ()
        # The coach's own words right after a phrase are not the person's ("pause two": a
        # count begun just after a "pause"): the phrase stays the end of what they said.
        kept = words[: len(words) - self._echo_tail(words, offset + hearing.end)]
        tail = self._tail(kept[self._decided :])
        if tail is None:
            self._candidate = None
            return None
        command, n = tail
        first = len(kept) - n
        key = (first, command)
        if key != self._candidate:
            self._candidate, self._since = key, hearing.end
        held = hearing.end - self._since + 1e-9
        phrase = kept[first:]
        said = " ".join(phrase)
        # By phrase, not command ("no back", then "go back"), and only once it has held: a
        # breath heard for an instant as a word before "stop" is no running speech.
        start = self._own_start(words)
        if first != start and held >= self.settings.hold:
            self._preceded.add(said)
        isolated = first == start and said not in self._preceded
        # No barge-in while a question waits: its own last word ("...painful to touch?") heard
        # as "stop" aborted safety checks; a person's "stop" after it is said on its own.
        barge_in = (said in self.settings.barge_in and command is not Command.ANSWER
                    and self._section is None)
        needed = self.settings.quiet_after(command)
        isolated, quiet, held, barge_now, stood_out = self._stands_out(
            isolated, barge_in, held, quiet, needed, n, offset + self._since,
            offset + hearing.end, hearing.final)
        if not hearing.final:
            if isolated and (held < self.settings.hold or quiet < needed):
                return None
            # Other words before a phrase that cannot barge in: turned down at the end of the
            # utterance, unless the recognizer revises them away meanwhile.
            if not isolated and (not barge_now or held < self.settings.barge_hold):
                return None
        # Decided, one way or the other: never look at these words again in this utterance.
        self._decided, self._decided_words = len(words), words
        self._candidate = None
        t1 = offset + hearing.end
        t0 = offset + self._since - WORD_SECONDS * n
        spot = Spot(command, said, t0, t1)
        playing = list(self.playing(t0, t1, self.settings.echo.margin)) if self.playing else []
        echo = echo_of(phrase, t0, t1, playing, self.settings.echo)
        if echo is not None:
            return _reject(spot, f"echo of the coach saying {echo.text!r}")
        if not barge_in and playing:
            margin = EchoSettings(margin=self.settings.speaking_margin)
            if (coach_speaking(t0, t1, playing, margin)
                    and not self._said_after_coach(t1, playing, talking, learnt)):
                return _reject(spot, "the coach was speaking: only barge-in phrases count")
        speaking = coach_speaking(t0, t1, playing, self.settings.echo)
        if not isolated and not (barge_in and speaking):
            return _reject(spot, "not isolated: other words came before it")
        if barge_in and speaking:
            # The coach's voice misheard ("it does not..." as "it stop") is no louder than
            # its echo; a person talking over the coach is.
            over = talking(t0 - self.settings.talk_lead, t1) if talking is not None else None
            if said in self.settings.barge_learnt and (over is None or not learnt):
                return _reject(spot, "the coach's echo is not learnt yet: over its voice, "
                               f"only {self._plain_barge()} count until then")
            if over is not None and over < self.settings.barge_talk:
                return _reject(spot, f"{ECHO_ONLY} in the microphone ({over:.2f} s above it)")
        if command in self._fired:
            return _reject(spot, "already fired in this utterance")
        # The phrase, from its estimated start to now (the start is rough: a margin). Checked
        # last, and before it counts as fired: a cough heard as "back" leaves the utterance
        # open for a command said on its own after it. Back to the phrase's start before the
        # quiet that followed it: the recognizer may name a word 0.4 s after it ends, and a
        # window that only reached back from then held the "st" of "next" and missed its vowel
        # (3 clean commands of 264 turned down as noise). Not a word first named later than
        # that into the quiet: vosk names words that were never said a second after real ones,
        # and only the old window turned those down.
        lag = quiet if quiet <= self.settings.name_lag else 0.0
        span = max(0.6, t1 - t0 + 0.2, lag + WORD_SECONDS * n + 0.2)
        if voiced is not None and not voiced(min(2.0, span)):
            return _reject(spot, "no voice in it: a noise, not speech")
        if barge_in and speaking and self.room is not None and not stood_out:
            # A TV talking on over the coach says such words too; the person says them in
            # the coach's pauses then (roomvoice.py). The silences before the phrase only.
            room = self.room(t0 - self.settings.talk_lead)
            if room is not None:
                return _reject(spot, f"{OTHER_VOICE} ({room:.0%} of them voiced): over "
                               "its voice, a TV's words are no command")
        if not stood_out and self.under_room and (why := self.under_room(t0, t1, command)):
            return _reject(spot, why)
        self._fired.add(command)
        # Anything after a command in the same utterance is not said on its own, but for
        # what comes after the coach's reply to it (_reply).
        self._start, self._replying = -1, True
        return spot

    def _plain_barge(self) -> str:
        """The barge-in phrases that need no learnt echo, for a reason ("pause and stop")."""
        plain = [p for p in self.settings.barge_in if p not in self.settings.barge_learnt]
        return " and ".join(plain) or "none"


def _reject(spot: Spot, reason: str) -> Spot:
    """`spot`, turned down for `reason`."""
    return Spot(spot.command, spot.heard, spot.t0, spot.t1, rejected=reason)

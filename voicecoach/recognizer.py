"""The recognizer edge: a Protocol every speech engine adapter meets, and vocabulary helpers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from voicecoach.foreground import frame_levels, frame_samples
from voicecoach.model_vocab import fst_input_symbols as fst_input_symbols
from voicecoach.model_vocab import model_vocabulary as model_vocabulary
from voicecoach.model_vocab import unknown_symbol as unknown_symbol
from voicecoach.phrases import UNKNOWN


@dataclass(frozen=True)
class Hearing:
    """What a recognizer thinks was said so far in the utterance under way."""

    words: tuple[str, ...]
    """Normalized words; anything that is not a phrase word is UNKNOWN ("[unk]")."""
    final: bool
    """True when the recognizer has closed the utterance: the next Hearing starts a new one."""
    utterance: int
    """Counter of utterances since start; changes when a new one begins."""
    end: float
    """Stream seconds of audio the recognizer has taken in so far."""
    quiet: float | None = None
    """Seconds of quiet at the end of the audio, the room's tail counted as quiet (from the
    room the recognizer measured); None: it measures no room."""


class Recognizer(Protocol):
    """Turns 16-bit mono PCM at a fixed rate into Hearings, chunk by chunk. It may also have
    `spot_hold`, the seconds a phrase must hold in its partial results before it fires, when
    the spotter's default does not suit how often they change (spotter.settings_for)."""

    name: str
    """Engine and model, e.g. "vosk (vosk-model-small-en-us-0.15)"."""
    rate: int
    """Samples a second it was created for (the microphone's own rate)."""
    missing: tuple[str, ...]
    """Phrase words the model does not know (checked at start-up); those phrases never fire."""

    def accept(self, pcm: bytes) -> Hearing:
        """Take in the next chunk and return the current hypothesis."""
        ...

    def expect(self, section: str | None) -> None:
        """A question now waits for answers of `section` (None: none does); a recognizer may
        favour them. Called from another thread."""
        ...

    def paused(self, paused: bool | None) -> None:
        """The session paused (True), runs (False) or there is none (None, the start): a
        recognizer may leave out the command that means nothing now. Called from another
        thread."""
        ...

    def reset(self) -> None:
        """Forget the utterance under way (e.g. after the microphone restarted)."""
        ...

    def close(self) -> None:
        """Free the engine."""
        ...


@dataclass(frozen=True)
class Keyword:
    """A keyword a KeywordSpotter found in running speech."""

    word: str
    """The keyword, as in the phrase table."""
    start: float
    """Session time (s) the keyword began."""
    end: float
    """Session time (s) it ended."""


class KeywordSpotter(Protocol):
    """Finds a few words anywhere in running speech, where a recognizer's language model wants
    a whole utterance to fit: "pause" said over the coach's own voice (bargein.py)."""

    name: str
    """Engine and model, e.g. "pocketsphinx keyword search"."""
    words: tuple[str, ...]
    """The words it looks for."""

    def accept(self, pcm: bytes, captured_at: float) -> list[Keyword]:
        """Take in a chunk whose last sample is at session time `captured_at`; the keywords
        found in it."""
        ...

    def reset(self) -> None:
        """Forget what was heard (the stream it is fed breaks here)."""
        ...


class RecognizerError(Exception):
    """A recognizer could not be created; `fix` says what to do about it."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


def to_words(text: str, known: Iterable[str]) -> tuple[str, ...]:
    """Split recognizer output into words, mapping every word not in `known` to UNKNOWN."""
    vocab = set(known)
    out = []
    for w in text.lower().split():
        out.append(w if w in vocab else UNKNOWN)
    return tuple(out)


#: How far (dB) under the loudest sound of the last RECENT seconds a frame counts as quiet
#: (QuietMeter); 0: only near the noise floor, as the coach runs. Measured on 2026-12-03 and not
#: kept: across a simulated room (benchmarks/bench_room.py) 15 dB got 11 more of 264 commands
#: right and halved the median wait, but in running speech a weak word is 15 dB under the
#: stressed one before it, so "back" in "the back of your knee" counted as said on its own:
#: 17 false commands in 79 minutes of the article read aloud (bench_unrelated.py), against
#: none. A room's tail falls steadily and a weak word does not: QuietMeter.rt60 tells them apart.
FALL_DB = 0.0
RECENT = 0.5


@dataclass(frozen=True)
class TailRule:
    """When a frame is the room's tail, not a word (QuietMeter.rt60): it has fallen, over the
    last `span` seconds, by at least `share` of what the room's echo loses in that time, and it
    is `under` dB under the last RECENT seconds' peak."""

    span: float
    """Seconds the fall is measured over (from the mean of three 10 ms frames to another)."""
    share: float
    """Share of the measured room's fall that counts: measured rates run slower than the
    model's (noise under the tail, a room measured a little short)."""
    under: float
    """dB under the recent peak, so that the first frames of a word's fading end are not."""


#: The quiet after a phrase that shows it was said on its own (Hearing.quiet). Until 2026-12-06
#: it was CUT_TAIL's: a room with early reflections and a slower second slope is measured
#: short (0.56 s for 0.8 s), its late tail falls slower than half that rate, and a 10 ms
#: frame's level swings by a dB or two in a tail of noise, so frame after frame failed the rule
#: and the quiet began again: a command waited 0.35 s for it across a hard room. Over 0.1 s
#: the fall is measured steadily, a third of the rate lets the slow tail count, and 9 dB under
#: the peak keeps a word's own fading end out (with 6 dB and over 50 ms the coach's "pause here
#: and breathe" fired "pause" in a room): benchmarks/bench_room.py, "ours old tail rule".
TAIL = TailRule(span=0.1, share=0.35, under=9.0)
#: The quiet that ends an utterance early (sphinx_recognizer.END_QUIET): stricter, because the
#: final result of a cut fires at once, with no quiet of its own to wait for. With TAIL, running
#: speech across a room was cut into pieces and one piece's final result was "what can i say".
CUT_TAIL = TailRule(span=0.05, share=0.5, under=6.0)


class QuietMeter:
    """Trailing quiet in a stream: 10 ms frames more than `margin_db` above a tracked noise floor
    count as sound. The floor follows the quietest frames down at once and rises slowly, so a
    fan or a TV becomes the new "quiet" within seconds while speech never does.

    With `fall_db`, a frame that many dB under the loudest of the last `RECENT` seconds is
    quiet too: across a room the words' own echo takes 0.3-0.5 s to fall to the floor, and a
    command waited that long to count as said on its own, while a word said after it comes
    back up near its level.

    With `rt60` (the room's reverberation time, s; 0: none), a frame that falls as the room's
    echo does is quiet too: a tail falls 60 dB per `rt60` and keeps falling, while a word,
    even a weak one, holds its level or rises. Close to the microphone the measured room is
    short, its echo falls 200-600 dB/s, and no speech keeps up with that.
    """

    def __init__(self, rate: int, margin_db: float = 8.0, rise_db_per_s: float = 3.0,
                 fall_db: float | None = None, rule: TailRule | None = None,
                 strict: TailRule | None = None) -> None:
        """`rule`: when a frame is the room's tail (None: TAIL, read here so that a benchmark
        can set it); `strict`: a second rule whose quiet is kept too (`strict_quiet`), over the
        same frames, floor and peaks."""
        import collections

        self.rate = rate
        self.margin_db = margin_db
        self.fall_db = FALL_DB if fall_db is None else fall_db
        self._rise = rise_db_per_s / 100.0
        self._frame = frame_samples(rate)
        self._pending = b""
        self.levels: list[float] = []
        """The levels (dB) of the whole frames the latest chunk completed (foreground.py's
        LevelTrace takes them)."""
        self._floor: float | None = None
        self._quiet_frames = 0
        self._strict_frames = 0
        self._recent: collections.deque[float] = collections.deque(maxlen=int(RECENT * 100))
        self.rt60 = 0.0
        """The room's reverberation time (s), set by whoever measures it; 0: no tail rule."""
        self.rule = TAIL if rule is None else rule
        self.strict = strict

    @property
    def quiet(self) -> float:
        """Seconds of quiet at the end of what was fed so far."""
        return self._quiet_frames / 100.0

    @property
    def pending(self) -> int:
        """Samples fed that are not yet a whole frame."""
        return len(self._pending) // 2

    @property
    def strict_quiet(self) -> float:
        """Seconds of quiet at the end by the `strict` rule (0 without one)."""
        return self._strict_frames / 100.0

    def feed(self, pcm: bytes) -> float:
        """Take in a chunk of 16-bit mono PCM; return the trailing quiet in seconds."""
        import numpy as np

        data = self._pending + pcm
        n = len(data) // (2 * self._frame)
        self._pending = data[n * 2 * self._frame :]
        if n == 0:
            self.levels = []
            return self.quiet
        self.levels = frame_levels(np.frombuffer(data[: n * 2 * self._frame], dtype=np.int16),
                                   self._frame).tolist()
        for e in self.levels:
            # A digital-silence floor would make the faintest hiss "speech": never below 20 dB.
            e = max(e, 20.0)
            self._floor = e if self._floor is None or e < self._floor else self._floor + self._rise
            sound = e > self._floor + self.margin_db
            if sound and self.fall_db and self._recent:
                sound = e > max(self._recent) - self.fall_db
            strict = sound and not (self.strict is not None and self._tail(e, self.strict))
            sound = sound and not self._tail(e, self.rule)
            self._recent.append(e)
            self._quiet_frames = 0 if sound else self._quiet_frames + 1
            self._strict_frames = 0 if strict else self._strict_frames + 1
        return self.quiet

    def _tail(self, e: float, rule: TailRule) -> bool:
        """Whether frame energy `e` (dB) falls on from the frames before it as a tail does,
        by `rule` (never without a room: rt60 0)."""
        r, span = self._recent, max(3, round(rule.span * 100))
        if self.rt60 <= 0 or len(r) <= span + 2:
            return False
        now = (r[-2] + r[-1] + e) / 3.0
        then = (r[-span - 2] + r[-span - 1] + r[-span]) / 3.0
        fall = 60.0 / self.rt60 * rule.span * rule.share
        return now <= then - fall and e <= max(r) - rule.under

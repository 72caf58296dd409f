"""The speaker edge: a Protocol, the record of what the coach said, and the caption fallback."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

#: Reading pace used to time captions and to estimate clips not yet rendered (words a second).
CAPTION_WORDS_PER_SECOND = 2.6
#: A caption never lasts less than this, so counts stay readable.
CAPTION_MIN_SECONDS = 0.35
#: Length of one frame of Utterance.levels, in seconds of audio.
LEVEL_SECONDS = 0.02


@dataclass(frozen=True)
class Utterance:
    """One phrase the coach says (or shows), with when it really played."""

    text: str
    """The words."""
    kind: str
    """"instruction", "count" or "cue"."""
    at: float
    """Session time (s) it was scheduled for."""
    start: float | None = None
    """Session time (s) playback really started; None until known."""
    end: float | None = None
    """Session time (s) playback ended or was cut; None until known."""
    cut: bool = False
    """True when pause or stop silenced it before its end."""
    levels: tuple[float, ...] = ()
    """Loudness (RMS) of each LEVEL_SECONDS of the sound from `start` on; empty for captions."""
    level_step: float = LEVEL_SECONDS
    """Session seconds per entry of `levels` (LEVEL_SECONDS times the clock's speed)."""


Report = Callable[[Utterance], None]
#: Session seconds (t0, t1, margin) -> the clips playing then (SpeechLog.overlapping).
Playing = Callable[[float, float, float], Sequence[Utterance]]


class SpeechLog:
    """What the coach has said and is saying, shared with the listener to reject echoes.

    Speakers record every utterance with its (expected, then real) start and end; the
    listener asks which utterances overlap the moment a phrase was heard.
    """

    def __init__(self, keep: int = 256) -> None:
        self._items: list[Utterance] = []
        self._keep = keep
        self._lock = threading.Lock()

    def record(self, utt: Utterance) -> None:
        with self._lock:
            for i in range(len(self._items) - 1, -1, -1):
                old = self._items[i]
                if old.at == utt.at and old.text == utt.text:
                    self._items[i] = utt
                    return
            self._items.append(utt)
            del self._items[: -self._keep]

    def forget(self, utt: Utterance) -> None:
        """Drop `utt` (by its schedule and words): it will make no sound after all."""
        with self._lock:
            self._items = [u for u in self._items if (u.at, u.text) != (utt.at, utt.text)]

    def overlapping(self, t0: float, t1: float, margin: float = 0.0) -> list[Utterance]:
        """Utterances whose playback overlaps [t0 - margin, t1 + margin] (session seconds)."""
        with self._lock:
            items = list(self._items)
        out = []
        for u in items:
            start = u.start if u.start is not None else u.at
            end = u.end if u.end is not None else start + 30.0
            if start <= t1 + margin and end >= t0 - margin:
                out.append(u)
        return out


class Speaker(Protocol):
    """Turns text into sound (or captions) at exact session times."""

    name: str
    """Short description for status lines, e.g. "espeak-ng via pyttsx3"."""
    lead: float
    """How many seconds before a deadline the session hands over a clip."""

    def prepare(self, texts: Iterable[str]) -> None:
        """Get these phrases ready (render them), first ones first; may return early."""
        ...

    def duration(self, text: str) -> float:
        """How long saying `text` takes, in seconds of session time."""
        ...

    def say(self, text: str, kind: str, at: float) -> None:
        """Start saying `text` at session time `at` (now, if `at` has passed)."""
        ...

    def cut(self) -> None:
        """Silence whatever is playing and drop what is scheduled, within 50 ms."""
        ...

    def busy_until(self) -> float:
        """Session time when everything handed over so far will have finished."""
        ...

    def close(self) -> None:
        """Release devices and workers."""
        ...


def estimate_seconds(text: str) -> float:
    """Reading time of `text` at the caption pace."""
    words = max(1, len(text.split()))
    return max(CAPTION_MIN_SECONDS, words / CAPTION_WORDS_PER_SECOND)


class CaptionSpeaker:
    """No sound: every phrase is 'played' as a caption exactly at its time.

    Used with --no-voice, without a sound device, and in the engine's tests.
    """

    name = "captions"
    lead = 0.0

    def __init__(
        self,
        now: Callable[[], float],
        report: Report | None = None,
        log: SpeechLog | None = None,
    ) -> None:
        self._now = now
        self.report = report
        self.log = log or SpeechLog()
        self._busy_until = 0.0

    def prepare(self, texts: Iterable[str]) -> None:
        return None

    def duration(self, text: str) -> float:
        return estimate_seconds(text)

    def say(self, text: str, kind: str, at: float) -> None:
        start = max(at, self._now())
        utt = Utterance(text, kind, at, start, start + self.duration(text))
        self._busy_until = utt.end or start
        self.log.record(utt)
        if self.report:
            self.report(utt)

    def cut(self) -> None:
        # A caption cannot be unsaid; it only frees the timeline.
        self._busy_until = min(self._busy_until, self._now())

    def busy_until(self) -> float:
        return self._busy_until

    def close(self) -> None:
        return None


def heard_log(speaker: Speaker, log: SpeechLog) -> SpeechLog:
    """The clips the microphone can hear the coach say: `speaker`'s `log`, or none for captions,
    which make no sound (a "next" said while a count was shown was refused as said over the
    coach's voice)."""
    return SpeechLog() if isinstance(speaker, CaptionSpeaker) else log


def in_real_seconds(playing: Playing, speed: float) -> Playing:
    """`playing` with its times in real seconds from the session's start (session seconds
    divided by `speed`). Sound is heard as it plays, in real time: every length the listener
    measures (a word, the quiet after it, an echo's delay, a frame of level) is in real
    seconds. Compared with the coach's clips in the session's seconds at --speed 4, its echo
    fell outside its own clips, and it took its own "stop" and "it hurts" for commands at
    every exercise (a user's run-through, 2026-12-07)."""

    def scaled(t0: float, t1: float, margin: float) -> list[Utterance]:
        return [replace(u, at=u.at / speed,
                        start=None if u.start is None else u.start / speed,
                        end=None if u.end is None else u.end / speed,
                        level_step=u.level_step / speed)
                for u in playing(t0 * speed, t1 * speed, margin * speed)]

    return scaled

"""A command said over a TV: a voice that stands well above another one talking on.

A command counts when it is said on its own, with quiet before and after it (spotter.py). With
a TV talking in the room there is no quiet: the TV's words run into the person's, and a "pause"
said over talk 20 dB under the voice went unheard. Measured against the other voice's level
instead of silence, the same rule holds: the phrase's loudest frame stands `over` dB above the
loud end of the talk heard in the coach's silences (roomvoice.py), and for `before` seconds
before it and `after` seconds after it nothing stands `near` dB above that talk. A TV's own word
seldom stands so far above its own talk (espeak-ng's news: its loudest 10 ms frame 5-7 dB over
its 90th percentile), and a word of the person's own running speech has their voice, not the
TV's level, around it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

#: Level frames in a second: 10 ms frames, as QuietMeter's (recognizer.py), whose levels the
#: Pipeline hands to LevelTrace.
FRAMES_PER_SECOND = 100


def frame_samples(rate: int) -> int:
    """Samples in one level frame at `rate`."""
    return max(1, rate // FRAMES_PER_SECOND)


@dataclass(frozen=True)
class ForegroundSettings:
    """When a phrase stands out over another voice talking on."""

    over: float = 10.0
    """dB over the other voice's loud level (the `percentile` of its 10 ms frames) that the
    phrase's loudest frame must reach."""
    near: float = 6.0
    """dB over that level below which a frame is the other voice's alone."""
    percentile: float = 90.0
    """Which of the other voice's frame levels is its loud level: not the 95th, which a word
    of the person's own in the latest 6 s of silences (a command not taken) raised by 8 dB."""
    before: float = 0.3
    """Seconds of the other voice alone before the phrase."""
    after: float = 0.12
    """Seconds of it alone after the phrase (as SpotSettings.quiet after a command)."""
    bridge: float = 0.12
    """Seconds of a dip within a phrase (the closure of "stop", "back") that do not end it."""
    shortest: float = 0.12
    """Seconds a phrase lasts at least, from its first frame over `near` to its last: a knock
    or a clap is shorter (and has no voice: the Pipeline checks that too)."""
    word: float = 0.4
    """Seconds a phrase may last for each of its words, beyond `spare`..."""
    spare: float = 0.6
    """...: "pause" said slowly takes 0.7 s, and words said just before it without a pause of
    `bridge` make the stretch longer (talk, not a command)."""
    alone: float = 6.0
    """dB over that loud level that a phrase said on its own by the usual rule (quiet before
    and after it) must reach too, while the other voice talks on: a quiet TV pauses between
    its sentences, and its own words there were taken for commands (Pipeline._over_room)."""
    paused: bool = True
    """Whether `alone` holds while the session is paused too, for every command but "resume"
    and "it hurts" (Pipeline._over_room): a TV 20-25 dB under the voice fired 22 commands in
    23 minutes paused ("stop", "back", "help", "pain"), 5 with the rule, all "pain" but one
    (bench_tv_paused.py)."""
    keep: float = 4.0
    """Seconds of the latest frame levels kept."""


def frame_levels(x: Any, frame: int) -> Any:
    """The level (dB) of each whole `frame`-sample frame of the samples `x` (a numpy array)."""
    import numpy as np

    n = len(x) // frame
    f = np.asarray(x[: n * frame], dtype=np.float64).reshape(n, frame)
    return 10.0 * np.log10((f * f).mean(axis=1) + 1.0)


def loud_level(pcm: bytes, rate: int, percentile: float) -> float | None:
    """The `percentile` of the 10 ms frame levels (dB) of 16-bit mono `pcm`; None if empty."""
    import numpy as np

    levels = frame_levels(np.frombuffer(pcm, dtype=np.int16), frame_samples(rate))
    return float(np.percentile(levels, percentile)) if len(levels) else None


class LevelTrace:
    """The 10 ms frame levels of the latest audio, with the session time each frame ends."""

    def __init__(self, rate: int, settings: ForegroundSettings = ForegroundSettings()) -> None:
        self.settings = settings
        self._rate = rate
        self._frame = frame_samples(rate)
        self._step = self._frame / rate  # seconds a frame really lasts
        self._rest = b""  # samples of a frame not yet whole (feed)
        self._pending = 0  # how many there were after the latest chunk
        self._levels: deque[tuple[float, float]] = deque()  # (session time of its end, dB)

    def feed(self, pcm: bytes, captured_at: float) -> None:
        """Take in a chunk of 16-bit mono PCM whose last sample is at session time
        `captured_at`, measuring its frames (the Pipeline hands over those its QuietMeter
        measured instead: `add`)."""
        import numpy as np

        if self._gap(len(pcm) // 2, captured_at):
            self._rest = b""
        data = self._rest + pcm
        n = len(data) // 2 // self._frame
        self._rest = data[2 * n * self._frame :]
        levels = (frame_levels(np.frombuffer(data[: 2 * n * self._frame], dtype=np.int16),
                               self._frame).tolist() if n else [])
        self.add(levels, captured_at, len(pcm) // 2, len(self._rest) // 2)

    def add(self, levels: list[float], captured_at: float, samples: int, pending: int) -> None:
        """Take in the `levels` (dB) of the whole frames a chunk of `samples` samples, whose
        last sample is at session time `captured_at`, completed, `pending` samples of it left
        for the next frame. Audio dropped before it (a gap in the times) starts the levels
        afresh: the quiet before a phrase must be heard, not skipped."""
        if self._gap(samples, captured_at):
            self._levels.clear()
        last = captured_at - pending / self._rate
        n = len(levels)
        for i, level in enumerate(levels):
            self._levels.append((last - (n - 1 - i) * self._step, level))
        self._pending = pending
        while self._levels and self._levels[0][0] < captured_at - self.settings.keep:
            self._levels.popleft()

    def _gap(self, samples: int, captured_at: float) -> bool:
        """Whether a chunk of `samples` samples ending at `captured_at` starts more than two
        frames after the audio before it ended."""
        return bool(self._levels) and captured_at - samples / self._rate > (
            self._levels[-1][0] + self._pending / self._rate + 2 * self._step)

    def loudest(self, t0: float, t1: float) -> float | None:
        """The level (dB) of the loudest frame ending from session time `t0` to `t1`."""
        levels = [level for t, level in self._levels if t0 <= t <= t1]
        return max(levels) if levels else None

    def _frames(self, seconds: float) -> int:
        """Whole frames in `seconds` (rounded: 0.12 s is 12 frames, whatever the float)."""
        return round(seconds / self._step)

    def phrase(self, floor: float, words: int = 1) -> tuple[float, float] | None:
        """(start, end) session times of the latest stretch that stands over `floor` (the other
        voice's loud level, dB) as a phrase of `words` words said over it does (the module's
        rule), when the latest audio is its `after` of the other voice alone; else None."""
        s = self.settings
        near, over = floor + s.near, floor + s.over
        levels = list(self._levels)
        i = len(levels) - 1
        after = 0
        while i >= 0 and levels[i][1] < near:
            i, after = i - 1, after + 1
        if i < 0 or after < self._frames(s.after):
            return None
        last, peak, dip, bridge = i, levels[i][1], 0, self._frames(s.bridge)
        first = i
        while i >= 0:
            if levels[i][1] >= near:
                first, dip = i, 0
                peak = max(peak, levels[i][1])
            else:
                dip += 1
                if dip > bridge:
                    break
            i -= 1
        frames = last - first + 1
        if (peak < over or frames < self._frames(s.shortest)
                or frames > self._frames(s.spare + s.word * words)):
            return None
        # The quiet before it: the frames from `first - 1` back must stay under `near` for
        # `before` seconds (the dip already counted is part of them).
        quiet, need = 0, self._frames(s.before)
        j = first - 1
        while j >= 0 and levels[j][1] < near and quiet < need:
            j, quiet = j - 1, quiet + 1
        return (levels[first][0] - self._step, levels[last][0]) if quiet >= need else None

"""The coach's own sound as the level check (doubletalk.py) sees it: how loud, when.

The Speaker records each clip's loudness 20 ms by 20 ms (Utterance.levels, from clip_levels)
and when it played; the level check needs the coach's level at any session time, and for each
microphone frame a row of it from a little after the frame back to the room's tail
(CoachLevels.rows), which the echo's shape weighs (echoshape.py). With an echo canceller in
front, it also needs to know when the canceller re-learns the coach's echo: after a cut, and at
a clip after silence (settling_spans).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from voicecoach.speaker import LEVEL_SECONDS, Playing, Utterance
from voicecoach.talksettings import TalkSettings


def clip_levels(samples: object, rate: int) -> tuple[float, ...]:
    """RMS of each LEVEL_SECONDS frame of `samples` (any scale: the coupling absorbs it)."""
    import numpy as np

    x = np.asarray(samples, dtype=np.float32)
    step = max(1, int(rate * LEVEL_SECONDS))
    n = len(x) // step
    if n == 0:
        return ()
    frames = x[: n * step].reshape(n, step)
    return tuple(float(v) for v in np.sqrt(np.mean(frames * frames, axis=1)))


def coach_level(clips: Sequence[Utterance], t0: float, t1: float) -> tuple[float, float]:
    """The loudest coach frame played during [t0, t1], and the peak of its clip (0 if none)."""
    best, peak = 0.0, 0.0
    for utt in clips:
        if not utt.levels or utt.start is None:
            continue
        end = utt.end if utt.end is not None else utt.start + len(utt.levels) * utt.level_step
        lo, hi = max(t0, utt.start), min(t1, end)
        if hi < lo:
            continue
        i0 = int((lo - utt.start) / utt.level_step)
        i1 = min(len(utt.levels), int((hi - utt.start) / utt.level_step) + 1)
        if i1 > i0 and (level := max(utt.levels[i0:i1])) > best:
            best, peak = level, max(utt.levels)
    return best, peak


class CoachLevels:
    """The coach's level at any session times, from the clips `playing` says played then."""

    def __init__(self, playing: Playing, seconds: float, lead: int, taps: int) -> None:
        self._playing = playing
        self._seconds = seconds  # a frame's length (LEVEL_SECONDS)
        self._lead = lead  # frames a row reaches after its frame (TalkSettings.lead)...
        self._taps = taps  # ...and before it (TalkSettings.taps)
        self._levels: dict[int, Any] = {}  # clip levels as arrays, by id of the tuple

    def rows(self, times: Any) -> Any:
        """For each frame time (ascending, LEVEL_SECONDS apart): the coach's level `lead`
        frames after it, then at it, then up to `taps` frames before it (one row a frame)."""
        import numpy as np

        t = np.asarray(times, dtype=float)
        before = t[0] - np.arange(self._taps, 0, -1) * self._seconds
        after = t[-1] + np.arange(1, self._lead + 1) * self._seconds
        track = self.at(np.concatenate([before, t, after]))
        k = np.arange(self._lead + self._taps + 1) - self._lead  # frames the echo lags the sound
        return track[self._taps + np.arange(len(t))[:, None] - k[None, :]]

    def at(self, times: Any) -> Any:
        """The coach's level at each of `times` (the loudest clip then)."""
        import numpy as np

        out = np.zeros(len(times))
        mid = times - self._seconds / 2
        for u in self._playing(float(times[0]), float(times[-1]), 0.0):
            if not u.levels or u.start is None:
                continue
            levels = self._levels.get(id(u.levels))
            if levels is None:
                if len(self._levels) > 64:
                    self._levels.clear()
                levels = self._levels[id(u.levels)] = (u.levels, np.asarray(u.levels))
            arr = levels[1]
            end = u.end if u.end is not None else u.start + len(arr) * u.level_step
            idx = np.floor((mid - u.start) / u.level_step).astype(int)
            ok = (mid >= u.start) & (mid < end) & (idx >= 0) & (idx < len(arr))
            if ok.any():
                out[ok] = np.maximum(out[ok], arr[idx[ok]])
        return out


def settling_spans(clips: Sequence[Utterance], s: TalkSettings) -> list[tuple[float, float]]:
    """Session-time spans in which an echo canceller re-learns the coach's echo: `s.settle_cut`
    from each cut, and `s.settle` from the start of each clip with no coach sound in the
    `s.settle_gap` before it."""
    spans = []
    for u in clips:
        if u.start is None:
            continue
        if u.cut and u.end is not None:
            spans.append((u.end, u.end + s.settle_cut))
        if not any(v is not u and v.start is not None and v.start < u.start
                   and (v.end is None or v.end > u.start - s.settle_gap) for v in clips):
            spans.append((u.start, u.start + s.settle))
    return spans

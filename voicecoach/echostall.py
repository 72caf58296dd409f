"""Did the coach's echo go missing? A stalled path from the speaker to the microphone.

The level check (doubletalk.py) expects the coach's echo where the echo's shape puts it. When
the path stalls, the sound the coach played is not heard there: in CI, the harness's loopback
went silent for 0.2 s under load, then brought the echo 0.2 s late, and the coach's own "stop"
went through as a person's. Where a loud echo expected is missing from the microphone for a
few frames in a row, the echo's delay is taken as lost for a while (TalkSettings.gone_run):
the level check then assumes the echo at any delay near the learnt one, and looks that far for
its present delay.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from voicecoach.echoshape import shifted
from voicecoach.talksettings import TalkSettings


class StallWatch:
    """Where the echo expected went missing from the microphone (TalkSettings.gone_run)."""

    def __init__(self, settings: TalkSettings) -> None:
        self.settings = settings
        # Session-time spans in which the echo's delay is lost, the latest last, and the frames
        # of missing echo in a row so far (and the first's time).
        self._lost: deque[tuple[float, float]] = deque(maxlen=16)
        self._gone: tuple[int, float, float] = (0, 0.0, float("-inf"))
        #: How many times the echo went missing.
        self.stalls = 0

    def watch(self, times: list[float], mic: list[float], lagged: Any, shape: Sequence[float],
              span: tuple[int, int], coupling: float, quiet: float) -> None:
        """Mark the echo's delay lost where a loud echo expected is missing from the
        microphone for `gone_run` frames in a row: frames at `times` with their `mic` levels
        and rows of `lagged` coach levels (CoachLevels.rows), through the echo's `shape` moved
        by the shifts of `span` (TalkMeter.span), its `coupling` and the room's `quiet` level."""
        import numpy as np

        s = self.settings
        floor = s.gone_least * (quiet + s.least)
        # Only the strongest part of the shape (the direct sound, as a rule), and the least of
        # it over the delays the echo may have: a tail learnt too long (the shape is fit over
        # the person's voice as well) or a frame's jitter must not make a missing echo.
        h = np.asarray(shape)
        top = int(np.argmax(h))
        direct = np.zeros_like(h)
        direct[max(0, top - 2) : top + 3] = h[max(0, top - 2) : top + 3]
        energy = lagged * lagged
        lo, hi = span
        least = np.min(np.stack([shifted(energy, direct, j)
                                 for j in range(lo - s.jitter, hi + s.jitter + 1)]), axis=0)
        echo = coupling * np.sqrt(np.maximum(least, 0.0))
        run, first, last = self._gone
        for t, level, expected in zip(times, mic, echo):
            if expected < floor:
                continue  # too faint to tell either way
            heard = level * level - quiet * quiet >= (s.gone_share * expected) ** 2
            if heard or t - last > s.gone_within:
                run = 0
            if heard:
                continue
            run, first, last = run + 1, (t if run == 0 else first), t
            if run < s.gone_run:
                continue
            if self._lost and self._lost[-1][1] >= first:
                self._lost[-1] = (self._lost[-1][0], t + s.lost_hold)
            else:
                self._lost.append((first, t + s.lost_hold))
                self.stalls += 1
        self._gone = (run, first, last)

    def lost(self, t: float) -> bool:
        """Whether the echo's delay is lost at session time `t`."""
        return any(a <= t <= b for a, b in self._lost)

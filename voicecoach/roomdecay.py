"""How fast sound dies away in the room the microphone is in: its reverberation time, measured.

The late-reverberation suppressor (dereverb.py) must know the room's reverberation time (RT60).
Assumed at 0.4 s everywhere, it cost commands where there is no room to speak of (a microphone
close to the mouth, or a headset): the "tail" it took out was the words' own last sounds.

The measure is blind, from whatever the microphone hears (the coach's own voice from the
speaker first of all, which fills the same room): when a sound stops, its energy can fall no
faster than the room lets it, so the steepest of the falls seen in running speech are the
room's own decay (the idea of Ratnam et al. 2003 and Wen et al. 2008: the distribution of decay
rates). Every 8 ms frame's power in four bands is compared with the last `WINDOW` frames; where a
band has fallen steadily from well above its noise floor and is still above it, the slope of
that fall (dB/s) is one decay. The reverberation time is 60 dB over the `PERCENTILE`th
percentile of the last `KEEP` decays. It reads low (0.19 s for dry speech, 0.33, 0.48 and 0.57
for rooms of 0.4, 0.6 and 0.8 s: a fall's first 80 ms include the direct sound's drop), which
suits the suppressor: taking out less than the room added distorts less than taking out more.
"""

from __future__ import annotations

from collections import deque
from typing import Any

#: Frames (of ~8 ms) a fall must last to count: 80 ms, the late part of a room's tail begins.
WINDOW = 10
#: Bands (Hz) measured apart: a sound stops at different times in each.
BANDS = ((300.0, 1000.0), (1000.0, 2000.0), (2000.0, 4000.0), (4000.0, 7000.0))
#: A fall counts from this far (dB) above the band's noise floor down to at least `END` above it.
START = 15.0
END = 3.0
#: The most a falling band may rise (dB) from one frame to the next and still be falling.
WOBBLE = 0.5
#: The noise floor: this percentile of the band's level over the last `FLOOR_SECONDS`.
FLOOR_PERCENTILE = 10.0
FLOOR_SECONDS = 4.0
#: The decays kept, the least there must be to say anything, and the percentile taken.
KEEP = 300
MIN_DECAYS = 40
PERCENTILE = 10.0
#: Frames between two updates of the floor and of the estimate (0.2 s).
EVERY = 25
#: The longest reverberation time reported (s): a hall, not a living room.
LONGEST = 1.2


class RoomDecay:
    """Feeds on power spectra of `size`-sample frames `hop` samples apart at `rate`; `rt60` is
    the room's reverberation time in seconds, or None until enough sounds have died away."""

    def __init__(self, rate: int, size: int, hop: int) -> None:
        import numpy as np

        freqs = np.fft.rfftfreq(size, 1.0 / rate)
        nyquist = rate / 2
        bands = [(freqs >= lo) & (freqs < hi) for lo, hi in BANDS if hi <= nyquist]
        # One product sums every band's bins at once.
        self._bands = np.stack(bands, axis=1).astype(np.float64)
        self._frame_s = hop / rate
        self._levels = np.zeros((WINDOW, len(bands)))
        self._seen = 0
        self._history: deque[Any] = deque(maxlen=max(EVERY, round(FLOOR_SECONDS / self._frame_s)))
        self._floor: Any = None
        # Least-squares slope over the window: sum((i - mean) * y) / sum((i - mean)^2), per s.
        i = np.arange(WINDOW) - (WINDOW - 1) / 2
        self._slope = i / float(np.sum(i**2)) / self._frame_s
        self._decays: deque[float] = deque(maxlen=KEEP)
        self.rt60: float | None = None
        self.clear_db: float | None = None
        """How far (dB) the loud sounds of the last `FLOOR_SECONDS` stand above the noise floor
        (the median band's 95th percentile over its 10th); None until first measured."""

    def feed(self, power: Any) -> None:
        """One frame's power spectrum (`size // 2 + 1` bins)."""
        import numpy as np

        level = 10.0 * np.log10(power @ self._bands + 1e-3)
        self._levels[:-1] = self._levels[1:]
        self._levels[-1] = level
        self._history.append(level)
        self._seen += 1
        if self._floor is None or self._seen % EVERY == 0:
            floor, loud = np.percentile(np.array(self._history), [FLOOR_PERCENTILE, 95.0], axis=0)
            self._floor = floor
            self.clear_db = float(np.median(loud - floor))
            if len(self._decays) >= MIN_DECAYS:
                steep = float(np.percentile(np.array(self._decays), PERCENTILE))
                self.rt60 = min(LONGEST, 60.0 / -steep) if steep < 0 else LONGEST
        if self._seen < WINDOW:
            return
        window = self._levels
        falling = np.all(np.diff(window, axis=0) < WOBBLE, axis=0)
        falling &= window[0] >= self._floor + START
        falling &= window[-1] >= self._floor + END
        if np.any(falling):
            slopes = self._slope @ window
            self._decays.extend(float(s) for s in slopes[falling])

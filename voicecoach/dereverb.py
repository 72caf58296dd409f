"""Late-reverberation suppression in front of pocketsphinx, for a room two or three metres away.

At that distance most of what the microphone hears of a word is the room, not the mouth: the
reverberant tail runs on after the word and smears each sound into the next. pocketsphinx's
model (trained on close speech) hears that tail as more words: a "pause" held for a moment
becomes "tall", and the command is lost. Measured on 264 espeak-ng commands through a
simulated living room (reverberation time 0.6 s, the direct sound 5 dB under the room's), 179
were right without this and 196 with it at 16 kHz, 179 and 188 at 44.1 kHz; dry and in 10 dB
noise it costs 1 to 4 or gains 5 (benchmarks/bench_room.py).

The method is Lebart's spectral subtraction (2001): the room's tail decays exponentially, so
the late reverberation in a frame is predicted from the frame `DELAY` earlier, attenuated by
the decay over that time, and subtracted from its power spectrum, never below `FLOOR` of it.
Short-time Fourier frames of 32 ms with a quarter hop; the output lags the input by three
quarters of a frame (24 ms) and the first of it is silence.

How fast the room decays is measured from what is heard (roomdecay.py), not assumed: with one
reverberation time (0.4 s) for every room, speech close to the microphone lost 2 to 4 commands
of 264 to a tail that was not there, and a long room kept more of its tail than it need. Measured,
close speech reads 0.2 s (next to nothing is taken out) and the bench's rooms of 0.4, 0.6 and 0.8 s
read 0.33, 0.48 and 0.52 s:
1107 of the bench's 1320 commands right, against 1091 with 0.4 s and 1064 without the suppressor.

The measure reads short, so the tail taken out is that of a room `LONGER` (2) times as long,
where the words stand well clear of the noise floor (in noise the "room" measured is partly the
noise's own swings): across the bench's 0.6 s room 214 of 264 right against 202 at 16 kHz and
212 against 196 at 44.1 kHz, in the far room 188 against 186 and 187 against 172, for 1 to 3
of 264 dry or near (2026-12-04, bench_room.py). Close speech then has a 0.4 s tail taken out:
6 % of a frame's power 80 ms on, where the bare measure took 0.4 %.
"""

from __future__ import annotations

import math
from typing import Any

from voicecoach.roomdecay import RoomDecay

#: The reverberation time (s, 60 dB of decay) assumed until the room has been measured
#: (roomdecay.py): a furnished living room's.
RT60 = 0.4
#: How far back (s) the frame is whose decayed power predicts a frame's late reverberation:
#: the direct sound and early reflections (which help recognition) are left alone.
DELAY = 0.08
#: The least of a frame's power kept in any band (a harder cut distorts the words).
FLOOR = 0.2
#: The tail taken out is that of a room this many times as long as the one measured: the
#: measure reads short (the bench's rooms of 0.6 and 0.8 s read 0.48 and 0.52 s), and a
#: tail under-estimated is left in to be heard as words. Measured on 2026-12-04
#: (bench_room.py --quick, 88 commands per condition): 1.0 got 377 of 440 right, 1.25 377,
#: 1.5 381, 2.0 386, 2.5 385, 3.0 384.
LONGER = 2.0
#: ...only while the loud sounds stand this far (dB) above the noise floor (RoomDecay.clear_db):
#: in noise the "room" measured is the noise's own swings (0.34-0.43 s in 10 dB of it), and
#: more of it taken out turned noisy "next"s into "stop"s (6 of 264 against 2). Measured on the
#: bench's audio: in 10 dB noise 8-17 dB; dry, and the rooms with a quiet floor, 32-48.
CLEAR_DB = 25.0


class Dereverb:
    """Streams 16-bit mono PCM at `rate` through late-reverberation suppression."""

    def __init__(self, rate: int, rt60: float | None = None, delay: float = DELAY,
                 floor: float = FLOOR, longer: float | None = None) -> None:
        """`rt60`: the room's reverberation time (s); None: measured from what is heard,
        `RT60` until then, and the tail of a room `longer` times the measure taken out
        (None: LONGER, read here so that a benchmark can set it)."""
        import numpy as np

        self.rate = rate
        # 32 ms frames at any rate, four hops each, a hop a multiple of 8 samples so that the
        # FFT's size factors well (1412 at 44.1 kHz, 4 x a prime, cost 4 times 1408's time):
        # 512 samples at 16 kHz, 1408 at 44.1, 1536 at 48.
        self.hop = 8 * round(rate * 0.001)
        self.size = 4 * self.hop
        # A periodic Hann window at analysis and synthesis: at a quarter hop its square sums
        # to a constant 1.5, which the synthesis divides out.
        self._window = np.hanning(self.size + 1)[:-1]
        self._gain_norm = float(np.sum(self._window**2)) / self.hop
        self._lag = max(1, round(delay * rate / self.hop))  # frames
        # The room is measured on what comes in (before any of it is taken out) and kept
        # across reset(): a new stream, the same room.
        self.room = RoomDecay(rate, self.size, self.hop) if rt60 is None else None
        self.rt60 = RT60 if rt60 is None else rt60
        self._decay = self._decay_for(self.rt60)
        self.taken = self.rt60
        """The reverberation time (s) of the room whose tail is taken out."""
        self._floor = floor
        self._longer = LONGER if longer is None else longer
        self._frame = np.zeros(self.size)  # the newest `size` input samples
        self._out = np.zeros(self.size)  # overlap-add; its first hop is complete each step
        self._past: list[Any] = []  # power spectra of the last `_lag` frames, oldest first
        self._pending = np.zeros(0)

    def _decay_for(self, rt60: float) -> float:
        """How much of a frame's power the room still holds `_lag` frames later."""
        return math.exp(-2 * 3 * math.log(10) * self._lag * self.hop / self.rate / rt60)

    def process(self, pcm: bytes) -> bytes:
        """The dereverberated output this input completes (whole hops: its length varies)."""
        import numpy as np

        x = np.concatenate([self._pending, np.frombuffer(pcm, dtype=np.int16)])
        hops = len(x) // self.hop
        self._pending = x[hops * self.hop:]
        if hops == 0:
            return b""
        # A chunk's frames at once: one FFT call for all of them, not one per 8 ms hop (the
        # Python around each call cost more than the transform). Frame by frame, only the
        # room's measure and the overlap-add, in the same order as one at a time: the output
        # is the same to the bit (tests/test_dereverb.py).
        h, size = self.hop, self.size
        signal = np.concatenate([self._frame, x[: hops * h]])
        starts = (np.arange(hops) + 1) * h
        frames = signal[starts[:, None] + np.arange(size)[None, :]]
        self._frame = frames[-1]
        spectra = np.fft.rfft(frames * self._window, axis=1)
        power = spectra.real**2 + spectra.imag**2
        decay = np.empty(hops)
        for k in range(hops):
            if self.room is not None:
                self._measure(power[k])
            decay[k] = self._decay
        # The frame `_lag` earlier predicts each frame's late reverberation: it is in `_past`
        # or earlier in this chunk.
        past = np.concatenate([np.asarray(self._past).reshape(-1, power.shape[1]), power])
        first = self._lag - len(self._past)  # frames of this chunk before one has a predictor
        if first < hops:
            rows = np.arange(max(0, first), hops)
            late = decay[rows, None] * past[rows - first]
            gain = np.sqrt(np.maximum(1.0 - late / np.maximum(power[rows], 1e-9), self._floor))
            spectra[rows] = spectra[rows] * gain
        self._past = list(past[-self._lag:])
        frames = np.fft.irfft(spectra, size, axis=1) * self._window / self._gain_norm
        out = np.empty(hops * h)
        for k in range(hops):
            self._out += frames[k]
            out[k * h:(k + 1) * h] = self._out[:h]
            self._out = np.concatenate([self._out[h:], np.zeros(h)])
        return bytes(np.clip(np.round(out), -32768, 32767).astype(np.int16).tobytes())

    def _measure(self, power: Any) -> None:
        """Feed one frame to the room's measure; follow its reverberation time."""
        assert self.room is not None
        self.room.feed(power)
        if self.room.rt60 is not None:
            self.rt60 = self.room.rt60
            taken = self.rt60 * (self._longer if self.clear else 1.0)
            if taken != self.taken:
                self.taken = taken
                self._decay = self._decay_for(taken)

    @property
    def clear(self) -> bool:
        """Whether the loud sounds stand CLEAR_DB above the noise floor: a quiet room, where
        what falls after a word is the room's tail and not the noise's own swings."""
        return self.room is not None and (self.room.clear_db or 0.0) >= CLEAR_DB

    def reset(self) -> None:
        """Forget the sound heard so far (a new stream); the room's measure (`room`) stays."""
        import numpy as np

        self._frame = np.zeros(self.size)
        self._out = np.zeros(self.size)
        self._past = []
        self._pending = np.zeros(0)

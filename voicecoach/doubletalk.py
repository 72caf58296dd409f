"""Is the person talking over the coach? The microphone's level against the coach's own echo.

While the coach speaks, "pause" and "stop" may barge in after other words (spotter.py), and
the echo gate turns them down only when the coach was saying a word like them. Once, in CI,
pocketsphinx heard the coach's "it does not replace a doctor" as "it stop", and it fired.

The Speaker knows more than the words: how loud each clip is, 20 ms by 20 ms (Utterance.levels).
In the microphone the coach's echo is that sound through the room: a delay (the devices'
buffers, the distance) and a tail (the room's reverberation), which stay put over a session.
The meter learns them as an *echo shape*: microphone energy per unit of coach energy for each
20 ms from 40 ms before the coach's dated sound to 0.8 s after it, by non-negative least
squares over the last half minute of frames it reaches (echoshape.py; an echo canceller's
filter, on levels instead of samples). The echo expected in a frame is then the coach's recent
levels through that shape, times a coupling learnt as the upper tenth of microphone/echo
ratios over its loud frames. A person talking over the coach adds sound the echo does not
explain: a barge-in fires only when enough frames of the phrase are well above the echo
expected then (Geigel's double-talk detector, with a learnt echo in place of a fixed 6 dB).

Until the shape is learnt (5 s of the coach), the echo expected in a frame is the loudest coach
frame of the quarter second before it, which follows neither the syllables nor a long tail.
Measured on the same streams, one room each (benchmarks/bench_bargein.py --levels --fixed-room,
results/bargein-levels-before-shape.json and -shape.json): a person level with the echo
showed above it in 1 of 32 lines that way and in 24 with the shape, and the coach alone in no
one-second window either way; in a room with a 0.7 s tail louder than the direct sound
(--room-tail 0.7 --reverb 1.5: -reverb-before.json, -reverb.json) the coach's own counts
crossed it in 61 % of their windows that way and 15 % with the shape, its lines in 7 % and
none; since frames faint against the echo just before them no longer count
(TalkSettings.tail_share, results/bargein-levels-2026-12-06-tail-reverb.json), in none.
Until the coach has spoken a second or two, nothing is known and barge-in works as before.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from voicecoach.coachlevels import CoachLevels, settling_spans
from voicecoach.echoshape import aligned, clear_of_tail, fit_shape, follow_delay, shifted
from voicecoach.echostall import StallWatch
from voicecoach.speaker import LEVEL_SECONDS, Playing
from voicecoach.talksettings import TalkSettings


class TalkMeter:
    """The microphone's level per frame beside the coach's echo as the room shapes it."""

    def __init__(self, rate: int, playing: Playing,
                 settings: TalkSettings = TalkSettings(),  # noqa: B008 - frozen: safe to share
                 uncancelled: TalkMeter | None = None) -> None:
        self.settings = settings
        # The same microphone before the echo canceller (None: there is none): its coupling
        # sets a floor under this one's (TalkSettings.cancelled_share), and the echo's shape
        # is learnt there, where the echo is whole.
        self.uncancelled = uncancelled
        self._playing = playing
        self._rate = rate
        self._step = max(1, int(rate * LEVEL_SECONDS))
        self._seconds = self._step / rate
        self._coach = CoachLevels(playing, self._seconds, settings.lead, settings.taps)
        self._pending = b""
        # (session time of the frame's end, microphone level, whether a canceller in front is
        # settling then: TalkSettings.settle), the latest 4 s (what the checks look at).
        self._hist: deque[tuple[float, float, bool]] = deque(maxlen=int(4.0 / LEVEL_SECONDS))
        # (session time, microphone level, the coach's levels from `lead` frames after to `taps`
        # before it, the echo's shift then) of the latest `history` seconds of frames the
        # coach's sound may reach: what the shape and the coupling are learnt from, however
        # long the silences between.
        self._learn: deque[tuple[float, float, Any, int]] = deque(
            maxlen=int(settings.history / LEVEL_SECONDS))
        self._quiet_levels: deque[float] = deque(maxlen=250)  # frames it cannot reach
        self._fed = 0  # frames since the last refit
        self._fitted_at = float("-inf")  # session time of the last fit of the shape
        #: The echo's shape: microphone energy per unit of coach energy, frame by frame from
        #: `lead` frames before the coach's sound to `taps` after (None: not learnt yet).
        self.shape: tuple[float, ...] | None = None
        #: Frames the echo now comes later than the shape says (TalkSettings.track).
        self.shift = 0
        #: The least and the most `shift` of the last `moved` seconds of the coach's echo (and
        #: 0, the shape's own delay, while the present one is more than `shift_max` off).
        self.span = (0, 0)
        # The shape and the span the ratios below were taken with.
        self._used: tuple[tuple[float, ...] | None, tuple[int, int]] = (None, (0, 0))
        # (session time, microphone level / echo) of loud echo frames, as of the last refit.
        self._ratio_t: Any = None
        self._ratio_v: Any = None
        self._coupling: float | None = None  # from all of them
        self._quiet = 0.0
        # Where the echo's delay is lost (TalkSettings.gone_run; uncancelled meters only).
        self._stall = StallWatch(settings)

    def feed(self, pcm: bytes, captured_at: float) -> None:
        """Take in a chunk of 16-bit mono PCM whose last sample is at session time `captured_at`."""
        import numpy as np

        data = self._pending + pcm
        n = len(data) // (2 * self._step)
        self._pending = data[n * 2 * self._step :]
        if n == 0:
            return
        x = np.frombuffer(data[: n * 2 * self._step], dtype=np.int16).astype(np.float32)
        mic = np.sqrt(np.mean(x.reshape(n, self._step) ** 2, axis=1)).tolist()
        # Frame i ends where the pending tail begins, counted back from the chunk's last sample.
        last = captured_at - len(self._pending) / 2 / self._rate
        s = self.settings
        first = last - (n - 1) * self._seconds
        settle: list[tuple[float, float]] = []
        if self.uncancelled is not None:
            back = s.before + self._seconds + max(s.settle + s.settle_gap, s.settle_cut)
            settle = settling_spans(list(self._playing(first - back, last + s.after, 0.0)), s)
        times = [first + i * self._seconds for i in range(n)]
        lagged = self._coach.rows(times)
        shift = (self.uncancelled or self).shift
        for t, level, row in zip(times, mic, lagged):
            self._hist.append((t, level, any(a <= t <= b for a, b in settle)))
            if row.any():
                self._learn.append((t, level, row, shift))
            else:
                self._quiet_levels.append(level)
        if self.uncancelled is None and self.shape is not None and self._coupling is not None:
            self._stall.watch(times, mic, lagged, self.shape, self.span, self._coupling,
                              self._quiet)
        self._fed += n
        if self._fed >= s.refit:
            self._refit()

    def _refit(self) -> None:
        """Learn the echo's shape again (uncancelled meters only), then the coupling's ratios
        and the quiet level under it."""
        import numpy as np

        self._fed = 0
        if self._quiet_levels:
            self._quiet = float(np.median(np.asarray(self._quiet_levels)))
        if not self._learn:
            return
        s = self.settings
        t = np.fromiter((f[0] for f in self._learn), float, len(self._learn))
        m = np.fromiter((f[1] for f in self._learn), float, len(self._learn))
        lagged = np.stack([f[2] for f in self._learn])
        if self.uncancelled is None and self.shape is not None:
            shift = follow_delay(s, t, m, lagged, self.shape, self.shift, self._quiet,
                                 self._coupling)
            if shift is not None:
                self._moved(shift, t[-1] - s.track)
        # Each frame's row moved by the shift of its time: the shape is learnt as if the echo
        # had held its delay.
        shifts = np.fromiter((f[3] for f in self._learn), int, len(t))
        rows = aligned(lagged, shifts)
        if self.uncancelled is None:
            lately = shifts[t >= t[-1] - s.moved]
            lo = min(self.shift, int(lately.min(initial=self.shift)))
            hi = max(self.shift, int(lately.max(initial=self.shift)))
            if lo < -s.shift_max or hi > s.shift_max:
                # A delay found far off (a stall) may snap back at the next clip (an output
                # that underran dates its next clip afresh): the echo assumed covers the
                # shape's own delay too, while it is off.
                lo, hi = min(lo, 0), max(hi, 0)
            self.span = (lo, hi)
        if (self.uncancelled is None and t[-1] - self._fitted_at >= s.fit_every
                and len(t) * LEVEL_SECONDS >= s.fit_after):
            self.shape = fit_shape(m, rows)
            self._fitted_at = float(t[-1])
        # The coupling is taken as the check would have seen each frame, the echo's recent
        # shifts unknown to it: where the delay jumps about, that keeps the coupling high.
        echo = self._echo_of(lagged)
        self._used = self._model()
        # Loud: at least `loud` of the echo's peak in its second of frames and the ones either
        # side (the echo of a quiet clip teaches as well as a loud one's).
        blocks = -(-len(echo) // 50)
        block = np.pad(echo, (0, blocks * 50 - len(echo))).reshape(blocks, 50).max(axis=1)
        block = np.maximum(block, np.maximum(np.r_[block[1:], 0.0], np.r_[0.0, block[:-1]]))
        peak = np.repeat(block, 50)[: len(echo)]
        loud = (echo > 0.0) & (echo >= s.loud * peak)
        self._ratio_t, self._ratio_v = t[loud], m[loud] / echo[loud]
        self._coupling = (float(np.quantile(self._ratio_v, s.quantile))
                          if len(self._ratio_v) >= s.learn else None)

    def _moved(self, shift: int, since: float) -> None:
        """The echo's delay moved to `shift` (echoshape.follow_delay): so did the frames from
        session time `since` on, which it was found from."""
        self.shift = shift
        for i in range(len(self._learn) - 1, -1, -1):
            f = self._learn[i]
            if f[0] < since:
                break
            self._learn[i] = (f[0], f[1], f[2], shift)

    def lost(self, t: float) -> bool:
        """Whether the echo's delay is lost at session time `t` (TalkSettings.gone_run)."""
        source = self.uncancelled if self.uncancelled is not None else self
        return source._stall.lost(t)

    @property
    def stalls(self) -> int:
        """How many times the echo went missing (a stalled path: TalkSettings.gone_run)."""
        return self._stall.stalls

    def _shape(self) -> tuple[float, ...] | None:
        return self.uncancelled.shape if self.uncancelled is not None else self.shape

    def _model(self) -> tuple[tuple[float, ...] | None, tuple[int, int]]:
        """The echo's shape and the span of its recent shifts (the raw meter's, behind a
        canceller)."""
        source = self.uncancelled if self.uncancelled is not None else self
        return source.shape, source.span

    def _echo_of(self, lagged: Any, span: tuple[int, int] | None = None) -> Any:
        """The echo expected in each frame from its row of coach levels (CoachLevels.rows): through
        the learnt shape moved by each shift in `span` (None: the recent ones), else the
        loudest coach frame from `before` earlier to `after` later."""
        import numpy as np

        s = self.settings
        shape, recent = self._model()
        lo, hi = recent if span is None else span
        if shape is not None:
            energy, h = lagged * lagged, np.asarray(shape)
            # A clip's dates may be a frame or two off the average the shape learnt (live, a
            # "pause" fired on the onset of the coach's "Halfway." with none of this): the
            # echo assumed is the largest with the shape moved that far either way.
            echo = shifted(energy, h, lo - s.jitter)
            for j in range(lo - s.jitter + 1, hi + s.jitter + 1):
                echo = np.maximum(echo, shifted(energy, h, j))
            return np.sqrt(np.maximum(echo, 0.0))
        lo = -min(s.lead, int(np.ceil(s.after / self._seconds)))
        hi = min(s.taps, int(np.ceil((s.before + self._seconds) / self._seconds)))
        return lagged[:, s.lead + lo : s.lead + hi + 1].max(axis=1)

    def coupling(self, before: float = float("inf")) -> float | None:
        """Microphone level per unit of expected echo, learnt from frames ending before
        `before`; None until enough has been heard."""
        import numpy as np

        if self._used != self._model():
            self._refit()  # the raw meter learnt a new shape or span: the ratios must follow
        if self._ratio_t is None:
            return None
        if not len(self._ratio_t) or before > self._ratio_t[-1]:
            return self._coupling
        ratios = self._ratio_v[self._ratio_t < before]
        if len(ratios) < self.settings.learn:
            return None
        return float(np.quantile(ratios, self.settings.quantile))

    def frames(self, t0: float, t1: float) -> list[tuple[float, float, float, bool]]:
        """(time, microphone level, echo expected, canceller settling) of each frame ending in
        [t0, t1] (echo before the coupling is applied; the loudest over `lost_early` to
        `lost_late` frames around `span` where the delay is lost)."""
        import numpy as np

        sel = []
        for f in reversed(self._hist):  # the span asked for is nearly always the latest
            if f[0] < t0:
                break
            if f[0] <= t1:
                sel.append(f)
        sel.reverse()
        if not sel:
            return []
        lagged = self._coach.rows([f[0] for f in sel])
        echo = self._echo_of(lagged)
        lost = [i for i, f in enumerate(sel) if self.lost(f[0])]
        if lost and self._shape() is not None:
            # Where the echo may come at any delay near the learnt one: the loudest of them.
            lo, hi = self._model()[1]
            s = self.settings
            wide = self._echo_of(lagged[lost], (lo - s.lost_early, hi + s.lost_late))
            echo[lost] = np.maximum(echo[lost], wide)
        return [(t, level, float(e), settling)
                for (t, level, settling), e in zip(sel, echo)]

    @property
    def learnt(self) -> bool:
        """Whether the echo's shape has been learnt (TalkSettings.fit_after): until then the
        echo expected is only the loudest coach frame near each one, short of a long room's
        tail."""
        return self._shape() is not None and self._coupling is not None

    def talking(self, t0: float, t1: float) -> float | None:
        """Seconds of [t0, t1] in which the microphone holds more than the coach's echo (the
        person talking over it); None while the coupling is not known."""
        # Not from the span itself: a person talking there would raise the coupling.
        c = self.coupling(before=t0)
        if c is None:
            return None
        unsettled = c
        if self.uncancelled is not None:
            raw = self.uncancelled.coupling(before=t0)
            if raw is None:
                return None
            c = max(c, self.settings.cancelled_share * raw)
            unsettled = max(c, raw)
        s = self.settings
        frames = [(t, level, (unsettled if settling else c) * echo)
                  for t, level, echo, settling in self.frames(t0 - s.tail_reach, t1)]
        n = sum(1 for (t, level, expected), clear in zip(frames, clear_of_tail(frames, s))
                if clear and t >= t0 and level > max(s.least, s.above * (expected + self._quiet)))
        return n * self._seconds

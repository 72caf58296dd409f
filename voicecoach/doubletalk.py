"""Is the person talking over the coach? The microphone's level against the coach's own echo.

While the coach speaks, "pause" and "stop" may barge in after other words (spotter.py), and
the echo gate turns them down only when the coach was saying a word like them. Once, in CI,
pocketsphinx heard the coach's "it does not replace a doctor" as "it stop", and it fired.

The Speaker knows more than the words: how loud each clip is, 20 ms by 20 ms (Utterance.levels).
In the microphone the coach's echo is that sound through the room: a delay (the devices'
buffers, the distance) and a tail (the room's reverberation), which stay put over a session.
The meter learns them as an *echo shape*: microphone energy per unit of coach energy for each
20 ms from 40 ms before the coach's dated sound to 0.8 s after it, by non-negative least
squares over the last half minute of frames it reaches (fit_shape; an echo canceller's
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
none. Until the coach has spoken a second or two, nothing is known and barge-in works as
before.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from voicecoach.speaker import LEVEL_SECONDS, Playing, Utterance


@dataclass(frozen=True)
class TalkSettings:
    """How the microphone's level is compared with the coach's echo."""

    before: float = 0.25
    """Until the echo's shape is learnt: seconds the echo may lag the clip's log time (output
    and input buffers, the room)..."""
    after: float = 0.05
    """...and lead it (timing error of the two streams)."""
    loud: float = 0.3
    """A coach frame at least this share of its clip's peak teaches the coupling."""
    quantile: float = 0.9
    """Which ratio of microphone to coach level is taken as the coupling."""
    learn: int = 50
    """Loud coach frames needed before the coupling is trusted (one second of speech)."""
    cancelled_share: float = 0.125
    """With an echo canceller in front: the echo assumed is at least this share of the echo
    before cancelling (-18 dB). What a canceller leaves of the coach is no fixed share of its
    voice: it bursts up while the canceller re-learns the room (live: a "stop" found in the
    coach's own sentence got through the learnt residual, 0.002 of its level)."""
    settle_gap: float = 1.0
    """With an echo canceller in front: a clip that starts after this many seconds without
    the coach finds the canceller re-learning its echo; live, its residual then burst up to
    half the echo 0.1-0.3 s in (after the 15-second holds' silences, on the leg raise's "Down."
    after 1.7 s: a pause fired)..."""
    settle: float = 0.6
    """...so for this many seconds from such a clip's start the echo assumed is all of the echo
    before cancelling, as if there were no canceller..."""
    settle_cut: float = 6.0
    """...and for this many from a cut: the restarted stream moves the echo's delay, and live
    the residual burst again and again for 6 s after one."""
    lead: int = 2
    """Frames (20 ms) the echo's shape reaches before the coach's dated sound (timing error)."""
    taps: int = 40
    """Frames it reaches after: the echo's delay and the room's tail (0.8 s)."""
    jitter: int = 1
    """Frames a clip's dates may be off the shape's, either way."""
    fit_after: float = 5.0
    """Seconds of the coach's sound heard before the shape is learnt; until then the echo
    expected is the loudest coach frame from `before` earlier to `after` later."""
    history: float = 30.0
    """Seconds of frames within the coach's echo (silences left out) the shape and the
    coupling are learnt from (follows a volume change)."""
    refit: int = 25
    """Frames between two updates of the coupling and the quiet level (half a second)."""
    fit_every: float = 5.0
    """Seconds between two fits of the shape (a room's echo does not move faster; a fit costs
    a few milliseconds)."""
    least: float = 20.0
    """A frame quieter than this (RMS on the 16-bit scale, -64 dBFS) is never the person's:
    far under any word said to the coach, and over what a digitally quiet stream has between
    the coach's words. Without it, in CI (a loopback with no noise: a quiet level of about 0),
    three frames of 0.6-0.8 in a gap of the coach's line stood 1.5 times over the quiet and an
    echo of none, and its "...so we can carry on" fired a pause (2 of 22 runs under load)."""
    above: float = 1.5
    """A frame is the person's when the microphone is this many times the echo plus the quiet
    (3.5 dB). Over 12 716 one-second windows of the coach alone through a room (lines and
    counts, with and without a TV) no window had two such frames; at 1.3, up to 1.1 % had three
    (benchmarks/bench_bargein.py)."""


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


class TalkMeter:
    """The microphone's level per frame beside the coach's echo as the room shapes it."""

    def __init__(self, rate: int, playing: Playing,
                 settings: TalkSettings = TalkSettings(),
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
        self._pending = b""
        # (session time of the frame's end, microphone level, whether a canceller in front is
        # settling then: TalkSettings.settle), the latest 4 s (what the checks look at).
        self._hist: deque[tuple[float, float, bool]] = deque(maxlen=int(4.0 / LEVEL_SECONDS))
        # (session time, microphone level, the coach's levels from `lead` frames after to `taps`
        # before it) of the latest `history` seconds of frames the coach's sound may reach:
        # what the shape and the coupling are learnt from, however long the silences between.
        self._learn: deque[tuple[float, float, Any]] = deque(
            maxlen=int(settings.history / LEVEL_SECONDS))
        self._quiet_levels: deque[float] = deque(maxlen=250)  # frames it cannot reach
        self._fed = 0  # frames since the last refit
        self._fitted_at = float("-inf")  # session time of the last fit of the shape
        #: The echo's shape: microphone energy per unit of coach energy, frame by frame from
        #: `lead` frames before the coach's sound to `taps` after (None: not learnt yet).
        self.shape: tuple[float, ...] | None = None
        self._used: tuple[float, ...] | None = None  # the shape the ratios below were taken with
        # (session time, microphone level / echo) of loud echo frames, as of the last refit.
        self._ratio_t: Any = None
        self._ratio_v: Any = None
        self._coupling: float | None = None  # from all of them
        self._quiet = 0.0
        self._levels: dict[int, Any] = {}  # clip levels as arrays, by id of the tuple

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
            settle = _settling_spans(list(self._playing(first - back, last + s.after, 0.0)), s)
        times = [first + i * self._seconds for i in range(n)]
        lagged = self._lagged(times)
        for t, level, row in zip(times, mic, lagged):
            self._hist.append((t, level, any(a <= t <= b for a, b in settle)))
            if row.any():
                self._learn.append((t, level, row))
            else:
                self._quiet_levels.append(level)
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
        if (self.uncancelled is None and t[-1] - self._fitted_at >= s.fit_every
                and len(t) * LEVEL_SECONDS >= s.fit_after):
            self.shape = fit_shape(m, lagged)
            self._fitted_at = float(t[-1])
        echo = self._echo_of(lagged)
        self._used = self._shape()
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

    def _shape(self) -> tuple[float, ...] | None:
        return self.uncancelled.shape if self.uncancelled is not None else self.shape

    def _lagged(self, times: Any) -> Any:
        """For each frame time (ascending, LEVEL_SECONDS apart): the coach's level `lead`
        frames after it, then at it, then up to `taps` frames before it (one row a frame)."""
        import numpy as np

        s = self.settings
        t = np.asarray(times, dtype=float)
        before = t[0] - np.arange(s.taps, 0, -1) * self._seconds
        after = t[-1] + np.arange(1, s.lead + 1) * self._seconds
        track = self._track(np.concatenate([before, t, after]))
        k = np.arange(s.lead + s.taps + 1) - s.lead  # frames the echo lags the sound
        return track[s.taps + np.arange(len(t))[:, None] - k[None, :]]

    def _track(self, times: Any) -> Any:
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

    def _echo_of(self, lagged: Any) -> Any:
        """The echo expected in each frame from its row of coach levels (see _lagged): through
        the learnt shape, else the loudest coach frame from `before` earlier to `after` later."""
        import numpy as np

        s = self.settings
        shape = self._shape()
        if shape is not None:
            energy, h = lagged * lagged, np.asarray(shape)
            echo = energy @ h
            # A clip's dates may be a frame or two off the average the shape learnt (live, a
            # "pause" fired on the onset of the coach's "Halfway." with none of this): the
            # echo assumed is the largest with the shape moved that far either way.
            for j in range(1, s.jitter + 1):
                echo = np.maximum(echo, energy[:, j:] @ h[:-j])
                echo = np.maximum(echo, energy[:, :-j] @ h[j:])
            return np.sqrt(np.maximum(echo, 0.0))
        lo = -min(s.lead, int(np.ceil(s.after / self._seconds)))
        hi = min(s.taps, int(np.ceil((s.before + self._seconds) / self._seconds)))
        return lagged[:, s.lead + lo : s.lead + hi + 1].max(axis=1)

    def coupling(self, before: float = float("inf")) -> float | None:
        """Microphone level per unit of expected echo, learnt from frames ending before
        `before`; None until enough has been heard."""
        import numpy as np

        if self._used != self._shape():
            self._refit()  # the raw meter learnt a new shape: the ratios must follow it
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
        [t0, t1] (echo before the coupling is applied)."""
        sel = []
        for f in reversed(self._hist):  # the span asked for is nearly always the latest
            if f[0] < t0:
                break
            if f[0] <= t1:
                sel.append(f)
        sel.reverse()
        if not sel:
            return []
        echo = self._echo_of(self._lagged([f[0] for f in sel]))
        return [(t, level, float(e), settling)
                for (t, level, settling), e in zip(sel, echo)]

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
        k = self.settings.above
        least = self.settings.least
        n = sum(1 for _, level, echo, settling in self.frames(t0, t1)
                if level > max(least, k * ((unsettled if settling else c) * echo + self._quiet)))
        return n * self._seconds


def fit_shape(mic: Any, lagged: Any) -> tuple[float, ...] | None:
    """Microphone energy per unit of coach energy at each lag: non-negative least squares of
    the frames' `mic` levels on their rows of `lagged` coach levels (TalkMeter._lagged), with a
    constant for the room's own noise; None if the coach's sound explains nothing."""
    import numpy as np

    y = np.asarray(mic, dtype=float) ** 2
    energy = np.asarray(lagged, dtype=float) ** 2
    a = np.concatenate([energy, np.ones((len(y), 1))], axis=1)
    gram, rhs = a.T @ a, a.T @ y
    gram += np.eye(len(rhs)) * (1e-9 * float(np.mean(np.diag(gram))) + 1e-12)
    active = np.ones(len(rhs), dtype=bool)
    h = np.zeros(len(rhs))
    # Active set: solve, drop the taps that came out negative, solve again (a tap of the
    # room's echo cannot take sound away).
    for _ in range(len(rhs)):
        h[:] = 0.0
        idx = np.nonzero(active)[0]
        h[idx] = np.linalg.solve(gram[np.ix_(idx, idx)], rhs[idx])
        if not (h < 0.0).any():
            break
        active &= h >= 0.0
    shape = np.maximum(h[:-1], 0.0)
    if not shape.any():
        return None
    return tuple(float(v) for v in shape)


def _settling_spans(clips: Sequence[Utterance], s: TalkSettings) -> list[tuple[float, float]]:
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

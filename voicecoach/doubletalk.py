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
none; since frames faint against the echo just before them no longer count
(TalkSettings.tail_share, results/bargein-levels-2026-12-06-tail-reverb.json), in none.
Until the coach has spoken a second or two, nothing is known and barge-in works as before.
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
    track: float = 2.0
    """Seconds of the latest coach frames the echo's present delay is found from, at every
    refit. The shape is learnt over half a minute; live, under a loaded CPU, the echo came
    40-60 ms later than it said, and a count's falling edges stood over the echo expected: a
    pause fired on the coach's own voice."""
    moved: float = 10.0
    """Seconds after the echo's delay moved that the echo assumed still covers the delay it
    had before as well: whether it moved for good or jumps about (a loaded CPU) is not known
    yet, and the coach alone must not pass for a person either way."""
    shift_max: int = 3
    """Frames the echo's present delay may move off the shape's, either way, at any refit
    (further only by `far_gain`: up to `lost_late` later or `lost_early` earlier than the
    shape's or the present delay)."""
    shift_gain: float = 0.8
    """A new delay is taken when it leaves this share or less of the recent microphone energy
    unexplained that the present one leaves (so that it does not flicker)..."""
    far_gain: float = 0.5
    """...and one more than `shift_max` frames off the shape's only when it leaves this share
    or less of what the best of those within it leave: a voice's rhythm repeats, and a delay
    a syllable later can fit it too. It is looked for that far (`lost_late`) even when no loud
    echo went missing: a stall in a pause of the coach's sentence is found only so."""
    track_least: int = 50
    """Frames of the coach's echo (one second) in `track` needed to find the delay at all."""
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
    tail_share: float = 0.1
    """...and when what the microphone holds over the echo expected is at least this share of
    the loudest echo expected in the `tail_reach` seconds up to it (-20 dB). In a room's tail,
    where the echo falls to a fiftieth of a count's peak within a tenth of a second, an echo a
    frame later or a tail a little longer than the shape learnt stands 1.7 times over the echo
    expected for frame after frame: live, under a loaded CPU, three such frames at the end of
    a count (the microphone 184-424 against a peak of 8462) let "pause" through on the coach's
    own voice. A person talking over the coach adds a good part of its loudness, not a
    hundredth of it."""
    tail_reach: float = 0.5
    """...(seconds)."""
    gone_share: float = 0.2
    """A frame's echo is missing when what the microphone holds over the quiet level (in
    energy: a TV's hiss fills a stall) is less than this share (-14 dB) of the echo expected
    from the strongest part of the shape (the direct sound, as a rule: the shape's tail is
    learnt over the person's voice as well, and with all of it, 16-34 missing echoes were
    found in 4.5 minutes of a person talking over the coach with no stall at all)..."""
    gone_least: float = 2.0
    """...while that echo is at least this many times the quiet level plus `least`..."""
    gone_run: int = 2
    """...in this many such frames, each within `gone_within` seconds of the one before and
    with none between where it was heard (fainter ones tell nothing). The coach's sound was
    played, yet the microphone did not hear it where the shape says: the path from the
    speaker to the microphone stalled (in CI, the harness's loopback went silent for 0.2 s
    under load, then brought the echo 0.2 s late, and the coach's own "stop" went through as
    a person's), and the echo comes at a delay `shift_max` does not reach."""
    gone_within: float = 0.2
    """...(seconds)."""
    lost_late: int = 25
    """Frames (0.5 s) the echo may then lag the delays of `span`: for `lost_hold` seconds after
    a missing frame the echo expected is the loudest at any delay up to this much later (as
    far as the `taps` a frame's row holds reach)..."""
    lost_early: int = 5
    """...or this much earlier..."""
    lost_hold: float = 2.0
    """...(seconds), and the echo's present delay is looked for that far too."""


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
        self._levels: dict[int, Any] = {}  # clip levels as arrays, by id of the tuple
        # Session-time spans in which the echo's delay is lost (TalkSettings.gone_run), the
        # latest last, and the frames of missing echo in a row so far (and the first's time).
        self._lost: deque[tuple[float, float]] = deque(maxlen=16)
        self._gone: tuple[int, float, float] = (0, 0.0, float("-inf"))
        #: How many times the echo went missing (a stalled path: TalkSettings.gone_run).
        self.stalls = 0

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
        shift = (self.uncancelled or self).shift
        for t, level, row in zip(times, mic, lagged):
            self._hist.append((t, level, any(a <= t <= b for a, b in settle)))
            if row.any():
                self._learn.append((t, level, row, shift))
            else:
                self._quiet_levels.append(level)
        if self.uncancelled is None:
            self._watch(times, mic, lagged)
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
            self._follow_delay(t, m, lagged)
        # Each frame's row moved by the shift of its time: the shape is learnt as if the echo
        # had held its delay.
        shifts = np.fromiter((f[3] for f in self._learn), int, len(t))
        aligned = _aligned(lagged, shifts)
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
            self.shape = fit_shape(m, aligned)
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

    def _watch(self, times: list[float], mic: list[float], lagged: Any) -> None:
        """Mark the echo's delay lost where a loud echo expected is missing from the
        microphone for `gone_run` frames in a row (TalkSettings.gone_run)."""
        s = self.settings
        if self.shape is None or self._coupling is None:
            return
        import numpy as np

        floor = s.gone_least * (self._quiet + s.least)
        # Only the strongest part of the shape (the direct sound, as a rule), and the least of
        # it over the delays the echo may have: a tail learnt too long (the shape is fit over
        # the person's voice as well) or a frame's jitter must not make a missing echo.
        h = np.asarray(self.shape)
        top = int(np.argmax(h))
        direct = np.zeros_like(h)
        direct[max(0, top - 2) : top + 3] = h[max(0, top - 2) : top + 3]
        energy = lagged * lagged
        lo, hi = self.span
        least = np.min(np.stack([_shifted(energy, direct, j)
                                 for j in range(lo - s.jitter, hi + s.jitter + 1)]), axis=0)
        echo = self._coupling * np.sqrt(np.maximum(least, 0.0))
        run, first, last = self._gone
        for t, level, expected in zip(times, mic, echo):
            if expected < floor:
                continue  # too faint to tell either way
            heard = level * level - self._quiet * self._quiet >= (s.gone_share * expected) ** 2
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
        """Whether the echo's delay is lost at session time `t` (TalkSettings.gone_run)."""
        source = self.uncancelled if self.uncancelled is not None else self
        return any(a <= t <= b for a, b in source._lost)

    def _shape(self) -> tuple[float, ...] | None:
        return self.uncancelled.shape if self.uncancelled is not None else self.shape

    def _model(self) -> tuple[tuple[float, ...] | None, tuple[int, int]]:
        """The echo's shape and the span of its recent shifts (the raw meter's, behind a
        canceller)."""
        source = self.uncancelled if self.uncancelled is not None else self
        return source.shape, source.span

    def _follow_delay(self, t: Any, mic: Any, lagged: Any) -> None:
        """Find how many frames the echo now stands off the shape: the shift whose echo,
        scaled by one gain, best explains the microphone's energy over the last `track`
        seconds (a clip's dates can move by a few frames in minutes; the shape by a fit over
        half a minute would follow them only slowly)."""
        import numpy as np

        s = self.settings
        recent = t >= t[-1] - s.track
        if int(recent.sum()) < s.track_least:
            return
        y = np.maximum(mic[recent] ** 2 - self._quiet**2, 0.0)
        energy, h = lagged[recent] ** 2, np.asarray(self.shape)

        early, late = max(s.shift_max, s.lost_early), max(s.shift_max, s.lost_late)
        # Around the shape's own delay and around the present one (a second stall adds to the
        # first), as far as a frame's row of coach levels reaches.
        reach = s.taps - s.lead
        shifts = sorted(j for j in {*range(-early, late + 1),
                                    *range(self.shift - early, self.shift + late + 1)}
                        if -s.lead <= j <= reach or j == self.shift)
        echoes = {j: _shifted(energy, h, j) for j in shifts}
        # Frames louder than the echo at any of these delays would make them are a person
        # talking over the coach: left out (they once pulled the delay 3 frames off).
        most = np.sqrt(np.max(np.stack(list(echoes.values())), axis=0))
        ours = mic[recent] <= s.above * ((self._coupling or 1.0) * most + self._quiet)
        if int(ours.sum()) < s.track_least:
            return
        y = y[ours]

        def unexplained(j: int) -> float:
            e = echoes[j][ours]
            ee = float(e @ e)
            return float(y @ y) - (float(y @ e) ** 2 / ee if ee > 0.0 else 0.0)

        left = {j: unexplained(j) for j in shifts}
        best = min(left, key=lambda j: left[j])
        near = min((j for j in left if abs(j) <= s.shift_max), key=lambda j: left[j])
        if abs(best) > s.shift_max and left[best] > s.far_gain * left[near]:
            best = near
        # Within `jitter` of the present shift the echo assumed covers it already; moving
        # there would only follow the estimate's own noise (measured: it cost a person level
        # with the echo in a room whose echo holds still).
        if abs(best - self.shift) <= s.jitter or left[best] > s.shift_gain * left[self.shift]:
            return
        self.shift = best
        cut = t[-1] - s.track  # the frames it was found from came with it
        for i in range(len(self._learn) - 1, -1, -1):
            f = self._learn[i]
            if f[0] < cut:
                break
            self._learn[i] = (f[0], f[1], f[2], best)

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

    def _echo_of(self, lagged: Any, span: tuple[int, int] | None = None) -> Any:
        """The echo expected in each frame from its row of coach levels (see _lagged): through
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
            echo = _shifted(energy, h, lo - s.jitter)
            for j in range(lo - s.jitter + 1, hi + s.jitter + 1):
                echo = np.maximum(echo, _shifted(energy, h, j))
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
        lagged = self._lagged([f[0] for f in sel])
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


def clear_of_tail(frames: Sequence[tuple[float, float, float]],
                  settings: TalkSettings) -> list[bool]:
    """For each (time, microphone level, echo expected) frame, in time order: whether what it
    holds over the echo is at least `tail_share` of the loudest echo expected in the
    `tail_reach` seconds up to it (TalkSettings.tail_share)."""
    out = []
    recent: deque[tuple[float, float]] = deque()  # (time, echo expected): a running max
    for t, level, expected in frames:
        while recent and recent[-1][1] <= expected:
            recent.pop()
        recent.append((t, expected))
        while recent[0][0] < t - settings.tail_reach:
            recent.popleft()
        out.append(level - expected >= settings.tail_share * recent[0][1])
    return out


def _aligned(lagged: Any, shifts: Any) -> Any:
    """Rows of coach levels (TalkMeter._lagged) moved so that an echo `shifts[i]` frames late
    falls where the shape has it: row i's level at lag k + shifts[i] goes to lag k."""
    import numpy as np

    if not shifts.any():
        return lagged
    out = np.zeros_like(lagged)
    for j in np.unique(shifts):
        rows = shifts == j
        if j > 0:
            out[rows, :-j] = lagged[rows, j:]
        elif j < 0:
            out[rows, -j:] = lagged[rows, :j]
        else:
            out[rows] = lagged[rows]
    return out


def _shifted(energy: Any, shape: Any, j: int) -> Any:
    """Each frame's echo energy from its row of coach energies (TalkMeter._lagged) through
    `shape` moved `j` frames later (earlier when negative)."""
    if j > 0:
        return energy[:, j:] @ shape[:-j]
    if j < 0:
        return energy[:, :j] @ shape[-j:]
    return energy @ shape


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

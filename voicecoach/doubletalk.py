"""Is the person talking over the coach? The microphone's level against the coach's own echo.

While the coach speaks, "pause" and "stop" may barge in after other words (spotter.py), and
the echo gate turns them down only when the coach was saying a word like them. Once, in CI,
pocketsphinx heard the coach's "it does not replace a doctor" as "it stop", and it fired.

The Speaker knows more than the words: how loud each clip is, 20 ms by 20 ms (Utterance.levels).
In the microphone the coach's echo is that level times a coupling (volume, distance, room) that
stays put over a session, so it is learnt while the coach talks: the upper tenth of
microphone/coach level ratios over its loud frames. A person talking over the coach adds sound
the echo does not explain. A barge-in fires only when enough frames of the phrase are well
above the echo expected then (Geigel's double-talk detector, with a learnt coupling in place of
a fixed 6 dB). Until the coach has spoken a second or two, nothing is known and barge-in works
as before.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from voicecoach.speaker import LEVEL_SECONDS, Playing, Utterance


@dataclass(frozen=True)
class TalkSettings:
    """How the microphone's level is compared with the coach's echo."""

    before: float = 0.25
    """Seconds the echo may lag the clip's log time (output and input buffers, the room)."""
    after: float = 0.05
    """Seconds the echo may lead it (timing error of the two streams)."""
    loud: float = 0.3
    """A coach frame at least this share of its clip's peak teaches the coupling."""
    quantile: float = 0.9
    """Which ratio of microphone to coach level is taken as the coupling."""
    learn: int = 50
    """Loud coach frames needed before the coupling is trusted (one second of speech)."""
    keep: int = 1500
    """Latest loud-frame ratios kept (half a minute of speech: follows a volume change)."""
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
    """The microphone's level per frame beside the coach's, and the coupling between them."""

    def __init__(self, rate: int, playing: Playing,
                 settings: TalkSettings = TalkSettings(),
                 uncancelled: TalkMeter | None = None) -> None:
        self.settings = settings
        # The same microphone before the echo canceller (None: there is none): its coupling
        # sets a floor under this one's (TalkSettings.cancelled_share).
        self.uncancelled = uncancelled
        self._playing = playing
        self._rate = rate
        self._step = max(1, int(rate * LEVEL_SECONDS))
        self._seconds = self._step / rate
        self._pending = b""
        # (session time of the frame's end, microphone level, loudest coach level around it,
        # whether a canceller in front is settling then: TalkSettings.settle)
        self._frames: deque[tuple[float, float, float, bool]] = deque(
            maxlen=int(4.0 / LEVEL_SECONDS))
        # (session time, microphone/coach level) of loud coach frames.
        self._ratios: deque[tuple[float, float]] = deque(maxlen=settings.keep)
        self._sorted: list[float] = []  # the same ratios, sorted
        self._quiet: deque[float] = deque(maxlen=250)

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
        back = s.before + self._seconds + (
            max(s.settle + s.settle_gap, s.settle_cut) if self.uncancelled else 0.0)
        clips = list(self._playing(first - back, last + s.after, 0.0))
        settle = _settling_spans(clips, s) if self.uncancelled is not None else []
        for i, level in enumerate(mic):
            t = first + i * self._seconds
            ref, peak = coach_level(clips, t - self._seconds - s.before, t + s.after)
            settling = any(a <= t <= b for a, b in settle)
            self._frames.append((t, level, ref, settling))
            if ref > 0.0 and ref >= s.loud * peak:
                if len(self._ratios) == self._ratios.maxlen:
                    _, gone = self._ratios[0]
                    del self._sorted[bisect.bisect_left(self._sorted, gone)]
                self._ratios.append((t, level / ref))
                bisect.insort(self._sorted, level / ref)
            elif ref == 0.0:
                self._quiet.append(level)

    def coupling(self, before: float = float("inf")) -> float | None:
        """Microphone level per unit of coach level, learnt from frames ending before `before`;
        None until enough has been heard."""
        # All the ratios kept, in order (kept so as frames come: this runs on every chunk while
        # the coach speaks), less the latest few from `before` on.
        ordered = self._sorted
        recent = []
        for t, r in reversed(self._ratios):
            if t < before:
                break
            recent.append(r)
        if recent:
            ordered = list(ordered)
            for r in recent:
                del ordered[bisect.bisect_left(ordered, r)]
        if len(ordered) < self.settings.learn:
            return None
        return ordered[min(len(ordered) - 1, int(self.settings.quantile * len(ordered)))]

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
        quiet = sorted(self._quiet)[len(self._quiet) // 2] if self._quiet else 0.0
        k = self.settings.above
        n = sum(1 for t, level, ref, settling in list(self._frames)
                if t0 <= t <= t1 and level > k * ((unsettled if settling else c) * ref + quiet))
        return n * self._seconds


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

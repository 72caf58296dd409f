"""Settings of the level check (doubletalk.py): how the microphone is set against the echo.

Kept apart from the meter so that its many measured values read in one place; most fields say
what they were measured on (benchmarks/bench_bargein.py, docs/measurements.md).
"""

from __future__ import annotations

from dataclasses import dataclass


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

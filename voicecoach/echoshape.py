"""The echo's shape: the pure arithmetic the level check (doubletalk.py) learns the echo with.

Each frame of the microphone comes with a row of the coach's levels just before and after it
(CoachLevels.rows). Through the echo's shape (microphone energy per unit of coach energy at
each lag, fit_shape) a row gives the echo expected in that frame; the shape moved a few frames
(shifted, aligned) follows an echo whose delay moved (follow_delay); clear_of_tail leaves out
frames that stand over the echo only in a room's tail.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from voicecoach.talksettings import TalkSettings


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


def aligned(lagged: Any, shifts: Any) -> Any:
    """Rows of coach levels (CoachLevels.rows) moved so that an echo `shifts[i]` frames late
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


def shifted(energy: Any, shape: Any, j: int) -> Any:
    """Each frame's echo energy from its row of coach energies (CoachLevels.rows) through
    `shape` moved `j` frames later (earlier when negative)."""
    if j > 0:
        return energy[:, j:] @ shape[:-j]
    if j < 0:
        return energy[:, :j] @ shape[-j:]
    return energy @ shape


def fit_shape(mic: Any, lagged: Any) -> tuple[float, ...] | None:
    """Microphone energy per unit of coach energy at each lag: non-negative least squares of
    the frames' `mic` levels on their rows of `lagged` coach levels (CoachLevels.rows), with a
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


def follow_delay(s: TalkSettings, t: Any, mic: Any, lagged: Any, shape: Sequence[float],
                 shift: int, quiet: float, coupling: float | None) -> int | None:
    """How many frames the echo now stands off `shape`, or None to keep the present `shift`:
    the shift whose echo, scaled by one gain, best explains the microphone's energy over the
    last `track` seconds (a clip's dates can move by a few frames in minutes; the shape by a
    fit over half a minute would follow them only slowly). The frames: their times `t`, `mic`
    levels (over the room's `quiet` level) and rows of `lagged` coach levels
    (CoachLevels.rows); `coupling`: the meter's, None while not known."""
    import numpy as np

    recent = t >= t[-1] - s.track
    if int(recent.sum()) < s.track_least:
        return None
    y = np.maximum(mic[recent] ** 2 - quiet**2, 0.0)
    energy, h = lagged[recent] ** 2, np.asarray(shape)

    early, late = max(s.shift_max, s.lost_early), max(s.shift_max, s.lost_late)
    # Around the shape's own delay and around the present one (a second stall adds to the
    # first), as far as a frame's row of coach levels reaches.
    reach = s.taps - s.lead
    shifts = sorted(j for j in {*range(-early, late + 1),
                                *range(shift - early, shift + late + 1)}
                    if -s.lead <= j <= reach or j == shift)
    echoes = {j: shifted(energy, h, j) for j in shifts}
    # Frames louder than the echo at any of these delays would make them are a person
    # talking over the coach: left out (they once pulled the delay 3 frames off).
    most = np.sqrt(np.max(np.stack(list(echoes.values())), axis=0))
    ours = mic[recent] <= s.above * ((coupling or 1.0) * most + quiet)
    if int(ours.sum()) < s.track_least:
        return None
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
    if abs(best - shift) <= s.jitter or left[best] > s.shift_gain * left[shift]:
        return None
    return best

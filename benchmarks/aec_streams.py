"""What the echo canceller did in a live session: its residual and the echo's delay.

`bench_bargein_live.py --trace-levels` keeps every 10 ms frame the canceller was given
(microphone, reference) and gave back, in an .npz. This reads one and reports, from `--after`
seconds on (past the person's trials, so the coach alone):

* the residual: what the canceller left of each loud 20 ms microphone frame, and how many
  frames kept more than a fifth of it (a "burst": the keyword search can find a word there);
* where the bursts fall: within `settle` s of a clip that starts after `gap` s without the
  reference (the level check's settling, talksettings.TalkSettings), or elsewhere;
* the echo's delay against the reference, by cross-correlation in half-second windows: how
  much it moves (the reference's dating; the harness's echo path itself holds still).

    PYTHONPATH=. .venv/bin/python benchmarks/aec_streams.py FILE.npz [--after 115]

Prints one line of figures.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def frames(x: np.ndarray, step: int) -> np.ndarray:
    """RMS of each `step` samples."""
    n = len(x) // step
    return np.sqrt(np.mean(x[: n * step].astype(float).reshape(n, step) ** 2, axis=1))


def delays(mic: np.ndarray, ref: np.ndarray, rate: int, after: float) -> list[int]:
    """The echo's delay (samples) in each loud half second from `after` on, where the
    microphone is clearly the reference delayed (correlation over 0.9)."""
    w, m_max, n_fft = rate // 2, 4000, 1 << 16
    out = []
    for s in range(max(m_max, int(after * rate)), len(mic) - w - m_max, w):
        m = mic[s : s + w].astype(float)
        if np.sqrt(np.mean(m * m)) < 500:
            continue
        r = ref[s - m_max : s + w + m_max].astype(float)
        c = np.fft.irfft(np.fft.rfft(r, n_fft) * np.conj(np.fft.rfft(m, n_fft)), n_fft)[: 2 * m_max]
        k = int(np.argmax(c))
        rr = r[k : k + w]
        if np.dot(m, rr) / np.sqrt(np.dot(m, m) * np.dot(rr, rr) + 1e-9) > 0.9:
            out.append(m_max - k)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--after", type=float, default=115.0,
                    help="seconds of the stream to skip (the trials)")
    ap.add_argument("--gap", type=float, default=1.0)
    ap.add_argument("--settle", type=float, default=0.6)
    args = ap.parse_args()
    try:
        z = np.load(args.file)
    except OSError as exc:
        print(f"aec_streams: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    rate = int(z["rate"])
    mic, ref, out = z["mic"], z["played"], z["cleaned"]
    step = rate // 50
    mf, of, rf = frames(mic, step), frames(out, step), frames(ref, step)
    first = int(args.after * 50)
    loud = np.zeros(len(mf), bool)
    loud[first:] = mf[first:] > 1000
    share = of[loud] / mf[loud]
    burst = np.where(loud & (of > 0.2 * np.maximum(mf, 1e-9)))[0]
    # Reference segments: where it sounds, and how long it was quiet before.
    active = rf > 50
    settling = np.zeros(len(mf), bool)
    last, start, gap = -1, 0, 0.0
    for i in np.where(active)[0]:
        if last < 0 or i - last > 1:
            start, gap = i, (i - last) / 50 if last >= 0 else 1e9
        last = i
        settling[i] = gap >= args.gap and (i - start) / 50 <= args.settle
    lag = sorted(delays(mic, ref, rate, args.after))
    q = (lambda p: lag[int(p * (len(lag) - 1))]) if lag else (lambda p: None)
    print(f"{args.file}: {int(loud.sum())} loud frames from {args.after:.0f} s; left of the echo "
          f"p50 {np.percentile(share, 50):.4f} p99 {np.percentile(share, 99):.3f}; "
          f"bursts over 0.2: {len(burst)} ({int(settling[burst].sum())} where it settles); "
          f"delay p10/p50/p90 {q(0.1)}/{q(0.5)}/{q(0.9)} samples at {rate} Hz")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the in-process echo canceller costs (voicecoach/echocancel.py): CPU share of one core
for a minute of audio at the microphone rates the coach meets, the reference's bookkeeping
(the speaker's 10 ms blocks added and looked up) included, next to WebRTC's AEC3 alone.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_echocancel.py [--seconds 60]

Prints one JSON line per rate.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from voicecoach.echocancel import EchoCancel, PlayedAudio, WebrtcCanceller


def share(rate: int, seconds: int, whole: bool) -> float:
    """CPU seconds per second of audio: EchoCancel with PlayedAudio (`whole`), or the bare
    canceller on frames already lined up."""
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 0.1, rate * (seconds + 1))
    echo = np.convolve(ref[: rate * seconds], np.r_[np.zeros(300), 0.5])[: rate * seconds]
    mic = (echo * 32767).astype(np.int16)
    block, chunk = rate // 100, int(rate * 0.03)
    played = PlayedAudio(rate)
    canceller = WebrtcCanceller(rate)
    cancel = EchoCancel(canceller, played)
    ref16 = (ref * 32767).astype(np.int16)
    t, sent = time.process_time(), 0
    if whole:
        for i in range(0, len(mic) - chunk + 1, chunk):
            while sent < i + chunk + block:
                played.add(10.0 + sent / rate, ref[sent : sent + block])
                sent += block
            cancel.clean(mic[i : i + chunk].tobytes(), 10.0 + (i + chunk) / rate)
    else:
        for i in range(0, len(mic) - block + 1, block):
            canceller.process(mic[i : i + block].tobytes(), ref16[i : i + block].tobytes())
    return (time.process_time() - t) / seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=60)
    args = ap.parse_args()
    for rate in (16000, 44100, 48000):
        whole = round(100 * share(rate, args.seconds, True), 2)
        alone = round(100 * share(rate, args.seconds, False), 2)
        print(json.dumps({"rate": rate, "with the reference's bookkeeping, % of a core": whole,
                          "AEC3 alone, % of a core": alone}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

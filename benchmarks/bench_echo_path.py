"""How steady is the harness's echo path? The delay from the coach's sink to the microphone.

The voice tests and live benchmarks loop the coach into the microphone with PulseAudio's
module-loopback, which by default resamples adaptively to hold its latency: the echo's delay
then wanders. A room's acoustic delay does not, and an echo canceller has to re-learn every
move. This plays 30 noise bursts (50 ms, 0.5-6 s apart) into the coach's sink, records the
coach's monitor and the microphone (room's monitor) at once, and finds each burst's delay by
cross-correlation, two ways: module-loopback as the tests load it, and `steady`
(adjust_time=0, no resampling). The two recordings start a few ms apart, so the delay is known
up to a constant; its spread is what counts.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_echo_path.py [--out F]

Writes benchmarks/results/echo-path.json. About 3 minutes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from harness import start_pulse  # noqa: E402

RATE = 48000


def bursts(path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(1)
    parts = [np.zeros(RATE)]
    for _ in range(30):
        parts += [rng.normal(0, 0.3, int(0.05 * RATE)),
                  np.zeros(int(rng.choice([0.5, 1.0, 3.0, 6.0]) * RATE))]
    x = np.clip(np.concatenate(parts), -1, 1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((x * 32767).astype(np.int16).tobytes())


def delays(steady: bool, folder: Path) -> list[float]:
    import numpy as np

    pulse = start_pulse(folder)
    try:
        pulse.loop_coach_into_room(steady=steady)
        time.sleep(1.0)
        wav = folder / "bursts.wav"
        bursts(wav)
        coach = pulse.start_recording("coach.monitor", RATE)
        mic = pulse.start_recording("room.monitor", RATE)
        time.sleep(0.5)
        subprocess.run(["paplay", "--device=coach", str(wav)], env=pulse.env, check=True)
        time.sleep(1.0)
        (a, _), (b, _) = coach.stop(), mic.stop()
        shift = int(round((mic.started - coach.started) * RATE))
    finally:
        pulse.stop()
    loud = np.flatnonzero(np.abs(a) > 0.05)
    starts = [loud[0]] + [loud[i] for i in range(1, len(loud)) if loud[i] - loud[i - 1] > RATE // 4]
    out = []
    for s in starts:
        burst = a[s - 100 : s + int(0.05 * RATE)]
        at = s - 100 - shift  # where the burst would be in the microphone with no delay
        lo = max(0, at - RATE // 5)
        window = b[lo : at + RATE // 5 + len(burst)]
        if len(window) < len(burst):
            continue
        lag = int(np.argmax(np.correlate(window, burst, "valid"))) + lo - at
        out.append(round(lag / RATE * 1000, 2))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "echo-path.json"))
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d:
        for name, steady in (("as the tests load it (adaptive)", False),
                             ("steady (adjust_time=0)", True)):
            ms = delays(steady, Path(d) / ("steady" if steady else "adaptive"))
            results[name] = {"bursts": len(ms), "spread_ms": round(max(ms) - min(ms), 2),
                             "delays_ms": ms}
            print(f"{name}: {len(ms)} bursts, delay spread {results[name]['spread_ms']} ms "
                  f"({min(ms)}-{max(ms)} ms)")
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()

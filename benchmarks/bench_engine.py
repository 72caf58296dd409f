"""Engine benchmark: the whole programme under the virtual clock, and caption-beat accuracy.

Compares, in the same run, our scheduler (absolute deadlines on the session clock) with the
naive loop (`show(n); sleep(1)`) over a real-time hold, without audio: this isolates the
engine's timing from the speaker's. Prints a markdown table; writes results/engine.json.

    .venv/bin/python benchmarks/bench_engine.py [--counts 60] [--speed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voicecoach import words  # noqa: E402
from voicecoach.clock import RealClock, VirtualClock  # noqa: E402
from voicecoach.commands import Inbox  # noqa: E402
from voicecoach.display import LineView  # noqa: E402
from voicecoach.events import EventLog  # noqa: E402
from voicecoach.library import Routine, load_builtin  # noqa: E402
from voicecoach.plan import Cue  # noqa: E402
from voicecoach.session import Session  # noqa: E402
from voicecoach.speaker import CaptionSpeaker  # noqa: E402


def run(rt: Routine, clock) -> EventLog:
    log = EventLog(clock.now, clock.wall)
    Session(rt, clock, CaptionSpeaker(clock.now, report=log.said), Inbox(), log).run()
    return log


def virtual_programme(repeats: int) -> dict[str, float]:
    lib = load_builtin()
    rt = lib.find_routine("back-of-knee")
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        log = run(rt, VirtualClock())
        times.append(time.perf_counter() - t0)
    return {"median_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000,
            "session_minutes": log.events[-1]["t"] / 60, "events": len(log.events)}


def ours(counts: int, speed: float) -> list[float]:
    lib = load_builtin()
    ex = replace(lib.find_exercise("calf"), hold=float(counts), sets=1, setup=(), why="",
                 cautions=())
    clock = RealClock(speed)
    log = run(Routine("bench", "bench", (ex,)), clock)
    hold = next(e["t"] for e in log.events if e.get("change") == "hold")
    onsets = [e["t"] for e in log.events if e["event"] == "say" and e["kind"] == "count"]
    # Error against the ideal beat, in real milliseconds, measured by the monotonic clock
    # at the moment the caption was shown (`t` is stamped when it was handed over).
    return [(t - (hold + n)) / speed * 1000 for n, t in enumerate(onsets[:counts], 1)]


def naive(counts: int, speed: float) -> list[float]:
    """The tutorial loop: show the count, then sleep one second; per-beat work adds up."""
    view = LineView(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    log = EventLog(time.monotonic, time.time)
    t0 = time.monotonic()
    errors = []
    for n in range(1, counts + 1):
        shown = time.monotonic()
        errors.append(((shown - t0) - (n - 1) / speed) * 1000)
        text = words.number(n)
        log.emit("say", text=text, kind="count")  # the same work ours does per beat
        view.cue(Cue(0.0, text, "count"), shown)
        time.sleep(1.0 / speed)
    return errors


def summary(errors: list[float]) -> dict[str, float]:
    return {"median_ms": statistics.median(abs(e) for e in errors),
            "worst_ms": max(abs(e) for e in errors), "drift_ms": errors[-1]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--counts", type=int, default=60)
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=20)
    a = ap.parse_args()
    result = {
        "virtual_programme": virtual_programme(a.repeats),
        "counts": a.counts, "speed": a.speed,
        "ours": summary(ours(a.counts, a.speed)),
        "naive": summary(naive(a.counts, a.speed)),
    }
    vp = result["virtual_programme"]
    print(f"whole back-of-knee programme ({vp['session_minutes']:.1f} min of coaching, "
          f"{vp['events']} events) under the virtual clock: median {vp['median_ms']:.0f} ms, "
          f"max {vp['max_ms']:.0f} ms\n")
    print(f"caption beats over a {a.counts}-count hold (speed {a.speed:g}):\n")
    print("| scheduler | median error | worst error | drift at last count |")
    print("|---|---|---|---|")
    for name in ("ours", "naive"):
        r = result[name]
        print(f"| {name} | {r['median_ms']:.2f} ms | {r['worst_ms']:.2f} ms | "
              f"{r['drift_ms']:+.2f} ms |")
    out = Path(__file__).parent / "results" / "engine.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Does listening hold up the coach's voice? The speaker's audio callback, live, two ways.

pocketsphinx keeps Python's GIL while it decodes, and longest when it closes an utterance (its
second pass runs over all of it). The speaker's callback is Python too: when it waits longer
than the output's 100 ms of buffer, the device runs dry, the coach's voice breaks up and a
count comes late. Ours decodes in a child process (voicecoach/recognizer_process.py); the
naive way, in the listener's own process.

The programme's first exercises run in real time in the PulseAudio harness with the coach
looped into the microphone (its echo is what makes long utterances), no canceller, a pause
heard by mistake resumed at once. Measured: the gaps between the speaker's callbacks (10 ms
blocks; the ALSA pulse plugin calls in bursts, so 30-40 ms gaps are its rhythm), those over
the 100 ms buffer, the output underflows PortAudio reported, and the resident memory of the
process and of its children (the recognizer's, and the voice renderer's, which both ways have).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_stalls.py [--seconds 150] [--out F]

Writes benchmarks/results/stalls.json. About 2 x `seconds`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from harness import start_pulse  # noqa: E402
from room import Room  # noqa: E402

from voicecoach import listener as listener_module  # noqa: E402
from voicecoach import playback  # noqa: E402
from voicecoach.commands import Command, CommandEvent  # noqa: E402
from voicecoach.library import Routine, load_builtin  # noqa: E402

WAYS = ("ours: recognizer in a child process", "naive: recognizer in the listener's process")
#: The output's buffer (playback.LATENCY): a longer gap runs the device dry.
BUFFER_MS = 1000 * playback.LATENCY


def routine() -> Routine:
    """The hamstring and calf stretches, one 10 s hold each: sentences, then counts."""
    lib = load_builtin()
    return Routine("stalls", "stalls", tuple(
        replace(lib.find_exercise(name), hold=10.0) for name in ("hamstring", "calf")))


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids = task / "children"
        if kids.exists():
            out += [int(p) for p in kids.read_text().split()]
    return out


def run(way: str, seconds: float) -> dict[str, Any]:
    import numpy as np

    calls: list[float] = []
    underflows = [0]
    original = playback.AudioSpeaker._callback

    def callback(self: Any, out: Any, frames: int, info: Any, status: Any) -> None:
        calls.append(time.monotonic())
        underflows[0] += bool(status.output_underflow)
        original(self, out, frames, info, status)

    make = listener_module.make_recognizer
    if way.startswith("naive"):
        from voicecoach.sphinx_recognizer import SphinxRecognizer

        def in_process(settings: Any, rate: int, table: Any) -> Any:
            return SphinxRecognizer(rate, table, tuple(table.answers))

        listener_module.make_recognizer = in_process  # type: ignore[assignment]
    playback.AudioSpeaker._callback = callback  # type: ignore[method-assign]
    tmp = Path(tempfile.mkdtemp(prefix="voicecoach-stalls-"))
    pulse = start_pulse(tmp / "pulse")
    memory: dict[str, float] = {}
    try:
        room = Room(pulse, tmp, routine())

        def driver(r: Room) -> None:
            seen = 0
            while r.session is not None and not r.listener._stop.is_set():
                cmds = r.events(event="command")
                for e in cmds[seen:]:
                    if e["name"] == "pause":  # heard by mistake: go on at once
                        r.inbox.put(CommandEvent(Command.RESUME, source="bench"))
                seen = len(cmds)
                if time.monotonic() - start > seconds - 2 and not memory:
                    memory["process"] = rss_mb(os.getpid())
                    for pid in children(os.getpid()):
                        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                        name = ("recognizer child" if b"recognizer_process" in cmd
                                else "voice renderer child" if b"voicecoach" in cmd
                                else "other child")
                        memory[name] = memory.get(name, 0.0) + rss_mb(pid)
                time.sleep(0.2)

        start = time.monotonic()
        room.run(driver, limit=seconds)
        voice = [e for e in room.events(event="command") if e.get("source") == "voice"]
    finally:
        pulse.stop()
        playback.AudioSpeaker._callback = original  # type: ignore[method-assign]
        listener_module.make_recognizer = make
    gaps = np.diff(calls[1:]) * 1000  # the first call waits for the stream to start
    return {
        "way": way,
        "seconds": round(calls[-1] - calls[0], 1),
        "callback gap ms p50/p99/p99.9/max": [round(float(v), 1) for v in
                                              np.percentile(gaps, [50, 99, 99.9, 100])],
        f"gaps over the {BUFFER_MS:.0f} ms buffer": int((gaps > BUFFER_MS).sum()),
        "gaps over 60 ms": int((gaps > 60).sum()),
        "output underflows reported": underflows[0],
        "voice commands (the coach's own echo)": [(round(e["t"], 1), e["name"]) for e in voice],
        "resident MB": {k: round(v, 1) for k, v in memory.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=150.0)
    ap.add_argument("--ways", default=",".join(WAYS))
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/stalls.json"))
    args = ap.parse_args()
    results = []
    for way in args.ways.split(","):
        r = run(way, args.seconds)
        print(json.dumps(r), flush=True)
        results.append(r)
    Path(args.out).write_text(json.dumps({"date": time.strftime("%Y-%m-%d"),
                                          "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()

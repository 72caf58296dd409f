"""A machine too busy to decode in real time, in the PulseAudio harness: the pocketsphinx
Listener with its decoding slowed to `factor` times the audio's length (tests/room.py
`Slowed`), and a person saying a command into the room every 4-6 s. Two ways:

- ours: past `BacklogSettings.limit` (2 s) behind the microphone, the listener drops what is
  queued but the last 0.5 s, starts the recognizer afresh and says so (voicecoach/backlog.py);
- naive: decode everything, however late (ours before 2026-12-05): the microphone's queue
  (6 s) fills, and from then on the newest audio is what is lost.

For each: commands heard (the right command, before the next one is said), how long after
the end of the phrase, and how far decoding trailed the microphone.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_backlog.py [--seconds 60]
        [--factors 1.25,1.5] [--out F]

Writes benchmarks/results/backlog.json; about 2.2 minutes per factor with the defaults.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from harness import Pulse, start_pulse  # noqa: E402
from room import Slowed  # noqa: E402

from voicecoach.backlog import Backlog, BacklogSettings  # noqa: E402
from voicecoach.clock import RealClock  # noqa: E402
from voicecoach.commands import Command, CommandEvent, Inbox  # noqa: E402
from voicecoach.listener import ListenSettings, open_listener  # noqa: E402
from voicecoach.speaker import SpeechLog  # noqa: E402

PHRASES = {"pause": Command.PAUSE, "next": Command.NEXT, "repeat": Command.REPEAT,
           "stop": Command.STOP}
WAYS = {"ours": BacklogSettings(), "naive: decode everything":
        BacklogSettings(limit=float("inf"))}


def run(pulse: Pulse, wavs: dict[str, Path], factor: float, way: str, seconds: float,
        seed: int) -> dict[str, Any]:
    clock, inbox, notices = RealClock(), Inbox(), list[str]()
    listener = open_listener(ListenSettings(recognizer="pocketsphinx"), clock, inbox,
                             SpeechLog(), notices.append)
    listener.backlog = Backlog(WAYS[way])
    slowed = Slowed(listener.pipeline.recognizer, factor)
    listener.pipeline.recognizer = slowed
    heard: list[tuple[float, CommandEvent]] = []
    done = threading.Event()

    def collect() -> None:
        while not done.is_set():
            event = inbox.get(0.05)
            if event is not None:
                heard.append((time.monotonic(), event))

    reader = threading.Thread(target=collect, daemon=True)
    listener.start()
    reader.start()
    rng = random.Random(seed)
    said: list[tuple[float, str]] = []
    try:
        time.sleep(1.0)
        slowed.armed.set()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(rng.uniform(4.0, 6.0))
            phrase = rng.choice(list(PHRASES))
            pulse.play_into_room(wavs[phrase])
            said.append((time.monotonic(), phrase))
        time.sleep(8.0)  # what is still queued
    finally:
        done.set()
        reader.join()
        listener.close()
    right, late = 0, []
    for i, (t, phrase) in enumerate(said):
        until = said[i + 1][0] if i + 1 < len(said) else float("inf")
        got = [(at, e) for at, e in heard if t <= at < until]
        if got and got[0][1].command is PHRASES[phrase]:
            right += 1
            late.append(got[0][0] - t)
    return {
        "factor": factor, "way": way, "said": len(said), "right": right,
        "events": len(heard),
        "late_median_s": round(statistics.median(late), 2) if late else None,
        "late_max_s": round(max(late), 2) if late else None,
        "behind_max_s": round(listener.lag_max, 2),
        "skips": listener.backlog.skips, "skipped_s": round(listener.backlog.skipped, 1),
        "overflows": listener.microphone.overflows,
        "notices": notices[1:],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--factors", default="1.25,1.5")
    ap.add_argument("--out", default="backlog.json")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        wavs = {}
        for phrase in PHRASES:
            wavs[phrase] = tmp / f"{phrase}.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wavs[phrase]), phrase],
                           check=True)
        pulse = start_pulse(tmp / "pulse")
        try:
            for factor in (float(f) for f in args.factors.split(",")):
                for way in WAYS:
                    r = run(pulse, wavs, factor, way, args.seconds, seed=int(factor * 100))
                    results.append(r)
                    print(json.dumps({k: v for k, v in r.items() if k != "notices"}),
                          flush=True)
        finally:
            pulse.stop()
    out = ROOT / "benchmarks" / "results" / args.out
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

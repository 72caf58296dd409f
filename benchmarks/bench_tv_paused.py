"""A session paused over a TV: is "resume" heard after a long pause, and do the TV's words act?

While the session is paused the person may talk, so what the microphone heard then was not
kept as the room's (roomvoice.py), and what was kept before stopped counting after `age` and
`held` seconds (2.5 minutes). After a longer pause over a TV that still talks, the listener
knew of no other voice, and a "resume" had to have quiet around it, which a TV never leaves.
And while paused, a phrase said on its own did not have to be louder than the TV's talk
(Pipeline._over_room), so the TV's own words between its pauses acted: "stop", "back", "pain".
Since 2026-12-07 the silences heard while paused are looked at (RoomSettings.while_held), and
every command but "resume" and "it hurts" must be louder than the other voice while paused too
(ForegroundSettings.paused).

Each of 4 American voices, at each TV level under the voice: the coach says three lines and
"Paused." (the session pauses as it starts), then `--pause` seconds of the TV alone, then
"resume", "continue" and "go on", 6 s apart, with the TV (espeak-ng's en-gb-x-rp reading the
news) and a quiet room's noise all the way through. Ours against the same listener with
both off, on the same audio (`--near 0`: ours without RoomSettings.near; `--lulls S`: a TV
that falls quiet for S seconds after each sentence, its level the RMS over all of it): right
(resume fired within 2.5 s of the phrase's start),
false (anything else fired while paused: the TV's words), latency from the end of the phrase's
sound in audio time.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_tv_paused.py [--levels -25,-20,-15,-10]
        [--pause 170] [--near 2] [--lulls 0] [--out F]

Writes benchmarks/results/tv-paused.json (about 10 minutes on two cores).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests"),
                str(Path(__file__).resolve().parent)]

from audio_check import listen_paused, paused_over_tv, tv_with_lulls  # noqa: E402
from bench_tv import RATE, VOICES  # noqa: E402

from voicecoach.pipeline import FOREGROUND, ROOM  # noqa: E402

PHRASES = ("resume", "continue", "go on")


def one(job: tuple[str, float, int, float, bool, float, float]) -> dict[str, Any]:
    """One voice at one TV level, one way: what fired while paused, and the phrases."""
    voice, tv_db, seed, pause, ours, near, lulls = job
    tv = tv_with_lulls(lulls, RATE) if lulls else None
    data, log, paused_at, truth = paused_over_tv(PHRASES, voice, tv_db, seed, pause, RATE,
                                                 tv=tv)
    room = replace(ROOM, near=near) if ours else replace(ROOM, while_held=False)
    foreground = FOREGROUND if ours else replace(FOREGROUND, paused=False)
    fired = listen_paused(data, log, paused_at, RATE, room, foreground)
    right, latency, used = 0, [], set()
    for _, start, end in truth:
        for k, (command, at) in enumerate(fired):
            if k not in used and command == "resume" and start <= at <= start + 2.5:
                used.add(k)
                right += 1
                latency.append(at - end)
                break
    false = [f for k, f in enumerate(fired) if k not in used]
    return {"voice": voice, "tv_db": tv_db, "way": "ours" if ours else "before",
            "right": right, "false": false, "latency_s": latency,
            "paused_s": round(truth[0][1] - paused_at, 1)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--levels", default="-25,-20,-15,-10")
    p.add_argument("--near", type=float, default=ROOM.near,
                   help="RoomSettings.near of ours (seconds)")
    p.add_argument("--pause", type=float, default=170.0)
    p.add_argument("--lulls", type=float, default=0.0,
                   help="seconds of silence after each of the TV's sentences (0: none)")
    p.add_argument("--out", default="tv-paused.json")
    args = p.parse_args()
    levels = [float(v) for v in args.levels.split(",")]
    jobs = [(v, db, seed, args.pause, ours, args.near, args.lulls) for db in levels
            for seed, v in enumerate(VOICES) for ours in (True, False)]
    began = time.monotonic()
    with ProcessPoolExecutor(2) as pool:
        runs = list(pool.map(one, jobs))
    n = len(VOICES) * len(PHRASES)
    print(f"| TV under the voice | ours: resumed of {n}, latency median / p95, false | "
          "before: the same |\n|---|---|---|")
    for db in levels:
        cells = []
        for way in ("ours", "before"):
            mine = [r for r in runs if r["tv_db"] == db and r["way"] == way]
            lat = [x for r in mine for x in r["latency_s"]]
            timing = (f"{1000 * np.median(lat):.0f} / {1000 * np.percentile(lat, 95):.0f} ms"
                      if lat else "-")
            false = [f for r in mine for f in r["false"]]
            cells.append(f"{sum(r['right'] for r in mine)}, {timing}, {len(false)} {false}")
        print(f"| {db:+.0f} dB | {cells[0]} | {cells[1]} |", flush=True)
    minutes = sum(r["paused_s"] for r in runs if r["way"] == "ours") / 60
    print(f"\n{minutes:.1f} minutes of the TV alone while paused, each way; "
          f"{time.monotonic() - began:.0f} s")
    out = Path(__file__).resolve().parent / "results" / args.out
    out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "pause_s": args.pause,
                               "near_s": args.near, "lulls_s": args.lulls,
                               "runs": runs}, indent=1) + "\n")
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A person who talks while the session is paused, then gives a command: is it taken?

While paused, what the microphone hears in a window of 6 s counts as the room's other voice
(roomvoice.RoomSettings.while_held), and every command but "resume" and "it hurts" must be
louder than that voice (foreground.ForegroundSettings.paused): that is what keeps a TV's own
words from acting on a paused session (bench_tv_paused.py). The person's own talk while paused
(to someone at the door, on the phone) is heard there too, and at the person's own level: a
"next" or "stop" said soon after it is weighed against it.

Each of 4 American voices pauses the session (the coach says three lines and "Paused."),
waits `--pause` seconds, says a sentence to someone else (TALK, about 4 s), and then, `gap`
seconds after its end, "next" or "stop"; in a quiet room, and with a TV 20 dB under the
voice. Ours against the same listener without RoomSettings.near, and with neither rule
(WAYS), on the same audio: taken (the command fired within 2.5 s of its start), false
(anything else fired while paused, until the command was taken: then the session runs again).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_talk_paused.py [--gaps 1,2,3,5,8]
        [--pause 10] [--out F]

Writes benchmarks/results/talk-paused.json (about 13 minutes on two cores).
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

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests"),
                str(Path(__file__).resolve().parent)]

from audio_check import listen_paused, paused_over_tv  # noqa: E402
from bench_tv import RATE, VOICES  # noqa: E402

from voicecoach.pipeline import FOREGROUND, ROOM  # noqa: E402

#: What the person says to someone else while paused: no command phrase in it.
TALK = "Sorry, that was my neighbour at the door, asking about a parcel for his daughter."
COMMANDS = ("next", "stop")
#: The TV levels under the voice (None: a quiet room).
ROOMS: tuple[float | None, ...] = (None, -20.0)


#: The ways compared: as shipped; without `near` (the voice heard while paused counts though
#: it stopped, as from 2026-12-07 until `near`); with neither rule (as before 2026-12-07).
WAYS = ("ours", "no near", "before")


def one(job: tuple[str, int, str, float, float | None, float, str, float]) -> dict[str, Any]:
    """One voice, command, gap and room, one way: was the command taken, and what else fired."""
    voice, seed, command, gap, tv_db, pause, way, near = job
    data, log, paused_at, truth = paused_over_tv((TALK, command), voice, tv_db, seed, pause,
                                                 RATE, gap)
    room = {"ours": replace(ROOM, near=near), "no near": replace(ROOM, near=0.0),
            "before": replace(ROOM, while_held=False)}[way]
    foreground = replace(FOREGROUND, paused=False) if way == "before" else FOREGROUND
    fired = listen_paused(data, log, paused_at, RATE, room, foreground)
    _, start, end = truth[-1]
    taken = [f for f in fired if f[0] == command and start <= f[1] <= start + 2.5]
    # Once taken, the session runs again (or asks whether to end): not paused any more.
    until = taken[0][1] if taken else float("inf")
    return {"voice": voice, "command": command, "gap_s": gap, "tv_db": tv_db,
            "way": way, "said_s": [round(start, 2), round(end, 2)], "taken": bool(taken),
            "latency_s": round(taken[0][1] - end, 3) if taken else None,
            "false": [f for f in fired if f[1] < until]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gaps", default="1,2,3,5,8")
    p.add_argument("--near", type=float, default=ROOM.near,
                   help="RoomSettings.near of ours (seconds)")
    p.add_argument("--pause", type=float, default=10.0)
    p.add_argument("--out", default="talk-paused.json")
    args = p.parse_args()
    gaps = [float(v) for v in args.gaps.split(",")]
    jobs = [(v, seed, c, g, tv, args.pause, way, args.near) for tv in ROOMS for g in gaps
            for seed, v in enumerate(VOICES) for c in COMMANDS for way in WAYS]
    began = time.monotonic()
    with ProcessPoolExecutor(2) as pool:
        runs = list(pool.map(one, jobs))
    n = len(VOICES) * len(COMMANDS)
    for tv in ROOMS:
        room = "a quiet room" if tv is None else f"a TV {-tv:.0f} dB under the voice"
        print(f"\n{room}: taken of {n} (next, stop), false\n\n| gap after the talk | "
              + " | ".join(WAYS) + " |\n|---|---|---|---|")
        for g in gaps:
            cells = []
            for way in WAYS:
                mine = [r for r in runs if r["tv_db"] == tv and r["gap_s"] == g
                        and r["way"] == way]
                false = [f for r in mine for f in r["false"]]
                cells.append(f"{sum(r['taken'] for r in mine)}, {len(false)} {false}")
            print(f"| {g:.0f} s | " + " | ".join(cells) + " |", flush=True)
    print(f"\n{time.monotonic() - began:.0f} s")
    out = Path(__file__).resolve().parent / "results" / args.out
    out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "pause_s": args.pause,
                               "near_s": args.near,
                               "talk": TALK, "runs": runs}, indent=1) + "\n")
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""False commands on more than an hour of unrelated speech: ours against the naive loop.

    .venv/bin/python benchmarks/bench_unrelated.py [--voices V,V] [--rates R,R] [--seconds N]
                                                   [--running] [--cut on|off] [--out NAME.json]

The goal is at most one false command an hour of speech that is not meant for the coach (a
TV, a radio, people talking). bench_listen.py reads the source article once, 8.7 minutes: too
short to tell one an hour from none. Here the whole article is read in every voice at every
rate (by default 4 voices x 2 rates, about 80 minutes), each reading heard as its own stream
by a fresh pocketsphinx listener that has first heard the coach's welcome, as in a session.
There is no echo gate (this is not the coach's voice) and nothing else to help: the
recognizer, the quiet meter, the voice check and the spotter, exactly as the coach runs them.
The naive way acts on every final result that is a command phrase. Both hear the same
renders. By default every command is in play (no session, the worst case); with `--running`
ours knows the session runs, as the app tells it, and "resume" means nothing then (the naive
way has no state). Prints a markdown table and every false command (where, what was heard), and
writes benchmarks/results/unrelated.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from audio_check import speech  # noqa: E402
from bench_listen import ARTICLE, CHUNK, RATE, WELCOME  # noqa: E402

VOICES = "en-us,en-us+f2,en-us+m3,en-us+klatt"
RATES = "150,190"


def render(text: str, voice: str, wpm: int, out: Path) -> float:
    """`text` read by espeak-ng into `out` (raw int16 at RATE, half volume, a quiet room's
    faint noise under it); returns its length in seconds."""
    x = speech(text, voice, wpm, RATE)
    x += np.random.default_rng(len(x)).normal(0, 30, len(x))
    out.write_bytes(x.astype(np.int16).tobytes())
    return len(x) / RATE


def listen(path: str, welcome: str, naive: bool, running: bool = False,
           cut: bool | None = None) -> dict[str, Any]:
    """One reading through a fresh listener; the commands it fired and its CPU time. With
    `running`, ours knows the session runs, as the app tells it (no "resume" then); `cut`:
    ours ends utterances on the room's quiet too (None: as shipped)."""
    from voicecoach import sphinx_recognizer
    from voicecoach.phrases import load_phrases
    from voicecoach.pipeline import Pipeline
    from voicecoach.sphinx_recognizer import SphinxRecognizer
    from voicecoach.spotter import Spotter

    table = load_phrases("en")
    # The naive way's decoder hears everything, quiet too (doze.py), and its utterances end by
    # the endpointer alone.
    shipped = sphinx_recognizer.CUT if cut is None else cut
    rec = SphinxRecognizer(RATE, table, tuple(table.answers), doze=not naive,
                            cut=shipped and not naive)
    pipe = Pipeline(rec, Spotter(table))
    if running:
        pipe.paused(False)
    heard = Path(welcome).read_bytes()  # as a session's microphone does, before anything else
    for i in range(0, len(heard), CHUNK * 2):
        pipe.feed(heard[i : i + CHUNK * 2], 0.0)
    data = Path(path).read_bytes()
    fired: list[dict[str, Any]] = []
    cpu = time.process_time()
    for i in range(0, len(data), CHUNK * 2):
        piece = data[i : i + CHUNK * 2]
        at = (i + len(piece)) / 2 / RATE
        if naive:
            h = rec.accept(piece)
            said = " ".join(h.words)
            cmd = table.match(said) if h.final else None
            if cmd is not None:
                fired.append({"at_s": round(at, 2), "command": cmd.value, "heard": said})
            continue
        spot = pipe.feed(piece, at)
        if spot is not None and not spot.rejected:
            fired.append({"at_s": round(at, 2), "command": spot.command.value,
                          "heard": spot.heard})
    return {"fired": fired, "cpu_s": time.process_time() - cpu}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--voices", default=VOICES, help=f"espeak-ng voices (default {VOICES})")
    ap.add_argument("--rates", default=RATES, help=f"words a minute (default {RATES})")
    ap.add_argument("--seconds", type=float, default=0.0,
                    help="read only this much of the article (0: all of it)")
    ap.add_argument("--out", default="unrelated.json",
                    help="file name in benchmarks/results (default unrelated.json)")
    ap.add_argument("--running", action="store_true",
                    help="ours hears with the session running (no \"resume\")")
    ap.add_argument("--cut", choices=("on", "off"), default=None,
                    help="ours ends utterances on the room's quiet too, or not (default: as "
                         "shipped, sphinx_recognizer.CUT)")
    args = ap.parse_args()
    text = ARTICLE.read_text()
    if args.seconds:
        text = text[: int(args.seconds * 18)]  # about 18 characters a second at 190 wpm
    readings = [(v, int(r)) for v in args.voices.split(",") for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        welcome = Path(tmp) / "welcome.raw"
        render(WELCOME, "en-us", 175, welcome)
        seconds: dict[tuple[str, int], float] = {}
        for voice, wpm in readings:
            seconds[voice, wpm] = render(text, voice, wpm, Path(tmp) / f"{voice}-{wpm}.raw")
        jobs = [(voice, wpm, naive) for naive in (False, True) for voice, wpm in readings]
        with ProcessPoolExecutor(2) as pool:
            done = list(pool.map(listen, [str(Path(tmp) / f"{v}-{w}.raw") for v, w, _ in jobs],
                                 [str(welcome)] * len(jobs), [n for _, _, n in jobs],
                                 [args.running and not n for _, _, n in jobs],
                                 [None if args.cut is None else args.cut == "on"] * len(jobs)))
    hours = sum(seconds.values()) / 3600
    result: dict[str, Any] = {"hours_of_speech": hours, "readings": len(readings),
                              "session_running": args.running,
                              "cut": args.cut or "as shipped"}
    print(f"{len(readings)} readings of the article, {hours * 60:.1f} minutes in all\n")
    print("| way | false commands | per hour | CPU (one core) |")
    print("|---|---|---|---|")
    for naive in (False, True):
        way = "naive" if naive else "ours"
        runs = [(job, out) for job, out in zip(jobs, done, strict=True) if job[2] is naive]
        fires = [{"voice": v, "wpm": w, **f} for (v, w, _), out in runs for f in out["fired"]]
        cpu = sum(out["cpu_s"] for _, out in runs) / (hours * 3600)
        result[way] = {"false_commands": len(fires), "per_hour": len(fires) / hours,
                       "cpu_share_of_one_core": cpu, "fired": fires}
        print(f"| {way} | {len(fires)} | {len(fires) / hours:.2f} | {cpu:.1%} |")
    for way in ("ours", "naive"):
        for f in result[way]["fired"]:
            print(f"{way}: {f['voice']} {f['wpm']} wpm at {f['at_s']:.1f} s: {f['command']} "
                  f"(heard {f['heard']!r})")
    out = ROOT / "benchmarks" / "results" / Path(args.out).name
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

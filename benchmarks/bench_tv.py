"""Commands said in the coach's pauses while a TV talks on, at several levels under the voice.

A command must be said on its own (spotter.py), and a TV's words run into it: until 2026-12-07
a "pause" said over TV talk 20 dB under the voice went unheard. Here each of 4 American voices
says 12 command phrases, one in each pause of a coach who speaks a line every 5 s (its echo
6 dB under the person, 0.15 s late, through a small room), with a TV reading the news
(espeak-ng's en-gb-x-rp) `--levels` dB under the person (RMS against RMS) all the way through,
and a quiet room's noise (tests/audio_check.coach_and_tv). Ours (a phrase standing out of the
TV's talk is said on its own: foreground.py) beside the same listener without that rule (the
naive way here): right, wrong (another command fired for a phrase) and other (fired away from
every phrase: the TV's words), the latency from the end of the phrase's sound in audio time
(decoding is not waited for), and CPU per second of audio. Then two minutes of the TV and the
coach alone at each level and 0 dB: whatever fires is false.

With `--unrelated`, only false commands, on more words than the news: the source article read
by the TV (in each of `--tv-voices`, at `--unrelated-levels`) over the coach's lines, no person.
A command that fires with ours and not without is one the rule added.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_tv.py [--levels -25,-20,-15,-10] [--out F]
    PYTHONPATH=. .venv/bin/python benchmarks/bench_tv.py --chat [--out F]
    PYTHONPATH=. .venv/bin/python benchmarks/bench_tv.py --unrelated [--tv-voices V,V]
        [--unrelated-levels 0,-10] [--out F]

Writes benchmarks/results/tv.json (about 10 minutes; --unrelated, tv-unrelated.json, about
15 minutes on two cores).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests"),
                str(Path(__file__).resolve().parent)]

from audio_check import TV_NEWS, coach_and_tv, speech  # noqa: E402
from bench_listen import ARTICLE  # noqa: E402

from voicecoach.phrases import load_phrases  # noqa: E402
from voicecoach.pipeline import FOREGROUND, Pipeline  # noqa: E402
from voicecoach.speaker import SpeechLog  # noqa: E402
from voicecoach.spotter import Spotter  # noqa: E402

RATE = 16000
PERIOD = 5.0
#: Every command phrase but those that mean nothing while the session runs ("resume").
PHRASES = ("pause", "wait", "hold on", "stop", "quit", "next", "skip", "repeat", "again",
           "back", "go back", "help")
VOICES = ("en-us", "en-us+f2", "en-us+m3", "en-us+klatt")
EN = load_phrases("en")


#: Who talks on in the room: a TV's voice, or "same" (the person's own, talking on).
TV_VOICE = "en-gb-x-rp"


def stream(voice: str | None, tv_db: float | None, seed: int, tv_voice: str = TV_VOICE
           ) -> tuple[bytes, SpeechLog, list[tuple[str, float, float]]]:
    """The microphone's audio, the coach's log and the commands said (phrase, start, end): two
    periods of the coach alone, then a command in each pause (none with `voice` None: two
    minutes of the coach and the TV)."""
    periods = 24 if voice is None else len(PHRASES) + 2
    tv = speech(TV_NEWS * 12, (voice or "en-us") if tv_voice == "same" else tv_voice, 175, RATE)
    tv = tv[: int(periods * PERIOD * RATE)]
    return coach_and_tv(PHRASES if voice else (), voice or "en-us", tv_db, seed, RATE, PERIOD,
                        warm=periods - len(PHRASES) if voice else periods, tv=tv)


def listen(data: bytes, log: SpeechLog, ours: bool) -> list[tuple[str, float]]:
    """(command, session time) of what fired, the session running."""
    from voicecoach.sphinx_recognizer import SphinxRecognizer

    spotter = Spotter(EN, log.overlapping)
    pipe = Pipeline(SphinxRecognizer(RATE, EN, tuple(EN.answers)), spotter,
                    foreground=FOREGROUND if ours else None)
    pipe.paused(False)
    step, fired = 2 * int(RATE * 0.03), []
    for i in range(0, len(data), step):
        at = (i + step) / 2 / RATE
        spot = pipe.feed(data[i : i + step], at)
        if spot is not None and not spot.rejected:
            fired.append((spot.command.value, at))
    pipe.recognizer.close()
    return fired


def score(fired: list[tuple[str, float]], truth: list[tuple[str, float, float]]
          ) -> tuple[int, int, int, list[float]]:
    """(right, wrong, other, seconds from the end of each right command's sound to its firing):
    a command is right when it fires within 2.5 s of the phrase's start; wrong, another
    command fired then (the phrase misheard); other, anything that fired away from every
    phrase (the TV's words, or the coach's)."""
    used: set[int] = set()
    lat = []
    for phrase, start, end in truth:
        want = EN.match(phrase)
        for i, (command, at) in enumerate(fired):
            if (i not in used and want is not None and command == want.value
                    and start <= at <= start + 2.5):
                used.add(i)
                lat.append(at - end)
                break
    near = {i for i, (_, at) in enumerate(fired) if i not in used
            and any(start <= at <= start + 2.5 for _, start, _ in truth)}
    return len(used), len(near), len(fired) - len(used) - len(near), lat


def unrelated_one(job: tuple[str, float, bool]) -> dict[str, Any]:
    """The article read by a TV in `voice` at `tv_db` over the coach's lines: what fired."""
    voice, tv_db, ours = job
    text = ARTICLE.read_text()
    tv = speech(text, voice, 175, RATE)
    data, log, _ = coach_and_tv((), "en-us", tv_db, 11, RATE, PERIOD, tv=tv)
    return {"voice": voice, "tv_db": tv_db, "way": "ours" if ours else "without",
            "seconds": round(len(data) / 2 / RATE, 1), "fired": listen(data, log, ours)}


def unrelated(voices: list[str], levels: list[float], name: str) -> int:
    jobs = [(v, db, ours) for db in levels for v in voices for ours in (True, False)]
    with ProcessPoolExecutor(2) as pool:
        runs = list(pool.map(unrelated_one, jobs))
    print("| TV reading the article, under a person's voice | minutes | ours: false | without: "
          "false | only ours |\n|---|---|---|---|---|")
    for db in levels:
        mine = [r for r in runs if r["tv_db"] == db and r["way"] == "ours"]
        theirs = [r for r in runs if r["tv_db"] == db and r["way"] == "without"]
        added = [(m["voice"], f) for m, t in zip(mine, theirs) for f in m["fired"]
                 if f not in t["fired"]]
        minutes = sum(r["seconds"] for r in mine) / 60
        print(f"| {db:+.0f} dB | {minutes:.1f} | {sum(len(r['fired']) for r in mine)} | "
              f"{sum(len(r['fired']) for r in theirs)} | {len(added)} {added} |", flush=True)
    out = Path(__file__).resolve().parent / "results" / name
    out.write_text(json.dumps({"runs": runs}, indent=1) + "\n")
    print(f"written to {out}", file=sys.stderr)
    return 0


def _cell(way: dict[str, Any]) -> str:
    """A table cell: right, wrong, other, latency, CPU."""
    cpu = f"CPU {100 * way['cpu_share']:.1f} %"
    counts = f"{way['right']}, {way['wrong']}, {way['other']}"
    if way["latency_median_s"] is None:
        return f"{counts}, {cpu}"
    return (f"{counts}, {1000 * way['latency_median_s']:.0f} / "
            f"{1000 * way['latency_p95_s']:.0f} ms, {cpu}")


def chat(name: str) -> int:
    """What the level rule costs a person who talks: each voice talks through the first 20 s
    (the news, level with its commands, the coach's lines and all), then says the 12 commands
    in the coach's pauses. For a while that talk is "another voice" (roomvoice.py)."""
    totals: dict[str, list[int]] = {"ours": [0, 0, 0], "without": [0, 0, 0]}
    for seed, voice in enumerate(VOICES):
        talk = speech(TV_NEWS * 3, voice, 175, RATE)[: int(4 * PERIOD * RATE)]
        tv = np.concatenate([talk, np.zeros(int(16 * PERIOD * RATE))])
        data, log, truth = coach_and_tv(PHRASES, voice, 0.0, seed, RATE, PERIOD, warm=4, tv=tv)
        for way in totals:
            counts = score(listen(data, log, way == "ours"), truth)[:3]
            totals[way] = [a + b for a, b in zip(totals[way], counts, strict=True)]
    print("| the person talked for 20 s first | right of 48, wrong, other |\n|---|---|")
    for way, (right, wrong, other) in totals.items():
        print(f"| {way} | {right}, {wrong}, {other} |")
    out = Path(__file__).resolve().parent / "results" / name
    out.write_text(json.dumps(totals, indent=1) + "\n")
    print(f"written to {out}", file=sys.stderr)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--levels", default="-25,-20,-15,-10")
    p.add_argument("--unrelated", action="store_true")
    p.add_argument("--tv-voices", default="en-gb-x-rp,en-us,en-us+f2,en-us+m3")
    p.add_argument("--unrelated-levels", default="0,-10")
    p.add_argument("--tv-voice", default=TV_VOICE,
                   help='who talks on: an espeak-ng voice, or "same": the person, talking on '
                        "between commands (what the rule costs a chatty person)")
    p.add_argument("--chat", action="store_true",
                   help="the person talks for 20 s, then says the commands (the rule's cost)")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    if args.chat:
        return chat(args.out or "tv-chat.json")
    if args.unrelated:
        return unrelated(args.tv_voices.split(","),
                         [float(v) for v in args.unrelated_levels.split(",")],
                         args.out or "tv-unrelated.json")
    args.out = args.out or "tv.json"
    levels = [float(v) for v in args.levels.split(",")]
    rows: list[dict[str, Any]] = []
    began = time.monotonic()
    print("| TV under the voice | ours: right of 48, wrong, other, latency median / p95, CPU "
          "| without: the same |\n|---|---|---|")
    for tv_db in [None, *levels]:
        row: dict[str, Any] = {"tv_db": tv_db}
        for way in ("ours", "without"):
            right = wrong = other = 0
            lat: list[float] = []
            cpu = audio = 0.0
            for seed, voice in enumerate(VOICES):
                data, log, truth = stream(voice, tv_db, seed, args.tv_voice)
                began_cpu = time.process_time()
                r, w, o, la = score(listen(data, log, way == "ours"), truth)
                cpu += time.process_time() - began_cpu
                audio += len(data) / 2 / RATE
                right, wrong, other, lat = right + r, wrong + w, other + o, lat + la
            row[way] = {"right": right, "of": len(VOICES) * len(PHRASES), "wrong": wrong,
                        "other": other, "minutes": round(audio / 60, 1),
                        "latency_median_s": round(float(np.median(lat)), 3) if lat else None,
                        "latency_p95_s": round(float(np.percentile(lat, 95)), 3) if lat else None,
                        "cpu_share": round(cpu / audio, 4)}
        rows.append(row)
        name = "none" if tv_db is None else f"{tv_db:+.0f} dB"
        print(f"| {name} | {_cell(row['ours'])} | {_cell(row['without'])} |", flush=True)
    print("\n| TV alone with the coach | ours: false | without: false |\n|---|---|---|")
    alone = []
    for tv_db in [*levels, 0.0]:
        counts = {}
        for way in ("ours", "without"):
            data, log, _ = stream(None, tv_db, 7, args.tv_voice)
            counts[way] = listen(data, log, way == "ours")
        alone.append({"tv_db": tv_db, "seconds": len(data) / 2 / RATE, **counts})
        print(f"| {tv_db:+.0f} dB, {len(data) / 2 / RATE:.0f} s | {counts['ours']} | "
              f"{counts['without']} |", flush=True)
    out = Path(__file__).resolve().parent / "results" / args.out
    out.write_text(json.dumps({"rows": rows, "tv_alone": alone,
                               "minutes": round((time.monotonic() - began) / 60, 1)},
                              indent=1) + "\n")
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

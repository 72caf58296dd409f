"""Commands from across a room: pocketsphinx as the coach runs it (the late-reverberation
suppressor of voicecoach/dereverb.py in front) against the way it ran before 2026-12-03.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_room.py [--quick] [--article-seconds N]
                                                            [--rate HZ] [--out NAME.json]
        [--ways W,W] [--article-voices V,V] [--article-room CONDITION] [--no-commands]

The 22 command phrases in 4 espeak-ng voices at 140, 175 and 210 words a minute, through five
conditions: dry, 10 dB of bench_listen's noise, and three simulated rooms. A room's impulse
response is the direct sound plus an exponentially decaying noise tail (Polack's statistical
model) from 4 ms on, at a given reverberation time (RT60) and direct-to-reverberant ratio
(DRR); "far, hard" adds six discrete early reflections and a slower second slope, a shape the
suppressor does not assume. Each command is said where it means something (as bench_listen).
False commands: the 8 coach lines of bench_listen and the source article read aloud (in each
of `--article-voices`, its own stream), both in the strongest room (or `--article-room`);
`--no-commands` measures only these. Every way hears the same audio. `--ways` picks among
WAYS (the halves of the change, other quiet levels, and "ours awake": ours with a decoder
that hears the quiet too, doze.py; the older ways never slept; "ours" ends utterances as
shipped (sphinx_recognizer.CUT), "ours cut" always also on the room's quiet, "ours endpointer
only" by pocketsphinx's endpointer alone; "ours old tail rule" takes a frame
for the room's tail as it did until then: TAIL).
Prints a markdown table; writes benchmarks/results/room.json (or --out).
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

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

import bench_listen  # noqa: E402
from audio_check import reverberate, speech  # noqa: E402
from bench_listen import ARTICLE, COACH, WELCOME, run, with_noise  # noqa: E402

#: The sample rate everything is heard at (--rate; bench_listen's run() reads its own).
RATE = bench_listen.RATE

VOICES = ["en-us", "en-us+f2", "en-us+m3", "en-us+klatt"]
#: name: (RT60 s, DRR dB, early reflections) or None (dry) or "noise".
CONDITIONS: dict[str, tuple[float, float, bool] | str | None] = {
    "dry": None,
    "10 dB noise": "noise",
    "near (RT60 0.4 s, DRR 0 dB)": (0.4, 0.0, False),
    "across the room (RT60 0.6 s, DRR -5 dB)": (0.6, -5.0, False),
    "far, hard room (RT60 0.8 s, DRR -3 dB, reflections)": (0.8, -3.0, True),
}
STRONGEST = "across the room (RT60 0.6 s, DRR -5 dB)"


def impulse_response(rt60: float, drr_db: float, reflections: bool,
                     rng: np.random.Generator) -> np.ndarray:
    """The direct sound (1.0 at 0) and the room's tail, at `drr_db` under it in energy."""
    n = int(RATE * rt60 * 1.2)
    t = np.arange(n) / RATE
    tail = rng.normal(0, 1, n) * 10 ** (-3 * t / rt60)
    if reflections:  # a double slope: the tail decays slower after 100 ms
        tail += rng.normal(0, 1, n) * 0.3 * 10 ** (-3 * t / (rt60 * 1.6)) * (t > 0.1)
    tail[: int(RATE * 0.004)] = 0
    if reflections:
        for ms, gain in ((7, 0.6), (11, 0.5), (17, 0.45), (23, 0.35), (31, 0.3), (43, 0.25)):
            tail[int(RATE * ms / 1000)] += gain * np.sqrt(np.sum(tail**2)) / 3
    tail /= np.sqrt(np.sum(tail**2))
    h = tail * 10 ** (-drr_db / 20)  # DRR -5 dB: the tail 5 dB louder than the direct sound
    h[0] += 1.0
    return h


def heard_in(audio: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    """`audio` as the microphone hears it in `condition` (plus a faint noise floor)."""
    room = CONDITIONS[condition]
    if room == "noise":
        audio = with_noise(audio, 10.0, rng)
    elif isinstance(room, tuple):
        audio = reverberate(audio, impulse_response(*room, rng))
    return audio + rng.normal(0, 30, len(audio))


def at_rate(rate: int) -> None:
    """Hear everything at `rate` (a microphone's own: the coach decodes at it)."""
    global RATE
    RATE = bench_listen.RATE = rate
    bench_listen.CHUNK = int(rate * 0.03)


#: The ways measured (--ways): name -> (the suppressor on, QuietMeter's fall_db, the room's
#: tail counted as quiet (sphinx_recognizer.TAIL_QUIET); None: as shipped).
WAYS: dict[str, tuple[bool, float | None, bool | None, bool]] = {
    "ours": (True, None, None, True),
    "ours awake": (True, None, None, False),
    "ours cut": (True, None, None, True),
    "ours endpointer only": (True, None, None, True),
    "ours old tail rule": (True, None, None, True),
    "before 2026-12-03": (False, 0.0, False, False),
    "suppressor only": (True, 0.0, False, False),
    "quiet 15 dB under the peak only": (False, 15.0, False, False),
    "suppressor + quiet 15 dB": (True, 15.0, False, False),
    "suppressor + quiet 20 dB": (True, 20.0, False, False),
    "suppressor + quiet 10 dB": (True, 10.0, False, False),
}

#: How a way's utterances end (sphinx_recognizer.CUT): True also on the room's quiet, False by
#: pocketsphinx's endpointer alone (as before 2026-12-05); the others as shipped.
CUT = {"ours cut": True, "ours endpointer only": False}

#: The rule for the room's tail in the quiet after a phrase (recognizer.TAIL) of a way, where
#: not as shipped: until 2026-12-06 it was the stricter one that still ends an utterance early.
TAIL = {"ours old tail rule": "CUT_TAIL"}


def evaluate(way: str, rates: list[int], article_s: float, rate: int,
             article_voices: tuple[str, ...] = ("en-us",), article_room: str = "",
             conditions: tuple[str, ...] = ()) -> dict[str, Any]:
    from voicecoach import recognizer, sphinx_recognizer
    from voicecoach.commands import Command
    from voicecoach.phrases import load_phrases
    from voicecoach.sphinx_recognizer import SphinxRecognizer

    at_rate(rate)
    dereverb, fall_db, tail_quiet, doze = WAYS[way]
    if fall_db is not None:
        recognizer.FALL_DB = fall_db
    if tail_quiet is not None:
        sphinx_recognizer.TAIL_QUIET = tail_quiet
    sphinx_recognizer.CUT = CUT.get(way, sphinx_recognizer.CUT)
    if way in TAIL:
        recognizer.TAIL = getattr(recognizer, TAIL[way])
    table = load_phrases("en")
    rec = SphinxRecognizer(RATE, table, tuple(table.answers), dereverb=dereverb, doze=doze)
    pad0, pad1 = np.zeros(RATE // 2), np.zeros(RATE)
    run(rec, table, np.concatenate([pad0, speech(WELCOME, VOICES[0], 175, RATE), pad1]), False)
    result: dict[str, Any] = {"conditions": {}}
    t_cpu, t_audio = time.process_time(), 0.0
    for condition in conditions:
        rng = np.random.default_rng(1)  # the same rooms and noise for both ways
        right, total, lat, wrong = 0, 0, [], []
        slow: list[tuple[float, str]] = []
        for voice in VOICES:
            for wpm in rates:
                for phrase, command in table.commands.items():
                    x = speech(phrase, voice, wpm, RATE)
                    end = len(pad0) + int(np.nonzero(np.abs(x) > 150)[0][-1])
                    audio = heard_in(np.concatenate([pad0, x, pad1]), condition, rng)
                    fired = run(rec, table, audio, False, None, command is Command.RESUME)
                    t_audio += len(audio) / RATE
                    total += 1
                    if [c for c, _ in fired] == [command.value]:
                        right += 1
                        lat.append((fired[0][1] - end / RATE) * 1000)
                        slow.append((lat[-1], f"{phrase!r} ({voice}, {wpm} wpm)"))
                    else:
                        got = "+".join(c for c, _ in fired) or "nothing"
                        wrong.append(f"{phrase!r} ({voice}, {wpm} wpm) -> {got}")
        result["conditions"][condition] = {
            "right": right, "trials": total,
            "latency_ms_median": float(np.median(lat)) if lat else None,
            "latency_ms_p95": float(np.percentile(lat, 95)) if lat else None,
            "wrong": wrong,
            # The commands behind the p95: which ones, not only how late.
            "slowest": [f"{who}: {ms:.0f} ms" for ms, who in sorted(slow, reverse=True)[:8]],
        }
    result["cpu_share_of_one_core"] = (time.process_time() - t_cpu) / t_audio if t_audio else None
    rng = np.random.default_rng(2)
    fired_lines = []
    for i, line in enumerate(COACH):
        x = speech(line, VOICES[i % len(VOICES)], 175, RATE)
        got = run(rec, table, heard_in(np.concatenate([pad0, x, pad1]), STRONGEST, rng), False)
        fired_lines += [f"{line!r} -> {c}" for c, _ in got]
    result["false_on_coach_lines"] = fired_lines
    text = ARTICLE.read_text() if ARTICLE.exists() else " ".join(COACH * 40)
    room = article_room or STRONGEST
    result["article_room"], result["false_on_article"], seconds = room, [], 0.0
    for voice in article_voices:  # each reading its own stream, as a TV programme would be
        art = speech(text[: int(article_s * 18)], voice, 190, RATE)[: int(article_s * RATE)]
        got = run(rec, table, heard_in(art, room, rng), False)
        result["false_on_article"] += [f"{c} at {t:.1f} s ({voice})" for c, t in got]
        seconds += len(art) / RATE
    result["article_minutes"] = seconds / 60
    return result


def dereverb_cost(rate: int, seconds: float = 60.0) -> float:
    """The suppressor's share of one core on `seconds` of noise at `rate`, in 30 ms chunks."""
    from voicecoach.dereverb import Dereverb

    d = Dereverb(rate)
    x = np.random.default_rng(0).normal(0, 1000, int(rate * seconds)).astype(np.int16).tobytes()
    step = int(rate * 0.03) * 2
    t0 = time.process_time()
    for i in range(0, len(x), step):
        d.process(x[i : i + step])
    return (time.process_time() - t0) / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one rate (175 wpm)")
    ap.add_argument("--article-seconds", type=float, default=180.0)
    ap.add_argument("--rate", type=int, default=16000, help="sample rate (Hz) heard at")
    ap.add_argument("--ways", default="ours,before 2026-12-03",
                    help=f"comma-separated, of: {', '.join(WAYS)}")
    ap.add_argument("--article-voices", default="en-us",
                    help="comma-separated espeak-ng voices that read the article, at 190 wpm")
    ap.add_argument("--article-room", default=STRONGEST, choices=CONDITIONS,
                    help="where the article is heard")
    ap.add_argument("--no-commands", action="store_true",
                    help="false commands only: the coach lines and the article")
    ap.add_argument("--out", default="room.json")
    args = ap.parse_args()
    rates = [175] if args.quick else [140, 175, 210]
    ways = args.ways.split(",")
    with ProcessPoolExecutor(2) as pool:  # one way per core
        n = len(ways)
        conditions = () if args.no_commands else tuple(CONDITIONS)
        done = list(pool.map(evaluate, ways, [rates] * n, [args.article_seconds] * n,
                             [args.rate] * n, [tuple(args.article_voices.split(","))] * n,
                             [args.article_room] * n, [conditions] * n))
    result: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "rate": args.rate,
                              **dict(zip(ways, done, strict=True)),
                              "dereverb_cpu_share": {str(r): dereverb_cost(r)
                                                     for r in (16000, 44100, 48000)}}
    out = ROOT / "benchmarks" / "results" / args.out
    out.write_text(json.dumps(result, indent=1) + "\n")
    print("| condition | " + " | ".join(f"{w}: right, latency median / p95" for w in ways) + " |")
    print("|---" * (len(ways) + 1) + "|")
    for condition in conditions:
        cells = []
        for way in done:
            c = way["conditions"][condition]
            cells.append(f"{c['right']}/{c['trials']}, {c['latency_ms_median']:.0f} / "
                         f"{c['latency_ms_p95']:.0f} ms")
        print(f"| {condition} | " + " | ".join(cells) + " |")
    for name, way in zip(ways, done, strict=True):
        cpu = way["cpu_share_of_one_core"]
        print(f"{name}: CPU {cpu or 0:.1%} while commands; false on "
              f"coach lines {way['false_on_coach_lines']}, on {way['article_minutes']:.1f} min "
              f"of the article ({way['article_room']}) {way['false_on_article']}", file=sys.stderr)
    print(f"suppressor alone: {result['dereverb_cpu_share']}", file=sys.stderr)


if __name__ == "__main__":
    main()

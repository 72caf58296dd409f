"""How long pocketsphinx takes to close an utterance of talk without a break (a TV).

A live run-through (2026-12-07) with a TV talking in the room, 20 dB under the person, found
the listener 3.9-8.8 s behind the microphone on an idle machine. A TV that talks on keeps one
utterance open, and the call that closes it runs the decoder's second pass over all of it. This
measures that call for utterances of TV talk (espeak-ng's en-gb-x-rp reading news) of growing
length, beside the decoding of the talk itself (the first pass, chunk by chunk, as the listener
feeds it).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_longtalk.py [--out F]

Writes benchmarks/results/longtalk.json (about a minute).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from audio_check import speech  # noqa: E402

from voicecoach.phrases import load_phrases  # noqa: E402
from voicecoach.sphinx_recognizer import SphinxRecognizer  # noqa: E402

RATE = 16000
TV = ("And now the weather for the weekend. Clouds build from the west on Saturday, with rain "
      "by the evening and a fresh wind along the coast. Sunday starts cold and bright. ")
LENGTHS = (5.0, 10.0, 15.0, 20.0, 30.0, 45.0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="longtalk.json")
    args = p.parse_args()
    table = load_phrases("en")
    x = speech(TV * 6, voice="en-gb-x-rp", wpm=175, rate=RATE)
    pcm = (np.clip(x, -1, 1) * 32767 * 0.3).astype(np.int16).tobytes()
    step, silence = 2 * int(RATE * 0.03), b"\0\0" * int(RATE * 0.03)
    rows = []
    for seconds in LENGTHS:
        rec = SphinxRecognizer(RATE, table, tuple(table.answers))
        worst, start = 0.0, time.perf_counter()
        for i in range(0, min(len(pcm), 2 * int(seconds * RATE)), step):
            t = time.perf_counter()
            hearing = rec.accept(pcm[i : i + step])
            worst = max(worst, time.perf_counter() - t)
            if hearing.final:  # the talk must stay one utterance, as a TV's does
                raise SystemExit(f"the utterance ended by itself at {i / 2 / RATE:.1f} s")
        first = time.perf_counter() - start
        closing, words = 0.0, 0
        for _ in range(200):
            t = time.perf_counter()
            hearing = rec.accept(silence)
            closing = max(closing, time.perf_counter() - t)
            if hearing.final:
                words = len(hearing.words)
                break
        rec.close()
        rows.append({"talk_s": seconds, "first_pass_s": round(first, 3),
                     "worst_chunk_s": round(worst, 4), "closing_call_s": round(closing, 3),
                     "words": words})
        print(f"{seconds:4.0f} s of talk: decoded in {first:5.2f} s (worst chunk "
              f"{1000 * worst:4.1f} ms); the closing call {closing:5.2f} s ({words} words)")
    out = Path(__file__).resolve().parent / "results" / args.out
    out.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

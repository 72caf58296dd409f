"""How long pocketsphinx takes to close an utterance of talk without a break (a TV).

A live run-through (2026-12-07) with a TV talking in the room, 20 dB under the person, found
the listener 3.9-8.8 s behind the microphone on an idle machine. A TV that talks on keeps one
utterance open, and the call that closes it runs the decoder's second pass over all of it. This
measures that call for utterances of TV talk (espeak-ng's en-gb-x-rp reading news) of growing
length, ours (an utterance of talk ended at its first pause between words after `TALK_MAX`
seconds, at `TALK_HARD` whatever it holds) beside the naive way (one utterance for as long as
the talk goes on), the worst single call of each: a chunk's (an utterance ended for its length
is closed within one) or the closing one, and how many utterances the talk made.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_longtalk.py [--out F]

Writes benchmarks/results/longtalk.json (about two minutes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from audio_check import TV_NEWS, speech  # noqa: E402

from voicecoach import sphinx_recognizer  # noqa: E402
from voicecoach.phrases import PhraseTable, load_phrases  # noqa: E402
from voicecoach.sphinx_recognizer import SphinxRecognizer  # noqa: E402

RATE = 16000
LENGTHS = (5.0, 10.0, 15.0, 20.0, 30.0, 45.0)


def run(pcm: bytes, seconds: float, table: PhraseTable) -> dict[str, float]:
    """Feed `seconds` of `pcm` in 30 ms chunks, then silence until the utterance closes: the
    time it took, the worst chunk, and the closing call."""
    rec = SphinxRecognizer(RATE, table, tuple(table.answers))
    step, silence = 2 * int(RATE * 0.03), b"\0\0" * int(RATE * 0.03)
    worst, start, ended = 0.0, time.perf_counter(), 0
    for i in range(0, min(len(pcm), 2 * int(seconds * RATE)), step):
        t = time.perf_counter()
        ended += rec.accept(pcm[i : i + step]).final
        worst = max(worst, time.perf_counter() - t)
    first = time.perf_counter() - start
    closing = 0.0
    for _ in range(200):
        t = time.perf_counter()
        hearing = rec.accept(silence)
        closing = max(closing, time.perf_counter() - t)
        if hearing.final:
            break
    rec.close()
    return {"decoding_s": round(first, 3), "worst_chunk_s": round(worst, 3),
            "closing_call_s": round(closing, 3), "utterances": ended + 1}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="longtalk.json")
    args = p.parse_args()
    table = load_phrases("en")
    x = speech(TV_NEWS * 6, voice="en-gb-x-rp", wpm=175, rate=RATE)
    pcm = (np.clip(x, -1, 1) * 32767 * 0.3).astype(np.int16).tobytes()
    rows = []
    ours = sphinx_recognizer.TALK_MAX, sphinx_recognizer.TALK_HARD
    print("| talk | ours: worst call (chunk / closing), utterances | one utterance: worst call "
          "(chunk / closing) |\n|---|---|---|")
    for seconds in LENGTHS:
        sphinx_recognizer.TALK_MAX = sphinx_recognizer.TALK_HARD = float("inf")
        b = run(pcm, seconds, table)
        sphinx_recognizer.TALK_MAX, sphinx_recognizer.TALK_HARD = ours
        a = run(pcm, seconds, table)
        rows.append({"talk_s": seconds, "ours": a, "one_utterance": b})
        print(f"| {seconds:.0f} s | {a['worst_chunk_s']:.2f} / {a['closing_call_s']:.2f} s, "
              f"{a['utterances']} "
              f"| {b['worst_chunk_s']:.2f} / {b['closing_call_s']:.2f} s |")
    out = Path(__file__).resolve().parent / "results" / args.out
    out.write_text(json.dumps({"talk_max_s": ours[0], "talk_hard_s": ours[1], "rows": rows},
                              indent=1) + "\n")
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

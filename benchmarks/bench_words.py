"""False commands on words said on their own: ours against the naive loop.

    .venv/bin/python benchmarks/bench_words.py [--voices V,V] [--out NAME.json]

A person mid-exercise says things that are not meant for the coach: "okay", "ouch", "ready",
"one more". Said on its own, such a word has silence on both sides, just like a command, so
the spotter's isolation rule cannot turn it down, and a command-restricted recognizer tends to
hear the nearest command in it. bench_unrelated.py measures running speech (the article read
aloud); this measures single words and short phrases: everyday interjections, and the 150
commonest English words by the unigram counts of pocketsphinx's own English language model
(not chosen for sounding like a command), each said alone in 4 espeak-ng voices at 175 wpm,
clean and in bench_listen's 10 dB noise, with the session running (as in use). Each way has
a pocketsphinx listener of its own that has first heard the coach's welcome. Prints a table
and the words that fired, and writes benchmarks/results/words.json (or --out).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from audio_check import speech  # noqa: E402
from bench_listen import RATE, WELCOME, run, with_noise  # noqa: E402

#: Things a person says to themselves (or to someone else) during a session.
SAID = """okay|ouch|ow|yes|no|right|alright|good|fine|ready|done|hmm|sorry|thanks|thank you|
hello|what|where|why|really|nice|great|easy|tight|sore|better|worse|one more|almost|oh no|
that hurts a bit|not bad|come in|hang on a sec|just a minute|where was I|I can't|so tired|
it's fine|got it|my knee|my leg|the phone|lunch|coffee|later|tomorrow|twenty|twelve"""


def common_words(n: int, exclude: set[str]) -> list[str]:
    """The `n` commonest English words by pocketsphinx's English unigram model (in its wheel),
    left out: `exclude` and what is not a plain word."""
    import pocketsphinx

    model = pocketsphinx.get_model_path("en-us")
    lm = pocketsphinx.NGramModel(pocketsphinx.Config(), pocketsphinx.LogMath(),
                                 f"{model}/en-us.lm.bin")
    with open(f"{model}/cmudict-en-us.dict") as f:
        words = {line.split()[0].split("(")[0] for line in f if line.strip()}
    words = {w for w in words if w.isalpha() and (len(w) > 1 or w in ("a", "i"))} - exclude
    ranked = sorted(words, key=lambda w: -lm.prob([w]))
    return ranked[:n]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--voices", default="en-us,en-us+f2,en-us+m3,en-us+klatt")
    ap.add_argument("--common", type=int, default=150, help="how many of the commonest words")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="words.json")
    args = ap.parse_args()
    from voicecoach.phrases import load_phrases
    from voicecoach.sphinx_recognizer import SphinxRecognizer

    table = load_phrases("en")
    command_words = {w for p in table.commands for w in p.split()}
    said = [s.strip() for s in SAID.replace("\n", "").split("|")]
    items = [("said", s) for s in said] + [
        ("common", w) for w in common_words(args.common, command_words | set(said))]
    voices = args.voices.split(",")
    pad0, pad1 = np.zeros(RATE // 2), np.zeros(RATE)
    rng = np.random.default_rng(args.seed)
    trials = []  # (kind, text, voice, noise, audio): both ways hear the same
    for snr in (None, 10.0):
        for voice in voices:
            for kind, text in items:
                x = speech(text, voice, 175, RATE)
                audio = with_noise(np.concatenate([pad0, x, pad1]), snr, rng)
                trials.append((kind, text, voice, "clean" if snr is None else "10 dB", audio))
    welcome = np.concatenate([pad0, speech(WELCOME, voices[0], 175, RATE), pad1])
    result: dict[str, Any] = {"trials": len(trials), "said": len(said),
                              "common": len(items) - len(said), "voices": voices}
    for way in ("ours", "naive"):
        rec = SphinxRecognizer(RATE, table, tuple(table.answers))
        naive = way == "naive"
        if naive:
            rec.doze = None  # the naive way's decoder hears everything
            rec.cut = False  # and its utterances end by the endpointer alone
        run(rec, table, welcome, False)
        fired: list[str] = []
        by: dict[str, collections.Counter[str]] = {"said": collections.Counter(),
                                                   "common": collections.Counter()}
        for kind, text, voice, noise, audio in trials:
            # The session is running: "resume" means nothing then, as in use.
            got = [c for c, _ in run(rec, table, audio, naive, paused=False)]
            for c in got:
                by[kind][c] += 1
                fired.append(f"{text!r} ({voice}, {noise}) -> {c}")
        said_trials = sum(1 for t in trials if t[0] == "said")
        result[way] = {
            "fired": len(fired),
            "fired_share": len(fired) / len(trials),
            "said_fired": by["said"].total(), "said_trials": said_trials,
            "common_fired": by["common"].total(), "common_trials": len(trials) - said_trials,
            "by_command": dict(by["said"] + by["common"]),
            "list": fired,
        }
        print(f"{way}: {len(fired)} of {len(trials)} fired", file=sys.stderr)
    print("| way | fired, everyday words and phrases | fired, commonest words | by command |")
    print("|---|---|---|---|")
    for way in ("ours", "naive"):
        m = result[way]
        commands = sorted(m["by_command"].items(), key=lambda kv: -kv[1])
        print(f"| {way} | {m['said_fired']} of {m['said_trials']} | {m['common_fired']} of "
              f"{m['common_trials']} | {', '.join(f'{k} {v}' for k, v in commands)} |")
    out = ROOT / "benchmarks" / "results" / Path(args.out).name
    out.write_text(json.dumps(result, indent=1))
    print(f"written: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

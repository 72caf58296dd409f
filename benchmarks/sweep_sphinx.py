"""pocketsphinx decoder settings against the command set: which ones recognize more commands?

    .venv/bin/python benchmarks/sweep_sphinx.py [--seed N] '{}' '{"lw": 8.0}' '{"wip": 0.2}' ...

Each argument is a JSON object of extra `pocketsphinx.Decoder` settings, laid over the ones
the coach uses (voicecoach/sphinx_decoder.py), and optionally "variants": extra
pronunciations laid over sphinx_words.VARIANTS ('{"variants": {"back": ["W AE K"]}}'), and
"weights": commands' weights in the language model laid over sphinx_lm.COMMAND_WEIGHTS
('{"weights": {"back": 60}}'), and
"doze": false (the decoder hears the quiet too; doze.py), and "modules": module constants to set
('{"modules": {"voicecoach.dereverb": {"NOISE": 0}}}'); '{}' is the coach
as shipped. Each runs in a
child process, two at a time, on 4 espeak-ng voices x 22 phrases, clean and in 10 dB low-passed
noise (bench_listen's noise, drawn from seed N, default 1), through the coach's spotter. One
line per setting: right of 88 clean, right of 88 in noise, and the misses. Results of
2026-12-01 are in benchmarks/results/sphinx-sweep.txt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
VOICES = ("en-us", "en-us+f2", "en-us+m3", "en-us+klatt")


def trial(setting: dict[str, object], seed: int = 1) -> str:
    """The command set heard with `setting` (decoder settings, and "variants": extra
    pronunciations, word -> list of phones); one line of results."""
    import numpy as np
    import pocketsphinx

    sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]
    base = pocketsphinx.Decoder
    extra = {k: v for k, v in setting.items()
             if k not in ("variants", "doze", "modules", "weights")}
    # "modules": constants of the coach's modules, set before anything is built
    # ('{"modules": {"voicecoach.dereverb": {"NOISE": 0}}}').
    import importlib

    modules: dict[str, dict[str, object]] = setting.get("modules", {})  # type: ignore[assignment]
    for name, values in modules.items():
        module = importlib.import_module(name)
        for key, value in values.items():
            setattr(module, key, value)
    variants: dict[str, list[str]] = setting.get("variants", {})  # type: ignore[assignment]

    class Decoder(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **{**kwargs, **extra})

    pocketsphinx.Decoder = Decoder  # read by SphinxRecognizer when it is built
    from voicecoach import sphinx_recognizer, sphinx_words

    # "variants" is no decoder setting: extra pronunciations, laid over VARIANTS.
    sphinx_words.VARIANTS = {**sphinx_words.VARIANTS, **variants}
    sphinx_recognizer.DOZE = bool(setting.get("doze", True))
    from voicecoach.commands import Command

    weights: dict[str, int] = setting.get("weights", {})  # type: ignore[assignment]
    sphinx_recognizer.COMMAND_WEIGHTS = {
        **sphinx_recognizer.COMMAND_WEIGHTS, **{Command(k): v for k, v in weights.items()}}
    from audio_check import speech
    from bench_listen import RATE, WELCOME, run, with_noise

    from voicecoach.phrases import load_phrases
    from voicecoach.sphinx_recognizer import SphinxRecognizer

    table = load_phrases("en")
    # Built as the coach builds it: the answer words are in its vocabulary too.
    rec = SphinxRecognizer(RATE, table, tuple(table.answers))
    rng = np.random.default_rng(seed)
    pad0, pad1 = np.zeros(RATE // 2), np.zeros(RATE)
    # As in a session (and bench_listen): the coach's welcome first, so that the first command
    # does not meet a cold channel mean (it made the first, clean "next" a miss in every line).
    run(rec, table, np.concatenate([pad0, speech(WELCOME, VOICES[0], 175, RATE), pad1]), False)
    right: dict[str, int] = {}
    misses = []
    # The recognizer's CPU: timed around the feeding alone (not the synthesis or the noise).
    cpu, heard = 0.0, 0.0
    for snr in (None, 10.0):
        key = "clean" if snr is None else "10 dB"
        right[key] = 0
        for voice in VOICES:
            for phrase, command in table.commands.items():
                x = speech(phrase, voice, 175, RATE)
                audio = with_noise(np.concatenate([pad0, x, pad1]), snr, rng)
                audio += rng.normal(0, 30, len(audio))
                t = time.process_time()
                fired = [c for c, _ in run(rec, table, audio, False)]
                cpu, heard = cpu + time.process_time() - t, heard + len(audio) / RATE
                if fired == [command.value]:
                    right[key] += 1
                else:
                    misses.append(f"{phrase!r} {voice} {key} -> {fired}")
    n = len(VOICES) * len(table.commands)
    return (f"{json.dumps(setting)}: clean {right['clean']}/{n}, 10 dB {right['10 dB']}/{n}, "
            f"CPU {cpu / heard:.1%}; "
            f"missed: {'; '.join(misses)}")


def main() -> None:
    args = sys.argv[1:]
    seed = 1
    if args[:1] == ["--seed"] and len(args) > 1:
        seed, args = int(args[1]), args[2:]
    if args[:1] == ["--child"] and len(args) == 2:
        print(trial(json.loads(args[1]), seed))
        return

    def child(setting: str) -> str:
        done = subprocess.run([sys.executable, __file__, "--seed", str(seed), "--child", setting],
                              text=True, capture_output=True,
                              env={**os.environ, "PYTHONPATH": str(HERE.parent)})
        lines = (done.stdout or done.stderr).strip().splitlines()
        return f"seed {seed} " + (lines[-1] if lines else f"{setting}: no output")

    with ThreadPoolExecutor(2) as pool:
        for line in pool.map(child, args or ["{}"]):
            print(line, flush=True)


if __name__ == "__main__":
    main()

"""What both pocketsphinx searches share: the decoder on its bundled English model, and a gain.

The command recognizer (sphinx_recognizer.py) and the keyword search over the coach's speech
(sphinx_keywords.py) hear through the same decoder settings (english_decoder, each one with
why), each knowing only the words its searches name, and the same gain control (Leveller).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from typing import Any

from voicecoach.recognizer import RecognizerError

#: Input peak (int16) the gain control aims at, its largest gain and per-chunk peak decay.
TARGET_PEAK = 3500.0
#: Assume a loud microphone until heard otherwise: attenuating a quiet one costs less.
LOUD_PEAK = 16000.0
MAX_GAIN = 4.0
RELEASE = 0.9995
#: Standard deviation (int16) of the noise floor added under the input.
NOISE_FLOOR = 30.0

#: pocketsphinx's frequency warp (its `warp_params`, "inverse_linear"): see english_decoder.
WARP = "0.9"

#: Counts decoders built, to spell each one's warp differently (warp_spelling).
_BUILT = itertools.count()


def warp_spelling(n: int) -> str:
    """WARP spelt the `n`th way ("0.9", "0.90", "0.900", ...: the same number). pocketsphinx
    keeps the warp in process-wide variables: a decoder built with no warp (any other code's
    plain Decoder) switches it off there, and one built after it with the same text as the
    last is skipped as unchanged, so it heard unwarped (a test helper's decoder did this to
    the tests after it, tests/test_listen_audio.py). A text that differs is always read."""
    # A point first, if the text has none ("1"): zeros added after it keep the number.
    return (WARP if "." in WARP else WARP + ".") + "0" * (n % 64)


def english_decoder(rate: int, words: set[str]) -> Any:
    """A pocketsphinx Decoder on its bundled English model at `rate`, knowing only `words` and
    with no language model yet (the caller adds its searches); RecognizerError when
    pocketsphinx is missing or will not start."""
    try:
        from pocketsphinx import Decoder, get_model_path
    except ImportError as e:
        raise RecognizerError(
            f"pocketsphinx is not installed ({e})", "run scripts/setup to install it"
        ) from e
    model = get_model_path("en-us")
    # Only the words the searches can name: all of cmudict held 23 MB more for nothing (and
    # the listener's goal is 150 MB).
    dict_path = small_dictionary(f"{model}/cmudict-en-us.dict", words)
    try:
        return Decoder(
            hmm=f"{model}/en-us",
            dict=dict_path,
            samprate=float(rate),
            # No default (large) language model: ours replaces it, and it costs 40 MB.
            lm=None,
            # No dither of pocketsphinx's own: it draws from one random generator for the whole
            # process, so what one decoder heard depended on what every other decoder in the
            # process had heard since (the keyword search beside the command recognizer, a
            # test's leftover listener): the same audio fed to a fresh recognizer, once
            # alone and once with another decoder working between its chunks, gave different
            # words. The Leveller's noise floor, drawn per recognizer, does the dither's job:
            # digital silence (a muted or virtual device) wrecks the noise and mean estimates.
            dither=False,
            # Gaussians scored per frame: 8 instead of 4 recognized 3 more of the bench's
            # 88 commands (most in 10 dB noise) for about 15% more CPU (still < 15%); 16
            # instead of 8, 12 more of 528 (benchmarks/sweep_sphinx.py, 3 seeds).
            topn=16,
            # Every frequency read 1/0.9 times higher (vocal tract length normalisation, one
            # factor for everyone): 513 of 528 American commands right against 500, 901 of
            # 1056 in other accents against 880, lone words firing 181 of 1592 against 184
            # (2026-12-06; 0.95 and 0.85 in docs/measurements.md).
            warp_type="inverse_linear",
            # The flat-lexicon second pass (`fwdflat`) stays, though closing an utterance runs
            # it over all of it (sphinx_recognizer.TALK_MAX bounds that): without it 511 of 528
            # American commands were right against 513, and 884 of 1056 in other accents
            # against 907, for a third less CPU (2026-12-07, docs/measurements.md).
            warp_params=warp_spelling(next(_BUILT)),
            loglevel="FATAL",
        )
    except (RuntimeError, ValueError) as e:
        raise RecognizerError(f"pocketsphinx did not start: {e}") from e
    finally:
        os.unlink(dict_path)


def small_dictionary(path: str, words: set[str]) -> str:
    """A temporary file with the lines of the pronouncing dictionary at `path` for `words`
    (alternative pronunciations too); the caller deletes it."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.split(" ", 1)[0].split("(", 1)[0] in words:
                out.append(line if line.endswith("\n") else line + "\n")
    fd, small = tempfile.mkstemp(prefix="voicecoach-", suffix=".dict")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.writelines(out)
    return small


class Leveller:
    """Automatic gain: pocketsphinx's model misreads loud input ("pause" at full scale), so
    loud peaks are brought down to `target`: instant attack, slow release."""

    def __init__(self, target: float = TARGET_PEAK) -> None:
        import numpy as np

        self._target = target
        self._peak = LOUD_PEAK
        # Its own generator, from a fixed seed: the same audio is heard the same way every
        # run, whatever other decoders in the process hear (english_decoder: no dither).
        self._rng = np.random.default_rng(0)

    def level(self, pcm: bytes) -> bytes:
        """`pcm` (16-bit mono) at the gain the peaks so far call for."""
        import numpy as np

        x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
        if x.size == 0:
            return pcm
        peak = float(np.max(np.abs(x)))
        self._peak = max(peak, self._peak * RELEASE, self._target / MAX_GAIN)
        gain = self._target / self._peak
        # A floor of faint noise, like any real room: over digitally clean silence the
        # model's noise removal misreads words (measured: "pause" became "hold").
        x = x * gain + self._rng.normal(0.0, NOISE_FLOOR, x.size)
        return bytes(np.clip(x, -32768, 32767).astype(np.int16).tobytes())

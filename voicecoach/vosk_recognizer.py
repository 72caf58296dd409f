"""vosk adapter, the primary recognizer: a kaldi model restricted to the command phrases."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from voicecoach.doze import Doze
from voicecoach.phrases import PhraseTable
from voicecoach.recognizer import (
    Hearing,
    QuietMeter,
    RecognizerError,
    model_vocabulary,
    to_words,
    unknown_symbol,
)

#: Input frames (10 ms each) the acoustic model evaluates at a time. Kaldi's default (20,
#: rounded up to 21) updates the partial result only every 210-240 ms. Measured with the
#: Korean model (benchmarks/bench_listen.py, 198 commands): 21 frames 48.0 % right at 198 /
#: 511 ms (median / p95), CPU 3.6 %; 12 frames 49.5 % at 171 / 443 ms, 4.5 %; 9 frames 52.0 %
#: at 147 / 438 ms, 6.0 %, though 5 false commands on the article read in a Korean voice
#: against 3 (34.1 and 20.5 an hour: that model forces English onto Korean words either way).
FRAMES_PER_CHUNK = 9

#: What to do about a model that is missing or damaged.
_REFETCH = "fetch it again (voicecoach model download) or point --model at a whole model"


def model_label(model_dir: str | Path) -> str:
    """A model's name for messages: its folder, or the package around a folder called "model"."""
    path = Path(model_dir).resolve()
    return path.parent.name if path.name == "model" else path.name


class VoskRecognizer:
    """vosk with a grammar of the phrases plus the model's unknown word, on a live stream.

    The grammar keeps speech that is not a command as "[unk]" instead of forcing it onto the
    nearest phrase. Word timings are off on purpose: in vosk 0.3.45 `SetPartialWords` leaves
    partial results empty when a grammar is set, and partials are what makes it fast.
    """

    #: Seconds a phrase must hold in the partial result (spotter.settings_for). vosk's partial
    #: results change less often than pocketsphinx's, so the spotter's 0.15 s waited for the
    #: next one: on the Korean model 239 / 618 ms against 147 / 438 ms with 0.06 s, and 50.5 %
    #: right against 52.0 % (bench_listen.py).
    spot_hold = 0.06

    def __init__(
        self, model_dir: str | Path, rate: int, table: PhraseTable, sections: tuple[str, ...] = (),
        doze: bool = False,
    ) -> None:
        try:
            import vosk
        except ImportError as e:
            raise RecognizerError(f"vosk is not installed ({e})", "run scripts/setup") from e
        root = Path(model_dir)
        if not root.is_dir():
            raise RecognizerError(f"the vosk model folder {root} does not exist", _REFETCH)
        if not (root / "am").is_dir() and not (root / "conf").is_dir():
            raise RecognizerError(
                f"{root} is not a vosk model folder (no am/ or conf/ inside)",
                "point --model at the folder that holds am/, conf/ and graph/",
            )
        vosk.SetLogLevel(-1)
        vocabulary = model_vocabulary(root)
        self.vocabulary_checked = vocabulary is not None
        self.missing = tuple(
            w for w in table.words(sections) if vocabulary is not None and w not in vocabulary
        )
        phrases = [
            p for p in table.phrases(sections) if not any(w in self.missing for w in p.split())
        ]
        if not phrases:
            raise RecognizerError(
                f"the model {model_label(root)} knows none of the {table.name} phrases",
                f"use a {table.name} model, e.g. {table.vosk_model}",
            )
        self._unk = unknown_symbol(vocabulary)
        self.rate = rate
        self.name = f"vosk ({model_label(root)})"
        self._words = set(table.words(sections))
        self._grammar = json.dumps([*phrases, self._unk], ensure_ascii=False)
        from voicecoach.model_probe import probe

        # kaldi may crash the process on a damaged model: try it in a child process first.
        problem = probe(root, rate, self._grammar)
        if problem is not None:
            raise RecognizerError(f"the vosk model {root} is damaged or incomplete: {problem}",
                                  _REFETCH)
        shadow = _with_chunk(root, FRAMES_PER_CHUNK)
        try:
            self._model: Any = vosk.Model(str(shadow or root))
            self._rec: Any = vosk.KaldiRecognizer(self._model, float(rate), self._grammar)
        except Exception as e:  # vosk raises a bare Exception when kaldi refuses the files
            raise RecognizerError(f"vosk could not load {root}: {e}", _REFETCH) from e
        finally:
            if shadow is not None:  # kaldi has read every file by now
                shutil.rmtree(shadow, ignore_errors=True)
        self._utterance = 0
        self._samples = 0
        # With `doze`, the decoder sleeps through quiet (doze.py) once vosk has nothing in hand
        # (an empty partial result). Off by default: with the Korean model (bench_listen.py,
        # 198 commands) it got 46.5 % right against 52.0 % and fired on 4 of 8 coach lines
        # against 1 (vosk adapts to the speaker across utterances, on what it hears), and no
        # English vosk model can be checked here. None: it hears everything.
        self.doze = Doze(rate) if doze else None
        self._quiet = QuietMeter(rate)
        self._in_hand = False
        self._slept = False

    def accept(self, pcm: bytes) -> Hearing:
        self._samples += len(pcm) // 2
        end = self._samples / self.rate
        if self.doze is not None:
            heard = self.doze.frames(pcm, self._quiet.feed(pcm), self._in_hand)
            if not heard:
                if not self._slept:  # fell asleep: start afresh on waking
                    self._rec.Reset()
                    self._slept = True
                    self._utterance += 1
                return Hearing((), False, self._utterance, end)
            self._slept = False
            pcm = b"".join(heard)  # on waking, the run-up first
        if self._rec.AcceptWaveform(pcm):
            text = json.loads(self._rec.Result()).get("text", "")
            hearing = Hearing(self._to_words(text), True, self._utterance, end)
            self._utterance += 1
            self._in_hand = False
            return hearing
        text = json.loads(self._rec.PartialResult()).get("partial", "")
        self._in_hand = bool(text.strip())
        return Hearing(self._to_words(text), False, self._utterance, end)

    def _to_words(self, text: str) -> tuple[str, ...]:
        return to_words(text.replace(self._unk, " [unk] "), self._words)

    def expect(self, section: str | None) -> None:
        # The grammar holds every answer section already; a new grammar would mean a new
        # KaldiRecognizer (PyPI's vosk 0.3.45 cannot swap it in place).
        return None

    def paused(self, paused: bool | None) -> None:
        # Every command stays in the grammar, for the same reason.
        return None

    def reset(self) -> None:
        self._rec.Reset()
        self._utterance += 1
        self._in_hand = self._slept = False
        if self.doze is not None:
            self.doze.reset()

    def close(self) -> None:
        self._rec = None
        self._model = None


def _with_chunk(root: Path, frames: int) -> Path | None:
    """A temporary copy of the model folder, made of links, whose conf/model.conf also sets
    the chunk size; None when the model has no conf/model.conf (an old layout, which vosk
    configures itself) or the copy cannot be made. The model itself is never changed."""
    conf = root / "conf" / "model.conf"
    if not conf.is_file() or not (root / "am").is_dir():
        return None
    try:
        shadow = Path(tempfile.mkdtemp(prefix="voicecoach-model-"))
    except OSError:
        return None
    try:
        for entry in root.iterdir():
            if entry.name != "conf":
                (shadow / entry.name).symlink_to(entry.resolve())
        (shadow / "conf").mkdir()
        for entry in (root / "conf").iterdir():
            if entry.name != "model.conf":
                (shadow / "conf" / entry.name).symlink_to(entry.resolve())
        # Kaldi reads options in order: a later line wins over the model's own.
        text = conf.read_text(encoding="utf-8", errors="replace").rstrip("\n")
        (shadow / "conf" / "model.conf").write_text(f"{text}\n--frames-per-chunk={frames}\n")
    except OSError:
        shutil.rmtree(shadow, ignore_errors=True)
        return None
    return shadow

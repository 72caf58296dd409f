"""What listening is set up from: the person's choices, the recognizer, the keyword search."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voicecoach.models import find_model, manual_hint
from voicecoach.phrases import PhraseTable
from voicecoach.recognizer import KeywordSpotter, Recognizer, RecognizerError


@dataclass(frozen=True)
class ListenSettings:
    """What the person chose about listening (command-line options)."""

    recognizer: str = "auto"
    """"auto", "vosk", "pocketsphinx" or "none"."""
    model: str | None = None
    """vosk model folder (--model); None: $VOICECOACH_MODEL or the first in models/."""
    input_device: str | int | None = None
    """PortAudio input device name or index (--input-device); None: the default."""
    language: str = "en"
    """Phrase table language (data/phrases-<language>.toml)."""
    echo_cancel: bool = False
    """Take the coach's own voice out of the microphone's sound in the process (--echo-cancel;
    off by default: live, it let a pause fire on the coach's own voice about once in ten
    minutes, see echocancel.py)."""


class ListenerUnavailable(Exception):
    """Voice commands cannot run; `reason` says why and `fix` what to do (keys still work)."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(f"{reason}. {fix}".strip())
        self.reason = reason
        self.fix = fix


def make_recognizer(settings: ListenSettings, rate: int, table: PhraseTable) -> Recognizer:
    """The recognizer `settings` asks for (auto: vosk with a model, else pocketsphinx)."""
    choice = settings.recognizer
    if choice == "none":
        raise ListenerUnavailable("voice commands are off (--recognizer none)")
    model = find_model(settings.model, table.language)
    if choice == "vosk" or (choice == "auto" and model is not None):
        if model is None:
            raise ListenerUnavailable(
                "no vosk model found", f"run: voicecoach model download. {manual_hint()}"
            )
        from voicecoach.vosk_recognizer import VoskRecognizer

        # Answer words always in the grammar: a question can expect them at any moment.
        return VoskRecognizer(model, rate, table, tuple(table.answers))
    if choice not in ("auto", "pocketsphinx"):
        raise ListenerUnavailable(f"unknown recognizer {choice!r}", "use vosk|pocketsphinx|none")
    from functools import partial

    from voicecoach.recognizer_process import ProcessError, RecognizerProcess
    from voicecoach.sphinx_recognizer import SphinxRecognizer

    # In a process of its own: pocketsphinx holds the GIL while it decodes, up to a second
    # at the end of a long utterance, and the speaker's callback needs it (see
    # recognizer_process.py).
    build = partial(SphinxRecognizer, rate, table, tuple(table.answers))
    try:
        return RecognizerProcess(build)
    except ProcessError as e:
        # No child to be had (a frozen app has no `python -m`): listening in the process
        # still works; the coach's voice may break up now and then. Said at start-up.
        rec = build()
        rec.name += f", in the listener's process ({e.reason})"
        return rec


def make_keywords(table: PhraseTable, rate: int, words: tuple[str, ...],
                  notice: Callable[[str], None]) -> KeywordSpotter | None:
    """The keyword search for barge-in over the coach's speech (bargein.py), or None: for a
    language pocketsphinx has no model of, or when it will not start (said once)."""
    if not table.pocketsphinx:
        return None
    try:
        from voicecoach.sphinx_keywords import SphinxKeywords

        return SphinxKeywords(rate, words)
    except (RecognizerError, OSError, RuntimeError, ValueError) as e:
        # Its dictionary is a temporary file, and pocketsphinx raises plain errors too: none
        # may take voice commands (or the session) with it.
        reason = e.reason if isinstance(e, RecognizerError) else f"{type(e).__name__}: {e}"
        notice(f"no keyword search for interrupting the coach ({reason}); "
               "say \"pause\" between its sentences")
        return None

"""The language models pocketsphinx searches: commands per session state, answers per question."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from voicecoach.commands import Command
from voicecoach.recognizer import RecognizerError

#: How many fillers (sphinx_words.FILLERS) go into the language model (measured: see
#: benchmarks/bench_listen.py).
DEFAULT_FILLERS = 20
#: How much likelier a command phrase is than one filler word.
PHRASE_WEIGHT = 30
#: ...except for these commands. "repeat" and "help" do no harm when missed once (the person
#: says them again) but fired on everyday words said alone ("ready", "pretty" heard as
#: "repeat"): at 5 instead of 30, 151 of 1592 such words fired a command instead of 200, and
#: the same commands were right (495 of 528 against 494); at 2-3, 142-145 words, 494 right,
#: and the lost weight went to "stop". Lowering "back" and "pain" too lost 3 noisy commands
#: (probe of 2026-12-05; benchmarks/bench_words.py and bench_listen.py measure the result).
COMMAND_WEIGHTS: dict[Command, int] = {Command.REPEAT: 5, Command.HELP: 5}
#: How much likelier the expected answers are than a command while a question waits
#: (measured on spoken numbers and yes/no, 4 voices, clean: 43 of 52 right without, 46
#: with 3, 48 with 10 to 100).
ANSWER_BOOST = 10
#: The language model of commands for each state of the session (SphinxRecognizer.paused), and
#: the command it leaves out as meaningless then. While paused every command stays in: the
#: switch back to "commands-running" waits for a gap between words, and "pause" must never be
#: missing while the session runs (the spotter ignores it while paused anyway).
COMMAND_SEARCHES = {"commands": None, "commands-running": Command.RESUME}


def add_lm(decoder: Any, name: str, lines: list[str]) -> None:
    """Build an n-gram language model from `lines` and add it to `decoder` as `name`."""
    try:
        from pocketsphinx.lm import ArpaBoLM
    except ImportError as e:  # an old pocketsphinx without its language-model builder
        raise RecognizerError(
            f"pocketsphinx cannot build language models ({e})", "run scripts/setup"
        ) from e
    lm = ArpaBoLM(text="\n".join(lines) + "\n", add_start=True)
    lm.compute()
    fd, path = tempfile.mkstemp(prefix="voicecoach-", suffix=".arpa")
    os.close(fd)
    try:
        lm.write_file(path)
        decoder.add_lm_file(name, path)
    finally:
        os.unlink(path)

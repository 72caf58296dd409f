"""`voicecoach voices | doctor | model | check | history | today`: each lives in its own module."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import NoReturn


class SubcommandParser(argparse.ArgumentParser):
    """A subcommand's options: a mistake is one line naming the subcommand's help, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _voices(argv: list[str]) -> int:
    from voicecoach.tts import list_voices

    # No options, but --help; anything else was ignored (exit 0), unlike every other command.
    SubcommandParser(prog="voicecoach voices",
                     description="List the text-to-speech voices (for --voice).").parse_args(argv)
    try:
        voices = list_voices()
    except Exception as exc:  # noqa: BLE001 - any engine failure is one line for the person
        print(f"voicecoach: cannot list voices: {exc}. To fix: sudo apt-get install "
              "espeak-ng libespeak-ng1", file=sys.stderr)
        return 1
    for vid, name in voices:
        print(f"{vid}\t{name}")
    return 0


def _doctor(argv: list[str]) -> int:
    from voicecoach.doctor import run_doctor

    return run_doctor(argv)


def _model(argv: list[str]) -> int:
    from voicecoach.model_cli import run_model

    return run_model(argv)


def _check(argv: list[str]) -> int:
    from voicecoach.reports import run_check

    return run_check(argv)


def _history(argv: list[str]) -> int:
    from voicecoach.reports import run_history

    return run_history(argv)


def _today(argv: list[str]) -> int:
    from voicecoach.reports import run_today

    return run_today(argv)


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "voices": _voices, "doctor": _doctor, "model": _model, "check": _check,
    "history": _history, "today": _today,
}


def dispatch(name: str, argv: list[str]) -> int:
    try:
        return COMMANDS[name](argv)
    except BrokenPipeError:
        # Piped into `head` and the like: stop quietly, as Unix tools do (and keep Python
        # from complaining when it flushes stdout at exit).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ImportError as exc:
        print(f"voicecoach {name}: not available in this install ({exc})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C at a prompt or mid-download: one line, no traceback; a download's part file
        # stays, and the next run resumes it.
        print(f"\nvoicecoach {name}: stopped", file=sys.stderr)
        return 130

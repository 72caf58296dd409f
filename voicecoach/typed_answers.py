"""Answers to `voicecoach check` at a terminal: single keys as in a session, else typed lines."""

from __future__ import annotations

import contextlib

from voicecoach.answers import Answer, Heard, Wait
from voicecoach.commands import Command, Inbox


def console_answers(stack: contextlib.ExitStack) -> Wait:
    """Single keys at a terminal (as in a session: y or n, no Enter), else lines."""
    from voicecoach.keyboard import Keyboard

    if not Keyboard.available():
        return terminal_answers()
    inbox = Inbox()
    keyboard = Keyboard(inbox)
    keyboard.start()
    stack.callback(keyboard.close)  # the terminal back as it was, whatever happens
    return key_answers(inbox)


def key_answers(inbox: Inbox) -> Wait:
    """Answers as single keys from the Keyboard's inbox. A person at a terminal is there: no
    timeout, as for a typed line. "q" stops, as in a session."""

    def wait(timeout: float) -> Heard | None:
        print("> ", end="", flush=True)
        while True:
            # In short waits, so that Ctrl-C is never stuck behind a blocking get.
            event = inbox.get(0.2)
            if event is None:
                continue
            if event.command is Command.STOP:
                print(event.heard, flush=True)
                raise KeyboardInterrupt
            print(event.heard, flush=True)  # cbreak does not echo: show what was pressed
            return Answer(event.heard, source="key")

    return wait


def terminal_answers() -> Wait:
    """Answers typed at the terminal, one a line (the timeout cannot apply to a typed line).
    For yes/no questions: a number's wait for a second key would block on the next line."""

    def wait(timeout: float) -> Heard | None:
        try:
            line = input("> ")
        except EOFError:
            return None
        return Answer(line, source="key")

    return wait

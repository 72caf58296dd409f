"""Single-key commands from the terminal, read in a background thread without Enter."""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
from typing import Any

from voicecoach.commands import ANSWER_KEYS, KEYS, Command, CommandEvent, Inbox


class Keyboard:
    """Reads keys from a terminal in cbreak mode and puts their commands in the inbox.

    Only used when standard input is a terminal; the terminal is always restored on close,
    including after Ctrl-C (the caller closes it in a finally block).
    """

    def __init__(self, inbox: Inbox, fd: int | None = None) -> None:
        self.inbox = inbox
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._saved: Any = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="keyboard", daemon=True)

    @staticmethod
    def available() -> bool:
        try:
            return sys.stdin is not None and sys.stdin.isatty() and os.name == "posix"
        except (ValueError, OSError):
            return False

    def start(self) -> None:
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if not ready:
                    continue
                ch = os.read(self.fd, 1).decode("utf-8", "replace").lower()
                if ch == "\x1b":
                    self._drain()  # arrow and function keys: ESC [ B must not read as "b"
                    continue
            except (OSError, ValueError):
                # The terminal went away (closed window, or its descriptor closed as the
                # session ended): no more keys, and no traceback from this thread.
                return
            if not ch:
                return
            command = KEYS.get(ch) or (Command.ANSWER if ch in ANSWER_KEYS else None)
            if command is not None:
                self.inbox.put(CommandEvent(command, source="key", heard=ch))

    def _drain(self) -> None:
        while select.select([self.fd], [], [], 0.02)[0]:
            if not os.read(self.fd, 16):
                return

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=0.3)  # out of select() before the terminal may go
        if self._saved is not None:
            import termios

            # The terminal may be gone (its window closed: SIGHUP): nothing to put back then.
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

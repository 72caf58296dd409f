"""Commands, where they come from, and the one inbox they all go through."""

from __future__ import annotations

import enum
import queue
import threading
from dataclasses import dataclass, field


class Command(enum.Enum):
    """Everything a person can ask of a running session."""

    NEXT = "next"
    BACK = "back"
    REPEAT = "repeat"
    PAUSE = "pause"
    RESUME = "resume"
    TOGGLE = "toggle"  # the space bar: pause when running, resume when paused
    STOP = "stop"
    HELP = "help"
    PAIN = "pain"  # "it hurts": stop this exercise and ask about it
    ANSWER = "answer"  # a key or words that only mean something as an answer (y, 7, "yes")


#: Keys that only answer questions (yes/no; pain from 0 to 10, ten as "1" then "0":
#: answers.ask_number); "n" is NEXT and also means no.
ANSWER_KEYS = frozenset("y0123456789")

#: Single keys a person can press while the session runs.
KEYS = {
    " ": Command.TOGGLE,
    "p": Command.PAUSE,
    "c": Command.RESUME,
    "n": Command.NEXT,
    "b": Command.BACK,
    "r": Command.REPEAT,
    "q": Command.STOP,
    "h": Command.HELP,
    "?": Command.HELP,
    "x": Command.PAIN,
}


@dataclass(frozen=True)
class CommandEvent:
    """A command with its origin, as it enters the inbox."""

    command: Command
    """What was asked."""
    source: str = "key"
    """Where it came from: "key", "voice" or "script"."""
    heard: str = ""
    """For voice commands, the words the recognizer heard."""
    at: float | None = None
    """Session time (s) the command was scheduled for (virtual-clock scripts only)."""


@dataclass
class Inbox:
    """A thread-safe queue of commands from every source, plus scripted ones for tests.

    Keyboard and voice threads `put` into it; the session's run loop is its only reader.
    Scripted commands (with `at`) are released by a virtual clock when time reaches them.
    """

    # SimpleQueue: put() is reentrant, so a signal handler may use it safely.
    _queue: queue.SimpleQueue[CommandEvent] = field(default_factory=queue.SimpleQueue)
    _script: list[CommandEvent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, event: CommandEvent) -> None:
        self._queue.put(event)

    def schedule(self, event: CommandEvent) -> None:
        """Queue a command for a virtual-clock time (`event.at`)."""
        with self._lock:
            self._script.append(event)
            self._script.sort(key=lambda e: e.at or 0.0)

    def get(self, timeout: float | None) -> CommandEvent | None:
        """The next live command, waiting at most `timeout` seconds (None: forever)."""
        try:
            if timeout is not None and timeout <= 0:
                return self._queue.get_nowait()
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def next_scripted(self, until: float | None) -> CommandEvent | None:
        """Pop the first scripted command due at or before `until` (None: any)."""
        with self._lock:
            if self._script and (until is None or (self._script[0].at or 0.0) <= until):
                return self._script.pop(0)
        return None

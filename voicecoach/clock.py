"""Clocks: session time in seconds, real (on absolute deadlines) or virtual (instant)."""

from __future__ import annotations

import time
from typing import Protocol

from voicecoach.commands import Command, CommandEvent, Inbox


class Clock(Protocol):
    """Session time and the one way the run loop waits: for a deadline or a command."""

    virtual: bool
    """True when time only moves because the session asks it to."""

    def now(self) -> float:
        """Seconds since the session started (monotonic)."""
        ...

    def wall(self) -> float:
        """Unix time matching `now()`."""
        ...

    def wait(self, inbox: Inbox, deadline: float | None) -> CommandEvent | None:
        """Return the next command that arrives before `deadline`, else None at `deadline`.

        `deadline` is absolute session time, so a late wake-up never pushes later beats back.
        With `deadline` None, wait for a command only.
        """
        ...


class RealClock:
    """Monotonic time, optionally sped up (`--speed`), started at construction."""

    virtual = False

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._t0 = time.monotonic()
        self._wall0 = time.time()

    def now(self) -> float:
        return (time.monotonic() - self._t0) * self.speed

    def wall(self) -> float:
        return self._wall0 + self.now() / self.speed

    def to_monotonic(self, t: float) -> float:
        """The `time.monotonic()` value at which session time reaches `t`."""
        return self._t0 + t / self.speed

    def wait(self, inbox: Inbox, deadline: float | None) -> CommandEvent | None:
        if deadline is None:
            return inbox.get(None)
        while True:
            remaining = (deadline - self.now()) / self.speed
            if remaining <= 0:
                return inbox.get(0)
            event = inbox.get(remaining)
            if event is not None:
                return event
            # queue.get can return a hair early; loop until the deadline is really reached.


class VirtualClock:
    """Time that jumps straight to the next deadline or scripted command: whole sessions in ms."""

    virtual = True

    def __init__(self, start_wall: float | None = None) -> None:
        self._now = 0.0
        self._wall0 = time.time() if start_wall is None else start_wall

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._wall0 + self._now

    def advance(self, t: float) -> None:
        """Move time forward to `t` (never backwards)."""
        self._now = max(self._now, t)

    def wait(self, inbox: Inbox, deadline: float | None) -> CommandEvent | None:
        live = inbox.get(0)
        if live is not None:
            return live
        scripted = inbox.next_scripted(deadline)
        if scripted is not None:
            self.advance(scripted.at or self._now)
            return scripted
        if deadline is None:
            # Nobody is left to resume a paused virtual session: end it rather than hang.
            return CommandEvent(Command.STOP, source="script", heard="end of script")
        self.advance(deadline)
        return None

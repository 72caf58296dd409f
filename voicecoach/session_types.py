"""The session's states and step outcomes, and what it tells and asks outside: view, handlers."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from voicecoach import plan as planning

if TYPE_CHECKING:
    # Only named in the handlers' types: session.py imports this module.
    from voicecoach.session import Session

class State(enum.Enum):
    """Where the run loop is."""

    READY = "ready"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class Outcome(enum.Enum):
    """How a step ended."""

    DONE = "done"
    NEXT = "next"
    BACK = "back"
    RESTART = "restart"
    STOP = "stop"
    PAIN = "pain"


class View(Protocol):
    """What the person sees: the terminal screen, plain caption lines, or nothing."""

    def step(self, plan: planning.Plan, index: int, total: int, anchor: float) -> None: ...
    def cue(self, cue: planning.Cue, at: float) -> None: ...
    def paused(self, paused: bool, at: float, resumed: bool = True) -> None:
        """The session paused, or its pause ended: by a resume, or (`resumed` False) by a
        command that moves on ("next", "it hurts", "stop")."""
    def notice(self, text: str) -> None: ...
    def asking(self, section: str | None) -> None:
        """A question waits for answers of `section` ("yes_no", "numbers"); None: no more."""
    def end(self, summary: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


class NullView:
    """Shows nothing (tests, benchmarks)."""

    def step(self, plan: planning.Plan, index: int, total: int, anchor: float) -> None: ...
    def cue(self, cue: planning.Cue, at: float) -> None: ...
    def paused(self, paused: bool, at: float, resumed: bool = True) -> None: ...
    def notice(self, text: str) -> None: ...
    def asking(self, section: str | None) -> None: ...
    def end(self, summary: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


#: Called on "it hurts": may talk with the person; returns "continue", "skip" or "stop".
PainHandler = Callable[["Session"], str]
#: Called on a spoken "stop", with the session already paused: True to end the session, False
#: to carry on. A misheard word must not end a session (about one word in 160 said on its
#: own is heard as "stop": benchmarks/bench_words.py), so a voice asks first;
#: keys and signals end it at once.
StopHandler = Callable[["Session"], bool]
#: Called after the last step (or a stop), before `session_end` is recorded.
EndHandler = Callable[["Session"], None]
#: Told each time the state changes: True paused, False running, None not running (before the
#: first step, after the last). The listener's, so that a recognizer can leave out the command
#: that means nothing in that state.
StateHandler = Callable[[bool | None], None]

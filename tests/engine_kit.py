"""Builds sessions for the engine tests: virtual clock, caption speaker, scripted commands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from voicecoach.clock import Clock, VirtualClock
from voicecoach.commands import Command, CommandEvent, Inbox
from voicecoach.events import EventLog
from voicecoach.library import Routine, load_builtin
from voicecoach.session import Session
from voicecoach.speaker import CaptionSpeaker


def routine(name: str = "back-of-knee", **dose: Any) -> Routine:
    lib = load_builtin()
    if name in lib.routines:
        rt = lib.find_routine(name)
    else:
        ex = lib.find_exercise(name)
        rt = Routine(ex.id, ex.name, (ex,))
    return replace(rt, exercises=tuple(replace(e, **dose) for e in rt.exercises))


def make(rt: Routine, script: Sequence[tuple[float, Command] | tuple[float, Command, str]] = (),
         clock: Clock | None = None) -> tuple[Session, EventLog]:
    """A session on a virtual clock with captions; `script`: (time, command[, source])."""
    clock = clock or VirtualClock(start_wall=1_700_000_000.0)
    inbox = Inbox()
    for at, cmd, *source in script:
        inbox.schedule(CommandEvent(cmd, source=source[0] if source else "script", at=at))
    log = EventLog(clock.now, clock.wall)
    speaker = CaptionSpeaker(clock.now, report=log.said)
    return Session(rt, clock, speaker, inbox, log), log


def of(events: list[dict[str, Any]], event: str, **match: Any) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == event
            and all(e.get(k) == v for k, v in match.items())]


def states(events: list[dict[str, Any]], change: str) -> list[dict[str, Any]]:
    return of(events, "state", change=change)


def counts_after(events: list[dict[str, Any]], t0: float, t1: float) -> list[dict[str, Any]]:
    return [e for e in of(events, "say", kind="count") if t0 < e["t"] <= t1 + 1e-9]

"""What the history holds, as plain values: sessions, their sets, commands and safety checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class SetRecord:
    """One set as it was done."""

    exercise: str
    """Exercise id ("leg-raise")."""
    side: str
    """"painful", "left" or "right"."""
    level: int | None
    """Progression level (1-based) it was done at; None when the exercise has no levels."""
    set_no: int
    """1-based set number."""
    sets: int
    """Sets prescribed for the exercise."""
    reps: int
    """Reps done (reps exercises); 0 for holds."""
    target_reps: int | None
    """Reps prescribed per set, when known."""
    hold: float
    """Seconds held (hold exercises); 0 for reps."""
    target_hold: float | None
    """Seconds prescribed per hold, when known."""
    skipped: bool
    """True when the person moved on before the set ended."""
    wall: float
    """Unix time the set ended."""

    @property
    def full(self) -> bool:
        """Done as prescribed: not skipped and not short of the target."""
        if self.skipped:
            return False
        if self.target_reps is not None and self.reps < self.target_reps:
            return False
        # Half a second of slack: a hold cut by timer rounding is still a full hold.
        return not (self.target_hold is not None and self.hold < self.target_hold - 0.5)


@dataclass(frozen=True)
class CommandRecord:
    """A command used during a session."""

    name: str
    """Command name ("pause", "next", "pain")."""
    source: str
    """"key", "voice" or "script"."""
    exercise: str | None
    """The exercise running at the time, if any."""
    wall: float
    """Unix time it was given."""


@dataclass(frozen=True)
class PainStop:
    """The person said it hurt during an exercise: stopped there (`skipped`) or carried on."""

    exercise: str | None
    """The exercise during which it hurt."""
    value: int | None
    """How bad, 0-10; None when nobody answered."""
    skipped: bool
    """True when the rest of the exercise was skipped."""
    wall: float
    """Unix time of the report."""


@dataclass(frozen=True)
class SessionRecord:
    """One session, with everything done in it so far."""

    id: int
    """Row id in the database."""
    uid: str
    """Random id chosen when the session started (stable across a pending-file replay)."""
    started: float
    """Unix time the session started."""
    ended: float | None
    """Unix time it ended; None while running or when it was killed."""
    routine: str
    """Routine id ("back-of-knee")."""
    exercises: tuple[str, ...]
    """Exercise ids planned, in order."""
    side: str
    """Leg chosen for the session."""
    level: int | None
    """Level asked for with --level, if any."""
    status: str
    """"running" (or killed), "completed" or "stopped"."""
    pain_before: int | None
    """Knee pain 0-10 before the session; None if not asked or not answered."""
    pain_after: int | None
    """Knee pain 0-10 after the session."""
    pauses: int
    """How many times the session was paused."""
    sets: tuple[SetRecord, ...] = ()
    """Sets done, in order."""
    commands: tuple[CommandRecord, ...] = ()
    """Commands used, in order."""
    pain_stops: tuple[PainStop, ...] = ()
    """Times the person said it hurt during an exercise (`PainStop.skipped`: it stopped there)."""

    @property
    def result(self) -> str:
        """"completed", "stopped" or "unfinished" (no end was recorded)."""
        return "unfinished" if self.status == "running" else self.status

    @property
    def day(self) -> dt.date:
        """Local calendar day the session started."""
        return dt.datetime.fromtimestamp(self.started).date()

    def done(self, exercise: str) -> list[SetRecord]:
        """Sets of `exercise` done in this session."""
        return [s for s in self.sets if s.exercise == exercise]

    def exercise_ids(self) -> list[str]:
        """Exercises with at least one set, in the order first done."""
        return list(dict.fromkeys(s.exercise for s in self.sets))


@dataclass(frozen=True)
class SafetyRecord:
    """A red-flag check as remembered."""

    wall: float
    """Unix time of the check."""
    answers: tuple[tuple[str, bool | None], ...]
    """(question id, answer); None when not asked or not heard."""
    flagged: bool
    """True when any answer was yes."""
    answered: bool
    """False when nobody could answer and the flags were only read out."""

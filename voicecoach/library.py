"""The exercise library: exercises and routines loaded from TOML, checked, with clear errors."""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - older Pythons (Raspberry Pi OS bullseye)
    import tomli as tomllib

FORMAT = 1
BUILTIN = "back-of-knee.toml"
SIDES = ("painful", "left", "right", "both")
#: The fields an exercise's `defaults` may name: its dose and how often a day (per_day stands
#: for per_day_min and per_day_max too).
DEFAULTABLE = ("sets", "reps", "hold", "rest", "tempo", "count_every", "per_day")
#: Bounds that catch typos (a 2000-second hold) without getting in a clinician's way.
LIMITS = {"sets": (1, 20), "reps": (1, 100), "hold": (1.0, 600.0), "rest": (0.0, 600.0)}


class RoutineError(ValueError):
    """A routine file or a name that cannot be used; str() is the one line to show."""


@dataclass(frozen=True)
class Level:
    """One step of an exercise's progression, overriding parts of its dose."""

    name: str
    """What the level is called ("Eyes closed", "3 sets of 12")."""
    cue: str = ""
    """Extra instruction for this level, said after the setup."""
    reps: int | None = None
    """Reps per set at this level, if it changes them."""
    hold: float | None = None
    """Hold seconds at this level, if it changes them."""


@dataclass(frozen=True)
class Exercise:
    """One exercise with its instructions and dose."""

    id: str
    """Short name used on the command line ("calf")."""
    name: str
    """Name said aloud ("Calf stretch")."""
    kind: str
    """"hold" (timed, counted each second) or "reps" (counted repetitions)."""
    why: str
    """One line on why it helps."""
    setup: tuple[str, ...]
    """Steps to get into position, said before the first set."""
    cue: str
    """Reminder said with each set and on "repeat"."""
    sets: int = 3
    """Number of sets (holds or rounds of reps)."""
    reps: int = 10
    """Repetitions per set ("reps" exercises)."""
    hold: float = 20.0
    """Seconds per hold ("hold" exercises)."""
    rest: float = 10.0
    """Seconds of rest between sets."""
    tempo: tuple[tuple[str, float], ...] = (("lift", 2.0), ("down", 2.0), ("", 1.0))
    """Phases of one rep: (word said, seconds); the first word is replaced by the rep number."""
    count_every: int = 1
    """Say the hold count every this many seconds."""
    side: str = "painful"
    """"painful", "left", "right" or "both"."""
    per_day: str = ""
    """How often a day, in words."""
    per_day_min: int = 1
    """Fewest sessions a day that count as on track."""
    per_day_max: int = 1
    """Most sessions a day that are useful."""
    levels: tuple[Level, ...] = ()
    """Progression levels, easiest first."""
    level: int = 1
    """Chosen level (1-based)."""
    set_cues: tuple[str, ...] = ()
    """A different cue for each set, if any (massage: knee, thigh, calf)."""
    cautions: tuple[str, ...] = ()
    """Warnings said during setup."""
    next_steps: str = ""
    """What to move on to when the top level is easy."""
    aliases: tuple[str, ...] = ()
    """Other names accepted on the command line."""
    defaults: tuple[str, ...] = ()
    """Fields whose values are our defaults rather than the source's prescription."""
    fixed: bool = False
    """Its dose (level, sets, reps or hold) was set for this session or routine: progression
    leaves it as it is."""

    def ours(self, *fields: str) -> bool:
        """Whether any of these fields holds our default, not the programme's figure."""
        return any(f in self.defaults for f in fields)

    def at_level(self, level: int) -> Exercise:
        """This exercise with a progression level applied (clamped to the levels there are)."""
        if not self.levels:
            return self
        n = min(max(level, 1), len(self.levels))
        lv = self.levels[n - 1]
        return replace(
            self,
            level=n,
            reps=lv.reps if lv.reps is not None else self.reps,
            hold=lv.hold if lv.hold is not None else self.hold,
        )

    def cues_cut(self, sets: int) -> str:
        """Why `sets` sets would leave out one of this exercise's cues, one for each set (the
        massage: knee, thigh, calf), or "" when they do not."""
        if len(self.set_cues) <= sets:
            return ""
        return (f"{self.id} has a cue for each of {len(self.set_cues)} sets; fewer would leave"
                f" out: {self.set_cues[-1]}")

    @property
    def level_cue(self) -> str:
        return self.levels[self.level - 1].cue if self.levels else ""


@dataclass(frozen=True)
class Routine:
    """An ordered list of exercises run as one session."""

    id: str
    """Short name ("back-of-knee")."""
    name: str
    """Name said aloud."""
    exercises: tuple[Exercise, ...]
    """The exercises, in order, with any per-routine overrides applied."""
    aliases: tuple[str, ...] = ()
    """Other names accepted on the command line."""


@dataclass(frozen=True)
class Library:
    """Everything loaded from one or more files: exercises and routines by id."""

    exercises: dict[str, Exercise] = field(default_factory=dict)
    """Exercises by id."""
    routines: dict[str, Routine] = field(default_factory=dict)
    """Routines by id."""

    def find_exercise(self, name: str) -> Exercise:
        return _find(name, self.exercises, "exercise", self.routines, "routine")

    def find_routine(self, name: str) -> Routine:
        return _find(name, self.routines, "routine", self.exercises, "exercise")


def _find(name: str, items: dict[str, Any], what: str, others: dict[str, Any], other: str
          ) -> Any:
    key = name.strip().lower()
    for item in items.values():
        if key == item.id or key in item.aliases:
            return item
    names = sorted({*items, *(a for i in items.values() for a in i.aliases)})
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    hint = f" — did you mean '{close[0]}'?" if close else f" (try: {', '.join(sorted(items))})"
    if any(key == i.id or key in i.aliases for i in others.values()):
        # `-e back-of-knee`: the name is right, the option is not.
        hint = f" — '{name}' is {'an' if other == 'exercise' else 'a'} {other}: use --{other}"
    raise RoutineError(f"unknown {what} '{name}'{hint}")


def load_builtin() -> Library:
    text = resources.files("voicecoach").joinpath("data", BUILTIN).read_text(encoding="utf-8")
    return parse(text, BUILTIN)


#: Bytes a routine file may have: the built-in programme is 5 kB.
MAX_FILE = 1_000_000


def load_file(path: str | Path, base: Library | None = None) -> Library:
    """Load a user's routine file; its exercises may also use the built-in ones by id."""
    p = Path(path)
    try:
        if p.is_dir():
            raise RoutineError(f"{p}: is a folder, not a routine file")
        if p.exists() and not p.is_file():
            # A FIFO would wait for a writer forever, /dev/zero never end.
            raise RoutineError(f"{p}: is not a regular file")
        if p.exists() and p.stat().st_size > MAX_FILE:
            raise RoutineError(f"{p}: is {p.stat().st_size / 1e6:.1f} MB; a routine file is a "
                               "short text (TOML)")
        # "-sig": a byte-order mark, as Windows Notepad may write, is not a TOML error.
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RoutineError(f"{p}: no such file") from None
    except UnicodeDecodeError:
        raise RoutineError(f"{p}: is not text (a routine file is TOML, in UTF-8)") from None
    except OSError as exc:
        raise RoutineError(f"{p}: cannot read it ({exc.strerror or exc})") from None
    return parse(text, str(p), base)


def parse(text: str, source: str, base: Library | None = None) -> Library:
    from voicecoach.library_parse import parse_document

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RoutineError(f"{source}: not valid TOML: {exc}") from None
    return parse_document(doc, source, base)

"""Checking a routine document field by field, so every mistake gets one line with its place."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from voicecoach.library import (
    DEFAULTABLE,
    FORMAT,
    SIDES,
    Exercise,
    Level,
    Library,
    Routine,
    RoutineError,
)
from voicecoach.library_check import Checker, shown

ID_RE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
EXERCISE_KEYS = {
    "id", "name", "kind", "why", "setup", "cue", "sets", "reps", "hold", "rest", "tempo",
    "count_every", "side", "per_day", "per_day_min", "per_day_max", "levels", "set_cues",
    "cautions", "next_steps", "aliases", "defaults",
}
OVERRIDE_KEYS = {"exercise", "sets", "reps", "hold", "rest", "side", "level"}


def _levels(c: Checker, raw: Any, where: str) -> tuple[Level, ...]:
    if not isinstance(raw, list):
        raise c.fail(f"{where}.levels", "must be a list of tables")
    out = []
    for i, lv in enumerate(raw, 1):
        w = f"{where}.levels[{i}]"
        if not isinstance(lv, dict):
            raise c.fail(w, "must be a table like { name = \"Eyes closed\" }")
        unknown = set(lv) - {"name", "cue", "reps", "hold"}
        if unknown:
            raise c.fail(w, f"unknown key '{sorted(unknown)[0]}'")
        reps = c.number(lv, "reps", w, 0, integer=True) if "reps" in lv else None
        hold = float(c.number(lv, "hold", w, 0.0)) if "hold" in lv else None
        out.append(Level(c.text(lv, "name", w), c.text(lv, "cue", w, ""), reps, hold))
    return tuple(out)


def _tempo(c: Checker, raw: Any, where: str) -> tuple[tuple[str, float], ...]:
    bad = c.fail(f"{where}.tempo", 'must be a list like [["lift", 2.0], ["down", 2.0]]')
    if not isinstance(raw, list) or not raw:
        raise bad
    out = []
    for phase in raw:
        if (not isinstance(phase, list) or len(phase) != 2 or not isinstance(phase[0], str)
                or isinstance(phase[1], bool) or not isinstance(phase[1], (int, float))
                or not 0.2 <= phase[1] <= 30):
            raise bad
        out.append((phase[0].strip(), float(phase[1])))
    return tuple(out)


def _exercise(c: Checker, raw: Any, index: int) -> Exercise:
    where = f"exercise[{index}]"
    if not isinstance(raw, dict):
        raise c.fail(where, "must be a table ([[exercise]])")
    ex_id = c.text(raw, "id", where)
    if not ID_RE.match(ex_id):
        raise c.fail(f"{where}.id", f"'{ex_id}' must be lower-case letters, digits and '-'")
    where = f"exercise '{ex_id}'"
    unknown = set(raw) - EXERCISE_KEYS
    if unknown:
        raise c.fail(where, f"unknown key '{sorted(unknown)[0]}'")
    kind = c.text(raw, "kind", where, "hold")
    if kind not in ("hold", "reps"):
        raise c.fail(f"{where}.kind", f"must be \"hold\" or \"reps\", got {kind!r}")
    side = c.text(raw, "side", where, "painful")
    if side not in SIDES:
        raise c.fail(f"{where}.side", f"must be one of {', '.join(SIDES)}, got {side!r}")
    if kind == "hold" and "reps" in raw:
        # Left out, `kind` is "hold": reps written for it were ignored, and ten reps ran as
        # three holds of twenty seconds.
        how = "kind = \"hold\"" if "kind" in raw else "no kind (a hold, counted each second)"
        raise c.fail(f"{where}.reps", f"does not apply with {how}: for reps, add "
                     "kind = \"reps\"")
    if kind == "reps" and "hold" in raw:
        # A hold written for a reps exercise was ignored in silence: the physiotherapist's
        # 30 s never reached the patient, who did ten reps instead.
        raise c.fail(f"{where}.hold", "does not apply with kind = \"reps\": remove it, or "
                     "for timed holds write kind = \"hold\"")
    setup = c.texts(raw, "setup", where)
    ex = Exercise(
        id=ex_id,
        name=c.text(raw, "name", where),
        kind=kind,
        why=c.text(raw, "why", where, ""),
        setup=setup,
        cue=c.text(raw, "cue", where, ""),
        sets=c.number(raw, "sets", where, 3, integer=True),
        reps=c.number(raw, "reps", where, 10, integer=True),
        hold=float(c.number(raw, "hold", where, 20.0)),
        rest=float(c.number(raw, "rest", where, 10.0)),
        count_every=c.number(raw, "count_every", where, 1, integer=True),
        side=side,
        per_day=c.text(raw, "per_day", where, ""),
        per_day_min=c.number(raw, "per_day_min", where, 1, integer=True),
        per_day_max=c.number(raw, "per_day_max", where, 1, integer=True),
        set_cues=c.texts(raw, "set_cues", where),
        cautions=c.texts(raw, "cautions", where),
        next_steps=c.text(raw, "next_steps", where, ""),
        aliases=tuple(a.lower() for a in c.texts(raw, "aliases", where)),
        defaults=c.texts(raw, "defaults", where),
    )
    if "tempo" in raw:
        ex = replace(ex, tempo=_tempo(c, raw["tempo"], where))
    if "levels" in raw:
        ex = replace(ex, levels=_levels(c, raw["levels"], where))
        # A level's dose of the other kind was ignored in silence, as `reps` on a hold was.
        other = "reps" if kind == "hold" else "hold"
        for i, level in enumerate(ex.levels, 1):
            if getattr(level, other) is not None:
                raise c.fail(f"{where}.levels[{i}].{other}",
                             f"does not apply: {ex_id} is done in "
                             f"{'timed holds' if kind == 'hold' else 'reps'}")
    if not ex.setup and not ex.cue:
        raise c.fail(where, "needs 'setup' lines or a 'cue' so the coach has something to say")
    stray = [f for f in ex.defaults if f not in DEFAULTABLE]
    if stray:  # a misspelt name would mark nothing as ours, in silence
        raise c.fail(f"{where}.defaults", f"unknown field '{stray[0]}' (one of: "
                     f"{', '.join(DEFAULTABLE)})")
    if ex.per_day_min > ex.per_day_max:
        raise c.fail(where, f"per_day_min ({ex.per_day_min}) is more than per_day_max "
                            f"({ex.per_day_max})")
    if len(ex.set_cues) > ex.sets:
        # Cues for sets that never come would be dropped in silence.
        raise c.fail(f"{where}.set_cues", f"has {len(ex.set_cues)} lines for {ex.sets} sets")
    return ex


def _item(c: Checker, raw: Any, where: str, known: dict[str, Exercise]) -> Exercise:
    if isinstance(raw, str):
        raw = {"exercise": raw}
    if not isinstance(raw, dict):
        raise c.fail(where, "must be an exercise id or a table like { exercise = \"calf\" }")
    unknown = set(raw) - OVERRIDE_KEYS
    if unknown:
        raise c.fail(where, f"unknown key '{sorted(unknown)[0]}'")
    name = c.text(raw, "exercise", where)
    try:
        ex = Library(known).find_exercise(name)
    except RoutineError as exc:
        raise c.fail(where, str(exc)) from None
    changes: dict[str, Any] = {}
    for key, kind in (("reps", "hold"), ("hold", "reps")):
        # As on the command line (--reps does not apply to calf): never ignored in silence.
        if key in raw and ex.kind == kind:
            done = "in reps" if kind == "reps" else "in timed holds"
            raise c.fail(f"{where}.{key}", f"does not apply to {ex.id}: it is done {done}")
    for key, integer in (("sets", True), ("reps", True), ("hold", False), ("rest", False)):
        if key in raw:
            value = c.number(raw, key, where, 0, integer=integer)
            changes[key] = value if integer else float(value)
    if why := ex.cues_cut(changes.get("sets", ex.sets)):
        # As on an exercise itself: the cues for the sets cut off would be dropped in silence.
        raise c.fail(f"{where}.sets", why)
    if "side" in raw:
        side = c.text(raw, "side", where)
        if side not in SIDES:
            raise c.fail(f"{where}.side", f"must be one of {', '.join(SIDES)}")
        changes["side"] = side
    if "level" in raw:
        level = c.number(raw, "level", where, 1, integer=True)
        # As --level on the command line: never cut down to the levels there are in silence.
        if not ex.levels:
            raise c.fail(f"{where}.level", f"does not apply to {ex.id}: it has no levels")
        if not 1 <= level <= len(ex.levels):
            raise c.fail(f"{where}.level", f"must be between 1 and {len(ex.levels)} for {ex.id}, "
                         f"got {level}")
        ex = ex.at_level(level)
    # Only a dose written here is the physiotherapist's to keep: "leg-raise" on its own, or a
    # side or a rest, leaves the level to progression (it used to be reset to level 1).
    fixed = ex.fixed or any(k in raw for k in ("level", "sets", "reps", "hold"))
    return replace(ex, fixed=fixed, **changes)


def _dose_hint(builtin: Exercise) -> str:
    """How to change a built-in exercise's dose instead of redefining it."""
    what = (f"reps = {builtin.reps}" if builtin.kind == "reps"
            else f"hold = {builtin.hold:g}")
    return (f'to change its dose, write {{ exercise = "{builtin.id}", {what} }} in a '
            "[[routine]]")


def _unique(c: Checker, kind: str, item: Any, known: dict[str, Any], builtin: set[str],
            fix: Callable[[Any], str] | None = None) -> None:
    """An id or alias names one thing: a file's "calf" once replaced the built-in calf stretch
    for --exercise but not in the built-in routine, and mixed two exercises in one history.
    `fix(built-in item)`: what to do instead of redefining a built-in by its own id."""
    for name in (item.id, *item.aliases):
        owner = next((k for k, v in known.items() if name == k or name in v.aliases), None)
        if owner is None:
            continue
        whose = (f"the built-in {kind} '{owner}'" if owner in builtin
                 else f"the {kind} '{owner}' above it")
        if name != item.id:
            what, how = "alias", "choose another alias"
        elif fix is not None and owner in builtin and name == owner:
            what, how = "id", fix(known[owner])
        else:
            what, how = "id", "give yours its own id"
        raise c.fail(f"{kind} '{item.id}'", f"{what} '{name}' already names {whose}; {how}")


def parse_document(doc: dict[str, Any], source: str, base: Library | None) -> Library:
    c = Checker(source)
    unknown = set(doc) - {"format", "exercise", "routine"}
    if unknown:
        raise c.fail("top level", f"unknown key '{sorted(unknown)[0]}' "
                     "(expected format, [[exercise]] and [[routine]])")
    fmt = doc.get("format", FORMAT)
    if fmt != FORMAT:
        raise c.fail("format", f"this version reads format {FORMAT}, got {fmt!r}")
    exercises = dict(base.exercises) if base else {}
    raw_ex = doc.get("exercise", [])
    if not isinstance(raw_ex, list):
        raise c.fail("exercise", "must be written as [[exercise]] tables")
    builtin = set(exercises)
    for i, raw in enumerate(raw_ex, 1):
        ex = _exercise(c, raw, i)
        _unique(c, "exercise", ex, exercises, builtin, _dose_hint)
        exercises[ex.id] = ex
    routines = dict(base.routines) if base else {}
    raw_rt = doc.get("routine", [])
    if not isinstance(raw_rt, list):
        raise c.fail("routine", "must be written as [[routine]] tables")
    for i, raw in enumerate(raw_rt, 1):
        where = f"routine[{i}]"
        if not isinstance(raw, dict):
            raise c.fail(where, "must be a table ([[routine]])")
        unknown = set(raw) - {"id", "name", "aliases", "exercises"}
        if unknown:
            raise c.fail(where, f"unknown key '{sorted(unknown)[0]}'")
        rt_id = c.text(raw, "id", where)
        if not ID_RE.match(rt_id):
            # "Morning" was taken, then never found: --routine looks names up in lower case.
            raise c.fail(f"{where}.id", f"'{rt_id}' must be lower-case letters, digits and '-'")
        items = raw.get("exercises")
        if not isinstance(items, list) or not items:
            raise c.fail(f"routine '{rt_id}'.exercises", "must list at least one exercise" + (
                f" in [ ], got {shown(items)}" if items is not None and not isinstance(items, list)
                else ""))
        chosen = tuple(_item(c, it, f"routine '{rt_id}'.exercises[{j}]", exercises)
                       for j, it in enumerate(items, 1))
        twice = next((j for j, ex in enumerate(chosen, 1)
                      if ex.id in {e.id for e in chosen[:j - 1]}), None)
        if twice is not None:
            # Its sets would be stored under the same numbers as the first time's, and
            # replace them in the history (a review, 2026-12-07).
            raise c.fail(f"routine '{rt_id}'.exercises[{twice}]",
                         f"lists {chosen[twice - 1].id} a second time; list it once (for more "
                         "sets, write sets = N)")
        routine = Routine(rt_id, c.text(raw, "name", where, rt_id), chosen,
                          tuple(a.lower() for a in c.texts(raw, "aliases", where)))
        _unique(c, "routine", routine, routines, set(base.routines) if base else set())
        routines[rt_id] = routine
    if not exercises:
        raise c.fail("top level", "defines no [[exercise]] and no [[routine]]")
    return Library(exercises, routines)

"""Progression: when to move an exercise up a level (or back down), from recent sessions.

The rule (also in docs/progression.md):
- Step up one level after STEP_UP_AFTER sessions in a row at the current level in which every
  set was done in full, no pain was reported during the exercise, and pain did not rise (after
  the session no worse than before it, and no worse than at the start of those sessions).
- Step down one level when, in the last session, the exercise was stopped for pain (or pain of
  CARRY_ON_BELOW or more was reported and the person carried on) or the knee was
  STEP_DOWN_RISE or more points worse afterwards.
- Otherwise stay. A level given with --level (or fixed in a routine file) always wins.
Only the leg raise and the balance stand climb on their own (AUTO).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from voicecoach import words
from voicecoach.library import Exercise, RoutineError, load_builtin
from voicecoach.records import SessionRecord, SetRecord

#: Completed, pain-free sessions in a row at one level before stepping up.
STEP_UP_AFTER = 3
#: ... and on at least this many different days.
STEP_UP_DAYS = 2
#: Exercises whose levels are a ladder to climb. The hamstring's levels are variants (a straight
#: knee also stretches the nerve), so a person or clinician chooses those with --level.
AUTO = ("leg-raise", "balance")
#: Points of extra pain (after minus before, 0-10 scale) in the last session that step down.
STEP_DOWN_RISE = 2
#: Pain (0-10) reported during an exercise that the person then carried on with: under this it
#: holds the level (a mild ache, or an "it hurts" misheard), from this on it steps down as a
#: stop for pain does. The line is the coach's own choice, not the source article's (which
#: gives none); `--level` or a physiotherapist's routine file always wins.
CARRY_ON_BELOW = 4


@dataclass(frozen=True)
class Attempt:
    """One session's go at one exercise, as the rule sees it."""

    started: float
    """Unix time the session started."""
    level: int | None
    """Level it was done at; None when not recorded."""
    completed: bool
    """Every prescribed set done in full (on every side)."""
    pain_before: int | None = None
    """Knee pain 0-10 before the session."""
    pain_after: int | None = None
    """Knee pain 0-10 after the session."""
    pain_stop: bool = False
    """True when the person stopped this exercise because it hurt."""
    pain_report: bool = False
    """True when the person said it hurt during this exercise, stopped or not."""

    @property
    def pain_rise(self) -> int:
        """Points worse after than before (0 when either is unknown)."""
        if self.pain_before is None or self.pain_after is None:
            return 0
        return self.pain_after - self.pain_before


@dataclass(frozen=True)
class Suggestion:
    """The level to do today, and what the coach says about it."""

    exercise: str
    """Exercise id."""
    level: int
    """Level to use (1-based); pass to Exercise.at_level."""
    name: str
    """The level's name ("3 sets of 12", "Eyes closed"); empty when there are no levels."""
    reps: int | None
    """Reps per set at this level, when the level sets them."""
    hold: float | None
    """Hold seconds at this level, when the level sets them."""
    change: int
    """+1 stepped up, -1 stepped down, 0 same as last time."""
    reason: str
    """One line on why, for `voicecoach today`."""
    announcement: str = ""
    """What the coach says before the exercise; empty when nothing changed."""


def attempts_from(sessions: Sequence[SessionRecord], exercise_id: str,
                  exercise: Exercise | None = None) -> list[Attempt]:
    """The sessions that included `exercise_id`, most recent first. `exercise` (default: the
    built-in one): its sets, levels and side say what a full session of it is."""
    ex = exercise if exercise is not None else _lookup(exercise_id)
    out = []
    for s in sorted(sessions, key=lambda r: r.started, reverse=True):
        done = s.done(exercise_id)
        # "It hurts" answered with a mild score and "no, don't skip" carried on: the exercise
        # was not stopped. It holds the level (no step up) but does not step it down: a
        # misheard "it hurts", or a twinge rated 0, must not undo the person's progress. A
        # higher score counts as stopped though the person went on; so does no answer (the
        # exercise was skipped): the careful choice.
        reports = [p for p in s.pain_stops if p.exercise == exercise_id]
        stopped = any(p.skipped or p.value is None or p.value >= CARRY_ON_BELOW
                      for p in reports)
        if not done and not reports:
            continue
        levels = [x.level for x in done if x.level is not None]
        sides = {x.side for x in done}
        if s.side == "both" or (s.side == "mixed" and ex is not None and ex.side == "both"):
            # Stopped after the left leg: the right one was planned too (the sides of the
            # sets done alone made it "every set in full").
            sides |= {"left", "right"}
        completed = bool(done) and all(
            len({x.set_no for x in done if x.side == side and x.full})
            >= max((x.sets for x in done if x.side == side), default=1)
            and any(x.side == side for x in done)
            for side in sides
        ) and all(_full_dose(x, ex) for x in done)
        out.append(Attempt(s.started, levels[-1] if levels else None, completed and not stopped,
                           s.pain_before, s.pain_after, stopped, bool(reports)))
    return out


def _full_dose(done: SetRecord, ex: Exercise | None) -> bool:
    """Whether a set was planned at its level's full dose: `--sets 1 --reps 1` three times
    stepped the leg raise up, as if every set had been done in full."""
    if ex is None:
        return True
    if done.sets < ex.sets:
        return False
    if not ex.levels or done.level is None:
        return True
    lv = ex.levels[min(max(done.level, 1), len(ex.levels)) - 1]
    reps = lv.reps if lv.reps is not None else (ex.reps if ex.kind == "reps" else None)
    hold = lv.hold if lv.hold is not None else (ex.hold if ex.kind == "hold" else None)
    if reps is not None and done.target_reps is not None and done.target_reps < reps:
        return False
    return not (hold is not None and done.target_hold is not None
                and done.target_hold < hold - 0.5)


def _lookup(exercise_id: str) -> Exercise | None:
    try:
        return load_builtin().exercises.get(exercise_id)
    except RoutineError:
        return None


def suggest(
    exercise_id: str,
    recent: Sequence[Attempt],
    base_level: int = 1,
    *,
    exercise: Exercise | None = None,
    forced: int | None = None,
) -> Suggestion:
    """Today's level for `exercise_id` from its `recent` attempts (most recent first)."""
    ex = exercise if exercise is not None else _lookup(exercise_id)
    if ex is None or not ex.levels:
        return Suggestion(exercise_id, base_level, "", None, None, 0, "no levels to move through")
    top = len(ex.levels)

    def pick(level: int, change: int, reason: str, announcement: str = "") -> Suggestion:
        lv = ex.levels[level - 1]
        return Suggestion(exercise_id, level, lv.name, lv.reps, lv.hold, change, reason,
                          announcement)

    if forced is not None:
        return pick(min(max(forced, 1), top), 0, "level chosen by you (--level or routine file)")
    known = [a.level for a in recent if a.level is not None]
    current = min(max(known[0] if known else base_level, 1), top)
    if recent and (recent[0].pain_stop or recent[0].pain_rise >= STEP_DOWN_RISE):
        if current == 1:
            return pick(1, 0, "the knee was sorer last time; staying at the easiest level")
        level = current - 1
        return pick(level, -1, "the knee was sorer last time, so one level easier",
                    _said(ex, level, "Your knee was sorer last time, so today we'll go back to {}.",
                          "Your knee was sorer last time, so today we'll go back a step: {}."))
    run = []
    for a in recent:
        if a.level not in (None, current):
            break
        run.append(a)
    window = run[:STEP_UP_AFTER]
    count = 0
    for a in window:  # leading full, pain-free sessions at this level
        if not (a.completed and not a.pain_stop and not a.pain_report and a.pain_rise <= 0):
            break
        count += 1
    days = {dt.date.fromtimestamp(a.started) for a in window[:count]}
    if count == STEP_UP_AFTER and len(days) < STEP_UP_DAYS:
        # Three sessions in one morning show no more than one: the muscles adapt over days.
        return pick(current, 0, f"{count} full sessions without more pain, but all on one "
                                "day: the next step comes on another day")
    if count == STEP_UP_AFTER and _no_rise(window[-1], window[0]):
        if current == top:
            more = f"; {ex.next_steps}" if ex.next_steps else ""
            return pick(top, 0, f"top level reached{more}")
        level = current + 1
        said = _said(ex, level, "You're ready for {} today.",
                     "You're ready for the next step today: {}.")
        if level == top and ex.next_steps:
            # Said once, on the day the last step is reached: what comes after the programme.
            said += f" {ex.next_steps}"
        return pick(level, 1, f"{STEP_UP_AFTER} full sessions without more pain", said)
    return pick(current, 0, f"{count} of {STEP_UP_AFTER} full sessions without more pain "
                            "at this level")


def _no_rise(oldest: Attempt, newest: Attempt) -> bool:
    """Pain after the newest session is no higher than after the oldest (unknown: fine)."""
    if oldest.pain_after is None or newest.pain_after is None:
        return True
    return newest.pain_after <= oldest.pain_after


def _said(ex: Exercise, level: int, dose: str, step: str) -> str:
    """The announcement: `dose` filled with "twelve reps" (or a hold), else `step` with a name."""
    lv = ex.levels[level - 1]
    if lv.reps is not None:
        return dose.format(f"{words.number(lv.reps)} reps")
    if lv.hold is not None:
        return dose.format(f"holds of {words.seconds(lv.hold)}")
    return step.format(lv.name[:1].lower() + lv.name[1:])


def plan_levels(
    sessions: Sequence[SessionRecord],
    exercises: Sequence[Exercise],
    forced: int | None = None,
    auto: Sequence[str] = AUTO,
) -> dict[str, Suggestion]:
    """Suggestions for the exercises in `auto` that have levels, from the stored sessions."""
    return {
        ex.id: suggest(ex.id, attempts_from(sessions, ex.id, ex), ex.level, exercise=ex,
                       forced=forced)
        for ex in exercises
        if ex.levels and ex.id in auto and not ex.fixed  # a dose set is kept as it is
    }

"""Keeping at it: the streak, sessions per day against the prescription, and today's to-do."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from voicecoach.library import Exercise
from voicecoach.progression import Suggestion
from voicecoach.records import SessionRecord

#: Days shown in the sessions-per-day table.
ADHERENCE_DAYS = 7


def _active_days(sessions: Sequence[SessionRecord]) -> set[dt.date]:
    return {s.day for s in sessions if any(x.full for x in s.sets)}


def streak(sessions: Sequence[SessionRecord], today: dt.date) -> int:
    """Days in a row with at least one full set, up to today (or yesterday, if none yet today)."""
    days = _active_days(sessions)
    day = today if today in days else today - dt.timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= dt.timedelta(days=1)
    return count


def streak_line(sessions: Sequence[SessionRecord], today: dt.date) -> str:
    n = streak(sessions, today)
    return f"Streak: {n} day{'' if n == 1 else 's'} in a row."


def complete(session: SessionRecord, exercise: str) -> bool:
    """Every prescribed set of `exercise` done in full, on each side (both, when the session
    was for both legs). (One full set of three once counted as a whole session towards the
    day's target.) The sets prescribed are the ones the session ran with, --sets included."""
    done = session.done(exercise)
    if not done:
        return False
    sides = {x.side for x in done}
    if session.side == "both":
        sides |= {"left", "right"}  # stopped after the left leg: half a session
    sets = max(x.sets for x in done)
    return all(sum(1 for x in done if x.side == side and x.full) >= sets for side in sides)


def per_day(sessions: Sequence[SessionRecord], exercise: str, day: dt.date) -> int:
    """Sessions on `day` with every prescribed set of `exercise` done in full."""
    return sum(1 for s in sessions if s.day == day and complete(s, exercise))



def adherence_table(
    sessions: Sequence[SessionRecord],
    exercises: Sequence[Exercise],
    today: dt.date,
    days: int = ADHERENCE_DAYS,
) -> str:
    """Sessions per day for each exercise over the last `days` days, against its prescription."""
    dates = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    name_w = max(len(e.id) for e in exercises) if exercises else 8
    head = "per day".ljust(name_w) + "  " + " ".join(d.strftime("%m-%d") for d in dates)
    lines = [f"Sessions per day, last {days} days (target per day; days on target)", head]
    for ex in exercises:
        counts = [per_day(sessions, ex.id, d) for d in dates]
        cells = " ".join(f"{c:>5}" for c in counts)
        hit = sum(1 for c in counts if c >= ex.per_day_min)
        lines.append(f"{ex.id.ljust(name_w)}  {cells}  target {daily_target(ex)}; {hit}/{days}")
    return "\n".join(lines + _footnote(exercises))


def daily_target(ex: Exercise) -> str:
    """The daily target, starred when it is our reading of words like "several times"."""
    n = (str(ex.per_day_min) if ex.per_day_min == ex.per_day_max
         else f"{ex.per_day_min}-{ex.per_day_max}")
    return n + ("*" if ex.ours("per_day") else "")


def _footnote(exercises: Sequence[Exercise]) -> list[str]:
    if not any(e.ours("per_day") for e in exercises):
        return []
    # The programme says "several times a day" or "as often as you can" for these: the
    # person should know the figure is ours, to judge it, and that it can be changed.
    return ["* our own target, where the programme gives no number for how often a day; "
            "a routine file can change it"]


def today_report(
    sessions: Sequence[SessionRecord],
    exercises: Sequence[Exercise],
    today: dt.date,
    levels: dict[str, Suggestion] | None = None,
    check_due: bool = False,
    flagged_sign: str | None = None,
) -> str:
    """What is due today and what is done, with today's level where there are levels;
    `flagged_sign`: the warning sign answered yes at the last safety check, if any."""
    lines = [f"Today, {today:%A} {today.day} {today:%B}"]
    name_w = max((len(e.name) for e in exercises), default=8)
    for ex in exercises:
        done = per_day(sessions, ex.id, today)
        if done >= ex.per_day_max:
            state = "done"
        elif done >= ex.per_day_min:
            state = f"done; up to {ex.per_day_max - done} more if you like"
        else:
            state = f"{ex.per_day_min - done} more due"
        # "5 of 2" reads like a mistake: past the target, show the count and the target.
        star = "*" if ex.ours("per_day") else ""
        count = (f"{done} of {ex.per_day_min}{star}" if done <= ex.per_day_min
                 else f"{done} (target {daily_target(ex)})")
        # Begun but not finished in full: the sessions with any set of it, less the whole ones.
        short = sum(1 for s in sessions if s.day == today and s.done(ex.id)) - done
        if short:
            count += f", {short} cut short"
        line = f"  {ex.name.ljust(name_w)}  {count}: {state}"
        sug = (levels or {}).get(ex.id)
        if sug is not None:
            moved = {1: ", up from last time", -1: ", eased back"}.get(sug.change, "")
            line += f"  [level {sug.level}: {sug.name}{moved}]"
        elif ex.fixed and ex.levels:  # kept as it is: no level to climb
            dose = (f"{ex.sets} sets of {ex.reps}" if ex.kind == "reps"
                    else f"{ex.sets} holds of {ex.hold:g} s")
            line += f"  [{dose}, as your routine file sets it]"
        lines.append(line)
    lines += _footnote(exercises)
    lines.append(streak_line(sessions, today))
    if flagged_sign:
        lines.append(f"Safety check: a warning sign was reported ({flagged_sign}). No exercise "
                     "until you have seen a doctor and answered the questions again "
                     "(voicecoach check).")
    elif check_due:
        lines.append("Safety check: due before the next session (voicecoach check).")
    return "\n".join(lines)

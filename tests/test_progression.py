"""The progression rule on hand-made histories."""

from __future__ import annotations

import pytest

from voicecoach.library import load_builtin
from voicecoach.progression import (
    CARRY_ON_BELOW,
    STEP_UP_AFTER,
    Attempt,
    attempts_from,
    plan_levels,
    suggest,
)
from voicecoach.records import PainStop, SessionRecord, SetRecord

T = 1_700_000_000.0


def hist(*items: tuple[int, bool] | tuple[int, bool, int, int] | str) -> list[Attempt]:
    """Most recent first: (level, completed[, pain before, pain after]) or "pain" (stopped)."""
    out = []
    for i, item in enumerate(items):
        if item == "pain":
            out.append(Attempt(T - i, None, False, pain_stop=True, pain_report=True))
        else:
            assert isinstance(item, tuple)
            level, done, *pain = item
            out.append(Attempt(T - i * 43200, level, done, *(pain or (None, None))))
    return out


def test_no_history_starts_at_the_base_level() -> None:
    s = suggest("leg-raise", [], 1)
    assert (s.level, s.reps, s.change, s.announcement) == (1, 10, 0, "")


def test_three_full_painless_sessions_step_the_leg_raise_up() -> None:
    s = suggest("leg-raise", hist((1, True, 3, 3), (1, True, 3, 2), (1, True, 4, 3)))
    assert (s.level, s.reps, s.change) == (2, 12, 1)
    assert s.announcement == "You're ready for twelve reps today."


def test_three_sessions_on_one_day_do_not_step_up() -> None:
    """A user's run-through: three sessions in one minute readied twelve reps. Twice a day,
    the third good session in a row is on the second day; three on one day wait for the next."""
    same_day = [Attempt(T - i * 60, 1, True, 3, 3) for i in range(3)]
    s = suggest("leg-raise", same_day)
    assert (s.level, s.change, s.announcement) == (1, 0, "")
    assert "all on one day" in s.reason
    twice_a_day = [Attempt(T - i * 43200, 1, True, 3, 3) for i in range(3)]
    assert suggest("leg-raise", twice_a_day).level == 2


@pytest.mark.parametrize("history, why", [
    (((1, True), (1, True)), "only two sessions so far"),
    (((1, True), (1, False), (1, True)), "one was not finished"),
    (((1, True, 2, 3), (1, True), (1, True)), "pain rose by one in the last"),
    (((1, True, 2, 2), (1, True, 2, 2), (1, True, 1, 1)), "pain drifted up over the three"),
    (((2, True), (1, True), (1, True)), "just moved up: the count starts again"),
])
def test_stays(history: tuple, why: str) -> None:
    s = suggest("leg-raise", hist(*history))
    assert s.change == 0 and s.announcement == "", why


def test_progress_count_is_reported() -> None:
    s = suggest("leg-raise", hist((3, True), (3, True), (2, True)))
    assert s.level == 3 and s.reason.startswith(f"2 of {STEP_UP_AFTER}")


def test_pain_steps_back_down() -> None:
    stopped = suggest("leg-raise", hist("pain", (3, True), (3, True)))
    assert (stopped.level, stopped.reps, stopped.change) == (2, 12, -1)
    assert stopped.announcement == "Your knee was sorer last time, so today we'll go back to " \
                                   "twelve reps."
    sorer = suggest("leg-raise", hist((3, True, 2, 4), (3, True)))
    assert (sorer.level, sorer.change) == (2, -1)
    floor = suggest("leg-raise", hist((1, True, 2, 5)))
    assert (floor.level, floor.change, floor.announcement) == (1, 0, "")


def test_top_level_holds_and_points_to_the_next_step() -> None:
    s = suggest("leg-raise", hist((6, True), (6, True), (6, True)))
    assert (s.level, s.reps, s.change) == (6, 20, 0) and "squats and lunges" in s.reason
    assert s.announcement == ""  # said once, on the way up (below), not every session


def test_the_step_up_to_the_top_level_says_what_comes_next() -> None:
    """A user's run-through: the exercise's next steps (squats and lunges) were only ever
    printed in `voicecoach today`'s reason, never said."""
    s = suggest("leg-raise", hist((5, True), (5, True), (5, True)))
    assert (s.level, s.reps, s.change) == (6, 20, 1)
    assert s.announcement == ("You're ready for twenty reps today. When 3 sets of 20 feel easy, "
                              "add squats and lunges.")
    below = suggest("leg-raise", hist((4, True), (4, True), (4, True)))
    assert "squats" not in below.announcement


def test_balance_moves_from_eyes_open_to_closed_to_cushion() -> None:
    up = suggest("balance", hist((1, True), (1, True), (1, True)))
    assert (up.level, up.name) == (2, "Eyes closed")
    assert up.announcement == "You're ready for the next step today: eyes closed."
    up = suggest("balance", hist((2, True), (2, True), (2, True)))
    assert (up.level, up.name) == (3, "On a balance cushion")


def test_level_option_or_routine_file_wins() -> None:
    s = suggest("leg-raise", hist((1, True), (1, True), (1, True)), forced=4)
    assert (s.level, s.reps, s.change, s.announcement) == (4, 16, 0, "")
    assert suggest("leg-raise", [], forced=99).level == 6


def test_exercise_without_levels_stays_put() -> None:
    assert suggest("calf", hist((1, True), (1, True), (1, True))).change == 0


def _set(ex: str, n: int, side: str = "painful", level: int = 1, skipped: bool = False,
         reps: int = 10, sets: int = 3, target: int | None = None) -> SetRecord:
    target = 10 + 2 * (level - 1) if target is None else target  # the leg raise's ladder
    return SetRecord(ex, side, level, n, sets, reps, target, 0.0, None, skipped, T)


def _session(i: int, sets: list[SetRecord], stops: tuple[PainStop, ...] = (),
             pain: tuple[int | None, int | None] = (None, None),
             side: str = "painful") -> SessionRecord:
    return SessionRecord(i, f"u{i}", T + i * 43200, None, "back-of-knee", ("leg-raise",),
                         side, None, "completed", pain[0], pain[1], 0, tuple(sets), (),
                         stops)


def test_a_cut_down_dose_is_no_full_session() -> None:
    """A review (2026-12-07): `-e leg-raise --sets 1 --reps 1` three times stepped the leg
    raise up to 3 sets of 12, as if every set had been done in full."""
    tiny = [_set("leg-raise", 1, sets=1, reps=1, target=1)]
    fewer = [_set("leg-raise", n, sets=2) for n in (1, 2)]
    short = [_set("leg-raise", n, reps=5, target=5) for n in (1, 2, 3)]
    full = [_set("leg-raise", n) for n in (1, 2, 3)]
    got = attempts_from([_session(k, sets) for k, sets in enumerate((tiny, fewer, short, full))],
                        "leg-raise")
    assert [a.completed for a in got] == [True, False, False, False]
    assert suggest("leg-raise", attempts_from([_session(k, tiny) for k in range(3)],
                                              "leg-raise")).change == 0


def test_both_legs_planned_and_one_done_is_no_full_session() -> None:
    """A review (2026-12-07): `--side both` stopped after the left leg counted as every set in
    full (only the sides of the sets done were checked)."""
    left = [_set("leg-raise", n, "left") for n in (1, 2, 3)]
    right = [_set("leg-raise", n, "right") for n in (1, 2, 3)]
    got = attempts_from([_session(2, left, side="both"), _session(1, left + right, side="both")],
                        "leg-raise")
    assert [a.completed for a in got] == [False, True]
    # One leg chosen on purpose: full.
    assert attempts_from([_session(1, left, side="left")], "leg-raise")[0].completed


def test_a_dose_set_for_the_session_is_kept_and_the_rest_still_climb() -> None:
    """A review (2026-12-07): a routine file that only listed "leg-raise", or --hold for the
    stretches, reset the leg raise to level 1 (progression was off for every exercise)."""
    from dataclasses import replace

    exercises = load_builtin().find_routine("back-of-knee").exercises
    history = [_session(k, [_set("leg-raise", n) for n in (1, 2, 3)]) for k in (1, 2, 3)]
    levels = plan_levels(history, exercises)
    assert levels["leg-raise"].level == 2
    fixed = [replace(ex, fixed=True) if ex.id == "leg-raise" else ex for ex in exercises]
    levels = plan_levels(history, fixed)
    assert "leg-raise" not in levels and "balance" in levels


def test_attempts_from_stored_sessions() -> None:
    full = [_set("leg-raise", n) for n in (1, 2, 3)]
    both = [_set("leg-raise", n, side) for side in ("left", "right") for n in (1, 2, 3)]
    sessions = [
        _session(1, full, pain=(3, 2)),
        _session(2, full[:2] + [_set("leg-raise", 3, skipped=True, reps=4)]),
        _session(3, both[:5]),                                   # right side one set short
        _session(4, both),
        _session(5, [_set("calf", 1)]),                          # not a leg-raise session
        _session(6, full[:1], (PainStop("leg-raise", 6, True, T),)),
    ]
    got = attempts_from(sessions, "leg-raise")
    assert [(a.completed, a.pain_stop) for a in got] == [
        (False, True), (True, False), (False, False), (False, False), (True, False)]
    assert [a.pain_report for a in got] == [True, False, False, False, False]
    assert (got[-1].pain_before, got[-1].pain_after, got[-1].level) == (3, 2, 1)


def test_it_hurts_carried_on_from_holds_the_level_but_does_not_step_it_down() -> None:
    # A user's run-through (2026-12-06): a misheard "it hurts" is answered "zero" and "no,
    # don't skip"; every set is then done. Recorded as a pain report, not skipped.
    full = [_set("leg-raise", n, level=2, reps=12) for n in (1, 2, 3)]
    went_on = (PainStop("leg-raise", 0, False, T),)
    skipped = (PainStop("leg-raise", None, True, T),)
    carried = attempts_from([_session(3, full, went_on), _session(2, full), _session(1, full)],
                            "leg-raise")
    assert [(a.completed, a.pain_stop, a.pain_report) for a in carried][0] == (True, False, True)
    s = suggest("leg-raise", carried)
    assert (s.level, s.change) == (2, 0)  # neither down (it went on) nor up (it was reported)
    # With no answer the exercise was skipped: that still steps down.
    unanswered = attempts_from([_session(3, full[:1], skipped), _session(2, full)], "leg-raise")
    assert suggest("leg-raise", unanswered).change == -1
    # Carried on, but with pain of CARRY_ON_BELOW or more: steps down as a stop does.
    sore = (PainStop("leg-raise", CARRY_ON_BELOW, False, T),)
    assert suggest("leg-raise", attempts_from([_session(3, full, sore)], "leg-raise")).change == -1
    # Two reports in one session, one carried on and one skipped: stopped.
    both = (went_on[0], skipped[0])
    assert attempts_from([_session(3, full, both)], "leg-raise")[0].pain_stop
    # A carried-on report two sessions back still keeps the count for a step up from three.
    older = [_session(3, full), _session(2, full, went_on), _session(1, full)]
    assert suggest("leg-raise", attempts_from(older, "leg-raise")).change == 0


def test_plan_levels_for_the_routine() -> None:
    exercises = load_builtin().find_routine("back-of-knee").exercises
    full = [_set("leg-raise", n) for n in (1, 2, 3)]
    plan = plan_levels([_session(i, full) for i in range(3)], exercises)
    assert set(plan) == {"leg-raise", "balance"}  # the hamstring's variants are chosen, not won
    assert plan["leg-raise"].level == 2 and plan["balance"].level == 1

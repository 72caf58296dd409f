"""Step layout details: nothing talks over anything else."""

from __future__ import annotations

from dataclasses import replace

from engine_kit import routine

from voicecoach import plan
from voicecoach.speaker import estimate_seconds


def spoken(p: plan.Plan) -> list[tuple[float, float, str]]:
    return [(c.at, c.at + estimate_seconds(c.text), c.text) for c in p.cues if c.text]


def no_overlap(p: plan.Plan) -> None:
    said = spoken(p)
    for (_, a1, a), (b0, _, b) in zip(said, said[1:]):
        assert a1 <= b0 + 1e-9, (a, b)
    assert said[-1][1] <= p.length + 1e-9


def test_no_phrase_overlaps_another_for_many_doses():
    for name in ("massage", "calf", "hamstring", "balance", "leg-raise"):
        for hold in (5.0, 6.0, 11.0, 16.0, 20.5, 60.0):
            for rest in (0.0, 1.0, 3.0, 10.0):
                ex = replace(routine(name).exercises[0], hold=hold, rest=rest, sets=2)
                for step in plan.steps(replace(routine(name), exercises=(ex,))):
                    no_overlap(plan.build(step, estimate_seconds, "x"))


def test_fractional_hold_counts_each_number_once():
    ex = replace(routine("calf").exercises[0], hold=20.5)
    work = plan.build(plan.Step("work", ex, "painful", 1), estimate_seconds)
    counts = [c.text for c in work.cues if c.kind == "count"]
    assert counts == [plan.words.number(n) for n in range(1, 21)]


def test_a_named_leg_is_named_in_every_instruction():
    """--side right (or both): no "painful leg" after "for your right leg"."""
    for name in ("massage", "calf", "hamstring", "balance", "leg-raise"):
        for side in ("right", "both"):
            ex = replace(routine(name).exercises[0], side=side)
            said = [c.text for step in plan.steps(replace(routine(name), exercises=(ex,)))
                    for c in plan.build(step, estimate_seconds, "x").cues if c.text]
            assert not any("painful leg" in t for t in said), (name, side)
    calf = routine("calf").exercises[0]
    intro = plan.build(plan.Step("intro", replace(calf, side="left"), "left"), estimate_seconds)
    assert any("foot of your left leg behind you" in c.text for c in intro.cues)
    same = plan.build(plan.Step("intro", calf, "painful"), estimate_seconds)
    assert any("foot of your painful leg behind you" in c.text for c in same.cues)


def test_the_welcome_names_the_routine_with_the_only_where_it_has_none() -> None:
    """A physio's routine called "Your exercises" was welcomed as "the your exercises"."""
    def welcome(name: str) -> str:
        p = plan.build(plan.Step("welcome"), estimate_seconds, name)
        return p.cues[0].text

    assert welcome("Calf stretch") == "Welcome. Let's start the calf stretch."
    assert welcome("Your exercises") == "Welcome. Let's start your exercises."
    assert welcome("My calf") == "Welcome. Let's start my calf."
    # As the physio wrote it, but for the first letter (a run-through: "my routine for anna").
    assert welcome("My Routine for Anna") == "Welcome. Let's start my Routine for Anna."
    assert welcome("ACL rehab") == "Welcome. Let's start the ACL rehab."
    # A possessive is its own determiner, and a name keeps its capital.
    assert welcome("Anna's calf stretch") == "Welcome. Let's start Anna's calf stretch."
    assert welcome("Anna\u2019s routine") == "Welcome. Let's start Anna\u2019s routine."
    assert welcome("M") == "Welcome. Let's start the M."
    assert welcome("") == "Welcome."


def test_the_welcome_and_help_name_only_the_controls_there_are() -> None:
    """"Say pause" only when something listens; keys when only a terminal; else neither."""
    def welcome(controls: str) -> list[str]:
        p = plan.build(plan.Step("welcome"), estimate_seconds, "", controls)
        return [c.text for c in p.cues if c.text]

    assert welcome("voice")[1:] == ["Say pause or stop at any time.",
                                    "When I'm not talking or counting, you can also say next, "
                                    "back, repeat or help.",
                                    "If the pain turns sharp at any point, stop and say: it hurts."]
    # "Repeat" in the welcome says all the ways to steer, not only the first line of them.
    assert plan.build(plan.Step("welcome"), estimate_seconds, "", "voice").repeat_text == (
        "Say pause or stop at any time. When I'm not talking or counting, you can also say "
        "next, back, repeat or help.")
    assert welcome("keys")[1].startswith("Press space to pause")
    assert welcome("keys")[2].endswith("stop and press x.")
    assert welcome("none") == ["Welcome.", "If the pain turns sharp at any point, stop."]
    # Every key the keys' lines name does what they say.
    from voicecoach.commands import KEYS, Command
    assert (KEYS[" "], KEYS["n"], KEYS["b"], KEYS["r"], KEYS["q"], KEYS["x"]) == (
        Command.TOGGLE, Command.NEXT, Command.BACK, Command.REPEAT, Command.STOP, Command.PAIN)
    assert "press x" in plan.HELP_TEXTS["keys"] and "say: it hurts" in plan.HELP_TEXTS["voice"]


def test_durations_are_said_to_the_half_second() -> None:
    """A routine file's hold of 2.5 s was said as "two seconds" (rounded to even)."""
    said = {x: plan.words.seconds(x) for x in (1, 2.5, 0.5, 20, 1.2, 1.3, 3.5)}
    assert said == {1: "one second", 2.5: "two and a half seconds", 0.5: "half a second",
                    20: "twenty seconds", 1.2: "one second", 1.3: "one and a half seconds",
                    3.5: "three and a half seconds"}

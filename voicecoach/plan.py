"""From a routine to steps, and from a step to its timed cues, using real speech lengths."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from voicecoach import words
from voicecoach.library import Exercise, Routine

#: Silence between instruction sentences, and after an announcement before the work starts.
GAP = 0.35
#: Holds at least this long get a half-way cue.
HALFWAY_MIN = 10.0

Durations = Callable[[str], float]


@dataclass(frozen=True)
class Step:
    """One navigable piece of a session: what `next` and `back` move between."""

    kind: str
    """"welcome", "intro", "work", "rest" or "finish"."""
    exercise: Exercise | None = None
    """The exercise this step belongs to (None for welcome and finish)."""
    side: str = "painful"
    """Which leg: "painful", "left" or "right"."""
    set: int = 0
    """1-based set number for work and rest steps; 0 otherwise."""
    switch: bool = False
    """True for the intro of the second side, which says "switch legs"."""
    next_label: str = ""
    """What comes after this step, for rests ("set two of three", "calf stretch")."""


@dataclass(frozen=True)
class Cue:
    """Something that happens at a fixed offset in a step: words, a state change, or both."""

    at: float
    """Seconds from the start of the step."""
    text: str = ""
    """Words to say; empty for a silent state change or a display tick."""
    kind: str = "cue"
    """"instruction", "count" or "cue"."""
    state: dict[str, Any] | None = None
    """A `state` event to emit when the cue fires."""


@dataclass(frozen=True)
class Plan:
    """A step's whole timeline, laid out before it starts."""

    step: Step
    """The step."""
    cues: tuple[Cue, ...]
    """Everything in it, in time order."""
    length: float
    """Seconds until the step is over."""
    label: str
    """One line for the screen: what the person should be doing."""
    span: tuple[float, float] | None = None
    """The timed part (hold, reps or rest) the progress bar covers, as offsets."""
    repeat_text: str = ""
    """What "repeat" says in this step."""


def side_words(side: str) -> str:
    return "painful" if side == "painful" else side


def for_side(ex: Exercise, side: str) -> Exercise:
    """`ex` with its texts' "painful leg" said as the leg being worked: after "Calf stretch,
    for your right leg", "stand on your painful leg" would contradict it (--side, "both")."""
    if side == "painful":
        return ex

    def said(text: str) -> str:
        return text.replace("painful leg", f"{side} leg")

    return replace(ex, setup=tuple(map(said, ex.setup)), cue=said(ex.cue),
                   set_cues=tuple(map(said, ex.set_cues)),
                   cautions=tuple(map(said, ex.cautions)),
                   levels=tuple(replace(lv, cue=said(lv.cue)) for lv in ex.levels))


def steps(routine: Routine) -> list[Step]:
    """The whole session as steps, in order."""
    out = [Step("welcome")]
    for ex in routine.exercises:
        sides = ["left", "right"] if ex.side == "both" else [ex.side]
        for k, side in enumerate(sides):
            out.append(Step("intro", ex, side, switch=k > 0))
            for s in range(1, ex.sets + 1):
                out.append(Step("work", ex, side, s))
                if s < ex.sets and ex.rest > 0:
                    nxt = f"set {words.number(s + 1)} of {words.number(ex.sets)}"
                    out.append(Step("rest", ex, side, s, next_label=nxt))
    out.append(Step("finish"))
    return out


def _sequence(texts: list[str], kind: str, dur: Durations, start: float = 0.0) -> list[Cue]:
    cues, t = [], start
    for text in texts:
        cues.append(Cue(round(t, 3), text, kind))
        t += dur(text) + GAP
    return cues


def _end(cues: list[Cue], dur: Durations, pad: float = GAP) -> float:
    return max((c.at + (dur(c.text) if c.text else 0.0) for c in cues), default=0.0) + pad


def dose_text(ex: Exercise) -> str:
    if ex.kind == "reps":
        dose = f"{words.times(ex.sets, 'set')} of {words.number(ex.reps)}"
    else:
        dose = f"{words.times(ex.sets, 'hold')} of {words.seconds(ex.hold)}"
    if ex.rest > 0 and ex.sets > 1:
        dose += f", with {words.seconds(ex.rest)} of rest between"
    return dose[0].upper() + dose[1:] + "."


def intro_texts(step: Step) -> list[str]:
    ex = step.exercise
    assert ex is not None
    leg = f"your {side_words(step.side)} leg"
    if step.switch:
        return [f"Switch legs. Now the same with {leg}.", *ex.setup[-1:], dose_text(ex)]
    texts = [f"{ex.name}, for {leg}.", ex.why, *ex.setup]
    if ex.level_cue:
        texts.append(ex.level_cue)
    texts += [*ex.cautions, dose_text(ex)]
    return [t for t in texts if t]


#: Words a name can begin with that take no "the" before it ("your exercises", "my calf").
DETERMINERS = frozenset("the a an my your our his her their this that these those".split())


def _the(name: str) -> str:
    """`name` with "the" before it, unless it begins with its own determiner; in a sentence,
    so its first letter is small unless its first word is all capitals ("ACL", "M"). The rest
    stays as the physio wrote it ("my Routine for Anna", not "my routine for anna")."""
    first = name.split(" ", 1)[0]
    if first.lower().endswith(("'s", "\u2019s", "s'")) and len(first) > 2:
        return name  # a name's own: "Anna's calf stretch", never "the anna's calf stretch"
    if not first.isupper():
        name = name[:1].lower() + name[1:]
    return name if first.lower() in DETERMINERS else f"the {name}"


#: How the person can steer the session: "voice" (listening), "keys" (a terminal, no
#: recognizer) or "none"; welcome lines (the last about pain) and help for each: "say pause"
#: when nothing listens would leave them talking to a deaf coach.
WELCOME_CONTROLS: dict[str, tuple[str, ...]] = {
    # Over the coach's own voice only pause, stop and "it hurts" are taken (README, "while the
    # coach is speaking"), so "next ... at any time" was a promise a user's run-through found
    # broken. Two lines leave a gap between them to try it in. "Not talking" and not "quiet":
    # in the coach's echo, "quiet" is a near miss for "quit", which stops.
    "voice": ("Say pause or stop at any time.",
              "When I'm not talking or counting, you can also say next, back, repeat or help.",
              "If the pain turns sharp at any point, stop and say: it hurts."),
    "keys": ("Press space to pause or carry on, n for next, b for back, r to repeat, "
             "or q to stop.",
             "If the pain turns sharp at any point, stop and press x."),
    "none": ("", "If the pain turns sharp at any point, stop."),
}
HELP_TEXTS = {
    "voice": "You can say next, back, repeat, pause, resume or stop. "
             "If something hurts, say: it hurts.",
    "keys": WELCOME_CONTROLS["keys"][0] + " If something hurts, press x.",
    "none": "",
}


def build(step: Step, dur: Durations, routine_name: str = "", controls: str = "voice",
          sets_done: int | None = None) -> Plan:
    """Lay out one step's cues using the real length of each phrase (`sets_done`: so far)."""
    if step.kind == "welcome":
        *lines, pain = WELCOME_CONTROLS[controls]
        how = [line for line in lines if line]
        texts = [
            f"Welcome. Let's start {_the(routine_name)}." if routine_name else "Welcome.",
            *how,
            pain,
        ]
        cues = _sequence(texts, "instruction", dur)
        return Plan(step, tuple(cues), _end(cues, dur), "Getting started",
                    repeat_text=" ".join(how) or pain)
    if step.kind == "finish":
        # "Well done" after 0 of 15 sets rang false (a user's run-through). No command word.
        last = ("That's the session done. Well done." if sets_done != 0 else "That's the end "
                "of the session, with nothing done today. Rest, and try it another time.")
        cues = _sequence([last], "instruction", dur)
        return Plan(step, tuple(cues), _end(cues, dur), "Session complete")
    assert step.exercise is not None
    step = replace(step, exercise=for_side(step.exercise, step.side))
    ex = step.exercise
    assert ex is not None
    if step.kind == "intro":
        texts = intro_texts(step)
        cues = [Cue(0.0, state={"change": "exercise", "exercise": ex.id, "name": ex.name,
                                "side": step.side,  # level None: the calf has no levels
                                "level": ex.level if ex.levels else None})]
        cues += _sequence(texts, "instruction", dur)
        return Plan(step, tuple(cues), _end(cues, dur), ex.cue or ex.name,
                    repeat_text=" ".join(texts))
    if step.kind == "rest":
        return _rest(step, ex, dur)
    return _reps(step, ex, dur) if ex.kind == "reps" else _hold(step, ex, dur)


def _announce(step: Step, ex: Exercise) -> str:
    last = step.set == ex.sets and ex.sets > 1
    head = "Last set." if last else f"Set {words.number(step.set)} of {words.number(ex.sets)}."
    cue = ex.set_cues[(step.set - 1) % len(ex.set_cues)] if ex.set_cues else ex.cue
    end = "." if cue and cue[-1] not in ".!?" else ""  # "Go Twenty-five reps." ran on
    return f"{head} {cue}{end}".strip()


def _set_state(step: Step, ex: Exercise) -> dict[str, Any]:
    return {"change": "set", "exercise": ex.id, "side": step.side, "set": step.set,
            "sets": ex.sets}


def _hold(step: Step, ex: Exercise, dur: Durations) -> Plan:
    announce = _announce(step, ex)
    start = math.ceil((dur(announce) + GAP) * 100) / 100
    cues = [Cue(0.0, announce, "cue", _set_state(step, ex)),
            Cue(start, state={"change": "hold", "seconds": ex.hold})]
    every = ex.count_every
    beats = [float(n) for n in range(every, int(ex.hold) + 1, every)]
    if not beats or ex.hold - beats[-1] >= 1.0:
        beats.append(ex.hold)  # e.g. a 50 s massage counted every 15 s ends with "fifty"
    half = ex.hold / 2 if ex.hold >= HALFWAY_MIN else None
    for i, beat in enumerate(beats):
        text = words.number(int(round(beat)))
        cues.append(Cue(start + beat, text, "count"))
        nxt = beats[i + 1] if i + 1 < len(beats) else None
        if half is not None and beat >= half and nxt is not None:
            at = start + beat + dur(text) + 0.05
            if at + dur("Halfway.") <= start + nxt - 0.05:
                cues.append(Cue(at, "Halfway.", "cue"))
            half = None
        elif i % max(1, 5 // every) == 0:
            cues.append(Cue(start + beat + 0.5))  # display tick between counts
    end = start + ex.hold
    done = {"change": "set_done", "exercise": ex.id, "side": step.side, "set": step.set,
            "sets": ex.sets, "reps": 0, "hold": ex.hold, "skipped": False}
    last_count = start + beats[-1] + dur(words.number(int(round(beats[-1]))))
    relax_at = max(end, last_count) + 0.1
    cues += [Cue(end, state=done), Cue(relax_at, "And relax.", "cue")]
    cues.sort(key=lambda c: c.at)
    return Plan(step, tuple(cues), _end(cues, dur), ex.cue, (start, end), ex.cue)


def _reps(step: Step, ex: Exercise, dur: Durations) -> Plan:
    reps = f"{words.number(ex.reps).capitalize()} rep{'s' if ex.reps != 1 else ''}"
    announce = f"{_announce(step, ex)} {reps}."
    start = math.ceil((dur(announce) + GAP) * 100) / 100
    period = sum(s for _, s in ex.tempo)
    cues = [Cue(0.0, announce, "cue", _set_state(step, ex))]
    for r in range(1, ex.reps + 1):
        t = start + (r - 1) * period
        count = words.number(r)
        cues.append(Cue(t, count, "count", {"change": "rep", "rep": r, "reps": ex.reps}))
        if r == ex.reps and ex.reps > 1 and dur(count) + dur("Last one.") + 0.15 < ex.tempo[0][1]:
            cues.append(Cue(t + dur(count) + 0.05, "Last one.", "cue"))
        offset = ex.tempo[0][1]
        for word, secs in ex.tempo[1:]:
            if word:
                cues.append(Cue(t + offset, word.capitalize() + ".", "cue"))
            offset += secs
    end = start + ex.reps * period
    done = {"change": "set_done", "exercise": ex.id, "side": step.side, "set": step.set,
            "sets": ex.sets, "reps": ex.reps, "hold": 0.0, "skipped": False}
    cues += [Cue(end, state=done), Cue(end, "And relax.", "cue")]
    return Plan(step, tuple(cues), _end(cues, dur), ex.cue, (start, end), ex.cue)


def _rest(step: Step, ex: Exercise, dur: Durations) -> Plan:
    text = f"Rest for {words.seconds(ex.rest)}. Next, {step.next_label}."
    cues = [Cue(0.0, text, "cue", {"change": "rest", "seconds": ex.rest})]
    free_from = dur(text) + 0.1
    for n in range(1, int(ex.rest)):
        at = ex.rest - n
        if n <= 3 and at >= free_from:
            cues.append(Cue(at, words.number(n), "count"))
        elif n > 3:
            cues.append(Cue(at))  # display tick
    cues.sort(key=lambda c: c.at)
    # A rest shorter than its own sentence lasts until the sentence is over.
    length = max(ex.rest, dur(text) + GAP)
    return Plan(step, tuple(cues), length, f"Rest. Next: {step.next_label}", (0.0, ex.rest), text)

"""The session: one run loop over the steps, driven by a clock and an inbox of commands."""

from __future__ import annotations

import gc
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from voicecoach import memory
from voicecoach import plan as planning
from voicecoach.clock import Clock
from voicecoach.commands import Command, CommandEvent, Inbox
from voicecoach.events import EventLog
from voicecoach.library import Routine
from voicecoach.session_pause import PAUSED_GAP as PAUSED_GAP
from voicecoach.session_pause import REMINDERS, Pausing
from voicecoach.session_types import EndHandler as EndHandler
from voicecoach.session_types import NullView as NullView
from voicecoach.session_types import Outcome as Outcome
from voicecoach.session_types import PainHandler as PainHandler
from voicecoach.session_types import State as State
from voicecoach.session_types import StateHandler as StateHandler
from voicecoach.session_types import StopHandler as StopHandler
from voicecoach.session_types import View as View
from voicecoach.speaker import Speaker, estimate_seconds

#: "back" within this many seconds of a step's start goes to the step before.
BACK_RESTARTS_AFTER = 3.0
#: Seconds of quiet after the pain dialogue, when the person chose to carry on, before the
#: step goes on: the counting came back 0.08 s after "carry on gently", with the person still
#: getting back into position (a user's run-through, 2026-12-06).
PAIN_SETTLE = 3.0


@dataclass
class Session(Pausing):
    """Runs a routine from the first step to the last, or until stopped."""

    routine: Routine
    clock: Clock
    speaker: Speaker
    inbox: Inbox
    log: EventLog
    view: View = field(default_factory=NullView)
    on_pain: PainHandler | None = None
    on_end: EndHandler | None = None
    on_state: StateHandler | None = None
    on_stop: StopHandler | None = None
    controls: str = "voice"
    """How the person steers: "voice", "keys" or "none" (planning.WELCOME_CONTROLS)."""
    state: State = State.READY
    stopped_by: str | None = None
    commands: Counter[str] = field(default_factory=Counter)
    sets_done: int = 0
    _done_exercises: list[str] = field(default_factory=list)

    def run(self) -> bool:
        """Run to the end; True when every step was reached (skips allowed), False if stopped."""
        steps = planning.steps(self.routine)
        self.speaker.prepare(self.phrases(steps))
        self.log.emit("session_start", routine=self.routine.id,
                      exercises=[e.id for e in self.routine.exercises],
                      side=self._sides(), level=None)
        self._enter(State.RUNNING)
        i, completed, aborted = 0, False, False
        # A full collection walks every object in the process: in a big one (a test run, an
        # app with models loaded) that stalls the run loop and the audio callback past a
        # count's hand-over. What exists now lives all session anyway, so the collector leaves
        # it alone until the end (unless someone froze it already). No collection first: it
        # would cost 20-30 ms before the first word, to free a little leftover garbage.
        froze = gc.get_freeze_count() == 0
        if froze:
            gc.freeze()
        try:
            while i < len(steps):
                outcome, position = self._play(steps[i], i, len(steps))
                # Between steps the run loop has nothing due: hand freed heap pages back (the
                # soak reports how long it takes), or a long session's memory creeps up.
                memory.give_back()
                if outcome is Outcome.STOP:
                    break
                if outcome in (Outcome.DONE, Outcome.NEXT):
                    i += 1
                elif outcome is Outcome.PAIN:
                    i = self._next_exercise(steps, i)
                elif outcome is Outcome.BACK:
                    i = i if position > BACK_RESTARTS_AFTER else self._previous(steps, i)
            else:
                completed = True
        except BaseException:
            aborted = True
            raise
        finally:
            if froze:
                gc.unfreeze()
            if not completed:
                self.speaker.cut()
            self._enter(State.FINISHED)
            if self.on_end is not None and not aborted:
                self.on_end(self)
            summary = self.summary(completed)
            self.log.emit("session_end", completed=completed, summary=summary)
            self.view.end(summary)
        return completed

    def phrases(self, steps: list[planning.Step]) -> list[str]:
        """Everything the session may say, in the order it will first be needed."""
        seen: dict[str, None] = {}
        for step in steps:
            # Estimated lengths: asking the speaker would render everything before the first
            # word. Only optional cues depend on lengths, and they are added below anyway.
            for cue in planning.build(step, estimate_seconds, self.routine.name,
                                      self.controls).cues:
                if cue.text:
                    seen.setdefault(cue.text)
        for extra in ("Halfway.", "Last one.", "Paused.", "Resuming.",
                      planning.HELP_TEXTS[self.controls], REMINDERS[self.controls]):
            if extra:
                seen.setdefault(extra)
        return list(seen)

    def summary(self, completed: bool) -> dict[str, Any]:
        return {
            "routine": self.routine.id,
            "completed": completed,
            "sets_done": self.sets_done,
            "sets_planned": sum(e.sets * (2 if e.side == "both" else 1)
                                for e in self.routine.exercises),
            "exercises_started": list(dict.fromkeys(self._done_exercises)),
            "seconds": round(self.clock.now(), 3),
            "commands": dict(self.commands),
        }

    # -- one step ---------------------------------------------------------------------------

    def _play(self, step: planning.Step, index: int, total: int) -> tuple[Outcome, float]:
        plan = planning.build(step, self.speaker.duration, self.routine.name, self.controls,
                              self.sets_done)
        if step.exercise is not None and step.kind == "intro":
            self._done_exercises.append(step.exercise.id)
        anchor = self.clock.now()
        self.view.step(plan, index, total, anchor)
        cues, i = plan.cues, 0
        floor = 0.0  # step time never runs backwards, even while a repeat is being spoken
        handed = False  # the current cue's words are already with the speaker (lead)
        while True:
            cue = cues[i] if i < len(cues) else None
            target = anchor + (cue.at if cue else plan.length)
            early = bool(cue is not None and cue.text and not handed and self.speaker.lead > 0)
            event = self.clock.wait(self.inbox, target - self.speaker.lead if early else target)
            if event is None:
                if cue is None:
                    return Outcome.DONE, self.clock.now() - anchor
                if early:
                    # Audio is placed on the stream's clock, so it is handed over ahead of
                    # time; the state change and the screen wait for the deadline itself.
                    self.speaker.say(cue.text, cue.kind, target)
                    handed = True
                    continue
                self._fire(cue, target, speak=not handed)
                i, handed = i + 1, False
                continue
            if event.command is Command.ANSWER:
                continue  # answers only matter while a question is open
            command = self._note(event)
            position = max(self.clock.now() - anchor, floor)
            if (command in (Command.PAUSE, Command.TOGGLE, Command.REPEAT, Command.HELP)
                    or self._asks_first(event)):
                i, position = self._rewind(plan, i, position)
                if command is Command.REPEAT and step.kind in ("intro", "welcome"):
                    self.speaker.cut()
                    return Outcome.RESTART, position
                handed = False
                resumed = self._hold_still(event, plan)
                if isinstance(resumed, float):
                    anchor, floor = resumed - position, position
                    continue
                command = Command[resumed.name]  # next, back, stop or pain said while paused
            if command in (Command.NEXT, Command.BACK, Command.STOP, Command.PAIN):
                self.speaker.cut()
                handed = False
                if command is Command.PAIN:
                    outcome = self._pain()
                    if outcome is not None:  # skipped or stopped: what was done of it counts
                        self._skipped(plan, cues[:i], position)
                    if outcome is None:  # carry on with this exercise where it was
                        i, position = self._rewind(plan, i, position)
                        anchor = self.clock.now() + PAIN_SETTLE - position
                        floor = position
                        continue
                    return outcome, position
                if command in (Command.NEXT, Command.STOP):
                    # Ended early, the set still counts for what was done of it: a Ctrl-C
                    # (a STOP from the signal) or a spoken stop after 6 of 10 leg raises lost
                    # all six, while "next" kept them (a user's run-through, 2026-12-06).
                    self._skipped(plan, cues[:i], position)
                if command is Command.STOP:
                    # ...unless it came while paused, from another source than the pause.
                    self.stopped_by = self.stopped_by or event.source
                return Outcome[command.name], position
            # RESUME while running: nothing to do.

    def _enter(self, state: State) -> None:
        self.state = state
        if self.on_state is not None:
            running = state in (State.RUNNING, State.PAUSED)
            self.on_state(state is State.PAUSED if running else None)

    def _fire(self, cue: planning.Cue, at: float, speak: bool = True) -> None:
        if cue.state is not None:
            self.log.emit("state", t=max(at, self.clock.now()), **cue.state)
            if cue.state["change"] == "set_done":
                self.sets_done += 1
        if cue.text and speak:
            self.speaker.say(cue.text, cue.kind, at)
        self.view.cue(cue, at)

    def _rewind(self, plan: planning.Plan, i: int, position: float) -> tuple[int, float]:
        """Where to continue after a pause: an interrupted sentence is said again, whole."""
        for j in range(i - 1, -1, -1):
            c = plan.cues[j]
            spoken = c.at + self.speaker.duration(c.text) if c.text else c.at
            if c.kind == "instruction" and spoken > position:
                return j, c.at
            if c.text:
                break
        return i, position


    def _confirmed(self) -> bool:
        """Ask the person whether a spoken "stop" is meant (on_stop); True: end the session."""
        return self.on_stop is not None and self.on_stop(self)

    def _note(self, event: CommandEvent) -> Command:
        name = event.command.value
        self.commands[name] += 1
        fields: dict[str, Any] = {"name": name, "source": event.source}
        if event.heard:
            fields["heard"] = event.heard
        self.log.emit("command", **fields)
        return event.command

    def _skipped(self, plan: planning.Plan, fired: tuple[planning.Cue, ...], pos: float) -> None:
        """Record a set cut short (by "next", "stop" or pain) with what was done of it."""
        step = plan.step
        if step.kind != "work" or plan.span is None or step.exercise is None:
            return
        changes = {c.state["change"] for c in fired if c.state}
        if "set" not in changes or "set_done" in changes:
            return  # the set never started, or it was already finished
        ex = step.exercise
        reps = max((c.state["rep"] for c in fired if c.state and c.state["change"] == "rep"),
                   default=0)
        held = 0.0 if ex.kind == "reps" else max(0.0, min(pos, plan.span[1]) - plan.span[0])
        self.log.emit("state", change="set_done", exercise=ex.id, side=step.side, set=step.set,
                      sets=ex.sets, reps=reps, hold=round(held, 2), skipped=True)

    def _pain(self) -> Outcome | None:
        """"It hurts": None to carry on, PAIN to skip the exercise, STOP to end the session."""
        self.log.emit("state", change="pain")
        if self.on_pain is None:
            self._say_now("Stopping this exercise. Rest a moment; we'll move on.", "cue")
            return Outcome.PAIN
        action = self.on_pain(self)
        if action == "stop":
            self.stopped_by = "pain"
            return Outcome.STOP
        return Outcome.PAIN if action == "skip" else None

    # -- navigation -------------------------------------------------------------------------

    @staticmethod
    def _previous(steps: list[planning.Step], i: int) -> int:
        j = i - 1
        while j > 0 and steps[j].kind == "rest":
            j -= 1
        return max(j, 0)

    @staticmethod
    def _next_exercise(steps: list[planning.Step], i: int) -> int:
        current = steps[i].exercise
        j = i + 1
        while j < len(steps) and steps[j].exercise is current and current is not None:
            j += 1
        return j

    @property
    def current_exercise(self) -> str | None:
        """Id of the exercise most recently started."""
        return self._done_exercises[-1] if self._done_exercises else None

    def _sides(self) -> str:
        sides = {e.side for e in self.routine.exercises}
        return sides.pop() if len(sides) == 1 else "mixed"

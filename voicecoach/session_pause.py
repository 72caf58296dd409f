"""The session held still: a pause, help or a repeat said out of turn, a spoken stop to confirm."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicecoach import plan as planning
from voicecoach.commands import Command, CommandEvent
from voicecoach.session_types import Outcome, State

if TYPE_CHECKING:
    from voicecoach.clock import Clock
    from voicecoach.commands import Inbox
    from voicecoach.events import EventLog
    from voicecoach.session_types import StopHandler, View
    from voicecoach.speaker import Speaker

#: Silence between cutting the sound and saying "Paused.".
PAUSED_GAP = 0.25
#: Seconds paused before the coach says, once, how to carry on: a pause taken by mistake (a
#: word misheard, or a TV) left it silent until spoken to (a user's run-through, 2026-12-07).
PAUSE_REMINDER = 45.0
REMINDERS = {"voice": "Still paused. Say resume when you're ready.",
             "keys": "Still paused. Press space when you're ready.",
             "none": ""}


class Pausing:
    """Session's methods for holding a step still (pause, help, repeat, a stop to confirm)."""

    if TYPE_CHECKING:
        # What these use of the Session (a dataclass: its fields are declared there).
        clock: Clock
        speaker: Speaker
        inbox: Inbox
        log: EventLog
        view: View
        on_stop: StopHandler | None
        controls: str
        stopped_by: str | None

        def _enter(self, state: State) -> None: ...
        def _fire(self, cue: planning.Cue, at: float, speak: bool = True) -> None: ...
        def _note(self, event: CommandEvent) -> Command: ...
        def _confirmed(self) -> bool: ...

    def _hold_still(self, event: CommandEvent, plan: planning.Plan) -> float | Outcome:
        """Pause (or speak help/repeat) with the step frozen; the time to continue from."""
        command = event.command
        self.speaker.cut()
        if command in (Command.REPEAT, Command.HELP):
            return self._say_now(*self._help_or_repeat(command, plan))
        self._enter(State.PAUSED)
        self.log.emit("state", change="paused")
        self.view.paused(True, self.clock.now())
        # A spoken "stop" pauses like "pause", then asks (below); the question replaces
        # "Paused.".
        pending: CommandEvent | None = event if self._asks_first(event) else None
        if pending is None:
            # A beat of silence first, so the cut itself is heard as the pause taking effect.
            self._fire(planning.Cue(0.0, "Paused.", "cue"), self.clock.now() + PAUSED_GAP)
        remind = REMINDERS[self.controls]
        remind_at = self.clock.now() + PAUSE_REMINDER if remind else None
        while True:
            if pending is not None:  # already noted by the run loop
                event, pending = pending, None
            else:
                waited = self.clock.wait(self.inbox, remind_at)
                if waited is None:
                    self._fire(planning.Cue(0.0, remind, "cue"), self.clock.now())
                    remind_at = None
                    continue
                event = waited
                if event.command is Command.ANSWER:
                    continue
                self._note(event)
            command = event.command
            if command in (Command.RESUME, Command.TOGGLE):
                break
            if self._asks_first(event) and not self._confirmed():
                break  # "no": carry on, as after "resume"
            if command in (Command.STOP, Command.NEXT, Command.BACK, Command.PAIN):
                self.speaker.cut()
                self._enter(State.RUNNING)
                # Not "resumed": the session moves on (a run-through saw "resumed" as the
                # pain question began).
                self.view.paused(False, self.clock.now(), resumed=False)
                if command is Command.STOP:
                    self.stopped_by = event.source
                return Outcome[command.name]
            if command in (Command.HELP, Command.REPEAT):
                self.speaker.cut()
                self._say_now(*self._help_or_repeat(command, plan))
        self.speaker.cut()
        self._enter(State.RUNNING)
        self.log.emit("state", change="resumed")
        self.view.paused(False, self.clock.now())
        return self._say_now("Resuming.", "cue")

    def _asks_first(self, event: CommandEvent) -> bool:
        """A spoken "stop" is confirmed before the session ends (StopHandler)."""
        return (event.command is Command.STOP and event.source == "voice"
                and self.on_stop is not None)

    def _help_or_repeat(self, command: Command, plan: planning.Plan) -> tuple[str, str]:
        if command is Command.HELP:
            return planning.HELP_TEXTS[self.controls] or planning.HELP_TEXTS["voice"], "cue"
        return plan.repeat_text or plan.label, "instruction"

    def _say_now(self, text: str, kind: str) -> float:
        """Say `text` at once; returns when the step may carry on (after it, plus a gap)."""
        now = max(self.clock.now(), self.speaker.busy_until())
        self._fire(planning.Cue(0.0, text, kind), now)
        return now + self.speaker.duration(text) + planning.GAP

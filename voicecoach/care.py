"""Around the session: disclaimer, red-flag check, progression, pain questions and the history.

Everything here talks through the same speaker and reads answers from the same inbox as the
session, so a "yes" said aloud and a "y" pressed on the keyboard take one path.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from dataclasses import replace

from voicecoach import safety
from voicecoach.answers import DIGIT_GAP, Answer, Asker, Expect, Heard, Talked
from voicecoach.clock import Clock
from voicecoach.commands import Command, Inbox
from voicecoach.events import EventLog
from voicecoach.history import DB_NAME, HistoryStore, data_dir
from voicecoach.library import Routine
from voicecoach.plan import Cue
from voicecoach.progression import plan_levels
from voicecoach.recorder import Recorder
from voicecoach.session import Session, View
from voicecoach.speaker import Speaker

#: Exit status when a red flag was answered yes: the session does not run.
EXIT_RED_FLAG = 3
#: Asked on a spoken "stop" (Session.on_stop). No "yes" in it: answers never count while the
#: coach speaks (spotter.py), and a question that holds none cannot answer itself even so.
STOP_QUESTION = "Do you want to end the session now?"


class Abort(Exception):
    """Stop (a key, a voice command or a signal) arrived while a question was open."""


class Care:
    """Wires the history recorder and the safety dialogue around one session."""

    def __init__(self, args: argparse.Namespace, clock: Clock, speaker: Speaker, inbox: Inbox,
                 log: EventLog, view: View, notice: Callable[[str], None],
                 can_answer: bool, expect: Expect | None = None, keys: bool = True,
                 record: bool = True, talked: Talked | None = None) -> None:
        self.args, self.clock, self.speaker, self.inbox = args, clock, speaker, inbox
        self.log = log
        self.view, self.notice, self.can_answer = view, notice, can_answer
        folder = data_dir(getattr(args, "data_dir", None))
        self.recorder = Recorder.open(folder, notice)
        self.history_path = folder / DB_NAME  # read when the recorder could not open it
        # A preview changes nothing in the history: no session, no check; on the virtual
        # clock, the first real session still hears the disclaimer.
        self.record = record
        if record:
            log.subscribe(self.recorder)
        # Spoken answers come from the listener, which must be told when a question is open;
        # the screen shows the keys that answer it.
        def expecting(section: str | None) -> None:
            if section is not None:
                self._drop_stale()
            view.asking(section)
            if expect is not None:
                expect(section)

        # The second digit of a typed "10" may take a person a second, whatever the session's
        # --speed (the asker waits on the session's clock).
        speed = getattr(clock, "speed", 1.0)  # a VirtualClock has none: nobody waits there
        self.asker = Asker(self.say, self.wait, expect=expecting,
                           digit_gap=DIGIT_GAP * speed if keys else None,
                           voice=expect is not None, talked=talked)
        self.aborted = False
        #: The person chose to rest, in pain before the session (not a warning sign).
        self.rested = False
        self._confirming = False

    def _drop_stale(self) -> None:
        """Keys and words that came before a question opens are no answer to it: an "n"
        pressed to get on through the introduction answered "no" to the first warning sign
        before it was asked (a review, 2026-12-07). A stop still stops."""
        # Live events, then on the virtual clock what a script sent before now: as old.
        stale = [*iter(lambda: self.inbox.get(0), None),
                 *iter(lambda: self.inbox.next_scripted(self.clock.now()), None)]
        for event in stale:
            if event.command is Command.STOP:
                self.inbox.put(event)

    # -- talking outside the run loop -------------------------------------------------------

    def say(self, text: str) -> None:
        """Say `text` and return when it has been said."""
        at = max(self.clock.now(), self.speaker.busy_until())
        self.speaker.say(text, "instruction", at)
        self.view.cue(Cue(0.0, text, "instruction"), at)
        self.clock.wait(Inbox(), at + self.speaker.duration(text))

    def wait(self, timeout: float) -> Heard | None:
        deadline = self.clock.now() + timeout
        while True:
            event = self.clock.wait(self.inbox, deadline)
            if event is not None and event.command is Command.STOP:
                raise Abort(event.source)
            # Asked whether to end, "go on" or "resume" means no.
            if (self._confirming and event is not None
                    and event.command is Command.RESUME):
                return Answer("no", event.source)
            # A question already waits in silence, so "pause" (or "go on") asks for nothing and
            # answers nothing: met with "please answer yes or no" it once had the coach talk
            # over the answer that followed (a barge-in the coach's own voice set off, under
            # load, test_answers_voice.py).
            if event is not None and event.command in (Command.PAUSE, Command.RESUME):
                continue
            if event is not None:  # what each question got, for the events file
                self.log.emit("answer", heard=event.heard, source=event.source)
            return event

    # -- before ----------------------------------------------------------------------------

    def before(self, routine: Routine) -> Routine | None:
        """Disclaimer, red-flag check and today's levels; None when the session must not run."""
        store = self.recorder.store
        self.speaker.prepare([STOP_QUESTION, safety.DISCLAIMER, safety.INTRO,
                              *(f.question for f in safety.RED_FLAGS), safety.ALL_CLEAR,
                              safety.PAIN_BEFORE_QUESTION, safety.PAIN_AFTER_QUESTION,
                              safety.SEVERE_BEFORE, safety.SEVERE_BEFORE_QUESTION,
                              safety.SEVERE_BEFORE_GO, safety.SEVERE_BEFORE_REST])
        try:
            return self._before(routine, store)
        except Abort:
            self.aborted = True
            self.notice("stopped before the session started")
            return None

    def _before(self, routine: Routine, store: HistoryStore | None) -> Routine | None:
        if safety.first_run(store):
            self.say(safety.DISCLAIMER)
            # A sped-up preview in real time was heard all the same (each one asked it
            # again); only a preview on the virtual clock leaves it for the first session.
            if self.record or not self.clock.virtual:
                safety.disclaimer_shown(store)
        # A yes stands until the questions are answered again; a preview on the virtual
        # clock, which does no exercise, still shows its script.
        sign, known, no_check = None, True, self.args.no_check
        if self.args.clock != "virtual":
            sign, known = safety.standing_sign(store, self.history_path)
        if no_check and not known:
            # A "yes" answered before may be in there: skipping the questions once must not
            # skip past it.
            self.notice("your history cannot be read, so a warning sign reported before "
                        "is not known: the red-flag questions are asked despite --no-check")
            no_check = False
        if sign is not None and (no_check or not self.can_answer):
            self._still_flagged(sign)  # nobody is asked whether it has cleared
            return None
        if not no_check and safety.due(store):
            result = safety.run_check(self.asker.yes_no if self.can_answer else None, self.say,
                                      go_on=sign is None)
            safety.remember(result, self.recorder if self.record else None)
            if not result.proceed:
                self.notice("a warning sign was reported: no exercise today; please see a "
                            "doctor soon")
                return None
            if sign is not None and not result.answered:
                # Asked, but not every question answered (nobody at the microphone): the
                # sign reported last time has not been cleared.
                self._still_flagged(sign)
                return None
        if self.can_answer:
            # As an event: in the events file too, and in the history through the Recorder
            # (which a preview does not subscribe).
            before = self.asker.number(safety.PAIN_BEFORE_QUESTION)
            self.log.emit("pain", when="before", value=before)
            if (before is not None and before >= safety.SEVERE_PAIN
                    and not safety.go_on_in_pain(self.asker.yes_no, self.say)):
                self.notice(f"pain {before} of 10 before the session: no exercise today")
                self.rested = True
                return None
        if store is None:
            return routine
        try:
            levels = plan_levels(store.sessions(limit=30), routine.exercises)
        except Exception as exc:  # noqa: BLE001 - history trouble must not block exercise
            self.notice(f"could not read your history for progression ({exc})")
            return routine
        exercises = []
        for ex in routine.exercises:
            s = levels.get(ex.id)
            if s is not None and s.level != ex.level:
                ex = ex.at_level(s.level)
            if s is not None and s.announcement:
                self.say(s.announcement)
            exercises.append(ex)
        return replace(routine, exercises=tuple(exercises))

    def _still_flagged(self, sign: str) -> None:
        self.say(safety.STILL_FLAGGED.format(sign=sign))
        self.notice("a warning sign was reported at the last safety check: no exercise until "
                    "the questions are answered again (voicecoach check)")

    # -- during ----------------------------------------------------------------------------

    def on_pain(self, session: Session) -> str:
        """"It hurts": ask how bad, offer to skip; "continue", "skip" or "stop"."""
        try:
            outcome = safety.pain_dialogue(self.asker.number, self.asker.yes_no, self.say)
        except Abort:
            # Ended mid-question ("stop", a key, a signal): still a stop for pain, on record.
            outcome = safety.PainOutcome(None, "stop")
        self.log.emit("pain", when="during", exercise=session.current_exercise,
                      value=outcome.level, skipped=outcome.skip, action=outcome.action)
        return outcome.action

    def confirm_stop(self, session: Session) -> bool:
        """A spoken "stop": ask before ending. "stop" again, yes, or no answer at all ends the
        session (the person asked for it); no, "resume" or "go on" carries on."""
        self._confirming = True
        try:
            answer = self.asker.yes_no(STOP_QUESTION)
        except Abort:
            return True
        finally:
            self._confirming = False
        return answer is not False

    # -- after -----------------------------------------------------------------------------

    def after(self, session: Session) -> None:
        """Pain after the session (not after Ctrl-C or a signal: the person wants out)."""
        if self.can_answer and session.sets_done > 0 and session.stopped_by != "signal":
            with contextlib.suppress(Abort):
                self.log.emit("pain", when="after",
                              value=self.asker.number(safety.PAIN_AFTER_QUESTION))

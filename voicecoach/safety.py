"""Safety: red-flag questions before exercising, the disclaimer, and what to do when it hurts."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from voicecoach.answers import parse_number_words as parse_number_words
from voicecoach.history import HistoryError, HistoryStore

#: Days a clear check stays valid; after that the questions are asked again.
CHECK_INTERVAL_DAYS = 7
#: Pain at or above this (0-10) during an exercise: suggest ending the session for today.
SEVERE_PAIN = 7
DISCLAIMER_KEY = "disclaimer_shown"


@dataclass(frozen=True)
class RedFlag:
    """A warning sign that means: do not exercise today, see a doctor."""

    id: str
    """Short key stored with the answers ("calf")."""
    question: str
    """The question said aloud; "yes" means the warning sign is present."""
    meaning: str
    """What a yes may mean, said before the advice."""
    sign: str
    """The sign in a few words, for reading the list aloud."""
    urgent: str = ""
    """Said after the advice, for this sign only: when to call emergency services."""


RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        "calf",
        "Is the calf of your sore leg swollen, red or warm, or painful to touch?",
        "A swollen, red or warm calf can be a sign of a blood clot in the leg, a thrombosis.",
        "a calf that is swollen, red, warm or painful",
        # A clot can travel to the lungs: breathlessness or chest pain then cannot wait.
        "If you also become short of breath or have chest pain, call emergency services.",
    ),
    RedFlag(
        "sudden",
        "Did severe pain in your knee come on suddenly?",
        "Severe pain that starts suddenly should be checked before you exercise the knee.",
        "severe knee pain that came on suddenly",
    ),
    RedFlag(
        "weight",
        "Is your knee unable to take your weight when you stand on it?",
        "A knee that cannot carry your weight needs to be examined first.",
        "a knee that cannot take your weight",
    ),
)

INTRO = "Before we start, a few safety questions. Please answer yes or no."
ALL_CLEAR = "Thank you. No warning signs, so we can carry on."
SEE_A_DOCTOR = "Please do not exercise today, and see a doctor soon, today if you can."
#: Said instead of the questions when nobody can answer and the last answered check had a yes:
#: reading the signs out and carrying on would exercise a knee someone said was not fit to.
STILL_FLAGGED = ("Last time, a warning sign was reported: {sign}. So there is no exercise "
                 "today. Please see a doctor first. When you have, run voicecoach check and "
                 "answer the questions again.")
DISCLAIMER = (
    "A quick note: this coach guides a home exercise programme. It does not replace a doctor "
    "or a physiotherapist. If you are not sure these exercises suit you, ask one first."
)
SHARP_PAIN_REMINDER = "If the pain turns sharp at any point, stop and say: it hurts."
PAIN_BEFORE_QUESTION = "Before we begin: how is your knee, from zero to ten?"
PAIN_AFTER_QUESTION = "How is your knee now, from zero to ten?"


def read_aloud_text(flags: tuple[RedFlag, ...] = RED_FLAGS, go_on: bool = True) -> str:
    """What is said when nobody can answer: the signs, then (before a session) carry on."""
    signs = [f.sign for f in flags]
    listed = signs[0] if len(signs) == 1 else ", ".join(signs[:-1]) + ", or " + signs[-1]
    text = f"A safety note. If you have {listed}, stop now and see a doctor soon."
    return text + " Otherwise, let's carry on." if go_on else text


@dataclass(frozen=True)
class SafetyResult:
    """The outcome of one red-flag check."""

    answers: tuple[tuple[str, bool | None], ...]
    """(flag id, answer) for every flag; None when it was not asked or not answered."""
    flagged: bool
    """True when any answer was yes: the session must not go ahead."""
    answered: bool
    """False when nobody answered and the signs were only read aloud."""
    advice: str = ""
    """What was said after a yes; empty otherwise."""

    @property
    def proceed(self) -> bool:
        """True when the session may go ahead."""
        return not self.flagged


class SafetyLog(Protocol):
    """Somewhere a check can be remembered: HistoryStore or Recorder."""

    def log_safety(self, answers: Mapping[str, bool | None], flagged: bool,
                   answered: bool = True, wall: float | None = None) -> None: ...


def due(store: HistoryStore | None, now: float | None = None,
        interval_days: float = CHECK_INTERVAL_DAYS) -> bool:
    """True on first run, after `interval_days`, after a yes, or when history is unreadable."""
    try:
        last = store.last_safety_check() if store is not None else None
    except HistoryError:
        last = None
    if last is None or last.flagged:
        return True
    now = time.time() if now is None else now
    return now - last.wall >= interval_days * 86400


def still_flagged(store: HistoryStore | None) -> str | None:
    """The warning sign answered yes at the last answered check, in a few words, if it had
    one (None: none, or history unreadable, when the questions are due anyway)."""
    with contextlib.suppress(HistoryError):
        return _flagged(store)
    return None


def standing_sign(store: HistoryStore | None, path: Path) -> tuple[str | None, bool]:
    """`still_flagged`, read from the history at `path` itself when the coach could not
    open it to write (a full disk), and whether it could be read: False when it is there
    but damaged or unreadable, so that a sign reported before is not known."""
    if store is not None:
        with contextlib.suppress(HistoryError):
            return _flagged(store), True
        return None, False
    if not path.exists():
        return None, True
    try:
        # Immutable: no file made beside it (a -shm file took the last 8 kB of a full disk,
        # which the session's pending copy needed).
        with HistoryStore(path, immutable=True) as readonly:
            return _flagged(readonly), True
    except HistoryError:
        return None, False


def _flagged(store: HistoryStore | None) -> str | None:
    """`still_flagged`, or HistoryError."""
    last = store.last_safety_check() if store is not None else None
    if last is None or not last.flagged:
        return None
    said = {key for key, answer in last.answers if answer}
    # A sign this version no longer asks about is still a yes; it is not named as another.
    return next((f.sign for f in RED_FLAGS if f.id in said), "a warning sign")


def run_check(
    ask: Callable[[str], bool | None] | None,
    say: Callable[[str], None],
    flags: tuple[RedFlag, ...] = RED_FLAGS,
    go_on: bool = True,
) -> SafetyResult:
    """Ask each red flag; stop at the first yes with advice, or read them out if nobody answers.

    `ask` is None when it is known up front that nobody can answer (no terminal, not
    listening): then the signs are read out straight away. `go_on`: a session follows (so
    "let's carry on" is said after them; not after `voicecoach check` alone).
    """
    answers: dict[str, bool | None] = {f.id: None for f in flags}
    if ask is None:
        say(read_aloud_text(flags, go_on))
        return SafetyResult(tuple(answers.items()), False, False)
    say(INTRO)
    for i, flag in enumerate(flags):
        answer = ask(flag.question)
        if answer is None:
            # Nobody can answer (no terminal, not listening, or silence): warn and carry on.
            say(read_aloud_text(flags[i:], go_on))
            return SafetyResult(tuple(answers.items()), False, False)
        answers[flag.id] = answer
        if answer:
            advice = " ".join(filter(None, (flag.meaning, SEE_A_DOCTOR, flag.urgent)))
            say(advice)
            return SafetyResult(tuple(answers.items()), True, True, advice)
    say(ALL_CLEAR)
    return SafetyResult(tuple(answers.items()), False, True)


def remember(result: SafetyResult, log: SafetyLog | None) -> bool:
    """Store a check; False when it could not be. A failing history must not stop the safety
    advice from standing. Dated now: a check that waits in a pending file must not take the
    time it is written back at, since the latest answered one decides."""
    if log is None:
        return False
    try:
        log.log_safety(dict(result.answers), result.flagged, result.answered, time.time())
    except HistoryError:
        return False
    return True


def first_run(store: HistoryStore | None) -> bool:
    """True until the disclaimer has been shown once (and always when history is unreadable)."""
    try:
        return store is None or store.get_meta(DISCLAIMER_KEY) is None
    except HistoryError:
        return True


def disclaimer_shown(store: HistoryStore | None, now: float | None = None) -> None:
    """Remember that the disclaimer was shown, so later runs skip it."""
    if store is not None:
        with contextlib.suppress(HistoryError):
            store.set_meta(DISCLAIMER_KEY, str(time.time() if now is None else now))


@dataclass(frozen=True)
class PainOutcome:
    """What to do after the person said it hurts."""

    level: int | None
    """How bad, 0-10; None when nobody answered."""
    action: str
    """"continue" this exercise, "skip" to the next one, or "stop" the session."""

    @property
    def skip(self) -> bool:
        """True when the current exercise should not go on."""
        return self.action != "continue"


#: Said when the pain before the session is SEVERE_PAIN or more, and the question then.
SEVERE_BEFORE = "That is a lot of pain to start with. Resting today may be wiser."
SEVERE_BEFORE_QUESTION = "Would you still like to do the exercises, gently?"
SEVERE_BEFORE_GO = "All right. Go gently, and say it hurts if the pain gets worse."
SEVERE_BEFORE_REST = "Then rest today. If the pain stays this strong, see a doctor."


def go_on_in_pain(ask_yes_no: Callable[[str], bool | None],
                  say: Callable[[str], None]) -> bool:
    """Pain of SEVERE_PAIN or more before the session: say so and ask; True (go on) only on
    a yes. A 10 out of 10 once led straight into the exercises with not a word about it
    (a user's run-through, 2026-12-06); with no answer, the careful choice is to rest."""
    say(SEVERE_BEFORE)
    if ask_yes_no(SEVERE_BEFORE_QUESTION) is True:
        say(SEVERE_BEFORE_GO)
        return True
    say(SEVERE_BEFORE_REST)
    return False


def pain_dialogue(
    ask_number: Callable[[str], int | None],
    ask_yes_no: Callable[[str], bool | None],
    say: Callable[[str], None],
) -> PainOutcome:
    """Stop, ask how bad, and offer to skip; with no answer, skip (the careful choice)."""
    say("Let's stop for a moment.")  # not "this exercise": carrying on is offered next
    level = ask_number("How bad is the pain, from zero to ten?")
    if level is None:
        say("I'll skip this exercise. Rest a moment.")
        return PainOutcome(None, "skip")
    if level >= SEVERE_PAIN:
        say("That is a lot of pain. It's best to stop for today.")
        if ask_yes_no("Shall we end today's session?") is False:
            say("All right, we'll leave this exercise out and go on gently.")
            return PainOutcome(level, "skip")
        say("We'll stop here. Rest, and if the pain stays this strong, see a doctor.")
        return PainOutcome(level, "stop")
    if ask_yes_no("Would you like to skip this exercise?") is False:
        say("All right, carry on gently. Stop if the pain turns sharp.")
        return PainOutcome(level, "continue")
    say("Fine, we'll skip it and move on.")
    return PainOutcome(level, "skip")

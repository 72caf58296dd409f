"""Yes/no and 0-10 answers, by voice or key, read through one path for both."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from voicecoach import words
from voicecoach.answer_words import parse_number_words as parse_number_words
from voicecoach.answer_words import parse_yes_no as parse_yes_no
from voicecoach.phrases import PhraseTable

#: Seconds to wait for an answer before asking once more, then giving up.
ANSWER_TIMEOUT = 20.0
#: Unclear answers tolerated before the question counts as unanswered.
MAX_UNCLEAR = 3
#: Keys take one digit each: after a typed digit that could begin the answer ("1" of "10"),
#: the next digit typed within this many seconds is its second one, as on a TV remote.
DIGIT_GAP = 1.0
#: Seconds after a spoken number is said back in which saying another one puts it right.
CORRECT_SECONDS = 3.0


class Heard(Protocol):
    """What an answer event offers: commands.CommandEvent fits (keys put the key in `heard`)."""

    @property
    def source(self) -> str:
        """"key", "voice" or "script"."""
        ...

    @property
    def heard(self) -> str:
        """The words heard, or the key pressed."""
        ...


@dataclass(frozen=True)
class Answer:
    """An answer that is not a command: typed at a prompt, or scripted in a test."""

    heard: str
    """The words or the key."""
    source: str = "key"
    """"key", "voice" or "script"."""


#: Wait up to `timeout` seconds for the next answer event; None when none came.
Wait = Callable[[float], "Heard | None"]
Say = Callable[[str], None]
#: Tell the listener which answers to listen for ("yes_no", "numbers") or None: none.
Expect = Callable[["str | None"], None]


#: Whether words were heard in sound after a monotonic time (Listener.heard_words_since).
Talked = Callable[[float], bool]
#: Seconds after a question ends before words heard are the person's or a TV's (the
#: recognizer names the question's own last word up to half a second late).
TALK_AFTER = 1.0
#: Said before a question is asked again when words were heard but none answered it.
#: No answer word in it ("no answer I could make out" had one), though a question is open.
TALK_OVER = ("I heard talking, but could not make out an answer. If a TV or a radio is on, "
             "please turn it down.")


def _nobody(section: str | None) -> None:
    """Nobody listens for spoken answers: keys only."""




def _ask(
    question: str,
    parse: Callable[[str], object],
    retry: str,
    say: Say,
    wait: Wait,
    timeout: float,
    tries: int,
    talked: Talked | None = None,
    keys: bool = False,
) -> object:
    """Say the question, then read answers until one parses; None when nobody answers.
    `talked`: whether words were heard, to say why an answer may have been missed."""
    say(question)
    asked = time.monotonic()
    silences = unclear = 0
    # Silence twice means nobody is there; muddled answers get a hint, but not forever.
    while silences < tries and unclear < MAX_UNCLEAR:
        event = wait(timeout)
        if event is None:
            silences += 1
            # Words in the silence after the question, and none an answer: the person's
            # answers drowned in a TV's talk (a user's run-through, 2026-12-07: 8 answers of
            # 8 unheard, and no word of why). After a second: the question's own echo.
            # Only when it asks again: after the last try the session moves on, and the line
            # outlasted the session's end (a run-through: a `say` after `session_end`).
            if silences < tries:
                if talked is not None and talked(asked + TALK_AFTER):
                    say(TALK_OVER + (" You can also answer with the keys." if keys else ""))
                say(question)
                asked = time.monotonic()
            continue
        value = parse(event.heard)
        if value is not None:
            return value
        unclear += 1
        if unclear < MAX_UNCLEAR:
            say(retry)
    return None


def ask_yes_no(
    question: str,
    say: Say,
    wait: Wait,
    table: PhraseTable | None = None,
    timeout: float = ANSWER_TIMEOUT,
    tries: int = 2,
    voice: bool = True,
    keys: bool = True,
    talked: Talked | None = None,
) -> bool | None:
    """Ask a yes/no question; voice ("yes", "no") and keys ("y", "n") land here alike. The
    hint names only the ways to answer there are (`voice`: listening; `keys`: a keyboard)."""
    hint = ("Please answer yes or no." + (" You can also press y or n." if keys else "")
            if voice else "Please answer y for yes or n for no.")
    value = _ask(question, lambda t: parse_yes_no(t, table), hint, say, wait, timeout, tries,
                 talked, keys)
    return value if isinstance(value, bool) else None


def ask_number(
    question: str,
    say: Say,
    wait: Wait,
    table: PhraseTable | None = None,
    low: int = 0,
    high: int = 10,
    timeout: float = ANSWER_TIMEOUT,
    tries: int = 2,
    digit_gap: float | None = DIGIT_GAP,
    voice: bool = True,
    talked: Talked | None = None,
) -> int | None:
    """Ask for a whole number in [low, high]; "seven" by voice or "7" by key. `digit_gap`: how
    long `wait` waits for a key's second digit, in `wait`'s own time (a sped-up session's
    clock runs faster than the person types); None: no keyboard, so no hint about keys.
    `voice`: listening, so the hint says to say it."""

    def parse(text: str) -> int | None:
        n = parse_number_words(text, table)
        return n if n is not None and low <= n <= high else None

    def keys(timeout: float) -> Heard | None:
        # A key is one digit: "1" then "0" is ten, not one (it once saved the worst pain as 1).
        event = wait(timeout)
        if event is None or event.source != "key" or not event.heard.isdigit():
            return event
        digits = event.heard
        while digits != "0" and int(digits) * 10 <= high:
            more = wait(digit_gap or DIGIT_GAP)
            if more is None:
                break
            if more.source != "key" or not more.heard.isdigit():
                # Said meanwhile ("ten" after a typed "1"): the whole spoken answer wins over
                # a lone first digit; a key that is no digit is the answer to parse, unclear.
                return more
            digits += more.heard
        return Answer(digits, "key")

    span = f"a number from {words.number(low)} to {words.number(high)}"
    ten = f"for {words.number(10)}, press 1 then 0." if high >= 10 else ""
    if voice:
        hint = f"Please say {span}."
        if ten and digit_gap is not None:
            hint += f" Or type it: {ten}"
    else:
        hint = f"Please type {span}" + (f": {ten}" if ten else ".")
    value = _ask(question, parse, hint, say, keys, timeout, tries, talked,
                 digit_gap is not None)
    return value if isinstance(value, int) else None


class Asker:
    """Questions for the coach to ask, bound to one way of speaking and one answer stream.

    `wait` is the single path answers arrive by: the keyboard puts the key it read ("y", "7")
    and the listener puts the words it heard ("yes", "seven"); both are parsed the same way.
    """

    def __init__(
        self,
        say: Say,
        wait: Wait,
        table: PhraseTable | None = None,
        timeout: float = ANSWER_TIMEOUT,
        expect: Expect = _nobody,
        digit_gap: float | None = DIGIT_GAP,
        voice: bool = True,
        talked: Talked | None = None,
    ) -> None:
        self.say = say
        self.talked = talked
        self.voice = voice
        self.wait = wait
        self.table = table
        self.timeout = timeout
        self.expect = expect
        self.digit_gap = digit_gap
        self._held: Heard | None = None  # what came while a score was said back, not a number

    def _next(self, timeout: float) -> Heard | None:
        held, self._held = self._held, None
        return held if held is not None else self.wait(timeout)

    def yes_no(self, question: str) -> bool | None:
        # The listener only turns "yes"/"no" into answers while a question is open: in the
        # middle of a set those words are just talk (or the coach's own voice).
        self.expect("yes_no")
        try:
            return ask_yes_no(question, self.say, self._next, self.table, self.timeout,
                              voice=self.voice, keys=self.digit_gap is not None,
                              talked=self.talked)
        finally:
            self.expect(None)

    def number(self, question: str) -> int | None:
        self.expect("numbers")
        sources: list[str] = []

        def wait(timeout: float) -> Heard | None:
            event = self._next(timeout)
            if event is not None:
                sources.append(event.source)
            return event

        try:
            value = ask_number(question, self.say, wait, self.table, timeout=self.timeout,
                               digit_gap=self.digit_gap, voice=self.voice, talked=self.talked)
            if value is not None and sources[-1:] == ["voice"]:
                value = self._said_back(value, wait)
            return value
        finally:
            self.expect(None)

    def _said_back(self, value: int, wait: Wait) -> int:
        """Say a spoken score back ("Three, thank you."): with a TV on, a "two" was stored as
        3, unheard by the person (a run-through, 2026-12-07). Another number said within
        CORRECT_SECONDS puts it right. The echo of the coach's own "three" is the same number,
        and answers said while the coach speaks do not count."""
        for _ in range(2):
            self.say(f"{words.number(value).capitalize()}, thank you.")
            event = wait(CORRECT_SECONDS)
            n = parse_number_words(event.heard, self.table) if event is not None else None
            if n is None or n == value or not 0 <= n <= 10:
                self._held = event if n is None else None  # a key pressed ahead, say
                break
            value = n
        return value

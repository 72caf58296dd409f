"""Answers in words: yes or no, and whole numbers ("about a six"), from what was said or typed."""

from __future__ import annotations

import re

from voicecoach import words
from voicecoach.phrases import PhraseTable, normalize

YES = frozenset("yes yeah yep yup yea aye sure correct true y".split())
NO = frozenset("no nope nah not never false n".split())
#: Whole-utterance phrases that a recognizer may return for a one-word answer.
YES_PHRASES = frozenset({"it is", "i do", "it does", "i am", "i have", "i did", "it did"})
NO_PHRASES = frozenset({"it isn't", "it is not", "i don't", "it doesn't", "i haven't", "i didn't"})

_NUMBERS = {w: i for i, w in enumerate(words.ONES)}
_NUMBERS.update({"twenty": 20, "nothing": 0, "nil": 0})
#: Sound-alikes accepted only when they are the whole answer ("for" inside a sentence is a word).
_ALONE = {"oh": 0, "for": 4, "fore": 4, "to": 2, "too": 2, "won": 1, "ate": 8, "tin": 10}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", normalize(text))


def _table_answer(text: str, section: str, table: PhraseTable | None) -> str | None:
    if table is None or section not in table.answers:
        return None
    return table.match_answer(text, section)


def _english(table: PhraseTable | None) -> bool:
    return table is None or table.language == "en"


def parse_yes_no(text: str, table: PhraseTable | None = None) -> bool | None:
    """True for yes, False for no, None when the words are neither (or both).

    The language's phrase table decides first; keys "y"/"n" work in every language, and for
    English, looser replies ("yep, it is", "not really") are understood too.
    """
    key = _table_answer(text, "yes_no", table)
    if key in ("yes", "no"):
        return key == "yes"
    tokens = _words(text)
    if not _english(table):
        return {"y": True, "n": False}.get(" ".join(tokens))
    phrase = " ".join(tokens)
    if phrase in YES_PHRASES:
        return True
    if phrase in NO_PHRASES:
        return False
    said_yes = any(t in YES for t in tokens)
    said_no = any(t in NO for t in tokens)
    if said_yes == said_no:
        return None
    return said_yes


def parse_number_words(text: str, table: PhraseTable | None = None) -> int | None:
    """The first whole number in `text`: "seven", "7", "about a six", "10/10" -> 7, 7, 6, 10.

    Digits work in every language; words come from the phrase table's "numbers" answers, and
    for English also from a built-in list (so "about a six" from a free-text recognizer works).
    """
    tokens = _words(text)
    for tok in tokens:
        if tok.isdigit():
            return int(tok)
    key = _table_answer(text, "numbers", table)
    if key is not None and key.isdigit():
        return int(key)
    if not _english(table):
        return None
    if len(tokens) == 1 and tokens[0] in _ALONE:
        return _ALONE[tokens[0]]
    for tok in tokens:
        if tok in _NUMBERS:
            return _NUMBERS[tok]
    return None

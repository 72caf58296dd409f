"""What a person can say, per language, as data: phrase tables and the pure text -> command map."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicecoach.commands import Command

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.9/3.10 only
    import tomli as tomllib

DATA_DIR = Path(__file__).resolve().parent / "data"
#: The recognizers' word for "something that is not one of the phrases".
UNKNOWN = "[unk]"


@dataclass(frozen=True)
class PhraseTable:
    """Command phrases and short-answer phrases of one language."""

    language: str
    """Language code, e.g. "en" or "ko"."""
    name: str
    """The language's own name, for messages."""
    commands: Mapping[str, Command]
    """Normalized phrase -> the command it asks for."""
    answers: Mapping[str, Mapping[str, str]]
    """Section (e.g. "yes_no", "numbers") -> normalized phrase -> answer key."""
    vosk_model: str = ""
    """Name of an official vosk model that knows every phrase (for hints)."""
    pocketsphinx: bool = False
    """True when pocketsphinx's bundled (English) model can listen for this language."""
    source: str = field(default="", compare=False)
    """Where the table was read from, for messages."""

    def match(self, text: str) -> Command | None:
        """The command `text` asks for when it is exactly a command phrase (or one repeated)."""
        return _whole(self.commands, text)

    def match_answer(self, text: str, section: str) -> str | None:
        """The answer key (e.g. "yes", "7") when `text` is exactly a phrase of `section`."""
        table = self.answers.get(section)
        if table is None:
            raise KeyError(f"no answer section {section!r} in the {self.name} phrase table")
        return _whole(table, text)

    def match_tail(self, words: Sequence[str]) -> tuple[Command, int] | None:
        """The command whose phrase ends `words` (longest phrase wins) and its word count."""
        best: tuple[Command, int] | None = None
        for phrase, command in self.commands.items():
            n = len(phrase.split())
            if n <= len(words) and " ".join(words[-n:]) == phrase and (best is None or n > best[1]):
                best = (command, n)
        return best

    def phrases(self, sections: Sequence[str] = ()) -> list[str]:
        """Command phrases, plus those of the answer `sections`, in table order."""
        out = list(self.commands)
        for section in sections:
            out += [p for p in self.answers[section] if p not in out]
        return out

    def grammar(self, sections: Sequence[str] = ()) -> list[str]:
        """What a grammar-restricted recognizer may hear: the phrases plus "[unk]"."""
        return [*self.phrases(sections), UNKNOWN]

    def words(self, sections: Sequence[str] = ()) -> list[str]:
        """Every distinct word of the phrases, sorted, for vocabulary checks."""
        return sorted({w for p in self.phrases(sections) for w in p.split()})

    def phrases_of(self, command: Command) -> list[str]:
        """The phrases that ask for `command` (for help lines)."""
        return [p for p, c in self.commands.items() if c is command]


def normalize(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces: the form phrases are compared in."""
    text = unicodedata.normalize("NFC", text).lower().replace("’", "'")
    # Keep letters of every script (Hangul too), digits and apostrophes inside words.
    text = re.sub(r"[^\w\s']|_", " ", text)
    return " ".join(w.strip("'") for w in text.split() if w.strip("'"))


def _whole(table: Mapping[str, Any], text: str) -> Any:
    """Value of the phrase `text` is, also when a person repeats it ("pause pause")."""
    norm = normalize(text)
    if not norm:
        return None
    if norm in table:
        return table[norm]
    # A repeated phrase: split greedily from the left and require one single value.
    words, found, i = norm.split(), set(), 0
    while i < len(words):
        for j in range(len(words), i, -1):
            piece = " ".join(words[i:j])
            if piece in table:
                found.add(table[piece])
                i = j
                break
        else:
            return None
    return found.pop() if len(found) == 1 else None


def load_phrases(language: str = "en", path: str | Path | None = None) -> PhraseTable:
    """Read `data/phrases-<language>.toml` (or `path`) into a PhraseTable; ValueError if bad."""
    file = Path(path) if path is not None else DATA_DIR / f"phrases-{language}.toml"
    if not file.is_file():
        known = sorted(p.stem.split("-", 1)[1] for p in DATA_DIR.glob("phrases-*.toml"))
        raise ValueError(f"no phrase table for language {language!r} (have: {', '.join(known)})")
    with open(file, "rb") as f:
        raw = tomllib.load(f)
    return parse_phrases(raw, source=str(file))


def parse_phrases(raw: Mapping[str, Any], source: str = "") -> PhraseTable:
    """Build a PhraseTable from parsed TOML, checking what a translator could get wrong."""
    where = source or "phrase table"
    if raw.get("format", 1) != 1:
        raise ValueError(f"{where}: unknown format {raw.get('format')!r} (expected 1)")
    commands: dict[str, Command] = {}
    for key, phrases in dict(raw.get("commands", {})).items():
        try:
            command = Command(key)
        except ValueError:
            raise ValueError(f"{where}: [commands] {key!r} is not a command") from None
        for phrase in _phrase_list(phrases, f"{where}: [commands] {key}"):
            if commands.get(phrase, command) is not command:
                raise ValueError(f"{where}: {phrase!r} is both {commands[phrase].value} and {key}")
            commands[phrase] = command
    if not commands:
        raise ValueError(f"{where}: no [commands]")
    answers: dict[str, dict[str, str]] = {}
    for section, table in dict(raw.get("answers", {})).items():
        answers[section] = {}
        for key, phrases in dict(table).items():
            for phrase in _phrase_list(phrases, f"{where}: [answers.{section}] {key}"):
                answers[section][phrase] = str(key)
    return PhraseTable(
        language=str(raw.get("language", "")),
        name=str(raw.get("name", raw.get("language", ""))),
        commands=commands,
        answers=answers,
        vosk_model=str(raw.get("vosk_model", "")),
        pocketsphinx=bool(raw.get("pocketsphinx", False)),
        source=source,
    )


def _phrase_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list) or not value:
        raise ValueError(f"{where}: expected a non-empty list of phrases")
    out = []
    for item in value:
        phrase = normalize(str(item))
        if not phrase or phrase == UNKNOWN.strip("[]"):
            raise ValueError(f"{where}: empty or reserved phrase {item!r}")
        out.append(phrase)
    return out

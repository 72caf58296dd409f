"""Checking one value of a routine document: its type, its range, text fit to be said."""

from __future__ import annotations

import math
from typing import Any

from voicecoach.library import LIMITS, RoutineError

#: The longest text a routine file may give one field (a cue, a reason, a setup line).
MAX_TEXT = 1000


def shown(value: object) -> str:
    """`value` as a routine file writes it: TOML's `true`, not Python's `True`."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


class Checker:
    """Checks values from one source file; each failure names the file and the place."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> RoutineError:
        return RoutineError(f"{self.source}: {where}: {problem}")

    def text(self, table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        if key not in table:
            if default is None:
                raise self.fail(where, f"'{key}' is missing")
            return default
        value = table[key]
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.fail(f"{where}.{key}", f"must be text, got {shown(value)}")
        return self._said(value, f"{where}.{key}")

    def _said(self, value: str, where: str) -> str:
        """Text the coach says or shows: no control characters (a NUL, an escape sequence
        would reach the terminal as they are), and short enough to be said."""
        bad = next((ch for ch in value if (ord(ch) < 32 and ch not in "\n\t") or
                    0x7F <= ord(ch) < 0xA0), None)
        if bad is not None:
            raise self.fail(where, f"holds a control character ({bad!r}); write plain text")
        if len(value) > MAX_TEXT:
            raise self.fail(where, f"is {len(value)} characters long; keep it under "
                                   f"{MAX_TEXT}, or it is no longer a cue to follow")
        # Each is one line on the screen and in the tables: a newline in a name split every
        # row of `history` and `today` (a review, 2026-12-07). TOML's long strings stay usable.
        return " ".join(value.split())

    def texts(self, table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{where}.{key}", "must be a list of text lines")
        return tuple(self._said(v, f"{where}.{key}") for v in value if v.strip())

    def number(self, table: dict[str, Any], key: str, where: str, default: float,
               integer: bool = False) -> Any:
        if key not in table:
            return default
        value = table[key]
        ok = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok or not math.isfinite(value):
            kind = "a whole number" if integer else "a number"
            raise self.fail(f"{where}.{key}", f"must be {kind}, got {shown(value)}")
        lo, hi = LIMITS.get(key, (1, 1000))
        if not lo <= value <= hi:
            raise self.fail(f"{where}.{key}", f"must be between {lo:g} and {hi:g}, got {value!r}")
        return value

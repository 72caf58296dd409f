"""English number words for counts ("one" ... "twenty") and plain spoken durations."""

from __future__ import annotations

ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number(n: int) -> str:
    """`n` (0-999) in words: 21 -> "twenty-one"."""
    if not 0 <= n <= 999:
        return str(n)
    if n < 20:
        return ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return TENS[tens] + (f"-{ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{ONES[hundreds]} hundred" + (f" and {number(rest)}" if rest else "")


def seconds(s: float) -> str:
    """A duration as said aloud: 20 -> "twenty seconds", 2.5 -> "two and a half seconds"
    (a routine file may give halves; other fractions are rounded, halves never to even)."""
    halves = int(s * 2 + 0.5)
    whole, half = divmod(halves, 2)
    if half:
        return f"{number(whole)} and a half seconds" if whole else "half a second"
    return f"{number(whole)} second" + ("" if whole == 1 else "s")


def times(n: int, thing: str, plural: str | None = None) -> str:
    """"three holds", "one set"."""
    return f"{number(n)} {thing if n == 1 else (plural or thing + 's')}"

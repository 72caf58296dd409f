"""The pain trend as a chart: plain text for the terminal, or a PNG drawn pixel by pixel.

The PNG writer needs only zlib and struct, so `--plot` works without a plotting library.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from voicecoach.records import SessionRecord

#: Most recent sessions shown in the charts.
MAX_POINTS = 40


@dataclass(frozen=True)
class PainPoint:
    """Pain around one session, for charting."""

    started: float
    """Unix time the session started."""
    before: int | None
    """Pain before, 0-10."""
    after: int | None
    """Pain after, 0-10."""


def pain_points(sessions: Sequence[SessionRecord], limit: int = MAX_POINTS) -> list[PainPoint]:
    """Sessions with any pain score, oldest first, at most `limit` of the latest."""
    pts = [PainPoint(s.started, s.pain_before, s.pain_after) for s in sessions
           if s.pain_before is not None or s.pain_after is not None]
    return pts[-limit:]


def _md(t: float) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%m-%d")


def trend(points: Sequence[PainPoint]) -> str:
    """"falling", "rising" or "steady": the later half's average pain-after against the earlier."""
    after = [p.after for p in points if p.after is not None]
    if len(after) < 2:
        return "not enough scores yet"
    half = len(after) // 2
    early, late = sum(after[:half]) / half, sum(after[-half:]) / half
    word = "falling" if late <= early - 0.5 else "rising" if late >= early + 0.5 else "steady"
    return f"{word} (average after a session {early:.1f} earlier, {late:.1f} lately)"


def text_chart(points: Sequence[PainPoint]) -> str:
    """Pain 0-10 per session: `o` after the session, `.` before it (`o` wins when equal)."""
    if not points:
        return "Knee pain: no scores yet."
    lines = ["Knee pain (0-10) per session: o after, . before"]
    for level in range(10, -1, -1):
        row = ""
        for p in points:
            mark = "o" if p.after == level else "." if p.before == level else " "
            row += " " + mark
        lines.append(f"{level:>2} |{row.rstrip()}")
    lines.append("   +" + "--" * len(points))
    first, last = _md(points[0].started), _md(points[-1].started)
    span = 2 * len(points)
    axis = first if len(points) < 2 else first + " " * max(1, span - len(first) - 4) + last
    lines.append("     " + axis)
    lines.append(f"Trend: {trend(points)}")
    return "\n".join(lines)


# --- PNG ----------------------------------------------------------------------------------

# 3x5 glyphs as 15-bit rows (top row first, 3 bits each), for axis labels and the legend.
_GLYPHS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001001001001", "8": "111101111101111",
    "9": "111101111001111", "-": "000000111000000", " ": "000000000000000",
    "A": "010101111101101", "B": "110101110101110", "E": "111100110100111",
    "F": "111100110100100", "I": "111010010010111", "N": "101111111111101",
    "O": "111101101101111", "P": "110101110100100", "R": "110101110101101",
    "T": "111010010010010", "K": "101101110101101", "(": "010100100100010",
    ")": "010001001001010",
}
WHITE, GRID, AXIS = (255, 255, 255), (225, 225, 225), (60, 60, 60)
AFTER, BEFORE = (31, 119, 180), (255, 127, 14)


class Canvas:
    """An RGB image in memory with just enough drawing for a line chart."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(WHITE) * (width * height))

    def dot(self, x: int, y: int, color: tuple[int, int, int], size: int = 1) -> None:
        for yy in range(y - size // 2, y - size // 2 + size):
            for xx in range(x - size // 2, x - size // 2 + size):
                if 0 <= xx < self.width and 0 <= yy < self.height:
                    i = 3 * (yy * self.width + xx)
                    self.pixels[i:i + 3] = bytes(color)

    def line(self, x0: int, y0: int, x1: int, y1: int, color: tuple[int, int, int],
             size: int = 1) -> None:
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for k in range(steps + 1):
            self.dot(x0 + round((x1 - x0) * k / steps), y0 + round((y1 - y0) * k / steps),
                     color, size)

    def text(self, x: int, y: int, text: str, color: tuple[int, int, int], scale: int = 2) -> None:
        for n, ch in enumerate(text.upper()):
            bits = _GLYPHS.get(ch, _GLYPHS[" "])
            for i, bit in enumerate(bits):
                if bit == "1":
                    gx, gy = x + n * 4 * scale + (i % 3) * scale, y + (i // 3) * scale
                    for dy in range(scale):
                        for dx in range(scale):
                            self.dot(gx + dx, gy + dy, color)

    def png(self) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        stride = 3 * self.width
        raw = b"".join(b"\x00" + bytes(self.pixels[r * stride:(r + 1) * stride])
                       for r in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def render_png(points: Sequence[PainPoint], width: int = 720, height: int = 360) -> bytes:
    """The pain chart as PNG bytes: blue line after each session, orange dots before."""
    c = Canvas(width, height)
    left, right, top, bottom = 44, width - 16, 40, height - 36

    def y_of(v: int) -> int:
        return bottom - round(v * (bottom - top) / 10)

    for v in range(0, 11, 2):
        c.line(left, y_of(v), right, y_of(v), GRID)
        c.text(left - 10 - 8 * len(str(v)), y_of(v) - 5, str(v), AXIS)
    c.line(left, top, left, bottom, AXIS, 2)
    c.line(left, bottom, right, bottom, AXIS, 2)
    c.text(left, 12, "KNEE PAIN (0-10)", AXIS)
    c.dot(right - 200, 16, AFTER, 8)
    c.text(right - 190, 12, "AFTER", AXIS)
    c.dot(right - 100, 16, BEFORE, 8)
    c.text(right - 90, 12, "BEFORE", AXIS)
    if not points:
        return c.png()
    n = len(points)

    def x_of(i: int) -> int:
        return left + 12 + (round(i * (right - left - 24) / (n - 1)) if n > 1 else 0)

    prev: tuple[int, int] | None = None
    for i, p in enumerate(points):
        if p.before is not None:
            c.dot(x_of(i), y_of(p.before), BEFORE, 7)
        if p.after is not None:
            here = (x_of(i), y_of(p.after))
            if prev is not None:
                c.line(*prev, *here, AFTER, 3)
            c.dot(*here, AFTER, 9)
            prev = here
    c.text(left, bottom + 12, _md(points[0].started), AXIS)
    if n > 1:
        c.text(right - 40, bottom + 12, _md(points[-1].started), AXIS)
    return c.png()


def write_png(points: Sequence[PainPoint], path: str | Path) -> None:
    """Write the chart; OSError if the file cannot be written."""
    Path(path).write_bytes(render_png(points))

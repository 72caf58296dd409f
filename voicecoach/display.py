"""Views: a full-screen terminal display readable from two metres, and plain caption lines."""

from __future__ import annotations

import contextlib
import shutil
import sys
import textwrap
from typing import IO, TYPE_CHECKING, Any

from voicecoach.plan import Cue, Plan

if TYPE_CHECKING:
    from voicecoach.session import View

# 5-row block digits: big enough to read a count from the floor.
DIGITS = {
    "0": ["███", "█ █", "█ █", "█ █", "███"], "1": [" █ ", "██ ", " █ ", " █ ", "███"],
    "2": ["███", "  █", "███", "█  ", "███"], "3": ["███", "  █", "███", "  █", "███"],
    "4": ["█ █", "█ █", "███", "  █", "  █"], "5": ["███", "█  ", "███", "  █", "███"],
    "6": ["███", "█  ", "███", "█ █", "███"], "7": ["███", "  █", "  █", "  █", "  █"],
    "8": ["███", "█ █", "███", "█ █", "███"], "9": ["███", "█ █", "███", "  █", "███"],
}
#: Lines the caption may wrap to on the full-screen display (the rest is cut with "...").
CAPTION_LINES = 4
KEYS_LINE = "space pause/resume · n next · b back · r repeat · x it hurts · h help · q stop"
#: While a question waits, the keys that answer it: "n" is then "no", not "next".
ANSWER_KEYS_LINES = {
    "yes_no": "answer with a key: y yes · n no · q stop",
    "numbers": "answer with a key: a digit from 0 to 9 · for ten, 1 then 0 · q stop",
}


def big_number(n: int) -> list[str]:
    rows = ["", "", "", "", ""]
    for ch in str(n):
        for r in range(5):
            rows[r] += DIGITS[ch][r].replace("█", "██").replace(" ", "  ") + "  "
    return rows


class BestEffort:
    """A stream whose failed writes are dropped: stderr under a session, where a closed pipe
    (`voicecoach 2>&1 | head`) must not end the exercise, its voice or its record."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except (OSError, ValueError):  # ValueError: written after it was closed
            return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Output:
    """Writes to the screen or the pipe; a write that fails (a full disk, a closed terminal)
    is said once on stderr and the rest are dropped: the session, its voice and its record
    go on."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout
        self._lost = False

    def _write(self, text: str) -> None:
        if self._lost:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except OSError as exc:
            self._lost = True
            sys.stderr.write(f"voicecoach: cannot write the captions ({exc.strerror or exc}); "
                             "the session goes on without them\n")


class LineView(_Output):
    """A line per thing said or changed, with its session time: pipes, logs, --clock virtual."""

    def _line(self, t: float, what: str, text: str) -> None:
        self._write(f"{t:9.2f}  {what:<11} {text}\n")

    def step(self, plan: Plan, index: int, total: int, anchor: float) -> None:
        st = plan.step
        label = st.kind if st.exercise is None else f"{st.kind} {st.exercise.id}"
        if st.set:
            label += f" set {st.set}"
        self._line(anchor, "step", f"[{index + 1}/{total}] {label}")

    def cue(self, cue: Cue, at: float) -> None:
        if cue.text:
            self._line(at, cue.kind, cue.text)

    def paused(self, paused: bool, at: float, resumed: bool = True) -> None:
        # A pause ended by "next" or "it hurts" is followed by what they do: no "resumed".
        if paused or resumed:
            self._line(at, "state", "paused" if paused else "resumed")

    def notice(self, text: str) -> None:
        sys.stderr.write(f"voicecoach: {text}\n")

    def asking(self, section: str | None) -> None:
        # Lines for pipes and logs: the question's own words say what to answer.
        return None

    def end(self, summary: dict[str, Any]) -> None:
        state = "completed" if summary["completed"] else "stopped"
        self._line(summary["seconds"], "end", f"{state}: {summary['sets_done']} of "
                   f"{summary['sets_planned']} sets{_skipped(summary, ' ({} skipped)')}")

    def close(self) -> None:
        return None


class TerminalView(_Output):
    """A full-screen display redrawn on every cue: exercise, instruction, big count, bar, keys."""

    def __init__(self, out: IO[str] | None = None, keys: bool = True,
                 voice: bool = True) -> None:
        super().__init__(out)
        self.keys = keys
        self.voice = voice
        self.plan: Plan | None = None
        self.anchor = 0.0
        self.count = ""
        self.caption = ""
        self.progress = (0, 0)
        self.is_paused = False
        self._paused_at = 0.0
        self.notices: list[str] = []
        self.answering: str | None = None
        self._at = 0.0
        self._asked_at = 0.0
        self._write("\x1b[?25l")  # hide the cursor while coaching

    def step(self, plan: Plan, index: int, total: int, anchor: float) -> None:
        self.plan, self.anchor, self.count = plan, anchor, ""
        self.progress = (index + 1, total)
        self._draw(anchor)

    def cue(self, cue: Cue, at: float) -> None:
        if self.plan is not None and cue.kind == "count" and cue in self.plan.cues:
            # A count of the step's own plan says exactly where in the step we are: after a
            # repeat, a pain question or a rewind the bar follows it instead of drifting.
            self.anchor = at - cue.at
        if cue.kind == "count":
            self.count = cue.text
        if cue.state and cue.state.get("change") == "rep":
            self.count = str(cue.state["rep"])
        if cue.text and cue.kind != "count":
            self.caption = cue.text
        self._draw(at)

    def paused(self, paused: bool, at: float, resumed: bool = True) -> None:
        if paused:
            self._paused_at = at
        else:
            self.anchor += at - self._paused_at  # the step's timeline stood still meanwhile
        self.is_paused = paused
        self._draw(at)

    def notice(self, text: str) -> None:
        self.notices = (self.notices + [text])[-2:]
        sys.stderr.write(f"voicecoach: {text}\n")

    def asking(self, section: str | None) -> None:
        # Said before the question is: outside a session the keys' line follows its caption
        # (_draw); in a session the screen is drawn again with it now.
        if section and not self.answering:
            self._asked_at = self._at  # the step stands still while a question waits
        self.answering = section
        if self.keys and self.plan is not None:
            self._draw(self._at)

    def end(self, summary: dict[str, Any]) -> None:
        self.plan = None  # later lines (the pain question) print below the summary
        self._write("\x1b[?25h\n")
        state = "Session complete" if summary["completed"] else "Session stopped"
        self._write(f"{state}: {summary['sets_done']} of {summary['sets_planned']} sets done"
                    f"{_skipped(summary, ', {} skipped')}.\n")

    def close(self) -> None:
        self._write("\x1b[?25h")  # the cursor comes back however the session ended

    def _draw(self, at: float) -> None:
        self._at = at
        if self.plan is None:
            # Before the session (disclaimer, safety questions): plain lines are clearest.
            if self.caption:
                keys = (f"({ANSWER_KEYS_LINES[self.answering]})\n"
                        if self.keys and self.answering in ANSWER_KEYS_LINES else "")
                self._write(self.caption + "\n" + keys)
            return
        width = min(shutil.get_terminal_size((80, 24)).columns, 100)
        st = self.plan.step
        title = st.exercise.name.upper() if st.exercise else "VOICECOACH"
        if st.exercise and st.set:
            title += f"   set {st.set} of {st.exercise.sets}"
        if st.exercise and st.exercise.side != "painful":
            title += f"   {st.side} leg"
        lines = [f"\x1b[1m{title}\x1b[0m   step {self.progress[0]}/{self.progress[1]}", ""]
        # Wrapped, not cut: captions are all there is without a speaker, and a physio's lines
        # run long (cut at the width, "...or q to" lost the "stop"). A stable height: the
        # count and bar below do not jump from line to line.
        caption = textwrap.wrap(self.caption or self.plan.label, width - 2) or [""]
        if len(caption) > CAPTION_LINES:
            caption = caption[: CAPTION_LINES - 1] + [textwrap.shorten(
                " ".join(caption[CAPTION_LINES - 1 :]), width - 2, placeholder=" ...")]
        lines += caption + [""] * (CAPTION_LINES - len(caption))
        lines.append("")
        digits = "".join(ch for ch in self._number() if ch.isdigit())
        lines += big_number(int(digits)) if digits else [self.count or " "] + [""] * 4
        lines.append("")
        lines.append(self._bar(at, width - 10))
        lines.append("")
        lines.append(f"\x1b[7m PAUSED{self._resume_hint()} \x1b[0m" if self.is_paused else "")
        keys = ANSWER_KEYS_LINES.get(self.answering or "", KEYS_LINE)
        lines.append(keys if self.keys else "keyboard off")
        lines += self.notices
        self._write("\x1b[H\x1b[2J" + "\n".join(lines) + "\n")

    def _resume_hint(self) -> str:
        """How to carry on, by the controls there are (no "say resume" when nothing listens)."""
        ways = [w for w, there in (("press space", self.keys), ("say resume", self.voice))
                if there]
        return " — " + " or ".join(ways) if ways else ""

    def _number(self) -> str:
        from voicecoach.words import ONES, TENS

        text = self.count.split(",")[0].strip().lower()
        if text.isdigit():
            return text
        names = {w: i for i, w in enumerate(ONES)}
        names.update({w: 10 * i for i, w in enumerate(TENS) if w != "_"})
        total = 0
        for part in text.split("-"):
            if part not in names:
                return ""
            total += names[part]
        return str(total)

    def _bar(self, at: float, width: int) -> str:
        if self.plan is None or self.plan.span is None:
            return ""
        start, end = self.plan.span
        # Nothing moves on while paused or while a question waits (the pain questions, mid-set:
        # the bar ran on to 100 % meanwhile).
        if self.is_paused:
            at = self._paused_at
        elif self.answering:
            at = self._asked_at
        frac = min(max((at - self.anchor - start) / max(end - start, 1e-6), 0.0), 1.0)
        fill = int(frac * width)
        return "[" + "█" * fill + "·" * (width - fill) + f"] {int(frac * 100):3d}%"


def _skipped(summary: dict[str, Any], form: str) -> str:
    """`form` with the sets skipped of a session that ran to its end ("next", or an
    exercise left out for pain), else "": a run-through ended "completed: 0 of 3 sets"."""
    left = summary["sets_planned"] - summary["sets_done"]
    return form.format(left) if summary["completed"] and left > 0 else ""


class Notices:
    """One-line diagnostics: on stderr, and on the screen once there is one."""

    def __init__(self) -> None:
        self.last = ""
        self.view: View | None = None

    def __call__(self, text: str) -> None:
        # The same line twice in a row is said once. Not every line once a session: a
        # microphone lost a second time left "microphone back: listening again" on screen,
        # and a TV's voice was named once although the listener says it every few minutes.
        if text == self.last:
            return
        self.last = text
        if self.view is not None:
            self.view.notice(text)
        else:
            print(f"voicecoach: {text}", file=sys.stderr, flush=True)

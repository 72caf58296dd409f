"""The history as a table for a spreadsheet: `voicecoach history --csv`."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import IO

from voicecoach.records import SessionRecord

CSV_FIELDS = (
    "session", "started", "routine", "result", "pain_before", "pain_after", "pauses",
    "commands", "pain_stops", "exercise", "side", "level", "set", "sets", "reps",
    "target_reps", "hold", "target_hold", "skipped",
)


def write_csv(sessions: Sequence[SessionRecord], out: IO[str]) -> None:
    """One row per set (sessions with no sets get one row), with the session's details."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for s in sessions:
        used = Counter(f"{c.name}:{c.source}" for c in s.commands)
        started = dt.datetime.fromtimestamp(s.started).astimezone().isoformat(timespec="seconds")
        head = [s.id, started, s.routine, s.result, _blank(s.pain_before),
                _blank(s.pain_after), s.pauses,
                " ".join(f"{k}={v}" for k, v in sorted(used.items())),
                " ".join(f"{p.exercise}={_blank(p.value)}" for p in s.pain_stops)]
        if not s.sets:
            w.writerow(head + [""] * (len(CSV_FIELDS) - len(head)))
        for x in s.sets:
            # A hold has no reps and a rep set no hold time: blank, not a 0 that reads as
            # "none done" in a spreadsheet.
            reps = "" if x.target_hold is not None and not x.reps else x.reps
            hold = "" if x.target_reps is not None and not x.hold else f"{x.hold:g}"
            w.writerow(head + [x.exercise, x.side, _blank(x.level), x.set_no, x.sets, reps,
                               _blank(x.target_reps), hold, _blank(x.target_hold),
                               int(x.skipped)])


def _blank(v: object) -> str:
    if v is None:
        return ""
    return f"{v:g}" if isinstance(v, float) else str(v)

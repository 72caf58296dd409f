"""What `voicecoach history` and `voicecoach today` show: sessions, streak, adherence, pain."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from voicecoach import charts, safety
from voicecoach.adherence import adherence_table, per_day, streak, streak_line, today_report
from voicecoach.answers import Asker
from voicecoach.cli_checks import overwritable
from voicecoach.export import CSV_FIELDS, write_csv
from voicecoach.history import DB_NAME, HistoryError, HistoryStore, data_dir
from voicecoach.library import Exercise, RoutineError, load_builtin, load_file
from voicecoach.pending import replay_pending
from voicecoach.progression import plan_levels
from voicecoach.records import SessionRecord, SetRecord
from voicecoach.subcommands import SubcommandParser
from voicecoach.typed_answers import console_answers
from voicecoach.typed_answers import key_answers as key_answers
from voicecoach.typed_answers import terminal_answers as terminal_answers

__all__ = [
    "adherence_table", "history_report", "history_table", "pain_chart", "per_day", "run_check",
    "run_history", "run_today", "streak", "streak_line", "today_report", "write_csv", "write_png",
]
#: `voicecoach check` when no question was answered (3: a warning sign; 0: all clear).
EXIT_UNANSWERED = 4


def _stamp(t: float) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")


def _score(v: int | None) -> str:
    return "?" if v is None else str(v)


def dose_done(sets: Sequence[SetRecord]) -> str:
    """What was done of one exercise: "3x12", "3x20s", "2x12+1 cut"."""
    full = [s for s in sets if s.full]
    amount = Counter(s.reps if s.reps else f"{s.hold:g}s" for s in full).most_common(1)
    text = f"{len(full)}x{amount[0][0]}" if full else "0"
    cut = len(sets) - len(full)
    return text + (f"+{cut} cut" if cut else "")


def history_table(sessions: Sequence[SessionRecord]) -> str:
    """One line per session: when, routine, what was done, result, pauses, pain before/after."""
    if not sessions:
        return "No sessions recorded yet."
    head = ("when", "routine", "done", "result", "pauses", "pain")
    rows = [head]
    for s in sessions:
        hurt = {p.exercise: _score(p.value) + ("" if p.skipped else ", went on")
                for p in s.pain_stops}
        done = ", ".join(
            f"{ex} {dose_done(s.done(ex))}" + (f" (hurt {hurt[ex]})" if ex in hurt else "")
            for ex in s.exercise_ids()
        ) or "-"
        pain = ("-" if s.pain_before is None and s.pain_after is None
                else f"{_score(s.pain_before)}->{_score(s.pain_after)}")
        rows.append((_stamp(s.started), s.routine, done, s.result, str(s.pauses), pain))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def pain_chart(sessions: Sequence[SessionRecord]) -> str:
    """The pain trend as a text chart."""
    return charts.text_chart(charts.pain_points(sessions))


def history_report(
    sessions: Sequence[SessionRecord], exercises: Sequence[Exercise], today: dt.date
) -> str:
    """Everything `voicecoach history` prints."""
    parts = [
        history_table(sessions),
        streak_line(sessions, today),
        adherence_table(sessions, exercises, today),
        pain_chart(sessions),
    ]
    return "\n\n".join(parts)


def write_png(sessions: Sequence[SessionRecord], path: str | Path) -> None:
    """The pain trend as a PNG picture; OSError if it cannot be written."""
    charts.write_png(charts.pain_points(sessions), path)


# --- subcommands: `voicecoach history | today | check` --------------------------------------


def _parser(name: str, text: str) -> argparse.ArgumentParser:
    p = SubcommandParser(prog=f"voicecoach {name}", description=text)
    p.add_argument("--data-dir", metavar="DIR",
                   help="where history is kept (default: $VOICECOACH_DATA_DIR or "
                        "$XDG_DATA_HOME/voicecoach)")
    return p


class NoFolder(HistoryError):
    """--data-dir names no folder: bad input (exit 2), not trouble with the history."""


def _open(option: str | None, must_exist: bool = True) -> HistoryStore | None:
    """The store, None when there is no history yet; HistoryError if it cannot be read."""
    path = data_dir(option) / DB_NAME
    if must_exist and option and not path.parent.is_dir():  # a typo: not "No sessions yet"
        raise NoFolder(f"--data-dir: no folder {option} (a session creates it; nothing has "
                       "been recorded there)")
    # Sessions kept aside (pending files) while there was no database count as history too.
    if must_exist and not path.exists() and not any(path.parent.glob("pending-*.jsonl")):
        return None
    try:
        store = HistoryStore(path)
    except HistoryError as exc:
        if not path.is_file():
            raise
        try:
            return HistoryStore(path, readonly=True)  # e.g. a read-only backup copy
        except HistoryError:
            raise exc from None  # why it cannot be written says more than read-only does
    # Sessions kept aside while the database could not be written belong in the report too.
    with contextlib.suppress(HistoryError, OSError):
        replay_pending(store, path.parent)
    return store


def _exercises(routine_file: str | None) -> list[Exercise]:
    lib = load_builtin()
    if routine_file:
        lib = load_file(routine_file, base=lib)
        if lib.routines:
            return list(list(lib.routines.values())[-1].exercises)
    return list(lib.find_routine("back-of-knee").exercises)


def _fail(prog: str, exc: Exception | str) -> int:
    """One line; exit 2 for a bad routine file (bad input, as from `voicecoach` itself), 1 for
    trouble with the history."""
    print(f"voicecoach {prog}: {exc}", file=sys.stderr)
    return 2 if isinstance(exc, (RoutineError, NoFolder)) else 1


def run_history(argv: Sequence[str]) -> int:
    """`voicecoach history [--csv [FILE]] [--plot FILE.png] [--days N]`."""
    p = _parser("history", "Past sessions, streak, sessions per day and the pain trend.")
    p.add_argument("--days", type=int, default=30, metavar="N",
                   help="sessions from the last N days (default 30; 0 for all)")
    p.add_argument("--csv", nargs="?", const="-", metavar="FILE",
                   help="export every set as CSV (to FILE, or to standard output)")
    p.add_argument("--plot", metavar="FILE.png", help="draw the pain trend as a PNG picture")
    p.add_argument("--routine-file", metavar="PATH", help="prescribed frequencies from this file")
    args = p.parse_args(argv)
    if args.days < 0:
        p.error("--days must be 0 or more")
    for flag, value, start in (("--plot", args.plot, b"\x89PNG"),
                               ("--csv", args.csv, ",".join(CSV_FIELDS).encode())):
        if value is not None and not value.strip():  # else silently nothing at all
            p.error(f"{flag} needs a file name, got an empty one")
        if value not in (None, "-") and not overwritable(Path(value), start):
            p.error(f"{flag}: {value} holds something else (not one it wrote); it would be "
                    "overwritten: choose another file name")
    if args.plot and Path(args.plot).suffix.lower() != ".png":
        # The picture is a PNG whatever the name says; a viewer trusts the name.
        p.error(f"--plot writes a PNG picture: name it .png, not {args.plot}")
    try:
        exercises = _exercises(args.routine_file)
        store = _open(args.data_dir)
        now = time.time()
        since = now - args.days * 86400 if args.days else None
        sessions = store.sessions(since=since) if store is not None else []
        if args.plot:
            write_png(sessions, args.plot)
            scored = any(x.pain_before is not None or x.pain_after is not None
                         for x in sessions)
            print(f"voicecoach: pain chart written to {args.plot}"
                  + ("" if scored else " (no pain scores yet: it is empty)"), file=sys.stderr)
        if args.csv == "-":
            write_csv(sessions, sys.stdout)
        elif args.csv:
            with open(args.csv, "w", encoding="utf-8", newline="") as f:
                write_csv(sessions, f)
            n = len(sessions)
            print(f"voicecoach: {n} session{'' if n == 1 else 's'} written to {args.csv}",
                  file=sys.stderr)
        if not args.csv and not args.plot:
            if store is None or not store.sessions(limit=1):
                print(f"No sessions recorded yet (history is kept in {data_dir(args.data_dir)}).")
            elif not sessions:
                print(f"No sessions in the last {args.days} days (--days 0 shows them all).")
            else:
                print(history_report(sessions, exercises, dt.date.fromtimestamp(now)))
    except (HistoryError, RoutineError) as exc:
        return _fail("history", exc)
    except BrokenPipeError:
        raise  # `voicecoach history | head`: dispatch ends quietly
    except OSError as exc:
        return _fail("history", f"cannot write {exc.filename}: {exc.strerror}")
    return 0


def run_today(argv: Sequence[str]) -> int:
    """`voicecoach today`: what is due today and what is done."""
    p = _parser("today", "What is due today and what is done.")
    p.add_argument("--routine-file", metavar="PATH", help="prescribed frequencies from this file")
    args = p.parse_args(argv)
    try:
        exercises = _exercises(args.routine_file)
        store = _open(args.data_dir)
        now = time.time()
        recent = store.sessions(since=now - 60 * 86400) if store is not None else []
        report = today_report(recent, exercises, dt.date.fromtimestamp(now),
                              plan_levels(recent, exercises), safety.due(store, now),
                              safety.still_flagged(store))
    except (HistoryError, RoutineError) as exc:
        return _fail("today", exc)
    print(report)
    return 0


def run_check(argv: Sequence[str], asker: Asker | None = None) -> int:
    """`voicecoach check`: the red-flag questions now; exit 3 when any answer was yes, 4 when
    none was answered (a script must not take silence for all clear)."""
    p = _parser("check", "Ask the red-flag safety questions (at a terminal press y or n, as "
                "in a session; piped in, one answer a line). "
                "Exit status: 0 all clear, 3 a warning sign, 4 no answer.")
    args = p.parse_args(argv)
    try:
        store = _open(args.data_dir, must_exist=False)
    except HistoryError as exc:
        print(f"voicecoach check: {exc}; the answers will not be remembered", file=sys.stderr)
        store = None
    # Answers piped in ("y" or "n" a line) count as typed: only no input at all is no answer.
    interactive = asker is not None or sys.stdin is not None
    with contextlib.ExitStack() as stack:
        if asker is None:
            asker = Asker(_print, console_answers(stack), voice=False)
        if safety.first_run(store):
            asker.say(safety.DISCLAIMER)
            safety.disclaimer_shown(store)
        result = safety.run_check(asker.yes_no if interactive else None, asker.say,
                                  go_on=False)
    kept = safety.remember(result, store)
    if not result.answered:
        print("voicecoach check: no answer, so nothing is known to be clear (answer y or n at "
              "a terminal, or pipe them in)", file=sys.stderr)
        return EXIT_UNANSWERED
    if not result.proceed:
        return 3
    if not kept and safety.still_flagged(store) is not None:
        # All clear now, but the yes on record stands: sessions would still refuse.
        print("voicecoach check: the answers could not be saved (the history could not be "
              "written), so the warning sign reported earlier still stops sessions",
              file=sys.stderr)
        return 1
    return 0


def _print(text: str) -> None:
    print(text, flush=True)

"""Reports on a known history: table, streak, adherence, pain chart, CSV, PNG and subcommands."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from voicecoach import charts, reports
from voicecoach.history import HistoryStore
from voicecoach.library import load_builtin
from voicecoach.progression import plan_levels
from voicecoach.records import CommandRecord, PainStop, SessionRecord, SetRecord

UTC = dt.timezone.utc
EXERCISES = [e for e in load_builtin().find_routine("back-of-knee").exercises
             if e.id in ("leg-raise", "calf")]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so dates and times in the goldens do not depend on the machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def at(day: int, hour: int, minute: int = 0) -> float:
    return dt.datetime(2024, 3, day, hour, minute, tzinfo=UTC).timestamp()


def sets(ex: str, start: float, reps: int = 0, hold: float = 0.0, level: int | None = 1,
         cut: float | None = None) -> list[SetRecord]:
    """Three sets; with `cut`, the last one was skipped after `cut` reps or seconds."""
    out = []
    for n in (1, 2, 3):
        skip = cut is not None and n == 3
        done_reps = int(cut) if skip and reps else reps
        done_hold = float(cut) if skip and hold and cut is not None else hold
        out.append(SetRecord(ex, "painful", level, n, 3, done_reps, reps or None, done_hold,
                             hold or None, skip, start + 60 * n))
    return out


def known() -> list[SessionRecord]:
    a, b, c, d = at(4, 8), at(4, 19, 30), at(5, 8), at(6, 8)
    return [
        SessionRecord(1, "a", a, a + 900, "back-of-knee", ("leg-raise", "calf"), "painful", None,
                      "completed", 4, 3, 0,
                      tuple(sets("leg-raise", a, reps=10)
                            + sets("calf", a + 300, hold=20.0, level=None))),
        SessionRecord(2, "b", b, b + 700, "back-of-knee", ("leg-raise", "calf"), "painful", None,
                      "stopped", 3, 3, 1,
                      tuple(sets("leg-raise", b, reps=10)
                            + sets("calf", b + 300, hold=20.0, level=None, cut=8.0)),
                      (CommandRecord("pause", "voice", "calf", b + 400),
                       CommandRecord("resume", "key", "calf", b + 420),
                       CommandRecord("next", "voice", "calf", b + 500)),
                      (PainStop("calf", 5, True, b + 600),)),
        SessionRecord(3, "c", c, c + 800, "back-of-knee", ("leg-raise",), "painful", 2,
                      "completed", 3, 2, 0, tuple(sets("leg-raise", c, reps=12, level=2))),
        SessionRecord(4, "d", d, None, "back-of-knee", ("leg-raise",), "painful", None,
                      "running", None, None, 0, ()),
    ]


def store_known(store: HistoryStore) -> None:
    """Write the known history through the store's API, as the Recorder would."""
    for s in known():
        sid = store.start_session(s.routine, s.exercises, s.side, s.level, s.started, s.uid)
        for x in s.sets:
            store.record_set(sid, x.exercise, x.set_no, x.sets, side=x.side, level=x.level,
                             reps=x.reps, target_reps=x.target_reps, hold=x.hold,
                             target_hold=x.target_hold, skipped=x.skipped, wall=x.wall)
        for c in s.commands:
            store.record_command(sid, c.name, c.source, c.exercise, c.wall)
        for _ in range(s.pauses):
            store.record_pause(sid)
        for p in s.pain_stops:
            store.record_pain_stop(sid, p.exercise, p.value, p.skipped, p.wall)
        store.set_pain(sid, "before", s.pain_before)
        store.set_pain(sid, "after", s.pain_after)
        if s.ended is not None:
            store.end_session(sid, s.status == "completed", s.ended)


TABLE = """\
when              routine       done                                       result      pauses  pain
----------------  ------------  -----------------------------------------  ----------  ------  ----
2024-03-04 08:00  back-of-knee  leg-raise 3x10, calf 3x20s                 completed   0       4->3
2024-03-04 19:30  back-of-knee  leg-raise 3x10, calf 2x20s+1 cut (hurt 5)  stopped     1       3->3
2024-03-05 08:00  back-of-knee  leg-raise 3x12                             completed   0       3->2
2024-03-06 08:00  back-of-knee  -                                          unfinished  0       -"""

ADHERENCE = """\
Sessions per day, last 7 days (target per day; days on target)
per day    02-29 03-01 03-02 03-03 03-04 03-05 03-06
calf           0     0     0     0     1     0     0  target 2-3; 0/7
leg-raise      0     0     0     0     2     1     0  target 2; 1/7"""

CHART = """\
Knee pain (0-10) per session: o after, . before
10 |
 9 |
 8 |
 7 |
 6 |
 5 |
 4 | .
 3 | o o .
 2 |     o
 1 |
 0 |
   +------
     03-04 03-05
Trend: falling (average after a session 3.0 earlier, 2.0 lately)"""

HEAD = ("session,started,routine,result,pain_before,pain_after,pauses,commands,pain_stops,"
        "exercise,side,level,set,sets,reps,target_reps,hold,target_hold,skipped\n")
S1 = "1,2024-03-04T08:00:00+00:00,back-of-knee,completed,4,3,0,,,"
S2 = ("2,2024-03-04T19:30:00+00:00,back-of-knee,stopped,3,3,1,"
      "next:voice=1 pause:voice=1 resume:key=1,calf=5,")
S3 = "3,2024-03-05T08:00:00+00:00,back-of-knee,completed,3,2,0,,,"
CSV = HEAD + "".join([
    *(f"{S1}leg-raise,painful,1,{n},3,10,10,,,0\n" for n in (1, 2, 3)),
    *(f"{S1}calf,painful,,{n},3,,,20,20,0\n" for n in (1, 2, 3)),
    *(f"{S2}leg-raise,painful,1,{n},3,10,10,,,0\n" for n in (1, 2, 3)),
    *(f"{S2}calf,painful,,{n},3,,,20,20,0\n" for n in (1, 2)),
    f"{S2}calf,painful,,3,3,,,8,20,1\n",
    *(f"{S3}leg-raise,painful,2,{n},3,12,12,,,0\n" for n in (1, 2, 3)),
    "4,2024-03-06T08:00:00+00:00,back-of-knee,unfinished,,,0" + "," * 12 + "\n",
])

TODAY = """\
Today, Tuesday 5 March
  Calf stretch        0 of 2: 2 more due
  Straight-leg raise  1 of 2: 1 more due  [level 2: 3 sets of 12]
Streak: 2 days in a row.
Safety check: due before the next session (voicecoach check)."""


def test_table_streak_adherence_and_chart() -> None:
    s = known()
    assert reports.history_table(s) == TABLE
    assert reports.streak(s, dt.date(2024, 3, 6)) == 2  # nothing done yet today: count to 5th
    assert reports.streak(s, dt.date(2024, 3, 5)) == 2
    assert reports.streak(s, dt.date(2024, 3, 8)) == 0
    assert reports.adherence_table(s, EXERCISES, dt.date(2024, 3, 6)) == ADHERENCE
    assert reports.pain_chart(s) == CHART
    assert reports.history_table([]) == "No sessions recorded yet."


def test_csv(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with open(path, "w", newline="") as f:
        reports.write_csv(known(), f)
    assert path.read_text() == CSV


def test_today() -> None:
    s = known()
    got = reports.today_report(s, EXERCISES, dt.date(2024, 3, 5), plan_levels(s, EXERCISES), True)
    assert got == TODAY


def test_today_names_a_warning_sign_that_stands() -> None:
    s = known()
    got = reports.today_report(s, EXERCISES, dt.date(2024, 3, 5), None, True,
                               "a knee that cannot take your weight")
    assert got.splitlines()[-1] == (
        "Safety check: a warning sign was reported (a knee that cannot take your weight). No "
        "exercise until you have seen a doctor and answered the questions again (voicecoach "
        "check).")


def test_today_past_the_target_shows_the_count_and_the_target() -> None:
    """Five calf sessions on a day with a target of 2-3 read "5 (target 2-3)", never "5 of 2"."""
    s = known()
    extra = [SessionRecord(10 + n, f"x{n}", at(4, 9 + n), at(4, 9 + n) + 300, "back-of-knee",
                           ("calf",), "painful", None, "completed", 1, 0, 0,
                           tuple(sets("calf", at(4, 9 + n), hold=20.0, level=None)))
             for n in range(3)]
    got = reports.today_report(s + extra, EXERCISES, dt.date(2024, 3, 4))
    calf = next(line for line in got.splitlines() if "Calf" in line)
    # The evening session was cut short by pain in its last calf set: it is not a whole one.
    assert calf.split(None, 2)[2] == "4 (target 2-3), 1 cut short: done"
    assert " of 2" not in calf


def test_today_counts_only_sessions_with_every_set_done() -> None:
    """A session stopped after one full set of three is not a session done (it once counted as
    one towards the day's target); a session with every set done on both legs is."""
    day = at(7, 8)
    one_set = sets("calf", day, hold=20.0, level=None)[:1]
    both = [replace(x, side=side, wall=x.wall + 1000 * k)
            for k, side in enumerate(("left", "right"))
            for x in sets("calf", day + 3600, hold=20.0, level=None)]
    half = [x for x in both if x.side == "left"] + [x for x in both if x.side == "right"][:2]
    left_only = [x for x in both if x.side == "left"]  # stopped before the right leg
    s = [SessionRecord(20 + n, f"y{n}", day + 3600 * n, day + 3600 * n + 300, "calf",
                       ("calf",), side, None, status, None, None, 0, tuple(done))
         for n, (status, side, done) in enumerate((
             ("stopped", "painful", one_set), ("completed", "both", both),
             ("stopped", "both", half), ("stopped", "both", left_only)))]
    got = reports.today_report(s, EXERCISES, dt.date(2024, 3, 7))
    calf = next(line for line in got.splitlines() if "Calf" in line)
    assert calf.split(None, 2)[2] == "1 of 2, 3 cut short: 1 more due"
    table = reports.adherence_table(s, EXERCISES, dt.date(2024, 3, 7)).splitlines()
    assert next(row for row in table if row.startswith("calf")).endswith("1  target 2-3; 0/7")
    # The streak still counts a day with any full set: the person did exercise that day.
    assert reports.streak(s, dt.date(2024, 3, 7)) == 1


def _png_pixels(blob: bytes) -> tuple[int, int, bytes]:
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(blob):
        (n,) = struct.unpack(">I", blob[pos:pos + 4])
        kind, data = blob[pos + 4:pos + 8], blob[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", blob[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + data)
        if kind == b"IHDR":
            size = struct.unpack(">II", data[:8])
            assert data[8:10] == b"\x08\x02"  # 8-bit RGB
        idat += data if kind == b"IDAT" else b""
        pos += 12 + n
    w, h = size
    raw = zlib.decompress(idat)
    assert len(raw) == h * (1 + 3 * w)
    return w, h, b"".join(raw[r * (1 + 3 * w) + 1:(r + 1) * (1 + 3 * w)] for r in range(h))


def test_png_is_a_valid_picture_of_the_known_history(tmp_path: Path) -> None:
    reports.write_png(known(), tmp_path / "pain.png")
    w, h, px = _png_pixels((tmp_path / "pain.png").read_bytes())
    assert (w, h) == (720, 360)

    def pixel(x: int, y: int) -> tuple[int, ...]:
        return tuple(px[3 * (y * w + x):3 * (y * w + x) + 3])

    # First point: pain 3 after (blue) at the left edge; pain 4 before (orange) above it.
    assert pixel(56, 324 - round(3 * 284 / 10)) == charts.AFTER
    assert pixel(56, 324 - round(4 * 284 / 10)) == charts.BEFORE
    assert hashlib.sha256(px).hexdigest()[:16] == PNG_PIXELS_SHA


#: Fingerprint of the pixels (not the bytes: zlib versions compress differently).
PNG_PIXELS_SHA = "95971509430bdcc8"


def test_history_subcommand_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = HistoryStore(tmp_path / "history.db")
    store_known(store)
    assert store.sessions() == known()  # what the store gives back is what went in
    d = ["--data-dir", str(tmp_path)]
    assert reports.run_history([*d, "--days", "0", "--csv"]) == 0
    assert capsys.readouterr().out == CSV
    assert reports.run_history([*d, "--days", "0", "--plot", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    assert reports.run_history([*d, "--days", "0"]) == 0
    out = capsys.readouterr().out
    assert TABLE in out and CHART in out and "Streak: 0 days in a row." in out
    assert reports.run_today(d) == 0
    assert "Straight-leg raise" in capsys.readouterr().out


def test_subcommands_fail_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    (tmp_path / "empty").mkdir()
    assert reports.run_history(["--data-dir", str(tmp_path / "empty")]) == 0
    assert "No sessions recorded yet (history is kept in" in capsys.readouterr().out
    # A mistyped folder is not "No sessions recorded yet" (a review, 2026-12-07).
    for run in (reports.run_history, reports.run_today):
        assert run(["--data-dir", str(tmp_path / "none")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"--data-dir: no folder {tmp_path / 'none'}" in err
    (tmp_path / "history.db").write_bytes(b"not a database" * 200)
    assert reports.run_history(["--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("voicecoach history: cannot open history")
    store_known(HistoryStore(tmp_path / "ok" / "history.db"))
    bad = ["--data-dir", str(tmp_path / "ok"), "--days", "0", "--plot", "/nonexistent/p.png"]
    assert reports.run_history(bad) == 1
    assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(SystemExit) as exit_:
        reports.run_history(["--days", "-3"])
    assert exit_.value.code == 2


def test_voices_refuses_options_it_does_not_have(capsys: pytest.CaptureFixture[str]) -> None:
    """`voicecoach voices --bogus` listed the voices and exited 0 (a user's run-through)."""
    from voicecoach.subcommands import COMMANDS

    with pytest.raises(SystemExit) as exit_:
        COMMANDS["voices"](["--bogus"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --bogus" in err


def test_a_bad_routine_file_is_exit_2_as_from_the_coach(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("format = 1\n[[exercise]\n")
    for run in (reports.run_today, reports.run_history):
        assert run(["--data-dir", str(tmp_path), "--routine-file", str(bad)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{bad}: not valid TOML" in err


def test_history_output_options_say_what_they_did(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A user's run-through: --plot p.jpg wrote a PNG into a .jpg, an empty chart was written
    without a word, --plot "" and --csv "" did nothing in silence, "1 sessions written"."""
    d = ["--data-dir", str(tmp_path)]
    for bad, says in ((["--plot", "p.jpg"], "--plot writes a PNG picture: name it .png"),
                      (["--plot", ""], "--plot needs a file name"),
                      (["--csv", " "], "--csv needs a file name")):
        with pytest.raises(SystemExit) as exit_:
            reports.run_history([*d, *bad])
        assert exit_.value.code == 2 and says in capsys.readouterr().err
    store = HistoryStore(tmp_path / "history.db")
    store_known(store)
    assert reports.run_history([*d, "--days", "0", "--plot", str(tmp_path / "p.PNG")]) == 0
    assert "(no pain scores yet" not in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert reports.run_history(["--data-dir", str(empty), "--plot", str(tmp_path / "e.png")]) == 0
    assert "(no pain scores yet: it is empty)" in capsys.readouterr().err
    assert reports.run_history([*d, "--days", "0", "--csv", str(tmp_path / "s.csv")]) == 0
    assert "4 sessions written" in capsys.readouterr().err
    # Its own files are written again; anything else is not written over (a run-through,
    # 2026-12-08: `--csv morning.toml` replaced a routine file).
    assert reports.run_history([*d, "--days", "0", "--csv", str(tmp_path / "s.csv")]) == 0
    assert reports.run_history([*d, "--days", "0", "--plot", str(tmp_path / "p.PNG")]) == 0
    routine = tmp_path / "morning.toml"
    routine.write_text("format = 1\n")
    (tmp_path / "not.png").write_text("a note")
    for bad in (["--csv", str(routine)], ["--plot", str(tmp_path / "not.png")]):
        with pytest.raises(SystemExit) as exit_:
            reports.run_history([*d, *bad])
        assert exit_.value.code == 2 and "holds something else" in capsys.readouterr().err
    assert routine.read_text() == "format = 1\n"


def test_a_daily_target_of_our_own_is_starred_and_said_so() -> None:
    """A user's run-through: "several times a day" (hamstring) and "as often as you can"
    (balance) were shown as a target of 1 a day, as if the programme had said so."""
    every = list(load_builtin().exercises.values())
    got = reports.today_report([], every, dt.date(2024, 3, 4)).splitlines()
    line = {ln.split("  ")[1].strip(): ln for ln in got if ln.startswith("  ")}
    assert line["Hamstring stretch"].endswith("0 of 2*: 2 more due")
    assert line["Single-leg balance"].split("  ", 3)[-1].startswith("0 of 2*")
    assert line["Calf stretch"].endswith("0 of 2: 2 more due")  # the programme's own 2-3
    assert "* our own target, where the programme gives no number" in "\n".join(got)
    table = reports.adherence_table([], every, dt.date(2024, 3, 4))
    assert "target 2-3*; 0/7" in table and "target 2-3; 0/7" in table
    assert table.splitlines()[-1].startswith("* our own target")
    # Where every target is the programme's own, no footnote.
    plain = reports.today_report([], EXERCISES, dt.date(2024, 3, 4))
    assert "*" not in plain


def test_today_shows_the_dose_a_routine_file_keeps() -> None:
    """A run-through (2026-12-07): "[the dose your routine file sets]" named no dose."""
    fixed = [replace(ex.at_level(3), fixed=True) if ex.id == "leg-raise" else ex
             for ex in EXERCISES]
    got = reports.today_report([], fixed, dt.date(2024, 3, 5), plan_levels([], fixed))
    leg = next(line for line in got.splitlines() if "Straight-leg raise" in line)
    assert leg.endswith("[3 sets of 14, as your routine file sets it]"), leg

"""History storage: schema and migration, the Recorder, crashes, concurrency and fallbacks."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from voicecoach import history, recorder
from voicecoach.history import HistoryError, HistoryStore, data_dir
from voicecoach.recorder import Recorder
from voicecoach.schema import SCHEMA_VERSION

WALL = 1_700_000_000.0
#: Rounds of five sets each process writes in the concurrency test.
ROUNDS = 30


def feed(sets: int = 3, exercise: str = "leg-raise", end: bool = True) -> list[dict]:
    """The engine's events for one short session, as the Recorder sees them."""
    ev: list[dict] = [
        {"event": "session_start", "routine": "back-of-knee", "exercises": [exercise],
         "side": "painful", "level": None},
        {"event": "state", "change": "exercise", "exercise": exercise, "name": "x",
         "side": "painful", "level": 2},
        {"event": "say", "text": "Straight-leg raise.", "kind": "instruction"},
    ]
    for n in range(1, sets + 1):
        ev += [{"event": "state", "change": "set", "exercise": exercise, "set": n, "sets": sets},
               {"event": "state", "change": "rep", "rep": 1, "reps": 12},
               {"event": "state", "change": "set_done", "exercise": exercise, "side": "painful",
                "set": n, "sets": sets, "reps": 12, "hold": 0.0, "skipped": False}]
    ev += [{"event": "command", "name": "pause", "source": "voice"},
           {"event": "state", "change": "paused"}]
    if end:
        ev.append({"event": "session_end", "completed": True, "summary": {}})
    for i, e in enumerate(ev):
        e.update(t=float(i), wall=WALL + i)
    return ev


def test_data_dir_precedence(tmp_path: Path) -> None:
    env = {"VOICECOACH_DATA_DIR": str(tmp_path / "a"), "XDG_DATA_HOME": str(tmp_path / "x")}
    assert data_dir("/opt/d", env) == Path("/opt/d")
    assert data_dir(None, env) == tmp_path / "a"
    assert data_dir(None, {"XDG_DATA_HOME": str(tmp_path / "x")}) == tmp_path / "x" / "voicecoach"


def test_new_database_is_versioned_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "d" / "history.db"
    HistoryStore(path).close()
    HistoryStore(path).close()  # opening again migrates nothing
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_or_foreign_database_is_one_clear_error(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    sqlite3.connect(newer).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(HistoryError, match="newer voicecoach") as newer_err:
        HistoryStore(newer)
    assert "move it aside" not in str(newer_err.value)  # a newer history is not damaged
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(HistoryError) as err:
        HistoryStore(junk)
    assert "\n" not in str(err.value) and str(junk) in str(err.value)
    assert f"move it aside (mv {junk} {junk}.old)" in str(err.value)  # the way out
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE notes (text)")
    db.commit()
    with pytest.raises(HistoryError, match="another program's database"):
        HistoryStore(other)
    # Left as it was: no tables, version or journal mode of ours written into it.
    assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["notes"]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    (tmp_path / "folder.db").mkdir()
    with pytest.raises(HistoryError, match="it is a folder, not a file"):
        HistoryStore(tmp_path / "folder.db")


def test_recorder_stores_sets_commands_pain_and_end(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    rec = Recorder(store)
    for e in feed():
        rec(e)
    rec({"event": "pain", "when": "after", "value": 3})
    rec({"event": "pain", "when": "during", "exercise": "leg-raise", "value": 6,
         "skipped": True, "wall": WALL + 50})
    (s,) = store.sessions()
    assert s.id == rec.session_id and s.result == "completed" and s.pain_after == 3
    assert [(x.set_no, x.reps, x.target_reps, x.level, x.full) for x in s.sets] == [
        (1, 12, 12, 2, True), (2, 12, 12, 2, True), (3, 12, 12, 2, True)]
    assert [(c.name, c.source, c.exercise) for c in s.commands] == [
        ("pause", "voice", "leg-raise")]
    assert s.pauses == 1 and s.pain_stops[0].value == 6
    assert rec.pending == []


def test_pain_before_may_come_ahead_of_the_session(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    rec = Recorder(store)
    rec({"event": "pain", "when": "before", "value": 4})
    for e in feed():
        rec(e)
    rec({"event": "pain", "when": "during", "exercise": "leg-raise", "value": 5,
         "skipped": False})
    rec({"event": "pain", "when": "after", "value": 2})
    (s,) = store.sessions()
    assert (s.pain_before, s.pain_after, s.pain_stops[0].value) == (4, 2, 5)


def test_a_skipped_set_keeps_what_was_done_and_its_target(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    rec = Recorder(store)
    for e in feed(sets=1, end=False)[:5]:
        rec(e)
    rec({"event": "state", "change": "set_done", "exercise": "leg-raise", "side": "painful",
         "set": 1, "sets": 1, "reps": 4, "hold": 0.0, "skipped": True, "wall": WALL + 9})
    (s,) = store.sessions()
    assert (s.sets[0].reps, s.sets[0].target_reps, s.sets[0].full) == (4, 12, False)
    assert s.result == "unfinished"


def test_engine_session_recorded_set_by_set(tmp_path: Path) -> None:
    engine_kit = pytest.importorskip("engine_kit")
    session, log = engine_kit.make(engine_kit.routine("calf"))
    store = HistoryStore(tmp_path / "h.db")
    log.subscribe(Recorder(store))
    assert session.run()
    (s,) = store.sessions()
    assert s.result == "completed" and len(s.sets) == session.sets_done == 3
    assert all(x.exercise == "calf" and x.full and x.hold == 20 for x in s.sets)
    # The calf stretch has no levels: none is recorded (it once said level 1).
    assert {x.level for x in s.sets} == {None}


CHILD = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {tests!r})
    from test_history import feed
    from voicecoach.history import HistoryStore
    from voicecoach.recorder import Recorder
    rec = Recorder(HistoryStore({db!r}))
    events = feed(sets=5, end=False)
    while not os.path.exists({go!r}):  # start line: both processes write at the same time
        time.sleep(0.005)
    for i in range({rounds}):
        for e in events[:{upto}]:
            e = dict(e, wall=e["wall"] + i)
            if e["event"] == "session_start" and i:
                continue
            if e.get("change") == "set_done":
                e["set"] = e["set"] + 10 * i
            rec(e)
            time.sleep(0.002)  # real sessions leave gaps; SQLite does not queue writers fairly
        print("ready", flush=True)
        if {once}:
            time.sleep(60)  # mid-set: the parent kills us here
""")


def child(db: Path, upto: int, once: bool, go: Path | None = None) -> subprocess.Popen[str]:
    code = CHILD.format(tests=str(Path(__file__).parent), db=str(db), upto=upto, once=once,
                        rounds=ROUNDS, go=str(go or db.parent))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_sigkill_mid_set_keeps_the_sets_already_done(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    # Events up to the start of set 3: sets 1 and 2 are done, set 3 has begun.
    upto = next(i for i, e in enumerate(feed(sets=5)) if e.get("set") == 3) + 2
    proc = child(db, upto, once=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    (s,) = HistoryStore(db).sessions()
    assert [x.set_no for x in s.sets] == [1, 2] and s.result == "unfinished"


def test_two_sessions_writing_at_once_both_land(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    HistoryStore(db).close()  # both children then race on writes, not on creating the schema
    go = tmp_path / "go"
    procs = [child(db, upto=len(feed(sets=5)), once=False, go=go) for _ in range(2)]
    time.sleep(0.3)
    go.touch()
    for p in procs:
        p.communicate(timeout=60)
        assert p.returncode == 0
    sessions = HistoryStore(db).sessions()
    assert len(sessions) == 2
    assert [len(s.sets) for s in sessions] == [5 * ROUNDS] * 2
    order = [r[0] for r in sqlite3.connect(db).execute("SELECT session_id FROM sets ORDER BY id")]
    assert sum(a != b for a, b in zip(order, order[1:])) > 2  # the writes really interleaved


def test_locked_database_keeps_records_and_writes_them_later(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder, "RETRY_SECONDS", 0.0)
    db = tmp_path / "h.db"
    store = HistoryStore(db, busy_ms=50)
    notes: list[str] = []
    rec = Recorder(store, notes.append)
    events = feed()
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another program holding the database too long
    for e in events[:8]:
        rec(e)
    assert len(notes) == 1 and "locked" in notes[0]
    pending = list(tmp_path.glob("pending-*.jsonl"))
    assert len(pending) == 1 and len(pending[0].read_text().splitlines()) == len(rec.pending)
    blocker.execute("ROLLBACK")
    for e in events[8:]:
        rec(e)
    rec.close()
    (s,) = store.sessions()
    assert len(s.sets) == 3 and s.result == "completed" and len(notes) == 1
    assert not list(tmp_path.glob("pending-*.jsonl"))


def test_a_crashed_runs_pending_file_is_written_on_the_next_run(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    store = HistoryStore(db, busy_ms=50)
    rec = Recorder(store, lambda _: None)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    for e in feed():
        rec(e)
    blocker.execute("ROLLBACK")
    assert rec._file is not None
    rec._file.close()  # as if the process died: its lock on the pending file goes with it
    nxt = Recorder(HistoryStore(db))
    assert nxt.pending == [] and not list(tmp_path.glob("pending-*.jsonl"))
    (s,) = store.sessions()
    assert len(s.sets) == 3 and s.result == "completed"


def test_history_adds_sessions_kept_aside_when_the_database_is_gone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A damaged history moved aside (as its error says): `voicecoach history` adds what was
    kept in pending files, and does not say "No sessions recorded yet"."""
    from voicecoach import reports

    db = tmp_path / "history.db"
    rec = Recorder(HistoryStore(db, busy_ms=50), lambda _: None)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    for e in feed():
        rec(e)
    blocker.execute("ROLLBACK")
    blocker.close()
    assert rec._file is not None
    rec._file.close()
    for f in tmp_path.glob("history.db*"):
        f.rename(tmp_path / f"old-{f.name}")
    assert reports.run_history(["--data-dir", str(tmp_path), "--days", "0"]) == 0
    out = capsys.readouterr().out
    assert "No sessions recorded yet" not in out and "completed" in out, out
    assert not list(tmp_path.glob("pending-*.jsonl"))


def test_unopenable_history_warns_once_and_never_raises(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the data folder should be")
    notes: list[str] = []
    rec = Recorder.open(blocked, notes.append)
    for e in feed():
        rec(e)
    rec({"event": "state", "change": "set_done"})  # malformed: no set number
    rec.close()
    assert rec.store is None and len(rec.pending) == len([e for e in feed() if e["event"] !=
                                                          "say" and e.get("change") not in
                                                          ("exercise", "set", "rep")])
    # One warning when it happens; nothing could be kept anywhere, so one more line at the end.
    assert len(notes) == 2 and str(blocked) in notes[0] and "held in memory" in notes[0]
    assert notes[1].startswith("this session was not saved (7 records lost)")


def test_recorder_importable_from_history() -> None:
    assert history.Recorder is Recorder


def test_writes_are_fast_enough_for_the_run_loop(tmp_path: Path) -> None:
    rec = Recorder(HistoryStore(tmp_path / "h.db"))
    t0 = time.perf_counter()
    for e in feed(sets=20):
        rec(e)
    assert (time.perf_counter() - t0) / 20 < 0.25  # one synced commit per set

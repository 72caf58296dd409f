"""Session history in SQLite: a versioned schema, one commit per write, and the reports' reads."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from voicecoach.history_reads import HistoryReads
from voicecoach.schema import migrate

DB_NAME = "history.db"
#: How long a write waits for another session's write before giving up (milliseconds).
BUSY_TIMEOUT_MS = 10_000


class HistoryError(Exception):
    """The history cannot be opened or written; str() is one line to show."""


def data_dir(option: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """Where history lives: --data-dir, else $VOICECOACH_DATA_DIR, else XDG data home."""
    env = os.environ if env is None else env
    if option:
        return Path(option).expanduser()
    if env.get("VOICECOACH_DATA_DIR"):
        return Path(env["VOICECOACH_DATA_DIR"]).expanduser()
    xdg = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser() / "voicecoach"


class HistoryStore(HistoryReads):
    """One connection to history.db, safe to share between the run loop and audio threads."""

    def __init__(
        self, path: str | Path, readonly: bool = False, busy_ms: int = BUSY_TIMEOUT_MS,
        immutable: bool = False,
    ) -> None:
        """`immutable`: read only, and make no file beside the database (a full disk) when
        it has no write-ahead log, which would hold writes not yet in it."""
        self.path = Path(path)
        readonly = readonly or immutable
        # Re-entrant: a batch holds it while its writes and reads take it again.
        self._lock = threading.RLock()
        self._batch = 0
        if self.path.is_dir():
            raise HistoryError(f"cannot open history {self.path}: it is a folder, not a file")
        try:
            if readonly:
                self._db = _read_only(self.path, immutable)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, isolation_level=None,
                                           check_same_thread=False)
        except (sqlite3.Error, OSError) as exc:
            raise HistoryError(f"cannot open history {self.path}: {_why(exc)}") from None
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
            migrate(self._db, readonly)  # first: another program's file is left as it was
            if not readonly:
                self._db.execute("PRAGMA journal_mode = WAL")
                # FULL in WAL mode syncs every commit: a power cut keeps each finished set.
                self._db.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            self._db.close()
            if type(exc) is not sqlite3.DatabaseError or "newer voicecoach" in str(exc):
                # Locked, a disk error, a newer schema: the file is fine, leave it be.
                raise HistoryError(f"cannot open history {self.path}: {_why(exc)}") from None
            # Damaged, or another program's database: say the way out, or every session from
            # now on is only kept aside in pending files.
            raise HistoryError(
                f"cannot open history {self.path}: {_why(exc)}; if it is damaged or not "
                f"voicecoach's, move it aside (mv {self.path} {self.path}.old): a new one is "
                "started, and sessions kept aside meanwhile are added to it") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Writes made inside share one transaction: all of them land, or none (HistoryError).

        Replaying kept records relies on this: half a replay would count commands twice.
        """
        with self._lock:
            try:
                with self._tx():
                    self._batch += 1
                    try:
                        yield
                    finally:
                        self._batch -= 1
            except sqlite3.Error as exc:
                raise HistoryError(f"cannot write history {self.path}: {_why(exc)}") from None

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; IMMEDIATE takes the lock first, so busy_timeout applies."""
        with self._lock:
            if self._batch:
                yield self._db  # inside batch(): its transaction commits or rolls back
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                # Also when COMMIT itself fails (disk full): never leave a transaction open.
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise

    def _write(self, sql: str, args: tuple[Any, ...]) -> int:
        try:
            with self._tx() as db:
                return db.execute(sql, args).lastrowid or 0
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot write history {self.path}: {_why(exc)}") from None

    # --- writes ---------------------------------------------------------------------------

    def start_session(
        self,
        routine: str,
        exercises: tuple[str, ...] | list[str],
        side: str = "painful",
        level: int | None = None,
        wall: float | None = None,
        uid: str | None = None,
    ) -> int:
        """Record a new session and return its id; the same `uid` twice gives the same id."""
        uid = uid or uuid.uuid4().hex
        self._write(
            "INSERT OR IGNORE INTO sessions (uid, started, routine, exercises, side, level)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (uid, _now(wall), routine, json.dumps(list(exercises)), side, level),
        )
        found = self.session_id_for(uid)
        assert found is not None
        return found

    def record_set(
        self,
        session_id: int,
        exercise: str,
        set_no: int,
        sets: int,
        *,
        side: str = "painful",
        level: int | None = None,
        reps: int = 0,
        target_reps: int | None = None,
        hold: float = 0.0,
        target_hold: float | None = None,
        skipped: bool = False,
        wall: float | None = None,
    ) -> None:
        """Commit one finished (or cut-short) set; doing a set again replaces it."""
        self._write(
            "INSERT OR REPLACE INTO sets (session_id, exercise, side, level, set_no, sets, reps,"
            " target_reps, hold, target_hold, skipped, wall) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (session_id, exercise, side, level, set_no, sets, reps, target_reps, hold,
             target_hold, int(skipped), _now(wall)),
        )

    def record_command(self, session_id: int, name: str, source: str,
                       exercise: str | None = None, wall: float | None = None) -> None:
        self._write(
            "INSERT INTO commands (session_id, name, source, exercise, wall) VALUES (?,?,?,?,?)",
            (session_id, name, source, exercise, _now(wall)),
        )

    def record_pause(self, session_id: int) -> None:
        self._write("UPDATE sessions SET pauses = pauses + 1 WHERE id = ?", (session_id,))

    def record_pain_stop(self, session_id: int, exercise: str | None, value: int | None,
                         skipped: bool, wall: float | None = None) -> None:
        """Log that pain stopped an exercise, how bad it was (0-10) and whether it was skipped."""
        self._write(
            "INSERT INTO pain_stops (session_id, exercise, value, skipped, wall)"
            " VALUES (?,?,?,?,?)",
            (session_id, exercise, value, int(skipped), _now(wall)),
        )

    def set_pain(self, session_id: int, when: str, value: int | None) -> None:
        """Store the 0-10 pain score given `when` ("before" or "after") the session."""
        if when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', not {when!r}")
        self._write(f"UPDATE sessions SET pain_{when} = ? WHERE id = ?", (value, session_id))

    def end_session(self, session_id: int, completed: bool, wall: float | None = None) -> None:
        self._write(
            "UPDATE sessions SET ended = ?, status = ? WHERE id = ?",
            (_now(wall), "completed" if completed else "stopped", session_id),
        )

    def log_safety(
        self,
        answers: Mapping[str, bool | None],
        flagged: bool,
        answered: bool = True,
        wall: float | None = None,
    ) -> None:
        """Remember a red-flag check: each question's answer (None: not asked or not heard)."""
        self._write(
            "INSERT INTO safety_checks (wall, answers, flagged, answered) VALUES (?,?,?,?)",
            (_now(wall), json.dumps(dict(answers)), int(flagged), int(answered)),
        )

    def set_meta(self, key: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def del_meta(self, key: str) -> None:
        self._write("DELETE FROM meta WHERE key = ?", (key,))

    # --- reads ----------------------------------------------------------------------------

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot read history {self.path}: {_why(exc)}") from None

    def get_meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def session_id_for(self, uid: str) -> int | None:
        rows = self._rows("SELECT id FROM sessions WHERE uid = ?", (uid,))
        return int(rows[0][0]) if rows else None


def _now(wall: float | None) -> float:
    return time.time() if wall is None else wall


def _why(exc: BaseException) -> str:
    return str(exc) or exc.__class__.__name__


def __getattr__(name: str) -> Any:
    # The Recorder has its own module (recorder.py) but is also importable from here.
    if name == "Recorder":
        from voicecoach.recorder import Recorder

        return Recorder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _read_only(path: Path, immutable: bool) -> sqlite3.Connection:
    """A read-only connection; an `immutable` one also where SQLite cannot make the files it
    reads a WAL database with (a read-only filesystem), so that the reports and a warning
    sign reported before can still be read."""
    uri = path.resolve().as_uri()
    if immutable and not path.with_name(path.name + "-wal").exists():
        return sqlite3.connect(uri + "?immutable=1", uri=True, check_same_thread=False)
    db = sqlite3.connect(uri + "?mode=ro", uri=True, check_same_thread=False)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:  # not a damaged file: that is a DatabaseError
        db.close()
        db = sqlite3.connect(uri + "?immutable=1", uri=True, check_same_thread=False)
    return db

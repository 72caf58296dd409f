"""Writes a session to the history as it happens, and never lets a storage failure stop it."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from voicecoach.history import DB_NAME, HistoryError, HistoryStore
from voicecoach.pending import (  # noqa: F401 - apply_op, replay_pending: importable from here
    SESSION_OPS,
    Op,
    PendingFile,
    apply_op,
    forget,
    free_bytes,
    replay_pending,
    saved_key,
)

Event = Mapping[str, Any]
Notice = Callable[[str], None]

#: A session waits at most this long for another writer before keeping records for later (ms).
RECORD_BUSY_MS = 3000
#: After a failed write, seconds before trying the database again (each try may wait).
RETRY_SECONDS = 30.0


#: Below this much free space the database is not even opened: SQLite's shared-memory file
#: (32 kB) and its log would take the last free blocks, leaving none for the pending copy.
MIN_FREE_BYTES = 1 << 20


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


class Recorder:
    """An EventLog subscriber that stores the session as it goes: one commit per finished set.

    When the database cannot be written (read-only, locked too long, disk full), it says so
    once through `notice`, keeps the operations in memory and in a pending file beside the
    database, and writes them as soon as the database works again (or on a later run).
    """

    def __init__(
        self,
        store: HistoryStore | None,
        notice: Notice = _stderr,
        pending_dir: Path | None = None,
        uid: str | None = None,
    ) -> None:
        self.store = store
        self.notice = notice
        self.uid = uid or uuid.uuid4().hex
        self.pending: list[Op] = []
        self.session_id: int | None = None
        self._dir = pending_dir or (store.path.parent if store else None)
        self._file: PendingFile | None = None
        self._kept = 0  # how many of self.pending are safely in the pending file
        self._problem = "no history database"  # why the history cannot be written
        self._keep_error = ""  # why the pending file cannot be written either
        self._told: set[str] = set()
        self._retry_at = 0.0
        self._lock = threading.RLock()
        self._ids: dict[str, int] = {}
        self._started = False
        self._early: list[tuple[str, dict[str, Any]]] = []
        self._ex: str | None = None
        self._side = "painful"
        self._level: int | None = None
        self._target_reps: int | None = None
        self._target_hold: float | None = None
        if store is not None and self._dir is not None and self._dir.is_dir():
            try:
                replay_pending(store, self._dir)
            except (HistoryError, OSError) as exc:
                # Those stay in their files for a later run. If this session cannot write
                # either, its own (single) warning gives the reason.
                self._problem = str(exc)

    @classmethod
    def open(cls, folder: Path, notice: Notice = _stderr) -> Recorder:
        """A recorder on folder/history.db, or one that only keeps pending records."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            # First: a folder that cannot be made (under /proc, say) is no full disk, though
            # the filesystem above it reports no free space.
            rec = cls(None, notice, folder)
            rec._problem = f"cannot make the history folder {folder}: {exc.strerror or exc}"
            return rec
        room = free_bytes(folder)
        if room is not None and room < MIN_FREE_BYTES:
            rec = cls(None, notice, folder)
            rec._problem = f"the disk that holds {folder} is full (only {room // 1024} kB free)"
            return rec
        try:
            return cls(HistoryStore(folder / DB_NAME, busy_ms=RECORD_BUSY_MS), notice, folder)
        except HistoryError as exc:
            rec = cls(None, notice, folder)
            rec._problem = str(exc)  # said with the first record, once it is known where it goes
            return rec

    # --- the event stream -----------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        """Take one event; cheap for the events it does not store (counts, speech)."""
        kind = event.get("event")
        if kind not in ("session_start", "state", "command", "pain", "session_end"):
            return
        with self._lock:
            try:
                self._handle(event)
            except Exception as exc:  # a malformed event must never end someone's session
                self._warn(f"could not record {kind}: {exc!r}")

    def _handle(self, e: Event) -> None:
        wall = e.get("wall")
        kind = e["event"]
        if kind == "session_start":
            self._level = e.get("level")
            self._do("start_session", routine=e.get("routine", ""),
                     exercises=list(e.get("exercises", [])), side=e.get("side", "painful"),
                     level=e.get("level"), wall=wall)
        elif kind == "session_end":
            self._do("end_session", completed=bool(e.get("completed")), wall=wall)
        elif kind == "command":
            self._do("record_command", name=str(e.get("name")),
                     source=str(e.get("source", "")), exercise=self._ex, wall=wall)
        elif kind == "pain":
            self._pain(e)
        else:
            self._state(e)

    def _pain(self, e: Event) -> None:
        """{"event": "pain", "when": "before"|"after"|"during", "value": 0-10|None, ...}"""
        when = e.get("when", "during")
        if when in ("before", "after"):
            self._do("set_pain", when=when, value=e.get("value"))
        else:
            self._do("record_pain_stop", exercise=e.get("exercise") or self._ex,
                     value=e.get("value"), skipped=bool(e.get("skipped")), wall=e.get("wall"))

    def _state(self, e: Event) -> None:
        change = e.get("change")
        if change == "exercise":
            self._ex, self._side = e.get("exercise"), e.get("side", "painful")
            self._level = e.get("level", self._level)
            self._target_reps = self._target_hold = None
        elif change == "rep":
            self._target_reps = e.get("reps")
        elif change == "hold":
            self._target_hold = e.get("seconds")
        elif change == "paused":
            self._do("record_pause")
        elif change == "set_done":
            ex = e.get("exercise", self._ex)
            reps, hold = int(e.get("reps") or 0), float(e.get("hold") or 0.0)
            full = not e.get("skipped")
            self._do(
                "record_set", exercise=ex, set_no=int(e["set"]), sets=int(e["sets"]),
                side=e.get("side", self._side), level=self._level if ex == self._ex else None,
                reps=reps, hold=hold, skipped=not full, wall=e.get("wall"),
                # A finished set's own numbers are its targets; a cut one uses what was set.
                target_reps=e.get("target_reps", reps if full and reps else self._target_reps),
                target_hold=e.get("target_hold", hold if full and hold else self._target_hold),
            )

    # --- direct calls for what the engine asks outside the event stream -------------------

    def log_safety(self, answers: Mapping[str, bool | None], flagged: bool,
                   answered: bool = True, wall: float | None = None) -> None:
        with self._lock:
            self._do("log_safety", answers=dict(answers), flagged=flagged, answered=answered,
                     wall=wall)

    def close(self) -> None:
        """Try once more to write what is pending; the pending file stays if that fails.

        Records that could not even be kept in a file (a completely full disk) get one more
        try each way; if both fail, one line says this session is not saved. Never raises.
        """
        with self._lock:
            self.flush(force=True)
            if self._kept < len(self.pending):
                self._keep()
            if self._kept < len(self.pending):
                self._tell("lost", f"this session was not saved ({len(self.pending) - self._kept}"
                           f" records lost): {self._problem}; {self._keep_error}")
            if self._file is not None:
                self._file.close()
                if not self._file.lines:  # nothing ever got into it
                    with contextlib.suppress(OSError):
                        self._file.path.unlink()
                self._file = None

    # --- writing, or keeping for later ----------------------------------------------------

    def _do(self, kind: str, **args: Any) -> None:
        if kind in SESSION_OPS and not self._started:
            self._early.append((kind, args))  # e.g. pain asked before the session starts
            return
        op: Op = {"op": kind, "uid": self.uid, "args": args}
        self._send(op)
        if kind == "start_session":
            self._started = True
            for early_kind, early_args in self._early:
                self._send({"op": early_kind, "uid": self.uid, "args": early_args})
            self._early.clear()

    def _send(self, op: Op) -> None:
        if self.flush():
            try:
                self._apply(op)
                return
            except (HistoryError, OSError) as exc:
                self._failed(exc)
        self.pending.append(op)
        self._keep()

    def _failed(self, exc: Exception) -> None:
        self._retry_at = time.monotonic() + RETRY_SECONDS
        self._problem = str(exc)

    def _apply(self, op: Op) -> None:
        assert self.store is not None
        apply_op(self.store, op, self._ids)
        if op["op"] == "start_session":
            self.session_id = self._ids.get(self.uid)

    def flush(self, force: bool = False) -> bool:
        """Write pending operations, all in one transaction; True when nothing is left pending."""
        if self.store is None:
            return False
        if not self.pending:
            return True
        if not force and time.monotonic() < self._retry_at:
            return False  # a locked database would stall every event: back off instead
        ids, sid = dict(self._ids), self.session_id
        try:
            with self.store.batch():
                for op in self.pending:
                    self._apply(op)
                if self._file is not None:  # marked, so a file left behind is not replayed
                    self.store.set_meta(saved_key(self._file.path), "1")
        except (HistoryError, OSError) as exc:
            self._ids, self.session_id = ids, sid  # rolled back: those row ids do not exist
            self._failed(exc)
            return False
        self.pending.clear()
        self._kept = 0
        if self._file is not None:
            self._file.close()
            forget(self.store, self._file.path)
            self._file = None
        return True

    def _keep(self) -> None:
        """Append to this session's pending file what is not in it yet, synced: a crash loses
        nothing. When that fails too, the records stay in memory and close() tries again."""
        try:
            if self._dir is None:
                raise OSError("there is no folder to keep it in")
            if self._file is None:
                self._file = PendingFile(self._dir)
            self._file.append(self.pending[self._kept:])
        except OSError as exc:
            self._keep_error = f"no copy could be kept in {self._dir} ({exc.strerror or exc})"
            self._tell("memory", f"{self._problem}; {self._keep_error}, so this session is "
                       "held in memory until it ends")
            return
        self._kept = len(self.pending)
        if "memory" in self._told:  # the disk had room again after all
            self._tell("kept late", f"this session is now kept in {self._file.path} and saved "
                       "on a later run")
        self._tell("kept", f"{self._problem}; keeping this session in {self._file.path} until "
                   "it can be saved")

    def _tell(self, what: str, text: str) -> None:
        """At most one line per kind of trouble, and none that repeats what was said."""
        if what not in self._told and not (what == "kept" and "memory" in self._told):
            self._told.add(what)
            self.notice(text)

    def _warn(self, text: str) -> None:
        if not self._told:  # after a storage warning, one more line would only be noise
            self._tell("bad event", text)

"""Writes a session to the history as it happens, and never lets a storage failure stop it."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from voicecoach.history import DB_NAME, HistoryError, HistoryStore

Event = Mapping[str, Any]
Notice = Callable[[str], None]
Op = dict[str, Any]

#: A session waits at most this long for another writer before keeping records for later (ms).
RECORD_BUSY_MS = 3000
#: After a failed write, seconds before trying the database again (each try may wait).
RETRY_SECONDS = 30.0
#: Store methods a pending operation may name; anything else in a pending file is ignored.
SESSION_OPS = {"record_set", "record_command", "record_pause", "record_pain_stop",
               "set_pain", "end_session"}


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


def apply_op(store: HistoryStore, op: Op, ids: dict[str, int]) -> None:
    """Run one recorded operation against the store; `ids` maps session uids to row ids."""
    kind, args = op["op"], dict(op.get("args", {}))
    if kind == "log_safety":
        store.log_safety(**args)
    elif kind == "start_session":
        ids[op["uid"]] = store.start_session(uid=op["uid"], **args)
    elif kind in SESSION_OPS:
        sid = ids.get(op["uid"]) or store.session_id_for(op["uid"])
        if sid is not None:  # its start was lost too: nothing to attach it to
            ids[op["uid"]] = sid
            getattr(store, kind)(sid, **args)


def replay_pending(store: HistoryStore, folder: Path) -> int:
    """Write operations that earlier runs left in pending-*.jsonl files; return how many."""
    done = 0
    for path in sorted(folder.glob("pending-*.jsonl")):
        with open(path, "r+", encoding="utf-8") as f:
            try:  # a running session holds its own file locked: leave that one alone
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue
            ids: dict[str, int] = {}
            for line in f:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    apply_op(store, json.loads(line), ids)
                    done += 1
            path.unlink()
    return done


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
        self._file: IO[str] | None = None
        self._warned = False
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
                self._warn(f"could not save the sessions kept from earlier runs: {exc}")

    @classmethod
    def open(cls, folder: Path, notice: Notice = _stderr) -> Recorder:
        """A recorder on folder/history.db, or one that only keeps pending records."""
        try:
            return cls(HistoryStore(folder / DB_NAME, busy_ms=RECORD_BUSY_MS), notice, folder)
        except HistoryError as exc:
            notice(f"{exc}; this session is kept in {folder} and saved on a later run")
            rec = cls(None, notice, folder)
            rec._warned = True
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
            self._do("record_pain_stop", exercise=e.get("exercise", self._ex),
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

    def set_pain(self, when: str, value: int | None) -> None:
        """Pain 0-10 "before" or "after" the session (before may come ahead of session_start)."""
        with self._lock:
            self._do("set_pain", when=when, value=value)

    def pain_stop(self, exercise: str | None, value: int | None, skipped: bool) -> None:
        """Pain stopped `exercise` mid-session: how bad (0-10) and whether it was skipped."""
        with self._lock:
            self._do("record_pain_stop", exercise=exercise or self._ex, value=value,
                     skipped=skipped)

    def log_safety(self, answers: Mapping[str, bool | None], flagged: bool,
                   answered: bool = True, wall: float | None = None) -> None:
        with self._lock:
            self._do("log_safety", answers=dict(answers), flagged=flagged, answered=answered,
                     wall=wall)

    def close(self) -> None:
        """Try once more to write what is pending; the pending file stays if that fails."""
        with self._lock:
            self.flush(force=True)
            if self._file is not None:
                self._file.close()
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
                self._retry_at = time.monotonic() + RETRY_SECONDS
                self._warn(f"{exc}; keeping this session to save later")
        self.pending.append(op)
        self._keep(op)

    def _apply(self, op: Op) -> None:
        assert self.store is not None
        apply_op(self.store, op, self._ids)
        if op["op"] == "start_session":
            self.session_id = self._ids.get(self.uid)

    def flush(self, force: bool = False) -> bool:
        """Write pending operations in order; True when nothing is left pending."""
        if self.store is None:
            return False
        if self.pending and not force and time.monotonic() < self._retry_at:
            return False  # a locked database would stall every event: back off instead
        while self.pending:
            try:
                self._apply(self.pending[0])
            except (HistoryError, OSError):
                self._retry_at = time.monotonic() + RETRY_SECONDS
                return False
            self.pending.pop(0)
            if not self.pending and self._file is not None:
                self._drop_file()
        return True

    def _keep(self, op: Op) -> None:
        """Append to this session's pending file, synced, so a crash loses nothing either."""
        if self._dir is None:
            return
        try:
            if self._file is None:
                self._dir.mkdir(parents=True, exist_ok=True)
                path = self._dir / f"pending-{self.uid}.jsonl"
                self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                for earlier in self.pending[:-1]:
                    self._file.write(json.dumps(earlier) + "\n")
            self._file.write(json.dumps(op) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            self._warn(f"cannot keep a pending copy either ({exc}); keeping it in memory")

    def _drop_file(self) -> None:
        assert self._file is not None
        with contextlib.suppress(OSError):
            os.unlink(self._file.name)
        self._file.close()
        self._file = None

    def _warn(self, text: str) -> None:
        if not self._warned:
            self._warned = True
            self.notice(text)

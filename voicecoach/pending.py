"""Records kept for later: pending-*.jsonl files beside the history, and writing them back."""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import types
import typing
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voicecoach.history import HistoryError, HistoryStore

Op = dict[str, Any]

#: Store methods a pending operation may name; anything else in a pending file is ignored.
SESSION_OPS = {"record_set", "record_command", "record_pause", "record_pain_stop",
               "set_pain", "end_session"}


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


def check_op(store: HistoryStore, op: Op) -> Op:
    """`op` as read back from a pending file, or TypeError when a value in it is not of the
    type the store takes: a file edited or damaged by hand must not put a "level" of "x" into
    the history, where every report that reads it later would fail on it."""
    kind, args = op["op"], op.get("args", {})
    if kind not in SESSION_OPS | {"log_safety", "start_session"}:
        return op
    hints = typing.get_type_hints(getattr(store, kind))
    bad = [name for name, value in dict(args).items() if not fits(value, hints.get(name))]
    if kind != "log_safety" and not isinstance(op["uid"], str):
        bad.append("uid")
    if bad:
        raise TypeError(f"{kind}: {', '.join(bad)} of the wrong type")
    return op


def fits(value: object, hint: object) -> bool:
    """Whether `value`, read from JSON, is of the type `hint` (of a store method's
    parameters): None, bool, int, finite float, str, lists of them, and string-keyed maps."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if isinstance(value, bool) or hint is bool:  # bool is an int to Python, not to us
        return hint is bool and isinstance(value, bool)
    if hint is int:  # and one SQLite can store: a bigger one fails as an OverflowError
        return isinstance(value, int) and -(2**63) <= value < 2**63
    if hint is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if origin in (tuple, list):  # tuple[str, ...] and list[str] arrive as JSON lists
        return isinstance(value, list) and all(fits(v, typing.get_args(hint)[0]) for v in value)
    if origin is Mapping:
        key, kind = typing.get_args(hint)
        return isinstance(value, dict) and all(fits(k, key) and fits(v, kind)
                                               for k, v in value.items())
    return False


def saved_key(path: Path) -> str:
    """The meta key that marks a pending file as written, so it is never replayed twice."""
    return f"saved {path.name}"


def forget(store: HistoryStore, path: Path) -> None:
    """Delete a written pending file, then its mark (a file that cannot go keeps its mark)."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        return
    with contextlib.suppress(HistoryError):
        store.del_meta(saved_key(path))


def free_bytes(folder: Path) -> int | None:
    """Free space for this user on the filesystem that holds (or will hold) `folder`."""
    for where in (folder, *folder.parents):
        try:
            st = os.statvfs(where)
        except OSError:
            continue
        return st.f_bavail * st.f_frsize
    return None


def replay_pending(store: HistoryStore, folder: Path) -> int:
    """Write operations that earlier runs left in pending-*.jsonl files; return how many.

    Each file lands in one transaction together with a mark saying it did, so a failure half
    way, or a file that cannot be deleted afterwards, never counts a command or a pause twice.
    Raises HistoryError (that file stays for a later run) or OSError.
    """
    done = 0
    for path in sorted(folder.glob("pending-*.jsonl")):
        try:
            # Bytes: a line that is not UTF-8 fails in json.loads (a ValueError) and is
            # skipped like any damaged line, instead of failing the whole file as it is read.
            f = open(path, "rb")  # noqa: SIM115 - closed by the with below
        except OSError:  # e.g. another user's file: not ours to replay
            continue
        with f:
            try:  # a running session holds its own file locked: leave that one alone
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue
            if store.get_meta(saved_key(path)) is None:
                ids: dict[str, int] = {}
                with store.batch():
                    for line in f:
                        with contextlib.suppress(ValueError, KeyError, TypeError):
                            apply_op(store, check_op(store, json.loads(line)), ids)
                            done += 1
                    store.set_meta(saved_key(path), "1")
            forget(store, path)
    return done


class PendingFile:
    """One session's pending-<random>.jsonl, locked while it runs; it only ever holds whole,
    synced lines. Raises OSError when it cannot be made."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"pending-{uuid.uuid4().hex}.jsonl"
        # 0600: pain scores are health data.
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.close()
            raise
        self.lines = 0

    def append(self, ops: list[Op]) -> None:
        """Add `ops` as synced lines, or raise OSError and leave the file as it was."""
        size = os.fstat(self.fd).st_size
        data = "".join(json.dumps(op) + "\n" for op in ops).encode()
        try:
            while data:
                data = data[os.write(self.fd, data):]
            os.fsync(self.fd)
        except OSError:
            with contextlib.suppress(OSError):  # no half line for the next append to follow
                os.ftruncate(self.fd, size)
            raise
        self.lines += len(ops)

    def close(self) -> None:
        """Release the file (and its lock); safe to call twice."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1

"""The reports' reads of the history: sessions with their sets, commands and pain stops."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from voicecoach.records import (
    CommandRecord,
    PainStop,
    SafetyRecord,
    SessionRecord,
    SetRecord,
)


class HistoryReads:
    """HistoryStore's reads of whole records (the reports' and the safety check's)."""

    if TYPE_CHECKING:
        # HistoryStore's own (history.py): one query, under its lock, errors as HistoryError.
        def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...

    def last_safety_check(self, answered_only: bool = True) -> SafetyRecord | None:
        """The latest red-flag check (by default only one somebody actually answered)."""
        where = "WHERE answered = 1" if answered_only else ""
        rows = self._rows(
            f"SELECT wall, answers, flagged, answered FROM safety_checks {where}"
            " ORDER BY wall DESC, id DESC LIMIT 1"
        )
        if not rows:
            return None
        wall, answers, flagged, answered = rows[0]
        return SafetyRecord(wall, tuple(json.loads(answers).items()), bool(flagged), bool(answered))

    def sessions(
        self, since: float | None = None, until: float | None = None, limit: int | None = None
    ) -> list[SessionRecord]:
        """Sessions started in [since, until), oldest first; `limit` keeps the latest ones."""
        rows = self._rows(
            "SELECT id, uid, started, ended, routine, exercises, side, level, status,"
            " pain_before, pain_after, pauses FROM sessions"
            " WHERE started >= ? AND started < ? ORDER BY started DESC, id DESC LIMIT ?",
            (since if since is not None else -1e18, until if until is not None else 1e18,
             limit if limit is not None else -1),
        )
        rows.reverse()
        if not rows:
            return []
        ids = tuple(r[0] for r in rows)
        marks = ",".join("?" * len(ids))
        sets: dict[int, list[SetRecord]] = {i: [] for i in ids}
        for r in self._rows(
            "SELECT session_id, exercise, side, level, set_no, sets, reps, target_reps, hold,"
            f" target_hold, skipped, wall FROM sets WHERE session_id IN ({marks})"
            " ORDER BY wall, id", ids,
        ):
            sets[r[0]].append(SetRecord(
                exercise=r[1], side=r[2], level=r[3], set_no=r[4], sets=r[5], reps=r[6],
                target_reps=r[7], hold=r[8], target_hold=r[9], skipped=bool(r[10]), wall=r[11],
            ))
        commands: dict[int, list[CommandRecord]] = {i: [] for i in ids}
        for r in self._rows(
            "SELECT session_id, name, source, exercise, wall FROM commands"
            f" WHERE session_id IN ({marks}) ORDER BY wall, id", ids,
        ):
            commands[r[0]].append(CommandRecord(r[1], r[2], r[3], r[4]))
        stops: dict[int, list[PainStop]] = {i: [] for i in ids}
        for r in self._rows(
            "SELECT session_id, exercise, value, skipped, wall FROM pain_stops"
            f" WHERE session_id IN ({marks}) ORDER BY wall, id", ids,
        ):
            stops[r[0]].append(PainStop(r[1], r[2], bool(r[3]), r[4]))
        return [
            SessionRecord(
                id=r[0], uid=r[1], started=r[2], ended=r[3], routine=r[4],
                exercises=tuple(json.loads(r[5])), side=r[6], level=r[7], status=r[8],
                pain_before=r[9], pain_after=r[10], pauses=r[11], sets=tuple(sets[r[0]]),
                commands=tuple(commands[r[0]]), pain_stops=tuple(stops[r[0]]),
            )
            for r in rows
        ]

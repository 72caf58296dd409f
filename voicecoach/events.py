"""The session's event stream: JSON lines for users, tests, benchmarks and the history store."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import IO, Any

from voicecoach.speaker import Utterance

Event = dict[str, Any]
Subscriber = Callable[[Event], None]


class EventLog:
    """Stamps events with `t` (session seconds) and `wall` (Unix time) and fans them out.

    Thread-safe: the audio thread reports finished clips while the run loop emits states.
    Each line is flushed at once, so an interrupted session keeps every event so far.
    """

    def __init__(
        self,
        now: Callable[[], float],
        wall: Callable[[], float],
        stream: IO[str] | None = None,
        keep: bool = True,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._now = now
        # A stream that fails (a full disk, a pipe closed) is given up with one line through
        # this: the session itself goes on, and the history still records it.
        self._on_error = on_error
        self._wall = wall
        self._stream = stream
        self._subscribers: list[Subscriber] = []
        self._lock = threading.RLock()
        # The coach itself only streams events (file, screen, history); keeping them all is
        # for tests, and costs about 3 MB over an hour of counting.
        self._keep = keep
        self.events: list[Event] = []
        """Every event so far (empty unless `keep`)."""

    def subscribe(self, fn: Subscriber) -> None:
        self._subscribers.append(fn)

    def emit(self, event: str, t: float | None = None, **fields: Any) -> Event:
        with self._lock:
            now = self._now() if t is None else t
            wall = self._wall() - (self._now() - now)
            record: Event = {"t": round(now, 4), "wall": round(wall, 4), "event": event}
            record.update(fields)
            if self._keep:
                self.events.append(record)
            if self._stream is not None:
                try:
                    self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
                    self._stream.flush()
                except (OSError, ValueError) as exc:  # ValueError: closed under us
                    self._stream = None
                    if self._on_error is None:
                        raise
                    reason = getattr(exc, "strerror", None) or str(exc)
                    self._on_error(f"events stopped: cannot write them ({reason}); the "
                                   "session goes on")
            for fn in self._subscribers:
                fn(record)
            return record

    def said(self, utt: Utterance) -> None:
        """Record a finished (or cut) utterance as a `say` event, stamped at its start."""
        start = utt.start if utt.start is not None else utt.at
        fields: dict[str, Any] = {"text": utt.text, "kind": utt.kind, "at": round(utt.at, 4)}
        if utt.start is not None:
            fields["start"] = round(utt.start, 4)
        if utt.end is not None:
            fields["end"] = round(utt.end, 4)
        if utt.cut:
            fields["cut"] = True
        self.emit("say", t=start, **fields)

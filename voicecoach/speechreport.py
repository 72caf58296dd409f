"""What the coach really said, and when: from audio-callback notes to SpeechLog and reports.

The audio callback must never block, so it only posts notes (a clip started, ended, was
dropped); the `Reporter` thread turns them into session times, updates the shared SpeechLog
(the listener's echo rejection) and calls `report(Utterance)` for each finished or cut clip.
It also shows captions (phrases that could not be rendered) at their deadline, and runs a
watchdog the speaker provides.
"""

from __future__ import annotations

import heapq
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from voicecoach.clips import PRE_ROLL
from voicecoach.clock import RealClock
from voicecoach.speaker import Report, SpeechLog, Utterance


@dataclass
class Playing:
    """A clip on its way to the speaker (the audio callback advances it once handed over)."""

    utt: Utterance
    """What is being said: expected times at first, real ones once it starts."""
    samples: Any
    """float32 mono samples at the stream rate, volume applied."""
    start_m: float
    """Monotonic time the first sample (PRE_ROLL before the audible start) is due."""
    seconds: float
    """Audible length in real seconds (after the pre-roll)."""
    pos: int = 0
    """Samples already written."""
    started_m: float | None = None
    """Monotonic time the first sample really plays."""


class Reporter:
    """A thread that reports clips and shows captions on time; see the module docstring."""

    def __init__(self, clock: RealClock, report: Report, log: SpeechLog,
                 watch: Callable[[], None]) -> None:
        self._clock, self._report, self._log, self._watch = clock, report, log, watch
        self._notes: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
        self._captions: list[tuple[float, int, Utterance]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name="voicecoach-speech")
        self._thread.start()

    def session(self, m: float) -> float:
        """Session time of monotonic time `m`."""
        return (m - self._clock.to_monotonic(0.0)) * self._clock.speed

    # -- from the audio callback (never blocks) ----------------------------------------------

    def started(self, p: Playing) -> None:
        self._notes.put(("start", p))

    def ended(self, p: Playing, end_m: float, cut: bool) -> None:
        self._notes.put(("end", p, end_m, cut))

    def dropped(self, p: Playing) -> None:
        """Handed over, then cut before it began: never heard."""
        self._notes.put(("drop", p))

    # -- from the session thread -----------------------------------------------------------

    def caption(self, utt: Utterance) -> None:
        """Show `utt` (with its start and end set) as a caption at its start."""
        assert utt.start is not None
        # Out of the listener's log: a caption makes no sound, so it has no echo to reject, and
        # kept there it refused a "next" said while it was shown (the speaker lost mid-session).
        self._log.forget(utt)
        with self._lock:
            heapq.heappush(self._captions, (utt.start, id(utt), utt))
        self._notes.put(("wake",))

    def drop_captions(self, after: float) -> None:
        """Forget captions due after session time `after` (a cut)."""
        with self._lock:
            self._captions = [c for c in self._captions if c[0] <= after]
            heapq.heapify(self._captions)

    def finish(self, utt: Utterance, end: float, cut: bool) -> None:
        """Log and report `utt` as over at session time `end`."""
        start = utt.start if utt.start is not None else end
        done = replace(utt, start=start, end=max(start, end), cut=cut)
        self._log.record(done)
        self._report(done)

    def close(self) -> None:
        self._notes.put(None)
        self._thread.join(timeout=2.0)

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                due = self._captions[0][0] if self._captions else None
            wait = 0.25
            if due is not None:
                wait = min(wait, max(0.0, (due - self._clock.now()) / self._clock.speed))
            try:
                note = self._notes.get(timeout=wait)
            except queue.Empty:
                note = ("wake",)
            if note is None:
                return
            self._handle(note)
            self._show_captions()
            self._watch()

    def _handle(self, note: tuple[Any, ...]) -> None:
        kind = note[0]
        if kind == "wake":
            return
        p: Playing = note[1]
        if kind == "start":
            assert p.started_m is not None
            start = self.session(p.started_m + PRE_ROLL)
            p.utt = replace(p.utt, start=start, end=start + p.seconds * self._clock.speed)
            self._log.record(p.utt)
        elif kind == "drop":
            now = self._clock.now()
            self._log.record(replace(p.utt, start=now, end=now, cut=True))
        elif kind == "end":
            self.finish(p.utt, self.session(note[2]), note[3])

    def _show_captions(self) -> None:
        now = self._clock.now()
        while True:
            with self._lock:
                if not self._captions or self._captions[0][0] > now:
                    return
                _, _, utt = heapq.heappop(self._captions)
            self._report(utt)

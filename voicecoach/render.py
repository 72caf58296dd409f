"""Render phrases ahead of time, first things first, on one thread that owns the TTS worker.

`prepare` queues phrases in the order the session needs them; `get` answers from memory or
disk at once, and otherwise moves the phrase to the front of the queue and waits (bounded),
so the first words are ready long before the last instruction of the routine. A phrase whose
render fails or hangs is remembered as failed: the speaker shows it as a caption instead.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from voicecoach.clips import Clip, ClipCache, SilentRender, TruncatedRender
from voicecoach.tts import TtsWorker, WorkerFailed, render_suffix

#: Clips kept in memory (bytes of samples), least recently used dropped first: a long routine
#: says many one-off lines ("set 37 of 104"), and a dropped clip is one disk read away (the
#: cache keeps it), well inside the time a count is handed over ahead of its beat
#: (playback.LEAD_SECONDS).
MEMORY_BYTES = 8 * 1024 * 1024
#: Tries per phrase when the engine hands back silence.
RENDER_ATTEMPTS = 3


class Renderer:
    """Clips for phrases: memory, then disk cache, then the TTS worker (in the background)."""

    def __init__(
        self, workers: Sequence[TtsWorker], cache_root: Path, notice: Callable[[str], None]
    ) -> None:
        hello = workers[0].hello or workers[0].start()
        self.engine = str(hello["engine"])
        self.cache = ClipCache(cache_root, self.engine, str(hello["voice"]), hello.get("rate"))
        self.cache.prune()  # a few hundred stat() calls: bounded disk use at no real cost
        self._workers = list(workers)
        self._notice = notice
        self._clips: OrderedDict[str, Clip] = OrderedDict()
        self._clip_bytes = 0
        self._failed: set[str] = set()
        self._doing: set[str] = set()  # being rendered now: never queue these twice
        self._queue: OrderedDict[str, None] = OrderedDict()
        self._cond = threading.Condition()
        self._closed = False
        self.rendered = 0
        """How many phrases this renderer synthesised (not found in the cache)."""
        # One thread per worker, all taking from the one queue: two workers render a cold
        # routine about twice as fast (each espeak render idles 10 ms inside pyttsx3).
        self._threads = [
            threading.Thread(target=self._run, args=(w,), name="voicecoach-render", daemon=True)
            for w in self._workers
        ]
        for t in self._threads:
            t.start()

    def prepare(self, texts: Iterable[str]) -> None:
        """Queue phrases (in the order given, behind anything already asked for)."""
        with self._cond:
            for text in texts:
                if text and not self._known(text):
                    self._queue.setdefault(text)
            self._cond.notify_all()

    @property
    def workers(self) -> list[TtsWorker]:
        return list(self._workers)

    def _known(self, text: str) -> bool:
        return text in self._clips or text in self._failed or text in self._doing

    def failed(self, text: str) -> bool:
        return text in self._failed

    def peek(self, text: str) -> Clip | None:
        """The clip if it is in memory or on disk; never waits for the worker."""
        with self._cond:
            clip = self._clips.get(text)
            if clip is not None:
                self._clips.move_to_end(text)
        if clip is None:
            clip = self.cache.load(text)
            if clip is not None:
                with self._cond:
                    self._remember(text, clip)
                    self._queue.pop(text, None)
        return clip

    def _remember(self, text: str, clip: Clip) -> None:
        """Keep `clip` in memory as the most recent; drop the least recent past MEMORY_BYTES.
        Called with the lock held."""
        old = self._clips.pop(text, None)
        if old is not None:
            self._clip_bytes -= old.samples.nbytes
        self._clips[text] = clip
        self._clip_bytes += clip.samples.nbytes
        while self._clip_bytes > MEMORY_BYTES and len(self._clips) > 1:
            _, dropped = self._clips.popitem(last=False)
            self._clip_bytes -= dropped.samples.nbytes

    def get(self, text: str, wait: float) -> Clip | None:
        """The clip, rendering it next if need be and waiting up to `wait` seconds for it."""
        clip = self.peek(text)
        if clip is not None or wait <= 0:
            if clip is None:
                self.prepare([text])
            return clip
        with self._cond:
            if text in self._failed:
                return None
            if text not in self._doing:
                self._queue[text] = None
                self._queue.move_to_end(text, last=False)  # jump the queue: someone waits
            self._cond.notify_all()
            # Done is "neither queued nor being rendered": a clip rendered and then dropped
            # from memory by others before this thread woke is on disk, read below at once.
            self._cond.wait_for(
                lambda: text in self._clips or text in self._failed or self._closed
                or (text not in self._doing and text not in self._queue), wait
            )
            clip = self._clips.get(text)
        # Rendered, then dropped from memory by others before this thread woke: it is on disk.
        return clip if clip is not None or self.failed(text) else self.peek(text)

    def _next(self) -> str | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            text, _ = self._queue.popitem(last=False)
            self._doing.add(text)
            return text

    def _run(self, worker: TtsWorker) -> None:
        while True:
            text = self._next()
            if text is None:
                return
            clip = self.cache.load(text)
            if clip is None:
                clip = self._render(worker, text)
            with self._cond:
                self._doing.discard(text)
                if clip is None:
                    self._failed.add(text)
                else:
                    self._remember(text, clip)
                self._cond.notify_all()

    def _render(self, worker: TtsWorker, text: str) -> Clip | None:
        error: Exception | None = None
        for _ in range(RENDER_ATTEMPTS):
            raw = self.cache.root / "unused"
            try:
                raw = self.cache.scratch(text, render_suffix())
                worker.render(text, str(raw))
                clip = self.cache.store(text, raw)
            except (WorkerFailed, OSError, ValueError, EOFError) as exc:
                raw.unlink(missing_ok=True)
                error = exc
                # pyttsx3's espeak driver now and then writes a file with no audio in it (in 1
                # of 5 to 10 runs of a test inside the suite, never alone), or one cut short:
                # again, it speaks. Other failures (a dead engine) would only fail again.
                if isinstance(exc, (SilentRender, TruncatedRender)):
                    continue
                break
            with self._cond:
                self.rendered += 1
            return clip
        if not self._closed:  # closing kills the worker mid-render: not worth a notice
            self._notice(f"could not render {text[:40]!r} ({error}); it will be a caption")
        return None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        for w in self._workers:
            w.close()
        for t in self._threads:
            t.join(timeout=2.0)

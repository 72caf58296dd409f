"""AudioSpeaker: clips mixed into one sounddevice output stream, each starting on its deadline.

Timing works on the stream's own clock, not on when a Python thread wakes up. Every audio
callback learns when its first sample will reach the speaker (PortAudio's
`outputBufferDacTime`, on the stream clock, minus `currentTime`, plus `time.monotonic()`
read in the same callback). A clip due at monotonic time T starts at sample
`(T - dac) * rate` of the buffer whose span contains T: sample-exact placement, so counts
neither jitter with thread scheduling nor drift over a session. The session hands clips over
`lead` seconds early, which covers the stream latency with room to spare.

The callback (mixing.py) never blocks and never calls back into the engine: it posts notes to the
`speechreport.Reporter`, whose thread updates the SpeechLog and calls `report(Utterance)`,
and shows phrases that could not be rendered as captions at their deadline.

A device that goes away (the stream ends, or its callbacks stop while sound is due) turns every
phrase into a caption on its deadline while a thread reopens it with backoff; then the voice is
back. Each change is said once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from voicecoach.clips import PRE_ROLL, Clip, resample
from voicecoach.clock import RealClock
from voicecoach.echocancel import PlayedAudio
from voicecoach.mixing import Mixer
from voicecoach.native_stderr import hushed
from voicecoach.outdevice import close_quietly, pick_rate, wait_running
from voicecoach.render import Renderer
from voicecoach.speaker import LEVEL_SECONDS, Report, SpeechLog, Utterance, estimate_seconds
from voicecoach.speechreport import Playing, Reporter

#: Real seconds before a deadline that the session hands a clip over (stream latency + margin).
LEAD_SECONDS = 0.3
#: Requested output latency (s). Less makes PortAudio over the ALSA pulse plugin underrun
#: without end (measured: 0.02 and 0.03 s underrun on every callback). 0.04 s held when idle
#: but underran about four times a minute under load (a count then started up to 60 ms late);
#: more costs nothing here: clips are handed over LEAD_SECONDS early and a cut aborts the queue.
LATENCY = 0.1
#: Callback period (s): how finely the callback hears about new clips; placement inside a
#: block is sample-exact anyway.
BLOCK = 0.01
#: How long `duration` waits for a phrase that is still being rendered.
DURATION_WAIT = 3.0
#: How long a phrase other than a count may wait past its deadline for its render.
LATE_WAIT = 1.0
#: Callbacks stopping for this long (s) while sound is due means the device is gone.
STALL = 1.0
#: A reopened stream counts as running once a callback comes this long (s) after start().
STEADY = 0.1
#: Waits (s) between attempts to reopen a lost output device: the first, doubled up to the max.
RETRY_FIRST, RETRY_MAX = 0.25, 1.0


class AudioSpeaker(Mixer):
    """The Speaker Protocol on a real output device; see the module docstring."""

    def __init__(
        self,
        renderer: Renderer,
        clock: RealClock,
        report: Report,
        log: SpeechLog,
        notice: Callable[[str], None],
        volume: float = 1.0,
        device: str | int | None = None,
    ) -> None:
        import sounddevice as sd

        driver = renderer.engine.split(";")[1].strip()
        self.name = f"{'espeak-ng' if driver == 'espeak' else driver} via pyttsx3"
        self.lead = LEAD_SECONDS * clock.speed
        self._renderer, self._clock, self._log = renderer, clock, log
        self._notice, self._volume = notice, volume
        self._lock = threading.Lock()
        self._pending: list[Playing] = []
        self._active: list[Playing] = []
        self._busy_until = 0.0
        self._last_callback = time.monotonic()
        self._device = device
        self._played: PlayedAudio | None = None
        # Held to stop, swap or check the stream: a cut's abort()/start() is no lost device.
        self._device_lock = threading.RLock()
        self._lost = False
        self._closed = threading.Event()
        self._retry: threading.Thread | None = None
        with hushed():  # ALSA's and PortAudio's own lines would bury ours (native_stderr)
            self.rate = pick_rate(sd, device)
            self._stream = self._open_stream(sd)
        self._reporter = Reporter(clock, report, log, self._watch)
        with hushed():
            self._stream.start()

    def _open_stream(self, sd: Any) -> Any:
        stream = sd.OutputStream(
            samplerate=self.rate, channels=1, dtype="float32", device=self._device,
            latency=LATENCY, blocksize=int(self.rate * BLOCK), callback=self._callback,
        )  # fmt: skip
        # Kept apart from the stream: while a new stream starts, `_stream` is the closed one.
        self._latency = float(stream.latency)
        # The next callback is the first of a (re)started stream: its block follows no other.
        self._fresh = True
        return stream

    def reference(self) -> PlayedAudio:
        """What this speaker plays from now on, block by block and dated: an echo canceller's
        reference (echocancel.py)."""
        if self._played is None:
            self._played = PlayedAudio(self.rate)
        return self._played

    @property
    def renderer(self) -> Renderer:
        """Where clips come from (tests and benchmarks look at its counters)."""
        return self._renderer

    # -- Speaker Protocol ------------------------------------------------------------------

    def prepare(self, texts: Iterable[str]) -> None:
        self._renderer.prepare(texts)

    def duration(self, text: str) -> float:
        clip = self._renderer.get(text, DURATION_WAIT)
        seconds = clip.seconds if clip is not None else estimate_seconds(text) / self._clock.speed
        return seconds * self._clock.speed

    def say(self, text: str, kind: str, at: float) -> None:
        now = self._clock.now()
        # A count waits for its render only until its deadline: on the beat as a caption
        # beats late as a sound. Words said "now" may come a little late instead.
        budget = (at - now) / self._clock.speed - 2 * LATENCY
        if kind != "count":
            budget = max(budget, LATE_WAIT)
        clip = None if self._lost else self._renderer.get(text, budget)
        if clip is None:
            self._caption(Utterance(text, kind, at), now)
            return
        start = max(at, now)
        speed = self._clock.speed
        # Its loudness beside its words: the listener tells the person from the coach's echo.
        utt = Utterance(text, kind, at, start, start + clip.seconds * speed,
                        levels=clip.levels,
                        level_step=LEVEL_SECONDS * speed)
        voice = Playing(utt, self._prepared(clip), self._clock.to_monotonic(at) - PRE_ROLL,
                        clip.seconds)
        with self._lock:
            # Under the lock: a loss drains `_pending`, and a clip added later would play late.
            lost = self._lost
            if not lost:
                self._log.record(utt)
                self._pending.append(voice)
                self._busy_until = max(self._busy_until, utt.end or start)
        if lost:
            self._caption(Utterance(text, kind, at), now)

    def cut(self) -> None:
        now = self._clock.now()
        with self._lock:
            dropped, self._pending = self._pending, []
            self._busy_until = min(self._busy_until, now)
        self._reporter.drop_captions(now)
        for v in dropped:  # never started: nothing was heard, so nothing to echo-cancel
            self._log.record(replace(v.utt, start=now, end=now, cut=True))
        if self._active and not self._lost:
            self._flush()

    def _flush(self) -> None:
        # Stopping in the callback is not enough: the device still holds `latency` (40-60 ms
        # through PulseAudio) of queued sound. abort() drops that queue (measured: silence
        # 4-12 ms after the call) and waits for the callback to finish, so `_active` is ours
        # until start(); start() takes about 2 ms, and placement stays exact afterwards.
        with self._device_lock:
            try:
                self._stream.abort()
                silent_m = time.monotonic()
                for v in self._active:
                    if v.started_m is None:
                        self._reporter.dropped(v)
                    else:
                        self._reporter.ended(v, silent_m, True)
                self._active = []
                self._last_callback = time.monotonic()
                self._fresh = True
                self._stream.start()
            except Exception as exc:  # the device went away under us
                self._lose(f"the sound output failed: {exc}")

    def busy_until(self) -> float:
        with self._lock:
            return self._busy_until

    def close(self) -> None:
        self._closed.set()
        if self._retry is not None:
            self._retry.join(timeout=2.0)
        with self._device_lock:
            close_quietly(self._stream)
        self._reporter.close()
        self._renderer.close()

    # -- helpers ---------------------------------------------------------------------------

    def _prepared(self, clip: Clip) -> Any:
        import numpy as np

        samples = resample(clip.samples.astype(np.float32), clip.rate, self.rate)
        return (samples * np.float32(self._volume / 32768.0)).astype(np.float32)

    def _caption(self, utt: Utterance, now: float) -> None:
        if not self._lost and not self._renderer.failed(utt.text):
            self._notice(f"{utt.text[:40]!r} was not rendered in time; showing it as a caption")
        start = max(utt.at, now)
        shown = replace(utt, start=start, end=start + estimate_seconds(utt.text))
        with self._lock:
            self._busy_until = max(self._busy_until, shown.end or start)
        self._reporter.caption(shown)

    # -- watchdog (on the reporter thread) and reconnection ---------------------------------

    def _watch(self) -> None:
        # A device that vanishes either ends the stream (PortAudio gives up on it) or just
        # stops calling back. Only overdue sound counts for the latter: some sinks take a
        # moment to start, and an idle stream is no sign of trouble.
        with self._device_lock:
            if self._lost or self._closed.is_set():
                return
            if not self._stream.active:
                self._lose("the sound output stopped")
                return
            stalled = time.monotonic() - self._last_callback >= STALL
        if not stalled:
            return
        with self._lock:
            waiting = self._active + self._pending
        overdue = time.monotonic() - STALL
        if any(v.start_m < overdue for v in waiting):
            with self._device_lock:
                if not self._lost:
                    self._lose("the sound output stopped")

    def _lose(self, why: str) -> None:
        """The device is gone: captions from now on, and a thread that tries to reopen it."""
        self._lost = True
        self._notice(f"speaker lost ({why}): showing captions; will retry")
        with self._lock:
            stuck, self._active, self._pending = self._active + self._pending, [], []
        now = self._clock.now()
        for v in stuck:
            if v.started_m is None:  # never heard: show it, on its deadline if still ahead
                self._caption(replace(v.utt, start=None, end=None, levels=()), now)
            else:
                self._reporter.finish(v.utt, now, True)
        self._retry = threading.Thread(target=self._reconnect, daemon=True,
                                       name="voicecoach-speaker-retry")
        self._retry.start()

    def _reconnect(self) -> None:
        import sounddevice as sd

        with self._device_lock:
            close_quietly(self._stream)
        wait = RETRY_FIRST
        while not self._closed.wait(wait):
            try:
                # Same device, same rate: clips are resampled for it as they are handed over.
                with hushed():  # a retry every few seconds: no ALSA lines each time
                    stream = self._open_stream(sd)
                    stream.start()
            except Exception:  # still gone (PortAudio says so in several ways)
                wait = min(2 * wait, RETRY_MAX)
                continue
            if not wait_running(stream, lambda: self._last_callback, self._closed, STEADY,
                                3 * STALL, BLOCK):
                close_quietly(stream)
                continue
            with self._device_lock:
                if self._closed.is_set():
                    close_quietly(stream)
                    return
                self._stream, self._last_callback = stream, time.monotonic()
                self._lost = False
            self._notice("speaker back: using the voice again")
            return

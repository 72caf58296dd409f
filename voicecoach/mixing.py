"""The output stream's callback: each clip placed on the stream's own clock, and mixed."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voicecoach.echocancel import PlayedAudio
    from voicecoach.speechreport import Playing, Reporter


class Mixer:
    """AudioSpeaker's audio callback (playback.py); it never blocks and never calls back."""

    if TYPE_CHECKING:
        # What it uses of the AudioSpeaker's state (set in AudioSpeaker.__init__).
        rate: int
        _lock: threading.Lock
        _pending: list[Playing]
        _active: list[Playing]
        _reporter: Reporter
        _played: PlayedAudio | None
        _fresh: bool
        _stream: Any
        _latency: float
        _last_callback: float

    def _callback(self, out: Any, frames: int, info: Any, status: Any) -> None:
        now_m = time.monotonic()
        self._last_callback = now_m
        dac, cur = info.outputBufferDacTime, info.currentTime
        if dac and cur:
            # The stream's clock now, not when PortAudio made the call: a callback that waited
            # for the GIL under load dated its clips that much late (echoes then came up to
            # 150 ms "before" their clips in CI). Closing or swapping meanwhile: the call's time.
            with contextlib.suppress(Exception):
                cur = max(cur, float(self._stream.time))
        # Some hosts report 0 for unknown times: then assume the requested latency.
        t0 = now_m + (dac - cur if dac and cur else self._latency)
        buf = out[:, 0]
        buf.fill(0.0)
        with self._lock:
            fresh, self._pending = self._pending, []
        self._active.extend(fresh)
        rate, keep = self.rate, []
        for v in self._active:
            off = 0
            if v.started_m is None:
                off = int(round((v.start_m - t0) * rate))
                if off >= frames:
                    keep.append(v)
                    continue
                off = max(0, off)  # late (handed over after its time): start right away
                v.started_m = t0 + off / rate
                self._reporter.started(v)
            n = min(frames - off, len(v.samples) - v.pos)
            buf[off : off + n] += v.samples[v.pos : v.pos + n]
            v.pos += n
            if v.pos >= len(v.samples):
                self._reporter.ended(v, t0 + (off + n) / rate, False)
            else:
                keep.append(v)
        self._active = keep
        played = self._played
        if played is not None:
            played.add(t0, buf, self._fresh)
        self._fresh = False
        if out.shape[1] > 1:
            out[:, 1:] = buf[:, None]

"""The microphone edge: a Protocol, and its sounddevice (PortAudio) adapter."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from voicecoach.native_stderr import hushed

#: Chunk length handed to the recognizer: short enough for fast partials, long enough that a
#: Raspberry Pi is not woken up too often.
CHUNK_SECONDS = 0.03
#: Rates tried when the device's own default rate is refused.
FALLBACK_RATES = (48000, 44100, 16000, 32000, 22050, 8000)
#: The highest rate opened: pocketsphinx's endpointer refuses more ("Invalid endpointer or VAD
#: parameters" for a 96 kHz default), and speech gains nothing above it.
MAX_RATE = 48000
#: Chunks kept when the reader falls behind (about 6 s); beyond that, audio is dropped.
QUEUE_CHUNKS = 200


@dataclass(frozen=True)
class Chunk:
    """A block of 16-bit mono samples and when its last sample was captured."""

    pcm: bytes
    """Little-endian int16 mono samples."""
    captured: float
    """time.monotonic() of the capture of its last sample: by the device's ADC time, or
    arrival minus the input latency where the host gives no times."""


class MicrophoneError(Exception):
    """The microphone could not be opened; `fix` says what to do."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


class Microphone(Protocol):
    """A live source of Chunks at a fixed rate."""

    name: str
    """Device name, for messages."""
    rate: int
    """Samples a second, the device's own: the recognizer is told this rate."""
    overflows: int
    """Blocks lost so far (driver overflow or a full queue)."""

    def start(self) -> None:
        """Start capturing."""
        ...

    def read(self, timeout: float) -> Chunk | None:
        """The next chunk, or None when none arrived within `timeout` seconds."""
        ...

    def close(self) -> None:
        """Stop capturing and release the device."""
        ...


class SoundDeviceMicrophone:
    """PortAudio input through sounddevice, opened at the device's default rate."""

    def __init__(self, device: str | int | None = None) -> None:
        try:
            with hushed():  # PortAudio's start-up scan prints ALSA's complaints itself
                import sounddevice as sd
        except (ImportError, OSError) as e:
            raise MicrophoneError(
                f"sounddevice/PortAudio is not available ({e})",
                "install it: sudo apt-get install libportaudio2, then scripts/setup",
            ) from e
        self._sd: Any = sd
        self.device = device
        try:
            with hushed():
                info = sd.query_devices(device, "input")
        except (ValueError, sd.PortAudioError) as e:
            # With no device named, PortAudio only says "Error querying device -1": no help.
            what = f"no input device {device!r} ({e})" if device is not None else "no microphone"
            raise MicrophoneError(
                what,
                "plug in a microphone or choose one with --input-device (see voicecoach doctor)",
            ) from e
        self.name = str(info["name"])
        self._default_rate = int(info["default_samplerate"] or 16000)
        self.rate = self._default_rate
        self.latency = 0.0
        self.overflows = 0
        self._stream_rate = self.rate
        self._opened = False  # once opened, only at that rate: the recognizer was built for it
        self._queue: queue.Queue[Chunk] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._stream: Any = None
        self._lock = threading.Lock()

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # Runs on PortAudio's thread: copy and enqueue, nothing else.
        now = time.monotonic()
        if status.input_overflow:
            self.overflows += 1
        # Dated by the ADC time PortAudio gives for the block's first sample (on the stream's
        # clock, so only its distance from currentTime is used): a callback that a busy CPU
        # runs late, or a driver that hands over blocks in bursts, still dates its audio
        # right. Hosts that give no times: arrival minus the stream's input latency.
        adc, cur = time_info.inputBufferAdcTime, time_info.currentTime
        behind = -1.0
        if adc and cur:
            stream = self._stream
            if stream is not None:
                # The stream's clock now, not at the call: waiting for the GIL counts too.
                with contextlib.suppress(Exception):  # closing meanwhile: the call's time will do
                    cur = max(cur, float(stream.time))
            behind = cur - adc
        if 0.0 <= behind < 2.0:
            captured = now - behind + frames / self._stream_rate
        else:
            captured = now - self.latency
        try:
            self._queue.put_nowait(Chunk(bytes(indata), captured))
        except queue.Full:
            self.overflows += 1

    def start(self) -> None:
        with self._lock:
            if self._stream is not None:
                return
            # Chunks of an earlier stream (start-up's probe, a lost device) are stale: the
            # listener would take them for audio it failed to decode in time.
            while not self._queue.empty():
                self._queue.get_nowait()
            if self._opened:
                # Reopened after a loss: at another rate, the recognizer, the keyword search
                # and the level meters, all built for this one, would mishear everything.
                rates = [self.rate]
            else:
                rates = [r for r in dict.fromkeys((self._default_rate, *FALLBACK_RATES))
                         if r <= MAX_RATE]
            error = ""
            for rate in rates:
                self._stream_rate = rate  # before the first callback can run
                stream = None
                try:
                    with hushed():  # ALSA's and PortAudio's own lines would bury ours
                        stream = self._sd.RawInputStream(
                            samplerate=rate,
                            blocksize=int(rate * CHUNK_SECONDS),
                            device=self.device,
                            channels=1,
                            dtype="int16",
                            latency="low",
                            callback=self._callback,
                        )
                        # Before start(): the first callbacks date their blocks with them.
                        self._stream, self.latency = stream, float(stream.latency)
                        stream.start()
                except self._sd.PortAudioError as e:
                    error = str(e.args[0]) if e.args else str(e)
                    self._stream = None
                    if stream is not None:  # opened but would not start: free the device
                        with contextlib.suppress(self._sd.PortAudioError):
                            stream.close()
                    continue
                self.rate, self._opened = rate, True
                return
            # One line: the rates tried and the last error (they are all alike).
            raise MicrophoneError(
                f"{self.name!r} opens at no rate (tried {', '.join(map(str, rates))} Hz: "
                f"{error})",
                "check that no other program holds the microphone (voicecoach doctor)",
            )

    def read(self, timeout: float) -> Chunk | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    @property
    def failed(self) -> bool:
        """True when PortAudio ended the stream by itself (the device went away)."""
        stream = self._stream
        return stream is not None and not stream.active

    def restart(self) -> None:
        """Close and reopen the stream (the watchdog's remedy for a stalled or lost device)."""
        self.close()
        self.start()  # which empties the queue of the old stream's chunks

    def close(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()  # not stop(): nothing queued is wanted, and it cannot wait
                stream.close()
            except self._sd.PortAudioError:  # a device that went away fails to close: fine
                pass

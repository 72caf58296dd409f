"""Small pieces of the output device's life for AudioSpeaker: its rate, starting, closing.

Kept apart so that playback.py stays about placing sound."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def pick_rate(sd: Any, device: str | int | None) -> int:
    """The device's own rate (clips are resampled to it), else 48000 or 44100 Hz."""
    # Not the engine's 22050 Hz: through the ALSA pulse plugin its latency reports then drift
    # by ~100 ppm (measured: 2 ms late after 20 s, 8 ms after a minute); at 44100/48000 they
    # hold.
    info = sd.query_devices(device, "output")
    rates = list(dict.fromkeys((int(info["default_samplerate"]), 48000, 44100)))
    for rate in rates:
        try:
            sd.check_output_settings(device=device, samplerate=rate, channels=1,
                                     dtype="float32")
            return rate
        except Exception:  # PortAudio says no in several ways; try the next rate
            continue
    raise RuntimeError(f"{info['name']!r} opens at no rate (tried {', '.join(map(str, rates))} Hz)")


def wait_running(stream: Any, last_callback: Callable[[], float], closed: threading.Event,
                 steady: float, limit: float, poll: float) -> bool:
    """True once a callback comes `steady` s after now (the stream really runs), within `limit`.

    A stream opened on a device that just came back may be primed at once and then wait
    (measured: about 1 s on a reloaded PulseAudio sink); sound is placed by the callbacks'
    clock, so it is used only once they come steadily."""
    started = time.monotonic()
    while time.monotonic() - started < limit and not closed.is_set():
        if last_callback() > started + steady and stream.active:
            return True
        time.sleep(poll)
    return False


def close_quietly(stream: Any) -> None:
    """Abort and close; a device that went away may fail to, which must not matter."""
    try:
        stream.abort()
        stream.close()
    except Exception:  # PortAudio errors differ by host API; the stream is gone either way
        pass

"""Holding back what the audio libraries print to stderr themselves.

ALSA and PortAudio write their own lines straight to file descriptor 2 when a device will not
open ("ALSA lib pcm_pulse.c:758:(pulse_prepare) ...", "Expression 'ret' failed in
'src/hostapi/alsa/pa_linux_alsa.c' ..."), and on many Raspberry Pi set-ups a dozen of them at
every start, before PortAudio has found anything. They come before our own one line that says
what is wrong and how to fix it, and bury it. Python cannot catch them (they never pass through
`sys.stderr`), so while a device is probed or opened, fd 2 points at a temporary file; after,
lines that are the libraries' noise are dropped and everything else is written out as it came.

ALSA also reports trouble while a stream runs ("ALSA lib pcm.c:8568:(snd_pcm_recover)
underrun occurred" when a busy machine is late with the speaker's audio), through an error
handler of its own that writes to fd 2 in the middle of the session's screen. Once a device
has been opened here, that handler is replaced by one that only counts (alsa_errors); the
session says at its end how many there were.

`VOICECOACH_NATIVE_STDERR=1` lets all of it through, for a bug report.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any

#: Beginnings of the lines the audio libraries print on their own (ALSA's error handler,
#: PortAudio's host API assertions, JACK's client library when no JACK server runs).
NOISE = (
    "ALSA lib ",
    "Expression '",
    "Cannot connect to server socket",
    "Cannot connect to server request channel",
    "jack server is not running",
    "JackShmReadWritePtr",
    "Cannot lock down",
)

_lock = threading.RLock()
_depth = 0
#: ALSA's error reports since count_alsa_errors(), by the ALSA function that made them.
_alsa: dict[str, int] = {}
_handler: Any = None  # the ctypes callback ALSA holds: kept alive here


def is_noise(line: str) -> bool:
    """Whether `line` is one of the audio libraries' own messages (or blank)."""
    return not line.strip() or line.startswith(NOISE)


def kept(text: str) -> str:
    """`text` without the audio libraries' lines."""
    return "".join(line for line in text.splitlines(keepends=True) if not is_noise(line))


@contextlib.contextmanager
def hushed() -> Iterator[None]:
    """Hold back fd 2 while the block runs; write out what is not the libraries' noise.

    Anything that goes wrong in setting this up only means nothing is held back: it must never
    pass for a missing sound library."""
    global _depth
    # Started with no stderr at all (a daemon): fd 2 may be some other file of ours by now.
    if os.environ.get("VOICECOACH_NATIVE_STDERR") == "1" or sys.__stderr__ is None:
        yield
        return
    count_alsa_errors()
    with _lock:
        _depth += 1
        try:
            held = None if _depth > 1 else _temporary()
            if held is None:  # held back by an outer block already, or no temporary file
                yield
                return
            with held:
                try:
                    saved = os.dup(2)
                except OSError:
                    yield
                    return
                try:
                    with contextlib.suppress(Exception):
                        sys.stderr.flush()
                    try:
                        os.dup2(held.fileno(), 2)
                        yield
                    finally:
                        # First, before anything a second Ctrl-C could interrupt.
                        os.dup2(saved, 2)
                finally:
                    os.close(saved)
                held.seek(0)
                rest = kept(held.read().decode("utf-8", "replace"))
            if rest:
                with contextlib.suppress(Exception):
                    sys.stderr.write(rest)
                    sys.stderr.flush()
        finally:
            _depth -= 1


def _temporary() -> IO[bytes] | None:
    try:
        return tempfile.TemporaryFile()
    except OSError:  # no writable temporary folder
        return None


def count_alsa_errors() -> bool:
    """Have ALSA's error reports counted (alsa_errors) instead of written to fd 2; False when
    there is no ALSA library here (or VOICECOACH_NATIVE_STDERR=1 asks for all of it)."""
    global _handler
    if os.environ.get("VOICECOACH_NATIVE_STDERR") == "1":
        return False
    with _lock:
        if _handler is not None:
            return True
        import ctypes

        try:
            lib = ctypes.CDLL("libasound.so.2")  # the one PortAudio uses: one handler for both
            setter = lib.snd_lib_error_set_handler
        except (OSError, AttributeError):  # no ALSA (macOS, a container without it)
            return False
        # ALSA's handler is variadic (file, line, function, err, fmt, ...); the fixed
        # arguments are all that is needed, and on x86-64 and arm64 Linux they arrive as for
        # any call.
        proto = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                 ctypes.c_int, ctypes.c_char_p)

        def report(file: bytes | None, line: int, function: bytes | None, err: int,
                   fmt: bytes | None) -> None:
            where = (function or b"?").decode("ascii", "replace")
            _alsa[where] = _alsa.get(where, 0) + 1

        handler = proto(report)
        if setter(handler) != 0:
            return False
        _handler = handler
        return True


def alsa_errors() -> dict[str, int]:
    """How many errors ALSA reported since count_alsa_errors(), by the function reporting."""
    return dict(_alsa)

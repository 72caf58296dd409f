"""Keep a long session's resident memory flat: glibc's allocator, told to give memory back.

A session makes and drops many buffers of a few hundred kB to a few MB (microphone blocks,
clips, recognizer frames), from several threads. Left alone, glibc raises its mmap threshold
after the first such buffer is freed (up to 32 MB), so later ones come from heaps that only
grow, and every thread may get its own heap. The hour-long run then showed resident memory
stepping up by 10 MB and staying there. Both behaviours are switched off here, and the heaps
are trimmed between steps, when the run loop has nothing due.

Only glibc has these knobs; anywhere else (macOS, musl) every call is a no-op.
"""

from __future__ import annotations

import ctypes
import functools
import os
from typing import Any

#: mallopt parameters, from glibc's malloc.h.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
#: Buffers this big or bigger get their own mapping, returned to the system when freed.
#: Setting it fixes it: glibc stops raising it on its own.
MMAP_THRESHOLD = 256 * 1024
#: Free memory at a heap's top above this is returned at once.
TRIM_THRESHOLD = 1024 * 1024
#: Heaps for the whole process: the audio threads share rather than each holding its own.
#: Only heaps made later are limited, so settle() comes before any thread starts.
ARENA_MAX = 2


@functools.cache
def _glibc() -> Any | None:
    """glibc, loaded once; None where the C library is something else (musl, macOS)."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        lib = ctypes.CDLL(None)  # the C library the interpreter already uses
        lib.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        lib.malloc_trim.argtypes = (ctypes.c_size_t,)
    except (AttributeError, OSError, ValueError):  # no confstr name, no such symbol
        return None
    return lib


def settle() -> bool:
    """Fix the allocator's thresholds for a long run; True if they were set (glibc). Call it
    before any thread starts: the heap limit only holds for heaps made afterwards."""
    lib = _glibc()
    if lib is None:
        return False
    return all([lib.mallopt(param, value) == 1 for param, value in (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (M_ARENA_MAX, ARENA_MAX))])  # a list: every knob is set, whatever the first says


def give_back() -> bool:
    """Return free heap pages to the system; True if any were (glibc)."""
    lib = _glibc()
    return bool(lib is not None and lib.malloc_trim(0))

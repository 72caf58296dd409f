"""Handles the harness gives out (a background parec recording, a loaded module), and a
guard so that the processes behind them never outlive the test run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness import Pulse


@dataclass
class Module:
    """A loaded PulseAudio module that a test can unload."""

    pulse: Pulse
    """The daemon it was loaded into."""
    index: int
    """Module index as pactl reports it."""

    def unload(self) -> None:
        """Remove the module (idempotent)."""
        if self.index >= 0:
            self.pulse.pactl("unload-module", str(self.index))
            self.index = -1


@dataclass
class Modules:
    """Several loaded modules, unloaded together."""

    modules: list[Module]
    """The modules, in the order they were loaded."""

    def unload(self) -> None:
        """Remove them all (idempotent)."""
        for module in self.modules:
            module.unload()


@dataclass
class Recording:
    """A parec process recording one source in the background."""

    proc: subprocess.Popen[bytes]
    """The parec process (raw mono float32 on stdout)."""
    rate: int
    """Samples a second."""
    started: float = 0.0
    """time.monotonic() when the first samples arrived (approximate)."""
    keep: bool = True
    """Keep the samples (False: read and drop them)."""
    chunks: list[bytes] = field(default_factory=list)
    """Raw data read so far."""
    _thread: threading.Thread | None = None

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            data = os.read(fd, 4096)
            if not data:
                return
            if not self.started:
                self.started = time.monotonic()
            if self.keep or not self.chunks:
                self.chunks.append(data)

    def begin(self, wait: bool = True) -> Recording:
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        # Wait for audio to flow so callers can start playing right after this returns.
        deadline = time.monotonic() + (3.0 if wait else 0.0)
        while not self.chunks and time.monotonic() < deadline:
            time.sleep(0.005)
        return self

    def stop(self) -> tuple[Any, int]:
        """End the recording and return (mono float32 samples, rate)."""
        import numpy as np

        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self._thread is not None:
            self._thread.join(timeout=3)
        raw = b"".join(self.chunks)
        raw = raw[: len(raw) // 4 * 4]
        return np.frombuffer(raw, dtype="<f4").copy(), self.rate


def die_with_parent(cmd: list[str]) -> list[str]:
    """`cmd` made to get SIGTERM when the process that started it dies (prctl
    PR_SET_PDEATHSIG, through util-linux's setpriv), so a crashed test run leaves no daemon or
    recorder behind; `cmd` as it is where setpriv is missing.

    Not a preexec_fn: Python code between fork and exec in a process with threads can deadlock
    on a lock another thread held at the fork (CI 2026-12-01: `ctypes.CDLL(None)` hung for
    an hour in the child of a session's test, in the dynamic loader's lock).
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", *cmd] if setpriv else cmd

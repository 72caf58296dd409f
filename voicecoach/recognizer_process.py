"""A recognizer in a child process, so that its decoding never holds up the speaker.

pocketsphinx keeps Python's GIL while it decodes. Most chunks take a few milliseconds, but
closing an utterance runs its second pass over the whole utterance: 45 ms for 5 s of a quiet
room, and, live with the coach's voice in the microphone, up to 1.4 s after a 30 s utterance.
The speaker's audio callback is Python too; it waited all that time, the sound device ran
dry, the coach's voice broke up and counts came late (in the PulseAudio harness: 47 ALSA
underruns in 400 s; callback gaps of 0.57 and 1.39 s in 150 s). In a process of its own the
recognizer has its own GIL: the listener thread waits for its answer on a pipe, which lets
every other thread run.

The child is a fresh interpreter running this module; calls and answers are pickled over a
socket pair.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, Pipe
from typing import Any

from voicecoach.recognizer import Hearing, Recognizer, RecognizerError

#: Seconds the child may take to import its engine and load the model.
START_SECONDS = 60.0
#: Seconds one call may take before the child is taken for hung (a chunk takes milliseconds;
#: closing a long utterance on a slow machine, about a second).
CALL_SECONDS = 10.0
#: Seconds close() waits for a call under way before it kills the child.
CLOSE_WAIT = 1.0


def serve(conn: Connection) -> None:
    """The child: take the parent's import path and the recipe, build the recognizer, then
    answer calls until told to close."""
    sys.path[:0] = [p for p in conn.recv() if p not in sys.path]
    try:
        build = conn.recv()
        rec = build()
    except RecognizerError as e:
        conn.send(("error", e.reason, e.fix))
        return
    except Exception as e:  # any engine fault: said in the parent, in one line
        conn.send(("error", f"{type(e).__name__}: {e}", ""))
        return
    conn.send(("ready", rec.name, rec.rate, tuple(rec.missing)))
    while True:
        try:
            op, arg = conn.recv()
        except (EOFError, OSError):  # the parent went away
            break
        try:
            if op == "accept":
                conn.send(("ok", rec.accept(arg)))
            elif op == "expect":
                rec.expect(arg)
                conn.send(("ok", None))
            elif op == "paused":
                rec.paused(arg)
                conn.send(("ok", None))
            elif op == "reset":
                rec.reset()
                conn.send(("ok", None))
            elif op == "close":
                rec.close()
                conn.send(("ok", None))
                break
        except Exception as e:
            conn.send(("error", f"{type(e).__name__}: {e}", ""))


class ProcessError(RecognizerError):
    """The child process failed (would not start, hung or died), not the engine in it."""


class RecognizerProcess:
    """The Recognizer Protocol, answered by the recognizer `build()` makes in a child process.
    `build` must be picklable (a class and its arguments in functools.partial)."""

    def __init__(self, build: Callable[[], Recognizer],
                 start_seconds: float = START_SECONDS) -> None:
        # A fresh interpreter (`python -m`), not multiprocessing's fork or spawn: fork would
        # copy PortAudio's threads' state, and spawn re-runs the caller's main script.
        self._conn, child = Pipe()  # a socket pair: both ways over one descriptor
        package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [package_root, *filter(None, [env.get("PYTHONPATH")])])
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "voicecoach.recognizer_process", str(child.fileno())],
                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, env=env)  # stdout is the coach's data, not ours
        except OSError as e:
            self._conn.close()
            raise ProcessError(f"the recognizer process did not start: {e}") from e
        finally:
            child.close()
        # One call at a time (reset() and close() may come from other threads than accept()).
        self._lock = threading.Lock()
        # The latest expect() and paused() not yet sent, each as a 1-tuple (one dict
        # assignment from the session's thread; popped by accept()).
        self._latest: dict[str, tuple[Any]] = {}
        self._closed = False
        try:
            self._conn.send(list(sys.path))
            self._conn.send(build)
        except OSError as e:
            raise self._gone(str(e)) from e
        reply = self._reply(start_seconds, "starting")
        if reply[0] != "ready":
            self._closed = True
            self._conn.close()
            self._proc.wait(timeout=5.0)
            raise RecognizerError(reply[1], reply[2])
        _, self.name, self.rate, self.missing = reply

    def accept(self, pcm: bytes) -> Hearing:
        # What the session's thread asked for goes first, from this (the listener's) thread.
        for op in ("expect", "paused"):
            latest = self._latest.pop(op, None)
            if latest is not None:
                self._call(op, latest[0])
        hearing: Hearing = self._call("accept", pcm)
        return hearing

    def expect(self, section: str | None) -> None:
        # From the session's thread, which must neither wait nor fail for the listener: sent
        # with the next chunk. Waiting for the child's answer meant waiting behind a chunk's
        # decoding, up to 1.4 s when a long utterance closes (10 s if the child hangs), with
        # "Paused." or the session's end held up meanwhile.
        self._latest["expect"] = (section,)

    def paused(self, paused: bool | None) -> None:
        self._latest["paused"] = (paused,)  # as expect()

    def reset(self) -> None:
        self._call("reset", None)

    def close(self) -> None:
        # A call under way (a long utterance closing, or a child that hung) must not hold the
        # session's end for up to CALL_SECONDS: after a short wait the child is killed, which
        # ends that call too (with a ProcessError in its thread, which is closing anyway).
        got = self._lock.acquire(timeout=CLOSE_WAIT)
        try:
            if self._closed:
                return
            self._closed = True
            if got:
                try:
                    self._conn.send(("close", None))
                    if self._conn.poll(2.0):
                        self._conn.recv()
                except (EOFError, OSError):
                    pass
                self._conn.close()
        finally:
            if got:
                self._lock.release()
        try:
            self._proc.wait(timeout=2.0 if got else 0.0)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=2.0)

    def _call(self, op: str, arg: object) -> Any:
        with self._lock:
            if self._closed:
                raise RecognizerError("the recognizer is closed")
            try:
                self._conn.send((op, arg))
            except OSError as e:
                raise self._gone(str(e)) from e
            reply = self._reply(CALL_SECONDS, op)
        if reply[0] != "ok":
            raise RecognizerError(reply[1], reply[2])
        return reply[1]

    def _reply(self, seconds: float, doing: str) -> tuple[Any, ...]:
        try:
            if not self._conn.poll(seconds):
                self._proc.kill()
                raise ProcessError(f"the recognizer process hung ({doing} took over "
                                   f"{seconds:.0f} s)", "restart voicecoach")
            reply: tuple[Any, ...] = self._conn.recv()
        except (EOFError, OSError) as e:
            raise self._gone(str(e) or type(e).__name__) from e
        return reply

    def _gone(self, why: str) -> ProcessError:
        try:
            code = self._proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        what = f"exit code {code}" if code is not None else why
        return ProcessError(f"the recognizer process ended ({what})",
                               "restart voicecoach; if it recurs, run: voicecoach doctor")


if __name__ == "__main__":
    import contextlib
    import signal

    # Ctrl-C reaches the whole process group: the parent ends the session and closes this
    # child itself (and if the parent dies, the pipe's end stops the loop), so no traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent may go away mid-call (Ctrl-C while the model loads, say): nobody is left to
    # answer, and a traceback would land on the terminal after the coach's last line.
    with contextlib.suppress(OSError, EOFError):
        serve(Connection(int(sys.argv[1])))

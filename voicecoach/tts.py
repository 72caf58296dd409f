"""Text to speech with pyttsx3, in a child process that owns the engine and can be killed.

What was tried, and why it ended up like this:

- `engine.say()` + `runAndWait()` (pyttsx3's own playback). On Linux (espeak driver, 2.99)
  it renders to a temp file and blocks in `aplay`: no way to stop it mid-phrase, no control
  over when sound starts (aplay opens the device each time: 50-300 ms of jitter), and it
  hangs when aplay does. Re-entering it raises "run loop already started".
- `save_to_file()` and `say()` on one engine. After one `save_to_file` the espeak driver
  keeps the file name, so later `say()` calls overwrite that file instead of speaking. We
  therefore only ever save, never say.
- Several `save_to_file()` calls before one `runAndWait()`. The espeak driver synthesises
  only the last text queued per loop, so we render one phrase per `runAndWait()` (about 10 ms
  each with espeak-ng; the driver's loop sleeps 10 ms).
- An engine in a thread of the main process. It works with espeak, but the macOS (nsss)
  driver needs the main thread's run loop, a hung synthesis cannot be interrupted, and the
  espeak library can only be initialised once per process. So the engine lives in a child
  process (`python -m voicecoach.tts`): its main thread owns the engine on every platform,
  and a render that hangs is ended by killing the process (a fresh one starts on demand).
- Output formats: espeak writes 16-bit mono WAV at 22050 Hz; SAPI5 (Windows) writes WAV;
  NSSpeechSynthesizer (macOS) writes AIFF whatever the name, so on macOS we ask for .aiff and
  `clips.read_audio` reads both.

- `runAndWait()` as "the file is written". With espeak the synthesis is asynchronous, and on
  an engine's first loop runAndWait returns 10 ms after starting it, before the file exists
  (the hello's empty runAndWait avoids that case). So with espeak a worker answers only on
  pyttsx3's "finished-utterance" notification, sent once the file is closed, and waits for it
  before taking the next phrase. Other drivers answer after runAndWait: SAPI5 closes its file
  stream only after Speak returns. (A render with no audio in it still happens now and then;
  render.Renderer tries it again.)
- Speed: a cold routine (about 90 phrases) must be ready before the first word. Two
  workers share the queue (see render.Renderer), each answering as soon as its file is
  written, so the two interleave.
- `getProperty("rate")` on the espeak driver returns 175 or 200 at random (it calls
  espeak_GetParameter without its `current` argument), so the hello reports the rate we
  asked for (None for the default) and the cache key never flickers.

The worker talks JSON lines: it answers a hello (engine identity, voice, rate) at start,
then one line per {"text", "path"} request. pyttsx3 prints to stdout ("Audio saved to ..."),
so the protocol uses a duplicate of the original stdout and stdout itself goes to /dev/null.
"""

from __future__ import annotations

import ctypes
import json
import os
import queue
import subprocess
import sys
import threading
from collections import deque
from typing import IO, Any

from voicecoach.tts_voices import list_voices as list_voices
from voicecoach.tts_voices import match_voice as match_voice
from voicecoach.tts_voices import voice_known as voice_known

#: Seconds a worker may take to start (import pyttsx3, load voices) before we give up.
START_TIMEOUT = 10.0
#: Seconds the worker waits for espeak's end of synthesis (the parent's own limit, from
#: render_timeout, is shorter and kills a hung worker first).
FINISH_TIMEOUT = 120.0


def render_suffix() -> str:
    """File type the platform's pyttsx3 driver writes from save_to_file."""
    return ".aiff" if sys.platform == "darwin" else ".wav"


def render_timeout(text: str) -> float:
    """How long one phrase may take to render before we call the worker hung."""
    return 4.0 + 0.05 * len(text)


def check_engine() -> tuple[str, str] | None:
    """(reason, fix) when the platform's speech engine cannot work, else None. Cheap."""
    if sys.platform in ("darwin", "win32"):
        return None  # nsss / sapi5 ship with the OS; pyttsx3 reports anything else.
    for name in ("libespeak-ng.so.1", "libespeak.so.1", "/usr/local/lib/libespeak-ng.so.1"):
        try:
            ctypes.CDLL(name)
            return None
        except OSError:
            continue
    return ("the espeak-ng speech library is not installed",
            "sudo apt-get install espeak-ng libespeak-ng1")


class WorkerFailed(RuntimeError):
    """The TTS worker could not start, crashed or hung."""


class TtsWorker:
    """One child process with one pyttsx3 engine; `render` is called from one thread only."""

    def __init__(self, voice: str | None, rate: int | None) -> None:
        self.voice = voice
        self.rate = rate
        self.proc: subprocess.Popen[str] | None = None
        self.hello: dict[str, Any] = {}
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=5)

    def start(self) -> dict[str, Any]:
        """Start the process; returns its hello (engine, voice, rate). Raises WorkerFailed,
        or ValueError for settings the engine rejects (an unknown voice)."""
        alive = self.proc is not None and self.proc.poll() is None
        if alive and self.hello:
            return self.hello
        if not alive:
            self.launch()
        self.hello = self._answer(START_TIMEOUT, "starting")
        return self.hello

    def launch(self) -> None:
        """Start the process without waiting for it (it imports pyttsx3 while we do more)."""
        request = json.dumps({"voice": self.voice, "rate": self.rate})
        self.hello = {}
        self._lines = queue.Queue()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voicecoach.tts", request],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", bufsize=1,
            # Its own session: Ctrl-C at the terminal is for the coach (a clean stop), not
            # for the renderer, which would die mid-phrase. It exits when its stdin closes.
            start_new_session=True,
        )  # fmt: skip
        assert self.proc.stdout is not None and self.proc.stderr is not None
        # Each process gets its own queue, so a killed worker's last words never reach the next.
        for stream, lines in ((self.proc.stdout, self._lines), (self.proc.stderr, None)):
            threading.Thread(target=self._pump, args=(stream, lines), daemon=True).start()

    def _pump(self, stream: IO[str], lines: queue.Queue[str | None] | None) -> None:
        # Reader threads, so a silent (hung) worker never blocks us past a timeout.
        for line in stream:
            if lines is not None:
                lines.put(line)
            elif line.strip():
                self._stderr.append(line.strip())
        if lines is not None:
            lines.put(None)

    def _answer(self, timeout: float, doing: str) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise WorkerFailed(f"speech engine hung while {doing}") from None
        if line is None:
            self.kill()
            detail = f": {self._stderr[-1]}" if self._stderr else ""
            raise WorkerFailed(f"speech engine stopped while {doing}{detail}")
        answer: dict[str, Any] = json.loads(line)
        if answer.get("user_error"):
            raise ValueError(str(answer.get("error")))
        if not answer.get("ok"):
            raise WorkerFailed(str(answer.get("error", "unknown error")))
        return answer

    def render(self, text: str, path: str) -> None:
        """Render `text` into audio file `path`. Raises WorkerFailed (the worker is then dead
        if it hung or crashed; call `start` again)."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"text": text, "path": path}) + "\n")
            self.proc.stdin.flush()
        except OSError as exc:
            self.kill()
            raise WorkerFailed(f"speech engine stopped: {exc}") from None
        self._answer(render_timeout(text), f"rendering {text[:40]!r}")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def kill(self) -> None:
        """End the process now (it may be hung in native code, so no polite request)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None and self.proc.stdin is not None:
            try:
                self.proc.stdin.close()  # end of input: the worker exits by itself
                self.proc.wait(timeout=1.0)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()


def _identity(engine: Any) -> str:
    """What the cache key needs so a new engine version never reuses old clips."""
    from importlib.metadata import version

    parts = [f"pyttsx3 {version('pyttsx3')}", str(engine.driver_name)]
    if engine.driver_name == "espeak":
        from pyttsx3.drivers import _espeak

        parts.append(_espeak.Info(None).decode("utf-8", "replace"))
    else:
        import platform

        parts.append(platform.platform())  # OS voices change with OS updates
    return "; ".join(parts)


def _serve(request: str) -> None:
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # pyttsx3 (and native code) print to stdout; keep the protocol clean
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process

    def send(**fields: Any) -> None:
        proto.write(json.dumps(fields) + "\n")

    try:
        import pyttsx3

        settings = json.loads(request)
        engine = pyttsx3.init()
        voice = settings.get("voice")
        if voice:
            match = match_voice(engine.getProperty("voices"), voice)
            if match is None:
                send(ok=False, user_error=True,
                     error=f"unknown voice {voice!r} (see `voicecoach voices`)")
                return
            engine.setProperty("voice", match)
        if settings.get("rate"):
            engine.setProperty("rate", int(settings["rate"]))
        engine.runAndWait()  # applies the queued properties; nothing to say yet
        # The rate we asked for, not getProperty("rate"): pyttsx3 2.99's espeak driver calls
        # espeak_GetParameter without its `current` argument and gets 175 or 200 at random,
        # which would make the cache key (and so the cache) flicker between sessions.
        send(ok=True, engine=_identity(engine), voice=str(engine.getProperty("voice")),
             rate=settings.get("rate"))
    except Exception as exc:  # any failure to start is reported, not raised into the void
        send(ok=False, error=f"{type(exc).__name__}: {exc}")
        return
    jobs: list[dict[str, Any]] = []
    answering = threading.Lock()  # espeak's thread and ours may both answer: once only

    def answer(error: str = "") -> None:
        with answering:
            job = jobs[-1]
            if not job.get("answered"):
                job["answered"] = True
                ok = not error and os.path.exists(job["path"]) and os.path.getsize(job["path"]) > 0
                send(ok=ok, error=error or ("" if ok else "the engine wrote no audio"))

    finished = threading.Event()
    espeak = engine.driver_name == "espeak"
    if espeak:
        # Sent from espeak's synthesis thread once the file is written and closed; runAndWait
        # may return before that (see the module docstring).
        def done(**_: Any) -> None:
            answer()
            finished.set()

        engine.connect("finished-utterance", done)
    for line in sys.stdin:
        jobs[:] = [json.loads(line)]
        finished.clear()
        try:
            engine.save_to_file(jobs[0]["text"], jobs[0]["path"])
            engine.runAndWait()
            # espeak's callback answers once the file is written. A hang here is the parent's
            # to end (its render timeout is shorter); FINISH_TIMEOUT only bounds the wait.
            if espeak and not finished.wait(FINISH_TIMEOUT):
                answer("the engine never finished")
            answer()
        except Exception as exc:
            answer(f"{type(exc).__name__}: {exc}")

if __name__ == "__main__":
    _serve(sys.argv[1] if len(sys.argv) > 1 else "{}")

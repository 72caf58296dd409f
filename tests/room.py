"""The whole coach live in the PulseAudio harness, and a person who talks to it.

`Room` holds a real-time Session with its AudioSpeaker, its pocketsphinx Listener and its event
log; with `loop`, the coach's output is looped into the `room` sink, so the microphone hears the
coach as in a real room. Phrases are spoken into the room with espeak-ng. Used by
test_session_voice.py, test_soak_realtime.py and (without a routine) test_answers_voice.py.
`Person` says commands into a Room as a person would: again when nothing happened.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness import Pulse
from recording import Module, Modules

from voicecoach import memory
from voicecoach.clock import RealClock
from voicecoach.commands import Command, CommandEvent, Inbox
from voicecoach.config import VoiceSettings
from voicecoach.events import EventLog
from voicecoach.library import Routine, load_builtin
from voicecoach.listener import ListenSettings, open_listener
from voicecoach.session import Session
from voicecoach.speaker import SpeechLog
from voicecoach.voice import open_speaker


class Slowed:
    """A real recognizer that, once `armed`, takes `factor` times the audio's length to decode
    each chunk: a machine too busy to keep up (a Pi with other work, a throttled CPU)."""

    def __init__(self, inner: Any, factor: float) -> None:
        self.inner, self.factor, self.armed = inner, factor, threading.Event()

    def accept(self, pcm: bytes) -> Any:
        start = time.monotonic()
        hearing = self.inner.accept(pcm)
        if self.armed.is_set():
            time.sleep(max(0.0, start + self.factor * len(pcm) / 2 / self.inner.rate
                           - time.monotonic()))
        return hearing

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Transcript:
    """sys.stderr, passed through, keeping the listener's debug lines that say what it decided
    (hypotheses, commands, phrases turned down and why): CI shows a failing test's message in full
    but cuts its captured stderr, and a miss once came with no word of its cause (2026-12-07)."""

    KEPT = (" partial ", " final ", " ignored ", " on '")

    def __init__(self) -> None:
        self.inner = sys.stderr
        self.lines: list[str] = []
        self._part = ""
        self._lock = threading.Lock()  # the listener's thread and the session's write

    def write(self, text: str) -> int:
        with self._lock:
            self._part += text
            *done, self._part = self._part.split("\n")
            self.lines.extend(line.strip() for line in done
                              if any(k in line for k in self.KEPT))
        return self.inner.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def calf(hold: float, sets: int = 1, **changes: Any) -> Routine:
    """The built-in calf stretch as `sets` holds of `hold` seconds, without the set-up talk."""
    ex = replace(load_builtin().find_exercise("calf"), sets=sets, hold=hold, setup=(), why="",
                 cautions=(), **changes)
    return Routine("calf", "Calf stretch", (ex,))


def matching(log: EventLog, **match: Any) -> list[dict[str, Any]]:
    """The events so far with every field in `match` equal."""
    return [e for e in list(log.events) if all(e.get(k) == v for k, v in match.items())]


class Room:
    """A running session with its speaker, listener and event log."""

    def __init__(self, pulse: Pulse, tmp: Path, routine: Routine | None = None,
                 loop: bool = True, voice: VoiceSettings | None = None,
                 echo_cancel: bool = False, steady_echo: bool = False,
                 taps: Sequence[tuple[int, float]] | None = None, speed: float = 1.0) -> None:
        # As the app does before any of its threads start (voicecoach/memory.py).
        memory.settle()
        self.pulse, self.tmp = pulse, tmp
        self.clock = RealClock(speed)
        self.inbox = Inbox()
        self.log = EventLog(self.clock.now, self.clock.wall)
        self.notices: list[str] = []
        speech = SpeechLog()
        self.speaker = open_speaker(voice or VoiceSettings(), self.clock, self.log.said, speech,
                                    lambda t: None)
        # The echo canceller's reference is what the speaker plays (as the app wires it).
        played = self.speaker.reference() if echo_cancel else None  # type: ignore[attr-defined]
        self.listener = open_listener(
            ListenSettings(recognizer="pocketsphinx", echo_cancel=echo_cancel), self.clock,
            self.inbox, speech, self.notices.append, played)
        # No routine: the parts only, for a test that drives them itself (and calls close()).
        self.session = (Session(routine, self.clock, self.speaker, self.inbox, self.log,
                                on_state=self.listener.paused)
                        if routine is not None else None)
        # `taps`: a reverberant room's several paths (Pulse.echo_coach_into_room) instead of
        # the loopback's one.
        self._loop: Module | Modules | None = None
        if loop:
            self._loop = (pulse.echo_coach_into_room(taps) if taps
                          else pulse.loop_coach_into_room(steady=steady_echo))
        # Last: nothing after it can fail before close() puts stderr back.
        self.transcript = Transcript()
        sys.stderr = self.transcript  # type: ignore[assignment]

    def run(self, driver: Callable[[Room], None], limit: float = 150.0) -> bool:
        """Run the session while `driver(room)` acts on its own thread; True if completed."""
        assert self.session is not None, "a Room made without a routine has no session"
        thread = threading.Thread(target=driver, args=(self,), daemon=True)
        # A real-time session paused by a misheard word would wait for ever: end it instead.
        watchdog = threading.Timer(limit, lambda: self.inbox.put(
            CommandEvent(Command.STOP, source="watchdog")))
        watchdog.daemon = True
        watchdog.start()
        self.listener.start()
        try:
            thread.start()
            completed = self.session.run()
        finally:
            watchdog.cancel()
            self.close()
        thread.join(timeout=10)
        return completed

    def close(self) -> None:
        self.listener.close()
        self.speaker.close()
        if sys.stderr is self.transcript:
            sys.stderr = self.transcript.inner
        if self._loop is not None:
            self._loop.unload()

    def events(self, **match: Any) -> list[dict[str, Any]]:
        return matching(self.log, **match)

    def wait_for(self, timeout: float, seen: int | None = None,
                 **match: Any) -> dict[str, Any] | None:
        """The next event like `match` after the `seen` ones (default: those there now); None
        when none comes within `timeout` seconds or the session ends."""
        seen = len(self.events(**match)) if seen is None else seen
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = self.events(**match)
            if len(found) > seen:
                return found[-1]
            if self.events(event="session_end"):
                return None
            time.sleep(0.01)
        return None

    def expect(self, timeout: float = 40.0, seen: int | None = None,
               **match: Any) -> dict[str, Any]:
        """wait_for, failing the test when the event does not come."""
        event = self.wait_for(timeout, seen, **match)
        if event is None:
            raise AssertionError(f"no {match} within {timeout} s")
        return event

    def say(self, phrase: str, voice: str = "en-us") -> None:
        """Speak `phrase` into the room (espeak-ng), returning when it has been played."""
        wav = self.tmp / f"{phrase.replace(' ', '-')}-{voice}.wav"
        if not wav.exists():
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), phrase], check=True)
        self.pulse.play_into_room(wav)  # fails if paplay could not play it

    def command(self, phrase: str, voice: str = "en-us", timeout: float = 5.0,
                **match: Any) -> dict[str, Any] | None:
        """Say `phrase` and wait for the event it should cause; counted from before saying it,
        because a command usually fires before the phrase has finished playing."""
        seen = len(self.events(**match))
        self.say(phrase, voice)
        return self.wait_for(timeout, seen, **match)


class Person:
    """Says commands into the room, again if nothing happened, and keeps account of it."""

    def __init__(self, room: Room, attempts: int = 2) -> None:
        self.room = room
        self.attempts = attempts
        self.said: list[str] = []
        self.failures: list[str] = []
        # Each time a command had to be said again: what, and when (for the failure message).
        self.missed: list[str] = []

    def command(self, phrase: str, voice: str = "en-us", timeout: float = 4.0,
                **match: Any) -> bool:
        """Say `phrase` until an event like `match` happens, `attempts` times at most, as a
        person would; True if it did."""
        self.said.append(phrase)
        heard = self.room.transcript.lines
        since = len(heard)
        for attempt in range(self.attempts):
            if attempt:
                # What the listener made of the attempt that went unanswered.
                self.missed.append(f"{phrase!r} ({voice}) at {self.room.clock.now():.1f} s "
                                   f"after {heard[since:][-6:]}")
            since = len(heard)
            try:
                if self.room.command(phrase, voice, timeout=timeout, **match) is not None:
                    return True
            except AssertionError as exc:  # on the driver's thread: it would only warn
                self.failures.append(f"{phrase!r}: {exc}")
                return False
        # Whether the listener still listens (a fault ends its thread with only a notice).
        thread = self.room.listener._thread
        alive = thread is not None and thread.is_alive()
        self.failures.append(f"{phrase!r} at {self.room.clock.now():.1f} s: no {match} "
                             f"after {heard[since:][-6:]}; notices {self.room.notices}; "
                             f"listening: {alive}")
        return False

    @property
    def repeats(self) -> int:
        """How many times a command had to be said again."""
        return len(self.missed)

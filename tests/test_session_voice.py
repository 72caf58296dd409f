"""The whole coach, both ways, in real time: it speaks into the room and listens to the room.

The coach's speaker output is looped into the `room` sink, so the microphone hears the coach
as it would in a real room; spoken commands (espeak-ng) are played into the room as well.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from harness import Pulse

from voicecoach.clock import RealClock
from voicecoach.commands import Command, CommandEvent, Inbox
from voicecoach.config import VoiceSettings
from voicecoach.events import EventLog
from voicecoach.library import Routine, load_builtin
from voicecoach.listener import ListenSettings, open_listener
from voicecoach.session import Session
from voicecoach.speaker import SpeechLog
from voicecoach.voice import open_speaker

# The voice-driven session (~1 min) runs in CI: it also fails on any command the coach's own
# voice would fire, since the commands must be exactly the five spoken ones. The whole silent
# session (~40 s more) is opt-in (VOICECOACH_SLOW=1).
pytestmark = [pytest.mark.audio]
slow = pytest.mark.skipif(not os.environ.get("VOICECOACH_SLOW"),
                          reason="full-duplex voice sessions are opt-in: VOICECOACH_SLOW=1")


@pytest.fixture(scope="module")
def cache(pulse: Pulse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("xdg-cache-voice")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(root))
        yield root


def calf(hold: float, sets: int) -> Routine:
    ex = replace(load_builtin().find_exercise("calf"), sets=sets, hold=hold, rest=3.0,
                 setup=(), why="", cautions=())
    return Routine("calf", "Calf stretch", (ex,))


class Room:
    """A running session with its speaker, listener and event log."""

    def __init__(self, pulse: Pulse, tmp: Path, rt: Routine) -> None:
        self.pulse, self.tmp = pulse, tmp
        self.clock = RealClock()
        self.inbox = Inbox()
        self.log = EventLog(self.clock.now, self.clock.wall)
        speech = SpeechLog()
        self.speaker = open_speaker(VoiceSettings(), self.clock, self.log.said, speech,
                                    lambda t: None)
        self.listener = open_listener(ListenSettings(recognizer="pocketsphinx"), self.clock,
                                      self.inbox, speech, lambda t: None)
        self.session = Session(rt, self.clock, self.speaker, self.inbox, self.log)
        self.loop = pulse.loop_coach_into_room()
        self.result: list[bool] = []

    def run(self, driver: Any, limit: float = 150.0) -> None:
        thread = threading.Thread(target=driver, args=(self,), daemon=True)
        # A real-time session paused by a misheard word would wait for ever: end it instead.
        watchdog = threading.Timer(limit, lambda: self.inbox.put(
            CommandEvent(Command.STOP, source="watchdog")))
        watchdog.daemon = True
        watchdog.start()
        self.listener.start()
        try:
            thread.start()
            self.result.append(self.session.run())
        finally:
            self.listener.close()
            self.speaker.close()
            self.loop.unload()
            watchdog.cancel()
        thread.join(timeout=5)

    def events(self, **match: Any) -> list[dict[str, Any]]:
        return [e for e in list(self.log.events) if all(e.get(k) == v for k, v in match.items())]

    def wait_for(self, timeout: float = 40, seen: int | None = None, **match: Any
                 ) -> dict[str, Any]:
        """The next event matching `match` after the first `seen` (default: from now on)."""
        seen = len(self.events(**match)) if seen is None else seen
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = self.events(**match)
            if len(found) > seen:
                return found[-1]
            time.sleep(0.01)
        raise AssertionError(f"no {match} within {timeout} s")

    def say(self, phrase: str, voice: str = "en-us") -> None:
        wav = self.tmp / f"{phrase.replace(' ', '-')}-{voice}.wav"
        if not wav.exists():
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), phrase], check=True)
        self.pulse.play_into_room(wav)

    def command(self, phrase: str, voice: str = "en-us", **match: Any) -> dict[str, Any]:
        """Say `phrase` into the room and wait for the event it should cause (which may come
        before the playback has drained, so it is counted from before saying it)."""
        seen = len(self.events(**match))
        self.say(phrase, voice)
        return self.wait_for(5, seen, **match)


def test_voice_commands_drive_a_running_session(pulse: Pulse, cache: Path, tmp_path: Path):
    def driver(room: Room) -> None:
        room.wait_for(change="hold")
        time.sleep(2.5)
        room.command("pause", change="paused")  # while the coach is counting: barge-in
        time.sleep(1.0)
        room.command("continue", change="resumed")
        room.wait_for(change="hold")  # set two
        time.sleep(2.5)
        room.command("pause", change="paused")
        time.sleep(1.0)
        room.say("next", "en-us+f2")  # skips the rest of set two
        room.wait_for(change="hold")  # set three
        time.sleep(2.5)
        room.say("stop")

    room = Room(pulse, tmp_path, calf(hold=8.0, sets=3))
    room.run(driver)
    voice = [(e["name"], e["source"]) for e in room.events(event="command")]
    assert voice == [("pause", "voice"), ("resume", "voice"), ("pause", "voice"),
                     ("next", "voice"), ("stop", "voice")]
    done = room.events(change="set_done")
    assert [(d["set"], d["skipped"]) for d in done] == [(1, False), (2, True)]
    assert room.result == [False] and room.events()[-1]["event"] == "session_end"


@pytest.mark.slow
@slow
def test_a_whole_session_heard_by_its_own_microphone_fires_no_command(
        pulse: Pulse, cache: Path, tmp_path: Path):
    room = Room(pulse, tmp_path, calf(hold=5.0, sets=2))
    room.run(lambda room: None)
    said = [(round(e["start"], 2), round(e["end"], 2), e["text"]) for e in room.events(event="say")]
    heard = [(e["t"], e["name"], e.get("heard")) for e in room.events(event="command")]
    assert heard == [], said
    assert room.result == [True]
    assert len(room.events(event="say")) > 20  # it really talked, welcome and all

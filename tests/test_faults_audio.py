"""Audio faults during a real-time session, through the PulseAudio harness: the speaker or the
microphone goes away (the server drops our streams, as when a card is unplugged and nothing can
take them, and the sink is unloaded, so the named device fails to open) and comes back; the
recognizer fails; devices do not exist or open at no rate.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from audio_check import LOUD, onsets
from harness import Pulse
from room import Slowed, calf, matching

from voicecoach.clock import RealClock
from voicecoach.commands import Command, CommandEvent, Inbox
from voicecoach.config import VoiceSettings
from voicecoach.display import Notices
from voicecoach.events import EventLog
from voicecoach.listener import ListenSettings, open_listener
from voicecoach.playback import LEAD_SECONDS
from voicecoach.session import Session
from voicecoach.speaker import CaptionSpeaker, Speaker, SpeechLog, heard_log
from voicecoach.voice import open_speaker

pytestmark = pytest.mark.audio
RATE = 16000


@pytest.fixture
def sinks(pulse: Pulse) -> Iterator[Pulse]:
    """The harness, with both sinks put back whatever the test did to them."""
    yield pulse
    for name in ("coach", "room"):
        if name not in pulse.sink_modules:
            pulse.reload_sink(name)


def unplug(pulse: Pulse, sink: str) -> None:
    """The device behind `sink` goes away: the server drops this process's streams on it
    (pactl cannot; its command-line protocol can), then the sink itself is removed."""
    cli = pulse.root / "cli"
    if not cli.exists():
        pulse.pactl("load-module", "module-cli-protocol-unix", f"socket={cli}")
    kind, nodes, key, target = (("sink-input", "sinks", "sink", sink) if sink == "coach"
                                else ("source-output", "sources", "source", f"{sink}.monitor"))
    names = {n["index"]: n["name"] for n in json.loads(pulse.pactl("-f", "json", "list", nodes))}
    ids = [s["index"] for s in json.loads(pulse.pactl("-f", "json", "list", f"{kind}s"))
           if names.get(s[key]) == target
           and s["properties"].get("application.process.id") == str(os.getpid())]
    assert ids, f"no stream of ours on {target}"
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(cli))
        conn.sendall("".join(f"kill-{kind} {i}\n" for i in ids).encode())
        conn.shutdown(socket.SHUT_WR)  # EOF ends the session ("exit" would stop the daemon)
        while conn.recv(4096):
            pass
    pulse.unload_sink(sink)


class Run:
    """A real-time session on `speaker`, with timed notices and when each line was reported."""

    def __init__(self, hold: float, make_speaker: Callable[[RealClock, EventLog, SpeechLog,
                                                              Callable[[str], None]], Speaker]):
        self.clock, self.inbox, self.speech = RealClock(), Inbox(), SpeechLog()
        self.log = EventLog(self.clock.now, self.clock.wall)
        self.notices: list[tuple[float, str]] = []
        self.reported: dict[tuple[str, float], float] = {}  # (text, at) -> session time
        self.log.subscribe(self._reported)
        self.speaker = make_speaker(self.clock, self.log, self.speech, self.notice)
        self.session = Session(calf(hold), self.clock, self.speaker, self.inbox, self.log)

    def notice(self, text: str) -> None:
        self.notices.append((self.clock.now(), text))

    def _reported(self, e: dict[str, Any]) -> None:
        if e["event"] == "say":
            self.reported[(e["text"], e["at"])] = self.clock.now()

    def noticed(self, start: str) -> list[float]:
        return [t for t, text in list(self.notices) if text.startswith(start)]

    def events(self, **match: Any) -> list[dict[str, Any]]:
        return matching(self.log, **match)

    def wait_for(self, what: Callable[[], Any], timeout: float = 10.0) -> Any:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = what()
            if found:
                return found
            time.sleep(0.005)
        raise AssertionError(f"nothing within {timeout} s; notices {self.notices}")

    def hold_start(self) -> float:
        """Skip the welcome and the exercise's intro with the key "n" (23 s of talk), then
        wait for the hold; session time of its start."""
        self.wait_for(lambda: self.events(event="session_start"), 10)
        self.key(Command.NEXT, "exercise")
        self.key(Command.NEXT, "set")
        return float(self.wait_for(lambda: self.events(change="hold"), 30)[0]["t"])

    def commands(self) -> list[tuple[str, str]]:
        """Commands after the two that skipped the introductions."""
        return [(e["name"], e["source"]) for e in self.events(event="command")][2:]

    def until(self, t: float) -> None:
        while self.clock.now() < t:
            time.sleep(0.002)

    def key(self, command: Command, change: str) -> None:
        seen = len(self.events(change=change))
        self.inbox.put(CommandEvent(command, source="key"))
        self.wait_for(lambda: len(self.events(change=change)) > seen, 3)

    def run(self, driver: Callable[[], None], listener: Any = None) -> bool:
        # The driver runs on the main thread: the harness's parec readers die with the thread
        # that started them (PR_SET_PDEATHSIG), and a sink's silent reader must outlive us.
        result: list[bool] = []
        thread = threading.Thread(target=lambda: result.append(self.session.run()), daemon=True)
        if listener is not None:
            listener.start()
        thread.start()
        try:
            driver()
        except BaseException:
            self.inbox.put(CommandEvent(Command.STOP, source="key"))
            raise
        finally:
            thread.join(timeout=30)
            if listener is not None:
                listener.close()
            self.speaker.close()
        assert result, "the session did not end"
        return result[0]


def voice(device: str | None) -> Callable[..., Speaker]:
    def make(clock: RealClock, log: EventLog, speech: SpeechLog, notice: Any) -> Speaker:
        return open_speaker(VoiceSettings(output_device=device), clock, log.said, speech, notice)
    return make


def captions(clock: RealClock, log: EventLog, speech: SpeechLog, notice: Any) -> Speaker:
    return CaptionSpeaker(clock.now, report=log.said, log=speech)  # cheap: the mic is tested


def test_speaker_lost_mid_hold_goes_on_as_captions_and_the_voice_comes_back(
        sinks: Pulse, clip_cache: Path) -> None:
    run = Run(8.0, voice("speaker"))
    recording: list[Any] = []

    def driver() -> None:
        hold = run.hold_start()
        run.until(hold + 1.6)  # "one" is over
        unplug(sinks, "coach")
        run.until(hold + 3.6)
        sinks.reload_sink("coach")
        run.wait_for(lambda: run.noticed("speaker back"), 5)
        recording.append(sinks.start_recording("coach.monitor", rate=RATE))

    assert run.run(driver) is True
    samples, _ = recording[0].stop()
    lost, back = run.noticed("speaker lost"), run.noticed("speaker back")
    assert len(lost) == 1 and len(back) == 1 and lost[0] < back[0], run.notices
    hold = run.events(change="hold")[0]["t"]
    counts = [e for e in run.events(event="say") if e["kind"] == "count"]
    assert [c["text"] for c in counts] == ["one", "two", "three", "four", "five", "six",
                                           "seven", "eight"]
    for n, c in enumerate(counts, 1):  # every count on its beat, voice or caption
        assert abs(c["start"] - (hold + n)) <= 0.030, (n, c)
    lead = LEAD_SECONDS * run.clock.speed
    shown = [c for c in counts if lost[0] < c["at"] - lead and c["at"] < back[0]]
    assert len(shown) >= 2
    for c in shown:  # a caption is reported when it is shown: on its deadline
        assert abs(run.reported[(c["text"], c["at"])] - c["at"]) < 0.1, c
        # ... and makes no sound, so the listener has no echo of it to reject (a command said
        # while it was shown was refused as said over the coach's voice).
        assert not [u for u in run.speech.overlapping(c["at"], c["at"] + 0.5)
                    if u.text == c["text"] and abs(u.at - c["at"]) < 0.001], c
    spoken = [c for c in counts if c["at"] - lead > back[0] + 0.05]
    assert len(spoken) >= 2
    offset = recording[0].started - run.clock.to_monotonic(0.0)
    heard = [offset + t for t in onsets(samples, RATE, threshold=LOUD, min_gap=0.25)]
    for c in spoken:  # the coach sink really carries the voice again, on the beat
        assert min(abs(h - c["at"]) for h in heard) <= 0.040, (c, heard)


def test_microphone_lost_keys_still_work_and_listening_resumes(
        sinks: Pulse, tmp_path: Path) -> None:
    """Lost twice: the second loss is said too, through the session's own Notices (which
    once said each line once a session, and left "microphone back" on screen the second
    time), and the microphone comes back at the rate the recognizer was built for."""
    run = Run(30.0, captions)
    notices = Notices()
    notices.view = cast(Any, SimpleNamespace(notice=run.notice))
    listener = open_listener(ListenSettings(recognizer="pocketsphinx", input_device="mic"),
                             run.clock, run.inbox, run.speech, notices)
    rate = listener.microphone.rate
    wav = tmp_path / "pause.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), "pause"], check=True)

    def driver() -> None:
        run.until(run.hold_start() + 1.0)
        for k in (1, 2):
            unplug(sinks, "room")
            run.wait_for(lambda k=k: len(run.noticed("microphone lost")) == k, 5)
            if k == 1:
                run.key(Command.PAUSE, "paused")
                run.key(Command.RESUME, "resumed")
            time.sleep(1.0)  # a few failed attempts to reopen
            sinks.reload_sink("room")
            run.wait_for(lambda k=k: len(run.noticed("microphone back")) == k, 5)
        time.sleep(0.5)
        for _ in range(3):  # as a person would, say it again if it was not understood
            sinks.play_into_room(wav)
            try:
                run.wait_for(lambda: len(run.events(change="paused")) > 1, 2)
                break
            except AssertionError:
                continue
        run.inbox.put(CommandEvent(Command.STOP, source="key"))

    assert run.run(driver, listener) is False
    assert run.commands() == [("pause", "key"), ("resume", "key"), ("pause", "voice"),
                              ("stop", "key")]
    assert len(run.noticed("microphone lost")) == 2 and len(run.noticed("microphone back")) == 2
    assert listener.microphone.rate == rate
    assert run.events()[-1]["event"] == "session_end"


def test_with_captions_a_command_said_during_a_count_is_heard(
        sinks: Pulse, tmp_path: Path) -> None:
    """Captions make no sound, so nothing the microphone hears is the coach's: a "next" said
    while a count is shown skips the set. With the captions' clips taken for the coach's voice
    (before 2026-12-06), only barge-in phrases counted then, and it was refused in 3 tries of 3."""
    run = Run(12.0, captions)
    listener = open_listener(ListenSettings(recognizer="pocketsphinx", input_device="mic"),
                             run.clock, run.inbox, heard_log(run.speaker, run.speech),
                             run.notice)
    wav = tmp_path / "next.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), "next"], check=True)

    def driver() -> None:
        hold = run.hold_start()
        for k in range(3):  # as a person would, say it again if it was not understood
            # Half a second into a count's caption (they come once a second).
            run.until(hold + 2.5 + 2 * k)
            sinks.play_into_room(wav)
            try:
                run.wait_for(lambda: run.events(change="set_done"), 2)
                break
            except AssertionError:
                continue
        run.inbox.put(CommandEvent(Command.STOP, source="key"))

    run.run(driver, listener)
    assert [c for c in run.commands() if c[1] == "voice"] == [("next", "voice")]
    assert run.events(change="set_done")[0]["skipped"] is True


class Faulty:
    """A real recognizer whose accept() raises once `armed` is set (a decoder that crashes)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.armed = inner, threading.Event()

    def accept(self, pcm: bytes) -> Any:
        if self.armed.is_set():
            raise RuntimeError("decoder crashed")
        return self.inner.accept(pcm)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failing_recognizer_stops_listening_with_one_line_and_keys_go_on(
        sinks: Pulse) -> None:
    run = Run(4.0, captions)
    listener = open_listener(ListenSettings(recognizer="pocketsphinx"), run.clock, run.inbox,
                             run.speech, run.notice)
    faulty = Faulty(listener.pipeline.recognizer)
    listener.pipeline.recognizer = faulty

    def driver() -> None:
        run.until(run.hold_start() + 0.5)
        faulty.armed.set()
        run.wait_for(lambda: run.noticed("voice commands stopped"), 3)
        run.key(Command.PAUSE, "paused")
        run.key(Command.RESUME, "resumed")

    assert run.run(driver, listener) is True
    stopped = [text for _, text in run.notices if text.startswith("voice commands stopped")]
    assert stopped == ["voice commands stopped: RuntimeError: decoder crashed; keys still work"]
    assert run.commands() == [("pause", "key"), ("resume", "key")]
    assert run.events(event="session_end")[0]["completed"] is True


def test_a_listener_too_slow_to_keep_up_skips_to_the_present_and_still_hears_a_pause(
        sinks: Pulse, tmp_path: Path) -> None:
    """Decoding at two thirds of real time: without catching up, every command would come
    later than the last and, once the microphone's queue filled, never. The listener drops
    what it cannot decode in time (backlog.py), says so once, and a "pause" said after a
    skip acts within the backlog's limit."""
    run = Run(30.0, captions)
    listener = open_listener(ListenSettings(recognizer="pocketsphinx"), run.clock, run.inbox,
                             run.speech, run.notice)
    slowed = Slowed(listener.pipeline.recognizer, 1.5)
    listener.pipeline.recognizer = slowed
    limit = listener.backlog.settings.limit
    wav = tmp_path / "pause.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), "pause"], check=True)
    late: list[float] = []

    def more_skips(than: int) -> Callable[[], bool]:
        return lambda: listener.backlog.skips > than

    def driver() -> None:
        run.until(run.hold_start() + 0.5)
        slowed.armed.set()
        for _ in range(3):  # as a person would, say it again if it was not understood
            run.wait_for(more_skips(listener.backlog.skips), 3 * limit + 5)
            sinks.play_into_room(wav)
            said = run.clock.now()
            try:
                paused = run.wait_for(lambda: run.events(change="paused"), limit + 2)
                late.append(paused[0]["t"] - said)
                break
            except AssertionError:
                continue
        run.inbox.put(CommandEvent(Command.STOP, source="key"))

    assert run.run(driver, listener) is False
    assert run.commands() == [("pause", "voice"), ("stop", "key")], run.notices
    skipped = run.noticed("listening fell")
    assert len(skipped) == 1, run.notices  # an overloaded machine skips often: said once
    assert late and late[0] <= limit + 1.0, (late, run.notices)
    assert listener.backlog.skips >= 1 and listener.backlog.skipped > 1.0
    print(f"pause {late[0]:.2f} s after it was said; {listener.backlog.skips} skips, "
          f"{listener.backlog.skipped:.1f} s of sound skipped", file=sys.stderr)


def test_audio_from_before_a_reopen_is_not_taken_for_a_backlog(sinks: Pulse) -> None:
    """open_listener opens the microphone to learn its rate, loads the recognizer (seconds
    on a Pi) and closes it; the listener reopens it. Chunks queued by the first opening are
    not handed over after the second: the backlog check would take them for audio it failed
    to decode in time and skip, with a "CPU too busy" notice, at every slow start."""
    from voicecoach.backlog import Backlog
    from voicecoach.microphone import SoundDeviceMicrophone

    mic = SoundDeviceMicrophone(None)
    mic.start()
    time.sleep(2.5)  # loading the recognizer, longer than the backlog's 2 s limit
    mic.close()
    mic.start()
    try:
        chunk = mic.read(2.0)
        assert chunk is not None
        now = time.monotonic()
        assert now - chunk.captured < 0.5, now - chunk.captured
        assert Backlog().check(chunk, now, mic, mic.rate) is None
    finally:
        mic.close()


def test_a_recognizer_process_killed_mid_hold_is_one_line_and_keys_go_on(sinks: Pulse) -> None:
    """The same with the real thing: pocketsphinx's child process (recognizer_process.py)
    killed mid-hold, as the out-of-memory killer would."""
    run = Run(4.0, captions)
    listener = open_listener(ListenSettings(recognizer="pocketsphinx"), run.clock, run.inbox,
                             run.speech, run.notice)
    child = listener.pipeline.recognizer._proc  # type: ignore[attr-defined]

    def driver() -> None:
        run.until(run.hold_start() + 0.5)
        child.kill()
        run.wait_for(lambda: run.noticed("voice commands stopped"), 3)
        run.key(Command.PAUSE, "paused")
        run.key(Command.RESUME, "resumed")

    assert run.run(driver, listener) is True
    stopped = [text for _, text in run.notices if text.startswith("voice commands stopped")]
    assert len(stopped) == 1, run.notices
    assert stopped == ["voice commands stopped: the recognizer process ended (exit code -9); "
                       "keys still work (to fix: restart voicecoach; if it recurs, run: "
                       "voicecoach doctor)"]
    assert run.commands() == [("pause", "key"), ("resume", "key")]
    assert run.events(event="session_end")[0]["completed"] is True


def vc(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOICECOACH_DATA_DIR": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "voicecoach", "--exercise", "calf", "--sets", "1", "--hold", "1",
         "--no-check", "--speed", "10", *args],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)


def test_volume_zero_is_said_once_the_speaker_opens(
        pulse: Pulse, clip_cache: Path, tmp_path: Path) -> None:
    """--volume 0 is allowed, but the person is told why the coach makes no sound. The session
    is stopped (Ctrl-C) once the coach has begun: the whole calf session took 38 s of speech."""
    env = {**os.environ, "VOICECOACH_DATA_DIR": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONUNBUFFERED": "1"}
    events = tmp_path / "events.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicecoach", "--exercise", "calf", "--no-check", "--no-listen",
         "--volume", "0", "--events", str(events)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=env)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        deadline = time.monotonic() + 30
        while '"event": "say"' not in (events.read_text() if events.exists() else ""):
            assert time.monotonic() < deadline and proc.poll() is None, "the coach never began"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=30)[1]
    finally:
        proc.kill()
    assert line == ("voicecoach: the volume is 0: the coach makes no sound; follow the captions, "
                    "or raise it with --volume\n")
    assert "no voice" not in rest and "Traceback" not in rest, rest
    assert proc.returncode == 130
    assert json.loads(events.read_text().splitlines()[-1])["event"] == "session_end"


@pytest.mark.parametrize("output, input_", [("nosuch", "broken"), ("broken", "nosuch")])
def test_bad_audio_devices_are_one_line_each_and_the_session_runs(
        pulse: Pulse, clip_cache: Path, tmp_path: Path, output: str, input_: str) -> None:
    r = vc(tmp_path, "--output-device", output, "--input-device", input_,
           "--recognizer", "pocketsphinx")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    ours = [line for line in r.stderr.splitlines() if line.startswith("voicecoach:")]
    voice_line = next(line for line in ours if "no voice" in line)
    listen_line = next(line for line in ours if "not listening" in line)
    assert repr(output) in voice_line and repr(input_) in listen_line, ours
    assert "session_end" not in r.stderr
    # Nothing but our lines: ALSA's and PortAudio's own ("ALSA lib pcm_pulse.c...",
    # "Expression 'ret' failed...") came first and buried them (native_stderr.py).
    assert [line for line in r.stderr.splitlines() if line.strip()] == ours

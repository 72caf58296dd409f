"""The listener's edges in pure logic: notices, the microphone's rate, a microphone gone at the
start, blocks lost before the session. Fakes of sounddevice and of the microphone here; the
same edges with PulseAudio's real devices are in test_faults_audio.py and test_listen_audio.py.
"""

from __future__ import annotations

import sys
import threading
import time
from types import SimpleNamespace
from typing import Any, cast

import pytest

from voicecoach.clock import RealClock
from voicecoach.commands import Inbox
from voicecoach.display import Notices
from voicecoach.listener import Listener
from voicecoach.microphone import Chunk, MicrophoneError, SoundDeviceMicrophone


def test_notices_say_a_line_again_once_another_came_between() -> None:
    """A review (2026-12-07): each line was said once a session, so a microphone lost a
    second time left "microphone back: listening again" on the screen."""
    shown: list[str] = []
    notices = Notices()
    notices.view = cast(Any, SimpleNamespace(notice=shown.append))
    for line in ("lost", "lost", "back", "lost", "back", "back"):
        notices(line)
    assert shown == ["lost", "back", "lost", "back"]


class _Stream:
    def __init__(self, sd: Any, samplerate: int, **kw: Any) -> None:
        if samplerate in sd.refused:
            raise sd.PortAudioError("Invalid sample rate")
        self.samplerate, self.latency, self.active = samplerate, 0.01, False
        sd.opened.append(samplerate)

    def start(self) -> None:
        self.active = True

    def abort(self) -> None:
        self.active = False

    def close(self) -> None:
        pass


def _fake_sounddevice(monkeypatch: pytest.MonkeyPatch, default: int,
                      refused: set[int]) -> SimpleNamespace:
    sd = SimpleNamespace(PortAudioError=type("PortAudioError", (Exception,), {}),
                         refused=refused, opened=[])
    sd.RawInputStream = lambda **kw: _Stream(sd, **kw)
    sd.query_devices = lambda device, kind: {"name": "USB mic", "default_samplerate": default}
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    return sd


def test_a_96_khz_microphone_opens_at_48_khz(monkeypatch: pytest.MonkeyPatch) -> None:
    """pocketsphinx's endpointer refuses 96 kHz: opened there, listening failed with "Invalid
    endpointer or VAD parameters" although 48 kHz was on the list to try."""
    sd = _fake_sounddevice(monkeypatch, 96000, set())
    mic = SoundDeviceMicrophone()
    mic.start()
    assert (mic.rate, sd.opened) == (48000, [48000])
    mic.close()


def test_a_microphone_reopened_after_a_loss_keeps_its_rate(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The recognizer, the keyword search and the meters are built for the first rate: a
    reopen that landed on another (the default, refused at first) misheard everything."""
    sd = _fake_sounddevice(monkeypatch, 44100, {44100})
    mic = SoundDeviceMicrophone()
    mic.start()
    assert mic.rate == 48000
    sd.refused.clear()  # the default would open now
    mic.restart()
    assert (mic.rate, sd.opened) == (48000, [48000, 48000])
    sd.refused.add(48000)  # but not its own rate: lost until it can be had again
    with pytest.raises(MicrophoneError):
        mic.restart()


class _Mic:
    """Chunks of silence every 30 ms once started; while `gone`, start() fails."""

    name, rate = "USB mic", 16000

    def __init__(self, gone: bool, overflows: int = 0) -> None:
        self.gone, self.overflows, self.started = gone, overflows, threading.Event()

    def start(self) -> None:
        if self.gone:
            raise MicrophoneError("no input device 'USB mic'")
        self.started.set()

    def restart(self) -> None:
        self.start()

    @property
    def failed(self) -> bool:
        return self.gone

    def read(self, timeout: float) -> Chunk | None:
        time.sleep(0.03)
        if self.gone or not self.started.is_set():
            return None
        return Chunk(b"\0\0" * 480, time.monotonic())

    def close(self) -> None:
        pass


def _listener(mic: _Mic, said: list[str]) -> Listener:
    recognizer = SimpleNamespace(name="fake", reset=lambda: None, close=lambda: None)
    pipeline = SimpleNamespace(recognizer=recognizer, barge=None, feed=lambda *a: None)
    return Listener(cast(Any, mic), cast(Any, pipeline), RealClock(), Inbox(), said.append)


def test_a_microphone_gone_when_listening_starts_is_retried_not_a_traceback() -> None:
    """A review (2026-12-07): the microphone is opened at start-up, closed while the model
    loads and opened again when the session starts; gone by then, the MicrophoneError went
    up to the command line as a traceback."""
    mic, said = _Mic(gone=True), cast(list[str], [])
    listener = _listener(mic, said)
    listener.start()
    try:
        assert said == ["microphone lost (no input device 'USB mic'): voice commands paused, "
                        "keys still work; retrying"]
        mic.gone = False
        assert mic.started.wait(3.0)
        deadline = time.monotonic() + 3.0
        while "microphone back: listening again" not in said and time.monotonic() < deadline:
            time.sleep(0.05)
        assert said[-1] == "microphone back: listening again"
    finally:
        listener.close()


def test_blocks_lost_while_the_model_loaded_are_not_a_busy_cpu() -> None:
    """The queue fills while the recognizer loads (over 6 s on a Pi, or vosk's first start):
    the session began with "microphone overflow: 136 audio block(s) lost (CPU too busy?)"."""
    mic, said = _Mic(gone=False, overflows=136), cast(list[str], [])
    listener = _listener(mic, said)
    listener.start()
    time.sleep(0.3)
    mic.overflows += 2  # lost during the session: said
    time.sleep(0.3)
    listener.close()
    assert said == ["microphone overflow: 2 audio block(s) lost (CPU too busy?)"]


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"),
                                   RuntimeError("Failed to add keyphrase")])
def test_a_keyword_search_that_will_not_start_is_one_line(
        monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Its dictionary is a temporary file (a full disk) and pocketsphinx raises plain errors:
    either was a traceback that left the microphone and the recognizer's process open."""
    from voicecoach import sphinx_keywords
    from voicecoach.listen_setup import make_keywords
    from voicecoach.phrases import load_phrases

    def fail(*a: Any) -> None:
        raise error

    monkeypatch.setattr(sphinx_keywords, "SphinxKeywords", fail)
    said: list[str] = []
    assert make_keywords(load_phrases("en"), 16000, ("pause", "stop"), said.append) is None
    assert len(said) == 1 and said[0].startswith("no keyword search for interrupting the coach (")
    assert type(error).__name__ in said[0]


class _SlowRecognizer:
    """Decodes a chunk in `seconds`, and fails a call that a close() came under (as vosk's
    freed decoder would)."""

    name = "slow"

    def __init__(self, seconds: float) -> None:
        self.seconds, self.closed, self.closed_by = seconds, False, ""

    def accept(self) -> None:
        time.sleep(self.seconds)
        if self.closed:
            raise RuntimeError("decoder freed under a call")

    def reset(self) -> None:
        pass

    def close(self) -> None:
        self.closed, self.closed_by = True, threading.current_thread().name


def test_close_while_a_chunk_decodes_says_nothing_and_closes_once_it_is_done() -> None:
    """A review (2026-12-07): close() waited 2 s for the listener's thread, then closed the
    recognizer under a chunk still decoding: the session's last line was "voice commands
    stopped: ..." on a machine too busy to decode in time."""
    recognizer, said = _SlowRecognizer(3.0), cast(list[str], [])
    pipeline = SimpleNamespace(recognizer=recognizer, barge=None,
                               feed=lambda *a: recognizer.accept())
    listener = Listener(cast(Any, _Mic(gone=False)), cast(Any, pipeline), RealClock(), Inbox(),
                        said.append)
    listener.start()
    time.sleep(0.3)  # a chunk is decoding
    start = time.monotonic()
    listener.close()
    assert time.monotonic() - start < 2.5
    assert not recognizer.closed  # not under the call
    assert listener._thread is not None
    listener._thread.join(5.0)
    assert recognizer.closed and recognizer.closed_by == "voicecoach-listener"
    assert said == []


def test_close_with_the_thread_done_closes_the_recognizer_itself() -> None:
    recognizer, said = _SlowRecognizer(0.0), cast(list[str], [])
    pipeline = SimpleNamespace(recognizer=recognizer, barge=None,
                               feed=lambda *a: recognizer.accept())
    listener = Listener(cast(Any, _Mic(gone=False)), cast(Any, pipeline), RealClock(), Inbox(),
                        said.append)
    listener.start()
    time.sleep(0.2)
    listener.close()
    assert recognizer.closed and recognizer.closed_by == "MainThread"
    assert said == []

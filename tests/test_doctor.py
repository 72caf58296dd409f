"""`voicecoach doctor` run as a person runs it: it names the recognizer and the echo canceller,
and what to fix (on a machine with no sound card, as CI is: the microphone)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness import Pulse

ROOT = Path(__file__).resolve().parents[1]


def test_doctor_names_the_recognizer_the_echo_canceller_and_what_to_fix() -> None:
    pytest.importorskip("livekit", reason="the echo canceller (livekit) is not installed")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "voicecoach", "doctor", "--no-play",
                           "--seconds", "0"], capture_output=True, text=True, env=env,
                          timeout=120)
    out = done.stdout
    assert "Recognizer: pocketsphinx (en-us, bundled)" in out, out
    assert "Echo cancelling: WebRTC AEC3 (livekit) available" in out, out
    speed = [line for line in out.splitlines() if "decoding speed:" in line]
    assert len(speed) == 1 and "of real time on speech" in speed[0], out
    assert done.returncode in (0, 1), (done.returncode, out, done.stderr)
    if done.returncode == 1:  # no sound card here: one fix line says what to do about it
        assert "To fix:" in out and "  - " in out, out
    assert "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize(("args", "says"), [
    (["--language", "xx"], "--language: no phrase table for language 'xx' (have: en"),
    (["--seconds", "-5"], "--seconds must be between 0 and 600, got -5"),
    (["--seconds", "nan"], "--seconds must be between 0 and 600, got nan"),
    (["--recognizer", "julius"], "argument --recognizer: invalid choice: 'julius'"),
    # What a session refuses, doctor refuses too, rather than checking something else.
    (["--recognizer", "pocketsphinx", "--model", "/tmp"],
     "--model is a vosk model: it cannot be used with --recognizer pocketsphinx"),
    (["--model", "/nonexistent"], "--model: no model folder at /nonexistent"),
    (["--model", "/tmp"], "--model: /tmp is not a vosk model folder"),
    (["--input-device", ""], "--input-device needs a value, got an empty one"),
    (["--output-device", " "], "--output-device needs a value, got an empty one"),
])  # fmt: skip
def test_bad_options_are_one_line_and_exit_2(args: list[str], says: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "voicecoach", "doctor", "--no-play", *args],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and done.stdout == "", done
    assert done.stderr.startswith(f"voicecoach doctor: {says}"), done.stderr
    assert done.stderr.endswith("(see voicecoach doctor --help)\n") and done.stderr.count("\n") == 1


def test_recognizer_none_skips_recognition() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "voicecoach", "doctor", "--no-play", "--seconds",
                           "0", "--recognizer", "none"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert "Recognizer: none (asked for): keys only" in done.stdout, done
    assert "Traceback" not in done.stderr and done.returncode in (0, 1)


def test_doctor_checks_what_the_config_file_sets(tmp_path: Path) -> None:
    """The recognizer a session would use is the config file's; a mistake there is one line."""
    config = tmp_path / "voicecoach" / "config.toml"
    config.parent.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path)}
    args = [sys.executable, "-m", "voicecoach", "doctor", "--no-play", "--seconds", "0"]
    config.write_text('recognizer = "none"\n', encoding="utf-8")
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    assert "Recognizer: none (asked for): keys only" in done.stdout, done
    config.write_text('recognizer = "whisper"\n', encoding="utf-8")
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done
    assert "recognizer must be one of auto, vosk, pocketsphinx, none, not 'whisper'" in \
        done.stderr


def test_a_recognizer_too_slow_for_speech_is_a_fix() -> None:
    """The real pocketsphinx and the coach's own voice, the decoding slowed to 0.8 of real
    time (a busy Raspberry Pi): the doctor says how slow and what to do."""
    from room import Slowed

    from voicecoach.doctor import SLOW_SHARE, _speed
    from voicecoach.phrases import load_phrases
    from voicecoach.sphinx_recognizer import SphinxRecognizer

    table = load_phrases("en")
    rec = Slowed(SphinxRecognizer(16000, table, tuple(table.answers)), 0.8)
    rec.armed.set()
    fixes: list[str] = []
    try:
        _speed(rec, 16000, fixes)  # type: ignore[arg-type]
    finally:
        rec.close()
    assert SLOW_SHARE < 0.8
    assert len(fixes) == 1 and fixes[0].startswith("the recognizer alone takes "), fixes
    assert int(fixes[0].split()[4].rstrip("%")) >= 80, fixes


def test_a_speaker_that_cannot_play_is_said_where_the_test_phrase_is() -> None:
    """No sound output: the test line must not read as if it had played, and the fix names
    the device list above, not doctor itself."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "voicecoach", "doctor", "--seconds", "0",
                           "--recognizer", "none", "--output-device", "no such speaker"],
                          capture_output=True, text=True, env=env, timeout=120)
    lines = done.stdout.splitlines()
    test = next(i for i, line in enumerate(lines) if line.startswith("Speaker test:"))
    assert lines[test + 1].startswith("  not played"), done.stdout
    assert done.returncode == 1 and "  - speaker: " in done.stdout, done
    assert "voicecoach doctor" not in done.stdout.split("To fix:")[1], done.stdout


class _Stream:
    """sounddevice.InputStream that fails to start, or stops after its first block."""

    def __init__(self, sd: object, start_fails: bool) -> None:
        self.sd, self.start_fails, self.blocks = sd, start_fails, 0

    def start(self) -> None:
        if self.start_fails:
            raise self.sd.PortAudioError("Device unavailable")  # type: ignore[attr-defined]

    def read(self, frames: int) -> tuple[object, bool]:
        import numpy as np

        self.blocks += 1
        if self.blocks > 1:
            raise self.sd.PortAudioError("Stream is stopped")  # type: ignore[attr-defined]
        return np.zeros((frames, 1), dtype="float32"), False

    def close(self) -> None:
        pass

    def __enter__(self) -> _Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@pytest.mark.parametrize(("start_fails", "says"), [
    (True, "the microphone did not open (Device unavailable): is it plugged in, and is "
           "another program using it?"),
    (False, "the microphone stopped while listening (Stream is stopped): was it unplugged? "
            "Plug it back in and run voicecoach doctor again"),
])
def test_a_microphone_gone_during_the_level_check_is_not_another_program(
        monkeypatch: pytest.MonkeyPatch, start_fails: bool, says: str) -> None:
    """A run-through (2026-12-07) unplugged the microphone while doctor listened: it said "did
    not open ...: is another program using it?"."""
    from types import SimpleNamespace

    from voicecoach import doctor_mic

    sd = SimpleNamespace(PortAudioError=type("PortAudioError", (Exception,), {}))
    sd.InputStream = lambda **kw: _Stream(sd, start_fails)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    fixes: list[str] = []
    doctor_mic.level(None, 16000, 1.0, fixes)
    assert fixes == [says]


#: A TV in the room: talk in another voice, about other things.
TV = ("And now the weather for the weekend. Clouds build from the west on Saturday, with rain "
      "by the evening and a fresh wind along the coast. Sunday starts cold and bright. ")


@pytest.mark.parametrize("tv_on", [False, True])
def test_doctor_hears_a_tv_talking_in_the_room(pulse: Pulse, tmp_path: Path,
                                              tv_on: bool) -> None:
    """A run-through (2026-12-07): with a TV on, no spoken answer was taken, and doctor had
    nothing to say about it. It listens to the room first, the person quiet, and names a voice
    talking there (real PulseAudio: the TV played into the room the microphone hears)."""
    wav = tmp_path / "tv.wav"
    subprocess.run(["espeak-ng", "-v", "en-gb-x-rp", "-w", str(wav), TV * 2], check=True)
    tv = pulse.play_into_room(wav, wait=False) if tv_on else None
    try:
        done = subprocess.run([sys.executable, "-m", "voicecoach", "doctor", "--no-play",
                               "--recognizer", "none", "--seconds", "1"],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, **pulse.env, "PYTHONPATH": str(ROOT)})
    finally:
        if tv is not None:
            tv.kill()
    out = done.stdout
    assert "Room check for 3 s: stay quiet" in out, (out, done.stderr)
    talks = [line for line in out.splitlines() if "a voice talks in the room" in line]
    assert len(talks) == (1 if tv_on else 0), out
    assert "your voice stood only" not in out, out  # the TV's words are not the person's
    assert done.returncode == 1  # a quiet room: the microphone hears almost nothing
    assert "Traceback" not in done.stderr, done.stderr

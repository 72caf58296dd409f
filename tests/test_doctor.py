"""`voicecoach doctor` run as a person runs it: it names the recognizer and the echo canceller,
and what to fix (on a machine with no sound card, as CI is: the microphone)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert done.returncode in (0, 1), (done.returncode, out, done.stderr)
    if done.returncode == 1:  # no sound card here: one fix line says what to do about it
        assert "To fix:" in out and "  - " in out, out
    assert "Traceback" not in done.stderr, done.stderr

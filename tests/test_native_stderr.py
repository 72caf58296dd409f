"""Holding back the audio libraries' own stderr lines (native_stderr.py), at the fd level."""

from __future__ import annotations

import ctypes
import os
import sys

import pytest

from voicecoach import native_stderr
from voicecoach.native_stderr import hushed, kept

ALSA = ("ALSA lib pcm_pulse.c:758:(pulse_prepare) PulseAudio: Unable to create stream: No such "
        "entity\n")
PA = ("Expression 'ret' failed in 'src/hostapi/alsa/pa_linux_alsa.c', line: 1812\n")


def test_kept_drops_the_libraries_lines_and_blank_ones_only() -> None:
    text = ALSA + "\n" + PA + "our own line\n" + "Cannot connect to server socket err = x\n"
    assert kept(text) == "our own line\n"
    assert kept("") == ""
    assert kept("ALSA is fine\n") == "ALSA is fine\n"  # only the library's own prefix


def test_what_c_writes_to_fd_2_is_held_back_and_the_rest_passed_on(
        capfd: pytest.CaptureFixture[str]) -> None:
    libc = ctypes.CDLL(None)
    with hushed():
        # Written by C, as ALSA and PortAudio do: straight to the file descriptor.
        for line in (ALSA, PA, "a C library's real complaint\n"):
            data = line.encode()
            libc.write(2, data, len(data))
        print("voicecoach: a notice from another thread", file=sys.stderr)
    os.write(2, ALSA.encode())  # after the block: nothing is held back any more
    lines = capfd.readouterr().err.splitlines(keepends=True)
    # (Under pytest, sys.stderr is not fd 2, so the notice may come first.)
    assert sorted(lines[:2]) == ["a C library's real complaint\n",
                                 "voicecoach: a notice from another thread\n"]
    assert lines[2:] == [ALSA]


def test_nested_and_switched_off(capfd: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with hushed():
        with hushed():
            os.write(2, ALSA.encode())
        os.write(2, PA.encode())
    assert capfd.readouterr().err == ""
    assert native_stderr._depth == 0
    monkeypatch.setenv("VOICECOACH_NATIVE_STDERR", "1")
    with hushed():
        os.write(2, ALSA.encode())
    assert capfd.readouterr().err == ALSA


def test_an_error_inside_still_restores_fd_2(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), hushed():
        raise RuntimeError("device gone")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_no_temporary_file_means_nothing_held_back_not_an_error(
        capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Raised from here, an OSError passed for "PortAudio is not installed" with the callers."""
    def no_file() -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(native_stderr.tempfile, "TemporaryFile", no_file)
    fds = len(os.listdir("/proc/self/fd"))
    with hushed():
        os.write(2, ALSA.encode())
    assert capfd.readouterr().err == ALSA
    assert len(os.listdir("/proc/self/fd")) == fds


ALSA_PROBE = """
import ctypes, json, sys
from voicecoach import native_stderr
counting = native_stderr.count_alsa_errors() if sys.argv[1] == "count" else None
pcm = ctypes.c_void_p()
rc = ctypes.CDLL("libasound.so.2").snd_pcm_open(ctypes.byref(pcm), b"nosuchpcm", 0, 0)
print(json.dumps([counting, rc, native_stderr.alsa_errors()]))
"""


@pytest.mark.parametrize("way", ["count", "leave"])
def test_alsas_own_reports_are_counted_not_written(way: str) -> None:
    """ALSA writes its errors to fd 2 through a handler of its own, mid-session too ("underrun
    occurred" on a busy machine, in the middle of the screen). Counted instead, the session
    says how many at its end. Real libasound: an unknown PCM is such an error."""
    import json
    import subprocess

    env = {**os.environ}
    env.pop("VOICECOACH_NATIVE_STDERR", None)
    r = subprocess.run([sys.executable, "-c", ALSA_PROBE, way], capture_output=True,
                       text=True, timeout=30, env=env)
    if r.returncode != 0 and "libasound" in r.stderr:
        pytest.skip("no libasound here")
    counting, rc, counted = json.loads(r.stdout)
    assert rc < 0
    if way == "count":
        assert counting is True and counted == {"snd_pcm_open_noupdate": 1}
        assert r.stderr == "", r.stderr
    else:
        assert counted == {} and "ALSA lib" in r.stderr and "nosuchpcm" in r.stderr
    # Asked for all of it: nothing is counted, everything comes through.
    r = subprocess.run([sys.executable, "-c", ALSA_PROBE, "count"], capture_output=True,
                       text=True, timeout=30, env={**env, "VOICECOACH_NATIVE_STDERR": "1"})
    counting, _, counted = json.loads(r.stdout)
    assert counting is False and counted == {} and "nosuchpcm" in r.stderr

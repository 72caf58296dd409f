"""Real-audio test harness: a private PulseAudio daemon with two null sinks, no sound card needed.

Layout (what a test sees once the `pulse` fixture is active)::

    coach  (null sink, default sink)   -- the speaker plays here
    coach.monitor                      -- what a person in the room hears
    room   (null sink)                 -- the air around the microphone
    room.monitor (default source)      -- the microphone

The fixture points this test process at the daemon through environment variables only, so the
user's own sound setup is never touched: PULSE_SERVER (the daemon's unix socket),
PULSE_RUNTIME_PATH / PULSE_STATE_PATH / PULSE_COOKIE / PULSE_CLIENTCONFIG (all in a temp
folder) and ALSA_CONFIG_PATH (the stock alsa.conf plus a file that makes ALSA's `default`
go through PulseAudio, via libasound2-plugins; see ASOUNDRC). Children inherit the variables.

PortAudio lists devices once, when `sounddevice` is imported (or re-initialised). The fixture
calls `reinit_portaudio()` after setting the variables; call it again after unloading or
loading sinks if a test needs PortAudio to see the change.

API (all on the `Pulse` object the `pulse` fixture yields; module-level helpers noted):

- `pulse.env`: dict of the variables above (pass to subprocesses if you build your own env).
- `pulse.record(source, seconds, rate=None) -> (samples, rate)`: record a source for
  `seconds`; mono float32 numpy array in [-1, 1] at `rate` (default `pulse.rate`, 48000).
- `pulse.start_recording(source, rate=None) -> Recording`: background recording;
  `rec.stop()` returns `(samples, rate)`. `rec.started` is the `time.monotonic()` when the
  first samples arrived: good to a few ms here, but align on a known onset when it matters.
- `pulse.play_into_room(wav_path, wait=True)`: `paplay --device=room`, failing the test when
  paplay could not play it; returns the Popen when `wait` is False.
- `pulse.loop_coach_into_room(latency_ms=20, steady=False) -> Module`: module-loopback from
  coach.monitor into room, so the microphone hears the coach; `module.unload()` stops it.
- `pulse.unload_sink(name)` / `pulse.reload_sink(name)`: remove / recreate a null sink (for
  "device went away" tests); `reload_sink` restores the default sink/source choices (see
  its docstring about streams PulseAudio moves meanwhile).
- `pulse.pactl(*args) -> str`: run pactl against the private daemon.
- `reinit_portaudio()`: make sounddevice re-enumerate devices (module-level).
- `onsets(samples, rate, ...)`, `rms_envelope(...)`: energy onset detection (re-exported
  from tests/audio_check.py, which also has `transcribe` with pocketsphinx). `Recording`
  and `Module` live in tests/recording.py.

Each sink's monitor always has one silent reader (see `Pulse._listen`), so the null sinks
consume audio steadily like a sound card; without it the first stream stalls for ~2 s.

Outside pytest (benchmarks): `pulse = start_pulse(folder)` ... `pulse.stop()`.

Skips (pytest.skip) only when the `pulseaudio` program is missing; `scripts/test` installs it.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from audio_check import onsets, rms_envelope
from recording import Module, Modules, Recording, die_with_parent

__all__ = ["Module", "Pulse", "Recording", "available", "onsets", "pulse_fixture",
           "reinit_portaudio", "rms_envelope", "start_pulse"]

ALSA_CONF = "/usr/share/alsa/alsa.conf"
# Fault-test devices: `speaker`/`mic` fail while coach/room is gone; `broken` opens at no rate.
ASOUNDRC = ("pcm.!default { type pulse }\nctl.!default { type pulse }\npcm.speaker { type "
            'pulse device "coach" }\npcm.mic { type pulse device "room.monitor" }\n'
            'pcm.broken { type pulse device "nowhere" }\n')
SINKS = ("coach", "room")
#: Daemon log detail (pulseaudio.log in the harness folder); "debug" helps with odd timing.
LOG_LEVEL = os.environ.get("HARNESS_PULSE_LOG", "notice")


def reinit_portaudio() -> None:
    """Make PortAudio (through sounddevice) enumerate devices again, seeing the current env."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


class Pulse:
    """A private PulseAudio daemon in `root` (a temp folder); see the module docstring."""

    rate = 48000

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime = root / "runtime"
        self.socket = self.runtime / "native"
        self.log_path = root / "pulseaudio.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.sink_modules: dict[str, int] = {}
        self._keepalive: dict[str, subprocess.Popen[bytes]] = {}
        self.env: dict[str, str] = {}
        self._saved_env: dict[str, str | None] = {}

    def start(self) -> None:
        """Start the daemon, create the sinks and point this process at it."""
        for sub in ("runtime", "state", "config"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.runtime, 0o700)
        cookie = self.root / "cookie"
        cookie.write_bytes(secrets.token_bytes(256))
        client_conf = self.root / "client.conf"
        # autospawn off: a client must never start a second daemon behind our back.
        client_conf.write_text(f"autospawn = no\ncookie-file = {cookie}\n")
        asoundrc = self.root / "asoundrc"
        asoundrc.write_text(ASOUNDRC)
        self.env = {
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_RUNTIME_PATH": str(self.runtime),
            "PULSE_STATE_PATH": str(self.root / "state"),
            "PULSE_COOKIE": str(cookie),
            "PULSE_CLIENTCONFIG": str(client_conf),
            # alsa.conf first (it defines everything), then our override of `default`.
            "ALSA_CONFIG_PATH": f"{ALSA_CONF}:{asoundrc}",
        }
        daemon_env = dict(os.environ, **self.env)
        daemon_env.pop("PULSE_SERVER")
        cmd = [
            "pulseaudio", "--system=false", "--daemonize=no", "--exit-idle-time=-1", "-n",
            "--use-pid-file=false", "--disable-shm=true", "--realtime=false",
            "--high-priority=false", "--log-target=stderr", f"--log-level={LOG_LEVEL}",
            f"--load=module-native-protocol-unix auth-anonymous=1 socket={self.socket}",
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                die_with_parent(cmd), env=daemon_env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._apply_env()
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pulseaudio exited: {self.log_path.read_text()[-2000:]}")
            if self.socket.exists() and subprocess.run(
                ["pactl", "info"], env=self._child_env(), capture_output=True
            ).returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"pulseaudio did not start: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        for name in SINKS:
            self._load_sink(name)
        self._set_defaults()
        for name in SINKS:
            self._listen(name)

    def _apply_env(self) -> None:
        for key, value in self.env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def stop(self) -> None:
        """Stop the daemon and restore the environment."""
        for reader in self._keepalive.values():
            reader.kill()
            reader.wait()
        self._keepalive.clear()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for key, old in self._saved_env.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
        self._saved_env.clear()

    def _child_env(self) -> dict[str, str]:
        return dict(os.environ, **self.env)

    def pactl(self, *args: str) -> str:
        """Run pactl against the private daemon; raise with its stderr on failure."""
        res = subprocess.run(
            ["pactl", *args], env=self._child_env(), capture_output=True, text=True, timeout=10
        )
        if res.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)}: {res.stderr.strip()}")
        return res.stdout.strip()

    def unload_sink(self, name: str) -> None:
        """Remove null sink `name` (its monitor goes with it)."""
        index = self.sink_modules.pop(name, None)
        if index is not None:
            self.pactl("unload-module", str(index))
        reader = self._keepalive.pop(name, None)
        if reader is not None:
            reader.kill()
            reader.wait()

    def reload_sink(self, name: str) -> None:
        """(Re)create null sink `name` and restore the default sink/source.

        While a sink is gone, PulseAudio moves streams that follow the default elsewhere;
        restoring the default moves them back. Recordings of the other sink's monitor that
        were started while it was the default may move too: restart them after a reload."""
        self.unload_sink(name)
        self._load_sink(name)
        self._set_defaults()
        self._listen(name)

    def _load_sink(self, name: str) -> None:
        out = self.pactl(
            "load-module", "module-null-sink", f"sink_name={name}", f"rate={self.rate}",
            "channels=2", f"sink_properties=device.description={name}",
        )  # fmt: skip
        self.sink_modules[name] = int(out)

    def _set_defaults(self) -> None:
        if "coach" in self.sink_modules:
            self.pactl("set-default-sink", "coach")
        if "room" in self.sink_modules:
            self.pactl("set-default-source", "room.monitor")

    def _listen(self, name: str) -> None:
        # A null sink whose monitor nobody reads renders up to 2 s ahead while idle, so a
        # stream that starts on it gets no callbacks for up to 2 s. A real sound card
        # consumes steadily; a null sink with a low-latency reader on its monitor does too.
        reader = self.start_recording(f"{name}.monitor", keep=False)
        self._keepalive[name] = reader.proc
        # A fresh null sink has already rendered 2 s ahead; suspending and resuming it
        # restarts its clock at once, now with the reader's low latency (once it is reading:
        # before that, the first sound played on it was heard up to 0.6 s late).
        deadline = time.monotonic() + 3.0
        while not reader.chunks and time.monotonic() < deadline:
            time.sleep(0.005)
        self.pactl("suspend-sink", name, "1")
        self.pactl("suspend-sink", name, "0")

    def start_recording(
        self, source: str, keep: bool = True, rate: int | None = None
    ) -> Recording:
        """Record `source` in the background until `.stop()`; see `Recording`.
        `rate` defaults to `self.rate`; with `keep` False the samples are read and dropped."""
        rate = rate or self.rate
        cmd = [
            "parec", f"--device={source}", "--raw", "--format=float32le", "--channels=1",
            f"--rate={rate}", "--latency-msec=10",
        ]  # fmt: skip
        proc = subprocess.Popen(die_with_parent(cmd), env=self._child_env(),
                                stdout=subprocess.PIPE)
        return Recording(proc, rate, keep=keep).begin(wait=keep)

    def record(self, source: str, seconds: float, rate: int | None = None) -> tuple[Any, int]:
        """Record `source` for `seconds`; returns (mono float32 samples, rate)."""
        rec = self.start_recording(source, rate=rate)
        time.sleep(seconds)
        samples, rate = rec.stop()
        return samples[: int(seconds * rate)], rate

    def play_into_room(self, wav_path: str | Path, wait: bool = True,
                       volume: int | None = None) -> subprocess.Popen[bytes]:
        """Play a sound file into the room (what the microphone hears); `volume` is paplay's
        (65536: the file's own level). With `wait`, fails when paplay did not play it: a
        phrase that never reached the room must not pass for one the listener missed."""
        cmd = ["paplay", "--device=room", str(wav_path)]
        if volume is not None:
            cmd.append(f"--volume={volume}")
        proc = subprocess.Popen(cmd, env=self._child_env())
        if wait:
            try:
                code = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise AssertionError(f"paplay hung playing {wav_path} into the room") from None
            if code != 0:
                raise AssertionError(f"paplay could not play {wav_path} into the room "
                                     f"(exit {code})")
        return proc

    def loop_coach_into_room(self, latency_ms: int = 20, steady: bool = False) -> Module:
        """Let the microphone hear the coach (an acoustic echo path); unload to stop.
        module-loopback resamples adaptively to hold its latency, so the path's delay wanders
        (about 2 ms over 90 s: benchmarks/bench_echo_path.py); `steady` turns that off: the
        delay then stays put, as a room's does."""
        out = self.pactl(
            "load-module", "module-loopback", "source=coach.monitor", "sink=room",
            f"latency_msec={latency_ms}", "source_dont_move=true", "sink_dont_move=true",
            *(["adjust_time=0"] if steady else []),
        )  # fmt: skip
        return Module(self, int(out))

    def echo_coach_into_room(self, taps: Sequence[tuple[int, float]]) -> Modules:
        """The coach heard in the room along several paths, a crude reverberant room (this
        PulseAudio has no LADSPA reverb): one steady loopback per (latency_msec, amplitude)
        tap. Each tap's delay holds to a sample; a loopback's delay is about twice its
        latency_msec plus 35 ms here (20: 75 ms, 120: 293 ms). A Python convolver between
        parec and pacat was tried: its delay crept from 0.15 to 1 s within 20 s."""
        modules = []
        for latency, amplitude in taps:
            module = self.loop_coach_into_room(latency, steady=True)
            modules.append(module)
            listing = self.pactl("list", "sink-inputs")
            for block in listing.split("Sink Input #")[1:]:
                if re.search(rf"Owner Module: {module.index}\b", block):
                    # PulseAudio's software volume is cubic in amplitude.
                    volume = int(65536 * amplitude ** (1 / 3))
                    self.pactl("set-sink-input-volume", block.split()[0], str(volume))
        return Modules(modules)


def available() -> str | None:
    """None when the harness can run, else why not."""
    for prog in ("pulseaudio", "pactl", "parec", "paplay"):
        if shutil.which(prog) is None:
            return f"{prog} not installed (sudo apt-get install pulseaudio pulseaudio-utils)"
    return None


def start_pulse(root: Path) -> Pulse:
    """Start a harness outside pytest (benchmarks): remember to call `.stop()`."""
    pulse = Pulse(root)
    pulse.start()
    if "sounddevice" in sys.modules:
        reinit_portaudio()
    return pulse


def pulse_fixture(tmp_path_factory: Any) -> Iterator[Pulse]:
    """Body of the session-scoped `pulse` fixture (registered in conftest.py)."""
    import pytest

    why = available()
    if why is not None:
        pytest.skip(why)
    pulse = start_pulse(Path(tmp_path_factory.mktemp("pulse")))
    try:
        yield pulse
    finally:
        pulse.stop()
        if "sounddevice" in sys.modules:
            reinit_portaudio()

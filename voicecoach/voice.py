"""Open the coach's voice: check every piece, then wire renderer, cache and audio output.

Each missing piece becomes `SpeakerUnavailable(reason, fix)`, so the session falls back to
captions with one line saying what is wrong and the command that fixes it. A setting the
engine rejects (an unknown --voice) is a ValueError instead: that is the user's typo, and
the session should stop with the message rather than quietly lose its voice.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicecoach.clock import RealClock
from voicecoach.config import VoiceSettings
from voicecoach.native_stderr import hushed
from voicecoach.speaker import Report, Speaker, SpeechLog

#: TTS worker processes: two when there are two cores or more.
WORKERS = 2 if (os.cpu_count() or 1) > 1 else 1
PORTAUDIO_FIX = "sudo apt-get install libportaudio2"
DEVICE_FIX = ("connect speakers or headphones (on Linux check `aplay -l`, or install "
              "pulseaudio); `voicecoach doctor` lists the devices")


class SpeakerUnavailable(Exception):
    """The voice cannot work on this machine; `reason` says why, `fix` how to mend it."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(f"{reason} (to fix: {fix})")
        self.reason = reason
        self.fix = fix


def open_speaker(
    settings: VoiceSettings,
    clock: RealClock,
    report: Report,
    log: SpeechLog,
    notice: Callable[[str], None],
) -> Speaker:
    """An AudioSpeaker for `settings`, or SpeakerUnavailable / ValueError (see module doc)."""
    from voicecoach.tts import TtsWorker, WorkerFailed, check_engine

    problem = check_engine()
    if problem is not None:
        raise SpeakerUnavailable(*problem)
    # Two workers when there are two cores: a cold cache renders twice as fast.
    workers = [TtsWorker(settings.voice, settings.rate) for _ in range(WORKERS)]
    for w in workers:
        w.launch()  # the children import pyttsx3 while we open the sound device
        _lower_priority(w.pid)
    try:
        _check_output(settings.output_device)
        workers[0].start()
    except (SpeakerUnavailable, ValueError):
        for w in workers:
            w.close()
        raise
    except WorkerFailed as exc:
        for w in workers:
            w.close()
        raise SpeakerUnavailable(f"the speech engine failed to start: {exc}",
                                 "sudo apt-get install espeak-ng libespeak-ng1") from None
    for w in workers[1:]:
        try:
            w.start()
        except (WorkerFailed, ValueError):  # a helper, not essential: one worker will do
            w.close()
            workers.remove(w)
    return _assemble(settings, clock, report, log, notice, workers)


def _lower_priority(pid: int | None) -> None:
    # Rendering runs ahead in the background, often on every core at once; at normal priority
    # it delays the sound server and our audio callback, and sound placed on the stream's clock
    # is then heard late. Renders are never urgent to the millisecond; playback is.
    if pid is not None and hasattr(os, "setpriority"):
        # Not allowed here (OSError): rendering at normal priority still works.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, 10)


def _check_output(device: str | int | None) -> None:
    try:
        with hushed():  # PortAudio's start-up scan prints ALSA's complaints itself
            import sounddevice as sd
    except OSError:  # sounddevice raises OSError when libportaudio is missing
        raise SpeakerUnavailable("the PortAudio library is not installed",
                                 PORTAUDIO_FIX) from None
    except ImportError:
        raise SpeakerUnavailable("the sounddevice package is not installed",
                                 "run scripts/setup (pip install 'voicecoach[audio]')") from None
    try:
        with hushed():
            sd.query_devices(device, "output")
    except (ValueError, sd.PortAudioError):
        if device is None:
            raise SpeakerUnavailable("no sound output device", DEVICE_FIX) from None
        raise SpeakerUnavailable(f"output device {device!r} not found",
                                 "pick one from the list `voicecoach doctor` prints, or leave "
                                 "out --output-device") from None


def _assemble(
    settings: VoiceSettings,
    clock: RealClock,
    report: Report,
    log: SpeechLog,
    notice: Callable[[str], None],
    workers: list[Any],
) -> Speaker:
    from voicecoach.clips import cache_dir
    from voicecoach.playback import AudioSpeaker
    from voicecoach.render import Renderer
    from voicecoach.tts import TtsWorker

    assert all(isinstance(w, TtsWorker) for w in workers)
    cache = cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only home must not cost the voice, only the speed-up
        notice(f"cannot keep spoken phrases in {cache} ({exc.strerror}); using a temporary "
               "folder, so the next session renders them again")
        cache = Path(tempfile.mkdtemp(prefix="voicecoach-clips-"))
    renderer = Renderer(workers, cache, notice)
    try:
        return AudioSpeaker(renderer, clock, report, log, notice, volume=settings.volume,
                            device=settings.output_device)
    except Exception as exc:  # PortAudio errors differ by host API; all mean "no sound"
        renderer.close()
        raise SpeakerUnavailable(f"cannot open the sound output ({exc})", DEVICE_FIX) from None

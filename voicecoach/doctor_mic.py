"""`voicecoach doctor`'s microphone: the devices, the room's own sound, and the voice's level."""

from __future__ import annotations

import math
import sys
import time
from typing import Any

from voicecoach.native_stderr import hushed
from voicecoach.roomvoice import RoomSettings
from voicecoach.voicing import voiced_share

#: Seconds of the room listened to, the person quiet, before the voice's level.
ROOM_SECONDS = 3.0
#: The least (dB) a voice should stand above the room's louder moments: the benchmarks' noisy
#: set, 10 dB under the commands, already lost 6 % of them (README, "Benchmarks").
MARGIN_DB = 12.0
#: Share of the room's sound that may be voiced before it counts as another voice (a TV), as
#: in a session (roomvoice.py).
VOICED_SHARE = RoomSettings().most


def say(line: str) -> None:
    """A line of the check-up, on stdout at once (it is read as it runs)."""
    print(line, flush=True)


def devices(device: str | int | None, fixes: list[str]) -> int:
    """List devices; return the chosen input's default rate (0 when there is none)."""
    try:
        with hushed():  # PortAudio's start-up scan prints ALSA's complaints itself
            import sounddevice as sd
    except (ImportError, OSError) as e:
        fixes.append(f"sounddevice/PortAudio missing ({e}): sudo apt-get install libportaudio2")
        return 0
    say("Audio devices (index, name, inputs/outputs, default rate):")
    with hushed():
        devices = list(sd.query_devices())
    for i, d in enumerate(devices):
        say(f"  {i:3d} {d['name']}  in {d['max_input_channels']} / out "
            f"{d['max_output_channels']}  {int(d['default_samplerate'])} Hz")
    if not devices:
        say("  none: PortAudio sees no sound card (on Linux: `aplay -l`, `arecord -l`)")
    try:
        with hushed():
            info = sd.query_devices(device, "input")
    except (ValueError, sd.PortAudioError):
        # PortAudio's own words ("Error querying device -1") mean nothing to a person.
        which = "no microphone" if device is None else f"no microphone {device!r}"
        fixes.append(f"{which}: plug one in, or choose one from the list above with "
                     "--input-device")
        return 0
    say(f"Microphone: {info['name']} at {int(info['default_samplerate'])} Hz")
    return int(info["default_samplerate"])


def level(device: str | int | None, rate: int, seconds: float, fixes: list[str]) -> None:
    """The room's own sound for ROOM_SECONDS (a TV talking?), then the voice's level for
    `seconds`, each with a live meter; what is wrong goes into `fixes`."""
    import numpy as np
    import sounddevice as sd

    opened = False
    try:
        with hushed():  # ALSA's and PortAudio's own lines would bury the fix
            stream = sd.InputStream(device=device, channels=1, samplerate=rate, dtype="float32")
            try:
                stream.start()
            except sd.PortAudioError:
                stream.close()
                raise
        opened = True
        with stream as s:  # started already: sounddevice lets a second start pass
            say(f"Room check for {ROOM_SECONDS:.0f} s: stay quiet, and leave a TV or a radio "
                "as it usually is while you exercise.")
            room = _meter(s, rate, ROOM_SECONDS)
            say(f"\nMicrophone level for {seconds:.0f} s: say something.")
            voice = _meter(s, rate, seconds)
    except sd.PortAudioError as e:
        # Gone mid-check (unplugged): "is another program using it?" sent a run-through's
        # user looking for the wrong thing.
        fixes.append(f"the microphone stopped while listening ({e}): was it unplugged? Plug it "
                     "back in and run voicecoach doctor again" if opened else
                     f"the microphone did not open ({e}): is it plugged in, and is another "
                     "program using it?")
        return
    room_db = float(np.percentile(_levels(room, rate), 90))
    peak = max(_levels(voice, rate))
    say(f"\n  loudest: {peak:.1f} dBFS; the room: {room_db:.1f} dBFS")
    pcm = (np.clip(room, -1, 1) * 32767).astype(np.int16).tobytes()
    share = voiced_share(pcm, rate)
    talks = share > VOICED_SHARE
    if talks:
        fixes.append(f"a voice talks in the room ({share:.0%} of its sound; a TV or a radio?): "
                     "commands and answers said over it are often missed, so turn it down or "
                     "off while you exercise")
    if peak < -50:
        fixes.append("the microphone hears almost nothing: raise its level (alsamixer/pavucontrol)")
    elif peak > -1:
        fixes.append("the microphone clips: lower its input level")
    elif peak - room_db < MARGIN_DB and not talks:  # the TV's own words, not "your voice"
        fixes.append(f"your voice stood only {peak - room_db:.0f} dB above the room's sound: "
                     "sit closer to the microphone, or make the room quieter")


def _meter(stream: Any, rate: int, seconds: float) -> Any:
    """Read `seconds` of the stream, showing its level as it comes; the samples."""
    import numpy as np

    blocks = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        block, _ = stream.read(int(rate * 0.1))
        blocks.append(block[:, 0].copy())
        db = _levels(blocks[-1], rate)[0]
        bar = "#" * max(0, int((db + 60) / 2))
        sys.stdout.write(f"\r  {db:6.1f} dBFS |{bar:<30}|")
        sys.stdout.flush()
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype="float32")


def _levels(samples: Any, rate: int) -> list[float]:
    """dBFS of each 0.1 s of `samples` (at least one value). Digital silence reads -180 dB;
    these stop at -120."""
    import numpy as np

    step = max(1, int(rate * 0.1))
    return [max(-120.0, 20 * math.log10(float(np.sqrt(np.mean(samples[i:i + step] ** 2)))
                                         + 1e-9))
            for i in range(0, len(samples), step)] or [-120.0]

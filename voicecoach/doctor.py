"""`voicecoach doctor`: check sound out, sound in and recognition, and say what to fix."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from voicecoach.config import CHOICES, ConfigError, VoiceSettings, load_config
from voicecoach.doctor_mic import devices, level, say
from voicecoach.listener import ListenerUnavailable, ListenSettings, make_recognizer
from voicecoach.models import find_model, is_vosk_model, manual_hint
from voicecoach.phrases import PhraseTable, load_phrases
from voicecoach.recognizer import Recognizer, RecognizerError
from voicecoach.subcommands import SubcommandParser

TEST_PHRASE = "This is voice coach. If you can hear me, the speaker works."
#: The longest mic-level display asked for (s): more is a typo.
MAX_SECONDS = 600
#: Decoding speech taking more than this share of its length leaves too little for the rest of
#: the listener (the keyword search, the level check, an echo canceller): commands come late,
#: and past 2 s behind the listener skips sound to catch up (backlog.py).
SLOW_SHARE = 0.6


def run_doctor(argv: Sequence[str] = ()) -> int:
    """Print a check-up of audio and recognition; 0 when everything works, 1 otherwise."""
    p = SubcommandParser(prog="voicecoach doctor", description=__doc__)
    p.add_argument("--input-device", default=None,
                   help="microphone (index or name; default: the config file's, else the system's)")
    p.add_argument("--recognizer", default=None,
                   choices=CHOICES["recognizer"],
                   help="which to check (default: the one a session would use; none: skip)")
    p.add_argument("--output-device", default=None,
                   help="speaker for the test phrase (index or name; default: the config "
                        "file's, else the system's)")
    p.add_argument("--model", default=None, help="vosk model folder")
    p.add_argument("--language", default="en", help="phrase table (default: en)")
    p.add_argument("--seconds", type=float, default=4.0,
                   help="how long to show the mic level (0-600; 0 skips it)")
    p.add_argument("--no-play", action="store_true", help="skip the speaker test")
    args = p.parse_args(list(argv))
    # Checked as a session checks them: what doctor passes, a session must not refuse.
    for key in ("input_device", "output_device", "model", "language"):
        value = getattr(args, key)
        if value is not None and not value.strip():
            p.error(f"--{key.replace('_', '-')} needs a value, got an empty one")
    if args.model is not None:
        if args.recognizer == "none":
            p.error("--model and --recognizer none cannot be used together")
        if args.recognizer == "pocketsphinx":
            p.error("--model is a vosk model: it cannot be used with --recognizer pocketsphinx")
        model = Path(args.model).expanduser()
        if not model.is_dir():
            p.error(f"--model: no model folder at {args.model}")
        if not is_vosk_model(model):
            p.error(f"--model: {args.model} is not a vosk model folder (one holds am/ or "
                    "conf/); get one with: voicecoach model download")
    # What a session would use: the config file's settings where no option overrides them.
    try:
        config = load_config()
    except ConfigError as e:
        p.error(str(e))
    for key in ("input_device", "output_device", "recognizer", "model"):
        if getattr(args, key) is None:
            setattr(args, key, config.get(key))
    args.recognizer = args.recognizer or "auto"
    if not 0 <= args.seconds <= MAX_SECONDS:  # nan fails both comparisons too
        p.error(f"--seconds must be between 0 and {MAX_SECONDS}, got {args.seconds:g}")
    try:
        table = load_phrases(args.language)
    except ValueError as e:
        p.error(f"--language: {e}")
    device: str | int | None = args.input_device
    if isinstance(device, str) and device.strip().isdigit():
        device = int(device)
    fixes: list[str] = []
    rate = devices(device, fixes)
    if not args.no_play:
        _play(fixes, VoiceSettings.from_sources(config, args))
    if rate and args.seconds > 0:
        level(device, rate, args.seconds, fixes)
    _recognition(args, table, rate or 16000, fixes)
    _echo_cancel(rate or 16000)
    if fixes:
        say("\nTo fix:")
        for f in fixes:
            say(f"  - {f}")
        return 1
    if args.recognizer == "none":
        say("\nAll good: the keys (space, n, b, r, q, x) steer a session.")
    else:
        say("\nAll good: say \"pause\" during a session to try it.")
    return 0


def _play(fixes: list[str], voice: VoiceSettings) -> None:
    say(f"Speaker test: \"{TEST_PHRASE}\"")
    try:
        from voicecoach.clock import RealClock
        from voicecoach.speaker import SpeechLog
        from voicecoach.voice import SpeakerUnavailable, open_speaker
    except ImportError:
        _espeak(fixes)
        return
    clock = RealClock()
    try:
        speaker = open_speaker(voice, clock, lambda u: None, SpeechLog(),
                               lambda m: print(m, file=sys.stderr))
    except SpeakerUnavailable as e:
        say(f"  not played: {e.reason}")
        fixes.append(f"speaker: {e.reason}: {_here(e.fix)}")
        return
    except ValueError as e:
        say("  not played")
        fixes.append(f"speaker: {_here(str(e))}")
        return
    try:
        speaker.prepare([TEST_PHRASE])
        speaker.say(TEST_PHRASE, "cue", clock.now())
        time.sleep(speaker.duration(TEST_PHRASE) + 0.5)
    finally:
        speaker.close()
    say("  played: if you heard nothing, check the volume, or choose a device from the list"
        " above with --output-device")


def _here(fix: str) -> str:
    """A session's fix, which points to doctor's device list, as said by doctor: "above"."""
    return (fix.replace("; `voicecoach doctor` lists the devices", "")
            .replace("the list `voicecoach doctor` prints", "the list above"))


def _espeak(fixes: list[str]) -> None:
    if shutil.which("espeak-ng") is None:
        fixes.append("no speech engine: sudo apt-get install espeak-ng")
        return
    if subprocess.run(["espeak-ng", TEST_PHRASE], capture_output=True).returncode != 0:
        fixes.append("espeak-ng could not play: check the speaker (aplay -l)")


def _echo_cancel(rate: int) -> None:
    from voicecoach.echocancel import EchoCancelError, WebrtcCanceller

    try:
        canceller = WebrtcCanceller(rate)
    except EchoCancelError as e:
        say(f"Echo cancelling: not available ({e.reason}); to have it: {e.fix}")
        return
    say(f"Echo cancelling: {canceller.name} available, in the process (--echo-cancel)")


def _recognition(args: argparse.Namespace, table: PhraseTable, rate: int,
                 fixes: list[str]) -> None:
    if args.recognizer == "none":
        say("Recognizer: none (asked for): keys only")
        return
    settings = ListenSettings(args.recognizer, args.model, args.input_device, args.language)
    model = find_model(settings.model, table.language)
    say(f"vosk model: {model if model else 'none found'}")
    try:
        rec = make_recognizer(settings, rate, table)
    except (ListenerUnavailable, RecognizerError) as e:
        fixes.append(f"recognizer: {e.reason} ({e.fix})")
        return
    say(f"Recognizer: {rec.name}")
    if rec.missing:
        say(f"  phrases with words the model lacks (they never fire): {', '.join(rec.missing)}")
        fixes.append("use a model that knows every phrase, or edit data/phrases-*.toml")
    if model is None and table.language == "en":
        say(f"  for better accuracy use vosk: voicecoach model download. {manual_hint()}")
    try:
        _speed(rec, rate, fixes)
    finally:
        rec.close()


def _speed(rec: Recognizer, rate: int, fixes: list[str]) -> None:
    """How long the recognizer takes over speech here: the test phrase in the coach's own voice
    (a Raspberry Pi busy with other work may not keep up)."""
    import tempfile
    from pathlib import Path

    import numpy as np

    from voicecoach.clips import read_audio, resample
    from voicecoach.tts import TtsWorker, WorkerFailed, render_suffix

    worker = TtsWorker(None, None)
    try:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / f"speed{render_suffix()}"
            worker.render(TEST_PHRASE, str(path))
            samples, clip_rate = read_audio(path)
    except (WorkerFailed, ValueError, OSError) as e:
        say(f"  decoding speed: not measured (no speech to measure it on: {e})")
        return
    finally:
        worker.close()
    pcm = resample(samples, clip_rate, rate).clip(-32768, 32767).astype(np.int16).tobytes()
    seconds, step = len(pcm) / 2 / rate, 2 * int(rate * 0.03)
    start = time.perf_counter()
    for i in range(0, len(pcm), step):
        rec.accept(pcm[i : i + step])
    share = (time.perf_counter() - start) / seconds
    say(f"  decoding speed: {share:.2f} of real time on speech ({seconds:.1f} s of it)")
    if share > SLOW_SHARE:
        fixes.append(f"the recognizer alone takes {share:.0%} of real time here: commands may "
                     "come late or be skipped; close other programs, or run on a faster machine")

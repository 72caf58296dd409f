"""The one place where every edge (clock, speaker, microphone, keyboard, screen) is built."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import IO, Any

from voicecoach.clock import Clock, RealClock, VirtualClock
from voicecoach.commands import Command, CommandEvent, Inbox
from voicecoach.display import Notices
from voicecoach.events import EventLog
from voicecoach.library import Routine
from voicecoach.session import Session, View
from voicecoach.speaker import CaptionSpeaker, Speaker, SpeechLog, heard_log


class BadInput(Exception):
    """A value from the person (option, file, config) that cannot be used: one line, exit 2."""


def open_events(path: str | None) -> IO[str] | None:
    if not path:
        return None
    try:
        return open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by run_session
    except OSError as exc:
        raise BadInput(f"cannot write events to {path}: {exc.strerror}") from None


def _close_quietly(stream: IO[str]) -> None:
    """Close the events file; what could not be written was said when it failed."""
    with contextlib.suppress(OSError):
        stream.close()


def read_config() -> dict[str, Any]:
    """The config file, checked on every run (a preview too): a mistake in it is one line."""
    from voicecoach.config import ConfigError, load_config

    try:
        return load_config()
    except ConfigError as exc:
        raise BadInput(str(exc)) from None


def make_speaker(args: argparse.Namespace, clock: Clock, log: EventLog, speech: SpeechLog,
                 notice: Notices, config: dict[str, Any]) -> Speaker:
    captions = CaptionSpeaker(clock.now, report=log.said, log=speech)
    if args.no_voice or clock.virtual:
        if clock.virtual and not args.no_voice:
            _check_voice(args, config)
            notice("the virtual clock runs instantly, so the coach shows captions instead of "
                   "speaking")
        return captions
    try:
        from voicecoach.config import VoiceSettings
        from voicecoach.voice import SpeakerUnavailable, open_speaker
    except ImportError as exc:  # pragma: no cover - partial installs
        notice(f"voice unavailable ({exc}); showing captions")
        return captions
    try:
        settings = VoiceSettings.from_sources(config, args)
        assert isinstance(clock, RealClock)
        speaker = open_speaker(settings, clock, log.said, speech, notice)
        if settings.volume == 0:
            # Allowed (a quiet room, a sleeping partner), but never a silent mystery.
            notice("the volume is 0: the coach makes no sound; follow the captions, or raise "
                   "it with --volume")
        return speaker
    except SpeakerUnavailable as exc:
        # A voice the engine lacks is refused all the same: on a machine with a speaker the
        # same command would fail.
        _check_voice(args, config)
        notice(f"no voice: {exc.reason}; showing captions. To fix: {exc.fix}")
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return captions


def _check_voice(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Refuse a voice the engine lacks, where nothing else would: a preview, or a session with
    no speaker (it would fail on a machine with one)."""
    from voicecoach.config import VoiceSettings

    voice = VoiceSettings.from_sources(config, args).voice
    if not voice:
        return
    try:
        from voicecoach.tts import voice_known

        known = voice_known(voice)
    except Exception:  # noqa: BLE001 - no engine here: the real session will say so
        return
    if not known:
        raise BadInput(f"unknown voice {voice!r} (see `voicecoach voices`)")


def listen_settings(args: argparse.Namespace, config: dict[str, Any]) -> Any:
    """ListenSettings from the options, falling back on the config file's listening keys."""
    from voicecoach.cli import RECOGNIZERS
    from voicecoach.config import config_path
    from voicecoach.listener import ListenSettings

    def pick(name: str) -> Any:
        value = getattr(args, name, None)
        return config.get(name) if value is None else value

    recognizer = pick("recognizer") or "auto"
    if recognizer not in RECOGNIZERS:
        raise BadInput(f"{config_path()}: recognizer must be one of {', '.join(RECOGNIZERS)}, "
                       f"not {recognizer!r}")
    device = pick("input_device")
    if isinstance(device, str) and device.strip().isdigit():
        device = int(device)  # "--input-device 3" means index 3, as PortAudio lists it
    return ListenSettings(recognizer=recognizer, model=pick("model"), input_device=device,
                          echo_cancel=bool(pick("echo_cancel")))


def _controls(args: argparse.Namespace, config: dict[str, Any], listening: bool, keys: bool,
              preview: bool) -> str:
    """How the person can steer (plan.WELCOME_CONTROLS). A preview on the virtual clock opens
    no microphone, but shows the script a session with these options would say."""
    if preview:
        listening = not args.no_listen and listen_settings(args, config).recognizer != "none"
    return "voice" if listening else "keys" if keys else "none"


def make_listener(args: argparse.Namespace, clock: Clock, inbox: Inbox, speech: SpeechLog,
                  notice: Notices, config: dict[str, Any], speaker: Speaker) -> Any:
    if args.no_listen or clock.virtual:
        return None
    try:
        from voicecoach.listener import ListenerUnavailable, open_listener
    except ImportError as exc:  # pragma: no cover - partial installs
        notice(f"listening unavailable ({exc}); keyboard only")
        return None
    settings = listen_settings(args, config)
    if settings.recognizer == "none":
        return None
    try:
        assert isinstance(clock, RealClock)
        # An echo canceller's reference: what a real speaker plays (captions play nothing).
        reference = getattr(speaker, "reference", None)
        played = reference() if reference is not None and settings.echo_cancel else None
        listener = open_listener(settings, clock, inbox, heard_log(speaker, speech), notice,
                                 played)
    except ListenerUnavailable as exc:
        notice(f"not listening: {exc.reason}. To fix: {exc.fix}")
        return None
    return listener  # open_listener has said which recognizer, rate and microphone


def make_view(args: argparse.Namespace, keys: bool, voice: bool = True) -> View:
    from voicecoach.display import LineView, TerminalView

    if sys.stdout.isatty() and args.clock != "virtual":
        return TerminalView(keys=keys, voice=voice)
    return LineView()


@contextlib.contextmanager
def stop_on_signals(inbox: Inbox) -> Iterator[list[int]]:
    """SIGINT/SIGTERM/SIGHUP ask the session to stop cleanly; a second one stops at once. (SIGHUP:
    the terminal it ran in was closed: stopped, as with Ctrl-C, not left unfinished.)"""
    got: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if got:
            raise KeyboardInterrupt
        got.append(signum)
        inbox.put(CommandEvent(Command.STOP, source="signal", heard=signal.Signals(signum).name))

    signals = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGHUP"):  # not on Windows
        signals.append(signal.SIGHUP)
    old = {s: signal.signal(s, handler) for s in signals}
    try:
        yield got
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run_session(args: argparse.Namespace, routine: Routine) -> int:
    """Build every edge, run the session, and always put the terminal back."""
    inbox = Inbox()
    try:
        with stop_on_signals(inbox) as interrupted:
            status = _run(args, routine, inbox, interrupted)
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except BadInput as exc:
        print(f"voicecoach: {exc}", file=sys.stderr)
        return 2
    return 128 + interrupted[0] if interrupted else status


def _run(args: argparse.Namespace, routine: Routine, inbox: Inbox, interrupted: list[int]) -> int:
    from voicecoach.care import EXIT_RED_FLAG, Care

    notice = Notices()
    clock: Clock = VirtualClock() if args.clock == "virtual" else RealClock(args.speed)
    config = read_config()
    with contextlib.ExitStack() as stack:
        stream = open_events(args.events)
        if stream is not None:
            stack.callback(_close_quietly, stream)
        log = EventLog(clock.now, clock.wall, stream, keep=False, on_error=notice)
        speech = SpeechLog()
        speaker = make_speaker(args, clock, log, speech, notice, config)
        stack.callback(speaker.close)
        listener = make_listener(args, clock, inbox, speech, notice, config, speaker)
        if listener is not None:
            stack.callback(listener.close)
        keyboard = None
        if not clock.virtual:
            from voicecoach.keyboard import Keyboard

            if Keyboard.available():
                keyboard = Keyboard(inbox)
        view = make_view(args, keys=keyboard is not None, voice=listener is not None)
        # Sped up, the holds and rests were shorter than prescribed: the dose was not done, so
        # it must not count towards the day or step the person up a level. Slowed down (or at
        # 1), every hold was held at least its full time.
        asked = getattr(args, "save", None)
        save = not (clock.virtual or args.speed > 1) if asked is None else asked
        if clock.virtual:
            # A user's run-through: the welcome of a preview offers voice commands, and
            # nothing listens to a preview. It shows what a session with these options says.
            notice("a preview on the virtual clock: it is not saved in your history, and "
                   "nothing listens; the script is what a session with these options would say")
        elif not save and asked is None:
            notice(f"a sped-up preview (--speed {args.speed:g}): it is not saved in your "
                   "history (--save keeps it)")
        stack.callback(view.close)
        notice.view = view
        care = Care(args, clock, speaker, inbox, log, view, notice,
                    can_answer=keyboard is not None or listener is not None,
                    keys=keyboard is not None,
                    # A preview of the script: no exercise was done, so none is recorded
                    # (three previews once counted as three sessions and stepped the person
                    # up a level).
                    record=save,
                    expect=listener.expect if listener is not None else None,
                    talked=listener.heard_words_since if listener is not None else None)
        stack.callback(care.recorder.close)
        if keyboard is not None:
            keyboard.start()
            stack.callback(keyboard.close)  # registered last: the terminal comes back first
        if listener is not None:
            listener.start()
        checked = care.before(routine)
        if checked is None:
            return 0 if interrupted or care.aborted or care.rested else EXIT_RED_FLAG
        session = Session(checked, clock, speaker, inbox, log, view, care.on_pain, care.after,
                          on_state=listener.paused if listener is not None else None,
                          on_stop=care.confirm_stop if care.can_answer else None,
                          controls=_controls(args, config, listener is not None,
                                             keyboard is not None, clock.virtual))
        from voicecoach.native_stderr import alsa_errors

        # Not what the devices' opening reported (a Pi's ALSA complains a dozen times at
        # every start, and hushed() keeps that back): only what came while the session ran.
        opened = alsa_errors()
        session.run()
    _alsa_said(opened)
    return 0


def _alsa_said(before: dict[str, int]) -> None:
    """What ALSA reported since `before` (native_stderr.alsa_errors), in one line on stderr
    (the screen is closed by now)."""
    from voicecoach.native_stderr import alsa_errors

    errors = {name: n - before.get(name, 0) for name, n in alsa_errors().items()}
    errors = {name: n for name, n in errors.items() if n > 0}
    if errors:
        where = ", ".join(f"{n} in {name}" for name, n in sorted(errors.items()))
        print(f"voicecoach: the sound system reported {sum(errors.values())} problem(s) during "
              f"the session ({where}; an underrun when the machine was busy, as a rule); "
              "VOICECOACH_NATIVE_STDERR=1 shows them as they come", file=sys.stderr)

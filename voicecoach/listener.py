"""Hands-free commands: microphone -> recognizer -> spotter -> CommandEvents in the Inbox."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable

from voicecoach.backlog import Backlog, Skip
from voicecoach.clock import RealClock
from voicecoach.commands import CommandEvent, Inbox
from voicecoach.echocancel import EchoCancel, EchoCancelError, PlayedAudio
from voicecoach.listen_setup import ListenerUnavailable as ListenerUnavailable
from voicecoach.listen_setup import ListenSettings as ListenSettings
from voicecoach.listen_setup import make_keywords as make_keywords
from voicecoach.listen_setup import make_recognizer as make_recognizer
from voicecoach.microphone import Microphone, MicrophoneError, SoundDeviceMicrophone
from voicecoach.phrases import load_phrases
from voicecoach.pipeline import Pipeline
from voicecoach.recognizer import RecognizerError
from voicecoach.roomvoice import NOTICE, NOTICE_EVERY, OTHER_VOICE
from voicecoach.speaker import SpeechLog, in_real_seconds
from voicecoach.spotter import Spot, Spotter, settings_for

#: Seconds without a chunk before the watchdog reopens the microphone.
STALL_SECONDS = 2.0
#: First wait (s) between attempts to reopen a lost microphone; doubled up to RETRY_MAX.
RETRY_SECONDS = 0.25
RETRY_MAX = 2.0
#: At most one overflow notice per this many seconds.
OVERFLOW_NOTICE_SECONDS = 10.0


class Listener:
    """Listens on its own thread and puts CommandEvent(source="voice") into the inbox."""

    def __init__(
        self,
        microphone: Microphone,
        pipeline: Pipeline,
        clock: RealClock,
        inbox: Inbox,
        notice: Callable[[str], None],
        cancel: EchoCancel | None = None,
        backlog: Backlog | None = None,
    ) -> None:
        self.microphone = microphone
        self.backlog = backlog or Backlog()
        self.pipeline = pipeline
        self.cancel = cancel
        self.name = pipeline.recognizer.name
        self._clock = clock
        self._inbox = inbox
        self._notice = notice
        self._told_other_voice = float("-inf")  # session time of the last such notice
        self._stop = threading.Event()
        self._closing = threading.Lock()  # who closes the recognizer: close() or the thread
        self._left_to_thread = self._done = False
        self._thread: threading.Thread | None = None
        self._debug = bool(os.environ.get("VOICECOACH_LISTEN_DEBUG"))
        # The most (s) the decoding has trailed the microphone: commands come late by as much.
        self.lag_max = 0.0

    def start(self) -> None:
        if self._thread is not None:
            return
        try:
            self.microphone.start()
            down = False
        except MicrophoneError as exc:
            # Opened at start-up, gone by now (unplugged while the model loaded): the same
            # as a microphone lost mid-session, not a traceback.
            self._notice(f"microphone lost ({exc.reason}): voice commands paused, keys still "
                         "work; retrying")
            down = True
        self._thread = threading.Thread(target=self._run, args=(down,),
                                        name="voicecoach-listener", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self.microphone.close()
        with self._closing:
            if self._thread is not None and not self._done:
                # Still decoding (a busy machine): closed under its call, the recognizer would
                # fail it. The thread closes it on its way out.
                self._left_to_thread = True
                return
        self.pipeline.recognizer.close()

    def expect(self, section: str | None) -> None:
        """While a question waits: put isolated answers of `section` ("yes_no", "numbers") into
        the inbox as CommandEvent(ANSWER, heard=words), the recognizer favouring them where it
        can; None: commands only. Thread-safe."""
        self.pipeline.expect(section)

    def paused(self, paused: bool | None) -> None:
        """Tell the spotter and the recognizer the session's state: the command that means
        nothing in it ("resume" while running, "pause" while paused) is ignored, so that it is
        not heard in place of one that does. Thread-safe."""
        self.pipeline.paused(paused)

    def heard_words_since(self, since: float) -> bool:
        """Whether the recognizer named a word in sound captured after `since` (monotonic s):
        a question unanswered although words were heard had a TV talking over it."""
        return self.pipeline.words_at > self._session_time(since)

    def _session_time(self, captured: float) -> float:
        """A capture's time: session seconds at --speed 1, else real ones (in_real_seconds)."""
        speed = getattr(self._clock, "speed", 1.0)
        age = time.monotonic() - captured
        return self._clock.now() / speed - age

    def _run(self, down: bool = False) -> None:
        try:
            self._listen(down)
        except Exception as exc:  # a recognizer fault must not take the session with it
            if not self._stop.is_set():  # at close, nobody is listening for it any more
                self._notice(_stopped(exc))
            self.microphone.close()
        finally:
            with self._closing:
                self._done, left = True, self._left_to_thread
            if left:  # a fault now would print a thread's traceback as the last line
                with contextlib.suppress(Exception):
                    self.pipeline.recognizer.close()

    def _listen(self, down: bool = False) -> None:
        last_chunk = time.monotonic()
        # Blocks lost before now (the queue filled while the model loaded) are no sign of a
        # busy CPU during the session: only new ones are said.
        overflows, overflow_noticed = self.microphone.overflows, 0.0
        lost, retry_at, wait = down, last_chunk, RETRY_SECONDS
        while not self._stop.is_set():
            chunk = self.microphone.read(0.25)
            now = time.monotonic()
            if chunk is None:
                # PortAudio ends the stream of a device that went away; a stall looks the same.
                failed = bool(getattr(self.microphone, "failed", False))
                if not lost and (failed or now - last_chunk > STALL_SECONDS):
                    lost, retry_at, wait = True, now, RETRY_SECONDS
                    self._notice("microphone lost: voice commands paused, keys still work; "
                                 "retrying")
                if lost and now >= retry_at:  # with backoff: a missing device fails fast
                    self._reopen()
                    retry_at, wait = time.monotonic() + wait, min(2 * wait, RETRY_MAX)
                continue
            if lost:
                lost = False
                self._notice("microphone back: listening again")
            last_chunk = now
            quiet_notices = now - overflow_noticed > OVERFLOW_NOTICE_SECONDS
            if self.microphone.overflows != overflows and quiet_notices:
                lost_blocks = self.microphone.overflows - overflows
                overflows, overflow_noticed = self.microphone.overflows, now
                self._notice(f"microphone overflow: {lost_blocks} audio block(s) lost "
                             "(CPU too busy?)")
            behind = self.backlog.behind(chunk, now)
            if behind is not None:
                # The recognizer's restart first: it can take a second on a busy machine,
                # and the audio queued meanwhile must be skipped too.
                self._break_stream()
                now = time.monotonic()
                skip = self.backlog.skip(chunk, behind, now, self.microphone,
                                         self.microphone.rate)
                self._caught_up(skip, now)
                if skip.chunk is None:
                    continue
                chunk = skip.chunk
            pcm, captured = chunk.pcm, chunk.captured
            raw = None
            if self.cancel is not None:
                raw = (pcm, self._session_time(captured))
                try:
                    pcm, captured = self.cancel.clean(pcm, captured)
                except Exception as exc:  # a canceller fault must not end listening
                    self.cancel = None
                    self.pipeline.talk = self.pipeline.raw_talk  # the echo is back in full
                    self._notice(f"echo cancelling stopped ({type(exc).__name__}: {exc}); "
                                 "listening without it")
                if not pcm:
                    continue
            spot = self.pipeline.feed(pcm, self._session_time(captured), raw)
            self.lag_max = max(self.lag_max, time.monotonic() - captured)
            if spot is None:
                continue
            if spot.rejected:
                self._other_voice(spot)
                if self._debug:
                    print(f"voicecoach: ignored {spot.heard!r} ({spot.by}, from "
                          f"{spot.t0:.2f} s): {spot.rejected}", file=sys.stderr)
                continue
            if self._debug:
                print(f"voicecoach: {spot.command.value} on {spot.heard!r} ({spot.by}) at "
                      f"{spot.t1:.2f}", file=sys.stderr)
            self._inbox.put(CommandEvent(spot.command, source="voice", heard=spot.heard))

    def _other_voice(self, spot: Spot) -> None:
        """A phrase turned down for another voice in the room: say why, now and then."""
        if spot.rejected and OTHER_VOICE in spot.rejected and (
                spot.t1 - self._told_other_voice >= NOTICE_EVERY):
            self._told_other_voice = spot.t1
            self._notice(NOTICE)

    def _caught_up(self, skip: Skip, now: float) -> None:
        """Audio was dropped (after `_break_stream`: nothing heard before the gap may join
        what comes after it): say so."""
        self.lag_max = max(self.lag_max, skip.behind)
        line = self.backlog.notice(skip, now)
        if line is not None:
            self._notice(line)
        if self._debug:
            print(f"voicecoach: skipped {skip.seconds:.2f} s, {skip.behind:.2f} s behind",
                  file=sys.stderr)

    def _break_stream(self) -> None:
        """The audio stream breaks here: start the stateful parts afresh."""
        self.pipeline.recognizer.reset()
        if self.pipeline.barge is not None:
            self.pipeline.barge.reset()
        if self.cancel is not None:
            self.cancel.restart()

    def _reopen(self) -> bool:
        """Reopen the microphone; False while it cannot be opened (the caller retries)."""
        restart = getattr(self.microphone, "restart", None)
        try:
            if restart is not None:
                restart()
            self._break_stream()
        except MicrophoneError:
            return False
        return True


def _stopped(exc: Exception) -> str:
    if isinstance(exc, RecognizerError):  # said by the recognizer, with what to do about it
        fix = f" (to fix: {exc.fix})" if exc.fix else ""
        return f"voice commands stopped: {exc.reason}; keys still work{fix}"
    return f"voice commands stopped: {type(exc).__name__}: {exc}; keys still work"


def open_listener(
    settings: ListenSettings,
    clock: RealClock,
    inbox: Inbox,
    log: SpeechLog,
    notice: Callable[[str], None],
    played: PlayedAudio | None = None,
) -> Listener:
    """Open the microphone and the recognizer; ListenerUnavailable when voice cannot work.
    `played`: what the speaker plays, for the echo canceller (None: no speaker)."""
    if settings.recognizer == "none":
        raise ListenerUnavailable("voice commands are off (--recognizer none)")
    try:
        table = load_phrases(settings.language)
    except ValueError as e:
        raise ListenerUnavailable(str(e), "use --language en") from e
    try:
        mic = SoundDeviceMicrophone(settings.input_device)
        mic.start()  # opening finds the rate the device really accepts
    except MicrophoneError as e:
        raise ListenerUnavailable(e.reason, e.fix) from e
    try:
        recognizer = make_recognizer(settings, mic.rate, table)
    except RecognizerError as e:
        mic.close()
        raise ListenerUnavailable(e.reason, e.fix) from e
    except ListenerUnavailable:
        mic.close()
        raise
    cancel = None
    if played is not None and settings.echo_cancel:
        from voicecoach.echocancel import make_echo_cancel

        try:
            cancel = make_echo_cancel(played, mic.rate)
        except EchoCancelError as e:
            notice(f"no echo cancelling: {e.reason}. To fix: {e.fix}")
    where = f" from {mic.name}" if mic.name else ""
    cancelling = f", {cancel.canceller.name} taking out the coach's voice" if cancel else ""
    notice(f"voice commands: {recognizer.name}, {mic.rate} Hz{where}{cancelling}")
    if recognizer.missing:
        notice(
            f"the model does not know {', '.join(recognizer.missing)}: phrases with these words"
            " are off (voicecoach doctor)"
        )
    speed = getattr(clock, "speed", 1.0)
    playing = log.overlapping if speed == 1 else in_real_seconds(log.overlapping, speed)
    spotter = Spotter(table, playing=playing, settings=settings_for(recognizer))
    keywords = make_keywords(table, mic.rate, spotter.settings.barge_in, notice)
    mic.close()  # start() reopens it, so audio from start-up is not queued up meanwhile
    pipeline = Pipeline(recognizer, spotter, keywords=keywords, cancelled=cancel is not None)
    return Listener(mic, pipeline, clock, inbox, notice, cancel)


"""One stream of microphone chunks through the recognizer, the spotter and the barge-in checks.

No threads and no devices: the Listener (listener.py) feeds it from the microphone, and the
tests and benchmarks feed it recorded or synthetic audio the same way.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace

from voicecoach.bargein import BargeIn, BargeSettings
from voicecoach.commands import Command
from voicecoach.doubletalk import TalkMeter
from voicecoach.foreground import ForegroundSettings, LevelTrace
from voicecoach.phrases import UNKNOWN
from voicecoach.recognizer import KeywordSpotter, QuietMeter, Recognizer
from voicecoach.roomvoice import OTHER_VOICE, RoomSettings, RoomVoice
from voicecoach.spotter import ECHO_ONLY, Spot, Spotter
from voicecoach.talksettings import TalkSettings
from voicecoach.voicing import VoiceTrace

#: How barge-in is checked against the coach's echo (None in a Pipeline: not checked).
TALK = TalkSettings()
#: The keyword search's settings over the coach's speech.
BARGE = BargeSettings()
#: What counts as another voice (a TV) in the coach's silences.
ROOM = RoomSettings()
#: When a phrase said over that voice stands out of it (None in a Pipeline: never).
FOREGROUND = ForegroundSettings()
#: How a phrase no louder than another voice talking in the room is turned down (after
#: roomvoice.OTHER_VOICE, so that the Listener tells the person now and then).
OTHER_LEVEL = "no louder than it: its own word?"


class Pipeline:
    """Recognizer + quiet meter + spotter over one stream of PCM chunks (no threads, no devices),
    shared by the Listener and the benchmark."""

    def __init__(self, recognizer: Recognizer, spotter: Spotter,
                 talk: TalkSettings | None = TALK,
                 keywords: KeywordSpotter | None = None, cancelled: bool = False,
                 barge: BargeSettings = BARGE, room: RoomSettings = ROOM,
                 foreground: ForegroundSettings | None = FOREGROUND) -> None:
        self.recognizer = recognizer
        self.spotter = spotter
        self.quiet = QuietMeter(recognizer.rate)
        self.voice = VoiceTrace(recognizer.rate)
        # No level check without settings (the benchmark's way before 2026-12-01) or without
        # a record of the coach's clips to compare with. With an echo canceller in front
        # (`cancelled`), the level before it is metered too: see TalkSettings.cancelled_share.
        playing = spotter.playing
        rate = recognizer.rate
        self.raw_talk = TalkMeter(rate, playing, talk) if talk and playing and cancelled else None
        self.talk = (TalkMeter(rate, playing, talk, self.raw_talk) if talk and playing
                     else None)
        # The keyword search over the coach's speech needs the level check: alone, it takes
        # the coach's own voice for "pause" several times a minute (bargein.py).
        # Whether another voice (a TV) talks in the coach's silences: then a find is not
        # taken (roomvoice.py).
        self.room = RoomVoice(rate, playing, room) if playing and self.talk else None
        spotter.room = self.room.talking_on if self.room else None
        # ...and a phrase standing out of that voice is said on its own (foreground.py).
        self.levels = (LevelTrace(rate, foreground) if self.room and foreground is not None
                       else None)
        spotter.foreground = self._foreground if self.levels else None
        spotter.under_room = self._over_room if self.levels else None
        self.barge = (BargeIn(keywords, playing, barge, spotter.table.match,
                              self.room.talking_on if self.room else None)
                      if keywords and playing and self.talk else None)
        self._paused = False  # the session's state, for `room` and `_over_room`
        # Session time the sound of the latest phrase taken ended (_foreground); the end of
        # the stretch _foreground last found; the session time of the latest audio.
        self._taken_at, self._stretch, self._now = float("-inf"), float("-inf"), 0.0
        # VOICECOACH_LISTEN_DEBUG=2: every change of hypothesis on stderr, with session time.
        self._trace = os.environ.get("VOICECOACH_LISTEN_DEBUG") == "2"
        self._last: tuple[str, ...] = ()
        # When (listener time of the audio) the recognizer last named a new word, [unk]
        # aside: a question that gets no answer although words were heard meanwhile had
        # something talking over it (a TV), and the coach can say so.
        self.words_at = float("-inf")
        self._words: tuple[str, ...] = ()

    def feed(self, pcm: bytes, captured_at: float,
             raw: tuple[bytes, float] | None = None) -> Spot | None:
        """Take in a chunk whose last sample is at session time `captured_at`; `raw`: the
        microphone's own chunk and time, when `pcm` is it after the echo canceller."""
        if raw is not None and self.raw_talk is not None:
            self.raw_talk.feed(*raw)
        hearing = self.recognizer.accept(pcm)
        words = tuple(w for w in hearing.words if w != UNKNOWN)
        if words and words != self._words:
            self.words_at = captured_at
        self._words = () if hearing.final else words
        quiet = self.quiet.feed(pcm)
        if hearing.quiet is not None:
            # The recognizer measured the room and counts its tail as quiet too: across a
            # room the words' echo keeps the audio off the noise floor for 0.3-0.5 s.
            quiet = max(quiet, hearing.quiet)
        self.voice.feed(pcm)
        if self.talk is not None:
            self.talk.feed(pcm, captured_at)
        if self.room is not None:
            self.room.feed(pcm, captured_at)
        if self.levels is not None:  # the frames the QuietMeter has just measured
            self.levels.add(self.quiet.levels, captured_at, len(pcm) // 2, self.quiet.pending)
        self._now = captured_at
        if self._trace and (hearing.words != self._last or hearing.final):
            self._last = hearing.words
            end = "final" if hearing.final else "partial"
            said = " ".join(hearing.words)
            print(f"voicecoach: {captured_at:8.3f} {end} {said}", file=sys.stderr)
        talking = self.talk.talking if self.talk else None
        learnt = self.talk is not None and self.talk.learnt
        spot = self.spotter.feed(hearing, quiet, offset=captured_at - hearing.end,
                                 voiced=self.voice.is_voiced, talking=talking, learnt=learnt)
        self._mine(spot)
        if self.barge is None:
            return spot
        if (spot is not None and spot.rejected.startswith(ECHO_ONLY)
                and spot.command is Command.STOP and self.barge.acted_on(spot.heard, captured_at)):
            # "stop" over a count: the keyword search paused for it at once, having found it
            # louder than the coach's echo, and the recognizer's "stop", placed later, was
            # then weighed against the coach's "Paused." and turned down, so the session only
            # paused (CI, 2026-12-07, with decoding 0.8 s behind). It is the same word.
            spot = replace(spot, rejected="")
            self._mine(spot)
        if spot is not None and not spot.rejected:
            acted = self.barge.acted_since(captured_at)
            if acted is not None and spot.command in (Command.PAUSE, acted):
                # The keyword search acted on this very phrase already; a "stop" still stops,
                # and "it hurts" after a pause for it still asks about the pain.
                return replace(spot, rejected=f"the keyword search acted on it already "
                                              f"({acted.value})")
            self.barge.fired(captured_at, spot.command)  # the same word must not act twice
        found = self.barge.feed(pcm, captured_at, talking, self.voice.is_voiced,
                                question=self.spotter.expecting is not None, learnt=learnt)
        if found is not None and (spot is None or (spot.rejected and not found.rejected)):
            if self._trace and not found.rejected:
                self._trace_levels(found)
            self._mine(found)
            return found
        return spot

    def _foreground(self, named: float, words: int) -> bool:
        """Whether a phrase of `words` words first named at session time `named` was said over
        another voice talking on and stands out of it, that voice alone around it
        (foreground.py). That voice's loud level from the silences before the phrase can have
        begun. The stretch that stands out: ending at most `name_lag` (and a frame) before the
        phrase was named, after any phrase taken, with a voice in it (a knock a moment before
        a TV's word stood for it), and clear of the coach's clips and their echo (a short
        line's echo, "Paused.", stands out of a quiet TV too)."""
        assert self.room is not None and self.levels is not None
        s, room = self.levels.settings, self.room.settings
        floor = self.room.loud(named - s.spare - s.word * words, s.percentile)
        found = self.levels.phrase(floor, words) if floor is not None else None
        lag = self.spotter.settings.name_lag + 0.1
        if (found is None or found[0] > named or found[1] < named - lag
                or found[0] <= self._taken_at):
            return False
        if self.spotter.playing is not None and self.spotter.playing(
                found[0] - room.tail, found[1] + room.before, 0.0):
            return False
        voiced = self.voice.voiced_seconds(self._now - found[0], self._now - found[1])
        if voiced < self.voice.settings.voiced:
            return False
        self._stretch = found[1]
        return True

    def _over_room(self, t0: float, t1: float, command: Command) -> str:
        """Why a phrase of `command` said on its own from session time `t0` to `t1` is turned
        down, or "": while another voice talks on in the coach's silences it must be `alone` dB
        over that voice's loud level at its loudest, as a quiet TV's own words between pauses
        of its own are said on their own too (bench_tv.py, a TV 25 dB under a person's voice:
        4 commands in 2 minutes). While paused too (`ForegroundSettings.paused`), but for
        "resume" and "it hurts": the silences looked at then may hold the person's own voice
        (on the phone, "ow..."), and neither must have to outdo it. Not while a question
        waits, for the same reason: the answer."""
        assert self.room is not None and self.levels is not None
        s = self.levels.settings
        if (self.spotter.expecting is not None
                or (self._paused and (command in (Command.RESUME, Command.PAIN)
                                      or not s.paused))):
            return ""
        floor = self.room.loud(t0 - self.spotter.settings.talk_lead, s.percentile)
        loudest = self.levels.loudest(t0 - 0.3, t1)
        if floor is None or loudest is None or loudest >= floor + s.alone:
            return ""
        return (f"{OTHER_VOICE}, and this is {OTHER_LEVEL} ({loudest - floor:+.1f} dB over its "
                "loud level)")

    def _mine(self, spot: Spot | None) -> None:
        """A phrase taken: its sound is the person's own, not another voice in the room (a
        reply to the coach's question falls in its silence); from 0.6 s before it was taken,
        or its start if earlier (a phrase's start is a rough guess), and a second after
        (RoomSettings.after)."""
        if self.room is not None and spot is not None and not spot.rejected:
            # The stretch found for it, or its sound up to the quiet that ended it.
            self._taken_at = max(self._taken_at, self._stretch,
                                 spot.t1 - self.spotter.settings.quiet_after(spot.command))
            self.room.forget(min(spot.t0, spot.t1 - 0.6) - 0.2, spot.t1)

    def _trace_levels(self, spot: Spot) -> None:
        """The frames that let a barge-in through: microphone level beside the echo expected
        (a pause once fired on the coach's own line under a loaded CPU, and only the words
        were on record)."""
        if self.talk is None:
            return
        c = self.talk.coupling(before=spot.t0 - 0.2) or 0.0
        meter = self.raw_talk or self.talk
        print(f"voicecoach:   echo delay {meter.shift:+d} frames (lately {meter.span}), "
              f"lost {meter.stalls} time(s)", file=sys.stderr)
        for t, level, echo, settling in self.talk.frames(spot.t0 - 0.3, spot.t1):
            mark = (" settling" if settling else "") + (" lost" if self.talk.lost(t) else "")
            print(f"voicecoach:   {t:8.3f} mic {level:7.1f} echo {c * echo:7.1f}{mark}",
                  file=sys.stderr)

    def expect(self, section: str | None) -> None:
        """Take answers of `section` (None: commands only); the recognizer may favour them."""
        self.spotter.expect(section)  # first: an unknown section raises before anything changes
        self.recognizer.expect(section)
        self._hold_room()

    def paused(self, paused: bool | None) -> None:
        """The session paused (True), runs (False) or there is none (None)."""
        self.spotter.paused(paused)
        self.recognizer.paused(paused)
        self._paused = paused is True
        self._hold_room()

    def _hold_room(self) -> None:
        """The person talks while paused or asked something: what is heard then is kept apart
        while paused, and not at all while asked (roomvoice.RoomVoice.hold)."""
        if self.room is not None:
            self.room.hold(self._paused or self.spotter.expecting is not None, self._paused)

"""The coach's voice through real PortAudio into a PulseAudio null sink, heard on its monitor.

Aligning the recording with session time: parec's samples form one continuous stream, so a
single offset maps recording time to session time. We take that offset from the first clip
(the instruction): its heard onset is matched to the start the speaker reported for it.
Every later claim (each count on its deadline, each reported start, the silence after a
cut) is then checked against that one offset. An offset that were itself wrong would shift
everything alike, so it is cross-checked against parec's own start time (first samples
arriving, known to a few ms) to within 30 ms.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from audio_check import LOUD, onsets, rms_envelope, transcribe
from harness import Pulse, reinit_portaudio

from voicecoach import tts
from voicecoach.clips import PRE_ROLL
from voicecoach.clock import RealClock
from voicecoach.config import VoiceSettings
from voicecoach.playback import AudioSpeaker
from voicecoach.speaker import SpeechLog, Utterance
from voicecoach.voice import SpeakerUnavailable, open_speaker

pytestmark = pytest.mark.audio

RATE = 16000  # record at pocketsphinx's rate: 62 us resolution is plenty for onsets
INSTRUCTION = "Straighten your knee and hold."
COUNTS = ["one", "two", "three", "four", "five"]
NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


@dataclass
class Coach:
    """A real speaker on the harness, with everything it reported."""

    speaker: AudioSpeaker
    clock: RealClock
    reports: list[Utterance] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    log: SpeechLog = field(default_factory=SpeechLog)

    def hand_over(self, text: str, kind: str, at: float) -> None:
        """Like the session: wait until `lead` before the deadline, then say."""
        while self.clock.now() < at - self.speaker.lead:
            time.sleep(0.005)
        self.speaker.say(text, kind, at)


def open_coach() -> Coach:
    clock = RealClock()
    reports: list[Utterance] = []
    notices: list[str] = []
    log = SpeechLog()
    speaker = open_speaker(VoiceSettings(), clock, reports.append, log, notices.append)
    assert isinstance(speaker, AudioSpeaker)
    return Coach(speaker, clock, reports, notices, log)


@pytest.fixture
def coach(clip_cache: Path) -> Iterator[Coach]:
    c = open_coach()
    yield c
    c.speaker.close()


def heard(samples: Any, offset: float, speed: float = 1.0) -> list[float]:
    """Onsets in session seconds."""
    return [offset + speed * t for t in onsets(samples, RATE, threshold=LOUD, min_gap=0.3)]


def align(rec_started: float, coach: Coach, samples: Any, first: Utterance) -> float:
    """Session time at the recording's first sample (see the module docstring)."""
    assert first.start is not None
    speed = coach.clock.speed
    offset = first.start - speed * onsets(samples, RATE, threshold=LOUD)[0]
    by_parec = speed * (rec_started - coach.clock.to_monotonic(0.0))
    assert abs(offset - by_parec) < 0.03 * speed, (offset, by_parec)
    return offset


def test_counts_land_on_their_deadlines_and_are_heard_as_numbers(
    coach: Coach, pulse: Pulse
) -> None:
    sp = coach.speaker
    sp.prepare([INSTRUCTION, *COUNTS])
    first_count = 0.5 + sp.duration(INSTRUCTION) + 0.6
    rec = pulse.start_recording("coach.monitor", rate=RATE)
    t0 = coach.clock.now() + 0.5
    coach.hand_over(INSTRUCTION, "instruction", t0)
    deadlines = [t0 + first_count - 0.5 + i for i in range(len(COUNTS))]
    for word, at in zip(COUNTS, deadlines):
        coach.hand_over(word, "count", at)
    time.sleep(sp.busy_until() - coach.clock.now() + 0.3)
    samples, _ = rec.stop()

    assert [(u.text, u.kind, u.cut) for u in coach.reports] == [
        (INSTRUCTION, "instruction", False), *((w, "count", False) for w in COUNTS)]
    for u in coach.reports:  # handed over early, so each starts on its deadline
        assert u.start is not None and u.end is not None
        assert abs(u.start - u.at) < 0.002 and u.end > u.start
    offset = align(rec.started, coach, samples, coach.reports[0])
    onset = heard(samples, offset)
    assert len(onset) == 1 + len(COUNTS)
    errors = [h - at for h, at in zip(onset[1:], deadlines)]
    assert max(abs(e) for e in errors) <= 0.030, errors
    for h, u in zip(onset, coach.reports):
        assert u.start is not None and abs(h - u.start) <= 0.030
    for word, h in zip(COUNTS, onset[1:]):
        i = int((h - offset) * RATE)
        segment = samples[max(0, i - RATE // 10) : i + int(0.7 * RATE)]
        assert transcribe(segment, RATE, NUMBERS) == word
    # The SpeechLog holds the real times, for the listener's echo rejection.
    said = coach.log.overlapping(deadlines[2] + 0.05, deadlines[2] + 0.1)
    assert [u.text for u in said] == ["three"]


def loud_moment(sp: AudioSpeaker, text: str, after: float) -> float:
    """Seconds into `text` (from its audible start), `after` or later, where it is loudest
    for 30 ms before and 150 ms after: a cut there must silence real speech, not a pause
    between words. espeak-ng's renders differ a little from run to run, so the test takes
    the best moment of this render rather than a fixed one."""
    clip = sp.renderer.get(text, wait=5)
    assert clip is not None
    level = rms_envelope(clip.samples / 32768.0, clip.rate, hop_ms=1, win_ms=10)
    start = int((after + PRE_ROLL) * 1000)
    quietest = [level[i - 30 : i + 150].min() for i in range(start, len(level) - 150)]
    best = int(np.argmax(quietest)) if quietest else 0
    assert quietest and quietest[best] > 1.5 * LOUD, (
        f"{text!r} has no long loud stretch (clip {clip.seconds:.3f} s, "
        f"best {max(quietest, default=0) / LOUD:.2f} x LOUD)")
    return (start + best) / 1000 - PRE_ROLL


def test_cut_silences_within_50ms_and_the_next_phrase_is_on_time(
    coach: Coach, pulse: Pulse
) -> None:
    sp, clock = coach.speaker, coach.clock
    long = "Lie on your back, bend the other knee and slowly lift the straight leg."
    sp.prepare([long, "Paused."])
    sp.duration("Paused.")
    into = loud_moment(sp, long, after=0.8)
    rec = pulse.start_recording("coach.monitor", rate=RATE)
    t0 = clock.now() + 0.4
    coach.hand_over(long, "instruction", t0)
    while clock.now() < t0 + into:
        time.sleep(0.002)
    cut_at = clock.now()
    sp.cut()
    assert sp.busy_until() <= clock.now()
    after = clock.now() + 0.5
    coach.hand_over("Paused.", "cue", after)
    time.sleep(sp.busy_until() - clock.now() + 0.3)
    samples, _ = rec.stop()

    first, second = coach.reports
    assert first.cut and first.text == long and first.end is not None
    assert 0 <= first.end - cut_at <= 0.050
    offset = align(rec.started, coach, samples, first)
    level = rms_envelope(samples, RATE, hop_ms=1, win_ms=2)
    ms = np.arange(len(level)) / 1000 + offset  # session time of each envelope step
    smooth = rms_envelope(samples, RATE, hop_ms=1, win_ms=10)
    before = (ms[: len(smooth)] > cut_at - 0.03) & (ms[: len(smooth)] < cut_at - 0.01)
    assert smooth[before].min() > LOUD  # it was mid-word when cut
    loud_after_cut = ms[(level > LOUD) & (ms > cut_at) & (ms < after - 0.1)]
    silent_from = loud_after_cut.max() if len(loud_after_cut) else cut_at
    assert silent_from - cut_at <= 0.050
    assert not second.cut and abs(heard(samples, offset)[-1] - after) <= 0.030


def test_second_session_renders_nothing_and_first_word_is_quick(
    pulse: Pulse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    phrases = [f"Exercise {n}. Hold for {n} seconds." for n in NUMBERS] + COUNTS
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rendered: dict[str, int] = {}
    files: dict[str, list[str]] = {}
    hellos: dict[str, Any] = {}
    for run, limit in (("cold", 1.5), ("warm", 1.0)):
        rec = pulse.start_recording("coach.monitor", rate=RATE)
        launch = time.monotonic()
        c = open_coach()
        durations = [c.speaker.duration(p) for p in phrases]  # as the session plans its steps
        c.speaker.prepare(phrases)
        c.speaker.say(phrases[0], "instruction", c.clock.now())
        time.sleep(c.speaker.busy_until() - c.clock.now() + 0.2)
        rendered[run] = c.speaker.renderer.rendered
        files[run] = sorted(os.listdir(c.speaker.renderer.cache.root))
        hellos[run] = dict(c.speaker.renderer.workers[0].hello)
        c.speaker.close()
        samples, _ = rec.stop()
        first_word = rec.started + onsets(samples, RATE, threshold=LOUD)[0] - launch
        assert first_word < limit, (run, first_word)
        assert all(d > 0.2 for d in durations)
    assert rendered == {"cold": len(phrases), "warm": 0}, (files, hellos)


def test_a_hung_render_is_shown_as_a_caption_and_counting_goes_on(
    coach: Coach, pulse: Pulse, monkeypatch: pytest.MonkeyPatch
) -> None:
    sp = coach.speaker
    sp.duration("one")
    monkeypatch.setattr(tts, "render_timeout", lambda text: 0.5)
    for worker in sp.renderer.workers:
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGSTOP)  # the engine hangs for real
    rec = pulse.start_recording("coach.monitor", rate=RATE)
    t0 = coach.clock.now() + 0.5
    coach.hand_over("Keep breathing.", "cue", t0)
    coach.hand_over("one", "count", t0 + 1.0)
    time.sleep(sp.busy_until() - coach.clock.now() + 0.3)
    samples, _ = rec.stop()

    caption, count = coach.reports
    assert caption.text == "Keep breathing." and caption.kind == "cue"
    assert caption.start is not None and abs(caption.start - t0) < 0.1
    assert count.text == "one" and count.kind == "count" and not count.cut
    offset = rec.started - coach.clock.to_monotonic(0.0)
    onset = heard(samples, offset)
    assert len(onset) == 1 and abs(onset[0] - (t0 + 1.0)) < 0.03  # only the count was heard
    assert any("Keep breathing." in n and "caption" in n for n in coach.notices)


def test_missing_output_device_means_captions_with_a_fix(
    clip_cache: Path, pulse: Pulse, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SpeakerUnavailable) as err:
        open_speaker(VoiceSettings(output_device="no such card"), RealClock(), print,
                     SpeechLog(), print)
    assert "no such card" in err.value.reason and "voicecoach doctor" in err.value.fix
    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent/socket")  # the sound server is gone
    reinit_portaudio()
    try:
        with pytest.raises(SpeakerUnavailable) as err:
            open_speaker(VoiceSettings(), RealClock(), print, SpeechLog(), print)
        assert err.value.reason == "no sound output device"
    finally:
        monkeypatch.setenv("PULSE_SERVER", pulse.env["PULSE_SERVER"])
        reinit_portaudio()


def test_sped_up_sessions_keep_the_beat_in_real_time(clip_cache: Path, pulse: Pulse) -> None:
    clock = RealClock(speed=3.0)  # --speed 3: session seconds run three times as fast
    reports: list[Utterance] = []
    sp = open_speaker(VoiceSettings(), clock, reports.append, SpeechLog(), print)
    assert isinstance(sp, AudioSpeaker)
    coach = Coach(sp, clock, reports)
    words = COUNTS[:3]
    clip = sp.renderer.get("one", 5)
    assert clip is not None and sp.duration("one") == pytest.approx(3 * clip.seconds)
    rec = pulse.start_recording("coach.monitor", rate=RATE)
    t0 = clock.now() + 1.5
    for i, w in enumerate(words):
        coach.hand_over(w, "count", t0 + 3 * i)  # one a second of real time
    time.sleep((sp.busy_until() - clock.now()) / 3 + 0.3)
    sp.close()
    samples, _ = rec.stop()
    onset = heard(samples, align(rec.started, coach, samples, reports[0]), clock.speed)
    assert [t - t0 for t in onset] == pytest.approx([0.0, 3.0, 6.0], abs=0.03)
    assert [u.text for u in reports] == words


def test_an_unwritable_cache_costs_only_the_speed_up(
    pulse: Pulse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # mkdir fails, even for root
    c = open_coach()
    try:
        assert c.speaker.duration("one") > 0.2 and c.speaker.renderer.rendered == 1
        assert len(c.notices) == 1 and "temporary folder" in c.notices[0]
    finally:
        c.speaker.close()

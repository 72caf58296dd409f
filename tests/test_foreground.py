"""A phrase standing out of another voice talking on (foreground.py): levels, then real speech."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voicecoach.foreground import ForegroundSettings, LevelTrace, loud_level
from voicecoach.recognizer import QuietMeter

sys.path.insert(0, str(Path(__file__).resolve().parent))

RATE = 16000
CHUNK = 480  # 30 ms, as the microphone gives

needs_espeak = pytest.mark.skipif(
    subprocess.run(["which", "espeak-ng"], capture_output=True).returncode != 0,
    reason="espeak-ng not installed",
)


def tone(seconds: float, db: float, rate: int = RATE) -> Any:
    """A 200 Hz tone whose 10 ms frames are at `db` (as foreground.frame_levels measures)."""
    t = np.arange(int(seconds * rate)) / rate
    return np.sqrt(2) * 10 ** (db / 20) * np.sin(2 * np.pi * 200 * t)


def traced(*pieces: Any, rate: int = RATE) -> LevelTrace:
    """A LevelTrace fed the pieces one after another, in 30 ms chunks."""
    x = np.clip(np.concatenate(pieces), -32767, 32767).astype(np.int16).tobytes()
    trace = LevelTrace(rate)
    step = 2 * int(rate * 0.03)
    for i in range(0, len(x), step):
        trace.feed(x[i : i + step], (i + len(x[i : i + step])) / 2 / rate)
    return trace


def test_a_phrase_standing_out_of_the_talk_with_only_the_talk_around_it() -> None:
    floor = 50.0  # the other voice's loud level
    tv = tone(1.0, 46.0)
    # The person's word, 20 dB over, with a 0.08 s closure in it ("stop"), then the TV again.
    word = [tone(0.2, 70.0), tone(0.08, 45.0), tone(0.15, 66.0)]
    found = traced(tv, *word, tone(0.15, 46.0)).phrase(floor)
    assert found is not None
    start, end = found
    assert abs(start - 1.0) <= 0.011 and abs(end - 1.43) <= 0.011
    # Not yet the TV's level alone for `after` (0.12 s) after it.
    assert traced(tv, *word, tone(0.06, 46.0)).phrase(floor) is None
    # Only 8 dB over the talk's loud level: the TV's own word, raised a little.
    assert traced(tv, tone(0.4, 58.0), tone(0.15, 46.0)).phrase(floor) is None
    # The person talking on before it: no `before` of the TV alone, and with a pause shorter
    # than `bridge` between, longer than one word may last (1 s).
    assert traced(tv, tone(0.5, 62.0), tone(0.2, 46.0), *word, tone(0.15, 46.0)
                  ).phrase(floor) is None
    assert traced(tv, tone(0.5, 62.0), tone(0.1, 46.0), *word, tone(0.15, 46.0)
                  ).phrase(floor) is None
    # ...which two words ("hold on") may: 1.4 s.
    assert traced(tv, tone(0.5, 62.0), tone(0.1, 46.0), *word, tone(0.15, 46.0)
                  ).phrase(floor, 2) is not None
    # Longer than any phrase: talk, not a command.
    assert traced(tv, tone(2.5, 70.0), tone(0.15, 46.0)).phrase(floor, 4) is None
    # At 44.1 kHz the same.
    assert traced(tone(1.0, 46.0, 44100), tone(0.4, 70.0, 44100), tone(0.15, 46.0, 44100),
                  rate=44100).phrase(floor) is not None


def test_the_levels_kept_are_the_latest_seconds() -> None:
    trace = traced(tone(10.0, 46.0))
    assert len(trace._levels) <= int(ForegroundSettings().keep / 0.01) + 1
    assert trace._levels[-1][0] == pytest.approx(10.0)


@pytest.mark.parametrize("rate", [16000, 44100, 16050])
def test_the_levels_the_pipeline_hands_over_are_those_the_trace_measures(rate: int) -> None:
    """The Pipeline gives LevelTrace the frames its QuietMeter measured (`add`): the same
    levels at the same times as the trace's own `feed`, in odd chunks and at an odd rate. Audio
    dropped (a gap in the times) starts both afresh; the meter keeps its part of a frame, so
    their frames may then fall up to one frame apart (and measure a little differently)."""
    x = np.clip(np.concatenate([tone(0.7, 46.0, rate), tone(0.4, 70.0, rate)]), -32767, 32767)
    pcm = x.astype(np.int16).tobytes()
    for gap in (None, 12):
        own, handed, meter = LevelTrace(rate), LevelTrace(rate), QuietMeter(rate)
        i, t, gap_at = 0, 0.0, 0.0
        for n, size in enumerate([333, 480, 1, 960, 7] * 40):
            chunk = pcm[i : i + 2 * size]
            i += 2 * size
            if not chunk:
                break
            if n == gap:
                t += 0.5  # audio dropped
                gap_at = t
            t += len(chunk) / 2 / rate
            own.feed(chunk, t)
            meter.feed(chunk)
            handed.add(meter.levels, t, len(chunk) // 2, meter.pending)
        ours, theirs = np.array(own._levels), np.array(handed._levels)
        assert len(ours) > 40 and abs(len(ours) - len(theirs)) <= 1
        k = min(len(ours), len(theirs))
        if gap is None:
            assert np.allclose(ours[-k:, 1], theirs[-k:, 1], atol=1e-6)
        assert np.allclose(ours[-k:, 0], theirs[-k:, 0], atol=1e-9 if gap is None else 0.0101)
        assert min(ours[0, 0], theirs[0, 0]) > gap_at


@needs_espeak
def test_a_tv_s_own_words_never_stand_out_of_its_talk_but_a_word_over_it_does() -> None:
    """espeak-ng's news at a TV's level: measured against its own loud level, none of its
    words is a phrase said over it; "pause" said 20 dB over it is, and where it was said."""
    from audio_check import TV_NEWS, speech

    tv = speech(TV_NEWS * 3, "en-gb-x-rp", 175, RATE) * 0.05
    tv = tv + np.random.default_rng(0).normal(0, 5, len(tv))
    settings = ForegroundSettings()
    floor = loud_level(np.clip(tv[: 6 * RATE], -32767, 32767).astype(np.int16).tobytes(),
                       RATE, settings.percentile)
    assert floor is not None
    pcm = np.clip(tv, -32767, 32767).astype(np.int16).tobytes()
    trace = LevelTrace(RATE)
    step, found = 2 * CHUNK, []
    for i in range(0, len(pcm), step):
        trace.feed(pcm[i : i + step], (i + step) / 2 / RATE)
        found.append(trace.phrase(floor))
    assert len(tv) / RATE > 25 and not any(found)
    pause = speech("pause", "en-us", 175, RATE)
    a = 10 * RATE
    mixed = tv.copy()
    mixed[a : a + len(pause)] += pause * np.sqrt(np.mean(tv**2) / np.mean(pause**2)) * 10
    pcm = np.clip(mixed, -32767, 32767).astype(np.int16).tobytes()
    trace = LevelTrace(RATE)
    hits = []
    for i in range(0, len(pcm), step):
        trace.feed(pcm[i : i + step], (i + step) / 2 / RATE)
        if (run := trace.phrase(floor)) is not None:
            hits.append(run)
    assert hits, "the word over the TV was not found"
    assert {round(h[0], 2) for h in hits} == {round(hits[0][0], 2)}  # one phrase
    start, end = hits[0]
    assert 10.0 <= start <= 10.3 and end <= 10.0 + len(pause) / RATE + 0.01


def _fired(data: bytes, log: Any, foreground: bool, pause_at: float | None = None
           ) -> list[tuple[str, float]]:
    """(command, session time) of what a running session's Pipeline took from `data`, the
    session paused from session time `pause_at` on."""
    from voicecoach.phrases import load_phrases
    from voicecoach.pipeline import FOREGROUND, Pipeline
    from voicecoach.sphinx_recognizer import SphinxRecognizer
    from voicecoach.spotter import Spotter

    en = load_phrases("en")
    pipe = Pipeline(SphinxRecognizer(RATE, en, tuple(en.answers)), Spotter(en, log.overlapping),
                    foreground=FOREGROUND if foreground else None)
    pipe.paused(False)
    step, out = 2 * CHUNK, []
    for i in range(0, len(data), step):
        if pause_at is not None and i / 2 / RATE >= pause_at:
            pipe.paused(True)
            pause_at = None
        spot = pipe.feed(data[i : i + step], (i + step) / 2 / RATE)
        if spot is not None and not spot.rejected:
            out.append((spot.command.value, round(spot.t1, 2)))
    pipe.recognizer.close()
    return out


@needs_espeak
def test_commands_said_in_the_coach_s_pauses_over_a_tv_are_taken() -> None:
    """Real pocketsphinx: the coach says a line every 5 s, a TV reads the news 20 dB under the
    person all the way through, and the person says a command in each of the coach's pauses.
    Each is taken, where it was said; without the rule, the TV's words before them kept all
    but one from being said on their own (benchmarks/bench_tv.py: 4 of 48)."""
    from audio_check import coach_and_tv

    phrases = ("pause", "next", "stop", "repeat")
    data, log, truth = coach_and_tv(phrases, "en-us", -20.0, 0)
    fired = _fired(data, log, True)
    without = _fired(data, log, False)
    assert [c for c, _ in fired] == ["pause", "next", "stop", "repeat"], (fired, without)
    for (_, at), (_, start, end) in zip(fired, truth, strict=True):
        assert end < at < start + 1.5
    # Without the rules: at most one of them, and the TV's own "back" between two pauses of
    # its own, which the level rule turns down.
    said = [f for f in without if any(start <= f[1] <= start + 2 for _, start, _ in truth)]
    assert len(said) <= 1 and any(c == "back" and abs(at - 9.3) < 0.5 for c, at in without)


@needs_espeak
def test_resume_over_a_tv_after_a_long_pause_is_taken() -> None:
    """Paused for 40 s with a TV 20 dB under the person talking on, then "resume" said over
    it: taken. What the room heard of the TV before the pause does not age while paused
    (RoomSettings.age); it did, and after 30 s paused only a "resume" with quiet around it
    counted, which a TV never leaves."""
    from audio_check import TV_NEWS, coach_and_tv, speech

    head, log, _ = coach_and_tv((), "en-us", -20.0, 3, warm=4)  # 21 s, the coach and the TV
    n = len(head) // 2
    tv = speech(TV_NEWS * 12, "en-gb-x-rp", 175, RATE)
    level = np.sqrt(np.mean(speech("pause", "en-us", 175, RATE) ** 2))
    tv = tv * level / np.sqrt(np.mean(tv**2)) * 10 ** (-20 / 20)
    tv = np.tile(tv, 3)[n : n + 44 * RATE]  # the TV talking on: 40 s paused, then "resume"
    word = speech("resume", "en-us", 175, RATE)
    at = 40 * RATE
    tail = tv + np.random.default_rng(4).normal(0, 30, len(tv))
    tail[at : at + len(word)] += word
    data = head + np.clip(tail, -32767, 32767).astype(np.int16).tobytes()
    fired = _fired(data, log, True, pause_at=n / RATE)
    said = n / RATE + 40.0
    assert [c for c, t in fired if t > n / RATE] == ["resume"], fired
    assert said < fired[-1][1] < said + 1.5


@needs_espeak
@pytest.mark.parametrize("tv_db", [0.0, -20.0])
def test_a_tv_with_the_coach_and_no_person_gains_no_command_from_the_rule(tv_db: float) -> None:
    """The TV alone with the coach's lines, as loud as the person would be, or as quiet as in
    the test above: whatever its words set off, standing out of its own talk adds nothing.
    At -20 dB the coach's echo, 0.15 s late ("Next.", "Paused."), stands out of the TV: it
    is no person's phrase either."""
    from audio_check import coach_and_tv

    data, log, _ = coach_and_tv((), "en-us", tv_db, 7, warm=10)
    assert set(_fired(data, log, True)) <= set(_fired(data, log, False))


@needs_espeak
def test_a_quiet_tv_s_own_words_between_its_pauses_are_not_taken() -> None:
    """A TV 25 dB under the person pauses between its sentences, and a word of its own there
    is said on its own: without the level rule two minutes of it with the coach fired 4
    commands (bench_tv.py). Now a phrase taken while it talks must be 6 dB over its loud
    level, and none of its words is."""
    from audio_check import coach_and_tv

    # A minute: 2 of them ("back", "stop"). Seed 7 fired 1 while pocketsphinx dithered from
    # its process-wide generator, none since (docs/measurements.md, "pocketsphinx's dither").
    data, log, _ = coach_and_tv((), "en-us", -25.0, 8, warm=12)
    assert len(_fired(data, log, False)) >= 1
    assert _fired(data, log, True) == []


def test_a_knock_by_a_tv_s_word_is_no_phrase_said_over_it() -> None:
    """A knock 20 dB over a TV's talk has the TV's level around it like a word said over
    it; it is too short for one, and the Pipeline also finds no voice in it."""
    tv = tone(1.0, 46.0)
    knock = np.random.default_rng(0).normal(0, 10 ** (70 / 20), int(0.05 * RATE))
    assert traced(tv, knock, tone(0.3, 46.0)).phrase(50.0) is None
    longer = np.random.default_rng(0).normal(0, 10 ** (70 / 20), int(0.2 * RATE))
    assert traced(tv, longer, tone(0.3, 46.0)).phrase(50.0) is not None  # by its level


def test_levels_start_afresh_after_dropped_audio() -> None:
    """The quiet before a phrase must be heard: after a gap in the audio (chunks dropped
    while the listener was behind) the levels before it do not count."""
    trace = traced(tone(1.0, 46.0))
    x = np.concatenate([tone(0.3, 70.0), tone(0.15, 46.0)])
    pcm = np.clip(x, -32767, 32767).astype(np.int16).tobytes()
    step = 2 * CHUNK
    for i in range(0, len(pcm), step):
        trace.feed(pcm[i : i + step], 5.0 + (i + len(pcm[i : i + step])) / 2 / RATE)
    assert trace.phrase(50.0) is None

"""Measuring the room (roomdecay.py) on real synthesized speech, dry and through simulated rooms,
and the suppressor (dereverb.py) following the measure."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from audio_check import reverberate, speech

from voicecoach.dereverb import RT60, Dereverb

PHRASES = ("pause", "next", "go back", "stop", "repeat", "hold on", "what can I say", "continue")


def room(rt60: float, drr_db: float, rate: int, rng: Any) -> Any:
    """A room's impulse response: the direct sound and an exponentially decaying noise tail
    (bench_room.py's model) `drr_db` under it in energy."""
    t = np.arange(int(rate * rt60 * 1.2)) / rate
    tail = rng.normal(0, 1, len(t)) * 10 ** (-3 * t / rt60)
    tail[: int(rate * 0.004)] = 0
    h = tail / np.sqrt(np.sum(tail**2)) * 10 ** (-drr_db / 20)
    h[0] += 1.0
    return h


def heard(rate: int, rt60: float | None, voice: str = "en-us") -> list[bytes]:
    """The phrases, each with silence around it, as 16-bit chunks: dry (`rt60` None) or
    through a room of that reverberation time."""
    rng = np.random.default_rng(3)
    out = []
    for phrase in PHRASES:
        x = np.concatenate([np.zeros(rate // 2), speech(phrase, voice, 175, rate),
                            np.zeros(rate // 2)])
        if rt60 is not None:
            x = reverberate(x, room(rt60, -3.0, rate, rng))
        x = x + rng.normal(0, 30, len(x))
        out.append(np.clip(x, -32768, 32767).astype(np.int16).tobytes())
    return out


def measured(rate: int, rt60: float | None, voice: str = "en-us") -> Dereverb:
    d = Dereverb(rate)
    for pcm in heard(rate, rt60, voice):
        d.process(pcm)
    return d


@pytest.mark.parametrize("voice", ["en-us", "en-us+m3"])
def test_close_to_the_microphone_there_is_no_room_to_take_out(voice: str) -> None:
    """Dry speech falls silent fast (0.2 s here): over 80 ms the "tail" predicted is 0.4 % of
    the power, 6 % taken out as a room twice as long (LONGER), so little of the words' own
    endings is taken out."""
    d = measured(16000, None, voice)
    assert d.room is not None and d.room.rt60 is not None
    assert d.room.rt60 < 0.28
    assert d.rt60 == d.room.rt60


@pytest.mark.parametrize(("rate", "rt60", "low", "high"),
                         [(16000, 0.4, 0.25, 0.45), (16000, 0.8, 0.45, 0.9),
                          (44100, 0.6, 0.35, 0.7)])
def test_a_rooms_reverberation_is_measured_from_the_words_in_it(
        rate: int, rt60: float, low: float, high: float) -> None:
    """It reads low (a fall's first 80 ms hold the direct sound's drop too), but it grows with
    the room and tells a room from none."""
    d = measured(rate, rt60)
    assert d.room is not None and d.room.rt60 is not None
    assert low < d.room.rt60 < high


def test_until_sounds_have_died_away_the_usual_room_is_assumed() -> None:
    rng = np.random.default_rng(0)
    d = Dereverb(16000)
    d.process(rng.normal(0, 1000, 16000).astype(np.int16).tobytes())  # steady noise: no falls
    assert d.room is not None and d.room.rt60 is None
    assert d.rt60 == RT60


def test_the_measure_outlives_a_new_stream_and_a_fixed_room_is_not_measured() -> None:
    d = measured(16000, 0.6)
    before = d.rt60
    d.reset()
    assert d.rt60 == before != RT60
    fixed = Dereverb(16000, rt60=0.5)
    for pcm in heard(16000, None):
        fixed.process(pcm)
    assert fixed.room is None and fixed.rt60 == 0.5


def test_the_tail_taken_out_is_that_of_a_longer_room_than_measured() -> None:
    """The measure reads short (0.45 s for this 0.6 s room), and a tail under-estimated is
    left in to be heard as words: the suppressor takes out the tail of a room LONGER times as
    long. A burst in the room keeps its level within 1 dB (0.6 here) and the tail after it
    loses 1.5 dB more than the bare measure takes (3.9 dB against 1.8 here)."""
    from test_dereverb import db, through

    from voicecoach.dereverb import LONGER

    assert LONGER > 1.0
    taken = {}
    for longer in (1.0, LONGER):
        d = Dereverb(16000, longer=longer)
        for pcm in heard(16000, 0.6):
            d.process(pcm)
        d.reset()
        rng = np.random.default_rng(0)
        burst = np.zeros(16000)
        burst[4000:7200] = rng.normal(0, 3000, 3200)
        x = np.convolve(burst, room(0.6, -3.0, 16000, rng))[:16000]
        y = through(d, x, 480)
        during, tail = slice(4400, 7000), slice(8800, 13600)  # tail: 100-400 ms on
        assert abs(db(x[during]) - db(y[during])) < 1.0
        taken[longer] = db(x[tail]) - db(y[tail])
    assert taken[LONGER] > taken[1.0] + 1.5, taken


def test_in_noise_the_measure_is_taken_as_it_is() -> None:
    """In steady noise the "room" measured is partly the noise's own swings, and taking out
    more of it turned noisy "next"s into "stop"s: the tail is lengthened only where the words
    stand well clear of the noise floor (RoomDecay.clear_db)."""
    from voicecoach.dereverb import CLEAR_DB, LONGER

    quiet = measured(16000, 0.6)
    assert quiet.room is not None and quiet.room.clear_db is not None
    assert quiet.room.clear_db > CLEAR_DB + 5
    assert quiet.taken == pytest.approx(quiet.rt60 * LONGER)
    rng = np.random.default_rng(5)
    noisy = Dereverb(16000)
    for pcm in heard(16000, None):
        x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
        speech_power = float(np.mean(x[np.abs(x) > 100] ** 2))
        noise = np.convolve(rng.normal(0, 1, len(x)), np.ones(8) / 8, mode="same")
        noise *= np.sqrt(speech_power / 10 / np.mean(noise**2))  # 10 dB under the words
        noisy.process(np.clip(x + noise, -32768, 32767).astype(np.int16).tobytes())
    assert noisy.room is not None and noisy.room.clear_db is not None and noisy.room.rt60
    assert noisy.room.clear_db < CLEAR_DB - 5
    assert noisy.taken == noisy.rt60

"""QuietMeter (recognizer.py): when the audio counts as quiet after a word, near the noise
floor and, across a room, once the word's own echo has fallen well under it."""

from __future__ import annotations

import numpy as np

from voicecoach.recognizer import CUT_TAIL, QuietMeter

RATE = 16000


def tone(db: float, seconds: float) -> np.ndarray:
    """A 300 Hz tone whose 10 ms frames have `db` of energy (QuietMeter's measure)."""
    t = np.arange(int(RATE * seconds)) / RATE
    return np.sqrt(2 * 10 ** (db / 10)) * np.sin(2 * np.pi * 300 * t)


def tail(db: float, seconds: float, rt60: float) -> np.ndarray:
    """A tone falling from `db` at 60 dB per `rt60` seconds: a room's echo of it."""
    t = np.arange(int(RATE * seconds)) / RATE
    return tone(db, seconds) * 10 ** (-3 * t / rt60)


def quiet_after(meter: QuietMeter, *parts: np.ndarray) -> float:
    x = np.concatenate([np.random.default_rng(0).normal(0, 10, RATE), *parts])
    return meter.feed(np.clip(x, -32768, 32767).astype(np.int16).tobytes())


def test_near_the_floor_only_the_rooms_tail_is_not_quiet() -> None:
    # A 60 dB word, then 0.3 s of its echo falling 100 dB a second, to 30 dB: still above the
    # floor (20 dB) + 8 dB.
    assert quiet_after(QuietMeter(RATE, fall_db=0.0), tone(60, 0.3), tail(60, 0.3, 0.6)) == 0.0


def test_the_rooms_falling_tail_is_quiet_once_well_under_the_word() -> None:
    # 15 dB down after 0.15 s: the last 0.35 s are quiet.
    got = quiet_after(QuietMeter(RATE, fall_db=15.0), tone(60, 0.3), tail(60, 0.5, 0.6))
    assert 0.33 <= got <= 0.36


def test_a_word_said_after_the_tail_is_sound_again() -> None:
    meter = QuietMeter(RATE, fall_db=15.0)
    assert quiet_after(meter, tone(60, 0.3), tail(60, 0.3, 0.6), tone(55, 0.1)) == 0.0


def test_a_steady_sound_under_the_word_stays_sound() -> None:
    """A TV 10 dB under the command is not quiet after it (it is not 15 dB under)."""
    meter = QuietMeter(RATE, fall_db=15.0)
    assert quiet_after(meter, tone(60, 0.3) + tone(50, 0.3), tone(50, 0.4)) == 0.0


def room_meter(rt60: float) -> QuietMeter:
    meter = QuietMeter(RATE)
    meter.rt60 = rt60
    return meter


def test_an_echo_falling_as_the_room_lets_it_is_quiet_at_once() -> None:
    # The same 0.3 s of echo as above, in the room it was measured in: quiet from the moment
    # it is 6 dB down and has fallen for 50 ms, 60-80 ms into it.
    got = quiet_after(room_meter(0.6), tone(60, 0.3), tail(60, 0.3, 0.6))
    assert 0.2 <= got <= 0.25, got


def test_a_weak_word_under_the_echo_of_a_strong_one_is_sound() -> None:
    """A word does not fall on as an echo does: 15 dB under the word before it ("the BACK of
    your knee"), it stays sound."""
    meter = room_meter(0.6)
    assert quiet_after(meter, tone(60, 0.3), tail(60, 0.05, 0.6), tone(45, 0.2)) == 0.0


def test_close_to_the_microphone_a_fading_word_is_not_taken_for_an_echo() -> None:
    """In a room measured short (0.15 s, close to the microphone) the echo falls 400 dB/s; a
    voice fading at 100 dB/s is the voice."""
    assert quiet_after(room_meter(0.15), tone(60, 0.3), tail(60, 0.3, 0.6)) == 0.0


def test_no_room_no_tail_rule() -> None:
    assert quiet_after(room_meter(0.0), tone(60, 0.3), tail(60, 0.3, 0.6)) == 0.0


def noisy_tail(db: float, seconds: float, rt60: float) -> np.ndarray:
    """Noise falling from `db` at 60 dB per `rt60` seconds: a room's diffuse echo, whose 10 ms
    frames swing by a dB or two about the fall."""
    n = int(RATE * seconds)
    t = np.arange(n) / RATE
    return np.random.default_rng(1).normal(0, 10 ** (db / 20), n) * 10 ** (-3 * t / rt60)


def test_a_tail_falling_slower_than_the_room_measured_is_quiet_soon_after() -> None:
    """A hard room (early reflections, a second slope) is measured short: 0.56 s where its late
    tail falls as a 1.28 s room's, 47 dB/s. Measured over 0.1 s its fall is steady enough, and
    a third of the measured rate lets it count as the tail: the quiet begins about 0.15 s into
    it. By the rule that ends an utterance early (CUT_TAIL, the quiet's rule until 2026-12-06:
    half the rate, over 50 ms), its swinging frames break the quiet again and again."""
    got = quiet_after(room_meter(0.56), noisy_tail(65, 0.3, 100.0), noisy_tail(65, 0.6, 1.28))
    assert got >= 0.4, got
    strict = QuietMeter(RATE, rule=CUT_TAIL)
    strict.rt60 = 0.56
    assert quiet_after(strict, noisy_tail(65, 0.3, 100.0), noisy_tail(65, 0.6, 1.28)) < 0.1


def test_in_that_room_a_weak_word_after_the_strong_one_is_still_sound() -> None:
    meter = room_meter(0.56)
    got = quiet_after(meter, noisy_tail(65, 0.3, 100.0), noisy_tail(65, 0.1, 1.28),
                      noisy_tail(50, 0.2, 100.0))
    assert got == 0.0, got

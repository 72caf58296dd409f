"""The late-reverberation suppressor (dereverb.py): what it keeps, what it takes out, and that it
streams the same whatever the chunks."""

from __future__ import annotations

import numpy as np
import pytest

from voicecoach.dereverb import RT60, Dereverb

RATE = 16000


def through(d: Dereverb, x: np.ndarray, chunk: int) -> np.ndarray:
    """`x` streamed through `d` in chunks of `chunk` samples, aligned back to the input."""
    pcm = np.clip(np.round(x), -32768, 32767).astype(np.int16).tobytes()
    out = b"".join(d.process(pcm[i : i + chunk * 2]) for i in range(0, len(pcm), chunk * 2))
    y = np.frombuffer(out, dtype=np.int16).astype(np.float64)
    lag = d.size - d.hop
    return y[lag:]


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x**2) + 1e-12))


@pytest.mark.parametrize(("rate", "size"), [(16000, 512), (44100, 1408), (48000, 1536)])
def test_frames_are_32_ms_at_any_rate(rate: int, size: int) -> None:
    d = Dereverb(rate)
    assert (d.size, d.hop) == (size, size // 4)


def test_a_click_comes_through_whole_and_late_by_three_quarters_of_a_frame() -> None:
    x = np.zeros(RATE)
    x[4000] = 20000.0
    y = through(Dereverb(RATE, rt60=RT60), x, 480)
    assert int(np.argmax(np.abs(y))) == 4000
    assert abs(y[4000] - 20000.0) < 20000.0 * 0.02


def test_a_steady_sound_keeps_its_level() -> None:
    """A held vowel is not reverberation: its own past predicts little of it (0.3 dB here)."""
    t = np.arange(2 * RATE) / RATE
    x = 3000 * np.sin(2 * np.pi * 220 * t) + 1500 * np.sin(2 * np.pi * 660 * t)
    y = through(Dereverb(RATE, rt60=RT60), x, 480)
    middle = slice(RATE // 2, RATE)
    assert abs(db(y[middle]) - db(x[middle])) < 0.5


def test_the_rooms_tail_is_taken_down_and_the_sound_kept() -> None:
    """A 0.2 s burst in a room of 0.4 s reverberation time: the burst keeps its level within
    1.5 dB, and the tail after it loses 2 dB more (2.8 dB here: the floor allows 7 at most,
    and where the tail's own fluctuations rise above the prediction, little is taken)."""
    rng = np.random.default_rng(0)
    burst = np.zeros(RATE)
    burst[4000:7200] = rng.normal(0, 3000, 3200)
    t = np.arange(int(0.5 * RATE)) / RATE
    h = rng.normal(0, 1, len(t)) * 10 ** (-3 * t / 0.4)
    h[:64] = 0
    h = h / np.sqrt(np.sum(h**2)) * 0.7
    h[0] = 1.0
    x = np.convolve(burst, h)[:RATE]
    y = through(Dereverb(RATE, rt60=RT60), x, 480)
    during, tail = slice(4400, 7000), slice(7200 + 2400, 7200 + 6400)  # tail: 150-400 ms on
    kept = db(x[during]) - db(y[during])
    assert abs(kept) < 1.5
    assert db(x[tail]) - db(y[tail]) > kept + 2.0


def test_the_chunks_do_not_matter_and_reset_starts_afresh() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 2000, RATE)
    d = Dereverb(RATE, rt60=RT60)  # measured, the room would be the one thing kept
    whole = through(d, x, len(x))
    d.reset()
    assert np.array_equal(through(d, x, 480), whole)
    assert np.array_equal(through(Dereverb(RATE, rt60=RT60), x, 37), whole)


@pytest.mark.parametrize("rate", [16000, 44100])
def test_with_the_room_measured_as_it_goes_the_chunks_do_not_matter_either(rate: int) -> None:
    # A chunk's frames go through the FFT together, but the room's measure (and with it the
    # tail taken out) changes from one frame to the next: hop by hop, a microphone's 30 ms
    # chunks, an odd size and the whole at once must give the same output to the bit.
    rng = np.random.default_rng(2)
    bursts = []
    for _ in range(24):  # noise bursts dying away as in a 0.5 s room, then quiet
        n = int(rate * rng.uniform(0.1, 0.3))
        tail = np.exp(-np.arange(int(0.5 * rate)) * 6.9 / (0.5 * rate))
        bursts += [rng.normal(0, 4000, n), rng.normal(0, 4000, len(tail)) * tail,
                   rng.normal(0, 20, int(rate * 0.2))]
    x = np.concatenate(bursts)
    outs = []
    for chunk in (Dereverb(rate).hop, int(rate * 0.03), 1001, len(x)):
        d = Dereverb(rate)
        outs.append(through(d, x, chunk))
        assert d.room is not None and d.room.rt60 is not None  # measured on the way
    assert all(np.array_equal(o, outs[0]) for o in outs[1:])

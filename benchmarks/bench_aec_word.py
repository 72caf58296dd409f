"""What the echo canceller leaves of a word said over the coach, offline.

Live, a "pause" said over the coach's sentence with the canceller on is mostly turned down by
the level check as "only the coach's echo". Two suspects: AEC3's own suppression during double
talk takes the word down with the echo, or the level check's floor (the echo assumed is never
less than 1/8 of the echo before cancelling, TalkSettings.cancelled_share) is too high.

Five coach sentences through one room (as tests/test_echocancel.py), "pause" (en-gb) at -6, 0
and +6 dB against the echo in one of them, through the real canceller (livekit's AEC3, dated
with 1 ms of jitter) twice: with the word and without. Per 20 ms frame of the word: what is
left of it (with minus without) against the word alone, the residual echo there, and the share
of frames whose cancelled level is over 1.5 x 1/8 of the echo in that very frame. Then the
level check itself, as the Listener wires it (a TalkMeter on the cancelled stream over one on
the microphone): the seconds of the word it counts as the person's (0.06 s are needed), the
coupling it learnt after cancelling, and its floor (1/8 of the coupling before it). Its echo
is the coupling times the loudest coach frame within 0.3 s, not the echo of the frame itself.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_aec_word.py

Prints one line per case. About a minute.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from audio_check import echo_cancelled, room_ir, speech  # noqa: E402

from voicecoach.coachlevels import clip_levels  # noqa: E402
from voicecoach.doubletalk import TalkMeter  # noqa: E402
from voicecoach.speaker import SpeechLog, Utterance  # noqa: E402

RATE = 16000
LINES = [
    "Welcome. Let's start with the calf stretch, with one hand on the wall.",
    "Lean forward slowly until you feel a gentle stretch in the calf of the back leg.",
    "If the pain turns sharp at any point, stop and say it hurts.",
    "Keep the back heel on the floor and the knee straight while you hold it.",
    "Breathe out slowly and let the calf relax a little more with each breath.",
]
FRAME = RATE // 50  # 20 ms


def frames(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME
    return np.asarray(np.sqrt(np.mean(x[: n * FRAME].reshape(n, FRAME) ** 2, axis=1) + 1e-9))


def session(db: int, person_at: int, log: SpeechLog | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The echo of the coach's lines, the person's word alone (`db` against the echo of line
    `person_at`), and what the speaker played, sample for sample; `log` is told the clips."""
    ir = 0.5 * room_ir(np.random.default_rng(7), RATE)  # one room: a canceller learns it
    word = speech("pause", "en-gb", 175, RATE)
    echoes, words, played = [np.zeros(RATE // 2)], [np.zeros(RATE // 2)], [np.zeros(RATE // 2)]
    t = 0.5
    for k, text in enumerate(LINES):
        clip = speech(text, "en-us", 175, RATE)
        if log is not None:
            log.record(Utterance(text, "instruction", t, t, t + len(clip) / RATE,
                                 levels=clip_levels(clip, RATE)))
        echo = np.convolve(clip, ir)
        t += (len(echo) + RATE) / RATE
        said = np.zeros(len(echo))
        if k == person_at:
            at = int(1.5 * RATE)
            loud = echo[np.abs(echo) > 0.05 * np.abs(echo).max()]
            gain = np.sqrt(np.mean(loud**2)) / np.sqrt(np.mean(word[np.abs(word) > 500] ** 2))
            said[at : at + len(word)] = word * gain * 10 ** (db / 20)
        echoes += [echo, np.zeros(RATE)]
        words += [said, np.zeros(RATE)]
        played += [np.concatenate([clip, np.zeros(len(echo) - len(clip))]), np.zeros(RATE)]
    return np.concatenate(echoes), np.concatenate(words), np.concatenate(played)


def cancelled(mic: np.ndarray, played: np.ndarray) -> np.ndarray:
    noisy = mic + np.random.default_rng(4).normal(0, 30, len(mic))  # a quiet room's floor
    pcm = np.clip(noisy, -32767, 32767).astype(np.int16).tobytes()
    out = echo_cancelled(pcm, played / 32768.0, RATE, np.random.default_rng(4))
    return np.frombuffer(out, dtype=np.int16).astype(np.float64)


def level_check(raw: np.ndarray, clean: np.ndarray, log: SpeechLog, word: np.ndarray
                ) -> tuple[float, float, float]:
    """The level check over the word: (seconds counted as the person's, coupling after the
    canceller, its floor), fed 30 ms chunks as the Listener does."""
    raw_talk = TalkMeter(RATE, log.overlapping)
    talk = TalkMeter(RATE, log.overlapping, uncancelled=raw_talk)
    said = np.flatnonzero(np.abs(word) > 0.05 * np.abs(word).max())
    t0, t1 = said[0] / RATE, said[-1] / RATE
    step = int(0.03 * RATE)
    raw16 = np.clip(raw, -32767, 32767).astype(np.int16)
    clean16 = np.clip(clean, -32767, 32767).astype(np.int16)
    for i in range(0, min(len(raw16), len(clean16)) - step + 1, step):
        at = (i + step) / RATE
        raw_talk.feed(raw16[i : i + step].tobytes(), at)
        talk.feed(clean16[i : i + step].tobytes(), at)
        if at >= t1 + 0.1:
            break
    over = talk.talking(t0, t1) or 0.0
    c, c_raw = talk.coupling(before=t0) or 0.0, raw_talk.coupling(before=t0) or 0.0
    return over, c, talk.settings.cancelled_share * c_raw


def main() -> None:
    for db in (-6, 0, 6):
        for person_at in (1, 2, 3, 4):
            log = SpeechLog()
            echo, word, played = session(db, person_at, log)
            with_word, without = cancelled(echo + word, played), cancelled(echo, played)
            n = min(len(with_word), len(without))
            alone = frames(word[:n])
            in_word = alone > 0.3 * alone.max()
            left = frames(with_word[:n] - without[:n])[in_word]
            through = 20 * np.log10(np.median(left) / np.median(alone[in_word]))
            echo_there = frames(echo[:n])[in_word]
            left_of_echo = np.median(frames(without[:n])[in_word])
            residual = 20 * np.log10(left_of_echo / np.median(echo_there))
            # The level check's view with the canceller: the cancelled level against 1.5 x the
            # floor of 1/8 of the echo before cancelling.
            over = np.mean(frames(with_word[:n])[in_word] > 1.5 * echo_there / 8)
            seconds, c, floor = level_check(echo + word, with_word, log, word)
            print(f"{db:+d} dB, line {person_at}: the word through the canceller "
                  f"{through:+.1f} dB, the echo left there {residual:+.1f} dB, frames over "
                  f"1/8 of their echo {over:.0%} of {in_word.sum()}; the level check: "
                  f"{seconds:.2f} s the person's, coupling {c:.4f} over a floor of "
                  f"{floor:.4f}", flush=True)


if __name__ == "__main__":
    main()

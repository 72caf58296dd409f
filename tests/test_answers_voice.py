"""Safety and pain questions answered aloud, with the coach's own voice in the room too.

The coach asks through its real speaker; its output is looped into the room, so the
microphone hears the questions ("... from zero to ten?") as well as the person's answers.
Only the person's words may count as answers.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from audio_check import TV_NEWS
from harness import Pulse
from room import Room

from voicecoach import safety
from voicecoach.care import Care
from voicecoach.cli import parser
from voicecoach.commands import CommandEvent
from voicecoach.library import load_builtin
from voicecoach.session import NullView

# Once opt-in: failed 3 of 7 alone (2026-11-25), the first question's last word, "touch",
# heard as "stop" over the coach's voice. Barge-in is off while a question waits; with that
# and pocketsphinx's idle restart fixed (2026-12-01), 8 of 8 runs passed.
pytestmark = [pytest.mark.audio]


def test_red_flags_and_pain_answered_by_voice(pulse: Pulse, clip_cache: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch):
    # Every hypothesis on stderr, shown only on failure (once, 2026-12-01: the pain question
    # was never answered, and nothing told why).
    monkeypatch.setenv("VOICECOACH_LISTEN_DEBUG", "2")
    room = Room(pulse, tmp_path)  # the coach's voice looped into the room, no session
    clock, log = room.clock, room.log
    args = parser().parse_args(["--data-dir", str(tmp_path / "data")])
    care = Care(args, clock, room.speaker, room.inbox, log, NullView(), lambda t: None, True,
                expect=room.listener.expect)
    got: list[tuple[str, Any]] = []
    for name in ("yes_no", "number"):
        ask = getattr(care.asker, name)
        setattr(care.asker, name, lambda q, ask=ask: got.append((q, ask(q))) or got[-1][1])
    # Each question, and what the person says once the coach has finished asking it.
    script = [(f.question, "no") for f in safety.RED_FLAGS]
    script.append((safety.PAIN_BEFORE_QUESTION, "three"))

    spoken: list[tuple[float, str]] = []

    def person() -> None:
        for question, answer in script:
            end = time.monotonic() + 60
            while time.monotonic() < end:
                asked = [e for e in list(log.events)
                         if e["event"] == "say" and e["text"] == question and "end" in e]
                if asked and clock.now() > asked[-1]["end"] + 1.0:  # a person takes a moment
                    break
                time.sleep(0.02)
            spoken.append((round(clock.now(), 2), answer))
            room.say(answer)

    # Everything the listener put in the inbox, with when: shown if the test fails.
    heard: list[tuple[float, str, str]] = []
    put = room.inbox.put

    def spy(event: CommandEvent) -> None:
        heard.append((round(clock.now(), 2), event.command.value, event.heard))
        put(event)

    room.inbox.put = spy  # type: ignore[method-assign]
    room.listener.start()
    thread = threading.Thread(target=person, daemon=True)
    thread.start()
    try:
        routine = care.before(load_builtin().find_routine("back-of-knee"))
    finally:
        room.close()
        care.recorder.close()
    thread.join(timeout=5)
    assert routine is not None, (got, heard)
    said = [(e["text"][:24], e.get("start"), e.get("end"), e.get("cut"))
            for e in list(log.events) if e["event"] == "say"]
    assert got == [(f.question, False) for f in safety.RED_FLAGS] + [
        (safety.PAIN_BEFORE_QUESTION, 3)], (heard, said, room.notices, spoken)


def test_a_question_talked_over_says_why_it_got_no_answer(pulse: Pulse, clip_cache: Path,
                                                         tmp_path: Path):
    """A user's run-through (2026-12-07): with a TV on, 8 answers of 8 were not taken and the
    safety questions went by unanswered, with no word of why. Words heard after a question
    and no answer among them: the coach says so. Its own question, heard by the microphone
    too, is no such talk."""
    import subprocess

    from voicecoach.answers import TALK_OVER

    room = Room(pulse, tmp_path)  # the coach's voice looped into the room, no session
    care = Care(parser().parse_args(["--data-dir", str(tmp_path / "data")]), room.clock,
                room.speaker, room.inbox, room.log, NullView(), lambda t: None, True,
                expect=room.listener.expect, talked=room.listener.heard_words_since)
    care.asker.timeout = 5.0
    question = safety.RED_FLAGS[0].question
    wav = tmp_path / "tv.wav"
    subprocess.run(["espeak-ng", "-v", "en-gb-x-rp", "-w", str(wav), TV_NEWS * 3], check=True)

    def said() -> list[str]:
        return [e["text"] for e in list(room.log.events) if e["event"] == "say"]

    room.listener.start()
    try:
        assert care.asker.yes_no(question) is None  # nobody there, nothing on
        quiet = said()
        tv = pulse.play_into_room(wav, wait=False)
        try:
            assert care.asker.yes_no(question) is None
        finally:
            tv.kill()
    finally:
        room.close()
        care.recorder.close()
    assert not [t for t in quiet if t.startswith(TALK_OVER)], quiet
    assert quiet.count(question) == 2
    talked = said()[len(quiet):]
    assert [t for t in talked if t.startswith(TALK_OVER)], talked

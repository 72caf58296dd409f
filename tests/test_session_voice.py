"""The whole coach, both ways, in real time: it speaks into the room and listens to the room.

The coach's speaker output is looped into the `room` sink, so the microphone hears the coach
as it would in a real room; spoken commands (espeak-ng) are played into the room as well.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from harness import Pulse
from room import Person, Room, calf

from voicecoach.care import STOP_QUESTION, Care
from voicecoach.cli import parser
from voicecoach.commands import Command, CommandEvent
from voicecoach.session import NullView

# Both run in CI (about 1.5 min). The voice-driven session also fails on any command the
# coach's own voice would fire, since the commands must be exactly the five spoken ones.
pytestmark = [pytest.mark.audio]


def test_voice_commands_drive_a_running_session(pulse: Pulse, clip_cache: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch):
    # Every hypothesis on stderr, shown only on failure: a miss is then seen for what it was.
    monkeypatch.setenv("VOICECOACH_LISTEN_DEBUG", "2")

    def driver(room: Room) -> None:
        room.expect(change="hold")
        time.sleep(2.5)
        person.command("pause", change="paused")  # while the coach is counting: barge-in
        time.sleep(1.0)
        person.command("continue", change="resumed")
        room.expect(change="hold")  # set two
        time.sleep(2.5)
        person.command("pause", change="paused")
        time.sleep(1.0)
        person.command("next", "en-us+f2", change="set_done")  # skips the rest of set two
        room.expect(change="hold")  # set three
        time.sleep(2.5)
        # A spoken "stop" pauses, then asks (Session.on_stop); "yes" ends the session.
        person.command("stop", change="paused")
        # The keyword search pauses for a "stop" over a count before the recognizer has it,
        # and under load the recognizer's "stop", placed late, was then weighed against the
        # coach's "Paused." and turned down (CI, 2026-12-07, twice, decoding 0.8 s behind):
        # paused, and not asked. A person hears "Paused." and says it again.
        # (Waiting for the "stop" itself, not the question: a "stop" said while the question
        # is being asked ends the session, as a confirmation.)
        end = time.monotonic() + 6.0
        while not room.events(event="command", name="stop") and time.monotonic() < end:
            time.sleep(0.05)
        if not room.events(event="command", name="stop"):
            person.missed.append(f"'stop' only paused, at {room.clock.now():.1f} s")
            person.command("stop", event="command", name="stop")
        room.expect(event="say", text=STOP_QUESTION)  # logged once it has been said
        time.sleep(0.7)  # a person takes a moment
        person.command("yes", event="session_end")

    room = Room(pulse, tmp_path, calf(8.0, 3, rest=3.0))
    care = Care(parser().parse_args(["--data-dir", str(tmp_path / "data")]), room.clock,
                room.speaker, room.inbox, room.log, NullView(), lambda t: None, True,
                expect=room.listener.expect)
    assert room.session is not None
    room.session.on_stop = care.confirm_stop
    room.speaker.prepare([STOP_QUESTION])
    # Like a person, it says a command again when nothing happened, up to three times. Misses
    # are rare and seen only on the loaded CI machine, with the 5-minute soak beside it: CI
    # 2026-12-01 "next" in the f2 voice once; 2026-12-05 two of the six commands once each
    # (which, not recorded then: the message now names them and how far decoding trailed).
    # Here none in 9 runs beside the soak, 5 of them with a busy loop on one core too. The
    # accuracy itself is measured by benchmarks/bench_listen.py; this bounds regressions.
    person = Person(room, attempts=3)
    completed = room.run(driver)
    voice = [(e["name"], e["source"]) for e in room.events(event="command")]
    # Seen with -rA: how near the limit a passing run was.
    print("said again:", person.missed, f"lag {room.listener.lag_max:.2f} s")
    expected = [("pause", "voice"), ("resume", "voice"), ("pause", "voice"),
                ("next", "voice"), ("stop", "voice")]
    # "stop" said over a count may pause the coach first (the keyword search pauses for
    # either word, voicecoach/bargein.py); the recognizer's "stop" then ends the session.
    assert voice in (expected, [*expected[:4], ("pause", "voice"), ("stop", "voice")]), \
        (voice, person.failures, person.missed)
    assert person.repeats <= 2, (person.missed, room.notices,
                                 f"decoding trailed the mic by up to {room.listener.lag_max:.2f} s")
    done = room.events(change="set_done")
    # Set three, stopped by voice, is kept as cut short with what was done of it.
    assert [(d["set"], d["skipped"]) for d in done] == [(1, False), (2, True), (3, True)]
    assert completed is False and room.events()[-1]["event"] == "session_end"
    assert room.session.stopped_by == "voice"
    care.recorder.close()


def test_it_hurts_said_while_the_coach_counts_stops_the_exercise(
        pulse: Pulse, clip_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Pain comes mid-hold, while the coach counts every second; "it hurts" was turned down
    there ("the coach was speaking": a user's run-through), though the welcome says to say it
    at any point."""
    monkeypatch.setenv("VOICECOACH_LISTEN_DEBUG", "2")

    def driver(room: Room) -> None:
        room.expect(change="hold")
        time.sleep(3.0)
        person.command("it hurts", event="command", name="pain")

    room = Room(pulse, tmp_path, calf(12.0, 1))
    person = Person(room, attempts=3)
    room.run(driver)
    commands = [(e["name"], e["source"]) for e in room.events(event="command")]
    # The keyword search over the coach often finds "it hurts" as "pause" a moment before it
    # finds "it hurts" (bargein.py); under load (CI beside the soak) only the pause was
    # seen once: said again while paused, "it hurts" then stops the exercise, as a person
    # would do.
    assert commands in ([("pain", "voice")], [("pause", "voice"), ("pain", "voice")]), (
        commands, person.failures, person.missed)
    hold = room.events(change="hold")[0]["t"]
    first = room.events(event="command")[0]["t"]
    pain = room.events(event="command", name="pain")[0]["t"]
    counts = [e["start"] for e in room.events(event="say", kind="count")]
    # Heard in the hold, between counts the coach was saying (a count a second).
    assert hold + 3.0 < first < hold + 12.0 and any(first - 1.5 < c < first for c in counts)
    assert not room.events(change="set_done") or room.events(change="set_done")[0]["t"] >= pain


def test_a_command_said_just_after_the_coach_stops_talking_is_taken(
        pulse: Pulse, clip_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """People answer as soon as the coach stops. A user's run-through (2026-12-06): a "repeat"
    said half a second after the coach's "Rest for ten seconds. Next, set two of three." was
    turned down as not said on its own (the coach's words, heard by the microphone, were in
    the same utterance) and had to be said again; so was every such command unless another
    had fired just before. Then a "next" 0.3 s after the coach's "Paused."."""
    monkeypatch.setenv("VOICECOACH_LISTEN_DEBUG", "2")

    def after(room: Room, start: str, delay: float) -> None:
        """Wait until the coach has said a line starting with `start`, then `delay` more."""
        end = time.monotonic() + 40.0
        while time.monotonic() < end:
            said = [e for e in room.events(event="say") if e["text"].startswith(start)
                    and e.get("end") is not None]
            if said:
                time.sleep(max(0.0, said[-1]["end"] + delay - room.clock.now()))
                return
            time.sleep(0.01)
        raise AssertionError(f"the coach never said {start!r}")

    def driver(room: Room) -> None:
        after(room, "Rest for", 0.3)  # set one ran to its end: no command before this one
        person.command("repeat", event="command", name="repeat")
        room.expect(change="hold")  # set two
        time.sleep(2.5)
        person.command("pause", change="paused")
        after(room, "Paused.", 0.3)
        person.command("next", event="command", name="next")

    room = Room(pulse, tmp_path, calf(6.0, 2, rest=10.0))
    person = Person(room, attempts=3)
    room.run(driver)
    commands = [(e["name"], e["source"]) for e in room.events(event="command")]
    print("said again:", person.missed, f"lag {room.listener.lag_max:.2f} s")
    assert commands == [("repeat", "voice"), ("pause", "voice"), ("next", "voice")], (
        commands, person.failures, person.missed, room.notices)
    # At the first try: before the fix the "repeat" was turned down every time.
    assert not [m for m in person.missed if "repeat" in m], (person.missed, room.notices)
    assert person.repeats <= 1, (person.missed, room.notices)


# Once opt-in ("three" heard as "repeat"): the coach's words are now the recognizer's fillers and
# only barge-in phrases fire while it speaks; 3 of 3 runs passed (2026-12-01).
# A reverberant room: the coach heard along five paths, 75 ms to about 360 ms late, each
# quieter (Pulse.echo_coach_into_room; bench_bargein_live.py --room-taps).
ROOM_TAPS = [(20, 1.0), (40, 0.5), (70, 0.35), (110, 0.25), (160, 0.15)]


@pytest.mark.parametrize("taps", [None, ROOM_TAPS], ids=["one path", "reverberant"])
def test_a_whole_session_heard_by_its_own_microphone_fires_no_command(
        pulse: Pulse, clip_cache: Path, tmp_path: Path, taps: list[tuple[int, float]] | None):
    room = Room(pulse, tmp_path, calf(5.0, 2, rest=3.0), taps=taps)
    completed = room.run(lambda room: None)
    said = [(round(e["start"], 2), round(e["end"], 2), e["text"]) for e in room.events(event="say")]
    heard = [(e["t"], e["name"], e.get("heard")) for e in room.events(event="command")]
    assert heard == [], said
    assert completed is True
    assert len(room.events(event="say")) > 20  # it really talked, welcome and all
    # The clips' levels reached the listener with their times: it learnt the coach's echo, so
    # a barge-in now needs the microphone louder than that echo.
    talk = room.listener.pipeline.talk
    assert talk is not None and talk.coupling() is not None
    # The keyword search for barge-in over its sentences was there, and found nothing to act on.
    assert room.listener.pipeline.barge is not None
    # Its own voice, echo and room tail included, is no other voice in its silences.
    voice = room.listener.pipeline.room
    assert voice is not None and voice.talking_on(room.clock.now()) is None, (
        voice.share(room.clock.now()))


def test_sped_up_the_coach_still_knows_its_own_voice(pulse: Pulse, clip_cache: Path,
                                                    tmp_path: Path):
    """A user's run-through (2026-12-07): at --speed 4 the coach took its own "stop" and "it
    hurts" for commands at every exercise. The listener timed the audio in real seconds and
    the coach's clips in the session's, four times faster, so its echo fell outside them."""
    room = Room(pulse, tmp_path, calf(12.0, 2, rest=8.0), speed=4.0)
    completed = room.run(lambda room: None, limit=60.0)
    said = [(round(e["start"], 2), round(e["end"], 2), e["text"]) for e in room.events(event="say")]
    heard = [(e["t"], e["name"], e.get("heard")) for e in room.events(event="command")]
    assert heard == [], said
    assert completed is True
    assert any("it hurts" in text for *_, text in said)  # the welcome's words were said


def test_the_pause_reminder_in_the_coachs_voice_does_not_resume_it(pulse: Pulse,
                                                                   clip_cache: Path,
                                                                   tmp_path: Path):
    """Paused for 45 s, the coach says "Still paused. Say resume when you're ready.": while
    paused "resume" is a command in play, and the microphone hears the coach say it."""
    from voicecoach.session_pause import PAUSE_REMINDER, REMINDERS

    room = Room(pulse, tmp_path, calf(12.0, 1, rest=4.0), speed=4.0)

    def driver(room: Room) -> None:
        room.expect(timeout=40.0, event="state", change="hold")
        room.inbox.put(CommandEvent(Command.PAUSE, source="key"))
        room.expect(timeout=PAUSE_REMINDER / 4 + 10.0, event="say", text=REMINDERS["voice"])
        time.sleep(3.0)  # its echo and the room's tail are over; still paused
        room.inbox.put(CommandEvent(Command.RESUME, source="key"))

    completed = room.run(driver, limit=90.0)
    said = [(round(e["start"], 2), round(e["end"], 2), e["text"]) for e in room.events(event="say")]
    heard = [(e["t"], e["name"], e.get("heard")) for e in room.events(event="command")
             if e["source"] == "voice"]
    assert heard == [], said
    assert completed is True
    assert [e["change"] for e in room.events(event="state")
            if e["change"] in ("paused", "resumed")] == ["paused", "resumed"]
    assert len(room.events(event="say", text=REMINDERS["voice"])) == 1


#: What the TV says: talk about knees, in the product's own words (some of the coach's words).
TV = ("Pain behind the knee has many causes. Most of them are not serious and settle with "
      "rest, gentle stretching and time. A swelling there may be a cyst, which can burst and "
      "make the calf sore. A pulled hamstring or calf muscle heals in a few weeks, so stop "
      "and rest if it hurts, then start again slowly. See a doctor straight away if the calf "
      "is hot, red and swollen, or if you cannot stand on the leg. ")


def test_a_tv_talking_all_through_a_session_fires_no_command(
        pulse: Pulse, clip_cache: Path, tmp_path: Path):
    """A TV as loud as the coach's echo talks from before the welcome to after the end, in
    another voice: its words found as "pause" over the coach are not taken (roomvoice.py).
    The listener hears the room for 3 s first (the TV was on before the session started): the
    coach leaves only about a second of silence in its first 20 s."""
    import subprocess

    wav = tmp_path / "tv.wav"
    subprocess.run(["espeak-ng", "-v", "en-gb-x-rp", "-w", str(wav), TV * 3], check=True)
    room = Room(pulse, tmp_path, calf(8.0))
    tv = pulse.play_into_room(wav, wait=False)
    try:
        room.listener.start()
        time.sleep(3.0)
        completed = room.run(lambda room: None)
    finally:
        tv.kill()
    heard = [(e["t"], e["name"], e.get("heard")) for e in room.events(event="command")]
    assert heard == []
    assert completed is True
    # The listener heard another voice in the coach's silences.
    voice = room.listener.pipeline.room
    assert voice is not None and voice.talking_on(room.clock.now()) is not None, (
        voice.share(room.clock.now()))

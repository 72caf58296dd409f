"""Another voice in the coach's silences (roomvoice.py), on espeak-ng speech and noise."""

from __future__ import annotations

import subprocess
from typing import Any

import numpy as np
import pytest

from voicecoach.roomvoice import RoomSettings, RoomVoice
from voicecoach.speaker import SpeechLog, Utterance

RATE = 16000
CHUNK = 1600
ROOM = RoomSettings()

needs_espeak = pytest.mark.skipif(
    subprocess.run(["which", "espeak-ng"], capture_output=True).returncode != 0,
    reason="espeak-ng not installed",
)


def coach_log(seconds: float) -> SpeechLog:
    """The coach speaking 2 s of every 4 (a line, then its pause), from 0.5 s on."""
    log = SpeechLog()
    t = 0.5
    while t < seconds:
        log.record(Utterance(f"line at {t:.1f}", "instruction", t, t, t + 2.0))
        t += 4.0
    return log


def fed(audio: Any, log: SpeechLog, settings: RoomSettings = ROOM) -> tuple[RoomVoice, float]:
    """A RoomVoice fed `audio` (float samples on the int16 scale) chunk by chunk."""
    room = RoomVoice(RATE, log.overlapping, settings)
    pcm = np.clip(audio, -32767, 32767).astype(np.int16).tobytes()
    at = 0.0
    for i in range(0, len(pcm), 2 * CHUNK):
        piece = pcm[i : i + 2 * CHUNK]
        at = (i + len(piece)) / 2 / RATE
        room.feed(piece, at)
    return room, at


@needs_espeak
def test_a_voice_talking_through_the_coach_s_silences_is_told_from_a_quiet_room() -> None:
    from audio_check import speech

    rng = np.random.default_rng(1)
    tv = speech("The knee is a hinge joint. Pain at the back of it has many causes, and most "
                "of them get better with time, gentle exercise and patience. Swelling there "
                "can come from a cyst, and a strained muscle heals in a few weeks.",
                "en-gb-x-rp", 175, RATE)
    seconds = len(tv) / RATE
    log = coach_log(seconds)
    hiss = rng.normal(0, 30, len(tv))
    # Nothing to say until enough of the coach's silence was heard.
    assert fed(hiss[: int(1.5 * RATE)], log)[0].share(1.5) is None
    # The TV talking on, heard in every silence of the coach's: mostly voiced.
    room, now = fed(tv + hiss, log)
    tv_share = room.share(now)
    assert tv_share is not None and tv_share > 0.3, tv_share
    assert room.talking_on(now) == tv_share
    # The same silences in a quiet room, with one "pause" said in one of them: hardly.
    quiet = hiss.copy()
    word = speech("pause", "en-us", 175, RATE)
    at = int(3.0 * RATE)  # in the silence from 2.5 s to 4.5 s
    quiet[at : at + len(word)] += word
    room, now = fed(quiet, log)
    quiet_share = room.share(now)
    assert quiet_share is not None and quiet_share < 0.1, quiet_share
    assert room.talking_on(now) is None
    # The coach's own voice (the TV's sound, all in its clips) is no other voice.
    coach_only = hiss.copy()
    for u in log.overlapping(0.0, seconds):
        a, b = int((u.start or 0.0) * RATE), int((u.end or 0.0) * RATE)
        coach_only[a:b] += tv[a:b]
    room, now = fed(coach_only, log)
    assert (room.share(now) or 0.0) < 0.05
    # Silence older than `age` counts no more: the TV was turned off.
    assert room.share(now + 60.0) is None
    # ...but seconds held (paused, a question waiting) do not count: "resume" after a minute
    # paused over a TV is said over the same TV. (Here nothing heard while held counts, as
    # until 2026-12-07; now a window of it does, and the quiet heard says the TV went off.)
    room, now = fed(tv + hiss, log, RoomSettings(while_held=False))
    room.hold(True)
    for k in range(1, 61):
        room.feed(np.zeros(RATE, dtype=np.int16).tobytes(), now + k)
    assert room.share(now + 60.0) == tv_share
    # Running again, it ages as ever: a "stop" over the coach must not be turned down for a TV
    # heard before the pause (turned off meanwhile, maybe).
    room.hold(False)
    assert room.share(now + 60.0) is None and room.share(now + 17.0) == tv_share
    # Held for longer than `held` (2 min): the TV may well be off; the rest ages it again.
    room.hold(True)
    for k in range(61, 141):
        room.feed(np.zeros(RATE, dtype=np.int16).tobytes(), now + k)
    assert room.share(now + 130.0) == tv_share
    for k in range(141, 161):
        room.feed(np.zeros(RATE, dtype=np.int16).tobytes(), now + k)
    assert room.share(now + 137.0) == tv_share and room.share(now + 151.0) is None
    # As shipped: 6 s of quiet heard while paused say no other voice talks now (while a
    # question waits, nothing heard is kept: the answer).
    room, now = fed(tv + hiss, log)
    room.hold(True, paused=True)
    for k in range(1, 6):
        room.feed(np.zeros(RATE, dtype=np.int16).tobytes(), now + k)
    assert room.share(now + 5.0) == tv_share
    room.feed(np.zeros(RATE, dtype=np.int16).tobytes(), now + 6)
    assert room.share(now + 6.0) == 0.0 and room.talking_on(now + 6.0) is None


@needs_espeak
def test_a_long_pause_looks_at_what_was_heard_while_paused() -> None:
    """Paused for longer than the TV heard before can count (RoomSettings.age + held), the
    silences heard while paused say whether it still talks: "resume" after five minutes
    paused over the same TV is said over it. Once running, they are dropped."""
    from audio_check import speech

    rng = np.random.default_rng(3)
    tv = speech("The knee is a hinge joint. Pain at the back of it has many causes, and most "
                "of them get better with time, gentle exercise and patience.", "en-gb-x-rp",
                175, RATE)
    log = coach_log(len(tv) / RATE)
    room, now = fed(tv + rng.normal(0, 30, len(tv)), log)
    assert room.talking_on(now) is not None
    room.hold(True, paused=True)
    quiet = np.clip(rng.normal(0, 30, 170 * RATE), -32767, 32767).astype(np.int16).tobytes()
    talk = np.clip(np.tile(tv, 2)[: 8 * RATE] + rng.normal(0, 30, 8 * RATE), -32767,
                   32767).astype(np.int16).tobytes()

    def pause(pcm: bytes, start: float) -> float:
        for i in range(0, len(pcm), 2 * CHUNK):
            room.feed(pcm[i : i + 2 * CHUNK], start + (i + 2 * CHUNK) / 2 / RATE)
        return start + len(pcm) / 2 / RATE

    # 170 s paused in a quiet room (the TV turned off): nothing from before counts now, and
    # the quiet heard meanwhile holds no other voice.
    t = pause(quiet, now)
    assert room.share(t) is not None and room.talking_on(t) is None
    # The TV back on for 8 s, still paused: another voice talks again.
    t = pause(talk, t)
    assert room.talking_on(t) is not None
    # Running again: what was heard while paused is dropped at once (a "stop" over the coach
    # is not turned down for it), and the rest aged out; the next pause starts afresh.
    room.hold(False)
    assert room.share(t) is None
    room.feed(np.zeros(2 * CHUNK, dtype=np.int16).tobytes(), t + 0.1)
    room.hold(True, paused=True)
    assert room.share(t + 0.1) is None


@needs_espeak
@pytest.mark.parametrize("tail", [0.3, 0.6])
def test_counts_through_a_room_are_no_other_voice_but_a_tv_between_them_is(tail: float) -> None:
    """The coach counting a hold, a count a second, through a room whose echo lasts `tail`
    seconds: only the 0.6 s between counts is silence, and its echo is no other voice."""
    from audio_check import room_ir, speech

    rng = np.random.default_rng(2)
    words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    log, coach = SpeechLog(), np.zeros(11 * RATE)
    for i, word in enumerate(words):
        clip = speech(word, "en-us", 175, RATE)[: RATE // 2]
        at = 0.5 + i
        log.record(Utterance(word, "count", at, at, at + len(clip) / RATE))
        coach[int(at * RATE) : int(at * RATE) + len(clip)] += clip
    echo = np.convolve(coach, room_ir(rng, RATE, tail=tail, reverb=1.0))[: len(coach)]
    hiss = rng.normal(0, 30, len(coach))
    room, now = fed(echo + hiss, log)
    share = room.share(now)
    assert share is not None and room.talking_on(now) is None, share
    tv = speech("Most pain at the back of the knee gets better with rest, gentle exercise "
                "and time. See a doctor if the calf swells, turns red or feels warm, or if "
                "you cannot put weight on the leg at all.", "en-gb-x-rp", 175,
                RATE)[: len(coach)]
    room, now = fed(echo + hiss + 0.5 * np.pad(tv, (0, len(coach) - len(tv))), log)
    assert room.talking_on(now) is not None, room.share(now)


@needs_espeak
def test_the_person_s_own_answers_in_the_coach_s_silences_are_no_other_voice() -> None:
    """Answers to the coach's questions fall in its silences; once heard as answers (or
    commands), they are left out, so a "pause" over the next line still counts."""
    from audio_check import speech

    rng = np.random.default_rng(3)
    seconds = 12.5
    log = coach_log(seconds)
    mic = rng.normal(0, 30, int(seconds * RATE))
    spans = []
    for at, word in ((2.8, "no"), (3.6, "yes please"), (6.8, "no"), (7.5, "not really"),
                     (10.8, "yes")):
        clip = speech(word, "en-gb", 175, RATE)
        mic[int(at * RATE) : int(at * RATE) + len(clip)] += 2.0 * clip
        spans.append((at, at + len(clip) / RATE))
    room, now = fed(mic, log)
    before = room.share(now)
    assert before is not None and before > 0.2, before  # as much voice as a TV's
    for t0, t1 in spans:  # as the Pipeline does for each phrase heard
        room.forget(min(t0, t1 - 0.6) - 0.2, t1 + 0.2)
    after = room.share(now)  # None: too little silence is left to tell
    assert (after is None or after < 0.05) and room.talking_on(now) is None, after


def test_a_barge_in_turned_down_for_another_voice_is_said_now_and_then() -> None:
    from types import SimpleNamespace

    from voicecoach.clock import RealClock
    from voicecoach.commands import Command, Inbox
    from voicecoach.listener import Listener
    from voicecoach.roomvoice import NOTICE, OTHER_VOICE
    from voicecoach.spotter import Spot

    notices: list[str] = []
    pipeline = SimpleNamespace(recognizer=SimpleNamespace(name="scripted"))
    listener = Listener(SimpleNamespace(), pipeline, RealClock(), Inbox(),  # type: ignore[arg-type]
                        notices.append)

    def turned_down(at: float, why: str = f"keyword search: {OTHER_VOICE} (45% of them voiced)"
                    ) -> None:
        listener._other_voice(Spot(Command.PAUSE, "pause", at - 0.4, at, rejected=why))

    turned_down(10.0)
    turned_down(12.0)  # again at once: said once
    turned_down(20.0, "keyword search: only the coach's echo (0.02 s above it)")
    assert notices == [NOTICE]
    turned_down(400.0)  # five minutes on: said again
    assert notices == [NOTICE, NOTICE]
    # A phrase said on its own but no louder than that voice (pipeline.Pipeline._over_room):
    # the TV's own word, or the person's said too softly; said the same way.
    from voicecoach.pipeline import OTHER_LEVEL

    turned_down(800.0, f"{OTHER_VOICE}, and this is {OTHER_LEVEL} (+2.0 dB over its loud level)")
    assert notices == [NOTICE] * 3


@needs_espeak
def test_the_phrase_judged_and_talk_while_asked_are_not_counted_while_paused_kept_apart() -> None:
    """A barge-in said just as a line ends falls partly in the silence: only the silence
    before it is judged. Nothing is kept while a question waits, nor for a second after a
    phrase was taken (the rest of it, what the person adds); what is heard while paused is
    kept apart, and dropped once the session runs again."""
    from audio_check import speech

    rng = np.random.default_rng(5)
    log = coach_log(9.0)
    mic = rng.normal(0, 30, 9 * RATE)
    word = speech("pause", "en-us", 175, RATE)
    at = 6.6  # the second line ends at 6.5 s; its echo is the coach's until 6.8 s
    mic[int(at * RATE) : int(at * RATE) + len(word)] += 2.0 * word
    room, now = fed(mic, log)
    whole, before = room.share(now), room.share(at)
    assert whole is not None and whole > 0.04, whole  # the word in 6 s of silence
    assert before is not None and before < 0.01, before  # the silences before it: nothing
    pcm = np.clip(mic, -32767, 32767).astype(np.int16).tobytes()
    asked = RoomVoice(RATE, log.overlapping)
    asked.hold(True)
    for i in range(0, len(pcm), 2 * CHUNK):
        asked.feed(pcm[i : i + 2 * CHUNK], (i + 2 * CHUNK) / 2 / RATE)
    assert asked.share(now) is None
    held = RoomVoice(RATE, log.overlapping)
    held.hold(True, paused=True)
    for i in range(0, len(pcm), 2 * CHUNK):
        held.feed(pcm[i : i + 2 * CHUNK], (i + 2 * CHUNK) / 2 / RATE)
    # Paused with nothing kept from before: what was heard meanwhile is looked at, and one
    # word of the person's own is no other voice; running again, none of it counts.
    share = held.share(now)
    assert share is not None and held.talking_on(now) is None, share
    held.hold(False)
    assert held.share(now) is None
    after = RoomVoice(RATE, log.overlapping)
    for i in range(0, len(pcm), 2 * CHUNK):
        t = (i + 2 * CHUNK) / 2 / RATE
        after.feed(pcm[i : i + 2 * CHUNK], t)
        if abs(t - (at + 0.2)) < 1e-6:  # "pause" taken 0.2 s into the word: the rest is its own
            after.forget(at - 0.2, t)
    share = after.share(now)
    assert share is not None and share < 0.01, share


@needs_espeak
def test_the_person_s_own_talk_while_paused_stops_before_their_command() -> None:
    """Paused in a quiet room, the person tells someone at the door about a parcel: those
    4 s are voiced, and would make a "next" said 2 s later one no louder than "another voice"
    (bench_talk_paused.py). A voice that stopped in the `near` seconds before the phrase is
    not taken for one that talks on: what was kept before the pause counts instead. A TV
    that talks on up to the phrase still does."""
    from audio_check import TV_NEWS, speech

    rng = np.random.default_rng(7)
    talk = speech("Sorry, that was my neighbour at the door, asking about a parcel for his "
                  "daughter.", "en-us", 175, RATE)
    tv = speech(TV_NEWS, "en-gb-x-rp", 175, RATE)

    def paused(before: Any, then: Any, settings: RoomSettings = ROOM) -> tuple[RoomVoice, float]:
        """`before` heard while the coach runs (12 s), then paused: `then`."""
        room, now = fed(before[: 12 * RATE] + rng.normal(0, 30, 12 * RATE), coach_log(12.0),
                        settings)
        room.hold(True, paused=True)
        pcm = np.clip(then + rng.normal(0, 30, len(then)), -32767, 32767).astype(np.int16)
        for i in range(0, len(pcm), CHUNK):
            now += len(pcm[i : i + CHUNK]) / RATE
            room.feed(pcm[i : i + CHUNK].tobytes(), now)
        return room, now

    quiet = np.zeros(12 * RATE)
    aside = np.concatenate([np.zeros(8 * RATE), talk, np.zeros(2 * RATE)])
    room, now = paused(quiet, aside)
    assert room.talking_on(now) is None and room.loud(now, 90.0) is None
    # As until now (no `near`): the person's own words were another voice.
    room, now = paused(quiet, aside, RoomSettings(near=0.0))
    assert room.talking_on(now) is not None
    # With a TV heard before the pause (and still counted), a voice heard while paused that
    # stops is taken for a lull of the TV's: its next word must not act.
    room, now = paused(np.tile(tv, 2), aside)
    assert room.talking_on(now) is not None
    lull = np.concatenate([np.tile(tv, 2)[: 12 * RATE] * 0.1, np.zeros(2 * RATE)])
    room, now = paused(np.tile(tv, 2) * 0.1, lull)
    assert room.talking_on(now) is not None
    # ...and its loud level is the window's, not the lull's (`drop` looks only where the TV
    # talks about as much as in the window).
    loud = room.loud(now, 90.0)
    assert loud is not None and loud > 40.0, loud  # the TV: 46 dB; the lull: about 30
    # A TV that talks on while paused, up to the phrase: another voice.
    on = np.tile(tv, 2)[: 16 * RATE] * 0.1  # 20 dB under the person
    room, now = paused(quiet, on)
    assert room.talking_on(now) is not None
    tv_loud = room.loud(now, 90.0)
    # The person's talk over it: how loud the other voice is now is the TV's level, not
    # that of the person's talk 2 s before (a "next" 20 dB over the TV is taken). Without
    # `drop`, the talk's.
    over = on + np.concatenate([np.zeros(8 * RATE), talk, np.zeros(16 * RATE)])[: len(on)]
    now_loud = paused(quiet, over)[0].loud(now, 90.0)
    was = paused(quiet, over, RoomSettings(drop=100.0))[0].loud(now, 90.0)
    assert tv_loud is not None and now_loud is not None and was is not None
    assert abs(now_loud - tv_loud) < 3.0 and was > tv_loud + 12.0, (tv_loud, now_loud, was)

"""A session paused over a TV (real espeak-ng speech through real pocketsphinx): the TV's own
words do not act, and "resume" is heard after a pause longer than the room's memory of the TV
(roomvoice.RoomSettings.while_held, foreground.ForegroundSettings.paused;
benchmarks/bench_tv_paused.py measures both on 4 voices and 4 TV levels)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from voicecoach.pipeline import FOREGROUND, ROOM
from voicecoach.roomvoice import RoomSettings

sys.path.insert(0, str(Path(__file__).resolve().parent))

RATE = 16000

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "espeak-ng"], capture_output=True).returncode != 0
    or importlib.util.find_spec("pocketsphinx") is None,
    reason="needs espeak-ng and pocketsphinx",
)


def heard_while_paused(tv_db: float, pause: float, room: RoomSettings = ROOM,
                       phrases: tuple[str, ...] = ("resume",), voice: str = "en-us",
                       paused_rule: bool = True) -> tuple[list[tuple[str, float]], list[float]]:
    """(command, session time) of what fired once the session paused, and when the "resume"
    was said (start of its sound): the coach's lines, "Paused.", `pause` seconds of the TV
    alone, then `phrases` in `voice` (audio_check.paused_over_tv)."""
    from audio_check import listen_paused, paused_over_tv

    data, log, paused_at, truth = paused_over_tv(phrases, voice, tv_db, 0, pause, RATE)
    fired = listen_paused(data, log, paused_at, RATE, room,
                          replace(FOREGROUND, paused=paused_rule))
    return fired, [start for _, start, _ in truth]


def test_a_tv_s_own_words_do_not_act_while_paused() -> None:
    """A TV 25 dB under the voice, paused: its words heard as "stop" and "back" acted (the
    session would ask whether to end, or move on) when a phrase said on its own did not have
    to be louder than the TV while paused: 4-7 commands in 45 s. Now only the person's
    "resume", "continue" and "go on" fire, each once, as they are said."""
    phrases = ("resume", "continue", "go on")
    fired, said = heard_while_paused(-25.0, 20.0, phrases=phrases)
    assert [c for c, _ in fired] == ["resume"] * 3, fired
    assert all(start <= at <= start + 1.5 for (_, at), start in zip(fired, said, strict=True))
    before, _ = heard_while_paused(-25.0, 20.0, phrases=phrases, paused_rule=False)
    # 5 "stop"s and a "back". In the suite's long pytest, 3 "stop"s once: a plain Decoder
    # made by an earlier test (audio_check.transcribe) had switched pocketsphinx's
    # process-wide warp off for the decoders built after it (sphinx_decoder.warp_spelling).
    assert {"stop", "back"} <= {c for c, _ in before}, before


def test_resume_is_heard_over_a_tv_after_a_long_pause() -> None:
    """Paused longer than the TV heard before counts (here `age` + `held` = 10 s, 2.5 minutes
    as shipped), the silences heard while paused say the TV still talks: a "resume" 20 dB
    over it is taken as standing out of it. Without them it needed quiet around it."""
    short = replace(ROOM, age=5.0, held=5.0)
    fired, said = heard_while_paused(-20.0, 20.0, short)
    assert [c for c, _ in fired] == ["resume"], fired
    before, _ = heard_while_paused(-20.0, 20.0, replace(short, while_held=False))
    assert "resume" not in [c for c, _ in before], before

"""Where the echo of the coach's clip lands in the listener's session time, against where the
SpeechLog says it played: the echo gate compares the two, so they must agree (real speaker,
real microphone, the coach's output looped into the room through PulseAudio)."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest
from harness import Pulse

from voicecoach.clock import RealClock
from voicecoach.commands import Inbox
from voicecoach.config import VoiceSettings
from voicecoach.listener import ListenSettings, open_listener
from voicecoach.speaker import SpeechLog, Utterance
from voicecoach.voice import open_speaker

# Echoes land +15..+28 ms after the SpeechLog's clip start, also with four busy loops on the
# two cores (2026-12-02). Microphone blocks are dated by PortAudio's ADC time and clips by its
# DAC time, each against the stream's clock read when our callback runs: read at PortAudio's
# call instead, a callback waiting for the GIL under load dated clips up to 150 ms late.
pytestmark = [
    pytest.mark.audio,
    pytest.mark.skipif(
        subprocess.run(["which", "espeak-ng"], capture_output=True).returncode != 0,
        reason="espeak-ng not installed",
    ),
]

#: Largest error allowed between the SpeechLog's start of a clip and its echo's onset as the
#: listener places it (the spotter's margins are 0.3-0.6 s; measured: +15..+28 ms; dated at
#: PortAudio's call, -82..-65 ms for a third of the clips under load).
TOLERANCE = 0.08
#: Error allowed for one clip in six (an output that ran dry plays the rest late): the spotter's
#: smallest margin.
GATE_MARGIN = 0.3
#: Quiet (s) before a loud sample that makes it an onset: longer than any gap inside "three" or
#: "seven", shorter than the 0.6 s between two of them.
ONSET_GAP = 0.08


def test_echo_lands_where_the_speech_log_says(pulse: Pulse, tmp_path: Any) -> None:
    import numpy as np

    clock, log, inbox = RealClock(), SpeechLog(), Inbox()
    said: list[Utterance] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path))
        speaker = open_speaker(VoiceSettings(), clock, said.append, log, lambda m: None)
    listener = open_listener(ListenSettings(recognizer="pocketsphinx"), clock, inbox, log,
                             lambda m: None)
    chunks: list[tuple[bytes, float]] = []
    feed = listener.pipeline.feed

    def record(pcm: bytes, at: float, raw: Any = None) -> Any:
        chunks.append((pcm, at))
        return feed(pcm, at, raw)

    listener.pipeline.feed = record  # type: ignore[method-assign]
    loop = pulse.loop_coach_into_room()
    try:
        speaker.prepare(["three", "seven"])
        listener.start()
        time.sleep(1.0)
        for k in range(6):
            speaker.say("three" if k % 2 else "seven", "count", clock.now() + 0.3)
            time.sleep(1.2)
        time.sleep(0.5)
    finally:
        listener.close()
        speaker.close()
        loop.unload()
    rate = listener.pipeline.recognizer.rate
    xs, ts = [], []
    for pcm, at in chunks:
        x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
        xs.append(x)
        ts.append(at - (len(x) - 1 - np.arange(len(x))) / rate)
    x, t = np.concatenate(xs), np.concatenate(ts)
    # Onsets: loud samples after at least ONSET_GAP of quiet (a first loud sample in the window
    # could be the tail of the clip before, if that one was late).
    loud = np.nonzero(np.abs(x) > 500)[0]
    lt = t[loud]
    onsets = lt[np.concatenate(([True], np.diff(lt) >= ONSET_GAP))]
    offsets = []
    for utt in said:
        assert utt.start is not None
        near = onsets[(onsets > utt.start - 2 * TOLERANCE) & (onsets < utt.start + 0.6)]
        assert near.size, f"no echo of {utt.text!r} at {utt.start:.2f}"
        offsets.append(float(near[0]) - utt.start)
    print("\necho offsets (ms):", [round(o * 1000) for o in offsets])
    assert len(offsets) == 6
    # One clip may be late (CI once: the first, +112 ms, with ALSA reporting underruns: sound
    # not fed in time plays later than placed), but no more than the echo gate's margins hold.
    assert sorted(abs(o) for o in offsets)[-2] < TOLERANCE, offsets
    assert max(abs(o) for o in offsets) < GATE_MARGIN, offsets
    assert inbox.get(0) is None  # and the counts fired nothing

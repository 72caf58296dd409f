"""Echo cancelling in the process: the coach's own voice taken out of what the microphone hears.

The speaker knows exactly what it sent out and when; the microphone knows when it heard each
sample. So the speaker's callback hands every block it plays, dated on the monotonic clock, to
`PlayedAudio` (a copy and an append: nothing else runs in the audio thread), and the listener
thread asks it for what was playing over each microphone chunk and gives both to an
`EchoCanceller` (WebRTC's AEC3, through the `livekit` wheel), which learns the room's echo path
and subtracts it. What is left is mostly the person, so "pause" said under the coach's voice
can be heard (benchmarks/bench_bargein.py). The canceller finds the delay between the two
itself; the dates only need to hold steady, so each stream's samples are counted and its
start is followed slowly from the median of its recent blocks' dates (`Timeline`): the
jitter of single dates never reaches the reference, a real gap does.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any, Protocol

#: Seconds of played audio kept for the listener (it reads at most a chunk behind, plus
#: its queue when busy).
KEEP_SECONDS = 4.0
#: Each stream's samples are counted, not dated one block at a time: the dates jitter (live,
#: in the harness, 0.2-0.5 ms typically, 5-13 ms at the 99th percentile, and runs of up to five
#: blocks held up and then called in a burst were dated up to 183 ms off), and moving the
#: reference against the echo makes the canceller learn the room again (its residual then
#: burst up, and was once found as "stop"). The stream's start is the median of the last
#: WINDOW blocks' dates, less their place in the count...
WINDOW = 25
#: ...followed slowly, with this time constant (s), unless it has moved more than SNAP (s): a
#: real gap (a lost chunk, an underrun), taken at once. A restarted output stream says so
#: itself. Slowly, because the dates themselves wander: through PulseAudio, live, the echo's
#: delay against its reference moved by up to 3 ms over a few seconds while the echo path held
#: its delay to the sample, and each move makes AEC3 learn the delay again. Followed within a
#: second, the delay's 10-90 % spread over a session was 61 samples at 44.1 kHz; over 20 s,
#: 37-46 (benchmarks/aec_streams.py). The canceller's bursts stayed (47-68 frames over a fifth
#: of the echo in 8 minutes): they come where it re-learns anyway, and the level check allows
#: for that (talksettings.TalkSettings.settle). Two devices' clocks differ by about 100 ppm:
#: followed 20 s late, that is a steady 2 ms, which the canceller finds once.
FOLLOW_SECONDS = 20.0
SNAP = 0.02
#: Blocks of played audio waiting for the listener at most (at 10 ms each, 10 s): one that
#: stopped reading must not make the speaker's callback hold ever more.
INBOX_BLOCKS = 1000
#: The canceller's frame (s): WebRTC's audio processing works on 10 ms.
FRAME_SECONDS = 0.01


class EchoCancelError(Exception):
    """No echo cancelling; `fix` says how to get it."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


class EchoCanceller(Protocol):
    """Takes what the speaker played out of what the microphone heard, frame by frame."""

    name: str
    """Engine, for messages."""
    rate: int
    """Samples a second of both streams."""
    frame: int
    """Samples per call of `process`."""

    def process(self, mic: bytes, played: bytes) -> bytes:
        """`mic` (int16 mono, `frame` samples) without the echo of `played` (the same span)."""
        ...


class WebrtcCanceller:
    """The EchoCanceller Protocol on WebRTC's audio processing module (AEC3) from `livekit`."""

    def __init__(self, rate: int) -> None:
        try:
            from livekit import rtc
        except ImportError as e:
            raise EchoCancelError(
                f"the echo canceller (livekit) is not installed ({e})",
                "run scripts/setup, or use system echo cancelling (docs/echo-cancel.md)",
            ) from e
        self.name = "WebRTC AEC3 (livekit)"
        self.rate = rate
        self.frame = int(rate * FRAME_SECONDS)
        self._rtc = rtc
        # Echo cancelling only: noise suppression and gain control would change what the
        # recognizer was measured on.
        self._apm = rtc.AudioProcessingModule(echo_cancellation=True)

    def process(self, mic: bytes, played: bytes) -> bytes:
        frame = self._rtc.AudioFrame
        self._apm.process_reverse_stream(frame(played, self.rate, 1, self.frame))
        heard = frame(mic, self.rate, 1, self.frame)
        self._apm.process_stream(heard)  # in place
        return bytes(heard.data)


class Timeline:
    """Counts a stream's samples and dates them: sample i is at `origin + i / rate`, where
    `origin` follows the blocks' own dates slowly and steps only with the stream itself."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.origin: float | None = None
        self.end = 0  # samples counted so far: the index of the next block
        self._starts: collections.deque[float] = collections.deque(maxlen=WINDOW)

    def place(self, start: float, n: int, fresh: bool = False) -> int:
        """Index of the first sample of a block of `n` dated to begin at monotonic `start`;
        `fresh`: the stream restarted, so its date is taken as it is."""
        index = self.end
        self.end += n
        origin = start - index / self.rate
        if self.origin is None or fresh:
            self.origin = origin
            self._starts.clear()
        self._starts.append(origin)
        typical = sorted(self._starts)[len(self._starts) // 2]
        if abs(typical - self.origin) > SNAP:
            self.origin = typical
        else:
            self.origin += (typical - self.origin) * min(1.0, n / self.rate / FOLLOW_SECONDS)
        return index


class PlayedAudio:
    """What the speaker played, by monotonic time: the echo canceller's reference."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        # Filled by the audio callback; deque appends and pops are atomic, so no lock.
        self._inbox: collections.deque[tuple[float, Any, bool]] = collections.deque(
            maxlen=INBOX_BLOCKS)
        self._line = Timeline(rate)
        self._blocks: collections.deque[tuple[int, Any]] = collections.deque()

    def add(self, start: float, block: Any, fresh: bool = False) -> None:
        """The speaker's callback: `block` (float samples at `rate`) starts at monotonic
        `start`; `fresh`: the first block of a (re)started stream. Copies it; nothing else."""
        self._inbox.append((start, block.copy(), fresh))

    def around(self, start: float, n: int, rate: int) -> Any:
        """Float samples of what played over the `n` samples at `rate` from monotonic `start`
        (zeros where nothing did)."""
        import numpy as np

        while self._inbox:
            t0, block, fresh = self._inbox.popleft()
            self._blocks.append((self._line.place(t0, len(block), fresh), block))
        keep = self._line.end - int(KEEP_SECONDS * self.rate)
        while self._blocks and self._blocks[0][0] + len(self._blocks[0][1]) < keep:
            self._blocks.popleft()
        out = np.zeros(n)
        origin = self._line.origin
        if origin is None:
            return out
        # Where the wanted samples fall among the played ones: whole samples at the same rate
        # (interpolating would soften the sound by a varying amount), in between otherwise.
        first = (start - origin) * self.rate
        step = self.rate / rate
        where = (round(first) if rate == self.rate else first) + np.arange(n) * step
        lo, hi = int(np.floor(where[0])), int(np.ceil(where[-1])) + 1
        span = np.zeros(hi - lo + 1)
        # Newest first, up to the span: the listener asks for the last few blocks, 100 times
        # a second (the sample count only grows along the queue).
        for index, block in reversed(self._blocks):
            if index + len(block) <= lo:
                break
            a, b = max(lo, index), min(hi + 1, index + len(block))
            if a < b:
                span[a - lo : b - lo] = block[a - index : b - index]
        return np.interp(where - lo, np.arange(len(span)), span)


@dataclass
class EchoCancel:
    """Microphone chunks in, the same audio without the coach's echo out (listener thread)."""

    canceller: EchoCanceller
    """Does the cancelling."""
    played: PlayedAudio
    """What the speaker played, and when."""

    def __post_init__(self) -> None:
        self._line = Timeline(self.canceller.rate)
        self._mic = b""  # samples waiting for a whole frame
        self._done = 0  # samples handed to the canceller so far

    def restart(self) -> None:
        """The microphone's stream breaks here (reopened, or audio skipped to catch up): its
        samples are counted and dated afresh."""
        self.__post_init__()

    def clean(self, pcm: bytes, captured: float) -> tuple[bytes, float]:
        """Cleaned audio for the chunk `pcm` whose last sample was captured at monotonic
        `captured`, and the capture time of the cleaned audio's last sample (up to a frame of
        it waits for the next chunk)."""
        import numpy as np

        rate, frame = self.canceller.rate, self.canceller.frame
        n = len(pcm) // 2
        self._line.place(captured - n / rate, n)
        self._mic += pcm
        out = []
        while len(self._mic) >= 2 * frame:
            mic, self._mic = self._mic[: 2 * frame], self._mic[2 * frame :]
            start = self._line.origin + self._done / rate  # type: ignore[operator]
            ref = self.played.around(start, frame, rate) * 32767.0
            played = np.clip(ref, -32768, 32767).astype(np.int16).tobytes()
            out.append(self.canceller.process(mic, played))
            self._done += frame
        waiting = len(self._mic) // 2
        return b"".join(out), captured - waiting / rate


def make_echo_cancel(played: PlayedAudio, rate: int) -> EchoCancel:
    """The in-process echo canceller for a microphone at `rate`, or EchoCancelError."""
    return EchoCancel(WebrtcCanceller(rate), played)

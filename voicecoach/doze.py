"""The decoder sleeps through quiet: a recognizer's search costs as much in a silent room as
in speech (pocketsphinx: 9-10 % of a core on 20 s of quiet against 12-13 % on commands), and a
session is quiet much of the time. After `after` seconds of quiet the recognizer closes its
utterance and stops decoding; the frames heard meanwhile are kept, the last `run_up` seconds
of them, and on the first frame with sound the decoder hears them all at once before going on.
A word's soft start (an "s", a breath) is in that run-up, so it is heard as it would have been.
"""

from __future__ import annotations

from collections import deque

#: Seconds of quiet before the decoder sleeps: longer than the endpointer's 0.3 s window, so a
#: command's utterance has already ended (and been heard) when it does, and longer than the
#: spotter's 0.12 s of quiet after a phrase.
AFTER = 0.5
#: Seconds of audio before the first sound that the decoder hears on waking: its noise and
#: silence models start from quiet, as they did when it heard everything.
RUN_UP = 0.5


class Doze:
    """Decides, frame by frame, what the decoder hears: everything while awake; nothing while
    asleep (the frames are kept); on waking, the run-up and the frame that woke it."""

    def __init__(self, rate: int, after: float = AFTER, run_up: float = RUN_UP) -> None:
        self.rate = rate
        self.after = after
        self.run_up = run_up
        self.asleep = False
        self._kept: deque[bytes] = deque()
        self._kept_bytes = 0
        #: Seconds of audio the decoder did not hear (its saving).
        self.slept = 0.0

    def frames(self, frame: bytes, quiet: float, speech: bool) -> list[bytes]:
        """The frames for the decoder now, given this 16-bit mono `frame` (any length), the
        trailing quiet (s) with it and whether the recognizer has speech in hand (pocketsphinx's
        endpointer in speech, words in vosk's partial result). Sleeps (returns []) when the
        quiet reaches `after` with none in hand; the caller then closes its utterance."""
        seconds = len(frame) / 2 / self.rate
        if not self.asleep:
            if quiet < self.after or speech:
                return [frame]
            self.asleep = True
        self._kept.append(frame)
        self._kept_bytes += len(frame)
        while self._kept_bytes - len(self._kept[0]) >= self.run_up * self.rate * 2:
            old = self._kept.popleft()
            self._kept_bytes -= len(old)
            self.slept += len(old) / 2 / self.rate
        if quiet >= seconds and not speech:
            return []
        self.asleep = False
        out = list(self._kept)
        self._kept.clear()
        self._kept_bytes = 0
        return out

    def reset(self) -> None:
        """The stream breaks: awake, nothing kept."""
        self.asleep = False
        self._kept.clear()
        self._kept_bytes = 0

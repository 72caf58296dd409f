"""Catching up: when decoding falls seconds behind the microphone, skip to the present.

On a machine too busy to decode in real time (a Raspberry Pi with the browser open, a laptop
indexing its disk) the microphone's queue grows: every command then comes later than the one
before, and once the queue is full the *newest* audio is lost, so nothing said is heard again.
A "pause" that acts five seconds late is worse than one the person has to say again, so past
`limit` the listener drops what is queued, keeps the last `keep` seconds (a word being said
right now), starts the recognizer afresh and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from voicecoach.microphone import QUEUE_CHUNKS, Chunk


@dataclass(frozen=True)
class BacklogSettings:
    """When the listener gives up on old audio."""

    limit: float = 2.0
    """Seconds decoding may trail the microphone. pocketsphinx closing a long utterance can
    hold the listener up to a second on a busy machine; past twice that it is not catching up."""
    keep: float = 0.5
    """Seconds of the newest audio kept when skipping: the start of a word said just now."""
    notice_every: float = 30.0
    """At most one notice per this many seconds: an overloaded machine skips again and again."""


class Source(Protocol):
    """Where chunks come from (the Microphone's read)."""

    def read(self, timeout: float) -> Chunk | None:
        """The next chunk, or None when none arrived within `timeout` seconds."""
        ...


@dataclass(frozen=True)
class Skip:
    """Audio left undecoded to catch up."""

    seconds: float
    """How much audio was dropped."""
    behind: float
    """How far decoding trailed the microphone before the skip, in seconds."""
    chunk: Chunk | None
    """The oldest chunk kept, to decode next (None: the queue ran dry)."""


class Backlog:
    """Watches how far decoding trails the microphone and skips old audio past the limit."""

    def __init__(self, settings: BacklogSettings = BacklogSettings()) -> None:
        self.settings = settings
        self.skipped = 0.0
        """Seconds of audio dropped so far."""
        self.skips = 0
        """How many times audio was dropped."""
        self._noticed_at: float | None = None
        self._unsaid = 0.0

    def behind(self, chunk: Chunk, now: float) -> float | None:
        """How far `chunk` (read at monotonic time `now`) trails the microphone, in seconds,
        when that is past the limit; None while it is recent enough."""
        behind = now - chunk.captured
        return behind if behind > self.settings.limit else None

    def skip(self, chunk: Chunk, behind: float, now: float, source: Source, rate: int) -> Skip:
        """Drop `chunk` and those after it in `source` until one is within `keep` seconds of
        monotonic time `now`, and say what went."""
        dropped = len(chunk.pcm) // 2
        kept: Chunk | None = None
        # Bounded: a source that keeps handing over old audio (a stream dated wrongly) must
        # not hold the listener here; the next check skips again.
        for _ in range(2 * QUEUE_CHUNKS):
            nxt = source.read(0.0)
            if nxt is None:
                break
            if now - nxt.captured <= self.settings.keep:
                kept = nxt
                break
            dropped += len(nxt.pcm) // 2
        seconds = dropped / rate
        self.skipped += seconds
        self.skips += 1
        self._unsaid += seconds
        return Skip(seconds, behind, kept)

    def check(self, chunk: Chunk, now: float, source: Source, rate: int) -> Skip | None:
        """`behind` and `skip` in one step: None while `chunk` is recent enough."""
        behind = self.behind(chunk, now)
        return None if behind is None else self.skip(chunk, behind, now, source, rate)

    def notice(self, skip: Skip, now: float) -> str | None:
        """The line to show for `skip`, or None while the last one is recent (its seconds
        are then added to the next)."""
        last = self._noticed_at
        if last is not None and now - last < self.settings.notice_every:
            return None
        self._noticed_at = now
        seconds, self._unsaid = self._unsaid, 0.0
        # Not only a busy CPU: with a TV talking without a break an idle machine fell 3.9-8.8 s
        # behind (a run-through, 2026-12-07: one long utterance's closing pass, now bounded by
        # sphinx_recognizer.TALK_MAX).
        return (f"listening fell {skip.behind:.1f} s behind the microphone (a busy CPU, or "
                "long talk such as a TV's?): "
                f"skipped {seconds:.1f} s of sound to catch up; say a missed command again")

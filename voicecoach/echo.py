"""Telling the person from the coach's own voice: pure logic over what the SpeechLog says played.

The microphone hears the speaker. A candidate command is an echo when, around the moment it was
heard, the coach was saying that word (or one that sounds like it: "paused", "painful"). Words
are placed inside an utterance by their share of its characters: speech is roughly evenly paced,
and the slack absorbs the rest, so "stop" at the end of a long instruction that started with
"stop" still gets through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from voicecoach.phrases import normalize
from voicecoach.speaker import Utterance


@dataclass(frozen=True)
class EchoSettings:
    """How the echo gate lines up heard words with the coach's clips."""

    margin: float = 0.6
    """Seconds around a heard phrase that still count as "while the coach was speaking"
    (output plus input latency, and the recognizer's own timing error)."""
    slack: float = 0.9
    """Seconds either side of a word's estimated time inside a clip that count as saying it."""
    min_prefix: int = 3
    """Shortest shared beginning (letters) that makes two words sound alike ("pain"/"painful")."""


def similar(heard: str, said: str, min_prefix: int = 3) -> bool:
    """True when a coach word could be heard as `heard` (same word, one a prefix of the other,
    or one letter apart)."""
    if heard == said:
        return True
    short, long_ = sorted((heard, said), key=len)
    if len(short) >= min_prefix and long_.startswith(short):
        return True
    # Same opening consonant cluster: pocketsphinx heard the coach's "start", "stretch" or
    # "straight" as "stop" in the harness. Refusing a real "stop" spoken over those words
    # costs a repeat; acting on the coach's own voice costs the person's trust.
    if len(heard) >= 4 and len(said) >= 4 and heard[:2] == said[:2] and heard[0] not in "aeiou":
        return True
    return len(short) >= 4 and len(long_) - len(short) <= 1 and _edits(short, long_) <= 1


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (the words are short)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def word_times(utt: Utterance) -> list[tuple[str, float, float]]:
    """Each word of a clip with its estimated (start, end) session time, by character share."""
    words = normalize(utt.text).split()
    start = utt.start if utt.start is not None else utt.at
    end = utt.end if utt.end is not None else start + max(0.35, len(words) / 2.6)
    total = sum(len(w) + 1 for w in words) or 1
    out, pos = [], 0
    for w in words:
        t0 = start + (end - start) * pos / total
        pos += len(w) + 1
        out.append((w, t0, start + (end - start) * pos / total))
    return out


def echo_of(
    phrase: Sequence[str],
    t0: float,
    t1: float,
    playing: Sequence[Utterance],
    settings: EchoSettings = EchoSettings(),
) -> Utterance | None:
    """The clip that explains hearing `phrase` during [t0, t1] as the coach's voice, if any."""
    for utt in playing:
        for word, w0, w1 in word_times(utt):
            early = w1 + settings.slack < t0 - settings.margin
            if early or w0 - settings.slack > t1 + settings.margin:
                continue
            if any(similar(h, word, settings.min_prefix) for h in phrase):
                return utt
    return None


def coach_speaking(
    t0: float, t1: float, playing: Sequence[Utterance], settings: EchoSettings = EchoSettings()
) -> bool:
    """True when any clip played (or cut) overlaps [t0 - margin, t1 + margin]."""
    for utt in playing:
        start = utt.start if utt.start is not None else utt.at
        end = utt.end if utt.end is not None else start + 30.0
        if start <= t1 + settings.margin and end >= t0 - settings.margin:
            return True
    return False

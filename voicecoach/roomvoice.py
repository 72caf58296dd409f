"""Another voice in the room: does someone talk in the coach's pauses (a TV, a conversation)?

The keyword search over the coach's speech (bargein.py) lets a person say "pause" on top of a
sentence. A TV that talks on finds that word in its own speech again and again: with a talk
show read at the level of the coach's echo, 64 pauses, pains and stops in 8.4 minutes of its
lines (benchmarks/bench_bargein.py --tv-talk 0). The level check cannot tell: it takes a steady
sound for the room's floor and measures the coach's echo above that. What tells is the coach's
silences. A person doing the exercise listens there; a TV talks on through them. So the audio
heard while the coach is silent (not in a clip, nor in its room tail) is kept, and the share of
it that is voiced (voicing.py: a pitch) says whether another voice is talking in the room.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from voicecoach.foreground import loud_level
from voicecoach.speaker import Playing, Utterance
from voicecoach.voicing import voiced_share

#: How a barge-in turned down for another voice says so (the Listener tells the person).
OTHER_VOICE = "another voice talks in the coach's pauses"
#: Seconds heard while paused kept beyond a `window`: a phrase is judged by the silences before
#: it, and its decision may come seconds after it began (a final result).
HELD_SPARE = 4.0
#: What the person is told then, at most once every NOTICE_EVERY seconds.
NOTICE = ("another voice is talking in the room (a TV?): a command said over the coach, or no "
          "louder than that voice, is not taken; say it in the coach's pauses, louder, or turn "
          "the other voice down")
NOTICE_EVERY = 300.0


@dataclass(frozen=True)
class RoomSettings:
    """What counts as the coach's silence, and how much of it is looked at."""

    window: float = 6.0
    """Seconds of the coach's silence (the latest) looked at."""
    age: float = 30.0
    """Silence older than this many seconds counts no more (the TV was turned off). While
    held (`RoomVoice.hold`), up to `held` seconds held since do not count: after a minute
    paused over a TV, "resume" is said over the same TV."""
    held: float = 120.0
    """The most seconds held that do not count toward `age`: after a longer pause the TV may
    well be off, and a word of a conversation in a quiet room said on its own by the TV's
    rule (foreground.py) would resume the session. Once running again, none: a "stop" said
    over the coach must not be turned down for a TV heard before the pause."""
    while_held: bool = True
    """Whether the silences heard while paused are looked at, once they fill a `window` or
    nothing from before counts (False: as until 2026-12-07, never; after 2.5 minutes paused
    over a TV only a "resume" with quiet around it was taken, which a TV never leaves:
    benchmarks/bench_tv_paused.py)."""
    near: float = 2.0
    """While paused, seconds right before a phrase in which the voice heard while paused must
    still talk to count, unless one was heard before the pause: a TV talks on up to the phrase,
    the person's own words to someone else (at the door, on the phone) stop before their
    "next" (bench_talk_paused.py). 0: no such check (as until 2026-12-07)."""
    drop: float = 6.0
    """While paused (and `near` > 0), dB by which the other voice's loud level in the latest
    `near` seconds must be under the window's for that to be its level: the person's own talk
    stopped and a quieter TV talks on (bench_talk_paused.py)."""
    least: float = 1.0
    """Seconds of silence needed before anything is said about it. The coach leaves little:
    live, about a second in its first 20 s (the welcome, the first instructions and counts)."""
    tail: float = 0.3
    """Seconds after a clip's end that are still the coach's (its echo in the room). Between
    two counts a second apart there is about 0.6 s of silence."""
    before: float = 0.1
    """Seconds before a clip's start that are already the coach's."""
    most: float = 0.2
    """The most of the silences that may be voiced in a room with no other voice: a word of the
    person's own there is a tenth of six seconds, and the phrases the listener takes are left
    out; a TV talking through them, half (tests/test_roomvoice.py). Music with a tune is voiced
    too: it counts as another voice."""
    after: float = 1.0
    """Seconds after a phrase is taken that are left out too: the rest of the word (a barge-in
    fires before it ends) and what the person adds ("stop... my knee")."""


class _Pieces:
    """Stretches of the coach's silence kept: (session time of its end, PCM, seconds held all
    told when it was kept), and how many bytes they hold, so a chunk need not sum them again."""

    def __init__(self) -> None:
        self.items: deque[tuple[float, bytes, float]] = deque()
        self.size = 0

    def add(self, end: float, pcm: bytes, held_for: float) -> None:
        self.items.append((end, pcm, held_for))
        self.size += len(pcm)

    def trim(self, limit: int) -> None:
        """Drop the oldest while the rest hold `limit` bytes or more."""
        while self.items and self.size - len(self.items[0][1]) >= limit:
            self.size -= len(self.items.popleft()[1])

    def drop(self, t0: float, t1: float, rate: int) -> None:
        """Drop those that overlap session times `t0` to `t1`."""
        self.items = deque(c for c in self.items
                           if not (c[0] > t0 and c[0] - len(c[1]) / 2 / rate < t1))
        self.size = sum(len(c[1]) for c in self.items)

    def clear(self) -> None:
        self.items.clear()
        self.size = 0


class RoomVoice:
    """The audio heard in the coach's silences, and how much of it is voiced."""

    def __init__(self, rate: int, playing: Playing, settings: RoomSettings = RoomSettings()
                 ) -> None:
        self.settings = settings
        self._rate = rate
        self._playing = playing
        # The stretches of the coach's silence kept; those heard while paused, apart.
        self._kept, self._while_held = _Pieces(), _Pieces()
        self._held_for = 0.0  # seconds of audio fed while held, all told
        # hold(): "" (running), "paused" or "asked"; set from the session's thread, read once
        # per call here.
        self._held = ""
        self._mine_until = float("-inf")  # forget(): nothing is kept until then
        # The latest answers of share() and loud(), by what they were asked of (_recent).
        self._answers: dict[object, float | None] = {}

    def feed(self, pcm: bytes, captured_at: float) -> None:
        """Take in a chunk of 16-bit mono PCM whose last sample is at session time
        `captured_at`; only its stretches where the coach is silent are kept. While the session
        is paused (`hold`) the person may talk too: those are kept apart, and dropped once it
        runs again (`_recent`); while a question waits, none (the answer)."""
        s = self.settings
        n = len(pcm) // 2
        t0 = captured_at - n / self._rate
        held = self._held
        if held:
            self._held_for += n / self._rate
        if held != "paused":
            # Not from one pause into the next (paused, then asked about pain, paused again).
            self._while_held.clear()
        if held == "asked" or captured_at <= self._mine_until:
            return
        first = 0 if self._mine_until <= t0 else math.ceil((self._mine_until - t0) * self._rate)
        keep = [(first, n)]
        for u in self._playing(t0 - s.tail, captured_at + s.before, 0.0):
            start = u.start if u.start is not None else u.at
            end = self._sound_end(u, start, u.end if u.end is not None else start + 30.0)
            # Samples of this chunk from `start - before` to `end + tail` are the coach's.
            a = max(0, math.floor((start - s.before - t0) * self._rate))
            b = max(a, min(n, math.ceil((end + s.tail - t0) * self._rate)))
            keep = [piece for lo, hi in keep
                    for piece in ((lo, min(hi, a)), (max(lo, b), hi)) if piece[1] > piece[0]]
        pieces = self._while_held if held else self._kept
        for lo, hi in keep:
            pieces.add(t0 + hi / self._rate, pcm[2 * lo : 2 * hi], self._held_for)
        # While paused, a window before the phrase judged, which may have begun seconds ago.
        spare = HELD_SPARE if held else 0.0
        pieces.trim(2 * int((s.window + spare) * self._rate))

    def hold(self, held: bool, paused: bool = False) -> None:
        """While `held` (the session `paused`, or a question waiting) the person may talk, to
        the coach or to someone else: what is heard is kept apart while paused (also while a
        question waits then: "end the session?"), and not at all while only asked; what was
        kept before ages no further meanwhile, for up to RoomSettings.held seconds.
        Thread-safe (one assignment)."""
        self._held = ("paused" if paused else "asked") if held else ""

    def forget(self, t0: float, t1: float) -> None:
        """Drop the pieces kept that overlap session times `t0` to `t1`, and keep nothing until
        `after` seconds past `t1`: a phrase the listener took (a command, an answer), the
        person's own voice."""
        self._kept.drop(t0, t1, self._rate)
        self._while_held.drop(t0, t1, self._rate)
        self._mine_until = max(self._mine_until, t1 + self.settings.after)

    def _sound_end(self, u: Utterance, start: float, end: float) -> float:
        """Where `u`'s sound ends: its last frame within 26 dB of its loudest (a clip may end
        in silence: an untrimmed render), or `end`."""
        if not u.levels:
            return end
        floor = 0.05 * max(u.levels)
        last = max(i for i, v in enumerate(u.levels) if v >= floor)
        return min(end, start + (last + 1) * u.level_step)

    def share(self, before: float) -> float | None:
        """The voiced share of the coach's silences kept from `age` seconds before session
        time `before` up to it (at most `window` seconds of them; not the phrase being judged,
        which starts at `before`); None while there were less than `least` seconds."""
        return self._share(*self._recent(before)[:2])

    def _share(self, recent: list[bytes], key: object) -> float | None:
        """`share` of the silences `recent` (told apart by `key`)."""
        if ("share", key) not in self._answers:
            seconds = sum(len(pcm) for pcm in recent) / 2 / self._rate
            self._remember(("share", key), None if seconds < self.settings.least
                           else voiced_share(b"".join(recent), self._rate))
        return self._answers[("share", key)]

    def _recent(self, before: float
                ) -> tuple[list[bytes], object, list[tuple[float, bytes]]]:
        """The silences kept from `age` seconds before `before` up to it (while paused, those
        heard while paused once they fill a `window`), what tells them from another choice
        (a phrase's checks ask again at every chunk while it waits, and the same 6 s cost
        4-5 ms a time to look at), and of those heard while paused, the latest `near`
        seconds (else none)."""
        held = self._held
        # While held, the seconds held since a piece was kept do not age it (RoomSettings).
        age, held_for, most = self.settings.age, self._held_for, self.settings.held
        if not held:
            most = 0.0
        recent = [(t, pcm) for t, pcm, since in self._kept.items
                  if before - age - min(most, held_for - since) <= t <= before]
        near: list[tuple[float, bytes]] = []
        if held == "paused" and self.settings.while_held:
            # Once a window's worth was heard while paused, or nothing from before counts:
            # what was heard while paused, the person's voice maybe among it. After three
            # minutes paused with the TV still on, "resume" is said over it; words of the
            # person's before the pause no longer count against a "next" said well into it.
            # Never once running again: a TV heard then is no reason to turn a "stop" down.
            window = 2 * int(self.settings.window * self._rate)
            mine = [(t, pcm) for t, pcm, _ in self._while_held.items
                    if before - age <= t <= before]
            size = sum(len(pcm) for _, pcm in mine)
            while mine and size - len(mine[0][1]) >= window:
                size -= len(mine.pop(0)[1])
            latest = [(t, pcm) for t, pcm in mine if t > before - self.settings.near]
            if (not recent or size >= window) and not (self._stopped(mine, latest)
                                                       and not self._talked(recent)):
                recent, near = mine, latest
        return [pcm for _, pcm in recent], _key(recent, len(near)), near

    def _stopped(self, mine: list[tuple[float, bytes]], latest: list[tuple[float, bytes]]
                 ) -> bool:
        """Whether the voice heard in `mine` (kept while paused) stopped in its `latest`
        `near` seconds: the person's own words to someone else (at the door, on the phone)
        end before their "next"; a TV talks on up to it. Not when too little of those seconds
        was heard to tell (the coach spoke, or a phrase was just taken)."""
        if self.settings.near <= 0 or not mine:
            return False
        # Told apart as _recent tells them: when `mine` is what it returns, asked once.
        share = self._share([pcm for _, pcm in mine], _key(mine, len(latest)))
        if share is None or share <= self.settings.most:
            return False
        share = self._near_share(latest)
        return share is not None and share <= self.settings.most

    def _near_share(self, latest: list[tuple[float, bytes]]) -> float | None:
        """The voiced share of the `latest` pieces kept while paused."""
        return self._share([pcm for _, pcm in latest], _key(latest, "near"))

    def _talked(self, recent: list[tuple[float, bytes]]) -> bool:
        """Whether another voice talks in the silences kept before the pause that still count:
        then a voice heard while paused that stops is taken for a TV's lull, not for the
        person's own talk ending (a TV's word after a lull of its own must not act)."""
        share = self._share([pcm for _, pcm in recent], _key(recent, 0))
        return share is not None and share > self.settings.most

    def loud(self, before: float, percentile: float) -> float | None:
        """The `percentile` of the 10 ms frame levels (dB) of the silences `share` looks at
        (while paused, of their latest `near` seconds if `drop` dB under), when another voice
        talks on in them (`talking_on`), else None: how loud that voice gets (foreground.py)."""
        # One look at the silences for both questions: the session's thread may end a hold
        # between two (a "stop" weighed against a TV heard before the pause).
        recent, key, near = self._recent(before)
        share = self._share(recent, key)
        if share is None or share <= self.settings.most:
            return None
        if (percentile, key) not in self._answers:
            loud = loud_level(b"".join(recent), self._rate, percentile)
            # While paused, the person's own talk may have been the loudest of the window,
            # with a quieter TV talking on after it: how loud the other voice is now. Only
            # where it talks about as much as in the window: the loud frames of a lull's few
            # words, or of a TV that only just talks, are its quieter ones.
            near_share = self._near_share(near) if near else None
            if loud is not None and near_share is not None and near_share >= share / 2:
                now = loud_level(b"".join(pcm for _, pcm in near), self._rate, percentile)
                if now is not None and now < loud - self.settings.drop:
                    loud = now
            self._remember((percentile, key), loud)
        return self._answers[(percentile, key)]

    def _remember(self, question: object, answer: float | None) -> None:
        """Keep `answer` to `question`, with the latest few others (a phrase's checks ask
        about two or three moments in turn, each up to four questions while paused)."""
        if len(self._answers) >= 16:
            del self._answers[next(iter(self._answers))]
        self._answers[question] = answer

    def talking_on(self, before: float) -> float | None:
        """`share(before)` when more than `most` of the silences are voiced (another voice
        talks on in the room), else None."""
        share = self.share(before)
        return share if share is not None and share > self.settings.most else None


def _key(pieces: list[tuple[float, bytes]], tag: object) -> object:
    """What tells `pieces` (kept silences, oldest first) from another choice of them: a
    question about them is answered once (RoomVoice._answers)."""
    return (pieces[0][0], pieces[-1][0], len(pieces), tag) if pieces else None

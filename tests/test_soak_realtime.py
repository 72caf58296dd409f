"""A long real-time session through the harness, driven by voice: on the beat, no growth.

The whole coach runs as it does at home: Session + AudioSpeaker + Listener (pocketsphinx, with
the echo canceller) on a RealClock. Every `every` seconds a person says "pause" mid-hold, then
"continue", into the room ("next" while paused, and the rest, are in test_session_voice.py).
At the end:

* every command spoken was acted on, once, and nothing else was (like a person, the test says
  a command again if nothing happened within 4 s; such repeats are counted and reported);
* every count the speaker reports started within 20 ms of its beat (hold start + n s), the
  whole session long, but for at most 1 % delayed by a stall of the machine (never past
  100 ms);
* in a recording of the coach's output over the last hold but one, each count but at most
  one (the recording's own jitter) is heard within 20 ms of its beat (aligned on that hold's
  first count, so a drift would show);
* resident memory (the process and its recognizer's child) grew by less than 10 MB between
  the first minute and the end.

CI runs 5 minutes; `VOICECOACH_SOAK_MINUTES=60` runs the hour.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from audio_check import LOUD, onsets
from harness import Pulse
from room import Person, Room, calf

from voicecoach import memory as allocator
from voicecoach.commands import Command, CommandEvent
from voicecoach.library import Routine

pytestmark = [pytest.mark.audio]
MINUTES = float(os.environ.get("VOICECOACH_SOAK_MINUTES", "5"))
HOLD, REST = 20.0, 8.0
RATE = 16000
BEAT_MS = 20.0
#: A count delayed by a stall of the machine (an output underrun) is still within this.
GLITCH_MS = 100.0
#: Diagnostics for memory growth: Python allocations by traceback, first minute against end.
TRACE = os.environ.get("VOICECOACH_SOAK_TRACEMALLOC") == "1"


#: The recognizer's child process (recognizer_process.py): its memory is the coach's too.
CHILDREN: list[int] = []


def rss_mb() -> float:
    """Resident MB of this process and the recognizer's child."""
    total = 0.0
    for pid in ["self", *CHILDREN]:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(line.split()[1]) for line in f
                              if line.startswith("VmRSS:")) / 1024
        except (OSError, StopIteration):
            if pid == "self":
                return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return total


def slope_per_hour(series: list[tuple[float, float]], after: float, until: float) -> float:
    """Least-squares growth of the (seconds, MB) samples taken between `after` and `until`
    seconds, in MB/h."""
    points = [(t, m) for t, m in series if after <= t <= until]
    if len(points) < 3:
        return 0.0
    return float(np.polyfit([t for t, _ in points], [m for _, m in points], 1)[0]) * 3600


def long_calf(minutes: float) -> Routine:
    # One set is the hold, the rest and about five seconds of spoken cues around them.
    return calf(HOLD, max(3, round(minutes * 60 / (HOLD + REST + 5))), rest=REST)


def test_a_long_voice_driven_session_stays_on_the_beat_and_does_not_grow(
        pulse: Pulse, clip_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every hypothesis and rejection on stderr (shown by pytest only on failure): a "pause"
    # missed twice in one round (CI 2026-11-25, 1 round in 3) is then seen for what it was.
    monkeypatch.setenv("VOICECOACH_LISTEN_DEBUG", "2")
    routine = long_calf(MINUTES)
    sets = routine.exercises[0].sets
    # The coach is not looped into the room: its counts are recorded from the speaker's
    # monitor to check them by ear, and the echo gate is test_session_voice.py's business.
    # The echo canceller runs, as at home (what it costs over a long run counts here too).
    room = Room(pulse, tmp_path, routine, loop=False, echo_cancel=True)
    assert room.listener.cancel is not None, room.notices
    child = getattr(room.listener.pipeline.recognizer, "_proc", None)
    CHILDREN[:] = [child.pid] if child is not None else []
    clock, speaker, inbox = room.clock, room.speaker, room.inbox
    person = Person(room)
    memory: dict[str, float] = {}
    traced: dict[str, tracemalloc.Snapshot] = {}
    if TRACE:
        tracemalloc.start(8)
    every = 60.0 if MINUTES <= 10 else 240.0
    recording: dict[str, Any] = {}

    # Diagnostics for a late count: how early each count was handed to the speaker (the run
    # loop's own punctuality) and the longest garbage collection.
    handed: list[tuple[float, float]] = []
    say = speaker.say

    def timed_say(text: str, kind: str, at: float) -> None:
        if kind == "count":
            handed.append((at, at - clock.now()))
        say(text, kind, at)

    speaker.say = timed_say  # type: ignore[method-assign]
    gc_ms = [0.0]
    gc_start = [0.0]

    def gc_watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            gc_ms[0] = max(gc_ms[0], (time.perf_counter() - gc_start[0]) * 1000)

    gc.callbacks.append(gc_watch)
    # How long handing memory back between steps takes (it holds the allocator's locks): the
    # thread's own CPU time, the work done with the locks held, and the wall time, which on a
    # loaded 2-core machine also counts time spent waiting to be scheduled.
    trims: list[float] = []
    trim_walls: list[float] = []
    give_back = allocator.give_back

    def timed_give_back() -> bool:
        t, c = time.perf_counter(), time.thread_time()
        try:
            return give_back()
        finally:
            trims.append((time.thread_time() - c) * 1000)
            trim_walls.append((time.perf_counter() - t) * 1000)

    monkeypatch.setattr(allocator, "give_back", timed_give_back)
    # Resident memory every 15 s: a slope tells steady growth from a one-off step.
    series: list[tuple[float, float]] = []
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(15.0):
            series.append((clock.now(), rss_mb()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    def drive(room: Room) -> None:
        next_round = 45.0
        holds = 0
        while True:
            hold = room.wait_for(HOLD + REST + 30, change="hold")
            if hold is None:
                return
            holds += 1
            # The baseline once everything is warm: the first hold a minute in (or the first).
            if "start" not in memory or memory["at"] < 60 < clock.now():
                memory["start"], memory["at"] = rss_mb(), clock.now()
                if TRACE:
                    traced["start"] = tracemalloc.take_snapshot()
            if holds == sets - 1:
                # The coach's memory at the end, before the test's own recording (parec's
                # samples, 4-5 MB with their copies) lands in this same process.
                memory["end"], memory["end_at"] = rss_mb(), clock.now()
                # The last hold but one: no commands, the coach recorded to check it by ear.
                # (parec dies with the thread that started it, PR_SET_PDEATHSIG: so here.)
                rec = pulse.start_recording("coach.monitor", rate=RATE)
                room.wait_for(HOLD + 10, change="set_done")
                time.sleep(0.5)
                recording["samples"], recording["hold"] = rec.stop()[0], hold["t"]
                recording["started"] = rec.started
                return
            if clock.now() < next_round:
                continue
            next_round = clock.now() + every
            time.sleep(5.0)  # mid-hold, while the coach is counting
            failed = len(person.failures)
            person.command("pause", change="paused")
            time.sleep(1.5)
            person.command("continue", change="resumed")
            if len(person.failures) > failed:  # not heard twice: press the key, go on
                inbox.put(CommandEvent(Command.RESUME, "key"))

    try:
        # A session stuck paused by a lost word would wait for ever: Room's watchdog ends it.
        completed = room.run(drive, limit=MINUTES * 60 * 1.5 + 120)
    finally:
        gc.callbacks.remove(gc_watch)
        sampling.set()
        memory["after_recording"] = rss_mb()
        if TRACE and "start" in traced:
            # Where Python objects grew (the rest of the RSS growth is native memory).
            diff = tracemalloc.take_snapshot().compare_to(traced["start"], "traceback")
            print("\ntracemalloc growth:", sum(d.size_diff for d in diff) / 1e6, "MB")
            for d in diff[:12]:
                print(f"{d.size_diff / 1e3:9.1f} kB {d.count_diff:+7d}",
                      *d.traceback.format()[-6:], sep="\n    ")
        tracemalloc.stop()  # a no-op unless tracing
    events = list(room.log.events)

    voice = [(round(e["t"], 1), e["name"], e.get("heard")) for e in events
             if e["event"] == "command"]
    counts = [e for e in events if e["event"] == "say" and e["kind"] == "count"]
    # Where each count was due is the engine's business (tested under the virtual clock);
    # here: did the sound start then? AudioSpeaker reports when a clip really left the stream.
    worst = max(abs(c["start"] - c["at"]) * 1000 for c in counts)
    samples = recording.get("samples", np.zeros(0, dtype=np.float32))
    hold_t = recording.get("hold", -1.0)
    last = [c for c in counts if hold_t < c["at"] <= hold_t + HOLD + 0.5]
    heard = onsets(samples, RATE, threshold=LOUD, min_gap=0.12)
    # Session time of the recording's first sample, roughly (when parec's first data came);
    # then pin it on the onset of "one", so that any drift over the hold would show.
    rough = recording.get("started", 0.0) - clock.to_monotonic(0.0)
    errors, align = [float("inf")], float("inf")
    if heard and last:
        one = min(heard, key=lambda h: abs(h + rough - last[0]["at"]))
        align = one + rough - last[0]["at"]
        offset = last[0]["at"] - one
        errors = [(min(heard, key=lambda h: abs(h + offset - c["at"])) + offset - c["at"]) * 1000
                  for c in last]
    leads = {round(at, 4): lead for at, lead in handed}
    report = {
        "minutes": round(clock.now() / 60, 1), "counts": len(counts),
        "worst_reported_ms": round(worst, 2),
        "last_hold_by_ear_worst_ms": round(max(abs(e) for e in errors), 2),
        "first_count_alignment_ms": round(align * 1000, 1), "heard_onsets": len(heard),
        "last_hold_counts": len(last),
        "late_counts": [(round(c["at"], 2), c["text"], round((c["start"] - c["at"]) * 1000, 1),
                         round(leads.get(c["at"], -1.0) * 1000, 1))
                        for c in counts if abs(c["start"] - c["at"]) > BEAT_MS / 2000][:10],
        "least_handover_lead_ms": round(min((lead for _, lead in handed), default=0.0) * 1000, 1),
        "longest_gc_ms": round(gc_ms[0], 1),
        "memory_trims": len(trims),
        "longest_trim_cpu_ms": round(max(trims, default=0.0), 2),
        "longest_trim_wall_ms": round(max(trim_walls, default=0.0), 2),
        "events_kept_by_the_test": len(events),
        "recorded_s": round(len(samples) / RATE, 1),
        "recorded_peak": round(float(abs(samples).max()) if len(samples) else 0.0, 4),
        "rss_mb": [round(memory["start"], 1), round(memory.get("end", 0.0), 1),
                   round(memory["after_recording"], 1)],
        "rss_mb_per_hour_after_2_min": round(
            slope_per_hour(series, 120.0, memory.get("end_at", clock.now())), 1),
        "rss_series": [(round(t), round(m, 1)) for t, m in series],
        "said": person.said, "repeats": person.repeats, "acted": voice,
        "failures": person.failures, "missed": person.missed, "notices": room.notices,
        "decoding_trailed_the_mic_by_up_to_s": round(room.listener.lag_max, 2),
        "sound_skipped_to_catch_up_s": round(room.listener.backlog.skipped, 1),
    }
    print("\nsoak:", json.dumps(report))
    if os.environ.get("VOICECOACH_SOAK_REPORT"):
        Path(os.environ["VOICECOACH_SOAK_REPORT"]).write_text(json.dumps(report, indent=1))

    # Every round heard. Until 2026-12-01 a "pause" after minutes of quiet was now and then
    # missed twice running: pocketsphinx's idle restart cut it in two (sphinx_recognizer.py,
    # IDLE_QUIET), and a person's repeat fell on the next restart.
    assert completed is True and not person.failures, report
    # ...and at the first try, but for one (a person would just say it again).
    assert person.repeats <= 1, report
    spoken = {"pause": "pause", "continue": "resume"}
    assert [v[1] for v in voice] == [spoken[p] for p in person.said], report
    assert len(person.said) >= 2 * max(1, int(MINUTES * 60 // every) - 2)
    # A stall of the 2-core machine can make one count start late (output underrun; the run
    # loop handed it over 0.22 s ahead): bounded, rare, and never a drift (the last hold is
    # checked by ear below). In an hour with other work running (2026-11-25), at least 10 of
    # 2504 counts were 10-75 ms late.
    late = [c for c in counts if abs(c["start"] - c["at"]) * 1000 > BEAT_MS]
    assert worst <= GLITCH_MS and len(late) <= max(1, len(counts) // 100), report
    assert len(last) == int(HOLD) and abs(align) < 0.1, report
    # By ear through PulseAudio and parec, which add their own jitter: one count of the hold
    # may be off in the recording (45 ms once in CI, while the stream placed every count
    # within 8.2 ms); the rest must be on the beat.
    by_ear = sorted(abs(e) for e in errors)
    assert (by_ear[-2] if len(by_ear) > 1 else by_ear[-1]) <= BEAT_MS, report
    # The coach's own growth: first minute to the last hold but one (the recording excluded).
    assert memory["end"] - memory["start"] < 10.0, report
    # Memory was handed back between steps, never holding the run loop up for long. The bound
    # is on the work done (CPU time): a fresh-clone CI run on a busy machine (2026-12-04) saw
    # one trim take 25 ms of wall time while every count stayed on the beat, which the
    # assertions above already check.
    assert trims and max(trims) < 10.0, report

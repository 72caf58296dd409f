"""Thousands of random sessions under the virtual clock: invariants, and the history matches."""

from __future__ import annotations

import os
import random
from dataclasses import replace

from engine_kit import make, of, states

from voicecoach.commands import Command
from voicecoach.history import HistoryStore
from voicecoach.library import Routine, load_builtin
from voicecoach.recorder import Recorder

RUNS = int(os.environ.get("VOICECOACH_SOAK_RUNS", "1000"))
COMMANDS = [Command.NEXT, Command.BACK, Command.REPEAT, Command.PAUSE, Command.RESUME,
            Command.TOGGLE, Command.HELP, Command.STOP, Command.ANSWER]


def random_routine(rng: random.Random) -> Routine:
    lib = load_builtin()
    chosen = rng.sample(list(lib.exercises.values()), rng.randint(1, 3))
    exercises = tuple(
        replace(ex, sets=rng.randint(1, 3), hold=float(rng.randint(1, 8)),
                reps=rng.randint(1, 4), rest=float(rng.choice([0, 1, 3])),
                side=rng.choice(["painful", "both", "left"]), setup=ex.setup[:1],
                cautions=(), why="")
        for ex in chosen)
    return Routine("random", "Random", exercises)


def check(log_events, completed):
    ts = [e["t"] for e in log_events if e["event"] != "say"]
    assert ts == sorted(ts)
    assert log_events[-1]["event"] == "session_end"
    assert sum(e["event"] == "session_end" for e in log_events) == 1
    assert log_events[-1]["completed"] is completed
    sets = states(log_events, "set")
    done = states(log_events, "set_done")
    # Each set that started either ended (counted or skipped), was restarted by "back",
    # or was the one running when the session stopped.
    restarts = len(of(log_events, "command", name="back")) + len(
        of(log_events, "command", name="repeat"))
    assert len(done) <= len(sets)
    assert len(sets) - len(done) <= restarts + (0 if completed else 1)


def test_thousands_of_random_sessions_keep_invariants(tmp_path):
    rng = random.Random(20261124)
    store_checks = 0
    for run in range(RUNS):
        rt = random_routine(rng)
        script = sorted((rng.uniform(0, 120), rng.choice(COMMANDS))
                        for _ in range(rng.randint(0, 8)))
        session, log = make(rt, script)
        recorder = None
        if run % 50 == 0:  # every 50th run also goes through the history database
            recorder = Recorder.open(tmp_path / f"db{run}", lambda text: None)
            log.subscribe(recorder)
        completed = session.run()
        check(log.events, completed)
        if recorder is not None:
            recorder.close()
            stored = HistoryStore(tmp_path / f"db{run}" / "history.db").sessions()
            assert len(stored) == 1
            rows = {(s.exercise, s.side, s.set_no): (s.skipped, s.reps, s.hold)
                    for s in stored[0].sets}
            # A set done again after "back" replaces the earlier record of that set (the
            # history keeps one row per set so that replays of pending writes are idempotent).
            events = {(d["exercise"], d["side"], d["set"]): (d["skipped"], d["reps"], d["hold"])
                      for d in states(log.events, "set_done")}
            assert rows == events
            assert stored[0].status == ("completed" if completed else "stopped")
            store_checks += 1
    assert store_checks == (RUNS + 49) // 50

"""Property tests: random and mutated routine files, random command sequences."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from engine_kit import make, of, routine, states
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecoach.commands import Command
from voicecoach.library import Library, RoutineError, load_builtin, parse

BUILTIN = resources.files("voicecoach").joinpath("data", "back-of-knee.toml").read_text()
BASE = load_builtin()


def check_outcome(text: str) -> None:
    """Every file either loads or raises one RoutineError line naming the file."""
    try:
        lib = parse(text, "r.toml", BASE)
    except RoutineError as exc:
        msg = str(exc)
        assert msg.startswith("r.toml: ") and "\n" not in msg.strip("\n").split("\n")[0]
        assert len(msg.splitlines()) == 1
        return
    assert isinstance(lib, Library)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_builtin_file_loads_or_fails_with_one_line(data):
    text = BUILTIN
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        chunk = data.draw(st.text(alphabet='[]{}="\n ,.-0123456789abcxyz#', max_size=6))
        if action == "delete":
            text = text[:pos] + text[pos + len(chunk) + 1:]
        elif action == "insert":
            text = text[:pos] + chunk + text[pos:]
        else:
            text = text[:pos] + chunk + text[pos + len(chunk):]
    check_outcome(text)


def toml_value(v: Any) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v != v:
        return "nan"
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    return json.dumps(v)


scalars = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.booleans(),
                    st.text(max_size=12), st.just("calf"), st.just("hold"), st.just("reps"))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["name", "reps", "hold", "cue"]), inner,
                                        max_size=3), max_leaves=6)
keys = st.sampled_from(["id", "name", "kind", "why", "setup", "cue", "sets", "reps", "hold",
                        "rest", "tempo", "side", "levels", "count_every", "aliases", "bogus"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(keys, values, max_size=8), max_size=3),
       st.lists(st.dictionaries(st.sampled_from(["id", "name", "exercises"]),
                                st.one_of(values, st.lists(st.sampled_from(
                                    ["calf", "leg-raise", "nope"]), max_size=3)),
                                max_size=3), max_size=2))
def test_random_documents_load_or_fail_with_one_line(exercises, routines):
    parts = ["format = 1"]
    for ex in exercises:
        parts.append("[[exercise]]")
        parts += [f"{k} = {toml_value(v)}" for k, v in ex.items()]
    for rt in routines:
        parts.append("[[routine]]")
        parts += [f"{k} = {toml_value(v)}" for k, v in rt.items()]
    check_outcome("\n".join(parts) + "\n")


COMMANDS = [Command.NEXT, Command.BACK, Command.REPEAT, Command.PAUSE, Command.RESUME,
            Command.TOGGLE, Command.HELP, Command.PAIN, Command.STOP]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["calf", "leg-raise", "balance", "massage", "hamstring"]),
       st.integers(1, 3), st.sampled_from(["painful", "both"]),
       st.lists(st.tuples(st.floats(0, 400), st.sampled_from(COMMANDS)), max_size=12))
def test_random_command_sequences_keep_the_invariants(name, sets, side, script):
    script = sorted(script, key=lambda x: x[0])
    session, log = make(routine(name, sets=sets, side=side), script)
    completed = session.run()
    ev = log.events
    ts = [e["t"] for e in ev if e["event"] != "say"]
    assert ts == sorted(ts), "time only moves forward"
    assert ev[-1]["event"] == "session_end" and ev[-1]["completed"] is completed
    assert sum(e["event"] == "session_end" for e in ev) == 1
    # Every hold or rep set that started ends counted (done) or skipped, unless stopped.
    started = len(states(ev, "set"))
    done = states(ev, "set_done")
    stopped = any(e["name"] in ("stop",) for e in of(ev, "command")) or not completed
    assert len(done) <= started
    if not stopped:
        assert len(done) + len(states(ev, "pain")) >= started - len(of(ev, "command", name="back"))
    for d in done:
        assert d["hold"] >= 0 and d["reps"] >= 0
        if not d["skipped"]:
            assert d["hold"] > 0 or d["reps"] > 0
    assert ev[-1]["summary"]["sets_done"] == len(done) - sum(d["skipped"] for d in done)
    assert sum(ev[-1]["summary"]["commands"].values()) == len(of(ev, "command"))

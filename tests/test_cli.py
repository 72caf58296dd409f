"""The command line as a person (or a script) uses it: real processes, real files."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voicecoach import words

PY = sys.executable
ENV = {**os.environ, "VOICECOACH_DATA_DIR": "", "PYTHONUNBUFFERED": "1"}


def vc(*args: str, timeout: float = 60, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, "-m", "voicecoach", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=kw.pop("env", ENV), **kw)


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    ENV["VOICECOACH_DATA_DIR"] = str(tmp_path / "data")
    ENV["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    ENV["XDG_CACHE_HOME"] = str(tmp_path / "cache")


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_done_when_calf_virtual_script(tmp_path):
    events = tmp_path / "e.jsonl"
    r = vc("--exercise", "calf", "--clock", "virtual", "--no-voice", "--no-listen",
           "--no-check", "--events", str(events))
    assert r.returncode == 0, r.stderr
    ev = load(events)
    holds = [e for e in ev if e["event"] == "state" and e.get("change") == "hold"]
    assert len(holds) == 3
    for h in holds:
        counts = [e for e in ev if e["event"] == "say" and e["kind"] == "count"
                  and h["t"] < e["t"] <= h["t"] + 20]
        assert [c["text"] for c in counts] == [words.number(n) for n in range(1, 21)]
        assert [round(c["start"] - h["t"], 3) for c in counts] == [float(n) for n in range(1, 21)]
    assert ev[-1]["event"] == "session_end" and ev[-1]["completed"] is True
    # The printed script has the times, one line per thing said.
    assert "count       twenty" in r.stdout and "   0.00  " in r.stdout


def test_previews_on_the_virtual_clock_are_not_sessions(tmp_path):
    """Three previews of the leg raise are no three sessions done: nothing is saved, and the
    next real session is not stepped up a level (it once was, to 12 reps)."""
    for _ in range(3):
        r = vc("--exercise", "leg-raise", "--clock", "virtual", "--no-voice", "--no-check")
        assert r.returncode == 0, r.stderr
        # Its welcome offers voice commands, as the session would: it says nothing listens.
        assert ("a preview on the virtual clock: it is not saved in your history, and nothing "
                "listens") in r.stderr
    for _ in range(2):  # with the safety check: not stored either
        assert vc("--exercise", "calf", "--clock", "virtual", "--no-voice").returncode == 0
    from voicecoach.history import HistoryStore
    from voicecoach.safety import DISCLAIMER_KEY

    store = HistoryStore(tmp_path / "data" / "history.db")
    assert store.sessions() == [] and store.last_safety_check(answered_only=False) is None
    assert store.get_meta(DISCLAIMER_KEY) is None  # the first real session still hears it
    r = vc("--exercise", "leg-raise", "--speed", "1000", "--save", "--no-voice", "--no-listen",
           "--no-check")
    assert "It does not replace a doctor" in r.stdout, r.stdout
    assert r.returncode == 0 and "ready for twelve" not in r.stdout, r.stdout
    assert "Three sets of ten" in r.stdout
    assert len(HistoryStore(tmp_path / "data" / "history.db").sessions()) == 1


def test_sped_up_runs_are_previews_unless_saved(tmp_path):
    """Sped up, the holds were shorter than prescribed: not saved (three once counted as three
    sessions done), and it says so. --save keeps one; --no-save keeps any one out (a physio's
    demonstration in real time)."""
    from voicecoach.history import HistoryStore

    quick = ["--exercise", "calf", "--hold", "1", "--sets", "1", "--rest", "0", "--no-voice",
             "--no-listen", "--no-check"]
    for _ in range(3):
        r = vc(*quick, "--speed", "1000")
        assert r.returncode == 0 and "Set one of one" in r.stdout, r.stderr
        assert r.stderr == ("voicecoach: a sped-up preview (--speed 1000): it is not saved in "
                            "your history (--save keeps it)\n")
    assert HistoryStore(tmp_path / "data" / "history.db").sessions() == []
    r = vc(*quick, "--speed", "1000", "--save")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = vc(*quick, "--speed", "1000", "--no-save")  # asked for: nothing more to say
    assert r.returncode == 0 and r.stderr == "", r.stderr
    stored = HistoryStore(tmp_path / "data" / "history.db").sessions()
    assert [s.status for s in stored] == ["completed"]
    r = vc(*quick, "--clock", "virtual", "--save")
    assert r.returncode == 2
    assert r.stderr.startswith("voicecoach: --save and --clock virtual cannot be used together")


def test_exercise_given_again_runs_each_in_order():
    """`-e hamstring -e calf` ran the calf alone, silently; now both, in the order given."""
    r = vc("-e", "hamstring", "-e", "calves", "--clock", "virtual", "--no-voice", "--no-check")
    assert r.returncode == 0, r.stderr
    intros = [line.split()[-1] for line in r.stdout.splitlines() if "] intro " in line]
    assert intros == ["hamstring", "calf"]
    assert "Let's start your exercises." in r.stdout and "completed: 6 of 6 sets" in r.stdout
    r = vc("-e", "calf", "-e", "calves", "--clock", "virtual", "--no-voice", "--no-check")
    assert r.returncode == 2 and r.stderr == ("voicecoach: --exercise: 'calves' is calf again; "
                                              "to do more sets, use --sets\n")
    r = vc("-e", "calf", "-e", "calf", "--clock", "virtual", "--no-voice", "--no-check")
    assert r.stderr == "voicecoach: --exercise: calf is given twice; to do more sets, use --sets\n"
    r = vc("-e", "calf", "-e", "massage", "--level", "2", "--clock", "virtual", "--no-voice")
    assert r.stderr == ("voicecoach: --level does not apply to calf and massage: they have no "
                        "levels\n")


def test_volume_zero_with_no_speaker_says_only_that_there_is_none():
    """The volume line (test_faults_audio.py) comes once a speaker is open: with none, it
    would contradict "no voice: no sound output device"."""
    r = vc("-e", "calf", "--hold", "1", "--sets", "1", "--rest", "0", "--volume", "0",
           "--speed", "1000", "--no-listen", "--no-check",
           env={**ENV, "PULSE_SERVER": "unix:/nonexistent"})
    assert r.returncode == 0, r.stderr
    assert "the volume is 0" not in r.stderr and "no voice" in r.stderr, r.stderr


def test_a_preview_refuses_a_voice_the_session_would_refuse():
    """--voice nosuch was accepted with --clock virtual (no speech), then refused for real."""
    r = vc("--exercise", "calf", "--clock", "virtual", "--voice", "nosuch", "--no-check")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == "voicecoach: unknown voice 'nosuch' (see `voicecoach voices`)\n"
    r = vc("--exercise", "calf", "--clock", "virtual", "--voice", "en-us", "--no-check")
    assert r.returncode == 0 and "completed: 3 of 3 sets" in r.stdout, r.stderr


def test_a_sped_up_preview_shows_the_disclaimer_once_and_a_virtual_one_leaves_it():
    """Sped-up previews asked the disclaimer every time: it was heard, so it is remembered.
    A preview on the virtual clock (instant captions) still leaves it to the first session."""
    from voicecoach import safety

    quick = ["--exercise", "calf", "--hold", "1", "--sets", "1", "--rest", "0", "--no-voice",
             "--no-listen", "--no-check"]
    opening = safety.DISCLAIMER.split(".")[0]
    r = vc(*quick, "--clock", "virtual")
    assert r.returncode == 0 and opening in r.stdout, r.stderr
    shown = [opening in vc(*quick, "--speed", "1000").stdout for _ in range(2)]
    assert shown == [True, False]


def test_with_no_speaker_an_unknown_voice_is_still_refused():
    """With no sound device the session fell back on captions and --voice nosuch went
    unnoticed; on a machine with a speaker the same command fails."""
    env = {**ENV, "PULSE_SERVER": "unix:/nonexistent"}
    r = vc("-e", "calf", "--voice", "nosuch", "--speed", "1000", "--no-listen", "--no-check",
           env=env)
    assert r.returncode == 2 and r.stdout == "", (r.stdout, r.stderr)
    assert r.stderr.strip().endswith("unknown voice 'nosuch' (see `voicecoach voices`)")
    r = vc("-e", "calf", "--voice", "en-us", "--hold", "1", "--sets", "1", "--rest", "0",
           "--speed", "1000", "--no-listen", "--no-check", env=env)
    assert r.returncode == 0 and "no voice" in r.stderr, r.stderr


def test_a_bad_config_file_is_reported_on_every_run(tmp_path):
    """A preview with captions reads no voice or listening setting, yet a mistake in the
    config file is reported there too (it was reported only once voice or listening was on)."""
    config = tmp_path / "config" / "voicecoach" / "config.toml"
    config.parent.mkdir(parents=True)
    for text, line in (('rate = "fast"\n', "rate must be a number, not 'fast'"),
                       ('recognizer = "whisper"\n', "recognizer must be one of auto, vosk, "
                        "pocketsphinx, none, not 'whisper'")):
        config.write_text(text, encoding="utf-8")
        for extra in (["--clock", "virtual"], ["--speed", "1000", "--no-listen"]):
            r = vc("--exercise", "calf", "--no-voice", "--no-check", *extra)
            assert r.returncode == 2, r.stderr
            assert r.stderr.strip().splitlines() == [f"voicecoach: config file {config}: {line}"]
            assert "Traceback" not in r.stderr and r.stdout == ""


def test_stdout_and_stderr_piped_into_a_reader_that_leaves_keep_the_session(tmp_path):
    """`voicecoach ... 2>&1 | head -3`: both streams close after three lines. The session (its
    voice, if any, and its record) goes on to the end, as with stdout alone closed; it used to
    end at the next caption with exit 0 and nothing recorded."""
    events = tmp_path / "events.jsonl"
    p = subprocess.Popen([PY, "-m", "voicecoach", "--exercise", "calf", "--speed", "1000",
                          "--save", "--no-voice", "--no-listen", "--no-check", "--events",
                          str(events)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=ENV, stdin=subprocess.DEVNULL)
    assert p.stdout is not None
    for _ in range(3):
        p.stdout.readline()
    p.stdout.close()  # as head does
    assert p.wait(timeout=60) == 0
    end = load(events)[-1]
    assert end["event"] == "session_end" and end["completed"] is True, end
    from voicecoach.history import HistoryStore

    stored = HistoryStore(tmp_path / "data" / "history.db").sessions()
    assert [s.status for s in stored] == ["completed"]


def test_events_never_overwrite_a_file_that_is_not_an_event_stream(tmp_path):
    routine_file = tmp_path / "morning.toml"
    routine_file.write_text('[[exercise]]\nid = "mine"\n')
    run = ("--exercise", "calf", "--clock", "virtual", "--no-voice", "--no-check", "--events")
    r = vc(*run, str(routine_file))
    assert r.returncode == 2 and r.stderr == (
        f"voicecoach: --events: {routine_file} holds something else (not an event stream); it "
        "would be overwritten: choose another file name\n")
    assert routine_file.read_text() == '[[exercise]]\nid = "mine"\n'
    events = tmp_path / "last.jsonl"
    for _ in range(2):  # the last run's stream is written over, as a service does every start
        assert vc(*run, str(events)).returncode == 0
        assert load(events)[-1]["event"] == "session_end"


def test_output_to_a_full_disk_is_one_line_and_the_session_goes_on(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        r = subprocess.run([PY, "-m", "voicecoach", "--list"], stdout=full, stderr=subprocess.PIPE,
                           text=True, env=ENV, timeout=60, stdin=subprocess.DEVNULL)
        assert r.returncode == 1
        assert r.stderr == "voicecoach: cannot write the list (No space left on device)\n"
        r = subprocess.run([PY, "-m", "voicecoach", "--exercise", "calf", "--speed", "1000",
                            "--save", "--no-voice", "--no-listen", "--no-check"], stdout=full,
                           stderr=subprocess.PIPE, text=True, env=ENV, timeout=60,
                           stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.count("cannot write the captions (No space left on device)") == 1
    from voicecoach.history import HistoryStore

    stored = HistoryStore(tmp_path / "data" / "history.db").sessions()
    assert stored[0].status == "completed"
    # An events file on a full disk: one line, and the session (and its history) go on.
    r = vc("--exercise", "calf", "--speed", "1000", "--save", "--no-voice", "--no-listen",
           "--no-check", "--events", "/dev/full")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.count("events stopped: cannot write them (No space left on device)") == 1
    assert len(HistoryStore(tmp_path / "data" / "history.db").sessions()) == 2


def test_python_dash_m_and_list_and_help():
    r = vc("--list")
    assert r.returncode == 0 and "leg-raise" in r.stdout and "back-of-knee" in r.stdout
    # Our figures, where the programme gives none, are starred (the data's `defaults`).
    rows = {ln.split()[0]: ln for ln in r.stdout.splitlines() if ln.startswith("  ")}
    assert "several times a day (target 2-3*)" in rows["hamstring"]
    assert "3x20 s hold " in rows["calf"] and "*" not in rows["calf"]
    assert "3x30 s hold*" in rows["balance"] and "3x10 reps " in rows["leg-raise"]
    assert "our default where the programme gives no figure" in rows["*"]
    r = vc("--help")
    assert r.returncode == 0 and "examples:" in r.stdout and "--exercise calf" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--exercise", "calff"], "unknown exercise 'calff' — did you mean 'calf'?"),
    (["--exercise", "zzz"], "unknown exercise 'zzz'"),
    (["--routine", "nope"], "unknown routine 'nope'"),
    (["--exercise", "back-of-knee"], "'back-of-knee' is a routine: use --routine"),
    (["--routine", "Calf"], "'Calf' is an exercise: use --exercise"),
    (["--hold", "-5"], "--hold must be between"),
    (["--hold", "0"], "--hold must be between"),
    (["--hold", "1e9"], "--hold must be between"),
    (["--hold", "nan"], "--hold must be between"),
    (["--reps", "ten"], "--reps must be a whole number"),
    (["--sets", "0"], "--sets must be between"),
    # As in a routine file: the massage's third part (the calf) is never dropped in silence.
    (["--exercise", "massage", "--sets", "2"], "--sets 2: massage has a cue for each of 3 sets"),
    (["--sets", "2"], "fewer would leave out: Now work down into the calf."),
    (["--speed", "0"], "--speed must be between"),
    (["--side", "middle"], "invalid choice"),
    (["--exercise", "calf", "--routine", "back-of-knee"], "cannot be used together"),
    (["--routine-file", "/nonexistent.toml"], "no such file"),
    (["--exercise", "calf", "--clock", "virtual", "--no-voice", "--no-check",
      "--events", "/nonexistent/dir/e.jsonl"], "cannot write events to /nonexistent/dir"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    r = vc(*args)
    assert r.returncode == 2
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


GOOD = """
format = 1

[[exercise]]
id = "wall-sit"
name = "Wall sit"
kind = "hold"
why = "Builds the thigh muscles with little movement."
setup = ["Lean your back against a wall and slide down a little."]
cue = "Keep your back on the wall."
sets = 2
hold = 5
rest = 3
aliases = ["wall", "Sit"]

[[routine]]
id = "morning"
name = "Morning routine"
aliases = ["am"]
exercises = ["wall-sit", { exercise = "calf", hold = 4, sets = 1 }]
"""


def test_routine_file_runs(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(GOOD)
    events = tmp_path / "e.jsonl"
    r = vc("--routine-file", str(f), "--clock", "virtual", "--no-voice", "--no-check",
           "--events", str(events))
    assert r.returncode == 0, r.stderr
    ev = load(events)
    assert [e["exercise"] for e in ev if e.get("change") == "exercise"] == ["wall-sit", "calf"]
    assert [e["seconds"] for e in ev if e.get("change") == "hold"] == [5.0, 5.0, 4.0]


def test_a_files_aliases_name_its_exercises_and_routines(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(GOOD)
    for pick, ids in ((["-e", "sit"], ["wall-sit"]), (["-e", "Wall", "-e", "calf"],
                                                    ["wall-sit", "calf"]),
                      (["-r", "AM"], ["wall-sit", "calf"])):
        r = vc("--routine-file", str(f), *pick, "--clock", "virtual", "--no-voice", "--no-check")
        assert r.returncode == 0, r.stderr
        assert [line.split()[-1] for line in r.stdout.splitlines() if "] intro " in line] == ids


def test_a_file_of_exercises_only_runs_those_exercises(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(GOOD.split("[[routine]]")[0])
    events = tmp_path / "e.jsonl"
    r = vc("--routine-file", str(f), "--clock", "virtual", "--no-voice", "--no-check",
           "--events", str(events))
    assert r.returncode == 0, r.stderr
    assert [e["exercise"] for e in load(events) if e.get("change") == "exercise"] == ["wall-sit"]


@pytest.mark.parametrize("text, where", [
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\nhold = -1\n",
     "exercise 'x'.hold: must be between 1 and 600, got -1"),
    ("format = 1\n[[exercise]\nid = 'x'\n", "not valid TOML"),
    ("format = 1\n[[exercise]]\nname = \"X\"\n", "exercise[1]: 'id' is missing"),
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\nkind = \"jump\"\n",
     "exercise 'x'.kind: must be \"hold\" or \"reps\""),
    ("format = 1\n[[routine]]\nid = \"r\"\nexercises = [\"calff\"]\n",
     "routine 'r'.exercises[1]: unknown exercise 'calff' — did you mean 'calf'?"),
    ("format = 2\n", "format: this version reads format 1"),
    ("colour = 'red'\n", "top level: unknown key 'colour'"),
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\nsets = 2.5\n",
     "exercise 'x'.sets: must be a whole number"),
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\ntempo = [[1, 2]]\n",
     "exercise 'x'.tempo: must be a list like"),
    # Never ignored in silence: what the command line refuses, and a file with nothing in it.
    ("format = 1\n[[routine]]\nid = \"r\"\nexercises = [{ exercise = \"calf\", reps = 10 }]\n",
     "routine 'r'.exercises[1].reps: does not apply to calf: it is done in timed holds"),
    ("format = 1\n[[routine]]\nid = \"r\"\nexercises = [{ exercise = \"leg-raise\", hold = 9 }]\n",
     "routine 'r'.exercises[1].hold: does not apply to leg-raise: it is done in reps"),
    # A run-through: reps with no kind ran as three holds of twenty seconds; a level past the
    # exercise's last was cut down to it, though --level refuses it.
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\nreps = 10\n",
     "exercise 'x'.reps: does not apply with no kind (a hold, counted each second): for reps, "
     "add kind = \"reps\""),
    # And the opposite: a hold on a reps exercise ran as ten reps, the 30 s dropped.
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\nkind = \"reps\"\n"
     "hold = 30\n",
     "exercise 'x'.hold: does not apply with kind = \"reps\": remove it, or for timed holds "
     "write kind = \"hold\""),
    ("format = 1\n[[routine]]\nid = \"r\"\nexercises = [{ exercise = \"leg-raise\", level = 9 }]\n",
     "routine 'r'.exercises[1].level: must be between 1 and 6 for leg-raise, got 9"),
    ("format = 1\n[[routine]]\nid = \"r\"\nexercises = [{ exercise = \"calf\", level = 1 }]\n",
     "routine 'r'.exercises[1].level: does not apply to calf: it has no levels"),
    ("", "defines no [[exercise]] or [[routine]]"),
    ("format = 1\n", "defines no [[exercise]] or [[routine]]"),
    ("format = 1\n[[routine]]\nid = \"a\"\nexercises = [\"calf\"]\n"
     "[[routine]]\nid = \"b\"\nexercises = [\"calf\"]\n",
     "has 2 routines (a, b): choose one with --routine NAME"),
    # A level's reps on a hold were ignored in silence (as top-level reps once were).
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\n"
     "levels = [{ name = \"a\" }, { name = \"b\", reps = 12 }]\n",
     "exercise 'x'.levels[2].reps: does not apply: x is done in timed holds"),
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\nkind = \"reps\"\n"
     "levels = [{ name = \"a\", hold = 5 }]\n",
     "exercise 'x'.levels[1].hold: does not apply: x is done in reps"),
    # A file's "calf" replaced the built-in one for --exercise but not in the built-in routine.
    ("format = 1\n[[exercise]]\nid = \"calf\"\nname = \"C\"\ncue = \"c\"\n",
     "exercise 'calf': id 'calf' already names the built-in exercise 'calf'; to change its "
     "dose, write { exercise = \"calf\", hold = 20 } in a [[routine]]"),
    ("format = 1\n[[exercise]]\nid = \"leg-raise\"\nname = \"L\"\ncue = \"c\"\n",
     "write { exercise = \"leg-raise\", reps = 10 } in a [[routine]]"),
    ("format = 1\n[[exercise]]\nid = \"calves\"\nname = \"C\"\ncue = \"c\"\n",
     "exercise 'calves': id 'calves' already names the built-in exercise 'calf'; give yours "
     "its own id"),
    ("format = 1\n[[exercise]]\nid = \"anna\"\nname = \"A\"\ncue = \"c\"\n"
     "aliases = [\"calves\"]\n",
     "exercise 'anna': alias 'calves' already names the built-in exercise 'calf'; choose "
     "another alias"),
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\n"
     "[[exercise]]\nid = \"y\"\nname = \"Y\"\ncue = \"c\"\naliases = [\"x\"]\n",
     "exercise 'y': alias 'x' already names the exercise 'x' above it"),
    ("format = 1\n[[routine]]\nid = \"back-of-knee\"\nexercises = [\"calf\"]\n",
     "routine 'back-of-knee': id 'back-of-knee' already names the built-in routine"),
    # A user's run-through: each of these ran, with its flaw shown or dropped in silence.
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\\u0000\"\ncue = \"c\"\n",
     "exercise 'x'.name: holds a control character ('\\x00'); write plain text"),
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\nwhy = \"" + "w " * 600
     + "\"\n", "exercise 'x'.why: is 1200 characters long; keep it under 1000"),
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\nper_day_min = 5\n"
     "per_day_max = 2\n", "exercise 'x': per_day_min (5) is more than per_day_max (2)"),
    # A physiotherapist's run-through (2026-12-08): Python's spelling, and no word of a list.
    ("format = 1\n[[routine]]\nid = \"m\"\nexercises = [{ exercise = \"calf\", hold = true }]\n",
     "routine 'm'.exercises[1].hold: must be a number, got true"),
    ("format = 1\n[[routine]]\nid = \"m\"\nexercises = \"calf\"\n",
     "routine 'm'.exercises: must list at least one exercise in [ ], got 'calf'"),
    # A misspelt name in `defaults` marked nothing as ours, in silence.
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\ndefaults = [\"hodl\"]\n",
     "exercise 'x'.defaults: unknown field 'hodl' (one of: sets, reps, hold, rest, tempo, "
     "count_every, per_day)"),
    ("format = 1\n[[exercise]]\nid = \"x\"\nname = \"X\"\ncue = \"c\"\nsets = 2\n"
     "set_cues = [\"a\", \"b\", \"c\"]\n", "exercise 'x'.set_cues: has 3 lines for 2 sets"),
])
def test_malformed_routine_file_names_file_place_and_problem(tmp_path, text, where):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    r = vc("--routine-file", str(f), "--clock", "virtual", "--no-voice")
    assert r.returncode == 2
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert str(f) in line and where in line


def test_a_byte_order_mark_is_not_a_toml_error(tmp_path):
    f = tmp_path / "notepad.toml"  # Windows Notepad may start a UTF-8 file with one
    f.write_bytes(b"\xef\xbb\xbfformat = 1\n[[routine]]\nid = \"m\"\nname = \"Morning\"\n"
                  b"exercises = [{ exercise = \"calf\", sets = 1 }]\n")
    r = vc("--routine-file", str(f), "--clock", "virtual", "--no-voice")
    assert r.returncode == 0 and "completed: 1 of 1 sets" in r.stdout, r.stderr


def test_a_routine_file_that_is_not_one_is_named_plainly(tmp_path):
    """A folder, binary data, a FIFO (which waited forever) and /dev/zero (which never ended)
    are each one plain line and exit 2, not a Python exception's name or a hang."""
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    binary = tmp_path / "b.toml"
    binary.write_bytes(bytes(range(128, 256)))
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * 2_000_000)
    for path, says in ((tmp_path, "is a folder, not a routine file"),
                       (binary, "is not text (a routine file is TOML, in UTF-8)"),
                       (fifo, "is not a regular file"),
                       (Path("/dev/zero"), "is not a regular file"),
                       (big, "is 2.0 MB; a routine file is a short text (TOML)")):
        r = vc("--routine-file", str(path), "--clock", "virtual", "--no-voice", timeout=20)
        assert r.returncode == 2 and r.stderr == f"voicecoach: {path}: {says}\n", r.stderr


def test_unattended_real_time_runs_to_the_end_on_deadlines(tmp_path):
    """stdin closed, no terminal: keyboard off, nothing blocks, counts on absolute deadlines."""
    events = tmp_path / "e.jsonl"
    r = vc("--exercise", "calf", "--hold", "4", "--sets", "2", "--rest", "2", "--speed", "10",
           "--no-voice", "--no-listen", "--no-check", "--events", str(events), timeout=60)
    assert r.returncode == 0, r.stderr
    ev = load(events)
    hold = [e for e in ev if e.get("change") == "hold"]
    counts = [e for e in ev if e["event"] == "say" and e["kind"] == "count"
              and hold[0]["t"] < e["t"] <= hold[0]["t"] + 4.5]
    assert [c["text"] for c in counts] == ["one", "two", "three", "four"]
    # Real time (sped up 10x): each count lands within 30 ms (session time) of start + n.
    for n, c in enumerate(counts, 1):
        assert abs(c["start"] - (hold[0]["t"] + n)) < 0.3  # 0.3 session s = 30 ms real at 10x
    walls = [e["wall"] for e in ev]
    assert walls == sorted(walls) or max(a - b for a, b in zip(walls, walls[1:])) < 0.5
    assert ev[-1]["completed"] is True
    # Nothing listens and there is no terminal: the welcome does not tell them to say or press
    # anything, only to stop if the pain turns sharp.
    said = [e["text"] for e in ev if e["event"] == "say"]
    assert "If the pain turns sharp at any point, stop." in said
    assert not [t for t in said if t.startswith(("Say ", "Press "))]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_stop_cleanly_and_keep_the_events(tmp_path, signum):
    events = tmp_path / "e.jsonl"
    p = subprocess.Popen([PY, "-m", "voicecoach", "--exercise", "calf", "--speed", "20", "--save",
                          "--no-voice", "--no-listen", "--no-check", "--events", str(events)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=ENV, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        if events.exists() and '"set_done"' in events.read_text():
            break
        time.sleep(0.05)
    p.send_signal(signum)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 128 + signum, err
    assert "Traceback" not in err
    ev = load(events)
    assert ev[-1]["event"] == "session_end" and ev[-1]["completed"] is False
    assert ev[-1]["summary"]["sets_done"] >= 1
    assert any(e["event"] == "command" and e["source"] == "signal" for e in ev)
    from voicecoach.history import HistoryStore

    stored = HistoryStore(tmp_path / "data" / "history.db").sessions()
    assert stored[0].status == "stopped" and len(stored[0].sets) >= 1


@pytest.mark.parametrize("answers, status", [
    ("n\nn\nn\n", 0),  # all clear
    ("n\ny\n", 3),  # a warning sign
    ("", 4),  # nothing answered: never all clear to a script
])  # fmt: skip
def test_check_answers_piped_in_and_its_exit_status(answers, status):
    r = subprocess.run([PY, "-m", "voicecoach", "check"], input=answers, capture_output=True,
                       text=True, env=ENV, timeout=60)
    assert r.returncode == status, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert ("no answer" in r.stderr) == (status == 4)


def test_a_reported_sign_stops_sessions_but_not_a_script_preview():
    r = subprocess.run([PY, "-m", "voicecoach", "check"], input="n\ny\n", capture_output=True,
                       text=True, env=ENV, timeout=60)
    assert r.returncode == 3
    run = ("--exercise", "calf", "--no-voice", "--no-listen")
    r = vc(*run, "--speed", "1000", "--no-check")
    assert r.returncode == 3 and "severe knee pain that came on suddenly" in r.stdout, r.stdout
    assert "no exercise until the questions are answered again" in r.stderr
    r = vc(*run, "--clock", "virtual")  # prints the script: no exercise is done
    assert r.returncode == 0 and "completed: 3 of 3 sets" in r.stdout, r.stdout
    r = vc("today")
    assert "a warning sign was reported (severe knee pain" in r.stdout
    r = subprocess.run([PY, "-m", "voicecoach", "check"], input="n\nn\nn\n",
                       capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 0
    assert vc(*run, "--speed", "1000", "--no-check").returncode == 0  # answered again: clear


def test_ctrl_c_at_the_check_prompt_is_one_line(tmp_path):
    """`voicecoach check` waits at a terminal prompt; Ctrl-C there ends it with one line."""
    import pty

    main, child = pty.openpty()  # a terminal, so the questions are asked
    # Ctrl-C as a terminal's foreground program gets it: CI runs the tests in the background,
    # where the shell makes them (and so this child) ignore SIGINT, and Python then does too.
    p = subprocess.Popen([PY, "-m", "voicecoach", "check"], stdin=child,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(child)
    try:
        deadline = time.time() + 30
        while time.time() < deadline and not (tmp_path / "data").exists():
            time.sleep(0.05)  # the disclaimer is remembered before the first question
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=20)
    finally:
        os.close(main)
    assert p.returncode == 130, err
    assert "Traceback" not in err and err.strip() == "voicecoach check: stopped"


@pytest.mark.parametrize("keys, status", [("nnn", 0), ("ny", 3), ("q", 130)])
def test_check_at_a_terminal_takes_single_keys(keys, status):
    """At a terminal, y and n answer with no Enter, as in a session; q stops."""
    import pty

    main, child = pty.openpty()
    p = subprocess.Popen([PY, "-m", "voicecoach", "check"], stdin=child,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, text=True)
    os.close(child)
    try:
        for key in keys:
            # Each key once its question is asked: the prompt "> " ends the line asked.
            out = ""
            deadline = time.time() + 30
            while not out.endswith("> ") and time.time() < deadline:
                out += p.stdout.read(1)
            os.write(main, key.encode())
        rest, err = p.communicate(timeout=30)
    finally:
        os.close(main)
    assert p.returncode == status, (rest, err)
    assert "Traceback" not in err
    if status == 130:
        assert err.strip() == "voicecoach check: stopped"


def test_a_closed_terminal_puts_nothing_back_and_raises_nothing():
    """The terminal window closed mid-session (SIGHUP): restoring its settings failed with
    termios.error (EIO) and a traceback, after the sets were kept."""
    import pty

    from voicecoach.commands import Inbox
    from voicecoach.keyboard import Keyboard

    main, child = pty.openpty()
    keyboard = Keyboard(Inbox(), fd=child)
    keyboard.start()
    os.close(main)  # the window is gone
    try:
        keyboard.close()
        assert not keyboard._thread.is_alive()  # out of select() before the fd goes
    finally:
        os.close(child)


def test_a_terminal_descriptor_closed_under_the_keyboard_ends_it_quietly():
    """select() on a descriptor already closed raised OSError (EBADF) in the keyboard thread:
    a CI run printed "Exception in thread keyboard" with its traceback (the thread began its
    first select() after the test had closed the terminal). The loop now just ends."""
    import pty

    from voicecoach.commands import Inbox
    from voicecoach.keyboard import Keyboard

    main, child = pty.openpty()
    keyboard = Keyboard(Inbox(), fd=child)
    os.close(child)
    os.close(main)
    keyboard._run()  # the thread's loop, here: returns instead of raising


def test_a_preview_names_the_controls_its_options_give(tmp_path):
    """--clock virtual opens no microphone, but shows what such a session would say."""
    def welcome(*extra: str) -> list[str]:
        events = tmp_path / "e.jsonl"
        r = vc("--exercise", "calf", "--clock", "virtual", "--no-voice", "--no-check",
               "--events", str(events), *extra)
        assert r.returncode == 0, r.stderr
        return [e["text"] for e in load(events) if e["event"] == "say"][:4]

    assert [t for t in welcome() if t.startswith("Say pause")]
    for extra in (["--no-listen"], ["--recognizer", "none"]):
        assert not [t for t in welcome(*extra) if t.startswith("Say ")], extra


# --- every numeric and name option: negative, zero, huge, not a number, unknown, conflicting --

NUMERIC = {  # option: (lowest allowed, highest allowed, whole numbers only)
    "--hold": (1, 600, False), "--reps": (1, 100, True), "--sets": (1, 20, True),
    "--rest": (0, 600, False), "--speed": (0.1, 1000, False),
    "--rate": (60, 400, True), "--volume": (0, 1, False),
}  # fmt: skip


def numeric_cases() -> list[tuple[list[str], str]]:
    cases = []
    for opt, (lo, hi, whole) in NUMERIC.items():
        between = f"{opt} must be between {lo:g} and {hi:g}"
        number = f"{opt} must be {'a whole number' if whole else 'a number'}"
        cases += [([opt, "-3"], between), ([opt, "1e12"], between),
                  ([opt, "99999999999999999999999"], between), ([opt, "abc"], number),
                  ([opt, ""], number), ([opt, "0x10"], number), ([opt, "1,5"], number)]
        cases += [([opt, "nan"], number if whole else between),
                  ([opt, "inf"], number if whole else between)]
        if lo > 0:
            cases.append(([opt, "0"], between))
        if whole:
            cases.append(([opt, "2.5"], number))
    return cases


NAMES_AND_CONFLICTS = [
    (["--exercise", ""], "--exercise needs a value, got an empty one"),
    (["--routine", " "], "--routine needs a value"),
    (["--routine-file", ""], "--routine-file needs a value"),
    (["--events", ""], "--events needs a value"),
    (["--data-dir", ""], "--data-dir needs a value"),
    (["--voice", ""], "--voice needs a value"),
    (["--output-device", ""], "--output-device needs a value"),
    (["--input-device", ""], "--input-device needs a value"),
    (["--model", ""], "--model needs a value"),
    (["--exercise", "Calf!"], "unknown exercise 'Calf!'"),
    (["--routine", "back-of-knees"], "unknown routine 'back-of-knees'"),
    (["--side", "middle"], "invalid choice: 'middle'"),
    (["--clock", "fast"], "invalid choice: 'fast'"),
    (["--recognizer", "whisper"], "invalid choice: 'whisper'"),
    (["--hold"], "expected one argument"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--exercise", "calf", "extra"], "unrecognized arguments: extra (see"),
    (["calf"], "unrecognized arguments: calf; did you mean --exercise calf?"),
    (["--exercise", "leg-raise", "--level", "9"],
     "--level must be between 1 and 6 here (levels: leg-raise 6), got 9"),
    (["--exercise", "calf", "--level", "2"], "--level does not apply to calf: it has no levels"),
    # --level's range is the exercise's own: "between 1 and 20" named a limit none has.
    (["--exercise", "calf", "--level", "0"], "--level does not apply to calf: it has no levels"),
    (["--exercise", "leg-raise", "--level", "0"],
     "--level must be between 1 and 6 here (levels: leg-raise 6), got 0"),
    (["--exercise", "balance", "--level", "-3"],
     "--level must be between 1 and 3 here (levels: balance 3), got -3"),
    (["--exercise", "balance", "--level", "1e12"], "between 1 and 3 here (levels: balance 3)"),
    (["--level", "abc"], "--level must be a whole number, got 'abc'"),
    (["--level", "2.5"], "--level must be a whole number, got '2.5'"),
    (["--level", "nan"], "--level must be a whole number, got 'nan'"),
    # The whole routine: a level was rounded down for an exercise with fewer, and level 2
    # straightened the hamstring stretch's knee with the leg raise's 3 x 12.
    (["--level", "2"], "--level sets one exercise's level (levels here: hamstring 2, leg-raise "
                       "6, balance 3); name it with --exercise"),
    (["-e", "leg-raise", "-e", "balance", "--level", "2"], "--level sets one exercise's level"),
    (["back-of-knee"], "did you mean --routine back-of-knee?"),
    (["--routine", "back-of-knee", "--exercise", "calf"], "cannot be used together"),
    (["--exercise", "leg-raise", "--hold", "30"], "--hold does not apply to leg-raise"),
    (["--exercise", "calf", "--reps", "12"], "--reps does not apply to calf"),
    (["--no-voice", "--voice", "en"], "--voice and --no-voice cannot be used together"),
    (["--no-voice", "--rate", "150"], "--rate and --no-voice cannot be used together"),
    (["--no-voice", "--volume", "0.5"], "--volume and --no-voice cannot be used together"),
    (["--no-voice", "--output-device", "USB"], "--output-device and --no-voice cannot"),
    (["--no-listen", "--model", "/m"], "--model and --no-listen cannot be used together"),
    (["--no-listen", "--input-device", "USB"], "--input-device and --no-listen cannot"),
    (["--no-listen", "--recognizer", "vosk"], "--recognizer and --no-listen cannot"),
    (["--events", "-"], "--events needs a file name; - would mix the events into the captions"),
    (["--recognizer", "none", "--input-device", "1"], "and --recognizer none cannot"),
    (["--recognizer", "pocketsphinx", "--model", "/m"], "--model is a vosk model"),
    (["--clock", "virtual", "--speed", "10"], "--speed and --clock virtual cannot"),
    (["--model", "/nonexistent/model"], "--model: no model folder at /nonexistent/model"),
    # An existing folder that is not a model ran on, with only "not listening" said.
    (["--exercise", "calf", "--model", "/"], "--model: / is not a vosk model folder (one holds "
     "am/ or conf/); get one with: voicecoach model download"),
    (["--data-dir", "/dev/null"], "--data-dir: /dev/null is a file, not a folder"),
    (["--save", "--no-save"], "--save and --no-save cannot be used together"),
    # A user's run-through: said only after the whole session, "this session was not saved".
    (["--data-dir", "/dev/null/history"], "--data-dir: cannot make the folder /dev/null/history"),
]


@pytest.mark.parametrize("args, message", numeric_cases() + NAMES_AND_CONFLICTS)
def test_every_bad_value_is_one_line_and_exit_2(args, message, capsys, monkeypatch):
    """In-process (fast); the table above runs a few of the same through a real process."""
    from voicecoach import app, cli

    monkeypatch.setattr(app, "run_session", lambda *a: pytest.fail(f"{args} was accepted"))
    try:
        status = cli.main(args)
    except SystemExit as stop:
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("voicecoach: ") and message in err
    assert not re.match(r"voicecoach: argument (\S+): \1 ", err), err  # the option named once


@pytest.mark.parametrize("args", [
    ["--rest", "0"], ["--volume", "0"], ["--volume", "1"], ["--hold", " 5"], ["--speed", "1"],
    ["--exercise", "leg-raise", "--level", "6"], ["--sets", "20"], ["--exercise", "CALF"],
    ["--exercise", "calf ", "--sets", "1"], ["--side", "LEFT"],
])  # fmt: skip
def test_edge_values_that_are_fine_are_accepted(args, monkeypatch):
    from voicecoach import app, cli

    seen = []
    monkeypatch.setattr(app, "run_session", lambda a, routine: seen.append(routine) or 0)
    base = [] if "--exercise" in args else ["--exercise", "calf"]
    assert cli.main([*base, *args]) == 0 and len(seen) == 1


def test_pain_ten_typed_at_the_terminal_is_ten(tmp_path):
    """A person at the terminal: "x" (it hurts) mid-stretch, then 1 and 0 for the worst pain.
    The coach hears ten (and says to stop for today), not one."""
    import pty
    import threading

    main, child = pty.openpty()
    p = subprocess.Popen([PY, "-m", "voicecoach", "--exercise", "calf", "--speed", "20", "--save",
                          "--no-voice", "--no-listen", "--no-check"], stdin=child,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, text=True)
    os.close(child)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(p.stdout.readline, "")))
    reader.start()

    def shown(text: str, timeout: float = 30) -> bool:
        end = time.time() + timeout
        while time.time() < end:
            if any(text in line for line in lines):
                return True
            time.sleep(0.02)
        return False

    try:
        assert shown(" count "), lines  # mid-stretch
        os.write(main, b"x")
        assert shown("How bad is the pain"), lines
        time.sleep(0.5)  # the question said (at --speed 20, 0.2 s)
        os.write(main, b"1")
        # Half a second of a person's time: 10 s of this sped-up session's, yet still within
        # the second the coach waits for a second digit.
        time.sleep(0.5)
        os.write(main, b"0")
        assert shown("best to stop for today"), lines
        p.wait(timeout=60)
    finally:
        p.kill()
        reader.join(timeout=5)
        os.close(main)
    from voicecoach.history import HistoryStore

    stored = HistoryStore(tmp_path / "data" / "history.db").sessions()
    assert [s.value for s in stored[0].pain_stops] == [10], stored[0]


def test_every_option_says_what_it_is_in_help(capsys):
    """--hold, --rest, --rate, --volume and the devices had no description or unit."""
    from voicecoach import cli

    bare = [a.option_strings[0] for a in cli.parser()._actions
            if a.option_strings and not a.help and a.dest not in ("help", "version")]
    assert bare == []


@pytest.mark.parametrize(("argv", "entry", "fixed"), [
    ([], '"leg-raise"', False),                                   # listed only: it climbs
    ([], '{ exercise = "leg-raise", side = "left", rest = 5 }', False),
    ([], '{ exercise = "leg-raise", reps = 12 }', True),          # the physio's dose
    ([], '{ exercise = "leg-raise", level = 3 }', True),
    ([], '{ exercise = "leg-raise", sets = 2 }', True),
    (["--hold", "30"], '"leg-raise"', False),                     # --hold is the stretches'
    (["--reps", "12"], '"leg-raise"', True),
    (["--level", "2"], '"leg-raise"', True),
])
def test_only_a_dose_set_for_the_leg_raise_keeps_it_from_climbing(
        tmp_path: Path, argv: list[str], entry: str, fixed: bool) -> None:
    """A review (2026-12-07): any routine file, or --hold, reset the leg raise to level 1 and
    turned its progression off, while `today` showed the level it had reached."""
    from voicecoach.cli import choose, parser

    f = tmp_path / "mine.toml"
    f.write_text(f'[[routine]]\nid = "mine"\nexercises = [{entry}, "calf"]\n')
    _, routine = choose(parser().parse_args(["--routine-file", str(f), *argv]))
    leg, calf = routine.exercises
    assert (leg.fixed, calf.fixed) == (fixed, "--hold" in argv)


@pytest.mark.parametrize(("body", "says"), [
    # Its sets were stored under the first time's numbers and replaced them in the history.
    ('[[routine]]\nid = "twice"\nexercises = [{ exercise = "calf", hold = 30 }, '
     '{ exercise = "calf", hold = 5 }]\n',
     "routine 'twice'.exercises[2]: lists calf a second time; list it once (for more sets, "
     "write sets = N)"),
    # Taken, then never found: --routine looks names up in lower case.
    ('[[routine]]\nid = "Morning"\nexercises = ["calf"]\n',
     "routine[1].id: 'Morning' must be lower-case letters, digits and '-'"),
    # The calf massage's cue would be dropped in silence.
    ('[[routine]]\nid = "rub"\nexercises = [{ exercise = "massage", sets = 2 }]\n',
     "routine 'rub'.exercises[1].sets: massage has a cue for each of 3 sets; fewer would "
     "leave out: Now work down into the calf."),
])
def test_a_routine_the_history_or_the_coach_would_get_wrong_is_one_line(
        tmp_path: Path, body: str, says: str) -> None:
    """A review (2026-12-07) of routine files a physiotherapist might write."""
    f = tmp_path / "mine.toml"
    f.write_text(body)
    r = vc("--routine-file", str(f), "--clock", "virtual", "--no-voice", "--no-check")
    assert r.returncode == 2 and says in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr


def test_odd_but_valid_doses_read_right(tmp_path: Path) -> None:
    """"One reps." and a cue with no full stop run into the count ("Go Twenty-five reps."); a
    newline in a name split the rows of every table."""
    f = tmp_path / "mine.toml"
    f.write_text('[[exercise]]\nid = "raise"\nname = "Wall\\nraise"\nkind = "reps"\n'
                 'cue = "Go"\nreps = 1\nsets = 1\n')
    r = vc("--routine-file", str(f), "--clock", "virtual", "--no-voice", "--no-check")
    assert r.returncode == 0, r.stderr
    assert "Set one of one. Go. One rep." in r.stdout, r.stdout
    assert "Wall raise" in r.stdout and "Wall\nraise" not in r.stdout

"""Data faults through the real command line: a read-only history, a full disk, a disk so full
that not even the pending copy fits. The session always runs to the end with exit 0, the person
is told once, and what could be kept is written by the next normal run.

CI runs as root, where chmod stops nothing: there the child drops the capabilities that let root
ignore file modes (DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER) from its bounding set before exec
(setpriv), so a 0444 file is as read-only to it as to anybody. A full disk is RLIMIT_FSIZE in
the child (prlimit; Python ignores SIGXFSZ, so writes past the limit fail with EFBIG): works for
root and users alike.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from voicecoach.history import HistoryError, HistoryStore
from voicecoach.pending import replay_pending, saved_key

PY = sys.executable
# The real clock, sped up and saved: a run on the virtual clock is a preview and saves nothing.
RUN = ["--exercise", "calf", "--speed", "1000", "--save", "--no-voice", "--no-listen",
       "--no-check"]
#: Room for a calf session's pending file (about 1.1 kB) but not for SQLite's first WAL frame
#: or its 32 kB shared-memory file: a disk with a few kB left.
ALMOST_FULL = 3000


# Wrappers that run before the command (util-linux), not preexec_fn: Python code between fork
# and exec can deadlock in a process with threads (tests/recording.py, die_with_parent).


def util_linux(*cmd: str) -> list[str]:
    """`cmd` as a wrapper; the test skips where it is missing (it is essential on Debian)."""
    if shutil.which(cmd[0]) is None:
        pytest.skip(f"{cmd[0]} (util-linux) is not installed")
    return list(cmd)


def no_file_mode_override() -> list[str]:
    """From here on, root obeys file modes like anybody else."""
    if os.geteuid() != 0:
        return []
    return util_linux("setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner")


def disk_full(room: int) -> list[str]:
    # Python ignores SIGXFSZ itself, so writes past the limit fail with EFBIG.
    return util_linux("prlimit", f"--fsize={room}:{room}")


def vc(data: Path, tmp: Path, wrap: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp / "cache"),
           "XDG_CONFIG_HOME": str(tmp / "config"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("VOICECOACH_DATA_DIR", None)
    return subprocess.run([*wrap, PY, "-m", "voicecoach", *RUN, "--data-dir", str(data)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env=env)


def lines(r: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in r.stderr
    return r.stderr.strip().splitlines()


def pending(data: Path) -> list[Path]:
    return sorted(data.glob("pending-*.jsonl"))


def ops(path: Path) -> list[str]:
    return [json.loads(line)["op"] for line in path.read_text().splitlines()]


def history(data: Path) -> list[tuple[str, str, int]]:
    with HistoryStore(data / "history.db") as store:
        return [(s.uid, s.result, len(s.sets)) for s in store.sessions()]


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    """A history with one finished session in it."""
    folder = tmp_path / "data"
    r = vc(folder, tmp_path)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert len(history(folder)) == 1
    return folder


def kept_then_saved(data: Path, tmp: Path, r: subprocess.CompletedProcess[str],
                    reason: str) -> None:
    """One line saying why and where; the session in a pending file; the next run saves it."""
    assert r.returncode == 0, r.stderr
    (line,) = lines(r)
    (kept,) = pending(data)
    assert reason in line and f"keeping this session in {kept} until it can be saved" in line
    assert ops(kept) == ["start_session", *["record_set"] * 3, "end_session"]
    uid = json.loads(kept.read_text().splitlines()[0])["uid"]
    assert len(history(data)) == 1  # nothing of it reached the database
    for f in data.iterdir():  # the person fixes the folder
        f.chmod(0o644)
    r = vc(data, tmp)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert pending(data) == []
    sessions = history(data)
    assert len(sessions) == 3 and all(s[1:] == ("completed", 3) for s in sessions)
    assert uid in [s[0] for s in sessions]
    shown = subprocess.run([PY, "-m", "voicecoach", "history", "--days", "0", "--data-dir",
                            str(data)], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and shown.stdout.count("calf 3x20s  completed") == 3


def test_read_only_database_keeps_the_session_for_the_next_run(data: Path, tmp_path: Path
                                                                ) -> None:
    (data / "history.db").chmod(0o444)
    wrap = no_file_mode_override()
    probe = subprocess.run([*wrap, PY, "-c", f"open({str(data / 'history.db')!r}, 'a')"],
                           capture_output=True)
    if probe.returncode == 0:
        pytest.skip("cannot make a file read-only for this user here")
    r = vc(data, tmp_path, wrap)
    kept_then_saved(data, tmp_path, r, "attempt to write a readonly database")


def test_almost_full_disk_keeps_the_session_for_the_next_run(data: Path, tmp_path: Path
                                                            ) -> None:
    r = vc(data, tmp_path, disk_full(ALMOST_FULL))
    kept_then_saved(data, tmp_path, r, f"cannot open history {data / 'history.db'}")


@pytest.mark.parametrize("fault", ["full disk", "read-only folder"])
def test_nowhere_to_keep_it_says_so_at_the_start_and_at_the_end(data: Path, tmp_path: Path,
                                                               fault: str) -> None:
    if fault == "full disk":
        wrap = disk_full(0)
        why = "File too large"
    else:
        data.chmod(0o555)
        (data / "history.db").chmod(0o444)
        wrap, why = no_file_mode_override(), "Permission denied"
    r = vc(data, tmp_path, wrap)
    data.chmod(0o755)
    assert r.returncode == 0, r.stderr
    first, last = lines(r)
    assert f"no copy could be kept in {data} ({why})" in first and "held in memory" in first
    assert last.startswith("voicecoach: this session was not saved (5 records lost): ")
    assert pending(data) == [] and len(history(data)) == 1  # the old history is intact


def test_a_replay_is_all_or_nothing_and_never_twice(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.db")
    start = {"op": "start_session", "uid": "u1", "args": {"routine": "calf",
                                                          "exercises": ["calf"]}}
    cmd = {"op": "record_command", "uid": "u1", "args": {"name": "pause", "source": "key"}}
    a_set = {"op": "record_set", "uid": "u1", "args": {"exercise": "calf", "set_no": 1,
                                                       "sets": 3}}
    f = tmp_path / "pending-a.jsonl"
    f.write_text("".join(json.dumps(o) + "\n" for o in (start, cmd, a_set)))
    db = sqlite3.connect(tmp_path / "history.db")
    # The database refuses the set, half way through the file.
    db.execute("CREATE TRIGGER no_sets BEFORE INSERT ON sets BEGIN SELECT RAISE(ABORT, 'no');"
               " END")
    db.commit()
    with pytest.raises(HistoryError):
        replay_pending(store, tmp_path)
    assert store.sessions() == [] and f.exists()  # not a half session with one command
    db.execute("DROP TRIGGER no_sets")
    db.commit()
    db.close()
    f.write_text("".join(json.dumps(o) + "\n" for o in (start, cmd, cmd)))
    assert replay_pending(store, tmp_path) == 3 and not f.exists()
    # A file already written but left behind (its delete failed) is only deleted.
    store.set_meta(saved_key(f), "1")
    f.write_text(json.dumps(cmd) + "\n")
    assert replay_pending(store, tmp_path) == 0 and not f.exists()
    (s,) = store.sessions()
    assert [c.name for c in s.commands] == ["pause", "pause"]
    assert sqlite3.connect(tmp_path / "history.db").execute(
        "SELECT count(*) FROM meta WHERE key LIKE 'saved %'").fetchone()[0] == 0


def test_a_damaged_pending_file_loses_only_its_damaged_lines(tmp_path: Path) -> None:
    """Lines that are not UTF-8, or whose values are of the wrong types (a file edited by
    hand), are skipped; the rest is written, and the reports read it."""
    data = tmp_path / "data"
    data.mkdir()
    start = {"op": "start_session", "uid": "u1",
             "args": {"routine": "calf", "exercises": ["calf"], "wall": 1.7e9}}
    good = {"op": "record_set", "uid": "u1",
            "args": {"exercise": "calf", "set_no": 1, "sets": 3, "hold": 20.0, "wall": 1.7e9}}
    wrong = [{"op": "record_set", "uid": "u1", "args": {**good["args"], **change}}
             for change in ({"hold": "abc"}, {"level": "x"}, {"set_no": "one"},
                            {"set_no": True}, {"sets": 10**30}, {"hold": None})]
    wrong += [{"op": "start_session", "uid": "u2", "args": {"routine": "calf",
                                                          "exercises": "calf"}},
              {"op": "start_session", "uid": ["u3"], "args": {"routine": "calf",
                                                             "exercises": []}},
              {"op": "log_safety", "args": {"answers": {"clot": "yes"}, "flagged": False}},
              {"op": "end_session", "uid": "u1", "args": {"completed": 1}}]
    # As the coach writes them (recorder.py): all of them land.
    rest = [{"op": op, "uid": "u1", "args": args} for op, args in (
        ("record_command", {"name": "pause", "source": "voice", "exercise": "calf",
                            "wall": 1.7e9}),
        ("record_pause", {}), ("set_pain", {"when": "before", "value": 3}),
        ("record_pain_stop", {"exercise": None, "value": 6, "skipped": False, "wall": 1.7e9}),
        ("end_session", {"completed": True, "wall": 1.7e9 + 60}))]
    rest.append({"op": "log_safety", "args": {"answers": {"clot": False, "sudden": None},
                                              "flagged": False, "answered": True}})
    text = "".join(json.dumps(o) + "\n" for o in (start, *wrong, good, *rest)).encode()
    (data / "pending-b.jsonl").write_bytes(b"\xff\xfe\x00garbage\n" + text + b"\x80\n")
    for args in (["history", "--days", "0"], ["history", "--csv", "-"], ["today"]):
        r = subprocess.run([PY, "-m", "voicecoach", *args, "--data-dir", str(data)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stderr == "", r.stderr
    (s,) = HistoryStore(data / "history.db").sessions()
    assert s.uid == "u1" and [(x.set_no, x.hold) for x in s.sets] == [(1, 20.0)]
    assert (len(s.commands), s.pauses, s.pain_before, len(s.pain_stops), s.result) == (
        1, 1, 3, 1, "completed")
    assert pending(data) == []


@pytest.mark.audio
def test_a_damaged_model_is_one_line_and_the_session_runs_on_keys(pulse, tmp_path: Path) -> None:
    """Through the real command line with a real microphone (the harness): vosk 0.3.45 would
    crash the whole process on this model; the child-process probe turns it into one line."""
    from test_models import damaged_copy

    from voicecoach.phrases import load_phrases

    model = damaged_copy(tmp_path / "model", "delete", "graph/HCLr.fst")
    # The only vosk model here is Korean: a word list lets it pass the English phrase check,
    # so that loading it is what fails.
    words = ["[unk]", *load_phrases("en").words(())]
    (model / "graph" / "words.txt").write_text("".join(f"{w} {i}\n" for i, w in enumerate(words)))
    env = {**os.environ, **pulse.env, "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "VOICECOACH_DATA_DIR": str(tmp_path)}
    r = subprocess.run([PY, "-m", "voicecoach", "--exercise", "calf", "--hold", "2", "--sets",
                        "1", "--speed", "100", "--save", "--no-voice", "--no-check",
                        "--recognizer", "vosk", "--model", str(model)], capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)
    assert r.returncode == 0, r.stderr
    (line,) = lines(r)
    assert line.startswith(f"voicecoach: not listening: the vosk model {model} is damaged or "
                           "incomplete: it crashes the recognizer (SIGSEGV")
    assert "voicecoach model download" in line
    assert history(tmp_path)[0][1:] == ("completed", 1)


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MB filesystem (tmpfs), for a real ENOSPC; needs root with CAP_SYS_ADMIN."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs",
                                            str(mnt)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill the filesystem until `leave` bytes are free."""
    st = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))
    return filler


@pytest.mark.parametrize("leave", [8192, 0])
def test_a_real_full_disk(small_disk: Path, tmp_path: Path, leave: int) -> None:
    data = small_disk / "data"
    r = vc(data, tmp_path)
    assert r.returncode == 0 and r.stderr == ""
    filler = fill(small_disk, leave)
    r = vc(data, tmp_path)
    assert r.returncode == 0
    if leave:  # room for the pending file, not for SQLite: kept, then saved by the next run
        assert len(lines(r)) == 1, r.stderr
        assert "is full (" in r.stderr and "keeping this session in" in r.stderr
        assert len(pending(data)) == 1
    else:
        first, last = lines(r)
        assert "(No space left on device)" in first and "not saved" in last
    filler.unlink()
    r = vc(data, tmp_path)
    assert r.returncode == 0 and r.stderr == "" and pending(data) == []
    assert len(history(data)) == (3 if leave else 2)


def test_the_reports_read_a_history_on_a_read_only_filesystem(small_disk: Path,
                                                              tmp_path: Path) -> None:
    """SQLite cannot make the files it reads a WAL database with there: it is read as
    immutable instead (a run-through, 2026-12-08: "unable to open database file")."""
    data = small_disk / "data"
    assert vc(data, tmp_path).returncode == 0
    if subprocess.run(["mount", "-o", "remount,ro", str(small_disk)]).returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only here")
    for report in (["history", "--days", "0"], ["today"]):
        r = subprocess.run([PY, "-m", "voicecoach", *report, "--data-dir", str(data)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "calf 3x20s  completed" in subprocess.run(
        [PY, "-m", "voicecoach", "history", "--days", "0", "--data-dir", str(data)],
        capture_output=True, text=True, timeout=60).stdout


def test_an_almost_full_disk_is_not_given_to_sqlite(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's shared-memory file would take the last free blocks (seen on a real tmpfs: the
    pending copy then fails too), so below 1 MB free the database is left alone."""
    from voicecoach import recorder

    monkeypatch.setattr(recorder, "free_bytes", lambda folder: 8192)
    notes: list[str] = []
    rec = recorder.Recorder.open(tmp_path, notes.append)
    rec({"event": "session_start", "routine": "calf", "exercises": ["calf"], "wall": 1.0})
    rec.close()
    assert rec.store is None and not (tmp_path / "history.db").exists()
    (note,) = notes
    assert note.startswith(f"the disk that holds {tmp_path} is full (only 8 kB free); keeping this")
    assert ops(pending(tmp_path)[0]) == ["start_session"]


def test_history_shows_a_kept_session_without_another_coaching_run(data: Path, tmp_path: Path
                                                                  ) -> None:
    r = vc(data, tmp_path, disk_full(ALMOST_FULL))
    assert r.returncode == 0 and len(pending(data)) == 1
    shown = subprocess.run([PY, "-m", "voicecoach", "history", "--days", "0", "--data-dir",
                            str(data)], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and shown.stdout.count("calf 3x20s  completed") == 2
    assert pending(data) == []


def test_history_piped_into_head_ends_quietly(data: Path) -> None:
    shown = subprocess.run(f"{PY} -m voicecoach history --days 0 --data-dir {data} | head -1",
                           shell=True, capture_output=True, text=True, timeout=60)
    assert shown.stderr == "" and len(shown.stdout.splitlines()) == 1


def test_a_folder_that_cannot_be_made_is_said_so_not_a_full_disk(tmp_path: Path) -> None:
    """Under /proc no folder can be made, and statvfs there reports 0 bytes free: the coach
    names the folder it cannot make, not a full disk. Named with --data-dir, it is refused
    before the session (a user's run-through: it was said only after a whole session that
    could not be kept)."""
    r = vc(Path("/proc/voicecoach-nope"), tmp_path)
    assert r.returncode == 2 and r.stdout == "", r
    assert r.stderr.startswith("voicecoach: --data-dir: cannot make the folder "
                               "/proc/voicecoach-nope ("), r.stderr
    assert r.stderr.count("\n") == 1 and "full" not in r.stderr


def test_the_data_dir_variable_is_checked_like_the_option(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    env = {**os.environ, "VOICECOACH_DATA_DIR": str(afile)}
    r = subprocess.run([PY, "-m", "voicecoach", *RUN], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL, env=env)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == f"voicecoach: VOICECOACH_DATA_DIR: {afile} is a file, not a folder\n"

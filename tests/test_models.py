"""Model download against a local HTTP server: resume, checksum, unsafe zips, offline."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import socket
import stat
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicecoach.models import DownloadError, download_model, find_model, run_model


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
    with pytest.raises(DownloadError, match="alphacephei.com/vosk/models"):
        download_model(tmp_path, f"http://127.0.0.1:{port}/model.zip", None, timeout=2)


def test_cli_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_model([]) == 2
    assert "usage" in capsys.readouterr().err

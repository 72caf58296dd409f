"""Speech models: where they live, finding one, and fetching one (the command: model_cli.py)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

MODEL_NAME = "vosk-model-small-en-us-0.15"
DEFAULT_URL = f"https://alphacephei.com/vosk/models/{MODEL_NAME}.zip"
#: alphacephei publishes no checksums: this is the SHA-256 of the official archive as fetched
#: and agreed on by several independent projects (41,205,931 bytes). A changed file fails.
DEFAULT_SHA256 = "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"
DEFAULT_SIZE = 41_205_931
#: Source checkout's models/ (gitignored but for its README); absent in a wheel install.
REPO_MODELS = Path(__file__).resolve().parent.parent / "models"
CHUNK = 1 << 16

Progress = Callable[[int, int], None]


class DownloadError(Exception):
    """The model could not be fetched or unpacked; the message says what to do."""


def user_models_dir() -> Path:
    """$XDG_DATA_HOME/voicecoach/models (default ~/.local/share/voicecoach/models)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "voicecoach" / "models"


def default_models_dir() -> Path:
    """Where a download goes: the checkout's models/ when there is one, else the XDG folder."""
    return REPO_MODELS if REPO_MODELS.is_dir() else user_models_dir()


def is_vosk_model(folder: Path) -> bool:
    """Whether `folder` looks like an unpacked vosk model: the test VoskRecognizer makes
    (am/ or conf/ inside), so a folder passed here is not refused there."""
    return (folder / "am").is_dir() or (folder / "conf").is_dir()


def find_model(explicit: str | None = None, language: str = "en") -> Path | None:
    """The vosk model to use: `explicit` (--model), $VOICECOACH_MODEL, else the first
    vosk-model-* folder in models/ or the XDG folder, preferring one for `language`."""
    for given in (explicit, os.environ.get("VOICECOACH_MODEL")):
        if given:
            return Path(given).expanduser()
    found: list[Path] = []
    for folder in (REPO_MODELS, user_models_dir()):
        if folder.is_dir():
            found += sorted(p for p in folder.glob("vosk-model-*") if p.is_dir())
    for p in found:
        if f"-{language}-" in p.name or p.name.endswith(f"-{language}"):
            return p
    # Official model names carry the language; an unlabelled one is a person's own choice.
    return found[0] if found and language == "en" else None


def download_model(
    dest_dir: str | Path | None = None,
    url: str = DEFAULT_URL,
    sha256: str | None = DEFAULT_SHA256,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> Path:
    """Fetch a zipped model into `dest_dir` (resuming a partial download), check its SHA-256,
    unpack it safely and return the model folder. Raises DownloadError."""
    dest = Path(dest_dir) if dest_dir is not None else default_models_dir()
    if dest.exists() and not dest.is_dir():
        raise DownloadError(f"{dest} is a file, not a folder")
    made = [p for p in (dest, *dest.parents) if not p.exists()]  # the deepest first
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(f"cannot make the folder {dest}: {e.strerror or e}") from None
    name = Path(url.split("?")[0]).name or "model.zip"
    archive = dest / name
    part = dest / (name + ".part")
    if not archive.is_file():
        try:
            _fetch(url, part, progress, timeout)
        except DownloadError:
            # Offline, say: leave no empty folders behind. One holding a partial download
            # is kept (not empty), so the next run resumes.
            for folder in made:
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
        part.replace(archive)
    if sha256:
        digest = _sha256(archive)
        if digest != sha256.lower():
            archive.unlink()
            raise DownloadError(
                f"{name}: SHA-256 is {digest}, expected {sha256}; the file was deleted, run again"
            )
    try:
        folder = safe_extract(archive, dest)
    except zipfile.BadZipFile as e:
        archive.unlink()
        raise DownloadError(f"{name} is not a whole zip archive ({e}); it was deleted, "
                            "run again") from None
    except OSError as e:  # a full disk: the half-unpacked copy is gone with its temp folder
        raise DownloadError(f"cannot unpack {name} into {dest}: {e.strerror or e}") from None
    archive.unlink()
    return folder


def _fetch(url: str, part: Path, progress: Progress | None, timeout: float) -> None:
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "voicecoach"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if have and response.status != 206:
                have = 0  # the server ignored Range: start over
            length = response.headers.get("Content-Length")
            total = have + int(length) if length else 0
            try:
                # Unbuffered: after a failed write, closing has nothing left to fail on.
                f = open(part, "ab" if have else "wb", buffering=0)  # noqa: SIM115
            except OSError as e:
                raise DownloadError(f"cannot write {part}: {e.strerror or e}") from None
            with f:
                done = have
                while chunk := response.read(CHUNK):
                    try:
                        view = memoryview(chunk)
                        while view:
                            n = f.write(view)
                            if not n:
                                raise OSError(f"wrote nothing to {part}")
                            view = view[n:]
                    except OSError as e:  # what arrived so far stays: the next run resumes
                        raise DownloadError(f"cannot write {part}: {e.strerror or e}") from None
                    done += len(chunk)
                    if progress:
                        progress(done, total)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:
            return  # already complete: the checksum decides
        raise DownloadError(f"{url}: HTTP {e.code} {e.reason}. {manual_hint(part.parent)}"
                            ) from e
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(f"cannot reach {url} ({reason}). {manual_hint(part.parent)}") from e


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def safe_extract(archive: Path, dest: Path) -> Path:
    """Unpack a zip into `dest`, refusing members that would land outside it or are symlinks.
    Returns the top-level folder it made (the model)."""
    root = dest.resolve()
    with zipfile.ZipFile(archive) as z:
        members = z.infolist()
        for m in members:
            target = (root / m.filename).resolve()
            # A backslash is a folder separator on Windows: "..\\x" must not pass there either.
            parts = Path(m.filename.replace("\\", "/")).parts
            if m.filename.startswith(("/", "\\")) or ".." in parts or ":" in m.filename:
                raise DownloadError(f"{archive.name}: refusing {m.filename!r} (leaves the folder)")
            if target != root and root not in target.parents:
                raise DownloadError(f"{archive.name}: refusing {m.filename!r} (leaves the folder)")
            if stat.S_ISLNK(m.external_attr >> 16):
                raise DownloadError(f"{archive.name}: refusing symlink {m.filename!r}")
        tops = {Path(m.filename).parts[0] for m in members if Path(m.filename).parts}
        # Unpack next to the target, then move into place, so a failure leaves no half model.
        with tempfile.TemporaryDirectory(dir=root, prefix=".unpack-") as tmp:
            z.extractall(tmp)
            if len(tops) == 1 and (Path(tmp) / next(iter(tops))).is_dir():
                top = next(iter(tops))
                final = root / top
                if final.exists():
                    shutil.rmtree(final)
                shutil.move(str(Path(tmp) / top), str(final))
                return final
            final = root / archive.stem
            if final.exists():
                shutil.rmtree(final)
            shutil.move(tmp, str(final))
            Path(tmp).mkdir()  # TemporaryDirectory cleans up a folder that must exist
            return final


def manual_hint(dest: Path | None = None) -> str:
    """One line saying how to get the model by hand, into `dest` (default: where it is looked
    for)."""
    where = dest or default_models_dir()
    # Only the default folders are searched: elsewhere, the model has to be named.
    use = ("" if where.resolve() in (REPO_MODELS.resolve(), user_models_dir().resolve())
           else f", then pass --model {where / MODEL_NAME}")
    return (
        f"Offline? Get {MODEL_NAME}.zip from https://alphacephei.com/vosk/models on any computer"
        f" and unzip it into {where}/{use}"
    )

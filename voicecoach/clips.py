"""Rendered phrases as audio clips, and the disk cache that keeps them between sessions.

A clip is trimmed so that its first audible sample sits exactly `PRE_ROLL` seconds in: the
speaker starts it `PRE_ROLL` early and the word lands on its deadline. The cache key covers
text, voice, rate and engine identity (pyttsx3, driver and library versions), so changing
any of them renders afresh, and stale files are simply never read again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import struct
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Samples quieter than this (fraction of full scale, about -46 dBFS) count as silence.
TRIM_LEVEL = 0.005
#: Silence kept before the first audible sample, faded in, so the attack is never clipped.
PRE_ROLL = 0.005
#: Silence kept after the last audible sample, faded out, so the release is never clipped.
POST_ROLL = 0.03
#: The cache is trimmed to this size, least recently used clips first (a whole routine in one
#: voice is about 15 MB, so several voices and rates fit).
CACHE_LIMIT_BYTES = 100 * 1024 * 1024
#: Scratch files older than this are leftovers of a killed render.
SCRATCH_MAX_AGE = 3600.0


@dataclass(frozen=True)
class Clip:
    """One phrase as 16-bit mono samples."""

    samples: Any
    """numpy int16 array, trimmed (PRE_ROLL of faded silence, then the sound)."""
    rate: int
    """Samples a second."""

    @property
    def seconds(self) -> float:
        """Length from the first audible sample to the end (what a listener hears)."""
        return max(0.0, len(self.samples) / self.rate - PRE_ROLL)

    @functools.cached_property
    def levels(self) -> tuple[float, ...]:
        """Loudness of each LEVEL_SECONDS frame (coachlevels.clip_levels), worked out once: a
        clip kept in memory is said again and again (counts)."""
        from voicecoach.coachlevels import clip_levels

        return clip_levels(self.samples, self.rate)


def cache_dir() -> Path:
    """XDG_CACHE_HOME/voicecoach/clips, else ~/.cache/voicecoach/clips."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "voicecoach" / "clips"


class SilentRender(ValueError):
    """The engine's render has nothing audible in it: broken, not worth keeping."""


class TruncatedRender(ValueError):
    """The render holds fewer samples than its header says: cut short, not worth keeping."""


class ClipCache:
    """Clips on disk, one 16-bit WAV per (text, voice, rate, engine)."""

    def __init__(self, root: Path, engine: str, voice: str, rate: int | None) -> None:
        self.root = root
        self.engine = engine
        self.voice = voice
        self.rate = rate

    def key(self, text: str) -> str:
        blob = json.dumps([text, self.voice, self.rate, self.engine], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]

    def path(self, text: str) -> Path:
        return self.root / f"{self.key(text)}.wav"

    def scratch(self, text: str, suffix: str) -> Path:
        """Where the engine may write its raw render of `text` (removed by `store`)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / f"raw-{os.getpid()}-{self.key(text)}{suffix}"

    def load(self, text: str) -> Clip | None:
        """The cached clip, or None if it was never rendered (or the file is damaged)."""
        path = self.path(text)
        try:
            samples, rate = read_audio(path)
        except (OSError, EOFError, ValueError, wave.Error):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # mtime is "last used": pruning keeps what is still in use
        return Clip(samples, rate)

    def prune(self, limit: int = CACHE_LIMIT_BYTES, now: float | None = None) -> int:
        """Delete least recently used clips until the cache fits in `limit` bytes, and stale
        scratch files; returns how many files went. Errors are ignored (another session may
        be pruning too)."""
        now = time.time() if now is None else now
        files: list[tuple[float, int, Path]] = []
        removed = 0
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return 0
        for entry in entries:
            try:
                st = entry.stat()
            except OSError:
                continue
            scratch = entry.name.startswith("raw-") or ".tmp" in entry.name
            if scratch and now - st.st_mtime > SCRATCH_MAX_AGE:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed += 1
            elif entry.name.endswith(".wav") and not scratch:
                files.append((st.st_mtime, st.st_size, Path(entry.path)))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= limit:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
            total -= size
        return removed

    def store(self, text: str, raw: Path) -> Clip:
        """Trim the engine's raw render, save it under the key and return it."""
        try:
            samples, rate = read_audio(raw)
        finally:
            raw.unlink(missing_ok=True)
        clip = Clip(trim(samples, rate), rate)
        if len(clip.samples) <= round(PRE_ROLL * rate):
            # Nothing audible: a broken render, not worth keeping (the phrase is a caption).
            raise SilentRender("the engine wrote only silence")
        final = self.path(text)
        tmp = final.with_suffix(f".tmp{os.getpid()}")
        with wave.open(str(tmp), "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(rate)
            f.writeframes(clip.samples.astype("<i2").tobytes())
        os.replace(tmp, final)  # atomic: a second session never reads half a file
        return clip


def trim(samples: Any, rate: int) -> Any:
    """Cut leading/trailing silence, keeping exactly PRE_ROLL before the first loud sample."""
    import numpy as np

    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= int(TRIM_LEVEL * 32767))
    pre, post = int(round(PRE_ROLL * rate)), int(round(POST_ROLL * rate))
    if len(loud) == 0:
        return np.zeros(pre, dtype=np.int16)
    first, last = int(loud[0]), int(loud[-1])
    head = samples[max(0, first - pre) : first].astype(np.float32)
    head = np.concatenate([np.zeros(pre - len(head), np.float32), head])
    body = samples[first : last + 1].astype(np.float32)
    tail = samples[last + 1 : last + 1 + post].astype(np.float32)
    head *= np.linspace(0.0, 1.0, len(head), endpoint=False, dtype=np.float32)
    tail *= np.linspace(1.0, 0.0, len(tail), dtype=np.float32)
    return np.concatenate([head, body, tail]).astype(np.int16)


def resample(samples: Any, rate: int, to: int) -> Any:
    """Band-limited resampling of a whole clip through its spectrum (float32 out).

    Exact for the upsampling we do (22050 -> 44100/48000 Hz): the spectrum is zero-padded,
    so nothing is added above the old Nyquist, and timing is kept to the sample. Clips start
    and end in silence, so the FFT's wrap-around has nothing to smear.
    """
    import numpy as np

    if rate == to or len(samples) == 0:
        return samples.astype(np.float32)
    n = int(round(len(samples) * to / rate))
    spectrum = np.fft.rfft(samples.astype(np.float64))
    return (np.fft.irfft(spectrum, n=n) * (n / len(samples))).astype(np.float32)


def read_audio(path: Path) -> tuple[Any, int]:
    """(mono int16 samples, rate) from a 16-bit WAV or AIFF file (what pyttsx3 drivers write)."""
    import numpy as np

    with open(path, "rb") as f:
        magic = f.read(12)
    if magic[:4] == b"FORM" and magic[8:12] in (b"AIFF", b"AIFC"):
        data, rate, channels, width = _read_aiff(path)
        dtype = ">i2"
    else:
        with wave.open(str(path), "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            frames = w.getnframes()
            data = w.readframes(frames)
        # Fewer frames than the header says: a file still being written, or cut short.
        if len(data) < frames * channels * width:
            raise TruncatedRender(f"{path}: truncated ({len(data)} of {frames * channels * width} "
                             "bytes of audio)")
        dtype = "<i2"
    if width != 2:
        raise ValueError(f"{path}: {8 * width}-bit audio, expected 16-bit")
    samples = np.frombuffer(data[: len(data) // (2 * channels) * 2 * channels], dtype=dtype)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples.astype(np.int16), rate


def _read_aiff(path: Path) -> tuple[bytes, int, int, int]:
    # The stdlib aifc module is gone in Python 3.13; macOS writes plain AIFF or AIFF-C 'sowt'.
    blob = path.read_bytes()
    pos, rate, channels, width, data, little = 12, 0, 1, 2, b"", False
    while pos + 8 <= len(blob):
        cid, size = blob[pos : pos + 4], struct.unpack(">I", blob[pos + 4 : pos + 8])[0]
        body = blob[pos + 8 : pos + 8 + size]
        if cid == b"COMM":
            channels, _, bits = struct.unpack(">hIh", body[:8])
            width = (bits + 7) // 8
            rate = int(_ext80(body[8:18]))
            little = len(body) >= 22 and body[18:22] == b"sowt"
        elif cid == b"SSND":
            offset = struct.unpack(">I", body[:4])[0]
            data = body[8 + offset :]
        pos += 8 + size + (size & 1)
    if little:  # 'sowt' is little-endian PCM: swap to the big-endian AIFF norm
        import numpy as np

        data = np.frombuffer(data[: len(data) // 2 * 2], "<i2").astype(">i2").tobytes()
    if not rate:
        raise ValueError(f"{path}: not a readable AIFF file")
    return data, rate, channels, width


def _ext80(b: bytes) -> float:
    """An 80-bit IEEE extended float (AIFF sample rate)."""
    exp, mant = struct.unpack(">HQ", b)
    sign = -1.0 if exp & 0x8000 else 1.0
    exp &= 0x7FFF
    if exp == 0 and mant == 0:
        return 0.0
    return float(sign * mant * 2.0 ** (exp - 16383 - 63))

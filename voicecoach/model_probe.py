"""Try a vosk model in a child process before loading it here, and read kaldi's error lines.

kaldi does not always fail politely: a missing or truncated graph/HCLr.fst makes
`KaldiRecognizer` crash with SIGSEGV (vosk 0.3.45), which would end the whole coach mid-session.
So the first use of a model loads it, with the same grammar, in a child process; a model that
loaded is remembered (by its files' names, sizes and times) and is not tried again. A damaged
model becomes one line and the coach goes on without voice commands.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

#: The child loads the model and makes a recognizer with the grammar, as the coach would.
CHILD = """
import sys, vosk
vosk.SetLogLevel(-1)
model = vosk.Model(sys.argv[1])
vosk.KaldiRecognizer(model, float(sys.argv[2]), sys.argv[3])
print("loaded")
"""
#: A model that takes longer than this to load in the child is taken as broken (seconds).
PROBE_TIMEOUT = 120.0


def tried_dir() -> Path:
    """Where models that loaded are remembered: $XDG_CACHE_HOME/voicecoach/models-ok."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "voicecoach" / "models-ok"


def fingerprint(root: Path) -> str:
    """Changes when any file of the model or the vosk version changes. Not the grammar: the
    crashes seen come from the model's files, and each new phrase list would cost a load."""
    h = hashlib.sha256(str(root.resolve()).encode())
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        h.update(version("vosk").encode())
    for path in sorted(root.rglob("*")):
        with contextlib.suppress(OSError):
            st = path.stat()
            h.update(f"{path.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


def kaldi_reason(stderr: str) -> str:
    """kaldi's last error line, without its source location: "Failed to read token ..."."""
    lines = stderr.splitlines()
    # kaldi says what is wrong; the Python exception after it only says that it failed.
    errors = [ln for ln in lines if "ERROR" in ln] or [ln for ln in lines if "Exception" in ln]
    if not errors:
        return ""
    line = re.sub(r"^.*?ERROR(?: \(\S*\))?:?\s*", "", errors[-1]).strip()
    return line[:160]


def probe(root: Path, rate: int, grammar: str) -> str | None:
    """None when the model loads with `grammar`; else one line saying what went wrong."""
    mark = tried_dir() / fingerprint(root)
    if mark.exists():
        return None
    try:
        r = subprocess.run([sys.executable, "-c", CHILD, str(root), str(rate), grammar],
                           capture_output=True, text=True, timeout=PROBE_TIMEOUT,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"loading it took more than {PROBE_TIMEOUT:g} s"
    except OSError as exc:  # no process to spare: load it here, as before the probe existed
        print(f"voicecoach: could not try the model first ({exc})", file=sys.stderr)
        return None
    if r.returncode == 0 and "loaded" in r.stdout:
        with contextlib.suppress(OSError):
            mark.parent.mkdir(parents=True, exist_ok=True)
            mark.touch()
        return None
    if r.returncode < 0:
        name = signal.Signals(-r.returncode).name
        why = kaldi_reason(r.stderr)
        return f"it crashes the recognizer ({name}{': ' + why if why else ''})"
    return kaldi_reason(r.stderr) or f"vosk could not load it (exit {r.returncode})"


"""`voicecoach model download [DIR]` and `voicecoach model where`: the command line of models.py."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from voicecoach.models import (
    MODEL_NAME,
    REPO_MODELS,
    DownloadError,
    default_models_dir,
    download_model,
    find_model,
    is_vosk_model,
    user_models_dir,
)
from voicecoach.subcommands import SubcommandParser


def progress_bar(done: int, total: int) -> None:
    """A one-line progress bar on stderr."""
    mb = done / 1e6
    if total:
        filled = int(30 * done / total)
        line = f"\r[{'#' * filled}{'.' * (30 - filled)}] {mb:5.1f}/{total / 1e6:.1f} MB"
    else:
        line = f"\r{mb:5.1f} MB"
    sys.stderr.write(line + ("\n" if total and done >= total else ""))
    sys.stderr.flush()


def _configured() -> str | None:
    """The config file's `model`, as a session takes it (an unreadable file: none)."""
    from voicecoach.config import ConfigError, load_config

    try:
        value = load_config().get("model")
    except ConfigError:
        return None
    return str(value) if value else None


def _where() -> int:
    """`voicecoach model where`: the folder on stdout (exit 0) only if a session could use it."""
    configured = _configured()
    found = find_model(configured)
    if found is None:
        print(f"voicecoach model where: no model; looked in {REPO_MODELS} and "
              f"{user_models_dir()}. Get one with: voicecoach model download", file=sys.stderr)
        return 1
    if not is_vosk_model(found):
        # Said here, where it is asked, rather than as a "not listening" notice mid-session.
        named = ("the config file's model" if configured else "$VOICECOACH_MODEL"
                 if os.environ.get("VOICECOACH_MODEL") else "the folder found")
        what = ("does not exist" if not found.exists()
                else "is not a vosk model folder (one holds am/ or conf/)")
        print(f"voicecoach model where: {named}, {found}, {what}; get one with: voicecoach "
              "model download", file=sys.stderr)
        return 1
    print(found)
    return 0


def run_model(argv: Sequence[str]) -> int:
    """`voicecoach model download [DIR]` and `voicecoach model where`."""
    p = SubcommandParser(prog="voicecoach model",
                         description="The vosk speech model: fetch it, or say where it is.")
    verbs = p.add_subparsers(dest="verb", metavar="{download,where}", parser_class=SubcommandParser)
    verbs.required = True
    get = verbs.add_parser(
        "download", help=f"fetch {MODEL_NAME} (41 MB; SHA-256 checked, resumable)",
        description=f"Fetch {MODEL_NAME} (41 MB) into DIR, check its SHA-256 and unpack it; "
                    "an interrupted download resumes where it stopped.")
    get.add_argument("dir", nargs="?", metavar="DIR",
                     help=f"where to put it (default: {default_models_dir()})")
    verbs.add_parser("where", help="print the model folder that would be used",
                     description="Print the vosk model folder that would be used.")
    try:
        args = p.parse_args(list(argv))
    except SystemExit as done:  # --help (0) or a mistake, said in one line (2)
        return int(done.code or 0)
    if args.verb == "where":
        return _where()
    if args.dir is not None and not args.dir.strip():
        print("voicecoach model download: DIR is empty (leave it out for the default folder)",
              file=sys.stderr)
        return 2
    dest = Path(args.dir).expanduser() if args.dir else default_models_dir()
    if dest.exists() and not dest.is_dir():
        print(f"voicecoach model download: {dest} is a file, not a folder", file=sys.stderr)
        return 2
    print(f"downloading {MODEL_NAME} (41 MB) into {dest}", file=sys.stderr)
    try:
        folder = download_model(dest, progress=progress_bar)
    except DownloadError as e:
        print(f"\nvoicecoach: {e}", file=sys.stderr)
        return 1
    print(f"model ready: {folder}", file=sys.stderr)
    if find_model(_configured()) != folder:  # not where a session looks: it has to be named
        print(f"use it with: voicecoach --model {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_model(sys.argv[1:]))

"""Command-line options checked up front: empty names, contradictions, paths of the wrong kind."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from voicecoach.library import RoutineError

#: Options naming a thing or a path: given empty, they would silently mean "the default".
NAMED = ("exercise", "routine", "routine_file", "events", "data_dir", "voice", "output_device",
         "input_device", "model")
#: (option, what makes it pointless) pairs that are refused rather than silently ignored.
POINTLESS = (("voice", "no_voice"), ("rate", "no_voice"), ("volume", "no_voice"),
             ("output_device", "no_voice"), ("model", "no_listen"), ("input_device", "no_listen"),
             ("recognizer", "no_listen"), ("echo_cancel", "no_listen"),
             ("echo_cancel", "no_voice"))


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def overwritable(path: Path, start: bytes = b'{"t": ') -> bool:
    """Whether an output option may write `path`: new, empty, not a regular file (a FIFO,
    /dev/null), or one it wrote before, which begins with `start` (--events: a service
    overwrites its last stream on every start). A routine file or anything else given there
    by a slip is not written over."""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return True
        with path.open("rb") as f:
            first = f.readline(4096)
    except OSError:
        return True  # unreadable: opening it for writing says what is wrong
    return first.startswith(start)


def check_options(args: argparse.Namespace) -> None:
    """Empty names, options that contradict each other, paths of the wrong kind: RoutineError."""
    for dest in NAMED:
        value = getattr(args, dest, None)
        values = value if isinstance(value, list) else [value]  # --exercise may be repeated
        if any(v is not None and not v.strip() for v in values):
            raise RoutineError(f"{_flag(dest)} needs a value, got an empty one")
    if args.events == "-":
        # Standard output carries the captions: the events would be mixed into them.
        raise RoutineError("--events needs a file name; - would mix the events into the "
                           "captions on standard output")
    if args.events is not None and not overwritable(Path(args.events)):
        raise RoutineError(f"--events: {args.events} holds something else (not an event "
                           "stream); it would be overwritten: choose another file name")
    for dest, off in POINTLESS:
        if getattr(args, dest, None) is not None and getattr(args, off, False):
            raise RoutineError(f"{_flag(dest)} and {_flag(off)} cannot be used together")
    recognizer = getattr(args, "recognizer", None)
    for dest in ("model", "input_device"):
        if getattr(args, dest, None) is not None and recognizer == "none":
            raise RoutineError(f"{_flag(dest)} and --recognizer none cannot be used together")
    if getattr(args, "model", None) is not None and recognizer == "pocketsphinx":
        raise RoutineError("--model is a vosk model: it cannot be used with --recognizer "
                           "pocketsphinx")
    if args.clock == "virtual" and args.speed != 1.0:
        raise RoutineError("--speed and --clock virtual cannot be used together (the virtual "
                           "clock runs instantly)")
    if args.clock == "virtual" and args.save:
        raise RoutineError("--save and --clock virtual cannot be used together (a preview on "
                           "the virtual clock does no exercise)")
    if args.model is not None:
        from voicecoach.models import is_vosk_model

        model = Path(args.model).expanduser()
        if not model.is_dir():
            raise RoutineError(f"--model: no model folder at {args.model}")
        # Named on the command line, a wrong folder is a mistake to fix before the session
        # starts, not a "not listening" notice lost among the first instructions. A model
        # found on its own (VOICECOACH_MODEL, models/) still only turns listening off.
        if not is_vosk_model(model):
            raise RoutineError(f"--model: {args.model} is not a vosk model folder (one holds "
                               "am/ or conf/); get one with: voicecoach model download")
    # The folder history.data_dir() picks, checked whichever way it was named.
    from voicecoach.history import data_dir

    data = data_dir(args.data_dir)
    named = ("--data-dir" if args.data_dir else "VOICECOACH_DATA_DIR"
             if os.environ.get("VOICECOACH_DATA_DIR") else "the history folder")
    if data.exists() and not data.is_dir():
        raise RoutineError(f"{named}: {data} is a file, not a folder")
    saves = not args.list and args.clock != "virtual" and args.save is not False
    if not data.exists() and named != "the history folder" and saves:
        # Named by the person: a folder that cannot be made is said now, not after a whole
        # session that could not be kept. (The default one failing only warns: exercise
        # matters more than its record.)
        try:
            data.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RoutineError(f"{named}: cannot make the folder {data} "
                               f"({exc.strerror or exc})") from None

"""The `voicecoach` command line: options checked up front, one clear line for bad input."""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, NoReturn, TextIO, cast

from voicecoach import __version__
from voicecoach.adherence import daily_target
from voicecoach.cli_checks import NAMED as NAMED
from voicecoach.cli_checks import POINTLESS as POINTLESS
from voicecoach.cli_checks import check_options as check_options
from voicecoach.config import CHOICES
from voicecoach.library import LIMITS, SIDES, Library, Routine, RoutineError, load_builtin

EXAMPLES = """\
examples:
  voicecoach --exercise calf              coach one calf-stretch session
  voicecoach                              the whole back-of-knee programme
  voicecoach --exercise leg-raise --level 2 --side both
  voicecoach --exercise calf --hold 30 --sets 4
  voicecoach -e hamstring -e calf         two exercises, in that order
  voicecoach --routine-file my-routine.toml
  voicecoach --exercise calf --clock virtual --no-voice   print the script with its times
  voicecoach --list                       exercises and routines
  voicecoach voices | doctor | model download | model where | check | history | today

keys while coaching: space pause/resume, n next, b back, r repeat, x it hurts, h help, q stop
  (answers: y or n; pain 0-9 as one key, ten as 1 then 0)
voice commands: next, back, repeat, pause, resume, stop, help, it hurts
"""
SUBCOMMANDS = ("voices", "doctor", "model", "check", "history", "today")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump: the person may be reading it from across the room.
        # "argument --hold: --hold must be ..." says the option twice: once is enough.
        message = re.sub(r"^argument (\S+): (?=\1 )", "", message)
        self.exit(2, f"voicecoach: {message}{_hint(message)} (see voicecoach --help)\n")


def _hint(message: str) -> str:
    """For `voicecoach calf`: the option the name was meant for."""
    prefix = "unrecognized arguments: "
    if not message.startswith(prefix):
        return ""
    lib = load_builtin()
    for word in message[len(prefix):].split():
        for option, find in (("--exercise", lib.find_exercise), ("--routine", lib.find_routine)):
            try:
                find(word)  # by id or alias, as the option would take it
            except RoutineError:
                continue
            return f"; did you mean {option} {word}?"
    return ""


def _whole(text: str) -> int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value.is_integer() else None


def _number(kind: type, lo: float, hi: float, what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = _whole(text) if kind is int else None  # "1e3" and "20.0" are whole too
            if value is None:
                a = "a whole number" if kind is int else "a number"
                raise argparse.ArgumentTypeError(f"{what} must be {a}, got '{text}'") from None
        if not math.isfinite(value) or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{what} must be between {lo:g} and {hi:g}, "
                                             f"got {text}")
        return value

    return parse


#: Values of --recognizer (and of `recognizer` in the config file).
RECOGNIZERS = CHOICES["recognizer"]


def parser() -> Parser:
    p = Parser(prog="voicecoach", description="Offline, hands-free voice coach for a "
               "back-of-knee home programme.", epilog=EXAMPLES,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_argument_group("what to do")
    what.add_argument("--exercise", "-e", metavar="NAME", action="append",
                      help="an exercise (see --list); given again, each in that order")
    what.add_argument("--routine", "-r", metavar="NAME", help="a routine (default back-of-knee)")
    what.add_argument("--routine-file", metavar="PATH", help="your own routine file (TOML)")
    what.add_argument("--list", action="store_true", help="list exercises and routines")
    dose = p.add_argument_group("dose (overrides the routine)")
    dose.add_argument("--hold", type=_number(float, *LIMITS["hold"], "--hold"), metavar="S",
                      help="seconds of each hold (stretches, balance)")
    dose.add_argument("--reps", type=_number(int, *LIMITS["reps"], "--reps"), metavar="N",
                      help="repetitions a set (the leg raise)")
    dose.add_argument("--sets", type=_number(int, *LIMITS["sets"], "--sets"), metavar="N",
                      help="sets (or holds) of each exercise")
    dose.add_argument("--rest", type=_number(float, *LIMITS["rest"], "--rest"), metavar="S",
                      help="seconds of rest between sets")
    # Any case: the exercise names take any case too.
    dose.add_argument("--side", choices=SIDES, type=str.lower,
                      help="leg to train (default: the painful one)")
    # Any whole number here: the range is each exercise's own, checked once it is chosen
    # ("between 1 and 20" for the calf stretch, which has no levels, named a limit it lacks).
    dose.add_argument("--level", type=_number(int, -math.inf, math.inf, "--level"), metavar="N",
                      help="progression level (1 = easiest)")
    run = p.add_argument_group("how to run")
    run.add_argument("--no-voice", action="store_true", help="captions only, no speech")
    run.add_argument("--no-listen", action="store_true", help="no microphone")
    run.add_argument("--no-check", action="store_true",
                     help="skip the red-flag questions once (a warning sign reported earlier "
                     "still stops the session)")
    run.add_argument("--events", metavar="FILE", help="write the event stream as JSON lines")
    run.add_argument("--speed", type=_number(float, 0.1, 1000, "--speed"), default=1.0,
                     metavar="X", help="run X times faster (previews, tests)")
    run.add_argument("--save", action=argparse.BooleanOptionalAction, default=None,
                     help="keep this session in your history (default: yes, but not for "
                     "previews: --clock virtual or --speed above 1)")
    run.add_argument("--clock", choices=("real", "virtual"), default="real",
                     help="virtual: run instantly (with --no-voice, print the script)")
    run.add_argument("--data-dir", metavar="DIR", help="where history is kept")
    audio = p.add_argument_group("voice and microphone")
    audio.add_argument("--voice", metavar="ID", help="TTS voice (see `voicecoach voices`)")
    audio.add_argument("--rate", type=_number(int, 60, 400, "--rate"), metavar="WPM",
                       help="speaking rate, words a minute")
    audio.add_argument("--volume", type=_number(float, 0.0, 1.0, "--volume"), metavar="0-1",
                       help="the voice's loudness (1 = full)")
    audio.add_argument("--output-device", metavar="DEV",
                       help="speaker: index or name (see `voicecoach doctor`)")
    audio.add_argument("--input-device", metavar="DEV",
                       help="microphone: index or name (see `voicecoach doctor`)")
    # No default here: the config file's `recognizer` applies unless the option is given.
    audio.add_argument("--recognizer", choices=RECOGNIZERS,
                       help="auto (default): vosk with a model, else pocketsphinx; none: keys only")
    audio.add_argument("--model", metavar="DIR", help="vosk model folder")
    audio.add_argument("--echo-cancel", action="store_true", default=None,
                       help="take the coach's voice out of the microphone's sound (lets you "
                       "interrupt it more often; see docs/echo-cancel.md)")
    p.add_argument("--version", action="version", version=f"voicecoach {__version__}")
    return p


def choose(args: argparse.Namespace) -> tuple[Library, Routine]:
    """The routine to run, with the command line's dose overrides applied."""
    from voicecoach.library import load_file

    builtin = lib = load_builtin()
    if args.routine_file:
        lib = load_file(args.routine_file, base=lib)
    if args.exercise and args.routine:
        raise RoutineError("--exercise and --routine cannot be used together")
    # What the file itself defines is what the person asked for when they name nothing.
    own_routines = [r for k, r in lib.routines.items() if builtin.routines.get(k) is not r]
    own_exercises = [e for k, e in lib.exercises.items() if builtin.exercises.get(k) is not e]
    if args.routine_file and not (own_routines or own_exercises):
        # An empty file must not quietly run the whole built-in programme instead.
        raise RoutineError(f"{args.routine_file}: defines no [[exercise]] or [[routine]]")
    if args.routine_file and len(own_routines) > 1 and not (args.exercise or args.routine):
        names = ", ".join(r.id for r in own_routines)
        raise RoutineError(f"{args.routine_file} has {len(own_routines)} routines ({names}): "
                           "choose one with --routine NAME")
    if args.exercise:
        chosen = [lib.find_exercise(name) for name in args.exercise]
        seen: set[str] = set()
        for name, ex in zip(args.exercise, chosen):
            if ex.id in seen:
                again = f"'{name}' is {ex.id} again" if name != ex.id else f"{ex.id} is given twice"
                raise RoutineError(f"--exercise: {again}; to do more sets, use --sets")
            seen.add(ex.id)
        if len(chosen) == 1:
            routine = Routine(chosen[0].id, chosen[0].name, tuple(chosen))
        else:
            # `-e calf -e hamstring`: both, in this order (the last alone ran, in silence).
            routine = Routine("+".join(ex.id for ex in chosen), "your exercises",
                              tuple(chosen))
    elif args.routine:
        routine = lib.find_routine(args.routine)
    elif own_routines:
        routine = own_routines[-1]
    elif own_exercises:
        routine = Routine("my-exercises", "your exercises", tuple(own_exercises))
    else:
        routine = lib.find_routine("back-of-knee")
    exercises = []
    for ex in routine.exercises:
        if args.level is not None:
            ex = ex.at_level(int(args.level))
        changes: dict[str, Any] = {}
        if args.hold is not None and ex.kind == "hold":
            changes["hold"] = float(args.hold)
        if args.reps is not None and ex.kind == "reps":
            changes["reps"] = int(args.reps)
        if args.sets is not None:
            changes["sets"] = int(args.sets)
            if why := ex.cues_cut(int(args.sets)):  # as in a routine file: never in silence
                raise RoutineError(f"--sets {args.sets}: {why}")
        if args.rest is not None:
            changes["rest"] = float(args.rest)
        if args.side is not None:
            changes["side"] = args.side
        # A dose given for this exercise is kept as given; --hold for the stretches leaves
        # the leg raise's level to progression (it used to reset it to level 1).
        fixed = (bool({"sets", "reps", "hold"} & set(changes))
                 or (args.level is not None and bool(ex.levels)))
        exercises.append(replace(ex, fixed=ex.fixed or fixed, **changes))
    if args.level is not None:
        # Every exercise here with levels gets this one. Rounding it down for one that has
        # fewer would change that exercise in silence (--level 3 for the whole routine turned
        # the hamstring stretch's knee straight, which stretches the nerve too).
        levelled = [e for e in routine.exercises if e.levels]
        what = " and ".join(e.id for e in routine.exercises)
        if not levelled:
            they = "it has" if len(routine.exercises) == 1 else "they have"
            raise RoutineError(f"--level does not apply to {what}: {they} no levels")
        have = ", ".join(f"{e.id} {len(e.levels)}" for e in levelled)
        if len(levelled) > 1:
            # Each ladder is its own: level 2 is 3 x 12 for the leg raise, eyes closed for the
            # balance and the straight knee (a nerve stretch too) for the hamstring.
            raise RoutineError(f"--level sets one exercise's level (levels here: {have}); "
                               "name it with --exercise")
        if not 1 <= args.level <= len(levelled[0].levels):
            raise RoutineError(f"--level must be between 1 and {len(levelled[0].levels)} here "
                               f"(levels: {have}), got {args.level}")
    for dest, kind in (("hold", "reps"), ("reps", "hold")):
        if getattr(args, dest) is not None and all(e.kind == kind for e in exercises):
            what = " and ".join(e.id for e in exercises)
            raise RoutineError(f"--{dest} does not apply to {what}: it is done in "
                               f"{'reps' if kind == 'reps' else 'timed holds'}")
    return lib, replace(routine, exercises=tuple(exercises))


def list_library(lib: Library) -> str:
    lines = ["exercises:"]
    for ex in lib.exercises.values():
        dose = (f"{ex.sets}x{ex.reps} reps" if ex.kind == "reps"
                else f"{ex.sets}x{ex.hold:g} s hold")
        # A star where the figure is ours (the routine data's `defaults`), not the programme's.
        dose += "*" if ex.ours("sets", "reps", "hold") else ""
        often = ex.per_day + (f" (target {daily_target(ex)})" if ex.ours("per_day") else "")
        alias = f" (also: {', '.join(ex.aliases)})" if ex.aliases else ""
        lines.append(f"  {ex.id:<10} {ex.name:<20} {dose:<14} {often}{alias}")
    if any(ex.ours("sets", "reps", "hold", "per_day") for ex in lib.exercises.values()):
        lines.append("  * our default where the programme gives no figure (options and routine "
                     "files can change it)")
    lines.append("routines:")
    for rt in lib.routines.values():
        lines.append(f"  {rt.id:<10} {' → '.join(e.id for e in rt.exercises)}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        from voicecoach.subcommands import dispatch

        return dispatch(argv[0], argv[1:])
    args = parser().parse_args(argv)
    try:
        # argparse lets the last one win (and takes "--no-s" for "--no-save").
        if (any(len(a) > 3 and "--save".startswith(a) for a in argv)
                and any(len(a) > 5 and "--no-save".startswith(a) for a in argv)):
            raise RoutineError("--save and --no-save cannot be used together")
        check_options(args)
        lib, routine = choose(args)
    except RoutineError as exc:
        print(f"voicecoach: {exc}", file=sys.stderr)
        return 2
    if args.list:
        try:
            print(list_library(lib), flush=True)
        except OSError as exc:
            print(f"voicecoach: cannot write the list ({exc.strerror or exc})", file=sys.stderr)
            return 1
        return 0
    from voicecoach import memory
    from voicecoach.app import run_session
    from voicecoach.display import BestEffort

    # Diagnostics are best effort from here: a closed stderr must not stop the session.
    sys.stderr = cast(TextIO, BestEffort(sys.stderr))
    # Before the speaker, microphone and renderer start their threads (see memory.py).
    memory.settle()
    try:
        return run_session(args, routine)
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        sys.stderr.close()
        return 0

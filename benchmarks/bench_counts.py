"""Count timing over a long hold, ours against the naive pyttsx3 loop, and time to first word.

Usage: .venv/bin/python benchmarks/bench_counts.py [--counts 60] [--json PATH]

Everything is real: a private PulseAudio daemon (tests/harness.py) with null sinks, and what
is measured is what their monitors hear.

- Ours: an AudioSpeaker (RealClock) says "one" .. N, one a second, handed over `lead` early
  like the session does, into the `coach` sink.
- Naive: `engine.say(n); engine.runAndWait(); time.sleep(1)` with pyttsx3 playing through
  aplay, in its own process, into the `room` sink (PULSE_SINK), at the same time as ours: the
  two compete for the same 2 CPUs, which is what a real machine does anyway.

Error of count i = heard onset - (t0 + i - 1), where t0 is the first beat (ours: the first
deadline; naive: when its loop started). Recordings are placed on the monotonic clock by
parec's start time (first samples arriving; good to a few ms), never by our own reports.
Onsets are the first sample over -48 dBFS after 0.2 s of quiet (clips are trimmed at
-46 dBFS). Drift = error at the last count - error at the first.

Time to first word: `voicecoach --exercise calf` and the whole routine, launched as a
process with a cold then a warm clip cache, timed from just before launch to the first
onset on the coach monitor (the disclaimer was already shown; --no-check --no-listen).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from audio_check import onsets  # noqa: E402
from harness import Pulse, start_pulse  # noqa: E402

RATE = 16000
LOUD = 0.004
NAIVE = """
import sys, time, pyttsx3
words = sys.argv[1:]
engine = pyttsx3.init()
print(time.monotonic(), flush=True)
for w in words:
    engine.say(w)
    engine.runAndWait()
    time.sleep(1)
"""


def number_words(n: int) -> list[str]:
    from voicecoach.words import number

    return [number(i) for i in range(1, n + 1)]


def errors(heard: list[float], t0: float, n: int) -> dict[str, Any]:
    got = heard[:n]
    errs = [h - (t0 + i) for i, h in enumerate(got)]
    if not errs:
        return {"heard": 0}
    return {
        "heard": len(got),
        "median_ms": round(1000 * statistics.median(abs(e) for e in errs), 1),
        "worst_ms": round(1000 * max(abs(e) for e in errs), 1),
        "drift_ms": round(1000 * (errs[-1] - errs[0]), 1),
        "first_ms": round(1000 * errs[0], 1),
    }


def run_counts(pulse: Pulse, n: int, cache: Path) -> dict[str, dict[str, Any]]:
    from voicecoach.clock import RealClock
    from voicecoach.config import VoiceSettings
    from voicecoach.speaker import SpeechLog
    from voicecoach.voice import open_speaker

    os.environ["XDG_CACHE_HOME"] = str(cache)
    words = number_words(n)
    clock = RealClock()
    speaker = open_speaker(VoiceSettings(), clock, lambda u: None, SpeechLog(), print)
    speaker.prepare(words)
    for w in words:
        speaker.duration(w)
    ours_rec = pulse.start_recording("coach.monitor", rate=RATE)
    naive_rec = pulse.start_recording("room.monitor", rate=RATE)
    naive = subprocess.Popen(
        [sys.executable, "-c", NAIVE, *words], stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PULSE_SINK="room"),
    )  # fmt: skip
    assert naive.stdout is not None
    naive_t0 = float(naive.stdout.readline())
    t0 = clock.now() + 1.0
    for i, w in enumerate(words):
        at = t0 + i
        while clock.now() < at - speaker.lead:
            time.sleep(0.01)
        speaker.say(w, "count", at)
    time.sleep(speaker.busy_until() - clock.now() + 0.3)
    speaker.close()
    ours, _ = ours_rec.stop()
    naive.wait(timeout=600)
    time.sleep(0.3)
    theirs, _ = naive_rec.stop()
    ours_on = [ours_rec.started + t for t in onsets(ours, RATE, LOUD, min_gap=0.2)]
    naive_on = [naive_rec.started + t for t in onsets(theirs, RATE, LOUD, min_gap=0.2)]
    return {
        "ours": errors(ours_on, clock.to_monotonic(t0), n),
        "naive": errors(naive_on, naive_t0, n),
    }


def first_word(pulse: Pulse, root: Path, cache: Path, args: list[str]) -> float:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), XDG_CONFIG_HOME=str(root / "config"))
    base = [str(Path(sys.executable).parent / "voicecoach"), "--data-dir", str(root / "data"),
            "--no-check", "--no-listen", *args]
    rec = pulse.start_recording("coach.monitor", rate=RATE)
    launch = time.monotonic()
    proc = subprocess.Popen(base, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(3.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    samples, _ = rec.stop()
    heard = onsets(samples, RATE, LOUD)
    if not heard:
        raise SystemExit(f"no speech heard from {' '.join(args)}: {err.decode()[-500:]}")
    return round(rec.started + heard[0] - launch, 3)


def run_first_words(pulse: Pulse, root: Path) -> list[dict[str, Any]]:
    # Show the disclaimer once (instantly, on the virtual clock) so launches time the session.
    setup = [str(Path(sys.executable).parent / "voicecoach"), "--data-dir", str(root / "data"),
             "--no-check", "--exercise", "calf", "--clock", "virtual", "--no-voice"]
    subprocess.run(setup, env=dict(os.environ, XDG_CONFIG_HOME=str(root / "config")),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    out = []
    for name, args in (("calf", ["--exercise", "calf"]), ("whole routine", [])):
        cache = Path(tempfile.mkdtemp(dir=root))
        for state in ("cold", "warm"):
            out.append({"launch": name, "cache": state,
                        "seconds": first_word(pulse, root, cache, args)})
    return out


def table(counts: dict[str, dict[str, Any]], n: int, firsts: list[dict[str, Any]]) -> str:
    lines = [
        f"| {n} counts, 1 s apart | heard | median error | worst error | drift at last |",
        "|---|---|---|---|---|",
    ]
    names = {"ours": "ours: AudioSpeaker", "naive": "naive: say+runAndWait+sleep(1)"}
    for key, label in names.items():
        r = counts[key]
        lines.append(f"| {label} | {r.get('heard')} | {r.get('median_ms')} ms | "
                     f"{r.get('worst_ms')} ms | {r.get('drift_ms')} ms |")
    lines += ["", "| launch | clip cache | first word after launch |", "|---|---|---|"]
    lines += [f"| {f['launch']} | {f['cache']} | {f['seconds']:.2f} s |" for f in firsts]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, default=60)
    parser.add_argument("--json", default=str(HERE / "results" / "counts.json"))
    opts = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-counts-"))
    pulse = start_pulse(root / "pulse")
    try:
        firsts = run_first_words(pulse, root)
        counts = run_counts(pulse, opts.counts, root / "count-cache")
    finally:
        pulse.stop()
    print(table(counts, opts.counts, firsts))
    result = {"counts": opts.counts, "timing": counts, "first_word": firsts,
              "goal": {"worst_ms": 20, "drift_ms": 0, "first_word_s": 1.5}}
    Path(opts.json).parent.mkdir(parents=True, exist_ok=True)
    Path(opts.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

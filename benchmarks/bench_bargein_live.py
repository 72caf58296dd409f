"""Barge-in live, in the PulseAudio harness: a person says "pause" while the coach counts a
hold (or, with --lines, into its sentences), three ways: ours (the keyword search over the
coach's speech and the level check against its echo), the level check without the keyword
search (ours before 2026-12-02), and words and timing only.

The coach runs six 20-second holds of the calf stretch in real time with its AudioSpeaker and
pocketsphinx Listener; its output is looped into the `room` sink, as in the voice tests, so the
microphone hears every count (with --room-taps, along several paths of falling loudness: a
crude reverberant room). At random counts the person says "pause" into the room
(espeak-ng, en-us), alternately at the file's level and at paplay's volume 50 % (18 dB lower,
PulseAudio's volume being cubic), 0-0.8 s after the count
began, so it often lands on top of a count; the coach is then resumed from the keyboard. A
voice command with no "pause" said in the 3 s before it is the coach's own voice.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_bargein_live.py [--trials 24] [--out F]
        [--lines] [--ways ours,no keyword search,words only] [--volumes 65536,32768]
        [--coach-volume 1.0] [--steady-echo-path] [--room-taps 20:1,40:0.5,...]
        [--trace-levels]

Writes benchmarks/results/bargein-live.json. About 5 minutes a way. With --trace-levels, each
trial also has the longest span the level check allowed, and the temporary folder gets the
whole trace and the echo canceller's streams (benchmarks/aec_streams.py reads them).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from harness import Pulse, start_pulse  # noqa: E402
from room import Room  # noqa: E402

from voicecoach.commands import Command, CommandEvent  # noqa: E402
from voicecoach.config import VoiceSettings  # noqa: E402
from voicecoach.library import Routine, load_builtin  # noqa: E402

#: paplay volumes the person speaks at (65536: the file's own level; 32768: 18 dB lower; 82570:
#: 6 dB higher, PulseAudio's volume being cubic), cycled; --volumes changes them.
VOLUMES = [65536, 32768]
#: The coach's own volume (VoiceSettings.volume; 0.5 puts its echo 6 dB lower); --coach-volume.
COACH_VOLUME = [1.0]
#: Whether the harness's echo path holds its delay (no adaptive resampling); --steady-echo-path.
STEADY = [False]
#: The room's paths, (loopback latency_msec, amplitude) each (Pulse.echo_coach_into_room);
#: empty for the one loopback; --room-taps.
TAPS: list[tuple[int, float]] = []
#: Whether each trial keeps what the level check saw (--trace-levels).
TRACE = [False]


class _Tee(deque):  # type: ignore[type-arg]
    """A meter's frame window that also keeps every frame in `sink`."""

    def __init__(self, sink: list[Any], maxlen: int | None) -> None:
        super().__init__(maxlen=maxlen)
        self.sink = sink

    def append(self, x: Any) -> None:
        self.sink.append(x)
        super().append(x)


def record_streams(canceller: Any, streams: dict[str, list[bytes]]) -> None:
    """Keep every frame the echo canceller is given (microphone, reference) and gives back."""
    process = canceller.process

    def recorded(mic: bytes, played: bytes) -> bytes:
        out: bytes = process(mic, played)
        streams["mic"].append(mic)
        streams["played"].append(played)
        streams["cleaned"].append(out)
        return out

    canceller.process = recorded


def save_streams(streams: dict[str, list[bytes]], path: Path, rate: int) -> None:
    import numpy as np

    np.savez(path, rate=rate, **{k: np.frombuffer(b"".join(v), dtype=np.int16)
                                 for k, v in streams.items()})


def trace_levels(talk: Any, calls: list[dict[str, Any]], frames: dict[str, list[Any]]) -> None:
    """Record every level check of `talk` (a TalkMeter): the span, its verdict, the couplings
    before and after the canceller, and each 20 ms frame of the span with the raw microphone's
    level beside the cancelled one: what turned a word down live (README, echo canceller).
    `frames` gets every frame of the session, "cancelled" and "raw": the meter's own (time,
    level, settling)."""
    check = talk.talking
    for name, meter in (("cancelled", talk), ("raw", talk.uncancelled)):
        if meter is not None:
            frames[name] = []
            meter._hist = _Tee(frames[name], meter._hist.maxlen)

    def traced(t0: float, t1: float) -> float | None:
        over = check(t0, t1)
        raw = talk.uncancelled
        rawf = [(f[0], f[1]) for f in list(raw._hist)] if raw else []

        def raw_at(t: float) -> float | None:  # the raw frame nearest in time (10 ms frames)
            near = min(rawf, key=lambda f: abs(f[0] - t), default=None)
            return round(near[1], 1) if near and abs(near[0] - t) <= 0.011 else None

        k = talk.settings.above
        c = talk.coupling(before=t0)
        rc = raw.coupling(before=t0) if raw else None
        floor = talk.settings.cancelled_share * rc if rc is not None else None
        quiet = talk._quiet
        calls.append({
            "t0": round(t0, 3), "t1": round(t1, 3), "over": over, "coupling": c,
            "raw_coupling": rc, "floor": floor, "quiet": round(quiet, 1), "above": k,
            # (time, cancelled level, echo expected before the coupling, raw level)
            "frames": [(round(t, 3), round(lvl, 1), round(ref, 1), raw_at(t))
                       for t, lvl, ref, _ in talk.frames(t0, t1)]})
        return over

    talk.talking = traced


def routine() -> Routine:
    """The calf stretch, six holds of 20 s counted aloud, without its set-up talk."""
    ex = replace(load_builtin().find_exercise("calf"), sets=6, hold=20.0, rest=3.0, setup=(),
                 why="", cautions=())
    return Routine("calf", "Calf stretch", (ex,))


def lines_routine() -> Routine:
    """The whole built-in programme: its instructions, cautions and cues, spoken sentences."""
    return load_builtin().find_routine("back-of-knee")


def trial_driver(room: Room, wav: Path, trials: int, out: list[dict[str, Any]],
                 lines: bool = False) -> None:
    """Say "pause" on counts of the hold (or into sentences of 2 s or more, `lines`); resume
    from the keyboard after each."""
    playing = room.listener.pipeline.spotter.playing
    assert playing is not None
    rng = random.Random(1)
    tried: set[tuple[str, float]] = set()

    def seconds(u: Any) -> float:
        return len(u.levels) * u.level_step

    while len(out) < trials and not room.events(event="session_end"):
        now = room.clock.now()
        clips = [u for u in playing(now, now, 0.0) if u.start is not None
                 and (u.text, u.at) not in tried
                 and ((u.kind != "count" and seconds(u) >= 2.0) if lines else u.kind == "count")]
        if not clips:
            time.sleep(0.02)
            continue
        clip = clips[0]
        tried.add((clip.text, clip.at))
        if lines:  # somewhere in the sentence, ending before it does
            assert clip.start is not None
            wait = clip.start + rng.uniform(0.3, seconds(clip) - 1.0) - room.clock.now()
            time.sleep(max(0.0, wait))
        elif rng.random() < 0.6:  # most counts go by: the next "pause" comes later in the hold
            continue
        else:
            time.sleep(rng.uniform(0.0, 0.8))
        volume = VOLUMES[len(out) % len(VOLUMES)]
        seen = len(room.events(event="command", name="pause"))
        said_at = room.clock.now()
        room.pulse.play_into_room(wav, volume=volume)
        said_end = room.clock.now()
        heard = room.wait_for(2.0, seen, event="command", name="pause")
        out.append({"text": clip.text[:50], "volume": volume, "paused": heard is not None,
                    "latency_ms": round((heard["t"] - said_end) * 1000) if heard else None,
                    "said_at": round(said_at, 2)})
        if heard is not None:
            time.sleep(0.5)
            room.inbox.put(CommandEvent(Command.RESUME, source="key"))
            time.sleep(1.0)


def run(way: str, trials: int, tmp: Path, lines: bool) -> dict[str, Any]:
    pulse: Pulse = start_pulse(tmp / way.replace(" ", "-"))
    try:
        wav = tmp / "pause.wav"
        if not wav.exists():
            subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), "pause"], check=True)
        room = Room(pulse, tmp, lines_routine() if lines else routine(),
                    voice=VoiceSettings(volume=COACH_VOLUME[0]),
                    echo_cancel=way == "ours + echo canceller", steady_echo=STEADY[0],
                    taps=TAPS)
        if way not in ("ours", "ours + echo canceller"):
            room.listener.pipeline.barge = None
        if way == "words only":
            room.listener.pipeline.talk = None
        out: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        frames: dict[str, list[Any]] = {}
        if TRACE[0] and room.listener.pipeline.talk is not None:
            trace_levels(room.listener.pipeline.talk, calls, frames)
        streams: dict[str, list[bytes]] = {"mic": [], "played": [], "cleaned": []}
        if TRACE[0] and room.listener.cancel is not None:
            record_streams(room.listener.cancel.canceller, streams)
        room.run(lambda r: trial_driver(r, wav, trials, out, lines), limit=600.0)
        voice = [e for e in room.events(event="command") if e.get("source") == "voice"]
        said = [t["said_at"] for t in out]
        # A voice command with no "pause" said in the 3 s before it: the coach's own voice.
        says = room.events(event="say")

        def playing(t: float) -> str:
            return " | ".join(e["text"][:60] for e in says
                              if e.get("start", e["t"]) - 1.0 <= t <= e.get("end", e["t"]) + 1.0)

        false = [e for e in voice if not any(0 <= e["t"] - s <= 3.0 for s in said)]
        own = [f"{e['name']}@{e['t']:.1f} ({e.get('heard')}; coach: {playing(e['t'])})"
               for e in false]
        checks = [[c for c in calls if t["said_at"] - 0.5 <= c["t0"] <= t["said_at"] + 3]
                  for t in out]
        for t, cs in zip(out, checks, strict=True):  # the longest the level check allowed
            t["level_check_best_s"] = max((c["over"] for c in cs if c["over"] is not None),
                                          default=None) if TRACE[0] else None
        if streams["mic"]:  # what the canceller was given and gave, to replay it offline
            name = tmp.parent / f"{way.replace(' ', '-')}-streams.npz"
            save_streams(streams, name, room.listener.cancel.canceller.rate)
            print(f"streams: {name}", file=sys.stderr)
        if TRACE[0]:  # the whole trace beside the streams (megabytes): not in the results
            trace = tmp.parent / f"{way.replace(' ', '-')}-trace.json"
            trace.write_text(json.dumps({
                "level_checks": checks, "frames": frames,
                "own_voice_checks": [c for c in calls
                                     if any(-2.0 <= c["t0"] - e["t"] <= 0.5 for e in false)],
                "clips": [{k: e.get(k) for k in ("text", "start", "end", "kind")}
                          for e in says]}))
            print(f"trace: {trace}", file=sys.stderr)
        coupling = room.listener.pipeline.talk.coupling() if room.listener.pipeline.talk else None
        ok = [t for t in out if t["paused"]]
        lat = sorted(t["latency_ms"] for t in ok)
        by_volume = {str(v): f"{sum(t['paused'] for t in out if t['volume'] == v)}/"
                     f"{sum(t['volume'] == v for t in out)}" for v in VOLUMES}
        return {"paused": f"{len(ok)}/{len(out)}",
                "by_volume": by_volume,
                "latency_ms_median": lat[len(lat) // 2] if lat else None,
                "false_voice_commands": own, "echo_coupling": coupling, "trials": out}
    finally:
        pulse.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=24)
    ap.add_argument("--out", default="bargein-live.json")
    ap.add_argument("--lines", action="store_true",
                    help="into the programme's sentences instead of the counts of a hold")
    ap.add_argument("--ways", default="ours,no keyword search,words only",
                    help="of: ours, ours + echo canceller, no keyword search, words only")
    ap.add_argument("--volumes", default="65536,32768", help="paplay volumes, cycled")
    ap.add_argument("--coach-volume", type=float, default=1.0,
                    help="the coach's volume (0.5: its echo 6 dB lower)")
    ap.add_argument("--steady-echo-path", action="store_true",
                    help="the harness's echo path without adaptive resampling (fixed delay)")
    ap.add_argument("--room-taps", default="",
                    help="the coach heard along several paths, latency_msec:amplitude each "
                         "(20:1,40:0.5,70:0.35,110:0.25,160:0.15: about 75-360 ms)")
    ap.add_argument("--trace-levels", action="store_true",
                    help="keep every level check, 20 ms frame and canceller frame, beside the "
                         "streams in the temporary folder (benchmarks/aec_streams.py reads them)")
    args = ap.parse_args()
    TRACE[:] = [args.trace_levels]
    STEADY[:] = [args.steady_echo_path]
    TAPS[:] = [(int(a), float(b)) for a, b in (t.split(":") for t in args.room_taps.split(",")
                                                if t)]
    VOLUMES[:] = [int(v) for v in args.volumes.split(",")]
    COACH_VOLUME[:] = [args.coach_volume]
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"),
                               "into": "sentences" if args.lines else "counts",
                               "volumes": VOLUMES, "coach_volume": COACH_VOLUME[0],
                               "steady_echo_path": STEADY[0], "room_taps": TAPS}
    with tempfile.TemporaryDirectory() as d:
        for way in args.ways.split(","):
            row = run(way, args.trials, Path(d), args.lines)
            results[way] = row
            brief = {k: v for k, v in row.items() if k != "trials"}
            print(json.dumps(brief), flush=True)
    (ROOT / "benchmarks" / "results" / args.out).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    threading.excepthook = lambda a: print(f"driver failed: {a.exc_value!r}", file=sys.stderr)
    sys.exit(main())

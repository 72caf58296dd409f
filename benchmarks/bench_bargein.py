"""Barge-in against the coach's own voice: does "pause"/"stop" over the coach fire, and does the
coach's voice alone ever fire one? Three ways on the same audio in the same run: ours (a
keyword search over the coach's speech, voicecoach/bargein.py, and the microphone's level
checked against the coach's echo, voicecoach/doubletalk.py), the level check without the
keyword search (ours before 2026-12-02), and words and timing only (before 2026-12-01).

The microphone hears every line the coach says (the built-in routines, the safety questions)
through an echo path: a delay, a room tail and a coupling, over a low hiss, and in a second
pass also a TV-like noise 20 dB below the echo. As in a session the coach's welcome comes
first and each line is in the SpeechLog with its levels. In the barge-in pass a person says
"pause" or "stop" somewhere in the longer lines, in another voice, 6 dB below, level with, or
6 dB above the echo. pocketsphinx only (the coach's own English).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_bargein.py [--voices en-us,en] [--out F]
        [--only lines|counts] [--coach-only] [--levels] [--ways W1,W2] [--words pause,stop]
        [--kws-threshold 1e-20] [--kws-peak 8000] [--drift MS] [--shift-max N]
        [--tv-talk DB] [--tv-only] [--no-tv] [--unrelated] [--words W,W]

Writes benchmarks/results/bargein.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from audio_check import echo_cancelled, room_ir, speech  # noqa: E402
from bench_listen import ARTICLE, CHUNK, RATE, WELCOME  # noqa: E402

from voicecoach import safety  # noqa: E402
from voicecoach.bargein import BargeSettings  # noqa: E402
from voicecoach.coachlevels import clip_levels  # noqa: E402
from voicecoach.phrases import load_phrases  # noqa: E402
from voicecoach.pipeline import Pipeline  # noqa: E402
from voicecoach.roomvoice import RoomSettings  # noqa: E402
from voicecoach.speaker import SpeechLog, Utterance  # noqa: E402
from voicecoach.sphinx_keywords import PEAK, PHRASE_THRESHOLD, THRESHOLD  # noqa: E402
from voicecoach.sphinx_words import routine_texts  # noqa: E402
from voicecoach.spotter import SpotSettings, Spotter  # noqa: E402
from voicecoach.talksettings import TalkSettings  # noqa: E402
from voicecoach.words import ONES  # noqa: E402

PERSON = ["en-gb", "en-us+m3", "en-us+f2", "en-029"]
#: Person's level against the coach's echo (dB), cycled over the barge-ins.
RATIOS = (-6.0, 0.0, 6.0)
#: The rooms' reverberation: tail length (s) and amplitude against the direct sound
#: (audio_check.room_ir; --room-tail, --reverb).
ROOM = {"tail": 0.3, "reverb": 0.5}
#: The most the echo path's extra delay moves from line to line, in ms (--drift; 0: it holds).
DRIFT = [0.0]
#: ms the microphone's path stalls once in each line, the rest of the line's echo coming that
#: much later (--stall; 0: never). In CI the harness's loopback once stalled 0.2 s under load.
STALL = [0.0]
#: The hiss under it all (RMS on the 16-bit scale; a loopback, as in CI, has none).
HISS = [30.0]
#: The level check's settings (--shape-after, --shift-max, --tail-share).
TALK = [TalkSettings()]
#: The keyword search's settings (--kws-lead).
BARGE = [BargeSettings()]
#: What counts as another voice in the coach's silences (--room-voice).
ROOMS = [RoomSettings()]
#: What fired, by what heard it ("pause by keyword search"), in the latest way run.
BY: dict[str, int] = {}
#: What the person says over the coach, in turn (--words).
WORDS = ["pause", "stop"]
#: Sentences of the source article said over the coach instead, none meant for it
#: (--unrelated: a TV or someone talking in the room): anything that fires is false.
UNRELATED: list[str] = []
#: --tv-talk: the TV runs hear the source article read aloud without a break (a talk show),
#: this many dB against the loud parts of the coach's echo, instead of a hiss 20 dB under it.
TV_TALK: list[float | None] = [None]
#: The TV's voice (none of the coach's or the person's) and its speech, rendered once.
TV_VOICE = "en-gb-x-rp"
_TV: list[np.ndarray] = []


def tv_talk(n: int) -> np.ndarray:
    """`n` samples of the article read aloud on the TV, from its start, again as needed."""
    if not _TV:
        _TV.append(speech(" ".join(ARTICLE.read_text().split()), TV_VOICE, 175, RATE))
    talk = _TV[0]
    return np.tile(talk, n // len(talk) + 1)[:n]


def coach_lines() -> list[str]:
    """Every line of four words or more the coach may say."""
    texts = [safety.DISCLAIMER, safety.SHARP_PAIN_REMINDER, safety.PAIN_BEFORE_QUESTION,
             safety.PAIN_AFTER_QUESTION] + [f.question for f in safety.RED_FLAGS]
    texts += [t for t in routine_texts() if len(t.split()) >= 4]
    return list(dict.fromkeys(texts))


def room(x: np.ndarray, rng: np.random.Generator, ir: np.ndarray | None = None) -> np.ndarray:
    """`x` as the microphone hears it from the speaker: 30 ms late, a 0.3 s room tail, halved
    (a new room each time, unless `ir` is given: from room_ir)."""
    ir = room_ir(rng, RATE, **ROOM) if ir is None else ir
    return 0.5 * np.convolve(x, ir)[: len(x) + len(ir)]


def level(x: np.ndarray) -> float:
    loud = x[np.abs(x) > 0.05 * np.max(np.abs(x))]
    return float(np.sqrt(np.mean(loud**2))) if loud.size else 1.0


def counting(voice: str, rng: np.random.Generator) -> tuple[np.ndarray, list[Utterance]]:
    """A 20-count hold as the coach says it, one count a second, and its clips (from 0 s)."""
    out = np.zeros(20 * RATE)
    clips = []
    for i, word in enumerate([*ONES[1:], "twenty"]):
        clip = speech(word, voice, 175, RATE)[:RATE]
        out[i * RATE : i * RATE + len(clip)] += clip
        clips.append(Utterance(word, "count", i, i, i + len(clip) / RATE,
                               levels=clip_levels(clip, RATE)))
    return out, clips


def build(voices: list[str], barge: bool, tv: bool, seed: int, counts: bool = False,
          fixed_room: bool = False) -> dict[str, Any]:
    """One long microphone stream, the SpeechLog of it, where the person spoke, and what the
    speaker played (for an echo canceller); `fixed_room`: one room for the whole stream, as in
    a real session, else a new one for every line."""
    rng = np.random.default_rng(seed)
    ir = room_ir(np.random.default_rng(seed + 100), RATE, **ROOM) if fixed_room else None
    drift = np.random.default_rng(seed + 200)  # apart, so that the rest stays as without
    log = SpeechLog(keep=100000)
    parts: list[np.ndarray] = [np.zeros(RATE // 2)]
    played: list[np.ndarray] = [np.zeros(RATE // 2)]
    t = 0.5
    said: list[tuple[str, float, float, float]] = []  # (command, start, end, ratio)
    stalls: list[float] = []  # session times the microphone's path stalled (--stall)
    k = 0
    lines = [(WELCOME, voices[0])]
    if counts:  # twelve holds counted aloud, the person speaking into four of every five
        lines += [("", voices[i % len(voices)]) for i in range(12)]
    else:
        lines += [(line, v) for v in voices for line in coach_lines()]
    for text, voice in lines:
        if text:
            clip = speech(text, voice, 175, RATE)
            log.record(Utterance(text, "instruction", t, t, t + len(clip) / RATE,
                                 levels=clip_levels(clip, RATE)))
        else:
            clip, utts = counting(voice, rng)
            for u in utts:
                log.record(replace(u, at=u.at + t, start=(u.start or 0.0) + t,
                                   end=(u.end or 0.0) + t))
        mic = room(clip, rng, ir)
        if DRIFT[0]:  # the echo comes up to DRIFT ms later, a new delay each line
            mic = np.concatenate([np.zeros(int(drift.uniform(0, DRIFT[0]) / 1000 * RATE)), mic])
        if STALL[0] and len(clip) > RATE:  # nothing for STALL ms, then the rest of the echo
            cut = int(drift.uniform(0.3 * RATE, len(clip) - 0.3 * RATE))
            mic = np.concatenate([mic[:cut], np.zeros(int(STALL[0] / 1000 * RATE)), mic[cut:]])
            stalls.append(t + cut / RATE)
        spots = [rng.uniform(0.3 * RATE, len(clip) - 0.6 * RATE)]
        if not text:  # a word in each 5 s of the hold, anywhere against the counts
            spots = [rng.uniform(j * 5 * RATE, (j + 1) * 5 * RATE - RATE) for j in range(4)]
        for spot in spots if barge and text != WELCOME and len(clip) > 1.5 * RATE else []:
            word = UNRELATED[k % len(UNRELATED)] if UNRELATED else WORDS[k % len(WORDS)]
            person = speech(word, PERSON[k % len(PERSON)], 175, RATE)
            ratio = RATIOS[k % len(RATIOS)]
            at = int(spot)
            gain = level(mic) / level(person) * 10 ** (ratio / 20)
            end = at + len(person)
            if end > len(mic):
                mic = np.concatenate([mic, np.zeros(end - len(mic))])
            mic[at:end] += person * gain
            loud = np.nonzero(np.abs(person) > 150)[0]
            k += 1
            if UNRELATED:
                continue
            command = load_phrases("en").match(word)  # "it hurts": pain
            assert command is not None, word
            said.append((command.value, t + (at + loud[0]) / RATE, t + (at + loud[-1]) / RATE,
                         ratio))
        parts.append(mic)
        played.append(np.concatenate([clip, np.zeros(len(mic) - len(clip))]))
        gap = np.zeros(RATE)
        parts.append(gap)
        played.append(gap)
        t += (len(mic) + len(gap)) / RATE
    audio = np.concatenate(parts)
    if tv and TV_TALK[0] is not None:  # a voice that talks on, as a TV's does
        talk = tv_talk(len(audio))
        audio = audio + talk * (level(audio) / level(talk) * 10 ** (TV_TALK[0] / 20))
    elif tv:  # low-passed white noise 20 dB below the echo's loud parts
        white = rng.normal(0, 1, len(audio))
        pink = np.convolve(white, np.ones(8) / 8, mode="same")
        p = level(audio) ** 2 / 100
        audio = audio + pink * np.sqrt(p / np.mean(pink**2))
    audio += rng.normal(0, HISS[0], len(audio))
    return {"audio": np.clip(audio, -32767, 32767).astype(np.int16).tobytes(), "log": log,
            "said": said, "played": np.concatenate(played), "stalls": stalls}


def cancelled(stream: dict[str, Any]) -> bytes:
    """The stream's audio through the coach's echo canceller (voicecoach/echocancel.py), the
    speaker's blocks and the microphone's chunks dated with 1 ms of jitter."""
    return echo_cancelled(stream["audio"], stream["played"] / 32768.0, RATE,
                          np.random.default_rng(0), chunk=CHUNK)


def listen(rec: Any, table: Any, stream: dict[str, Any], talk: bool,
           spot: SpotSettings | None = None, keywords: Any = None, cancel: bool = False
           ) -> tuple[list[tuple[str, float]], float]:
    """What fired, and the share of the audio the keyword search took in; `cancel`: through
    the echo canceller first."""
    rec.reset()
    if keywords is not None:
        keywords.reset()
    pipe = Pipeline(rec, Spotter(table, playing=stream["log"].overlapping,
                                 settings=spot or SpotSettings()),
                    TALK[0] if talk else None, keywords=keywords, cancelled=cancel,
                    barge=BARGE[0], room=ROOMS[0])
    data, out = cancelled(stream) if cancel else stream["audio"], []
    for i in range(0, len(data), CHUNK * 2):
        piece = data[i : i + CHUNK * 2]
        at = (i + len(piece)) / 2 / RATE
        # As the Listener does: the microphone's own chunk too, for the level before the
        # canceller (the cleaned chunks are the microphone's, sample for sample, here).
        raw = (stream["audio"][i : i + CHUNK * 2], at) if cancel else None
        spot = pipe.feed(piece, at, raw)
        if spot is not None and not spot.rejected:
            out.append((spot.command.value, (i + len(piece)) / 2 / RATE))
            key = f"{spot.command.value} by {spot.by}"
            BY[key] = BY.get(key, 0) + 1
    searched = pipe.barge.searched / len(data) if pipe.barge is not None else 0.0
    return out, searched


def score(fired: list[tuple[str, float]], said: list[tuple[str, float, float, float]],
          exact: bool = True) -> dict[str, Any]:
    right: dict[str, int] = {str(r): 0 for r in RATIOS}
    total: dict[str, int] = {str(r): 0 for r in RATIOS}
    lat: list[float] = []
    used: set[int] = set()
    for word, t0, t1, ratio in said:
        total[str(ratio)] += 1
        for j, (cmd, at) in enumerate(fired):
            if j not in used and cmd == word and t0 <= at <= t1 + 1.0:
                used.add(j)
                right[str(ratio)] += 1
                lat.append((at - t1) * 1000)
                break
    false = [f"{c}@{at:.1f}" for j, (c, at) in enumerate(fired) if j not in used]
    out: dict[str, Any] = {"false": len(false), "false_at": false}
    # Fired with no word said in the 3 s before: the coach's own voice (a pause and then a
    # stop for one "stop", or a late second find of one word, are not).
    unprompted = [f"{c}@{at:.1f}" for c, at in fired
                  if not any(t0 <= at <= t1 + 3.0 for _, t0, t1, _ in said)]
    out["unprompted"] = unprompted
    if said and exact:
        # Interrupted at all: "stop" or "it hurts" said over the coach may pause it (the
        # keyword search, bargein.py).
        same = {"stop": "pause", "pain": "pause"}
        any_way = score([(same.get(c, c), at) for c, at in fired],
                        [(same.get(w, w), t0, t1, r) for w, t0, t1, r in said], exact=False)
        out["interrupted"] = any_way["right_all"]
        out["interrupted_by_db"] = any_way["right"]
        out["false_interrupting"] = any_way["false"]
    if said:
        out["right"] = {r: f"{right[r]}/{total[r]}" for r in right}
        out["right_all"] = f"{sum(right.values())}/{len(said)}"
        if lat:
            out["latency_ms"] = [round(float(np.median(lat))), round(float(np.percentile(lat, 95)))]
    return out


def levels(voices: list[str], fixed_room: bool = False) -> dict[str, Any]:
    """The level check alone, no recognizer: how often the coach alone crosses the threshold
    (one-second windows, a tenth of a second apart), how often a person's word does, and what
    the meter costs."""
    from voicecoach.doubletalk import TalkMeter
    from voicecoach.echoshape import clear_of_tail

    out: dict[str, Any] = {}
    runs = [("coach", False, False, 1, False), ("coach, TV", False, True, 2, False),
            ("coach, counts", False, False, 5, True), ("person, lines", True, False, 3, False),
            ("person, lines, TV", True, True, 4, False), ("person, counts", True, False, 6, True)]
    for name, barge, tv, seed, counts in runs:
        stream = build(voices, barge, tv, seed, counts, fixed_room)
        meter = TalkMeter(RATE, stream["log"].overlapping, TALK[0])
        data, frames, ratios, expected = stream["audio"], [], [], []
        t_cpu = time.process_time()
        done = 0.0  # frames up to this session time are collected
        for i in range(0, len(data), CHUNK * 2):
            piece = data[i : i + CHUNK * 2]
            now = (i + len(piece)) / 2 / RATE
            meter.feed(piece, now)
            if now - done >= 2.0 or i + CHUNK * 2 >= len(data):  # the meter keeps 4 s
                # Each frame against the echo and coupling the meter holds a little after it
                # (as a level check a word later sees them).
                c = meter.coupling()
                for f in meter.frames(done + 1e-6, now):
                    frames.append(f)
                    ratios.append(f[1] / ((c or 1.0) * f[2] + meter._quiet))
                    expected.append((c or 1.0) * f[2])
                done = now
        cpu = (time.process_time() - t_cpu) / (len(data) / 2 / RATE)
        c = meter.coupling() or 1.0
        t = np.array([f[0] for f in frames])
        ref = np.array([f[2] for f in frames])
        ratio = np.array(ratios)
        # TalkSettings.tail_share: a frame counts only when what it holds over the echo is
        # that share of the loudest echo of the `tail_reach` seconds up to it. Both ways are
        # counted, with it ("... tail") and without.
        kept = np.array(clear_of_tail([(f[0], f[1], e) for f, e in zip(frames, expected)],
                                      TALK[0]))

        def over(t0: float, t1: float, k: float, t: Any = t, ratio: Any = ratio,
                 tail: bool = False, kept: Any = kept) -> int:
            hit = (ratio > k) & (kept if tail else True)
            return int(np.sum(hit[(t >= t0) & (t <= t1)]))

        row: dict[str, Any] = {"coupling": round(c, 3), "meter_cpu": round(cpu, 5),
                               "echo went missing": getattr(meter, "stalls", None)}
        if not barge:
            starts = [t0 for t0 in np.arange(0.5, t[-1], 0.1)
                      if ref[(t >= t0) & (t <= t0 + 1.0)].max(initial=0) > 0]
            row["windows"] = len(starts)
            for k in (1.3, 1.5):
                for m in (2, 3):
                    row[f"share with {m}+ frames over {k}"] = round(
                        sum(over(t0, t0 + 1.0, k) >= m for t0 in starts) / len(starts), 4)
            row["share with 3+ frames over 1.5, tail"] = round(
                sum(over(t0, t0 + 1.0, 1.5, tail=True) >= 3 for t0 in starts) / len(starts), 4)
        else:
            for r in RATIOS:
                said = [x for x in stream["said"] if x[3] == r]
                for tail in (False, True):
                    hit = sum(over(w1 - 0.9, w1 + 0.15, 1.5, tail=tail) >= 3
                              for _, _, w1, _ in said)
                    key = f"person at {r:+.0f} dB: 3+ frames over 1.5" + (", tail" if tail else "")
                    row[key] = f"{hit}/{len(said)}"
        out[name] = row
        print(name, json.dumps(row), flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voices", default="en-us,en")
    ap.add_argument("--out", default="bargein.json")
    ap.add_argument("--only", choices=("lines", "counts"), help="only spoken lines, or counts")
    ap.add_argument("--words", default=",".join(WORDS),
                    help="what the person says over the coach, in turn (default: pause,stop)")
    ap.add_argument("--unrelated", action="store_true",
                    help="the person says sentences of the source article, none meant for the "
                         "coach: every command that fires is false")
    ap.add_argument("--own-after", type=float, default=None,
                    help="BargeSettings.own_after: seconds waited after an \"it hurts\" find")
    ap.add_argument("--no-tv", action="store_true", help="skip the runs with TV noise")
    ap.add_argument("--tv-talk", type=float, default=None, metavar="DB",
                    help="the TV talks: the article read aloud without a break, DB against "
                    "the echo's loud parts (default: a hiss 20 dB under it)")
    ap.add_argument("--tv-only", action="store_true", help="only the runs with the TV on")
    ap.add_argument("--coach-only", action="store_true", help="no person: false barge-ins only")
    ap.add_argument("--barge-hold", type=float, default=None,
                    help="ours with this SpotSettings.barge_hold (a trial of another setting)")
    ap.add_argument("--levels", action="store_true",
                    help="the level check alone: threshold crossings and its CPU")
    ap.add_argument("--kws-threshold", type=float, default=THRESHOLD,
                    help="ours with this keyword search threshold (sphinx_keywords.THRESHOLD)")
    ap.add_argument("--kws-phrase-threshold", type=float, default=PHRASE_THRESHOLD,
                    help="the keyword search's threshold for keyphrases of several words "
                         "(\"it hurts\")")
    ap.add_argument("--kws-peak", type=float, default=PEAK,
                    help="ours with this keyword search input peak (sphinx_keywords.PEAK)")
    ap.add_argument("--ways", help="comma-separated ways to run (default: all but the echo "
                    "canceller's)")
    ap.add_argument("--fixed-room", action="store_true",
                    help="one room for each stream (as in a session; an echo canceller needs "
                    "that), not one for every line")
    ap.add_argument("--room-tail", type=float, default=ROOM["tail"],
                    help="seconds of the rooms' reverberation (60 dB down)")
    ap.add_argument("--reverb", type=float, default=ROOM["reverb"],
                    help="its amplitude against the direct sound (a living room 2-3 m from "
                    "the speaker: 1.5-3)")
    ap.add_argument("--shape-after", type=float, default=None,
                    help="TalkSettings.fit_after (1e9: the level check without the echo's "
                    "shape, as before 2026-12-02)")
    ap.add_argument("--room-voice", type=float, default=None,
                    help="RoomSettings.most: the most of the coach's silences that may be "
                    "voiced for a barge-in to be taken (1: no such check, as before 2026-12-06)")
    ap.add_argument("--kws-lead", type=float, default=None,
                    help="BargeSettings.lead: seconds before a found word the level check "
                    "also looks at")
    ap.add_argument("--drift", type=float, default=0.0,
                    help="ms: each line's echo comes a random 0 to this much later (the "
                    "echo path's delay moving, as under a loaded CPU)")
    ap.add_argument("--stall", type=float, default=0.0,
                    help="ms: once in each line the microphone hears nothing for this long, "
                    "then the rest of the echo that much later (a stalled loopback)")
    ap.add_argument("--shift-max", type=int, default=None,
                    help="TalkSettings.shift_max (0: the echo's delay as the shape learnt "
                    "it, as before 2026-12-05)")
    ap.add_argument("--tail-share", type=float, default=None,
                    help="TalkSettings.tail_share (0: any frame over the echo counts, however "
                    "faint against the echo just before, as before 2026-12-06)")
    args = ap.parse_args()
    DRIFT[0] = args.drift
    STALL[0] = args.stall
    if args.tail_share is not None:
        TALK[0] = replace(TALK[0], tail_share=args.tail_share)
    WORDS[:] = args.words.split(",")
    TV_TALK[0] = args.tv_talk
    if args.unrelated:
        text = " ".join(ARTICLE.read_text().split())
        UNRELATED[:] = [x.strip() + "." for x in text.split(". ") if 40 <= len(x) <= 160]
    if args.shift_max is not None:
        TALK[0] = replace(TALK[0], shift_max=args.shift_max)
    if args.room_voice is not None:
        ROOMS[0] = replace(ROOMS[0], most=args.room_voice)
    if args.kws_lead is not None:
        BARGE[0] = replace(BARGE[0], lead=args.kws_lead)
    if args.own_after is not None:
        BARGE[0] = replace(BARGE[0], own_after=args.own_after)
    ROOM.update(tail=args.room_tail, reverb=args.reverb)
    if args.shape_after is not None:
        TALK[0] = replace(TALK[0], fit_after=args.shape_after)
    if args.levels:
        found = {"date": time.strftime("%Y-%m-%d"), "room": ROOM,
                 "shape_after": TALK[0].fit_after, "fixed room": args.fixed_room,
                 "drift_ms": DRIFT[0], "stall_ms": STALL[0], "shift_max": TALK[0].shift_max,
                 "tail_share": TALK[0].tail_share,
                 **levels(args.voices.split(","), args.fixed_room)}
        out = ROOT / "benchmarks" / "results" / Path(args.out).name
        out.write_text(json.dumps(found, indent=1) + "\n")
        return 0
    from voicecoach.sphinx_keywords import SphinxKeywords
    from voicecoach.sphinx_recognizer import SphinxRecognizer

    table = load_phrases("en")
    rec = SphinxRecognizer(RATE, table, tuple(table.answers))
    voices = args.voices.split(",")
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "voices": voices,
                               "room": ROOM, "shape_after": TALK[0].fit_after,
                               "drift_ms": DRIFT[0], "stall_ms": STALL[0],
                               "shift_max": TALK[0].shift_max,
                               "tail_share": TALK[0].tail_share}
    keywords = SphinxKeywords(RATE, SpotSettings().barge_in, args.kws_threshold, args.kws_peak,
                              args.kws_phrase_threshold)
    ways = [("ours", True, keywords, False), ("level check, no keyword search", True, None, False),
            ("words only", False, None, False),
            ("ours + echo canceller", True, keywords, True)]
    chosen = args.ways.split(",") if args.ways else [w[0] for w in ways[:3]]
    ways = [w for w in ways if w[0] in chosen]
    results["fixed room"] = args.fixed_room
    results["keyword search"] = {"threshold": args.kws_threshold, "peak": args.kws_peak,
                                 "phrase threshold": args.kws_phrase_threshold,
                                 "lead": BARGE[0].lead, "own_after": BARGE[0].own_after,
                                 "room voice": ROOMS[0].most}
    results["words"] = "unrelated (the article)" if UNRELATED else WORDS
    results["tv"] = ("hiss, -20 dB" if TV_TALK[0] is None
                     else f"the article read aloud ({TV_VOICE}), {TV_TALK[0]:+g} dB")
    runs = [(False, False, False), (False, True, False), (True, False, False),
            (True, True, False), (False, False, True), (True, False, True), (True, True, True)]
    for seed, (barge, tv, counts) in enumerate(runs, 1):
        if args.only and args.only not in ("counts" if counts else "lines"):
            continue
        if (args.coach_only and barge) or (args.unrelated and not barge) or (args.no_tv and tv):
            continue
        if args.tv_only and not tv:
            continue
        stream = build(voices, barge, tv, seed, counts, args.fixed_room)
        minutes = len(stream["audio"]) / 2 / RATE / 60
        name = ("barge-in" if barge else "coach only") + (" on counts" if counts else "")
        name += ", TV" if tv else ""
        row: dict[str, Any] = {"minutes": round(minutes, 1)}
        for way, talk, kws, cancel in ways:
            t_cpu = time.process_time()
            spot = SpotSettings()
            if talk and args.barge_hold is not None:
                spot = SpotSettings(barge_hold=args.barge_hold)
            BY.clear()
            fired, searched = listen(rec, table, stream, talk, spot, kws, cancel)
            row[way] = score(fired, stream["said"])
            row[way]["fired by"] = dict(BY)
            if kws is not None:
                row[way]["keyword search share"] = round(searched, 3)
            row[way]["cpu"] = round((time.process_time() - t_cpu) / (minutes * 60), 3)
        results[name] = row
        print(name, json.dumps(row), flush=True)
    out = ROOT / "benchmarks" / "results" / args.out
    out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

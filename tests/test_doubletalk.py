"""The double-talk check: the coach's clip levels, the coupling learnt from its echo, and a
person's voice found above that echo (synthetic PCM, no sound device)."""

from __future__ import annotations

import numpy as np

from voicecoach.coachlevels import clip_levels, coach_level
from voicecoach.doubletalk import TalkMeter
from voicecoach.speaker import SpeechLog, Utterance
from voicecoach.talksettings import TalkSettings


def syllables(seconds: float, rng: np.random.Generator, rate: int = 16000) -> np.ndarray:
    """A coach's voice for the meter: noise swelling four times a second, peaks about 3000."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    return 3000 * np.abs(np.sin(2 * np.pi * 2 * t)) * rng.normal(0, 1, n)


def feed(meter: TalkMeter, x: np.ndarray, until: float, rate: int = 16000) -> None:
    """`x` (from session time 0) into `meter` in 30 ms chunks, up to `until` seconds."""
    pcm = x.astype(np.int16).tobytes()
    step = 480 * 2
    for i in range(0, 2 * int(until * rate), step):
        meter.feed(pcm[i : i + step], (i + len(pcm[i : i + step])) / 2 / rate)


def one_line(coach: np.ndarray, rate: int = 16000) -> SpeechLog:
    """A log of one clip, `coach`, played from 1 s on, with its levels."""
    log = SpeechLog()
    log.record(Utterance("a long line", "instruction", 1.0, 1.0, 1.0 + len(coach) / rate,
                         levels=clip_levels(coach, rate)))
    return log


def talked_over(mic: np.ndarray, log: SpeechLog, settings: TalkSettings, first: float,
                every: float, until: float, rate: int = 16000) -> tuple[list[float], TalkMeter]:
    """`mic` into a new meter in 30 ms chunks up to `until` seconds; the seconds taken for the
    person in each `every` seconds ending at `first`, then every `every` seconds after."""
    meter, over = TalkMeter(rate, log.overlapping, settings), []
    pcm, step = mic.astype(np.int16).tobytes(), 480 * 2
    due = first
    for i in range(0, 2 * int(until * rate), step):
        now = (i + step) / 2 / rate
        meter.feed(pcm[i : i + step], now)
        if now >= due:
            over.append(meter.talking(due - every, due) or 0.0)
            due += every
    return over, meter


def test_talk_meter_learns_the_coupling_and_finds_a_person_over_the_echo() -> None:
    rate = 16000
    rng = np.random.default_rng(0)
    # The coach: 4 s of syllables (a 4 Hz swell) at level ~3000, logged with its levels.
    n = 4 * rate
    t = np.arange(n) / rate
    coach = 3000 * np.abs(np.sin(2 * np.pi * 2 * t)) * rng.normal(0, 1, n)
    log = one_line(coach, rate)
    assert len(log.overlapping(1.0, 1.0)[0].levels) == 200
    assert coach_level(log.overlapping(0, 9), 2.0, 2.1)[0] > 1000
    assert coach_level(log.overlapping(0, 9), 6.0, 7.0) == (0.0, 0.0)
    # The microphone: a second of hiss, then the coach 40 ms late at 0.4 of its level.
    echo = np.zeros(6 * rate)
    delay = rate + int(0.04 * rate)
    echo[delay : delay + n] = 0.4 * coach
    mic = echo + rng.normal(0, 20, len(echo))
    # A person 0.3 s long, 9 dB above the echo's loudest frames (RMS 3500 against 1200).
    person = mic.copy()
    voice = 5000 * np.sin(2 * np.pi * 180 * t[: int(0.3 * rate)])
    person[int(3.5 * rate) : int(3.8 * rate)] += voice
    heard = {}
    for name, x in (("coach", mic), ("person", person)):
        meter = TalkMeter(rate, log.overlapping)
        assert meter.talking(0.0, 1.0) is None
        pcm = x.astype(np.int16).tobytes()
        step = 480 * 2  # 30 ms chunks
        for i in range(0, len(pcm), step):
            if i >= 2 * int(3.9 * rate):
                break
            meter.feed(pcm[i : i + step], (i + len(pcm[i : i + step])) / 2 / rate)
        c = meter.coupling(before=3.4)
        assert c is not None and 0.3 < c < 0.6
        assert not meter.learnt  # a coupling, but under 5 s of the coach: no shape yet
        heard[name] = meter.talking(3.4, 3.9)
    assert heard["coach"] is not None and heard["coach"] < 0.04
    assert heard["person"] is not None and heard["person"] >= 0.1


def test_coach_level_follows_speed_and_stops_where_a_clip_was_cut() -> None:
    levels = tuple(float(i) for i in range(1, 101))  # 2 s of audio, louder and louder
    whole = Utterance("line", "instruction", 10.0, 10.0, 12.0, levels=levels)
    assert coach_level([whole], 10.0, 10.01) == (1.0, 100.0)
    assert coach_level([whole], 11.0, 11.01)[0] == 51.0
    assert coach_level([whole], 12.5, 13.0) == (0.0, 0.0)
    # Cut at 10.5 s (pause): nothing of it sounds after that.
    cut = Utterance("line", "instruction", 10.0, 10.0, 10.5, cut=True, levels=levels)
    assert coach_level([cut], 10.4, 11.5)[0] == 26.0
    assert coach_level([cut], 10.6, 11.5) == (0.0, 0.0)
    # Under a clock running 10 times fast, each 20 ms frame takes 0.2 s of session time.
    fast = Utterance("line", "instruction", 0.0, 0.0, 20.0, levels=levels, level_step=0.2)
    assert coach_level([fast], 10.0, 10.01)[0] == 51.0
    # A caption has no levels: no echo expected from it.
    caption = Utterance("line", "instruction", 10.0, 10.0, 12.0)
    assert coach_level([caption], 10.0, 12.0) == (0.0, 0.0)


def test_with_a_canceller_a_burst_where_it_relearns_is_not_the_person() -> None:
    """Live, AEC3's residual burst up at the first words after a silence or a cut (the
    speaker's stream restarting): the level check then assumes all of the echo, as with no
    canceller. The same burst in the middle of talk still counts (rare once the reference
    holds still: echocancel.FOLLOW_SECONDS)."""
    rate = 16000
    rng = np.random.default_rng(0)
    log = SpeechLog()
    coach = np.zeros(11 * rate)
    # (start, seconds, cut): a first line; one after 2 s of silence; one right after it; one
    # cut at 9.0 s; one just after the cut.
    for start, seconds, cut in ((0.5, 2.5, False), (5.0, 2.0, False), (7.1, 1.5, False),
                                (8.7, 0.3, True), (9.2, 1.5, False)):
        clip = syllables(seconds, rng)
        log.record(Utterance("a line", "instruction", start, start, start + seconds, cut=cut,
                             levels=clip_levels(clip, rate)))
        coach[int(start * rate) : int(start * rate) + len(clip)] = clip
    raw = 0.8 * coach + rng.normal(0, 20, len(coach))
    cleaned = 0.001 * coach + rng.normal(0, 5, len(coach))
    bursts = (5.15, 7.25, 9.3)  # 0.15-0.1 s into the second, third and last lines
    for at in bursts:
        span = slice(int(at * rate), int((at + 0.15) * rate))
        cleaned[span] = 0.4 * raw[span]  # half the echo: over the floor of 1/8 of it

    def over(settings: TalkSettings) -> list[float | None]:
        """Seconds of each burst taken for the person, checked as the keyword search does,
        just after it."""
        meter_raw = TalkMeter(rate, log.overlapping, settings)
        meter = TalkMeter(rate, log.overlapping, settings, uncancelled=meter_raw)
        step, found = 480, {}
        for i in range(0, len(coach) - step + 1, step):
            at = (i + step) / rate
            meter_raw.feed(raw[i : i + step].astype(np.int16).tobytes(), at)
            meter.feed(cleaned[i : i + step].astype(np.int16).tobytes(), at)
            for b in bursts:
                if b + 0.3 <= at and b not in found:
                    found[b] = meter.talking(b - 0.05, b + 0.2)
        return [found[b] for b in bursts]

    after_silence, mid_talk, after_cut = over(TalkSettings())
    assert after_silence == 0.0 and after_cut == 0.0
    assert mid_talk is not None and mid_talk >= 0.1
    # Without the rule each burst would pass for a person (a pause would fire).
    assert all(o is not None and o >= 0.1
               for o in over(TalkSettings(settle=0.0, settle_cut=0.0)))


def test_the_echo_shape_is_learnt_and_finds_a_person_level_with_the_echo() -> None:
    """After a few seconds of the coach, the meter knows the echo's delay and the room's tail
    (echoshape.fit_shape): the echo expected follows the coach's syllables instead of the
    loudest frame of a quarter second, so a person as loud as the echo shows between them,
    while the echo alone, tail and all, still does not pass for a person."""
    rate = 16000
    rng = np.random.default_rng(1)
    coach = syllables(12.0, rng)
    log = one_line(coach, rate)
    # The room: the direct sound 60 ms late at 0.4, then a 0.3 s tail decaying 60 dB.
    k = int(0.3 * rate)
    tail = rng.normal(0, 1, k) * np.exp(-np.arange(k) / (0.3 * rate / 6.9))
    ir = np.zeros(int(0.06 * rate) + k)
    ir[int(0.06 * rate)] = 0.4
    ir[int(0.06 * rate) + 1 :] += tail[1:] * 0.2 / np.sqrt(np.sum(tail**2))
    echo = np.zeros(14 * rate)
    wet = np.convolve(coach, ir)
    echo[rate : rate + len(wet)] = wet[: 13 * rate]
    mic = echo + rng.normal(0, 20, len(echo))
    # A person 0.3 s long, as loud as the echo's loud parts, from 10.3 s.
    part = echo[2 * rate : 12 * rate]
    loud = np.sqrt(np.mean(part[np.abs(part) > 300] ** 2))
    voice = np.sin(2 * np.pi * 180 * np.arange(int(0.3 * rate)) / rate)
    person = mic.copy()
    person[int(10.3 * rate) : int(10.6 * rate)] += voice * loud / np.sqrt(np.mean(voice**2))

    def heard(x: np.ndarray, settings: TalkSettings) -> tuple[float | None, TalkMeter]:
        meter = TalkMeter(rate, log.overlapping, settings)
        feed(meter, x, 10.8)
        return meter.talking(10.25, 10.7), meter

    over, meter = heard(person, TalkSettings())
    assert meter.shape is not None and meter.learnt
    # Its strongest tap is the direct sound, 3 frames (60 ms) after the coach's (lead 2).
    assert int(np.argmax(meter.shape)) - meter.settings.lead == 3
    assert over is not None and over >= 0.1
    alone, _ = heard(mic, TalkSettings())
    assert alone is not None and alone < 0.04
    # With the loudest frame of the window for the echo (as before the shape), it is missed.
    before, _ = heard(person, TalkSettings(fit_after=1e9))
    assert before is not None and before < 0.06


def test_what_was_learnt_outlasts_a_long_silence() -> None:
    """A massage hold is a minute without the coach: the shape and the coupling learnt before
    it still stand when it speaks again, so a person talking over its first words is heard
    (live, a "pause" there was turned down as "echo level not known yet")."""
    rate = 16000
    rng = np.random.default_rng(2)
    log = SpeechLog()
    mic = rng.normal(0, 20, 70 * rate)
    for start, seconds in ((1.0, 8.0), (65.0, 3.0)):  # 56 s of silence between
        clip = syllables(seconds, rng)
        log.record(Utterance("a line", "instruction", start, start, start + seconds,
                             levels=clip_levels(clip, rate)))
        at = int((start + 0.04) * rate)
        mic[at : at + len(clip)] += 0.5 * clip
    voice = 1500 * np.sin(2 * np.pi * 180 * np.arange(int(0.3 * rate)) / rate)
    mic[int(65.5 * rate) : int(65.8 * rate)] += voice
    meter = TalkMeter(rate, log.overlapping)
    feed(meter, mic, 66.0)
    assert meter.shape is not None
    over = meter.talking(65.45, 65.85)
    assert over is not None and over >= 0.06  # what a barge-in needs (bargein.BargeSettings.talk)


def test_a_digitally_quiet_gap_in_the_coachs_line_is_not_the_person() -> None:
    """A stream with no noise at all (a loopback, as in CI): the quiet level is 0, the echo's
    shape a single delay, so between two of the coach's words no echo is expected, and the
    last bits of rounding there (a level under 1) stood over 1.5 times the quiet: a barge-in
    fired on the coach's own line. A frame must also reach `least` to be the person's."""
    rate = 16000
    rng = np.random.default_rng(3)
    coach = syllables(8.0, rng)
    gaps = [(int((k + 0.55) * rate), int((k + 0.75) * rate)) for k in range(8)]
    for a, b in gaps:  # a 0.2 s gap between words, every second
        coach[a:b] = 0.0
    log = SpeechLog()
    log.record(Utterance("a line with gaps", "instruction", 1.0, 1.0, 9.0,
                         levels=clip_levels(coach, rate)))
    mic = np.zeros(10 * rate)
    mic[rate + 320 : rate + 320 + len(coach)] = np.round(0.4 * coach)  # 20 ms late, no room
    for a, b in gaps:  # a stray last bit here and there
        mic[rate + a : rate + b] = rng.choice([-1.0, 0.0, 0.0, 0.0, 1.0], b - a)
    meter = TalkMeter(rate, log.overlapping)
    # Neither the floor nor the share of the echo's recent peak (tail_share, which turns
    # these bits down too).
    # (Nor a missing echo looked for: gone_run.)
    floorless = TalkMeter(rate, log.overlapping,
                          TalkSettings(least=0.0, tail_share=0.0, gone_run=10**6))
    tailed = TalkMeter(rate, log.overlapping, TalkSettings(least=0.0))
    for m in (meter, floorless, tailed):
        feed(m, mic, 8.9)
    # The gaps once the echo is learnt (and within the 4 s the meter keeps).
    spans = [(k + 1.5, k + 1.8) for k in range(4, 8)]
    assert min(floorless.talking(a, b) or 0.0 for a, b in spans) >= 0.06  # as before: a pause
    assert all(meter.talking(a, b) == 0.0 for a, b in spans)
    assert all(tailed.talking(a, b) == 0.0 for a, b in spans)


def test_when_the_echo_comes_later_the_meter_follows_it_within_seconds() -> None:
    """Live, under a loaded CPU, the coach's echo came 40-60 ms later than the shape learnt
    over half a minute said, and the falling edges of a count stood over the echo expected:
    a pause fired on the coach's own voice. The meter finds the echo's present delay every
    half second from the last two (TalkSettings.track) and learns the shape as if it had
    held; once its history has turned over, a person level with the echo is heard again."""
    rate = 16000
    rng = np.random.default_rng(0)
    coach = speechlike(44.0, rng)  # no period: a delay a syllable later must not fit
    log = one_line(coach, rate)
    # The echo 60 ms late for 15 s, then 110 ms: 2.5 frames later from 16 s on.
    mic = rng.normal(0, 20, 47 * rate)
    for start, end, late in ((0, 15 * rate, 0.06), (15 * rate, 44 * rate, 0.11)):
        at = rate + start + int(late * rate)
        mic[at : at + end - start] += 0.4 * coach[start:end]
    loud = 0.4 * np.sqrt(np.mean(coach[np.abs(coach) > 750] ** 2))
    voice = np.sin(2 * np.pi * 180 * np.arange(int(0.3 * rate)) / rate)
    person = mic.copy()  # as loud as the echo, 25 s after the step
    at = int(41.3 * rate)
    person[at : at + len(voice)] += voice * loud / np.sqrt(np.mean(voice**2))

    def after_the_step(settings: TalkSettings) -> tuple[list[float], TalkMeter]:
        """The seconds taken for the person in each second from the step on, coach alone."""
        return talked_over(mic, log, settings, 17.0, 1.0, 26.0)

    fixed, _ = after_the_step(TalkSettings(shift_max=0, lost_early=0, lost_late=0))
    # For five seconds, a barge-in's worth (bargein.BargeSettings.talk) in every second.
    assert min(fixed[:5]) >= 0.06, fixed
    followed, meter = after_the_step(TalkSettings())
    assert max(followed[1:]) < 0.06, followed  # it takes a second to find the new delay
    assert meter.shift == 2
    heard = TalkMeter(rate, log.overlapping)
    feed(heard, person, 41.8)
    over = heard.talking(41.25, 41.7)
    assert heard.shift == 2 and over is not None and over >= 0.06


def test_a_faint_tail_after_a_count_is_not_the_person_but_a_quiet_word_there_is() -> None:
    """Live, under a loaded CPU, the tail of the coach's count "five" in a reverberant room
    lasted a little longer than the echo's shape said: three frames at 184-424 stood 1.7 times
    over the echo expected (101-247), a fiftieth of the count's peak (8462), and "pause" fired
    on the coach's own voice. A frame is the person's only when what it holds over the echo
    is at least a tenth of the loudest echo of the half second before it
    (TalkSettings.tail_share); a word said there 12 dB under the count's echo still is."""
    rate = 16000
    rng = np.random.default_rng(4)
    # Counts: a 0.35 s word each second for 12 s, its echo 20 ms late at 0.4, no room tail.
    coach = np.zeros(12 * rate)
    for k in range(12):
        coach[k * rate : k * rate + int(0.35 * rate)] = syllables(0.35, rng)
    log = SpeechLog()
    log.record(Utterance("counts", "count", 1.0, 1.0, 13.0, levels=clip_levels(coach, rate)))
    mic = rng.normal(0, 20, 14 * rate)
    at = rate + int(0.02 * rate)
    mic[at : at + len(coach)] += 0.4 * coach
    peak = 0.4 * max(clip_levels(coach, rate))
    # After the last count's echo ends (12.37 s): 120 ms of sound at a sixteenth of its peak,
    # which the echo's shape does not expect.
    end = at + 11 * rate + int(0.35 * rate)
    tail = mic.copy()
    tail[end : end + int(0.12 * rate)] += rng.normal(0, peak / 16, int(0.12 * rate))
    word = mic.copy()  # a word 12 dB under the echo's peak, just as the count ends
    voice = np.sin(2 * np.pi * 180 * np.arange(int(0.3 * rate)) / rate)
    word[end - int(0.05 * rate) : end + int(0.25 * rate)] += voice * peak / 4 / np.sqrt(0.5)

    def over(x: np.ndarray, settings: TalkSettings) -> float:
        meter = TalkMeter(rate, log.overlapping, settings)
        feed(meter, x, 13.0)
        assert meter.learnt
        return meter.talking(12.2, 12.7) or 0.0

    assert over(tail, TalkSettings(tail_share=0.0)) >= 0.06  # what a barge-in needs: it fired
    assert over(tail, TalkSettings()) < 0.06
    assert over(mic, TalkSettings()) == 0.0
    assert over(word, TalkSettings()) >= 0.1


def speechlike(seconds: float, rng: np.random.Generator, rate: int = 16000) -> np.ndarray:
    """Noise in syllables of random length and loudness with gaps between (no period that a
    later echo would line up with), peaks about 3000."""
    out, at = np.zeros(int(seconds * rate)), 0
    while at < len(out):
        n = int(rng.uniform(0.08, 0.3) * rate)
        swell = np.sin(np.pi * np.arange(n) / n) * rng.uniform(1000, 3000)
        out[at : at + n] = (swell * rng.normal(0, 1, n))[: len(out) - at]
        at += n + int(rng.uniform(0.02, 0.15) * rate)
    return out


def test_a_stalled_echo_path_is_not_the_person_and_its_new_delay_is_found() -> None:
    """In CI the harness's loopback stalled under load: for 0.2 s the microphone heard nothing
    while the coach spoke, then the rest of its echo came 0.2 s late, past the few frames the
    echo's delay is followed for (TalkSettings.shift_max); the echo stood over what was
    expected and the coach's own "stop" paused the session. A loud echo missing from the
    microphone marks the delay lost (TalkSettings.gone_run): for a while any delay up to half
    a second later is allowed for, and the new one is looked for that far."""
    rate = 16000
    rng = np.random.default_rng(7)
    coach = speechlike(30.0, rng)
    log = one_line(coach, rate)
    # The echo 40 ms late at 0.4 over a hiss; from 16 s on, nothing for 0.2 s (not even the
    # hiss: the loopback delivered no samples), then the rest of the echo 0.2 s late.
    mic = rng.normal(0, 20, 33 * rate)
    stall, late = 15 * rate, int(0.2 * rate)
    at = rate + int(0.04 * rate)
    mic[at : at + stall] += 0.4 * coach[:stall]
    mic[at + stall : at + stall + late] = 0.0
    rest = coach[stall : stall + len(mic) - (at + stall + late)]
    mic[at + stall + late : at + stall + late + len(rest)] += 0.4 * rest

    def after_the_stall(settings: TalkSettings) -> tuple[list[float], TalkMeter]:
        """The seconds taken for the person in each quarter second from the stall on."""
        return talked_over(mic, log, settings, 16.1, 0.25, 26.0)

    # As before: a delay three frames either way at most, and nothing marked lost.
    before, _ = after_the_stall(TalkSettings(gone_run=10**6, lost_early=3, lost_late=3))
    assert max(before) >= 0.06, before  # a barge-in's worth: the coach passed for a person
    after, meter = after_the_stall(TalkSettings())
    assert max(after) < 0.06, after
    assert meter.stalls == 1 and meter.shift >= 9, (meter.stalls, meter.shift)
    # A person twice as loud as the echo, 4 s after the stall, is still heard over it.
    voice = np.sin(2 * np.pi * 180 * np.arange(int(0.3 * rate)) / rate)
    loud = 0.4 * np.sqrt(np.mean(coach[np.abs(coach) > 750] ** 2))
    person = mic.copy()
    person[20 * rate : 20 * rate + len(voice)] += 2 * voice * loud / np.sqrt(0.5)
    heard = TalkMeter(rate, log.overlapping)
    feed(heard, person, 20.5)
    assert heard.stalls == 1 and heard.shift >= 9, (heard.stalls, heard.shift)
    assert (heard.talking(19.9, 20.35) or 0.0) >= 0.1
    # With no stall, nothing goes missing.
    steady = rng.normal(0, 20, 33 * rate)
    steady[at : at + len(coach)] += 0.4 * coach
    calm = TalkMeter(rate, log.overlapping)
    feed(calm, steady, 31.0)
    assert calm.stalls == 0 and calm.shift == 0


def test_a_steady_rhythm_with_no_stall_keeps_its_delay() -> None:
    """A voice that swells four times a second fits a delay one swell later as well as its
    own: with the delay looked for up to half a second late, a far one is taken only when it
    explains the echo much better than the best near one (TalkSettings.far_gain)."""
    rate = 16000
    rng = np.random.default_rng(5)
    coach = syllables(30.0, rng)
    log = one_line(coach, rate)
    mic = rng.normal(0, 20, 32 * rate)
    at = rate + int(0.06 * rate)
    mic[at : at + len(coach)] += 0.4 * coach
    meter = TalkMeter(rate, log.overlapping)
    feed(meter, mic, 31.0)
    assert meter.stalls == 0 and abs(meter.shift) <= TalkSettings().shift_max, meter.shift

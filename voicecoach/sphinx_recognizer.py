"""pocketsphinx adapter: the English model its wheel ships, so a fresh install listens at once.

Recognition is restricted to a tiny n-gram model built at start-up from the command phrases
(pocketsphinx's lexicon-tree search runs it at ~5% of a core; a JSGF grammar with a word loop
costs ten times that). A few *filler* words, common English words, soak up speech that is not
a command the way vosk's "[unk]" does; more of them make running speech safer but commands less
accurate, so their number is a setting. Every word the coach itself says is a filler too, so
the echo of its voice is heard as those words and not forced onto a command, and the answer
words (yes/no, numbers) are phrases, so a question can expect them at any time. pocketsphinx's
own endpointer (a VAD) cuts the stream
into utterances; the partial hypothesis is read after every chunk.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from voicecoach.commands import Command
from voicecoach.dereverb import Dereverb
from voicecoach.doze import Doze
from voicecoach.phrases import DATA_DIR, PhraseTable, normalize
from voicecoach.recognizer import Hearing, QuietMeter, RecognizerError, to_words

#: How many FILLERS go into the language model (measured: see benchmarks/bench_listen.py).
DEFAULT_FILLERS = 20
#: Silence (s) after which an utterance that heard no speech is restarted, to bound its cost.
IDLE_SECONDS = 5.0
#: ...but only once the room has been quiet this long (s): restarted on the endpointer alone
#: (which notices speech 0.3 s late) it cut any word begun just before the 5 s mark, and a
#: "pause" so placed was lost (5 of 40 said after random silences).
IDLE_QUIET = 0.4
#: Restarted whatever it hears after this long (s) without the endpointer seeing speech.
IDLE_MAX = 30.0
#: Count the room's tail as quiet (QuietMeter.rt60, Hearing.quiet), with the room the
#: suppressor measured: measured on 2026-12-04 (bench_room.py, README "From across a room").
TAIL_QUIET = True
#: End an utterance after END_QUIET seconds of quiet, the room's tail counted as quiet, even
#: while pocketsphinx's endpointer still hears speech: it takes a room's echo for speech, and
#: ended a command's utterance 0.45-0.6 s after the words across a room, where its final
#: result (a second, fuller search) often named the command that the partial results had as
#: "[unk]". Only in a quiet room (Dereverb.clear): in 10 dB noise the noise's own swings count
#: as the room's tail, and cut there 3 noisy commands of 88 were lost. Only when the final
#: result names a command word: else the utterance is heard again from its start and goes on
#: (_cut). Ended whatever it held (2026-12-05), the cut lost commands live: the live test of a
#: whole session by voice (tests/test_session_voice.py) missed its spoken "stop" once in CI,
#: and run 4 times beside the soak and a busy loop, a "pause" said just before a count had to
#: be said again in 3 runs. Read when a recognizer is built, so that a benchmark can set it;
#: set here, not in the parent: the recognizer is built again in its own process.
CUT = True
#: Seconds of an utterance within which a cut may be made (and undone by hearing it all again,
#: at ~8-20 % of its length in CPU time): a command said on its own, with the quiet before
#: it that the decoder hears, is far shorter.
CUT_MAX = 3.0
#: Measured on bench_room.py's quick set (88 commands a condition, dry, 10 dB noise, three
#: rooms): 0.15 s 396 of 440 right, 0.2 s 393, 0.3 s 389, off 385; 0.2 s keeps twice the
#: spotter's 0.12 s of quiet, and the length of a stop consonant inside a phrase, in hand.
END_QUIET = 0.2
#: Let the decoder sleep through quiet (doze.py); read when a recognizer is built, so that a
#: benchmark can set it.
DOZE = True
#: Input peak (int16) the gain control aims at, its largest gain and per-chunk peak decay.
TARGET_PEAK = 3500.0
#: Assume a loud microphone until heard otherwise: attenuating a quiet one costs less.
LOUD_PEAK = 16000.0
MAX_GAIN = 4.0
RELEASE = 0.9995
#: Standard deviation (int16) of the noise floor added under the input.
NOISE_FLOOR = 30.0
#: How much likelier a command phrase is than one filler word.
PHRASE_WEIGHT = 30
#: ...except for these commands. "repeat" and "help" do no harm when missed once (the person
#: says them again) but fired on everyday words said alone ("ready", "pretty" heard as
#: "repeat"): at 5 instead of 30, 151 of 1592 such words fired a command instead of 200, and
#: the same commands were right (495 of 528 against 494); at 2-3, 142-145 words, 494 right,
#: and the lost weight went to "stop". Lowering "back" and "pain" too lost 3 noisy commands
#: (probe of 2026-12-05; benchmarks/bench_words.py and bench_listen.py measure the result).
COMMAND_WEIGHTS: dict[Command, int] = {Command.REPEAT: 5, Command.HELP: 5}
#: How much likelier the expected answers are than a command while a question waits
#: (measured on spoken numbers and yes/no, 4 voices, clean: 43 of 52 right without, 46
#: with 3, 48 with 10 to 100).
ANSWER_BOOST = 10
#: The language model of commands for each state of the session (SphinxRecognizer.paused), and
#: the command it leaves out as meaningless then. While paused every command stays in: the
#: switch back to "commands-running" waits for a gap between words, and "pause" must never be
#: missing while the session runs (the spotter ignores it while paused anyway).
COMMAND_SEARCHES = {"commands": None, "commands-running": Command.RESUME}

#: Extra pronunciations of command words, the way the acoustic model hears them (measured on
#: espeak-ng's voices; both are ordinary in speech too). A vocalized dark L: "help" as "hewp";
#: without it "help" was never heard (it came out as "two"). An aspirated K and a devoiced W in
#: "quit": the model takes that puff for silence and "quit" came out as "wait", which pauses.
#: Other accents (2026-12-05): the American model heard espeak-ng's British, Scottish and
#: Caribbean "pause" as nothing at all (6 of 18 heard, 17 with the long, gliding vowel), "back"
#: with an open A 13 of 36 (33), "stop" with a rounded O 21 of 36 (32), and "hold" with the
#: British diphthong 15 of 18 (18). On the whole set (8 such voices, clean and 10 dB) 826 of
#: 1056 commands against 729; the American set the same (496 of 528 against 495); lone words
#: fire a little more often (185 of 1592 against 158: "almost" and "thousand" as "pause",
#: "but" and "got" as "back"). A second round, the same day, for the words still missed: a
#: closer vowel in "next" (Caribbean, West Midlands: 45 of 54 against 38; "N EY K S T" got 48
#: but made "eight" and "make" said alone skip a step, 6 lone words of 1592 against 1) and
#: "skip" (27 of 27 against 21), a rounder one in "hurts" (23 of 27 against 18) and a closer
#: one in "help" (Lancashire: 24 of 27 against 19). Lone words fired 184 of 1592 against 185.
VARIANTS = {
    "help": ["HH EH OW P", "HH EH UW P", "HH IY L P"],
    "next": ["N IH K S T"],
    "skip": ["S K IY P"],
    "hurts": ["HH AO T S"],
    "quit": ["K HH W IH T"],
    "pause": ["P AO OW Z"],
    "back": ["B AA K"],
    "stop": ["S T AO P"],
    "hold": ["HH AH OW L D"],
}

#: Frequent English words that are not command words: the grammar's "anything else".
FILLERS = """
the a an and of to in is was for are with as i his they be at have this from or had by word
but not all were we when your can there use each which do how their if will up other about out
many then them these so some her would make like him into time has look two more write see
number way could people my than first water been call who its now find long down day did get
come made may part over new sound take only little work know place year live me give most very
after thing our just name good man think great where through much before line right too mean
old any same tell boy follow came want show also around form small set put end does another well
large must big even such because turn here why ask went men read need land different home us
move try kind hand picture change off play spell air away animal house point page letter mother
answer found study still learn should world high every near add food between own below country
plant last school father keep tree never start city earth eye light thought head under story saw
left few while along might close something seem hard open example begin life always those both
paper together got group often run important until children side feet car mile night walk white
sea began grow took river carry state once book hear without second later miss idea enough eat
face watch far really almost let above girl sometimes mountain cut young talk soon list song
being leave family body music color sun question fish area mark dog horse problem complete room
knew since ever piece told usually friends easy heard order red door sure become top ship across
today during short better best however low hours black whole measure remember early listen wind
rock space covered fast several himself toward step morning passed true hundred against pattern
table north slowly money map farm pulled draw voice seen cold cried plan notice south sing war
ground fall king town unit figure certain field travel wood fire upon knee leg muscle stretch
""".split()


#: Lines the engine itself says (plan.py, session.py), beyond counts and the routine's text.
COACH_LINES = """
welcome let's start the say pause next back repeat or stop at any time if pain turns sharp
point and it hurts that's session done well halfway last one paused resuming set of sets reps
rest for seconds second switch legs now same with your leg left right painful and relax you can
resume something hold holds between how bad from zero to ten does did is are when i'm not
talking also help
"""
#: The coach's counts: "one" ... "twenty", then tens.
COUNTS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
    " sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty"
).split()


def routine_texts() -> list[str]:
    """Every string of the built-in data files other than the phrase tables: the routine's
    instructions, cues, cautions and the like, as the coach may say them."""
    import tomllib

    texts: list[str] = []

    def strings(node: object) -> None:
        if isinstance(node, str):
            texts.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                strings(value)
        elif isinstance(node, list):
            for value in node:
                strings(value)

    for data in sorted(DATA_DIR.glob("*.toml")):
        if not data.name.startswith("phrases-"):
            with open(data, "rb") as f:
                strings(tomllib.load(f))
    return texts


def coach_words() -> list[str]:
    """Every word the coach itself says: counts, its fixed lines and the built-in routine's text.

    In the language model as fillers, the echo of the coach's "three" is heard as "three";
    without them pocketsphinx forces it onto the nearest phrase ("repeat") and it fires.
    """
    texts = [" ".join(COUNTS), COACH_LINES, *routine_texts()]
    out: list[str] = []
    for word in normalize(" ".join(texts)).split():
        if word not in out and not word.isdigit():
            out.append(word)
    return out


#: pocketsphinx's frequency warp (its `warp_params`, "inverse_linear"): see english_decoder.
WARP = "0.9"


def english_decoder(rate: int, words: set[str]) -> Any:
    """A pocketsphinx Decoder on its bundled English model at `rate`, knowing only `words` and
    with no language model yet (the caller adds its searches); RecognizerError when
    pocketsphinx is missing or will not start."""
    try:
        from pocketsphinx import Decoder, get_model_path
    except ImportError as e:
        raise RecognizerError(
            f"pocketsphinx is not installed ({e})", "run scripts/setup to install it"
        ) from e
    model = get_model_path("en-us")
    # Only the words the searches can name: all of cmudict held 23 MB more for nothing (and
    # the listener's goal is 150 MB).
    dict_path = small_dictionary(f"{model}/cmudict-en-us.dict", words)
    try:
        return Decoder(
            hmm=f"{model}/en-us",
            dict=dict_path,
            samprate=float(rate),
            # No default (large) language model: ours replaces it, and it costs 40 MB.
            lm=None,
            # Digital silence (a muted or virtual device) wrecks the noise and mean
            # estimates; half a bit of noise is what any real microphone adds anyway.
            dither=True,
            # ...from a fixed seed (pocketsphinx's default draws one): the same audio is heard
            # the same way every time, so a miss can be reproduced (a CI run once heard a
            # test's "pause" 0.04 s too short, where 7 runs of 8 here heard it).
            seed=1,
            # Gaussians scored per frame: 8 instead of 4 recognized 3 more of the bench's
            # 88 commands (most in 10 dB noise) for about 15% more CPU (still < 15%); 16
            # instead of 8, 12 more of 528 (benchmarks/sweep_sphinx.py, 3 seeds).
            topn=16,
            # Every frequency read 1/0.9 times higher (vocal tract length normalisation, one
            # factor for everyone): 513 of 528 American commands right against 500, 901 of
            # 1056 in other accents against 880, lone words firing 181 of 1592 against 184
            # (2026-12-06; 0.95 and 0.85 in docs/measurements.md).
            warp_type="inverse_linear",
            warp_params=WARP,
            loglevel="FATAL",
        )
    except (RuntimeError, ValueError) as e:
        raise RecognizerError(f"pocketsphinx did not start: {e}") from e
    finally:
        os.unlink(dict_path)


def small_dictionary(path: str, words: set[str]) -> str:
    """A temporary file with the lines of the pronouncing dictionary at `path` for `words`
    (alternative pronunciations too); the caller deletes it."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.split(" ", 1)[0].split("(", 1)[0] in words:
                out.append(line if line.endswith("\n") else line + "\n")
    fd, small = tempfile.mkstemp(prefix="voicecoach-", suffix=".dict")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.writelines(out)
    return small


class Leveller:
    """Automatic gain: pocketsphinx's model misreads loud input ("pause" at full scale), so
    loud peaks are brought down to `target`: instant attack, slow release."""

    def __init__(self, target: float = TARGET_PEAK) -> None:
        import numpy as np

        self._target = target
        self._peak = LOUD_PEAK
        self._rng = np.random.default_rng(0)

    def level(self, pcm: bytes) -> bytes:
        """`pcm` (16-bit mono) at the gain the peaks so far call for."""
        import numpy as np

        x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
        if x.size == 0:
            return pcm
        peak = float(np.max(np.abs(x)))
        self._peak = max(peak, self._peak * RELEASE, self._target / MAX_GAIN)
        gain = self._target / self._peak
        # A floor of faint noise, like any real room: over digitally clean silence the
        # model's noise removal misreads words (measured: "pause" became "hold").
        x = x * gain + self._rng.normal(0.0, NOISE_FLOOR, x.size)
        return bytes(np.clip(x, -32768, 32767).astype(np.int16).tobytes())


class SphinxRecognizer:
    """Grammar-restricted pocketsphinx on a live stream, at the microphone's own rate."""

    def __init__(
        self,
        rate: int,
        table: PhraseTable,
        sections: tuple[str, ...] = (),
        fillers: int = DEFAULT_FILLERS,
        dereverb: bool = True,
        tail_quiet: bool | None = None,
        doze: bool | None = None,
        cut: bool | None = None,
    ) -> None:
        try:
            from pocketsphinx import Endpointer
        except ImportError as e:
            raise RecognizerError(
                f"pocketsphinx is not installed ({e})", "run scripts/setup to install it"
            ) from e
        if not table.pocketsphinx:
            raise RecognizerError(
                f"pocketsphinx has no {table.name} model",
                f"use vosk and a {table.name} model ({table.vosk_model or 'alphacephei.com/vosk'})",
            )
        self.rate = rate
        self.name = "pocketsphinx (en-us, bundled)"
        self._words = set(table.words(sections))
        self._searches = frozenset({*COMMAND_SEARCHES, *(f"answers-{s}" for s in sections)})
        fillers_known = FILLERS[:fillers] + coach_words()
        self._decoder = english_decoder(rate, self._words | set(fillers_known))
        for word, variants in VARIANTS.items():
            if word in self._words and self._decoder.lookup_word(word):
                for i, phones in enumerate(variants):
                    # "word(N)" is the dictionary's spelling of an alternative pronunciation;
                    # numbered past cmudict's own ones, which stop well below 10.
                    self._decoder.add_word(f"{word}({i + 10})", phones, False)
        self.missing = tuple(w for w in sorted(self._words) if not self._decoder.lookup_word(w))
        phrases = [
            p for p in table.phrases(sections) if not any(w in self.missing for w in p.split())
        ]
        # A filler that sounds exactly like an answer word ("for" and "four", "to" and "two")
        # would take its place half the time. Not for commands: "weight" must stay "weight"
        # (the article's heading "Overweight" was heard as the command "wait").
        answers = set(table.words(sections)) - set(table.words())
        sounds = {self._decoder.lookup_word(w) for w in answers} - {None}
        known = [w for w in fillers_known if w not in self._words]
        extra = sorted({w for w in known if self._decoder.lookup_word(w) not in sounds | {None}})
        # One language model for commands, and one per answer section for while a question
        # waits (Listener.expect), in which its answers outweigh everything else: the answer
        # words compete with the coach's own ("two", "do", "pull") less that way.
        # While no question waits, answers are words like any filler: weighted as commands
        # they took commands' place in noise ("skip" heard as "three", "help" as "two").
        # Measured: 234 of 264 noisy commands right against 229 (benchmarks/sweep_sphinx.py,
        # 3 seeds), and bench_listen's 528 commands 93.8 % right against 91.9 %.
        commands = [p for p in phrases if p in table.commands]
        answers_only = [p for p in phrases if p not in table.commands]
        # ...and one for while the session runs, without "resume", which means nothing then:
        # "hold on" in noise was heard as "go on" 6 times in bench_listen's 264 noisy commands;
        # without "go on" to be heard, 5 of them paused. "commands" has every command.
        for search, idle in COMMAND_SEARCHES.items():
            said = [p for p in commands if table.commands[p] is not idle]
            weighted = [p for p in said
                        for _ in range(COMMAND_WEIGHTS.get(table.commands[p], PHRASE_WEIGHT))]
            self._add_lm(search, weighted + answers_only + extra)
        for section in sections:
            boosted = [p for p in table.answers.get(section, ()) if p in phrases]
            lines = phrases * PHRASE_WEIGHT + boosted * (PHRASE_WEIGHT * ANSWER_BOOST) + extra
            self._add_lm(f"answers-{section}", lines)
        self._had_speech = False
        # The channel mean to go back to after an utterance of silence (_end_utt). Not a
        # value of our own to start from: one measured at 16 kHz misled the decoder at 44.1.
        self._cmn = self._decoder.get_cmn(False)
        self._decoder.activate_search("commands")
        self._search = "commands"
        # What the next utterance is to use: a question's answers, else the session state's
        # commands. Each set from another thread with one assignment, read once per chunk.
        self._section: str | None = None
        self._state = "commands"
        # The VAD works on whole frames of its own size; partial chunks wait in _pending.
        self._endpointer: Any = Endpointer(window=0.3, ratio=0.9, sample_rate=rate)
        self._frame = int(self._endpointer.frame_bytes)
        self._pending = b""
        self._quiet = QuietMeter(rate)
        self._in_utt = False
        self._utt_samples = 0
        # The utterance was ended on the room's quiet (END_QUIET) while the endpointer still
        # hears speech: not again until it stops hearing it.
        self._was_cut = False
        # What the decoder heard of this utterance, and its channel mean when it began: a cut
        # whose final result names no command is undone by hearing it all again (_cut).
        self._utt_audio: list[bytes] = []
        self._utt_cmn = ""
        # Once per utterance: the room's quiet meter swings about END_QUIET on any blip, and
        # each cut undone hears the utterance again (a suite run 30 % slower with a new cut
        # allowed whenever the quiet broke).
        self._replayed = False
        # Whole phrases, not words: "one" (of "next one") or "on" alone is a count or a filler.
        self._command_phrases = [tuple(p.split()) for p in table.commands]
        self._leveller = Leveller()
        # The room's tail, taken out before the decoder hears it (dereverb.py; the room is
        # measured on what is heard, roomdecay.py); None: as heard.
        self._dereverb = Dereverb(rate) if dereverb else None
        # Quiet after a command, the room's tail counted as quiet (QuietMeter.rt60, from the
        # suppressor's measure): across a room the words' echo keeps the audio from falling
        # to the noise floor for 0.3-0.5 s, and the spotter waited that long.
        # None: TAIL_QUIET (read here, so that a benchmark can set it).
        tail_quiet = TAIL_QUIET if tail_quiet is None else tail_quiet
        self._tail_quiet = QuietMeter(rate) if dereverb and tail_quiet else None
        #: Whether utterances end on the room's quiet (CUT; None: read here; a benchmark's naive
        #: way turns it off, as it turns off `doze`).
        self.cut = (CUT if cut is None else cut) and self._tail_quiet is not None
        self._utterance = 0
        self._samples = 0
        # The decoder sleeps through quiet (doze.py); None: it hears everything.
        self.doze = Doze(rate) if (DOZE if doze is None else doze) else None
        self._words_now: tuple[str, ...] = ()

    def _add_lm(self, name: str, lines: list[str]) -> None:
        try:
            from pocketsphinx.lm import ArpaBoLM
        except ImportError as e:  # an old pocketsphinx without its language-model builder
            raise RecognizerError(
                f"pocketsphinx cannot build language models ({e})", "run scripts/setup"
            ) from e
        lm = ArpaBoLM(text="\n".join(lines) + "\n", add_start=True)
        lm.compute()
        fd, path = tempfile.mkstemp(prefix="voicecoach-", suffix=".arpa")
        os.close(fd)
        try:
            lm.write_file(path)
            self._decoder.add_lm_file(name, path)
        finally:
            os.unlink(path)

    def expect(self, section: str | None) -> None:
        """Favour `section`'s answers from the next utterance on; None: commands only. Any
        thread (one assignment); the decoder switches between utterances."""
        want = f"answers-{section}"
        self._section = want if section is not None and want in self._searches else None

    def paused(self, paused: bool | None) -> None:
        """While the session runs (False), leave "resume" out from the next utterance on;
        paused (True) or no session (None): every command. Any thread (one assignment)."""
        self._state = "commands-running" if paused is False else "commands"

    def accept(self, pcm: bytes) -> Hearing:
        self._samples += len(pcm) // 2
        tail_quiet = None
        if self._tail_quiet is not None and self._dereverb is not None:
            self._tail_quiet.rt60 = self._dereverb.rt60
            tail_quiet = self._tail_quiet.feed(pcm)
        if self._dereverb is not None:
            pcm = self._dereverb.process(pcm)
        self._pending += self._leveller.level(pcm)
        final = False
        while len(self._pending) >= self._frame:
            frame, self._pending = self._pending[: self._frame], self._pending[self._frame :]
            quiet = self._quiet.feed(frame)
            heard = [frame]
            if self.doze is not None:
                heard = self.doze.frames(frame, quiet, self._endpointer.in_speech)
                if not heard:
                    if self._in_utt:  # fell asleep with this frame: the utterance ends here
                        self._restart()
                    self._endpointer.process(frame)
                    continue
            # The decoder hears the quiet before a word too (awake, or the run-up on waking):
            # started only when the VAD triggers (0.3 s into speech) it would lag a command.
            between_words = not self._endpointer.in_speech and not self._words_now
            want = self._section or self._state
            if self._in_utt and want != self._search and between_words:
                # A question opened or closed, or the session paused or went on: restart now
                # with its model, if nothing is being said (else at the end of the utterance,
                # so no word is cut or lost).
                self._restart()
            if not self._in_utt:
                if want != self._search:
                    self._search = want
                    self._decoder.activate_search(self._search)
                # Kept whatever `cut` says: a benchmark may turn it on or off after building.
                self._utt_cmn, self._utt_audio = self._decoder.get_cmn(False), []
                self._decoder.start_utt()
                self._in_utt, self._utt_samples = True, 0
            for piece in heard:  # on waking, the run-up first
                self._decoder.process_raw(piece, False, False)
                self._utt_samples += len(piece) // 2
                if self._utt_samples <= CUT_MAX * self.rate:
                    self._utt_audio.append(piece)
            was = self._endpointer.in_speech
            self._endpointer.process(frame)
            self._had_speech = self._had_speech or (self._endpointer.in_speech
                                                     and not self._was_cut)
            ended = was and not self._endpointer.in_speech
            if not self._endpointer.in_speech:
                self._was_cut = False
            idle = not self._endpointer.in_speech and self._utt_samples > IDLE_SECONDS * self.rate
            # Not into a word the endpointer has not noticed yet (see IDLE_QUIET).
            idle = idle and (quiet >= IDLE_QUIET or self._utt_samples > IDLE_MAX * self.rate)
            if ended:
                self._end_utt()
                final = True
                break
            if idle:
                self._restart()
        if (self.cut and not final and tail_quiet is not None and tail_quiet >= END_QUIET
                and self._dereverb is not None and self._dereverb.clear
                and self._in_utt and self._endpointer.in_speech and not self._was_cut
                and not self._replayed and self._utt_samples <= CUT_MAX * self.rate):
            final = self._cut()
            self._was_cut, self._replayed = final, not final
        if self._in_utt or final:
            hyp = self._decoder.hyp()
            self._words_now = to_words(hyp.hypstr if hyp is not None else "", self._words)
        hearing = Hearing(self._words_now, final, self._utterance, self._samples / self.rate,
                          tail_quiet)
        if final:
            self._utterance += 1
            self._words_now = ()
        return hearing

    def _cut(self) -> bool:
        """End the utterance on the room's quiet (CUT) if its final result names a command
        word; else hear it all again from its start, as if never ended. True when it ended.
        Ended whatever it held, a cut lost commands live (a "pause" said just before a count,
        2026-12-05): the final result of part of an utterance may name less than the whole."""
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        words = to_words(hyp.hypstr if hyp is not None else "", self._words)
        if any(_holds(words, phrase) for phrase in self._command_phrases):
            self._ended()
            return True
        # Back to where the utterance began, and all of it again in one call (~8 % of its
        # length in CPU time): the search goes on from the same audio, only later.
        self._decoder.set_cmn(self._utt_cmn)
        self._decoder.start_utt()
        if self._utt_audio:
            self._decoder.process_raw(b"".join(self._utt_audio), False, False)
        return False

    def _restart(self) -> None:
        """Close the utterance with nothing final to report: the next Hearing starts anew."""
        self._end_utt()
        self._utterance += 1
        self._words_now = ()

    def _end_utt(self) -> None:
        if self._in_utt:
            self._decoder.end_utt()
            self._ended()
        self._in_utt = False
        self._had_speech = False

    def _ended(self) -> None:
        """After the decoder's end_utt: the channel mean kept or put back, and no utterance."""
        # The decoder's running channel mean (CMN) learns from every utterance; one of
        # silence alone drags it toward the noise floor, and then the next words are
        # misheard: such an utterance gets the mean of the last one with speech back.
        if self._had_speech:
            self._cmn = self._decoder.get_cmn(False)
        else:
            self._decoder.set_cmn(self._cmn)
        self._in_utt = False
        self._had_speech = False
        self._utt_audio, self._replayed = [], False

    def reset(self) -> None:
        self._restart()
        self._pending = b""
        if self.doze is not None:
            self.doze.reset()
        if self._dereverb is not None:
            self._dereverb.reset()

    def close(self) -> None:
        self.reset()


def _holds(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """Whether `phrase` stands in `words`, its words one after the other."""
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))

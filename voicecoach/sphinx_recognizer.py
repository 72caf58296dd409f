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

The words themselves (fillers, the coach's words, extra pronunciations) are in sphinx_words.py,
the decoder and the gain in front of it, which the keyword search shares, in sphinx_decoder.py,
the language models' weights in sphinx_lm.py, and how an utterance ends in sphinx_utterance.py.
"""

from __future__ import annotations

from typing import Any

from voicecoach import recognizer, sphinx_words
from voicecoach.dereverb import Dereverb
from voicecoach.doze import Doze
from voicecoach.phrases import PhraseTable
from voicecoach.recognizer import Hearing, QuietMeter, RecognizerError, to_words
from voicecoach.sphinx_decoder import Leveller, english_decoder
from voicecoach.sphinx_lm import ANSWER_BOOST as ANSWER_BOOST
from voicecoach.sphinx_lm import COMMAND_SEARCHES as COMMAND_SEARCHES
from voicecoach.sphinx_lm import COMMAND_WEIGHTS as COMMAND_WEIGHTS
from voicecoach.sphinx_lm import DEFAULT_FILLERS as DEFAULT_FILLERS
from voicecoach.sphinx_lm import PHRASE_WEIGHT as PHRASE_WEIGHT
from voicecoach.sphinx_lm import add_lm
from voicecoach.sphinx_utterance import Utterances

#: Silence (s) after which an utterance that heard no speech is restarted, to bound its cost.
IDLE_SECONDS = 5.0
#: ...but only once the room has been quiet this long (s): restarted on the endpointer alone
#: (which notices speech 0.3 s late) it cut any word begun just before the 5 s mark, and a
#: "pause" so placed was lost (5 of 40 said after random silences).
IDLE_QUIET = 0.4
#: Restarted whatever it hears after this long (s) without the endpointer seeing speech.
IDLE_MAX = 30.0
#: An utterance of talk this long (s) ends at its next pause between words: a TV talking on
#: kept one open (57 s), and closing it ran the second pass over all of it, ~0.1 s per second of
#: talk (bench_longtalk.py): the listener fell 3.9-8.8 s behind. Between words, the next one
#: starts as after a pause, and a command said after the coach's line stays on its own (cut
#: mid-word, the next one marked as no fresh start, that was lost).
TALK_MAX = 8.0
#: Seconds of the room's quiet (QuietMeter) that make a pause between words.
TALK_DIP = 0.2
#: Seconds after which an utterance of talk ends even without such a pause (music, say).
TALK_HARD = 16.0
#: Count the room's tail as quiet (QuietMeter.rt60, Hearing.quiet), with the room the
#: suppressor measured: measured on 2026-12-04 (bench_room.py, README "From across a room").
TAIL_QUIET = True
#: End an utterance after END_QUIET seconds of quiet, the room's tail counted as quiet (by the
#: stricter rule, recognizer.CUT_TAIL), even while pocketsphinx's endpointer still hears speech: it
#: takes a room's echo for speech, and ended a command's utterance 0.45-0.6 s after the words across
#: a room, where its final result (a second, fuller search) often named the command that the partial
#: results had as "[unk]". Only in a quiet room (Dereverb.clear): in 10 dB noise the noise's own
#: swings count as the room's tail, and cut there 3 noisy commands of 88 were lost. Only when the
#: final result names a command word: else the utterance is heard again from its start and goes on
#: (_cut). Ended whatever it held (2026-12-05), the cut lost commands live: the live test of a whole
#: session by voice (tests/test_session_voice.py) missed its spoken "stop" once in CI, and run 4
#: times beside the soak and a busy loop, a "pause" said just before a count had to be said again in
#: 3 runs. Read when a recognizer is built, so that a benchmark can set it; set here, not in the
#: parent: the recognizer is built again in its own process.
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


class SphinxRecognizer(Utterances):
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
        fillers_known = sphinx_words.FILLERS[:fillers] + sphinx_words.coach_words()
        self._decoder = english_decoder(rate, self._words | set(fillers_known))
        for word, variants in sphinx_words.VARIANTS.items():
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
            add_lm(self._decoder, search, weighted + answers_only + extra)
        for section in sections:
            boosted = [p for p in table.answers.get(section, ()) if p in phrases]
            lines = phrases * PHRASE_WEIGHT + boosted * (PHRASE_WEIGHT * ANSWER_BOOST) + extra
            add_lm(self._decoder, f"answers-{section}", lines)
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
        # Its `strict_quiet`: by the stricter rule that may end an utterance (CUT_TAIL).
        self._tail_quiet = (QuietMeter(rate, strict=recognizer.CUT_TAIL)
                            if dereverb and tail_quiet else None)
        #: Whether utterances end on the room's quiet (CUT; None: read here; a benchmark's naive
        #: way turns it off, as it turns off `doze`).
        self.cut = (CUT if cut is None else cut) and self._tail_quiet is not None
        self._utterance = 0
        self._samples = 0
        # The decoder sleeps through quiet (doze.py); None: it hears everything.
        self.doze = Doze(rate) if (DOZE if doze is None else doze) else None
        self._words_now: tuple[str, ...] = ()

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
        tail_quiet, cut_quiet = None, 0.0
        if self._tail_quiet is not None and self._dereverb is not None:
            self._tail_quiet.rt60 = self._dereverb.rt60
            tail_quiet = self._tail_quiet.feed(pcm)
            cut_quiet = self._tail_quiet.strict_quiet
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
            talk = self._utt_samples / self.rate
            if ended or (talk > TALK_MAX and (quiet >= TALK_DIP or talk > TALK_HARD)):
                self._end_utt()
                final = True
                break
            if idle:
                self._restart()
        if (self.cut and not final and cut_quiet >= END_QUIET
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

    def reset(self) -> None:
        self._restart()
        self._pending = b""
        if self.doze is not None:
            self.doze.reset()
        if self._dereverb is not None:
            self._dereverb.reset()

    def close(self) -> None:
        self.reset()

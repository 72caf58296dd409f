"""pocketsphinx's keyword search: "pause", "stop" and "it hurts" found in running speech.

The command recognizer (sphinx_recognizer.py) fits a whole utterance to its language model, so a
word said on top of the coach's sentence is swallowed by the hypothesis for the sentence: over
the coach's lines it heard 4 to 5 of 97 such words (benchmarks/bench_bargein.py). A keyword search
scores only the keyword against a garbage model at every frame and reports it wherever it
stands out. It also reports the coach's own voice now and then (166 times in 8.5 minutes of
its lines at 1e-20, before the level check), so bargein.py acts on it only while the coach
speaks and only when the microphone is louder than the coach's echo explains.
"""

from __future__ import annotations

import os
import tempfile

from voicecoach.recognizer import Keyword, RecognizerError
from voicecoach.sphinx_decoder import Leveller, english_decoder

#: Detection threshold of every keyword: smaller finds more words and more false ones. Over the
#: benchmark's coach lines with a person saying "pause" or "stop" into 97 of them (a probe
#: before the level check), 1e-15 found 35 of the words and 1e-20 51; on the coach's lines
#: alone (8.5 min) they found 86 and 166 "words", all of which the level check turns down.
#: Since the level check learnt the echo's shape and follows its delay (doubletalk.py), the
#: search runs on 0.6 % of the coach's lines alone and none of its finds there got through at
#: any threshold tried, so it can look harder. Over the lines, 1e-20 interrupted the coach for
#: 29 of the 97 words, 1e-25 for 38, 1e-30 for 45, 1e-40 for 49; sentences of the article said
#: over the lines (12.3 minutes) paused it 3, 3, 4 and 6 times. 1e-30 also let a TV talking as
#: loud as the echo pause the coach 4 times in its first 30 s (1 at 1e-20 and 1e-25), and with
#: a 0.2 s stall of the microphone's path in every line, the coach's own voice once in 8.8
#: minutes (none at 1e-20 and 1e-25). (2026-12-06, bench_bargein.py --kws-threshold;
#: docs/measurements.md, "The keyword search, looking harder".)
THRESHOLD = 1e-25
#: Threshold of a keyphrase of several words ("it hurts"), scored over more frames than one
#: word. Over the coach's counts (benchmarks/bench_bargein.py --only counts --fixed-room):
#: "it hurts" said 48 times asked about the pain 22 times at 1e-20, 26 at 1e-30, 36 at 1e-50;
#: "pause" and "stop" said there fired no pain at 1e-20 or 1e-30, and 16 at 1e-50.
PHRASE_THRESHOLD = 1e-30
#: Input peak the keyword search's gain control aims at (int16): the command recognizer's 3500
#: made it miss words that it found at espeak-ng's own level (about 11 000).
PEAK = 8000.0
#: pocketsphinx's frames per second (its segment times count these).
FRAME_RATE = 100
#: Restart the search after this long (s): its list of finds only grows within one run.
RESTART_SECONDS = 20.0


class SphinxKeywords:
    """The KeywordSpotter Protocol on pocketsphinx's bundled English model."""

    def __init__(self, rate: int, words: tuple[str, ...], threshold: float = THRESHOLD,
                 peak: float = PEAK, phrase_threshold: float | None = PHRASE_THRESHOLD) -> None:
        self.name = "pocketsphinx keyword search (en-us, bundled)"
        self.rate = rate
        # A keyphrase ("it hurts") is searched as a whole: every one of its words must be known.
        self._decoder = english_decoder(rate, {w for phrase in words for w in phrase.split()})
        self.words = tuple(p for p in words
                           if all(self._decoder.lookup_word(w) for w in p.split()))
        if not self.words:
            raise RecognizerError(f"pocketsphinx knows none of {', '.join(words)}")
        fd, path = tempfile.mkstemp(prefix="voicecoach-", suffix=".kws")
        try:
            with os.fdopen(fd, "w") as f:
                f.writelines(f"{w} /{_threshold(w, threshold, phrase_threshold):.0e}/\n"
                             for w in self.words)
            self._decoder.add_kws("keywords", path)
        finally:
            os.unlink(path)
        self._decoder.activate_search("keywords")
        self._leveller = Leveller(peak)
        self._in_utt = False
        self._fed = 0  # samples since start_utt
        self._reported: dict[str, int] = {}  # last frame of the latest find of each phrase
        self._began = 0.0  # session time of the first of them

    def accept(self, pcm: bytes, captured_at: float) -> list[Keyword]:
        n = len(pcm) // 2
        if not self._in_utt:
            self._decoder.start_utt()
            self._in_utt, self._fed, self._reported = True, 0, {}
            self._began = captured_at - n / self.rate
        self._decoder.process_raw(self._leveller.level(pcm), False, False)
        self._fed += n
        found = []
        if self._decoder.hyp() is not None:
            for seg in self._decoder.seg():
                word = seg.word.strip()  # the search pads its keyphrases with a space
                # By phrase: "pause" and "it hurts" found in one sound may end on one frame.
                if word in self.words and seg.end_frame > self._reported.get(word, -1):
                    self._reported[word] = seg.end_frame
                    found.append(Keyword(word, self._began + seg.start_frame / FRAME_RATE,
                                         self._began + (seg.end_frame + 1) / FRAME_RATE))
        # Each find reported once, by its last frame; the search goes on (restarted now and
        # then only, to keep its history short), so it has the sound before the next word.
        if self._fed > RESTART_SECONDS * self.rate:
            self.reset()
        return found

    def reset(self) -> None:
        if self._in_utt:
            self._decoder.end_utt()
        self._in_utt = False


def _threshold(phrase: str, word: float, phrase_threshold: float | None) -> float:
    """A keyphrase of several words is scored over more frames than one word: it may have a
    threshold of its own."""
    return phrase_threshold if phrase_threshold is not None and " " in phrase else word

"""How SphinxRecognizer ends an utterance: on the endpointer, idle, or cut on the room's quiet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voicecoach.recognizer import to_words


class Utterances:
    """SphinxRecognizer's methods that close (or undo the close of) the decoder's utterance."""

    if TYPE_CHECKING:
        # What these use of the SphinxRecognizer's state (set in its __init__).
        _decoder: Any
        _words: set[str]
        _command_phrases: list[tuple[str, ...]]
        _cmn: Any
        _utt_cmn: Any
        _utt_audio: list[bytes]
        _in_utt: bool
        _had_speech: bool
        _replayed: bool
        _utterance: int
        _words_now: tuple[str, ...]

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


def _holds(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """Whether `phrase` stands in `words`, its words one after the other."""
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))

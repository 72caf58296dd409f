"""What words a kaldi/vosk model knows: its words.txt, or the symbol table in its FST."""

from __future__ import annotations

import struct
from pathlib import Path

from voicecoach.phrases import UNKNOWN

#: OpenFst file and symbol-table magic numbers (little endian int32).
_FST_MAGIC = 2125659606
_SYMTAB_MAGIC = 2125658996
_FST_HAS_ISYMBOLS = 1


def model_vocabulary(model_dir: str | Path) -> set[str] | None:
    """The words a kaldi/vosk model knows: graph/words.txt, else Gr.fst's symbol table.

    Small vosk models often ship no words.txt, but their Gr.fst embeds the word list; None when
    neither is there (the recognizer then reports the check as not possible).
    """
    root = Path(model_dir)
    for words_txt in (root / "graph" / "words.txt", root / "words.txt"):
        if words_txt.is_file():
            with open(words_txt, encoding="utf-8", errors="replace") as f:
                return {line.split()[0] for line in f if line.strip()}
    for fst in (root / "graph" / "Gr.fst", root / "graph" / "HCLG.fst"):
        if fst.is_file():
            words = fst_input_symbols(fst)
            if words is not None:
                return words
    return None


def fst_input_symbols(path: str | Path) -> set[str] | None:
    """Input symbols embedded in an OpenFst binary file's header, or None if it has none."""
    with open(path, "rb") as f:

        def i32() -> int:
            return int(struct.unpack("<i", f.read(4))[0])

        def i64() -> int:
            return int(struct.unpack("<q", f.read(8))[0])

        def text() -> str:
            n = i32()
            if not 0 <= n < 1 << 20:
                raise ValueError("bad string length")
            return f.read(n).decode("utf-8", errors="replace")

        try:
            if i32() != _FST_MAGIC:
                return None
            text(), text()  # fst type, arc type
            i32()  # version
            flags = i32()
            f.read(8 + 8 + 8 + 8)  # properties, start state, number of states and arcs
            if not flags & _FST_HAS_ISYMBOLS or i32() != _SYMTAB_MAGIC:
                return None
            text()  # table name
            i64()  # available key
            size = i64()
            words = set()
            for _ in range(size):
                words.add(text())
                i64()
            return words
        except (struct.error, ValueError):
            return None


def unknown_symbol(vocabulary: set[str] | None) -> str:
    """The model's own word for "not a phrase": "[unk]" in official models, "<UNK>" in others."""
    if vocabulary is None or UNKNOWN in vocabulary:
        return UNKNOWN
    for candidate in ("<UNK>", "<unk>"):
        if candidate in vocabulary:
            return candidate
    return UNKNOWN

"""The speech engine's voices: listed for `voicecoach voices`, and found by what was named."""

from __future__ import annotations

from typing import Any


def list_voices(first: str = "en") -> list[tuple[str, str]]:
    """(id, "name (languages)") for each voice of the engine, for `voicecoach voices`: those
    for language `first` (the coach's phrases) first, the engine's default marked."""
    import pyttsx3

    engine = pyttsx3.init()
    default = str(engine.getProperty("voice") or "")
    out = []
    for v in engine.getProperty("voices"):
        langs = ", ".join(str(x) for x in (v.languages or []) if x)
        name = f"{v.name} ({langs})" if langs else str(v.name)
        out.append((str(v.id), name + ("  [default]" if str(v.id) == default else "")))

    def english_first(voice: tuple[str, str]) -> tuple[bool, str]:
        vid, name = voice
        tail = vid.rsplit("/", 1)[-1]
        ours = tail == first or tail.startswith(f"{first}-") or tail.startswith(f"{first}+")
        return not ours, vid

    return sorted(out, key=english_first)


def match_voice(voices: Any, wanted: str) -> str | None:
    """The id of the voice `wanted` names: its id ("gmw/en-us"), the id without its family
    ("en-us", as espeak-ng and `voicecoach voices` show it), its name ("English (America)"),
    or its language ("en-gb"), in that order; None when none does."""
    key = wanted.strip().lower()
    tests = (lambda v: str(v.id).lower() == key,
             lambda v: str(v.id).lower().rsplit("/", 1)[-1] == key,
             lambda v: str(v.name).lower() == key,
             lambda v: key in (str(x).lower() for x in (v.languages or [])))
    voices = list(voices)
    for test in tests:
        for v in voices:
            if test(v):
                return str(v.id)
    return None


def voice_known(voice: str) -> bool:
    """Whether the engine has `voice`, as a session looks it up: a preview speaks nothing,
    yet must refuse the voice the real session would refuse."""
    import pyttsx3

    return match_voice(pyttsx3.init().getProperty("voices"), voice) is not None

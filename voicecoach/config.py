"""Settings from the user's config file (XDG_CONFIG_HOME/voicecoach/config.toml) and options.

The file is flat TOML, for example::

    voice = "gmw/en-gb-scotland"
    rate = 170
    volume = 0.8
    output_device = "USB Audio"

Command-line options win over the file. A typo must not be silently ignored (a person would
wonder why the voice never changed), so unknown keys and bad values raise `ConfigError`
with one line naming the file.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Known keys: type(s) a value may have, and an inclusive numeric range where it matters.
#: The listening keys are accepted here too so one file serves both sides of the coach.
SCHEMA: dict[str, tuple[tuple[type, ...], tuple[float, float] | None]] = {
    "voice": ((str,), None),
    "rate": ((int,), (60, 400)),
    "volume": ((int, float), (0.0, 1.0)),
    "output_device": ((str, int), None),
    "input_device": ((str, int), None),
    "recognizer": ((str,), None),
    "model": ((str,), None),
    "echo_cancel": ((bool,), None),
}


#: Keys whose value is one of a few words (as the options of the same name take).
CHOICES: dict[str, tuple[str, ...]] = {"recognizer": ("auto", "vosk", "pocketsphinx", "none")}


class ConfigError(ValueError):
    """The config file cannot be used; the message is one line that names the file."""


@dataclass(frozen=True)
class VoiceSettings:
    """How the coach speaks."""

    voice: str | None = None
    """TTS voice id (see `voicecoach voices`); None for the engine's default."""
    rate: int | None = None
    """Speaking rate in words a minute; None for the engine's default."""
    volume: float = 1.0
    """Playback gain, 0 (silent) to 1 (as rendered)."""
    output_device: str | int | None = None
    """Sound output: PortAudio device index or part of its name; None for the default."""

    @classmethod
    def from_sources(cls, config: dict[str, Any], args: Any = None) -> VoiceSettings:
        """Settings from a loaded config dict, overridden by options given on `args`."""

        def pick(name: str) -> Any:
            value = getattr(args, name, None) if args is not None else None
            return config.get(name) if value is None else value

        volume = pick("volume")
        device = pick("output_device")
        if isinstance(device, str) and device.strip().isdigit():
            device = int(device)  # "--output-device 3" means index 3, as PortAudio lists it
        return cls(
            voice=pick("voice"),
            rate=pick("rate"),
            volume=1.0 if volume is None else float(volume),
            output_device=device,
        )


def config_path() -> Path:
    """Where the config file lives (it need not exist)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "voicecoach" / "config.toml"


def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python < 3.11 only
        import tomli as tomllib
    return tomllib.loads(text)


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Read and check the config file; {} when the default file does not exist.

    An explicitly given `path` that does not exist is an error: the user asked for it.
    """
    explicit = path is not None
    file = Path(path) if path is not None else config_path()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"config file {file} does not exist") from None
        return {}
    except IsADirectoryError:
        raise ConfigError(f"config file {file} is a folder; a config file is TOML text") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {file} is not text (TOML, in UTF-8)") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file}: {exc.strerror or exc}") from None
    try:
        data = _toml_loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise ConfigError(f"config file {file} is not valid TOML: {exc}") from None
    for key, value in data.items():
        _check(file, key, value)
    return data


def _check(file: Path, key: str, value: Any) -> None:
    if key not in SCHEMA:
        known = ", ".join(sorted(SCHEMA))
        raise ConfigError(f"config file {file}: unknown key {key!r} (known keys: {known})")
    types, bounds = SCHEMA[key]
    # bool is an int to Python, but `rate = true` is surely a mistake.
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        # In TOML's words, not Python's: true/false, "text", a number.
        names = {int: "a number", float: "a number", bool: "true or false", str: "text in quotes"}
        wanted = " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in types))
        shown = str(value).lower() if isinstance(value, bool) else repr(value)
        raise ConfigError(f"config file {file}: {key} must be {wanted}, not {shown}")
    number = value if isinstance(value, (int, float)) else None
    if bounds is not None and number is not None and not bounds[0] <= number <= bounds[1]:
        raise ConfigError(
            f"config file {file}: {key} must be between {bounds[0]:g} and {bounds[1]:g}, "
            f"not {value!r}"
        )
    if isinstance(value, str) and not value.strip():
        raise ConfigError(f"config file {file}: {key} must not be empty")
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"config file {file}: {key} must be one of "
                          f"{', '.join(CHOICES[key])}, not {value!r}")

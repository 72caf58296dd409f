"""The voice settings: config file loading, its one-line errors, and options over the file."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from voicecoach.config import ConfigError, VoiceSettings, config_path, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_every_voice_setting(tmp_path: Path) -> None:
    path = write(tmp_path, 'voice = "gmw/en-gb-scotland"\nrate = 170\nvolume = 0.5\n'
                           'output_device = "USB"\n')
    assert load_config(path) == {"voice": "gmw/en-gb-scotland", "rate": 170, "volume": 0.5,
                                 "output_device": "USB"}


def test_default_file_lives_in_xdg_config_home(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "voicecoach" / "config.toml"
    assert load_config() == {}  # no file yet: nothing to say
    (tmp_path / "voicecoach").mkdir()
    write(tmp_path / "voicecoach", "rate = 150\n")
    assert load_config() == {"rate": 150}
    # As the README says to turn the echo canceller on (it was refused: "must be a bool").
    write(tmp_path / "voicecoach", "echo_cancel = true\n")
    assert load_config() == {"echo_cancel": True}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("speed = 3\n", ["unknown key 'speed'", "known keys"]),
        ('rate = "fast"\n', ["rate must be a number"]),
        ("rate = 1000\n", ["rate must be between 60 and 400"]),
        ("volume = 1.5\n", ["volume must be between 0 and 1"]),
        ("rate = true\n", ["rate must be a number, not true"]),
        ('echo_cancel = "yes"\n', ["echo_cancel must be true or false, not 'yes'"]),
        ("output_device = true\n", ["output_device must be text in quotes or a number"]),
        ('voice = ""\n', ["voice must not be empty"]),
        ("rate = \n", ["not valid TOML"]),
    ],
)
def test_bad_files_fail_with_one_line_naming_the_file(tmp_path: Path, text: str,
                                                      words: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    assert "\n" not in message
    for w in words:
        assert w in message
    assert isinstance(err.value, ValueError)  # the CLI turns ValueErrors into one clean line


def test_a_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_options_win_over_the_file() -> None:
    config = {"voice": "gmw/en", "rate": 150, "volume": 0.4, "output_device": "3"}
    args = argparse.Namespace(voice=None, rate=190, volume=None, output_device=None)
    s = VoiceSettings.from_sources(config, args)
    assert s == VoiceSettings(voice="gmw/en", rate=190, volume=0.4, output_device=3)
    assert VoiceSettings.from_sources({}) == VoiceSettings()


def test_a_config_path_that_is_a_folder_or_binary_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert str(err.value) == f"config file {tmp_path} is a folder; a config file is TOML text"
    binary = tmp_path / "config.toml"
    binary.write_bytes(bytes(range(128, 256)))
    with pytest.raises(ConfigError) as err:
        load_config(binary)
    assert str(err.value) == f"config file {binary} is not text (TOML, in UTF-8)"

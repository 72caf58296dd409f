"""Listening settings: options first, then the config file, then the defaults."""

from __future__ import annotations

import pytest

from voicecoach.app import BadInput, listen_settings
from voicecoach.cli import parser


def settings(argv: list[str], config: dict[str, object]):
    return listen_settings(parser().parse_args(argv), config)


def test_defaults_without_options_or_config():
    s = settings([], {})
    assert (s.recognizer, s.model, s.input_device, s.echo_cancel) == ("auto", None, None, False)


def test_echo_cancelling_is_turned_on_by_the_option_or_the_config_file():
    assert settings(["--echo-cancel"], {}).echo_cancel is True
    assert settings(["--echo-cancel"], {"echo_cancel": False}).echo_cancel is True
    assert settings([], {"echo_cancel": True}).echo_cancel is True
    assert settings([], {"echo_cancel": False}).echo_cancel is False


def test_the_config_file_applies_when_no_option_is_given():
    s = settings([], {"recognizer": "pocketsphinx", "model": "/m", "input_device": "USB"})
    assert (s.recognizer, s.model, s.input_device) == ("pocketsphinx", "/m", "USB")


def test_options_win_over_the_config_file_and_digits_mean_an_index():
    s = settings(["--recognizer", "none", "--input-device", "3"],
                 {"recognizer": "vosk", "input_device": "USB"})
    assert (s.recognizer, s.input_device) == ("none", 3)


def test_an_unknown_recognizer_in_the_config_is_one_clear_line():
    with pytest.raises(BadInput, match="recognizer must be one of"):
        settings([], {"recognizer": "whisper"})

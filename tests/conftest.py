"""Shared fixtures. Each helper appends its own; keep these and add below."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness import Pulse, pulse_fixture


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pulse]:
    """A private PulseAudio daemon with `coach` and `room` null sinks (see tests/harness.py)."""
    yield from pulse_fixture(tmp_path_factory)

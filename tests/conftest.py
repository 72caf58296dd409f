"""Shared fixtures. Each helper appends its own; keep these and add below."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Pulse, pulse_fixture


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` run only with VOICECOACH_SLOW=1 (each says why it is opt-in)."""
    if os.environ.get("VOICECOACH_SLOW"):
        return
    skip = pytest.mark.skip(reason="opt-in: VOICECOACH_SLOW=1")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pulse]:
    """A private PulseAudio daemon with `coach` and `room` null sinks (see tests/harness.py)."""
    yield from pulse_fixture(tmp_path_factory)


@pytest.fixture(scope="module")
def clip_cache(pulse: Pulse, tmp_path_factory: pytest.TempPathFactory,
          request: pytest.FixtureRequest) -> Iterator[Path]:
    """XDG_CACHE_HOME in a fresh folder per test module: each module renders its clips once,
    and none finds another's renders, so its cold and warm starts do not depend on the order
    the modules ran in."""
    root = tmp_path_factory.mktemp(f"xdg-cache-{request.module.__name__}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(root))
        yield root

"""Shared fixtures: the real BEAT2 sample (skipped when ../shared is absent) and a private cache."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BEAT2_SAMPLE = SHARED / "data" / "beat2_sample"
SAMPLE_ID = "2_scott_0_1_1"


@pytest.fixture
def beat2_sample() -> Path:
    """The real 64 s BEAT2 sequence (speaker 2), read-only; skips the test when absent."""
    if not (BEAT2_SAMPLE / "train_test_split.csv").is_file():
        pytest.skip(f"BEAT2 sample not found at {BEAT2_SAMPLE}")
    return BEAT2_SAMPLE


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own window cache, so tests never see each other's or the user's."""
    monkeypatch.setenv("EGGESTURE_CACHE", str(tmp_path_factory.mktemp("cache")))

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


@pytest.fixture(scope="session")
def tiny_bundle_dir(tmp_path_factory) -> Path:
    """A ``tiny`` bundle trained on 3 × 8 s of the test folder (seconds of CPU), shared by the
    modules that only generate with it."""
    from beat2_folder import write_folder
    from eggesture.config import load_config
    from eggesture.recipes.train import train

    tmp = tmp_path_factory.mktemp("tiny")
    root = write_folder(tmp / "beat2", {"1_x_0_1_1": "train", "1_x_0_2_2": "train",
                                        "1_x_0_3_3": "val"}, seconds=8)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGGESTURE_CACHE", str(tmp / "cache"))
        train(load_config("tiny", [f"data.root={root}", f"train.out={tmp / 'run'}",
                                   "train.progress=false"]))
    return tmp / "run" / "bundle"

"""eggesture.checkpoint: every saved network is a folder of one kind, refused as another."""

import pytest
import torch

from eggesture.bundle import load_bundle
from eggesture.checkpoint import load_checkpoint, save_checkpoint, sha256_file
from eggesture.errors import CheckpointError


def test_a_checkpoint_of_another_kind_is_refused_in_one_line(tmp_path):
    ae = save_checkpoint(tmp_path / "ae", {"w": torch.zeros(2)}, {"x": 1}, kind="fgd_ae")
    with pytest.raises(CheckpointError, match="holds a 'fgd_ae' checkpoint, not a 'generation'"):
        load_bundle(ae)
    with pytest.raises(CheckpointError, match="not a 'recognizer'"):
        load_checkpoint(ae, "recognizer")
    tensors, config = load_checkpoint(ae, "fgd_ae")
    assert config["kind"] == "fgd_ae" and config["x"] == 1 and tensors["w"].tolist() == [0, 0]
    assert config["weights_sha256"] == sha256_file(ae / "model.safetensors")
    with pytest.raises(ValueError, match="kind must be one of"):
        save_checkpoint(tmp_path / "x", {}, {}, kind="optimizer")


def test_saving_over_a_checkpoint_replaces_its_two_files_and_keeps_the_rest(tmp_path):
    ae = save_checkpoint(tmp_path / "ae", {"w": torch.zeros(2)}, {"x": 1}, kind="fgd_ae")
    (ae / "notes.txt").write_text("mine")
    save_checkpoint(ae, {"w": torch.ones(2)}, {"x": 2}, kind="fgd_ae")
    tensors, config = load_checkpoint(ae, "fgd_ae")
    assert (ae / "notes.txt").read_text() == "mine"
    assert tensors["w"].tolist() == [1, 1] and config["x"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ae"]  # no temporary folder left

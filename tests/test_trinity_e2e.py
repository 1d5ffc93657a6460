"""Trinity/GENEA end to end: ``tiny`` trains on a small GENEA folder, ``eggesture generate --bvh``
writes BVH on that folder's own skeleton, and the Trinity reader loads it back (issue 9).

Also: ``eggesture data stats`` on the folder, and the packaged configs (``paper_trinity``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from eggesture.bundle import load_bundle
from eggesture.cli import main
from eggesture.config import PACKAGED, load_config
from eggesture.data import datasets, trinity
from eggesture.data.bvh import read_bvh
from eggesture.data.motion import axis_angle_to_matrix
from test_trinity import asr_json, write_recording

SECONDS = 4.0  # 60 frames at 15 fps: one training window of tiny's 40 frames per recording
RECORDINGS = {"Recording_001": "val", "Recording_006": "train", "Recording_007": "train"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """A GENEA folder (one dev, two training recordings) and a tiny model trained on it."""
    base = tmp_path_factory.mktemp("trinity_e2e")
    root = base / "genea"
    for k, seq_id in enumerate(RECORDINGS):
        write_recording(root, seq_id, seconds=SECONDS, seed=k + 1)
    # A module-scoped fixture runs before conftest's per-test cache: give it its own.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGGESTURE_CACHE", str(base / "cache"))
        rc = main(["train", "--config", "tiny", f"data.root={root}", "data.joint_set=upper",
                   "data.train_splits=[train]", "data.val_splits=[val]",
                   f"train.out={base / 'run'}", "train.progress=false"])
    assert rc == 0
    # Speech the model has not seen, of a length that is no whole number of model frames.
    speech = base / "speech.wav"
    n = int(3.3 * 16000)
    sf.write(speech, 0.1 * np.sin(2 * np.pi * 170 * np.arange(n) / 16000), 16000)
    (base / "speech.json").write_text(json.dumps(asr_json()))
    return {"root": root, "bundle": base / "run" / "bundle", "speech": speech,
            "text": base / "speech.json", "base": base}


def _generate(trained, out: Path, *extra: str) -> tuple[Path, Path]:
    npz, bvh = out.with_suffix(".npz"), out.with_suffix(".bvh")
    assert main(["generate", "--checkpoint", str(trained["bundle"]), "--audio",
                 str(trained["speech"]), "--text", str(trained["text"]), "--out", str(npz),
                 "--bvh", str(bvh), *extra]) == 0
    return npz, bvh


def test_bundle_carries_the_dataset_skeleton(trained):
    bundle = load_bundle(trained["bundle"])
    assert bundle.meta["dataset"] == "trinity"
    assert bundle.joint_names == list(trinity.UPPER_BODY)
    template = trinity.skeleton_template(trained["root"])
    assert bundle.meta["skeleton_bvh"] == template.to_text()


@pytest.mark.parametrize("fps", [30, 15])
def test_generated_bvh_is_on_the_input_skeleton(trained, tmp_path, fps):
    npz, bvh_path = _generate(trained, tmp_path / "gen", "--fps", str(fps))
    out = read_bvh(bvh_path)
    src = read_bvh(trained["root"] / "Motion" / "Recording_006.bvh")
    # Same hierarchy, offsets, channels and end sites as the input files.
    assert out.joint_names == src.joint_names and out.parents == src.parents
    for a, b in zip(out.joints, src.joints, strict=True):
        np.testing.assert_array_equal(a.offset, b.offset)
        assert a.channels == b.channels
        assert (a.end_site is None) == (b.end_site is None)
        if a.end_site is not None:
            np.testing.assert_array_equal(a.end_site, b.end_site)
    assert out.fps == fps and out.frame_time == pytest.approx(1 / fps, rel=1e-9)
    assert out.n_frames == round(3.3 * fps)
    assert np.isfinite(out.motion).all()

    slices = out.channel_slices()
    generated = np.concatenate([out.motion[:, slices[out.index(n)]] for n in trinity.UPPER_BODY],
                               axis=1)  # (T, 45) degrees
    assert np.abs(generated).max() > 0.1 and np.ptp(generated, axis=0).max() > 0
    assert np.abs(generated).max() < 180
    # Every other joint (hips, legs, fingers) keeps the template's rest values: the template
    # has no frames, so rotations 0 and positions equal to the offsets (all 0 for these).
    rest = [n for n in out.joint_names if n not in trinity.UPPER_BODY]
    assert rest == ["Hips", "RightHandIndex1", "LeftHandIndex1", "RightUpLeg", "RightLeg",
                    "LeftUpLeg", "LeftLeg"]
    template = trinity.skeleton_template(trained["root"])
    for n in rest:
        sl = slices[out.index(n)]
        np.testing.assert_array_equal(out.motion[:, sl], np.tile(template.rest_frame()[sl],
                                                                 (out.n_frames, 1)))

    # The BVH and the npz hold the same motion: the npz's axis-angle are the BVH's rotations.
    with np.load(npz) as z:
        assert z["joint_names"].tolist() == list(trinity.UPPER_BODY)
        assert int(z["mocap_frame_rate"]) == fps
        rot = z["rotations"]
    assert rot.shape == (out.n_frames, len(trinity.UPPER_BODY), 3)
    mats = out.local_rotations([out.index(n) for n in trinity.UPPER_BODY])
    np.testing.assert_allclose(mats, axis_angle_to_matrix(rot.astype(np.float64)), atol=1e-5)


def test_generated_bvh_loads_back_as_a_trinity_recording(trained, tmp_path):
    """Dropped into a GENEA folder with its speech, the output is a valid recording whose
    upper-body rotations are the generated ones."""
    npz, bvh_path = _generate(trained, tmp_path / "gen")
    folder = tmp_path / "again"
    for sub, src, suffix in (("Motion", bvh_path, ".bvh"), ("Audio", trained["speech"], ".wav"),
                             ("Transcripts", trained["text"], ".json")):
        (folder / sub).mkdir(parents=True)
        shutil.copy(src, folder / sub / f"Recording_010{suffix}")
    stats = datasets.dataset_stats(folder)
    assert stats["problems"] == [] and stats["sequences"] == 1 and stats["joints"] == 22
    clip = trinity.load_clip(folder, "Recording_010", "train", "upper")
    assert clip.fps == 30 and clip.joint_names == list(trinity.UPPER_BODY)
    with np.load(npz) as z:
        rot = z["rotations"].astype(np.float64)
    np.testing.assert_allclose(axis_angle_to_matrix(clip.rotvec.astype(np.float64)),
                               axis_angle_to_matrix(rot), atol=1e-5)
    assert [w.text for w in clip.words] == ["so", "i", "think"]


def test_data_stats_reports_the_training_folder(trained, capsys):
    assert main(["data", "stats", str(trained["root"]), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["dataset"] == "trinity" and stats["root"] == str(trained["root"])
    assert stats["sequences"] == stats["listed"] == 3
    assert stats["splits"] == {"val": 1, "train": 2}
    assert stats["frames"] == 3 * int(SECONDS * trinity.FPS) and stats["fps"] == 60
    assert stats["problems"] == []


def test_paper_trinity_config_has_the_paper_settings():
    cfg = load_config("paper_trinity")
    d, m, t = cfg.data, cfg.model, cfg.train
    assert (d.root, d.joint_set, d.speakers) == ("Trinity", "upper", None)
    assert (d.fps, d.length) == (15.0, 300)
    assert (d.train_splits, d.val_splits, d.test_splits) == (["train"], ["val"], ["test"])
    assert (m.codebook_size, m.code_dim, m.alpha, m.beta) == (512, 256, 0.95, 0.1)
    assert (t.method, t.epochs, t.batch_size, t.lr) == ("eggesture", 120, 128, 3e-4)
    assert (t.lr_decay_epoch, t.lr_decay, t.gamma) == (100, 0.1, 500.0)


@pytest.mark.parametrize("name", PACKAGED)
def test_every_packaged_config_loads(name):
    cfg = load_config(name, ["data.root=somewhere"])
    assert cfg.data.root == "somewhere"

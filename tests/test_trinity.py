"""Trinity / GENEA 2020 reader (data/trinity.py) on small GENEA-format folders written here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.spatial.transform import Rotation

from beat2_folder import textgrid_text
from eggesture.cli import main
from eggesture.data import datasets, trinity
from eggesture.data import windows as W
from eggesture.data.bvh import parse_bvh, read_bvh
from eggesture.data.motion import axis_angle_to_6d, resampled_length
from eggesture.errors import DataError
from test_bvh import bvh_text, genea_skeleton, smooth_motion, write_genea_bvh

FPS = 60
WORDS = [("0.400s", "0.800s", "So,"), ("0.800s", "1.100s", "I"), ("1.300s", "1.900s", "think")]


def asr_json(words=WORDS) -> list:
    """A Google-speech-API transcript as GENEA 2020 ships it: results → alternatives → words."""
    half = len(words) // 2
    return [{"alternatives": [{"transcript": " ".join(w for _, _, w in part), "confidence": 0.9,
                               "words": [{"start_time": a, "end_time": b, "word": w}
                                         for a, b, w in part]}]}
            for part in (words[:half], words[half:])]


def write_recording(root: Path, seq_id: str, *, seconds: float = 2.0, seed: int = 0,
                    layout: str = "genea", sr: int = 16000, channels: int = 1,
                    audio_seconds: float | None = None) -> np.ndarray:
    """One recording: BVH at 60 fps, a wav, a JSON transcript. Returns the BVH motion."""
    if layout == "flat":
        motion_dir = audio_dir = text_dir = root
    else:
        motion_dir, audio_dir, text_dir = (root / "Motion", root / "Audio", root / "Transcripts")
    for d in (motion_dir, audio_dir, text_dir):
        d.mkdir(parents=True, exist_ok=True)
    motion = write_genea_bvh(motion_dir / f"{seq_id}.bvh", int(round(seconds * FPS)), seed)
    n = int((seconds if audio_seconds is None else audio_seconds) * sr)
    wave = 0.1 * np.sin(2 * np.pi * 200 * np.arange(n) / sr)
    sf.write(audio_dir / f"{seq_id}.wav", np.repeat(wave[:, None], channels, 1), sr)
    (text_dir / f"{seq_id}.json").write_text(json.dumps(asr_json()))
    return motion


def write_genea_folder(root: Path, recordings=range(1, 8), **kw) -> Path:
    for k in recordings:
        write_recording(root, f"Recording_{k:03d}", seed=k, **kw)
    return root


@pytest.fixture
def genea(tmp_path) -> Path:
    return write_genea_folder(tmp_path / "genea")


# --- layout and split -------------------------------------------------------------------------

def test_standard_split_from_recording_numbers(genea):
    seqs = trinity.list_sequences(genea)
    assert seqs == [("Recording_001", "val"), ("Recording_002", "val"), ("Recording_003", "test"),
                    ("Recording_004", "test"), ("Recording_005", "test"),
                    ("Recording_006", "train"), ("Recording_007", "train")]
    assert trinity.list_sequences(genea, splits=["test"]) == seqs[2:5]
    assert trinity.list_sequences(genea, speakers=[trinity.SPEAKER]) == seqs
    assert trinity.list_sequences(genea, speakers=[2]) == []
    assert trinity.split_of("Recording_012") == "train" and trinity.split_of("take") == "train"


def test_detects_genea_release_and_flat_layouts(tmp_path):
    genea = write_genea_folder(tmp_path / "g", [6])
    release = write_genea_folder(tmp_path / "r" / "Training_data", [6]).parent
    flat = write_genea_folder(tmp_path / "f", [6], layout="flat")
    for root in (genea, release, flat):
        assert datasets.detect(root) is trinity
        assert trinity.list_sequences(root) == [("Recording_006", "train")]
        clip = trinity.load_clip(root, "Recording_006", "train", "upper")
        assert clip.rotvec.shape == (120, 15, 3)
    (tmp_path / "empty").mkdir()
    assert not trinity.detect(tmp_path / "empty")


# --- clips ------------------------------------------------------------------------------------

def test_clip_holds_upper_body_local_rotations_audio_and_words(genea):
    clip = trinity.load_clip(genea, "Recording_006", "train", "upper")
    assert clip.joint_names == list(trinity.UPPER_BODY) and clip.fps == 60.0
    assert clip.rotvec.shape == (120, 15, 3) and clip.rotvec.dtype == np.float32
    # Second oracle: scipy's intrinsic ZXY Euler angles of the written channels.
    bvh = read_bvh(genea / "Motion" / "Recording_006.bvh")
    for k, name in enumerate(trinity.UPPER_BODY):
        sl = bvh.channel_slices()[bvh.index(name)]
        expected = Rotation.from_euler("ZXY", bvh.motion[:, sl], degrees=True).as_rotvec()
        np.testing.assert_allclose(clip.rotvec[:, k], expected, atol=1e-5)
    assert clip.audio.shape == (32000,) and clip.audio.dtype == np.float32
    # Times like "0.400s" are parsed; words are lower-cased and stripped of punctuation.
    assert [(w.start, w.end, w.text) for w in clip.words] == [
        (0.4, 0.8, "so"), (0.8, 1.1, "i"), (1.3, 1.9, "think")]
    assert clip.split == "train" and clip.sem is None


def test_clip_is_hip_centred(tmp_path):
    """Moving and turning the root changes nothing in the clip: root translation is removed."""
    spec = genea_skeleton()
    motion = smooth_motion(spec, 60, seed=4)
    roots = {}
    for name, shift in (("a", 0.0), ("b", 1.0)):
        root = tmp_path / name
        write_recording(root, "Recording_006", seconds=1.0)
        moved = motion.copy()
        moved[:, :6] += shift * np.array([40.0, -10, 25, 30, 20, -45])  # hips position + rotation
        (root / "Motion" / "Recording_006.bvh").write_text(bvh_text(spec, np.round(moved, 6)))
        roots[name] = trinity.load_clip(root, "Recording_006", "train", "upper").rotvec
    np.testing.assert_array_equal(roots["a"], roots["b"])


def test_joint_sets(genea):
    skel = trinity.skeleton_template(genea)
    assert trinity.joint_set_names(skel, "upper") == list(trinity.UPPER_BODY)
    assert trinity.joint_set_names(skel, "hands") == ["RightHandIndex1", "LeftHandIndex1"]
    assert len(trinity.joint_set_names(skel, "upper_hands")) == 17
    full = trinity.joint_set_names(skel, "full")
    assert full == skel.joint_names and full[0] == "Hips"
    with pytest.raises(ValueError, match="unknown Trinity joint set 'face'"):
        trinity.joint_set_names(skel, "face")


def test_skeleton_template_is_the_training_skeleton_without_frames(genea):
    skel = trinity.skeleton_template(genea)
    assert skel.n_frames == 0 and skel.path.endswith("Recording_006.bvh")
    full = read_bvh(genea / "Motion" / "Recording_006.bvh")
    assert skel.joint_names == full.joint_names and skel.parents == full.parents
    assert [j.channels for j in skel.joints] == [j.channels for j in full.joints]
    # It survives a trip through text (how an inference bundle can carry it).
    again = parse_bvh(skel.to_text())
    assert again.joint_names == skel.joint_names and again.n_frames == 0


def test_missing_joint_is_an_error_naming_the_file(tmp_path):
    spec = [s if s[0] != "Neck1" else ("Neck2",) + s[1:] for s in genea_skeleton()]
    root = tmp_path / "g"
    write_recording(root, "Recording_006")
    path = root / "Motion" / "Recording_006.bvh"
    path.write_text(bvh_text(spec, smooth_motion(spec, 120)))
    with pytest.raises(DataError, match="skeleton has no joint 'Neck1'") as err:
        trinity.load_clip(root, "Recording_006", "train", "upper")
    assert err.value.file == str(path)


def test_flat_folder_with_textgrid_transcript(tmp_path):
    root = tmp_path / "mocap"
    write_recording(root, "take_a", layout="flat")
    (root / "take_a.json").unlink()
    (root / "take_a.TextGrid").write_text(textgrid_text([(0.5, 0.9, "Hello"), (1.0, 1.4, "you")],
                                                        2.0))
    assert trinity.list_sequences(root) == [("take_a", "train")]  # no number: trains
    clip = trinity.load_clip(root, "take_a", "train", "upper")
    assert [w.text for w in clip.words] == ["hello", "you"]
    info = trinity.describe_sequence(root, "take_a")
    assert info == {"frames": 120, "joints": 22, "words": ["hello", "you"], "problems": []}


def test_audio_motion_mismatch_and_missing_files(tmp_path):
    root = tmp_path / "g"
    write_recording(root, "Recording_006", audio_seconds=4.0)
    with pytest.raises(DataError, match=r"audio lasts 4.00 s but the motion lasts 2.00 s"):
        trinity.load_clip(root, "Recording_006", "train", "upper")
    write_recording(root, "Recording_007")
    (root / "Transcripts" / "Recording_007.json").unlink()
    with pytest.raises(DataError, match="transcript not found") as err:
        trinity.load_clip(root, "Recording_007", "train", "upper")
    assert err.value.file.endswith("Transcripts/Recording_007.json")
    (root / "Audio" / "Recording_007.wav").unlink()
    with pytest.raises(DataError, match="audio file not found"):
        trinity.load_clip(root, "Recording_007", "train", "upper")
    info = trinity.describe_sequence(root, "Recording_007")
    assert info["frames"] is None and [p["problem"] for p in info["problems"]] == [
        "audio file not found", "transcript not found (expected a .json, .TextGrid or .txt file "
        "named Recording_007)"]


# --- one windowing path: 60 → 15 fps, 6D, cache ----------------------------------------------

def test_prepare_resamples_60_to_15_fps_and_converts_to_6d(genea):
    data = W.prepare(genea, W.WindowSettings(length=8, stride=4, joint_set="upper"))
    assert data.ids[0] == "Recording_001" and data.splits[:3] == ["val", "val", "test"]
    assert data.joint_names == list(trinity.UPPER_BODY) and data.motion.shape[1:] == (15, 6)
    i = data.ids.index("Recording_006")
    assert data.n_frames(i) == resampled_length(120, 60, 15) == 30
    clip = trinity.load_clip(genea, "Recording_006", "train", "upper")
    # 15 fps frame k sits exactly on 60 fps frame 4k.
    np.testing.assert_allclose(data.sequence(i)["motion"], axis_angle_to_6d(clip.rotvec[::4]),
                               atol=1e-5)
    # Words land on their 15 fps frames: "think" spans 1.3–1.9 s → frames 20..28.
    words = np.asarray(data.sequence(i)["words"])
    think = data.vocab.index("think")
    assert np.flatnonzero(words == think).tolist() == list(range(20, 29))
    assert data.windows(["train"]).shape == (2 * ((30 - 8) // 4 + 1), 2)
    assert set(data.vocab) >= {"so", "i", "think"}


# --- data stats -------------------------------------------------------------------------------

def test_data_stats_cli_understands_trinity_folders(genea, capsys):
    assert main(["data", "stats", str(genea), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["dataset"] == "trinity" and stats["fps"] == 60
    assert stats["sequences"] == 7 and stats["splits"] == {"val": 2, "test": 3, "train": 2}
    assert stats["frames"] == 7 * 120 and stats["joints"] == 22
    assert stats["minutes"] == pytest.approx(7 * 2 / 60, abs=1e-3)
    assert stats["vocabulary"] == 3 and stats["problems"] == []


def test_data_stats_lists_a_truncated_bvh_as_a_problem(genea, capsys):
    path = genea / "Motion" / "Recording_003.bvh"
    text = path.read_text()
    path.write_text(text[: len(text) - 40])  # cut inside the last frame
    stats = datasets.dataset_stats(genea)
    assert stats["sequences"] == 6 and stats["listed"] == 7
    (problem,) = stats["problems"]
    n_lines = len(text.splitlines())
    assert problem["file"] == str(path)
    assert problem["problem"].startswith(f"line {n_lines}: frame 120 holds")
    assert main(["data", "stats", str(genea)]) == 1
    assert f"line {n_lines}: frame 120" in capsys.readouterr().out

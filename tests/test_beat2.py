"""The BEAT2 reader on the real sample and on small folders with known defects."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from beat2_folder import textgrid_text, write_folder, write_sequence
from conftest import SAMPLE_ID
from eggesture.cli import main
from eggesture.data import beat2, datasets
from eggesture.data.motion import (
    axis_angle_to_6d,
    axis_angle_to_matrix,
    resample_rotations,
    sixd_to_axis_angle,
)
from eggesture.data.transcript import frame_words, read_textgrid
from eggesture.errors import DataError


def test_sample_stats_cli(beat2_sample, capsys):
    assert main(["data", "stats", str(beat2_sample), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["dataset"] == "beat2"
    assert stats["sequences"] == 1 and stats["splits"] == {"test": 1}
    assert stats["frames"] == 1906 and stats["fps"] == 30 and stats["joints"] == 55
    assert stats["minutes"] == pytest.approx(1906 / 30 / 60, abs=1e-3)
    assert stats["vocabulary"] > 50 and stats["problems"] == []


def test_sample_textgrid(beat2_sample):
    from praatio import textgrid

    path = beat2.textgrid_path(beat2_sample, SAMPLE_ID)
    tier = textgrid.openTextgrid(str(path), includeEmptyIntervals=True).getTier("words")
    assert len(tier.entries) == 220
    words = read_textgrid(path)
    assert words[0].text == "the" and words[0].start == pytest.approx(1.42)
    assert all(w.text for w in words)  # empty marks are silence, not words


def test_sample_sequence_resampling_and_6d(beat2_sample):
    seq = beat2.load_sequence(beat2_sample, SAMPLE_ID)
    assert seq.split == "test" and seq.speaker == 2 and seq.poses.shape == (1906, 165)
    assert seq.audio.dtype == np.float32 and abs(seq.audio.size / 16000 - 64.097) < 0.01
    aa = seq.poses.reshape(-1, 55, 3).astype(np.float64)
    down = resample_rotations(aa, 30, 15)
    assert down.shape == (953, 55, 3)
    back = sixd_to_axis_angle(axis_angle_to_6d(aa))
    # Compare as rotations (axis-angle is not unique at π); error as an angle in radians.
    r1, r2 = axis_angle_to_matrix(aa), axis_angle_to_matrix(back)
    cos = np.clip((np.einsum("...ij,...ij->...", r1, r2) - 1) / 2, -1, 1)
    assert np.arccos(cos).max() < 1e-5
    words = frame_words(seq.words, 953, 15)
    assert words[22] == "the" and words[21] == "" and words[0] == ""  # "the" spans 1.42–1.52 s


def test_speaker_filter(tmp_path):
    root = write_folder(tmp_path / "b", {"2_a_0_1_1": "train", "3_b_0_1_1": "train",
                                         "2_a_0_2_2": "test"}, seconds=3)
    assert [i for i, _ in beat2.list_sequences(root, speakers=[2])] == ["2_a_0_1_1", "2_a_0_2_2"]
    assert beat2.list_sequences(root, splits=["test"]) == [("2_a_0_2_2", "test")]


def test_stereo_44k_wav_is_read_as_16k_mono(tmp_path):
    root = tmp_path / "b"
    write_folder(root, {"1_x_0_1_1": "train"}, seconds=4)
    write_sequence(root, "1_x_0_1_1", 4, sr=44100, channels=2)
    info = sf.info(str(root / "wave16k" / "1_x_0_1_1.wav"))
    assert info.samplerate == 44100 and info.channels == 2
    seq = beat2.load_sequence(root, "1_x_0_1_1")
    assert seq.audio.ndim == 1 and abs(seq.audio.size - 4 * 16000) <= 2
    # A 220 Hz tone survives resampling (peak of the spectrum at 220 Hz).
    spec = np.abs(np.fft.rfft(seq.audio[:16000]))
    assert abs(np.argmax(spec) - 220) <= 2


def _problem_for(root, capsys) -> tuple[int, list[dict]]:
    code = main(["data", "stats", str(root), "--json"])
    return code, json.loads(capsys.readouterr().out)["problems"]


def test_missing_wav(tmp_path, capsys):
    root = write_folder(tmp_path / "b", {"1_x_0_1_1": "train", "1_x_0_2_2": "test"}, seconds=3)
    (root / "wave16k" / "1_x_0_1_1.wav").unlink()
    code, problems = _problem_for(root, capsys)
    assert code == 1 and len(problems) == 1
    assert problems[0]["file"].endswith("1_x_0_1_1.wav") and "not found" in problems[0]["problem"]
    with pytest.raises(DataError, match=r"1_x_0_1_1\.wav: audio file not found"):
        beat2.load_sequence(root, "1_x_0_1_1")


def test_nan_in_poses(tmp_path, capsys):
    root = write_folder(tmp_path / "b", {"1_x_0_1_1": "train"}, seconds=3)
    path = root / "smplxflame_30" / "1_x_0_1_1.npz"
    d = dict(np.load(path))
    d["poses"][40, 7] = np.nan
    np.savez(path, **d)
    code, problems = _problem_for(root, capsys)
    assert code == 1 and "NaN" in problems[0]["problem"] and "frame 40" in problems[0]["problem"]


@pytest.mark.parametrize("kind", ["unsorted", "overlapping"])
def test_bad_textgrid(tmp_path, capsys, kind):
    root = write_folder(tmp_path / "b", {"1_x_0_1_1": "train"}, seconds=3)
    tg = root / "textgrid" / "1_x_0_1_1.TextGrid"
    if kind == "unsorted":
        text = textgrid_text([(0.1, 0.4, "one"), (0.5, 0.9, "two")], 3)
        a = text.index("        intervals [2]:")
        b = text.index("        intervals [3]:")
        c = text.index("        intervals [4]:")
        tg.write_text(text[:a] + text[b:c] + text[a:b] + text[c:])  # entries 2 and 3 swapped
        words = read_textgrid(tg)
        assert [w.text for w in words] == ["one", "two"]  # sorted: correct handling
        assert _problem_for(root, capsys) == (0, [])
    else:
        tg.write_text(textgrid_text([(0.1, 0.6, "one"), (0.5, 0.9, "two")], 3).replace(
            "xmin = 0.6", "xmin = 0.5", 1))
        code, problems = _problem_for(root, capsys)
        assert code == 1 and problems[0]["file"].endswith(".TextGrid")
        assert "overlap" in problems[0]["problem"]


def test_audio_motion_length_mismatch(tmp_path, capsys):
    root = write_folder(tmp_path / "b", {"1_x_0_1_1": "train"}, seconds=5)
    write_sequence(root, "1_x_0_1_1", 5, audio_seconds=3.5)
    code, problems = _problem_for(root, capsys)
    assert code == 1 and "3.50 s" in problems[0]["problem"] and "5.00 s" in problems[0]["problem"]
    with pytest.raises(DataError, match="apart"):
        beat2.load_sequence(root, "1_x_0_1_1")


def test_csv_id_without_files(tmp_path, capsys):
    root = write_folder(tmp_path / "b", {"1_x_0_1_1": "train"}, seconds=3)
    (root / "train_test_split.csv").write_text("id,type\n1_x_0_1_1,train\n1_ghost_0_9_9,val\n")
    code, problems = _problem_for(root, capsys)
    assert code == 1
    files = {p["file"].rsplit("/", 1)[-1] for p in problems}
    assert {"1_ghost_0_9_9.npz", "1_ghost_0_9_9.wav", "1_ghost_0_9_9.TextGrid"} <= files
    stats = datasets.dataset_stats(root)
    assert stats["sequences"] == 1 and stats["listed"] == 2


def test_errors_are_one_line_on_the_cli(tmp_path, capsys):
    assert main(["data", "stats", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nowhere" in err and "not found" in err
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "train_test_split.csv").write_text("name,split\nx,train\n")
    assert main(["data", "stats", str(tmp_path / "b")]) == 2
    assert "id,type" in capsys.readouterr().err


def test_sem_file(tmp_path):
    root = write_folder(tmp_path / "b", {"1_x_0_1_1": "train"}, seconds=3)
    (root / "sem").mkdir()
    (root / "sem" / "1_x_0_1_1.txt").write_text(
        "big\t1.0\t1.8\t0.8\t0.9\tbig\none\t2.0\t2.5\t0.5\t0.7\tone\n")
    seq = beat2.load_sequence(root, "1_x_0_1_1")
    assert [(e.name, e.start, e.end) for e in seq.sem] == [("big", 1.0, 1.8), ("one", 2.0, 2.5)]
    (root / "sem" / "1_x_0_1_1.txt").write_text("big\tsoon\t1.8\t0.8\t0.9\tbig\n")
    with pytest.raises(DataError, match="line 1: non-numeric"):
        beat2.load_sequence(root, "1_x_0_1_1")

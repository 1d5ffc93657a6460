"""Stick-figure renderer and ``eggesture render``: streams and durations, camera, strip, errors."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile as sf

from eggesture.cli import main
from eggesture.data.motion import SMPLX_JOINT_NAMES, SMPLX_PARENTS
from eggesture.data.skeleton import smplx_positions
from eggesture.export.npz import write_beat2_npz
from eggesture.export.render import (
    PANEL_PX,
    camera_matrix,
    project,
    render_strip,
    render_video,
    strip_frames,
)

SR = 22050


def _wav(path: Path, seconds: float, quiet_until: float = 0.0, channels: int = 2) -> Path:
    """A tone at 440 Hz, silent before ``quiet_until`` seconds (stereo 22.05 kHz by default)."""
    t = np.arange(int(seconds * SR)) / SR
    x = 0.5 * np.sin(2 * np.pi * 440 * t) * (t >= quiet_until)
    sf.write(str(path), np.repeat(x[:, None], channels, axis=1), SR)
    return path


def _waving_poses(n: int, fps: float = 30) -> np.ndarray:
    """SMPL-X poses ``(n, 165)``: arms down, the right elbow swinging."""
    poses = np.zeros((n, 55, 3))
    poses[:, SMPLX_JOINT_NAMES.index("left_shoulder")] = [0, 0, -1.2]
    poses[:, SMPLX_JOINT_NAMES.index("right_shoulder")] = [0, 0, 1.2]
    poses[:, SMPLX_JOINT_NAMES.index("right_elbow"), 1] = np.sin(np.arange(n) / fps * 6) - 1
    return poses.reshape(n, 165)


def _probe(path: Path) -> str:
    """ffmpeg's description of a media file (its streams and duration)."""
    res = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                         capture_output=True, text=True)
    return res.stderr


def _decoded_audio(path: Path, sr: int = 16000) -> np.ndarray:
    res = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-vn",
                          "-f", "s16le", "-ac", "1", "-ar", str(sr), "-"], capture_output=True,
                         check=True)
    return np.frombuffer(res.stdout, dtype=np.int16).astype(np.float32) / 32768


def test_video_has_video_and_audio_streams_of_the_right_duration(tmp_path):
    pos = smplx_positions(_waving_poses(24, fps=15))  # 1.6 s at 15 fps
    audio = _wav(tmp_path / "speech.wav", 3.0, quiet_until=1.0)
    out = render_video(tmp_path / "v.mp4", [(pos, SMPLX_PARENTS, "generated")], 15, audio,
                       audio_start=0.5)
    info = _probe(out)
    assert re.search(r"Video: h264.*512x512.*15 fps", info), info
    assert "Audio: aac" in info, info
    n_frames, secs = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert n_frames == 24 and secs == pytest.approx(1.6, abs=0.01)
    # The audio is the file's from 0.5 s on: 0.5 s of silence, then the tone, cut at 1.6 s.
    wave = _decoded_audio(out)
    assert wave.size / 16000 == pytest.approx(1.6, abs=0.05)
    assert np.sqrt(np.mean(wave[:int(0.4 * 16000)] ** 2)) < 0.01
    assert np.sqrt(np.mean(wave[int(0.6 * 16000):int(1.5 * 16000)] ** 2)) > 0.2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["speech.wav", "v.mp4"]


def test_short_audio_is_padded_and_frames_follow_the_motion(tmp_path):
    pos = smplx_positions(_waving_poses(30, fps=15))  # 2 s
    still = smplx_positions(_waving_poses(1).repeat(30, axis=0))
    audio = _wav(tmp_path / "a.wav", 0.5, channels=1)
    out = render_video(tmp_path / "v.mp4", [(pos, SMPLX_PARENTS, "generated"),
                                            (still, SMPLX_PARENTS, "reference")], 15, audio)
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 30
    assert _decoded_audio(out).size / 16000 == pytest.approx(2.0, abs=0.05)
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert meta["size"] == (2 * PANEL_PX[0], PANEL_PX[1])
    w, h = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]
    left, right = (np.stack([f[40:-40, :w // 2] for f in frames]).astype(int),
                   np.stack([f[40:-40, w // 2:] for f in frames]).astype(int))
    # The waving panel changes between frames; the still one does not (beyond coding noise).
    assert np.abs(left[5] - left[12]).max() > 100
    assert np.abs(right[5] - right[12]).max() < 60


def _colour_centroid(img: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    """(x, y) pixel centroid of pixels close to ``rgb`` in an ``(H, W, 3)`` image."""
    mask = (np.abs(img[..., :3].astype(int) - rgb).sum(-1) < 60)
    ys, xs = np.nonzero(mask)
    assert xs.size > 20, f"no pixels of colour {rgb}"
    return np.array([xs.mean(), ys.mean()])


def test_strip_dimensions_and_camera_faces_the_body(tmp_path):
    from PIL import Image

    pos = smplx_positions(_waving_poses(40))
    out = render_strip(tmp_path / "s.png", [(pos, SMPLX_PARENTS, "generated"),
                                            (pos, SMPLX_PARENTS, "reference")], 30, 5)
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape == (2 * 256, 5 * 256, 3)

    one = render_strip(tmp_path / "rest.png", [(pos[:1], SMPLX_PARENTS, "")], 30, 1)
    img = np.asarray(Image.open(one).convert("RGB"))
    assert img.shape == (256, 256, 3)
    blue, red = _colour_centroid(img, (31, 119, 180)), _colour_centroid(img, (214, 39, 40))
    # Facing the camera: the body's left side (blue) is on the viewer's right; arms hang below
    # the head circle (dark grey), which is above both.
    assert blue[0] > 128 > red[0]
    head_rows = np.nonzero((np.abs(img.astype(int) - (68, 68, 68)).sum(-1) < 40).any(axis=1))[0]
    assert head_rows.min() < min(blue[1], red[1]) - 40


def test_camera_is_a_rotation_that_sees_the_front():
    cam = camera_matrix()
    np.testing.assert_allclose(cam @ cam.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(cam) == pytest.approx(1.0)
    front, up, left = project(np.array([[0, 0, 1.0], [0, 1.0, 0], [1.0, 0, 0]]))
    assert front[2] > 0.9  # the body's forward axis points at the camera (depth grows)
    assert up[1] > 0.95 and left[0] > 0.9  # up is up, the body's left is on the right


def test_strip_frames_spread_over_the_clip():
    np.testing.assert_array_equal(strip_frames(100, 4), [12, 37, 62, 87])
    np.testing.assert_array_equal(strip_frames(2, 4), [0, 0, 1, 1])
    with pytest.raises(ValueError):
        strip_frames(10, 0)


def test_interrupted_render_leaves_no_file(tmp_path):
    pos = smplx_positions(_waving_poses(20))

    def stop(done, total):
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render_video(tmp_path / "v.mp4", [(pos, SMPLX_PARENTS, "")], 15, progress=stop)
    assert list(tmp_path.iterdir()) == []


# --- the command --------------------------------------------------------------------------------

@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    gen = tmp_path / "in" / "gen.npz"
    gen.parent.mkdir()
    write_beat2_npz(gen, _waving_poses(45), 30)  # 1.5 s
    ref = tmp_path / "in" / "ref.npz"
    write_beat2_npz(ref, _waving_poses(30) * 0.5, 30)  # 1 s: held for the last 0.5 s
    return {"gen": gen, "ref": ref, "wav": _wav(tmp_path / "in" / "s.wav", 1.5),
            "out": tmp_path / "out"}


def test_cli_renders_video_with_compare_and_a_strip(files, capsys):
    out = files["out"] / "v.mp4"
    rc = main(["render", str(files["gen"]), "--audio", str(files["wav"]), "--compare",
               str(files["ref"]), "--out", str(out), "--start", "0.5"])
    assert rc == 0
    info = _probe(out)
    assert "1024x512" in info and "Audio: aac" in info
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 15  # 1 s left after --start
    png = files["out"] / "s.png"
    assert main(["render", str(files["gen"]), "--png", "--frames", "3", "--out", str(png),
                 "--full-body"]) == 0
    from PIL import Image

    assert Image.open(png).size == (3 * 256, 256)
    assert sorted(p.name for p in files["out"].iterdir()) == ["s.png", "v.mp4"]


def test_exact_joints_with_an_smplx_model_file(files, tmp_path, capsys):
    """--smplx-model: the preview's joints are the model's (a made-up file with the real keys);
    a pickled model file is refused, named, and nothing is written."""
    from eggesture.data.smplx_model import load_smplx_model
    from eggesture.data.smplx_model import positions as exact_positions
    from eggesture.export.npz import read_motion_file
    from eggesture.export.render import preview_positions, root_relative
    from test_smplx_model import _model_arrays

    np.savez(tmp_path / "m.npz", **_model_arrays())
    model = load_smplx_model(tmp_path / "m.npz")
    motion = read_motion_file(files["gen"])
    got = preview_positions(motion, 30, model=model)
    want = root_relative(exact_positions(motion.poses, motion.trans, model=model,
                                         betas=motion.betas))
    np.testing.assert_allclose(got, want, atol=1e-9)
    assert np.abs(got - preview_positions(motion, 30)).max() > 0.01  # not the approximate one
    png = files["out"] / "x.png"
    assert main(["render", str(files["gen"]), "--png", "--out", str(png), "--smplx-model",
                 str(tmp_path / "m.npz")]) == 0 and png.stat().st_size > 1000
    (tmp_path / "p.pkl").write_bytes(b"\x80\x04K\x01.")
    assert main(["render", str(files["gen"]), "--png", "--out", str(files["out"] / "y.png"),
                 "--smplx-model", str(tmp_path / "p.pkl")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert "p.pkl" in err[-1] and "pickle" in err[-1] and not (files["out"] / "y.png").exists()


def test_cli_renders_bvh(files, tmp_path):
    from eggesture.data.bvh import read_bvh

    bvh = tmp_path / "in" / "m.bvh"
    bvh.write_text(
        "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition "
        "Zrotation Xrotation Yrotation\n JOINT Spine\n {\n  OFFSET 0 50 0\n  CHANNELS 3 "
        "Zrotation Xrotation Yrotation\n  JOINT Arm\n  {\n   OFFSET 20 0 0\n   CHANNELS 3 "
        "Zrotation Xrotation Yrotation\n   End Site\n   {\n    OFFSET 30 0 0\n   }\n  }\n }\n}\n"
        "MOTION\nFrames: 20\nFrame Time: 0.05\n"
        + "".join(f"0 90 0 0 0 0 {3 * i} 0 0 0 0 0\n" for i in range(20)))
    assert read_bvh(bvh).n_frames == 20
    out = files["out"] / "b.mp4"
    assert main(["render", str(bvh), "--out", str(out)]) == 0
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 15  # 1 s at 15 fps


@pytest.mark.parametrize(("case", "problem"), [
    ("missing", "motion file not found"),
    ("text_motion", "not a motion file"),
    ("narrow_poses", r"'poses' has shape \(10, 99\)"),
    ("not_audio", "not a readable audio file"),
    ("missing_audio", "audio file not found"),
    ("bad_compare", "not a readable npz file"),
    ("bad_out", "output must be a .mp4 file"),
    ("start_past_end", "nothing to show from 9 s on"),
    ("bad_bvh", "m.bvh"),
])
def test_cli_bad_input_is_one_line_naming_the_file_and_leaves_nothing(files, capsys, case,
                                                                         problem):
    d = files["gen"].parent
    out = files["out"] / "v.mp4"
    args = [str(files["gen"]), "--out", str(out), "--audio", str(files["wav"])]
    named = files["gen"]
    if case == "missing":
        named = d / "nope.npz"
        args[0] = str(named)
    elif case == "text_motion":
        named = d / "m.txt"
        named.write_text("hello")
        args[0] = str(named)
    elif case == "narrow_poses":
        named = d / "narrow.npz"
        np.savez(named, poses=np.zeros((10, 99)))
        args[0] = str(named)
    elif case == "not_audio":
        named = d / "fake.wav"
        named.write_text("RIFF but not really")
        args[4] = str(named)
    elif case == "missing_audio":
        named = d / "gone.wav"
        args[4] = str(named)
    elif case == "bad_compare":
        named = d / "broken.npz"
        named.write_bytes(b"\x00" * 64)
        args += ["--compare", str(named)]
    elif case == "bad_out":
        named = out = files["out"] / "v.avi"
        args[2] = str(out)
    elif case == "start_past_end":
        args += ["--start", "9"]
    elif case == "bad_bvh":
        named = d / "m.bvh"
        named.write_text("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0\n")
        args[0] = str(named)
    rc = main(["render", *args])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert str(named) in err and re.search(problem, err), err
    assert not out.exists()
    assert not files["out"].exists() or list(files["out"].iterdir()) == []


def test_renders_the_real_sample(beat2_sample, tmp_path):
    from PIL import Image

    motion = beat2_sample / "smplxflame_30" / "2_scott_0_1_1.npz"
    wav = beat2_sample / "wave16k" / "2_scott_0_1_1.wav"
    png = tmp_path / "fig5.png"
    assert main(["render", str(motion), "--compare", str(motion), "--png", "--frames", "4",
                 "--start", "20", "--duration", "4", "--out", str(png)]) == 0
    assert Image.open(png).size == (4 * 256, 2 * 256)
    out = tmp_path / "clip.mp4"
    assert main(["render", str(motion), "--audio", str(wav), "--start", "30", "--duration", "1",
                 "--out", str(out)]) == 0
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 15
    assert _decoded_audio(out).size / 16000 == pytest.approx(1.0, abs=0.05)

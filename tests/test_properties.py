"""Property-based tests (hypothesis) of the readers, rotations and resampling (issue 11, item 2).

Rotations: axis-angle ↔ matrix ↔ 6D round trips, Gram-Schmidt of any 6D input, intrinsic Euler
in every axis order. Resampling: output length, finiteness, exactness at shared frames, the
identity, constant motion, geodesic midpoints, chunking. Words: ``frame_words`` against a
frame-by-frame definition, plain-text placement. Readers: TextGrids (long/short format, UTF-8
/ UTF-16) and JSON transcripts written from random word lists read back exactly; BVH
write → read for random hierarchies and channel layouts; wav (any rate, channels, sample
format) and BEAT2 npz round trips; configs. Examples are derandomized (the same every run) and
few, so the file runs in seconds.
"""

from __future__ import annotations

import io
import json
import string

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import eggesture.data.motion as M
from eggesture.config import from_dict, load_config
from eggesture.data.beat2 import read_motion
from eggesture.data.bvh import Bvh, BvhJoint, parse_bvh, read_bvh, write_bvh
from eggesture.data.transcript import (
    Word,
    check_words,
    decode_text,
    frame_words,
    read_asr_json,
    read_textgrid,
    words_from_plain_text,
)
from eggesture.data.wav import load_audio
from eggesture.export.npz import write_beat2_npz

FAST = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
ORDERS = ["XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"]


def rotvecs(max_n: int = 12, max_angle: float = 12.0):
    """Axis-angle arrays ``(n, 3)`` with angles up to ``max_angle`` rad (several turns)."""
    return st.integers(1, max_n).flatmap(lambda n: arrays(
        np.float64, (n, 3), elements=st.floats(-max_angle / 1.8, max_angle / 1.8, width=64)))


def geodesic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (rad) between rotation matrices ``(..., 3, 3)``."""
    return roma_dist(torch.as_tensor(np.array(a)), torch.as_tensor(np.array(b))).numpy()


def roma_dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    import roma

    return roma.rotmat_geodesic_distance(a, b)


def assert_rotations(mat: np.ndarray) -> None:
    """``mat (..., 3, 3)`` are rotation matrices: orthonormal (det 1 is checked by the callers)."""
    eye = np.broadcast_to(np.eye(3), mat.shape)
    np.testing.assert_allclose(mat @ np.swapaxes(mat, -1, -2), eye, atol=1e-9)


# --- rotations --------------------------------------------------------------------------------

@FAST
@given(rotvecs())
def test_axis_angle_matrix_round_trip(aa):
    mat = M.axis_angle_to_matrix(aa)
    assert_rotations(mat)
    np.testing.assert_allclose(np.linalg.det(mat), 1.0, atol=1e-9)
    back = M.matrix_to_axis_angle(mat)
    assert (np.linalg.norm(back, axis=-1) <= np.pi + 1e-9).all()  # the principal angle
    np.testing.assert_allclose(M.axis_angle_to_matrix(back), mat, atol=1e-9)


@FAST
@given(rotvecs())
def test_axis_angle_6d_round_trip(aa):
    six = M.axis_angle_to_6d(aa)
    assert six.shape == (len(aa), 6)
    # The layout: the first two columns of the matrix, column by column.
    mat = M.axis_angle_to_matrix(aa)
    np.testing.assert_allclose(six, np.concatenate([mat[:, :, 0], mat[:, :, 1]], -1), atol=1e-12)
    assert geodesic(M.axis_angle_to_matrix(M.sixd_to_axis_angle(six)),
                    M.axis_angle_to_matrix(aa)).max() < 1e-7
    np.testing.assert_allclose(M.matrix_to_6d(M.sixd_to_matrix(six)), six, atol=1e-9)


@FAST
@given(arrays(np.float64, (5, 6), elements=st.floats(-100, 100, width=64)))
def test_any_non_degenerate_6d_becomes_a_rotation(six):
    a, b = six[:, :3], six[:, 3:]
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    assume((np.linalg.norm(a, axis=-1) > 1e-3).all() and (cross > 1e-3 * np.linalg.norm(
        a, axis=-1) * np.linalg.norm(b, axis=-1)).all())
    mat = M.sixd_to_matrix(six)
    assert_rotations(mat)
    np.testing.assert_allclose(np.linalg.det(mat), 1.0, atol=1e-9)
    # Gram-Schmidt keeps the first column's direction.
    np.testing.assert_allclose(mat[:, :, 0], a / np.linalg.norm(a, axis=-1, keepdims=True),
                               atol=1e-9)


@FAST
@given(st.sampled_from(ORDERS),
       arrays(np.float64, (6, 3), elements=st.floats(-720, 720, width=64)))
def test_euler_round_trip_in_every_order(order, angles):
    mat = M.euler_to_matrix(angles, order)
    # Intrinsic in channel order: the product of the elementary rotations, left to right.
    expected = np.broadcast_to(np.eye(3), mat.shape).copy()
    for k, axis in enumerate(order):
        expected = expected @ M.axis_angle_to_matrix(
            np.radians(angles[:, k:k + 1]) * np.eye(3)["XYZ".index(axis)])
    np.testing.assert_allclose(mat, expected, atol=1e-9)
    back = M.matrix_to_euler(mat, order)
    assert np.isfinite(back).all()
    np.testing.assert_allclose(M.euler_to_matrix(back, order), mat, atol=1e-7)


# --- resampling -------------------------------------------------------------------------------

FPS = st.sampled_from([15.0, 24.0, 25.0, 29.97, 30.0, 50.0, 60.0, 120.0])


def motions(max_t: int = 40, joints: int = 3):
    return st.integers(1, max_t).flatmap(lambda t: arrays(
        np.float64, (t, joints, 3), elements=st.floats(-6, 6, width=64)))


@FAST
@given(motions(), FPS, FPS)
def test_resample_shape_and_finite(aa, src, dst):
    out = M.resample_rotations(aa, src, dst)
    n = M.resampled_length(len(aa), src, dst)
    assert out.shape == (n, *aa.shape[1:]) and np.isfinite(out).all()
    # The last output frame is within the input's span; one more would be past it.
    assert (n - 1) / dst <= (len(aa) - 1) / src + 1e-9 < n / dst
    assert M.resampled_length(len(aa) + 1, src, dst) >= n


@FAST
@given(motions(), st.sampled_from([(30.0, 15.0), (60.0, 15.0), (60.0, 30.0), (120.0, 30.0),
                                   (30.0, 30.0), (15.0, 30.0), (15.0, 60.0)]))
def test_resample_is_exact_at_shared_frames(aa, rates):
    src, dst = rates
    out = M.resample_rotations(aa, src, dst)
    mat_in, mat_out = M.axis_angle_to_matrix(aa), M.axis_angle_to_matrix(out)
    for k in range(len(out)):
        t = k * src / dst  # input frame position of output frame k
        if abs(t - round(t)) < 1e-9:
            assert geodesic(mat_out[k], mat_in[int(round(t))]).max() < 1e-9


@FAST
@given(motions(max_t=20), FPS)
def test_upsampling_by_two_lands_on_geodesic_midpoints(aa, fps):
    mats = M.axis_angle_to_matrix(aa)
    d = geodesic(mats[1:], mats[:-1])
    assume((d < np.pi - 1e-3).all())  # the short arc is unique
    out = M.axis_angle_to_matrix(M.resample_rotations(aa, fps, 2 * fps))
    assert len(out) == 2 * len(aa) - 1
    mid = out[1::2]
    np.testing.assert_allclose(geodesic(mats[:-1], mid), d / 2, atol=1e-7)
    np.testing.assert_allclose(geodesic(mid, mats[1:]), d / 2, atol=1e-7)


@FAST
@given(arrays(np.float64, (1, 4, 3), elements=st.floats(-6, 6, width=64)),
       st.integers(1, 30), FPS, FPS)
def test_constant_motion_stays_constant(pose, t, src, dst):
    aa = np.repeat(pose, t, axis=0)
    out = M.axis_angle_to_matrix(M.resample_rotations(aa, src, dst, n_out=12))
    assert geodesic(out, np.broadcast_to(M.axis_angle_to_matrix(pose[0]), out.shape)).max() < 1e-9


@FAST
@given(motions(max_t=60), FPS, FPS, st.integers(1, 7))
def test_resampling_in_chunks_changes_nothing(monkeypatch_chunk, aa, src, dst, chunk):
    whole = M.resample_rotations(aa, src, dst)
    with monkeypatch_chunk(chunk):
        np.testing.assert_array_equal(M.resample_rotations(aa, src, dst), whole)


@pytest.fixture
def monkeypatch_chunk(monkeypatch):
    import contextlib

    @contextlib.contextmanager
    def patch(n):
        with monkeypatch.context() as m:
            m.setattr(M, "_CHUNK", n)
            yield

    return patch


@FAST
@given(arrays(np.float64, (30, 5), elements=st.floats(-1e3, 1e3, width=64)))
def test_norm_stats_round_trip(x):
    stats = M.NormStats.compute(x)
    assert (stats.std >= M.NormStats.MIN_STD).all()
    np.testing.assert_allclose(stats.denormalize(stats.normalize(x.astype(np.float32))),
                               x.astype(np.float32), rtol=1e-5, atol=1e-2)


# --- words ------------------------------------------------------------------------------------

WORD_TEXT = st.text(alphabet=string.ascii_lowercase + "éüñø'", min_size=1, max_size=8).filter(
    lambda w: w.strip("'") == w)


@st.composite
def word_lists(draw, max_words: int = 10, max_gap: float = 1.0):
    """Sorted, non-overlapping words with times on a 1 ms grid (exact in decimal and binary
    enough to round-trip through text)."""
    n = draw(st.integers(0, max_words))
    t, words = 0, []
    for _ in range(n):
        t += draw(st.integers(0, int(max_gap * 1000)))
        length = draw(st.integers(1, 800))
        words.append(Word(t / 1000, (t + length) / 1000, draw(WORD_TEXT)))
        t += length
    return words


@FAST
@given(word_lists(), st.integers(1, 120), st.sampled_from([15, 30, 60]))
def test_frame_words_matches_the_frame_by_frame_definition(words, n_frames, fps):
    out = frame_words(words, n_frames, fps)
    assert len(out) == n_frames

    def covers(w: Word, k: int) -> bool:  # start ≤ k/fps < end, exactly (times are whole ms)
        return round(w.start * 1000) * fps <= 1000 * k < round(w.end * 1000) * fps

    covered = [[i for i, w in enumerate(words) if covers(w, k)] for k in range(n_frames)]
    short = [i for i, w in enumerate(words) if not any(covers(w, k) for k in range(n_frames))]
    for k, who in enumerate(covered):
        if who:  # a frame a word covers holds that word (words do not overlap: at most one)
            assert len(who) == 1 and out[k] == words[who[0]].text
        else:  # any other frame is silence, or the nearest frame of a word shorter than a frame
            near = {words[i].text for i in short if int(round(words[i].start * fps)) == k}
            if near:
                assert out[k] in near  # such a word is kept, not lost
            else:
                assert out[k] == ""


@FAST
@given(st.lists(WORD_TEXT, min_size=1, max_size=12),
       arrays(np.float32, st.integers(1600, 16000), elements=st.floats(-1, 1, width=32)))
def test_plain_text_words_are_ordered_inside_the_audio(tokens, wave):
    words = words_from_plain_text(" ".join(tokens), wave, 16000)
    assert [w.text for w in words] == tokens
    assert check_words(words, "x") == words  # sorted, no overlap, no inverted span
    assert all(0 <= w.start <= w.end <= wave.size / 16000 + 1e-9 for w in words)


# --- transcript readers -----------------------------------------------------------------------

def long_textgrid(words: list[Word], xmax: float) -> str:
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0",
             f"xmax = {xmax}", "tiers? <exists>", "size = 1", "item []:", "    item [1]:",
             '        class = "IntervalTier"', '        name = "words"', "        xmin = 0",
             f"        xmax = {xmax}", f"        intervals: size = {len(words)}"]
    for i, w in enumerate(words, start=1):
        lines += [f"        intervals [{i}]:", f"            xmin = {w.start}",
                  f"            xmax = {w.end}", f'            text = "{w.text}"']
    return "\n".join(lines) + "\n"


def short_textgrid(words: list[Word], xmax: float) -> str:
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "0", str(xmax),
             "<exists>", "1", '"IntervalTier"', '"words"', "0", str(xmax), str(len(words))]
    for w in words:
        lines += [str(w.start), str(w.end), f'"{w.text}"']
    return "\n".join(lines) + "\n"


@FAST
@given(word_lists().filter(bool), st.sampled_from(["long", "short"]),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"]),
       st.randoms(use_true_random=False))
def test_textgrids_read_back_their_words(tmp_path_factory, words, layout, encoding, rnd):
    xmax = words[-1].end + 0.5
    shuffled = list(words)
    rnd.shuffle(shuffled)  # interval order in the file does not matter
    text = (long_textgrid if layout == "long" else short_textgrid)(shuffled, xmax)
    path = tmp_path_factory.mktemp("tg") / "t.TextGrid"
    path.write_bytes(text.encode(encoding))
    assert read_textgrid(path) == words


@FAST
@given(word_lists().filter(bool), st.sampled_from(["genea", "flat", "whisper"]),
       st.sampled_from(["utf-8", "utf-16"]), st.randoms(use_true_random=False))
def test_json_transcripts_read_back_their_words(tmp_path_factory, words, layout, encoding, rnd):
    shuffled = list(words)
    rnd.shuffle(shuffled)
    if layout == "genea":
        half = len(shuffled) // 2
        data = [{"alternatives": [{"words": [{"start_time": f"{w.start:.3f}s",
                                              "end_time": f"{w.end:.3f}s", "word": w.text}
                                             for w in part]}]}
                for part in (shuffled[:half], shuffled[half:])]
    elif layout == "flat":
        data = [{"start": w.start, "end": w.end, "word": w.text.upper()} for w in shuffled]
    else:
        data = {"segments": [{"words": [{"start": w.start, "end": w.end, "word": f" {w.text},"}
                                        for w in shuffled]}]}
    path = tmp_path_factory.mktemp("js") / "t.json"
    path.write_bytes(json.dumps(data, ensure_ascii=False).encode(encoding))
    assert read_asr_json(path) == words


@FAST
@given(st.text(alphabet=string.ascii_letters).filter(bool), st.text(max_size=40),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"]))
def test_decode_text_round_trip(head, rest, encoding):
    text = head + rest  # an ASCII start lets UTF-16 without a byte-order mark be recognised
    assume("\x00" not in text)
    assert decode_text(text.encode(encoding)) == text


# --- BVH ----------------------------------------------------------------------------------------

@st.composite
def bvhs(draw):
    """A random hierarchy in file order, random channel layouts, random motion (6 decimals)."""
    n = draw(st.integers(1, 6))
    parents, path = [-1], [0]
    for j in range(1, n):  # a parent on the path to the last joint keeps depth-first order
        d = draw(st.integers(0, len(path) - 1))
        parents.append(path[d])
        path = path[:d + 1] + [j]
    coord = st.floats(-100, 100, width=64).map(lambda v: round(v, 6))
    joints = []
    for j in range(n):
        rot = draw(st.permutations(["Xrotation", "Yrotation", "Zrotation"]))
        rot = rot[:draw(st.integers(0 if j else 1, 3))]
        pos = (["Xposition", "Yposition", "Zposition"] if (j == 0 and draw(st.booleans()))
               else [])
        chans = tuple(pos + list(rot)) if draw(st.booleans()) else tuple(list(rot) + pos)
        has_child = j in parents
        end = (np.array([draw(coord) for _ in range(3)])
               if not has_child or draw(st.booleans()) else None)
        joints.append(BvhJoint(f"j{j}", parents[j], np.array([draw(coord) for _ in range(3)]),
                               chans, end))
    n_ch = sum(len(j.channels) for j in joints)
    t = draw(st.integers(0, 5))
    motion = draw(arrays(np.float64, (t, n_ch), elements=st.floats(-360, 360, width=64)))
    frame_time = draw(st.sampled_from([1 / 60, 1 / 30, 1 / 120, 0.04, 1 / 29.97]))
    return Bvh(joints=joints, frame_time=frame_time, motion=np.round(motion, 6))


@FAST
@given(bvhs())
def test_bvh_write_read_round_trip(bvh):
    back = parse_bvh(bvh.to_text(), "x.bvh")
    assert back.joint_names == bvh.joint_names and back.parents == bvh.parents
    for a, b in zip(back.joints, bvh.joints, strict=True):
        assert a.channels == b.channels
        np.testing.assert_allclose(a.offset, b.offset, atol=1e-6)
        assert (a.end_site is None) == (b.end_site is None)
        if a.end_site is not None:
            np.testing.assert_allclose(a.end_site, b.end_site, atol=1e-6)
    assert back.frame_time == pytest.approx(bvh.frame_time, rel=1e-9)
    assert back.motion.shape == bvh.motion.shape
    np.testing.assert_allclose(back.motion, bvh.motion, atol=1e-6)
    np.testing.assert_allclose(back.forward_kinematics(), bvh.forward_kinematics(), atol=1e-6)


@settings(max_examples=5, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bvhs())
def test_bvh_file_round_trip(tmp_path_factory, bvh):
    path = tmp_path_factory.mktemp("bvh") / "m.bvh"
    write_bvh(path, bvh)
    back = read_bvh(path)
    np.testing.assert_allclose(back.motion, bvh.motion, atol=1e-6)
    assert read_bvh(path, header_only=True).joint_names == bvh.joint_names


# --- audio and motion files ------------------------------------------------------------------

@FAST
@given(st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000]), st.integers(1, 3),
       st.sampled_from(["PCM_16", "PCM_24", "FLOAT"]), st.integers(1, 3000), st.integers(0, 99))
def test_wav_any_rate_channels_format_reads_as_16k_mono(sr, channels, subtype, n, seed):
    wave = np.random.default_rng(seed).uniform(-0.9, 0.9, (n, channels)).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, wave, sr, subtype=subtype, format="WAV")
    path = _tmp_file(buf.getvalue())
    out = load_audio(path)
    assert out.dtype == np.float32 and out.ndim == 1 and np.isfinite(out).all()
    assert abs(out.size - n * 16000 / sr) <= 1
    if sr == 16000:  # no resampling: exactly the channel mean (of the stored samples)
        stored, _ = sf.read(path, dtype="float32", always_2d=True)
        np.testing.assert_array_equal(out, stored.mean(axis=1))


def _tmp_file(data: bytes, suffix: str = ".wav"):
    import tempfile

    f = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    f.write(data)
    f.close()
    return f.name


@FAST
@given(arrays(np.float32, st.tuples(st.integers(1, 20), st.just(165)),
              elements=st.floats(-7, 7, width=32)))
def test_beat2_npz_round_trip(tmp_path_factory, poses):
    path = tmp_path_factory.mktemp("npz") / "m.npz"
    write_beat2_npz(path, poses, 30)
    d = read_motion(path)
    np.testing.assert_array_equal(d["poses"], poses)
    assert d["trans"].shape == (len(poses), 3) and d["expressions"].shape == (len(poses), 100)


# --- configs ----------------------------------------------------------------------------------

@FAST
@given(st.integers(1, 500), st.integers(1, 256), st.floats(1e-6, 1.0), st.sampled_from(
    ["eggesture", "vanilla", "no_joint"]), st.integers(3, 60).map(lambda k: 4 * k),
    st.sampled_from([None, [2], [1, 3]]))
def test_config_overrides_round_trip(epochs, batch, lr, method, length, speakers):
    cfg = load_config("tiny", [f"train.epochs={epochs}", f"train.batch_size={batch}",
                               f"train.lr={lr!r}", f"train.method={method}",
                               f"data.length={length}", f"data.speakers={json.dumps(speakers)}"])
    assert (cfg.train.epochs, cfg.train.batch_size, cfg.train.lr, cfg.train.method) == (
        epochs, batch, lr, method)
    assert cfg.data.length == length and cfg.data.speakers == speakers
    assert from_dict(cfg.to_dict()) == cfg

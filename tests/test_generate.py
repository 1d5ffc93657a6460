"""``eggesture generate`` and :mod:`eggesture.generate`: lengths, seams, seeds, inputs, errors.

One ``tiny`` bundle is trained per module (seconds) on a small BEAT2 folder; the CLI is driven
through :func:`eggesture.cli.main`, the library through :func:`eggesture.generate` and
:func:`~eggesture.recipes.generate.generate_motion`.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import roma
import soundfile as sf
import torch

from beat2_folder import textgrid_text, write_folder
from eggesture.bundle import load_bundle
from eggesture.cli import main
from eggesture.config import load_config
from eggesture.data.beat2 import read_motion
from eggesture.data.bvh import read_bvh
from eggesture.data.poses import n_frames_for
from eggesture.data.transcript import Word
from eggesture.errors import DataError
from eggesture.models.vqvae import DOWNSAMPLE
from eggesture.recipes.generate import decode_indices, generate, generate_motion, to_smplx_poses
from eggesture.recipes.train import train
from speech import say

SR = 16000


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A ``tiny`` run (L = 40 frames, S = 8 seed frames at 15 fps) on 3 × 8 s: its folder."""
    tmp = tmp_path_factory.mktemp("gen")
    root = write_folder(tmp / "beat2", {"1_x_0_1_1": "train", "1_x_0_2_2": "train",
                                        "1_x_0_3_3": "val"}, seconds=8)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGGESTURE_CACHE", str(tmp / "cache"))
        cfg = load_config("tiny", [f"data.root={root}", f"train.out={tmp / 'run'}",
                                   "train.progress=false"])
        train(cfg)
    return tmp


@pytest.fixture(scope="module")
def bundle_dir(trained):
    return trained / "run" / "bundle"


@pytest.fixture(scope="module")
def bundle(bundle_dir):
    return load_bundle(bundle_dir)


def speech(seconds: float, sr: int = SR, seed: int = 0) -> np.ndarray:
    """Speech-like audio ``(N,)``: 180 Hz tone bursts at ~3.4 syllables/s plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * sr))) / sr
    env = (np.sin(2 * np.pi * 1.7 * t) > 0) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.23 * t))
    return (0.2 * env * np.sin(2 * np.pi * 180 * t) + 0.01 * rng.normal(size=t.size)).astype(np.float32)


def write_wav(path, seconds: float, sr: int = SR, channels: int = 1):
    wave = speech(seconds, sr)
    sf.write(path, np.stack([wave * (1 - 0.3 * c) for c in range(channels)], 1), sr)
    return path


def run_cli(capsys, *args) -> tuple[int, str, str]:
    rc = main(["generate", *map(str, args)])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


class Calls:
    """Forward hook on the index classifier: records the inputs of every window it is run on."""

    def __init__(self, bundle):
        self.feats, self.words, self.seeds = [], [], []
        self.handle = bundle.classifier.register_forward_hook(self)

    def __call__(self, module, inputs, output):
        feats, words, seed = inputs
        self.feats.append(tuple(feats.shape))
        self.words.append(words[0].numpy().copy())
        self.seeds.append(seed[0].numpy().copy())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.remove()


def frame_changes(rotvec: np.ndarray) -> np.ndarray:
    """Geodesic angle (rad) between consecutive frames, averaged over joints: ``(T−1,)``."""
    r = roma.rotvec_to_rotmat(torch.from_numpy(rotvec).double())
    return roma.rotmat_geodesic_distance(r[1:], r[:-1]).mean(1).numpy()


# --- lengths ----------------------------------------------------------------------------------

@pytest.mark.parametrize("seconds", [0.5, 7.0, 20.0, 21.0, 65.0])
def test_output_length_and_every_window_is_generated(bundle, seconds):
    length, seed_frames = bundle.cfg.data.length, bundle.cfg.data.seed_frames
    step = length - seed_frames
    with Calls(bundle) as calls:
        gen = generate_motion(bundle, speech(seconds))
    n_model = n_frames_for(seconds, bundle.fps)
    assert gen.rotvec.shape == (n_model, len(bundle.joint_names), 3)
    assert np.isfinite(gen.rotvec).all()
    assert gen.indices.shape == (int(np.ceil(n_model / DOWNSAMPLE)),)
    # The last, partial window is run, never dropped: windows start at 0, step, 2·step, … until
    # one reaches the end; each sees exactly one window of features (memory is per window).
    assert len(calls.feats) == 1 + int(np.ceil(max(0, n_model - length) / step))
    assert set(calls.feats) == {(1, 4 * length, calls.feats[0][2])}
    for fps in (30, 15):
        poses = to_smplx_poses(gen, fps)
        assert poses.shape == (n_frames_for(seconds, fps), 165)
        assert np.isfinite(poses).all()


@pytest.mark.parametrize("extra", [0, 1, 31, 32, 33])
def test_lengths_around_window_multiples(bundle, extra):
    """One window exactly (40 frames), and one window plus 1, 31, 32 and 33 frames."""
    frames = bundle.cfg.data.length + extra
    with Calls(bundle) as calls:
        gen = generate_motion(bundle, np.zeros(int(frames / bundle.fps * SR), np.float32))
    assert gen.rotvec.shape[0] == frames
    assert len(calls.feats) == (1 if extra == 0 else 2 if extra <= 32 else 3)


@pytest.mark.parametrize("fps", [30, 15, 24])
def test_cli_writes_beat2_npz_of_round_duration_times_fps(bundle_dir, tmp_path, capsys, fps):
    wav = write_wav(tmp_path / "a.wav", 3.37)
    rc, out, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", wav,
                           "--out", tmp_path / "o" / "a.npz", "--fps", fps)
    assert rc == 0, err
    assert "3.37 s of speech" in out
    with np.load(tmp_path / "o" / "a.npz") as d:
        assert sorted(d.files) == ["betas", "expressions", "gender", "mocap_frame_rate", "model",
                                   "poses", "trans"]
        assert d["poses"].shape == (n_frames_for(3.37, fps), 165)  # 101 at 30 fps, 51 at 15
        assert d["poses"].dtype == np.float32 and d["trans"].shape == (d["poses"].shape[0], 3)
        assert int(d["mocap_frame_rate"]) == fps
    if fps == 30:
        assert read_motion(tmp_path / "o" / "a.npz")["poses"].shape == (101, 165)


# --- seams ------------------------------------------------------------------------------------

def test_window_boundaries_leave_no_seam(bundle):
    """Frame-to-frame change next to window boundaries is like the change anywhere else.

    Codes are sampled (temperature 1) so they change often and the motion moves; the tiny model
    still moves little (median change ~1e-4 rad/frame). Measured: boundary p95 / elsewhere p95
    ≈ 0.9–1.1 and boundary max below the elsewhere max; the former per-window decode with a
    6D cross-fade gave ≈ 7× the elsewhere p95 at every boundary (decoder edge effects).
    """
    length, seed_frames = bundle.cfg.data.length, bundle.cfg.data.seed_frames
    gen = generate_motion(bundle, speech(65.0), temperature=1.0, seed=1)
    d = frame_changes(gen.rotvec)  # d[k]: frame k → k+1
    near = np.zeros(d.size, bool)
    for s in range(length - seed_frames, d.size, length - seed_frames):
        near[s - 1:s + seed_frames] = True  # into, across and out of the overlap
    inner = ~near
    inner[:8] = inner[-8:] = False  # the sequence's own first/last frames (decoder edges)
    assert near.sum() > 200 and inner.sum() > 500
    assert np.percentile(d[near], 95) <= 1.5 * np.percentile(d[inner], 95)
    assert np.median(d[near]) <= 1.5 * np.median(d[inner])
    assert d[near].max() <= 2 * d[inner].max()


def test_generation_feeds_the_classifier_what_training_fed_it(trained, bundle, monkeypatch):
    """Window k of a training sequence gets the same audio features and word ids in generation
    (read from the wav and TextGrid) as the training window at frame k·(L − S) (from the cache)."""
    from eggesture.recipes.generate import load_speech
    from eggesture.recipes.train import prepare_data

    monkeypatch.setenv("EGGESTURE_CACHE", str(trained / "cache"))
    data = prepare_data(bundle.cfg)
    seq = data.ids.index("1_x_0_1_1")
    root = trained / "beat2"
    wave, timed = load_speech(root / "wave16k" / "1_x_0_1_1.wav",
                              root / "textgrid" / "1_x_0_1_1.TextGrid")
    words = timed.words
    feats = []
    hook = bundle.classifier.register_forward_hook(
        lambda module, inputs, output: feats.append(inputs[0][0].numpy().copy()))
    try:
        with Calls(bundle) as calls:
            generate_motion(bundle, wave, words)
    finally:
        hook.remove()
    step = bundle.cfg.data.length - bundle.cfg.data.seed_frames
    full = [k for k in range(len(feats)) if k * step + bundle.cfg.data.length <= data.n_frames(seq)]
    assert len(full) == 3  # 120 frames: windows at 0, 32, 64 lie inside the sequence
    for k in full:
        w = data.window(seq, k * step)
        np.testing.assert_allclose(feats[k], w["audio_feats"], atol=1e-5, rtol=0)
        np.testing.assert_array_equal(calls.words[k], w["words"])
        assert (w["words"] > 1).any()  # real words, not only padding


def test_decoding_in_chunks_equals_decoding_at_once(bundle):
    gen = torch.Generator().manual_seed(0)
    idx = torch.randint(0, bundle.cfg.model.codebook_size, (101,), generator=gen)
    with torch.no_grad():
        whole = bundle.vqvae.decode(idx[None])[0].numpy()
    for chunk in (2, 7, 64, 512):
        np.testing.assert_allclose(decode_indices(bundle.vqvae, idx, chunk=chunk), whole,
                                   atol=1e-5, rtol=0)


def test_each_window_is_seeded_by_the_previous_windows_last_codes(bundle):
    length, seed_frames = bundle.cfg.data.length, bundle.cfg.data.seed_frames
    n_seed, n_step = seed_frames // 4, (length - seed_frames) // 4
    with Calls(bundle) as calls:
        gen = generate_motion(bundle, speech(10.0), temperature=1.0, seed=2)
    assert len(calls.seeds) == 5
    for k in range(1, len(calls.seeds)):
        # window k's seed = codes of frames [k·step, k·step + S) = stream tokens from k·n_step
        np.testing.assert_array_equal(calls.seeds[k], gen.indices[k * n_step:k * n_step + n_seed])


# --- seeds ------------------------------------------------------------------------------------

def test_same_seed_same_output_and_another_seed_differs(bundle):
    wave = speech(6.0)
    a = generate_motion(bundle, wave, temperature=1.0, seed=3)
    b = generate_motion(bundle, wave, temperature=1.0, seed=3)
    c = generate_motion(bundle, wave, temperature=1.0, seed=4)
    np.testing.assert_array_equal(a.rotvec, b.rotvec)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert (a.indices != c.indices).any()
    g0, g1 = generate_motion(bundle, wave, seed=0), generate_motion(bundle, wave, seed=9)
    np.testing.assert_array_equal(g0.rotvec, g1.rotvec)  # temperature 0: the seed plays no part


def test_post_hoc_logit_adjustment_chooses_rarer_codes(bundle):
    # argmax f − τ′·log π: with τ′ > 0 the chosen codes are, on average, rarer in training.
    wave = speech(6.0)
    q = bundle.vqvae.quantizer
    saved = q.usage_probs.clone()
    k = q.codebook_size
    try:
        q.usage_probs.copy_(torch.linspace(1.0, 1000.0, k) / torch.linspace(1.0, 1000.0, k).sum())
        log_pi = q.usage_probs.log().numpy()
        plain = generate_motion(bundle, wave)
        assert np.array_equal(plain.indices, generate_motion(bundle, wave, posthoc_tau=0.0).indices)
        adjusted = generate_motion(bundle, wave, posthoc_tau=2.0)
        assert log_pi[adjusted.indices].mean() < log_pi[plain.indices].mean()
        with pytest.raises(ValueError, match="posthoc_tau"):
            generate_motion(bundle, wave, posthoc_tau=-1.0)
    finally:
        q.usage_probs.copy_(saved)


def test_cli_same_seed_gives_the_same_file(bundle_dir, tmp_path, capsys):
    wav = write_wav(tmp_path / "a.wav", 4.0)
    poses = []
    for name, seed in (("x", 7), ("y", 7), ("z", 8)):
        rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", wav, "--out",
                             tmp_path / f"{name}.npz", "--seed", seed, "--temperature", 1.5)
        assert rc == 0, err
        with np.load(tmp_path / f"{name}.npz") as d:
            poses.append(d["poses"])
    np.testing.assert_array_equal(poses[0], poses[1])
    assert not np.array_equal(poses[0], poses[2])


# --- inputs -----------------------------------------------------------------------------------

def test_any_rate_and_channel_count_gives_the_same_as_16k_mono(bundle, bundle_dir, tmp_path):
    """44.1 kHz stereo from a file, as an (N, C) array and as a (C, N) array: one result."""
    wave = speech(3.0, sr=44100)
    stereo = np.stack([wave, 0.5 * wave], 1)  # (N, 2)
    sf.write(tmp_path / "s.wav", stereo, 44100, subtype="FLOAT")
    from_file = generate(bundle_dir, tmp_path / "s.wav")
    from_rows = generate(bundle, stereo, sr=44100)
    from_cols = generate(bundle, stereo.T.copy(), sr=44100)
    assert from_file.rotvec.shape[0] == n_frames_for(3.0, 15)
    np.testing.assert_allclose(from_rows.rotvec, from_file.rotvec, atol=1e-5)
    np.testing.assert_allclose(from_cols.rotvec, from_file.rotvec, atol=1e-5)


@pytest.mark.parametrize("kind", ["8k", "stereo", "silence"])
def test_odd_audio_gives_correct_output(bundle_dir, tmp_path, capsys, kind):
    seconds = 2.9
    if kind == "8k":
        write_wav(tmp_path / "a.wav", seconds, sr=8000)
    elif kind == "stereo":
        write_wav(tmp_path / "a.wav", seconds, sr=22050, channels=2)
    else:
        sf.write(tmp_path / "a.wav", np.zeros(int(seconds * SR), np.int16), SR)
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", tmp_path / "a.wav",
                         "--out", tmp_path / "a.npz")
    assert rc == 0, err
    poses = read_motion(tmp_path / "a.npz")["poses"]
    assert poses.shape == (n_frames_for(seconds, 30), 165) and np.isfinite(poses).all()


WORDS = [(0.1, 0.4, "hello"), (0.6, 0.9, "world"), (1.6, 2.2, "big")]


def write_transcript(path, fmt: str):
    if fmt == "TextGrid":
        path.write_text(textgrid_text(WORDS, 3.0))
    elif fmt == "genea-json":
        path.write_text(json.dumps([{"alternatives": [{"words": [
            {"start_time": f"{a:.3f}s", "end_time": f"{b:.3f}s", "word": w} for a, b, w in WORDS]}]}]))
    elif fmt == "flat-json":
        path.write_text(json.dumps([{"start": a, "end": b, "word": w.upper() + ","}
                                    for a, b, w in WORDS]))
    else:
        path.write_text("Hello world, big!\n")
    return path


@pytest.mark.parametrize("fmt,suffix", [("TextGrid", ".TextGrid"), ("genea-json", ".json"),
                                        ("flat-json", ".json"), ("plain", ".txt")])
def test_each_transcript_format_reaches_the_model(bundle, bundle_dir, tmp_path, capsys, fmt,
                                                  suffix):
    wav = write_wav(tmp_path / "a.wav", 3.0)
    if fmt == "plain":  # plain text is aligned to speech that says it
        wave, spoken = say("hello world big", pad=0.8)
        sf.write(wav, np.pad(wave, (0, 3 * SR - wave.size)), SR)  # 3 s, as the others
    text = write_transcript(tmp_path / f"t{suffix}", fmt)
    ids = {w: bundle.vocab.index(w) for w in ("hello", "world", "big")}
    with Calls(bundle) as calls:
        generate(bundle, wav, text)
    seed_frames = bundle.cfg.data.seed_frames  # windows overlap by these frames
    frames = np.concatenate([calls.words[0]] + [w[seed_frames:] for w in calls.words[1:]])[:45]
    if fmt == "plain":  # aligned: each word on the frames where espeak said it
        for w in spoken:
            on = np.flatnonzero(frames == ids[w.text]) / 15
            assert abs(on[0] - w.start) < 1 / 15 + 0.06 and abs(on[-1] + 1 / 15 - w.end) < 1 / 15 + 0.06
    else:  # frame k carries the word spoken at k/15 s
        expected = np.zeros(45, np.int64)  # 3 s at 15 fps
        expected[2:6], expected[9:14], expected[24:33] = ids["hello"], ids["world"], ids["big"]
        np.testing.assert_array_equal(frames, expected)
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", wav, "--text", text,
                         "--out", tmp_path / "a.npz")
    assert rc == 0, err
    assert read_motion(tmp_path / "a.npz")["poses"].shape == (90, 165)


def test_a_folder_of_wavs(bundle_dir, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    write_wav(src / "a.wav", 2.0)
    (src / "a.TextGrid").write_text(textgrid_text(WORDS[:2], 2.0))
    write_wav(src / "b.wav", 1.3, sr=44100, channels=2)
    (src / "c.wav").write_bytes(b"")
    (src / "notes.md").write_text("not audio")
    rc, out, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", src,
                           "--out", tmp_path / "out", "--bvh")
    assert rc == 1  # one file failed; the others are done
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.bvh", "a.npz", "b.bvh",
                                                                  "b.npz"]
    assert read_motion(tmp_path / "out" / "a.npz")["poses"].shape == (60, 165)
    assert read_motion(tmp_path / "out" / "b.npz")["poses"].shape == (39, 165)
    assert read_bvh(tmp_path / "out" / "b.bvh").n_frames == 39
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert rows["a.wav"].endswith("ok: 2 words (timed)") and rows["b.wav"].endswith("ok: no words")
    assert "error:" in rows["c.wav"] and "empty" in rows["c.wav"]
    assert "2 of 3 generated" in err
    (src / "c.wav").unlink()
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", src, "--out", tmp_path / "o2")
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "o2").iterdir()) == ["a.npz", "b.npz"]


def test_a_folder_with_a_transcript_folder(bundle_dir, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "tx").mkdir()
    write_wav(tmp_path / "in" / "a.wav", 3.0)
    write_transcript(tmp_path / "tx" / "a.json", "genea-json")
    rc, out, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", tmp_path / "in",
                           "--text", tmp_path / "tx", "--out", tmp_path / "out")
    assert rc == 0, err
    assert "ok: 3 words (timed)" in out
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", tmp_path / "in",
                         "--text", tmp_path / "tx" / "a.json", "--out", tmp_path / "o3")
    assert rc == 2 and "--text must be a folder" in err and not (tmp_path / "o3").exists()


def test_video_and_bvh_outputs(bundle_dir, tmp_path, capsys):
    import imageio_ffmpeg

    wav = write_wav(tmp_path / "a.wav", 1.5)
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", wav, "--out",
                         tmp_path / "a.npz", "--bvh", tmp_path / "a.bvh", "--video", tmp_path / "a.mp4")
    assert rc == 0, err
    assert read_bvh(tmp_path / "a.bvh").n_frames == 45
    n_frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "a.mp4"))
    assert n_frames > 0 and seconds == pytest.approx(1.5, abs=0.1)


def test_bvh_and_glb_stand_on_the_floor_while_the_npz_keeps_trans_zero(bundle_dir, tmp_path, capsys):
    """Generated motion has no root translation (BEAT2's trans = 0 in the npz, which would put
    the pelvis at the origin and the feet 0.95 m under the floor); the BVH and GLB stand the
    rest pose on y = 0 and keep the pelvis at that height on every frame."""
    import pygltflib as gl

    from eggesture.data.motion import SMPLX_JOINT_NAMES
    from eggesture.data.skeleton import PELVIS_HEIGHT
    from test_export_gltf import channels, node_positions

    wav = write_wav(tmp_path / "a.wav", 1.0)
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", wav, "--out",
                         tmp_path / "a.npz", "--bvh", tmp_path / "a.bvh", "--glb", tmp_path / "a.glb")
    assert rc == 0, err
    assert not read_motion(tmp_path / "a.npz")["trans"].any()
    b = read_bvh(tmp_path / "a.bvh")
    rest = b.with_motion(b.rest_frame()[None]).forward_kinematics()[0] / 100  # (55, 3) metres
    assert rest[:, 1].min() == pytest.approx(0.0, abs=1e-6)
    assert rest[b.index("left_foot"), 1] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(b.root_positions() / 100, [[0.0, PELVIS_HEIGHT, 0.0]] * 30, atol=1e-6)
    gltf = gl.GLTF2.load(tmp_path / "a.glb")
    rest = node_positions(gltf, None)
    assert rest[SMPLX_JOINT_NAMES.index("right_foot"), 1] == pytest.approx(0.0, abs=1e-6)
    assert rest[0, 1] == pytest.approx(PELVIS_HEIGHT) and (0, "translation") not in channels(gltf)


# --- bad inputs: one line, exit 2, nothing written --------------------------------------------

def _bad_audio(tmp_path, kind):
    if kind == "empty":
        (tmp_path / "x.wav").write_bytes(b"")
    elif kind == "text-as-wav":
        (tmp_path / "x.wav").write_text("this is not audio\n" * 20)
    elif kind == "too-short":
        sf.write(tmp_path / "x.wav", np.zeros(160, np.float32), SR)  # 10 ms
    elif kind == "nan":
        sf.write(tmp_path / "x.wav", np.full(SR, np.nan, np.float32), SR, subtype="FLOAT")
    return tmp_path / "x.wav"


@pytest.mark.parametrize("kind,message", [
    ("empty", "empty"), ("text-as-wav", "not a readable audio file"), ("too-short", "too short"),
    ("nan", "NaN"), ("missing", "not found"),
])
def test_bad_audio_is_one_line_and_leaves_nothing(bundle_dir, tmp_path, capsys, kind, message):
    audio = _bad_audio(tmp_path, kind) if kind != "missing" else tmp_path / "nope.wav"
    out = tmp_path / "out"
    out.mkdir()
    rc, stdout, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", audio,
                              "--out", out / "a.npz", "--bvh", out / "a.bvh")
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and str(audio) in err, err
    assert message in err
    assert list(out.iterdir()) == []


def test_too_short_for_one_frame_at_15_fps(bundle_dir, tmp_path, capsys):
    """25 ms is one frame at 30 fps (round(0.75) = 1) but none at 15 fps (round(0.375) = 0)."""
    sf.write(tmp_path / "x.wav", speech(0.025), SR)
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", tmp_path / "x.wav",
                         "--out", tmp_path / "a.npz", "--fps", 15)
    assert rc == 2 and "too short (25 ms) for one frame at 15 fps" in err
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", tmp_path / "x.wav",
                         "--out", tmp_path / "a.npz")
    assert rc == 0, err
    assert read_motion(tmp_path / "a.npz")["poses"].shape == (1, 165)


def test_a_transcript_longer_than_the_audio_is_refused(bundle_dir, tmp_path, capsys):
    wav = write_wav(tmp_path / "a.wav", 3.0)
    tg = tmp_path / "long.TextGrid"
    tg.write_text(textgrid_text([(1.0, 1.5, "hello"), (40.0, 40.5, "world")], 41.0))
    out = tmp_path / "out"
    out.mkdir()
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", wav, "--text", tg,
                         "--out", out / "a.npz")
    assert rc == 2 and err.count("\n") == 1
    assert err.startswith(f"error: {tg}: transcript runs to 40.50 s but the audio lasts 3.00 s")
    assert list(out.iterdir()) == []
    with pytest.raises(DataError, match="transcript runs to"):
        generate(bundle_dir, speech(3.0), [Word(40.0, 40.5, "world")])


def test_bad_checkpoints_are_one_line_and_leave_nothing(bundle_dir, tmp_path, capsys):
    wav = write_wav(tmp_path / "a.wav", 1.0)
    out = tmp_path / "out"
    out.mkdir()
    tampered = shutil.copytree(bundle_dir, tmp_path / "tampered")
    blob = (tampered / "model.safetensors").read_bytes()
    (tampered / "model.safetensors").write_bytes(blob[: len(blob) // 2])
    for ckpt, message in ((tmp_path / "missing", "does not exist"),
                          (tampered, "corrupt or truncated weights")):
        rc, _, err = run_cli(capsys, "--checkpoint", ckpt, "--audio", wav, "--out", out / "a.npz")
        assert rc == 2 and err.count("\n") == 1 and err.startswith(f"error: {ckpt}"), err
        assert message in err
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("args,message", [
    (["--out", "{out}/a.mp4"], "--out must end in .npz"),
    (["--out", "{out}/a.npz", "--video", "{out}/a.gif"], "--video needs a file name ending in .mp4"),
    (["--out", "{out}/a.npz", "--bvh", "{out}/a.txt"], "--bvh needs a file name ending in .bvh"),
    (["--out", "{out}/a.npz", "--fps", "0"], "--fps must be a whole number from 1 to 240"),
])
def test_bad_output_names(bundle_dir, tmp_path, capsys, args, message):
    wav = write_wav(tmp_path / "a.wav", 1.0)
    out = tmp_path / "out"
    out.mkdir()
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", wav,
                         *[a.format(out=out) for a in args])
    assert rc == 2 and message in err and list(out.iterdir()) == []


def test_a_bare_output_flag_writes_beside_out(bundle_dir, tmp_path, capsys):
    """`--bvh` / `--glb` without a file name (they show as optional-valued in --help) write
    beside --out with its name, in single-file mode as in folder mode."""
    wav = write_wav(tmp_path / "a.wav", 1.0)
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", wav,
                         "--out", tmp_path / "o" / "speech.npz", "--bvh", "--glb")
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "speech.bvh", "speech.glb", "speech.npz"]


def test_a_failing_video_leaves_no_npz_or_bvh(bundle_dir, tmp_path, capsys, monkeypatch):
    import eggesture.export.render as render

    def broken(*args, **kwargs):
        raise DataError(args[0], "simulated encoder failure")

    monkeypatch.setattr(render, "render_video", broken)
    wav = write_wav(tmp_path / "a.wav", 1.0)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.bvh").write_text("an older file\n")
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", wav, "--out", out / "a.npz",
                         "--bvh", out / "a.bvh", "--video", out / "a.mp4")
    assert rc == 2 and "simulated encoder failure" in err
    assert sorted(p.name for p in out.iterdir()) == ["a.bvh"]
    assert (out / "a.bvh").read_text() == "an older file\n"  # untouched, not half-replaced


# --- the real BEAT2 sample (skipped when absent) ------------------------------------------------

def test_the_real_sample_with_its_textgrid(beat2_sample, bundle_dir, tmp_path, capsys):
    from eggesture.data.wav import audio_duration

    wav = beat2_sample / "wave16k" / "2_scott_0_1_1.wav"
    tg = beat2_sample / "textgrid" / "2_scott_0_1_1.TextGrid"
    rc, _, err = run_cli(capsys, "--checkpoint", bundle_dir, "--audio", wav, "--text", tg,
                         "--out", tmp_path / "s.npz")
    assert rc == 0, err
    poses = read_motion(tmp_path / "s.npz")["poses"]
    assert poses.shape == (n_frames_for(audio_duration(wav), 30), 165)
    assert np.isfinite(poses).all()


def test_words_the_model_never_saw_give_the_motion_of_no_transcript(bundle, tmp_path):
    # Unknown words are padding ("no text"), as word dropout trained the model to read them:
    # a transcript of unknown words must not move the model away from its audio-only motion.
    wave = speech(4.0)
    unknown = [Word(0.2 + 0.5 * i, 0.6 + 0.5 * i, f"zzunknown{i}") for i in range(7)]
    assert not any(w.text in bundle.vocab for w in unknown)
    none = generate(bundle, wave, None, sr=SR)
    with_unknown = generate(bundle, wave, unknown, sr=SR)
    np.testing.assert_array_equal(with_unknown.indices, none.indices)
    np.testing.assert_array_equal(with_unknown.rotvec, none.rotvec)
    assert bundle.word_ids(["", "zzunknown", bundle.vocab[2]]) == [0, 0, 2]

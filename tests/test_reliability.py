"""Reliability matrix (issue 11): bad input through every reader and command.

Each case gives either *correct handling* (checked against a known answer: a length, a
reference output, the words a transcript holds) or *one clear error*: a
:class:`~eggesture.errors.EggestureError` naming the file and the problem, and on the command
line exit code 2, exactly one ``error: FILE: problem`` line on stderr, and no new or partial
file in the output folder (nor in the window cache). ``eggesture data stats`` lists problems
instead of stopping, with exit code 1.

Sections: audio files · motion npz · TextGrids · JSON / plain-text transcripts · BVH (Trinity) ·
dataset folders with missing pieces · configs · inference bundles (tampered, truncated,
mismatched, pickled) · atomic writes (concurrent ``generate``, a writer killed mid-file, an
interrupted cache build). Killing a training process is in test_kill_resume.py; property-based
tests of the readers are in test_properties.py. The commands run in-process through
:func:`eggesture.cli.main`, except where a second process is the point.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from beat2_folder import textgrid_text, write_folder
from eggesture.cli import main
from eggesture.data import beat2, trinity
from eggesture.data import windows as W
from eggesture.data.transcript import Word, read_textgrid, read_transcript
from eggesture.data.wav import load_audio
from eggesture.errors import CheckpointError, DataError
from eggesture.export.npz import n_frames_for
from test_bvh import ZXY, genea_skeleton, write_genea_bvh
from test_trinity import write_genea_folder

SR = 16000
SEQ = "1_x_0_1_1"  # the BEAT2 sequence whose files the cases replace
REPO_SRC = str(Path(__file__).resolve().parents[1] / "src")


# --- helpers ------------------------------------------------------------------------------------

def cli(capsys, *args) -> tuple[int, str, str]:
    rc = main([str(a) for a in args])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def assert_refused(rc: int, err: str, file, message: str) -> None:
    """Exit 2 and exactly one line ``error: <file>...<message>`` on stderr."""
    assert rc == 2, (rc, err)
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert str(file) in err and message in err, err


def tree(*folders: Path) -> list[str]:
    """Every path under ``folders`` (hidden temporaries included), relative, sorted."""
    return sorted(str(p.relative_to(f)) for f in folders if f.exists() for p in f.rglob("*"))


def cache() -> Path:
    return W.cache_root()


def beat2_root(tmp_path: Path, seconds: float = 3.0) -> Path:
    """A BEAT2 folder with one training sequence, SEQ."""
    return write_folder(tmp_path / "beat2", {SEQ: "train"}, seconds=seconds)


def train_args(root: Path, run: Path, *extra) -> list:
    return ["train", "--config", "tiny", f"data.root={root}", f"train.out={run}",
            "train.progress=false", *extra]


def assert_train_refused(capsys, root: Path, tmp_path: Path, file, message: str) -> None:
    """``eggesture train`` on ``root`` stops with one line naming ``file``; it leaves no
    checkpoint, no bundle, no temporary file and nothing in the window cache."""
    run = tmp_path / "run"
    before = tree(cache())
    rc, _, err = cli(capsys, *train_args(root, run))
    assert_refused(rc, err, file, message)
    assert not (run / "checkpoints").exists() and not (run / "bundle").exists()
    assert [p for p in tree(run) if p.startswith(".") or "/." in p] == []
    assert tree(cache()) == before


def stats_problems(capsys, root: Path) -> tuple[int, list[dict]]:
    rc = main(["data", "stats", str(root), "--json"])
    return rc, json.loads(capsys.readouterr().out)["problems"]


def assert_stats_lists(capsys, root: Path, file, message: str) -> None:
    rc, problems = stats_problems(capsys, root)
    assert rc == 1
    assert any(p["file"] == str(file) and message in p["problem"] for p in problems), problems


def tone(seconds: float, sr: int, channels: int = 1) -> np.ndarray:
    """A 220 Hz tone ``(N, C)``, channel c at (1 − 0.3c) of the amplitude."""
    t = np.arange(int(round(seconds * sr))) / sr
    wave = 0.3 * np.sin(2 * np.pi * 220 * t)
    return np.stack([wave * (1 - 0.3 * c) for c in range(channels)], 1).astype(np.float32)


def wav_bytes(wave: np.ndarray, sr: int, subtype: str = "PCM_16", fmt: str = "WAV") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, wave, sr, subtype=subtype, format=fmt)
    return buf.getvalue()


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny networks on a shared 2-core machine: one torch thread is ~20× faster than two
    threads fighting other processes (measured: 0.06 s vs 1.4 s per generate)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# --- a trained tiny bundle for the generate cases ---------------------------------------------

@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    """A ``tiny`` bundle trained on 3 × 8 s (seconds of CPU)."""
    from eggesture.config import load_config
    from eggesture.training.train import train

    tmp = tmp_path_factory.mktemp("rel")
    root = write_folder(tmp / "beat2", {"1_x_0_1_1": "train", "1_x_0_2_2": "train",
                                        "1_x_0_3_3": "val"}, seconds=8)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGGESTURE_CACHE", str(tmp / "cache"))
        train(load_config("tiny", [f"data.root={root}", f"train.out={tmp / 'run'}",
                                   "train.progress=false"]))
    return tmp / "run" / "bundle"


def generate_cli(capsys, bundle_dir, audio, out_dir: Path, *extra) -> tuple[int, str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    rc, _, err = cli(capsys, "generate", "--checkpoint", bundle_dir, "--audio", audio,
                     "--out", out_dir / "a.npz", *extra)
    return rc, err, out_dir / "a.npz"


# === 1. audio files ===========================================================================

def _huge_header(data: bytes) -> bytes:
    """RIFF and data chunk sizes claiming ~4 GB in front of a few real samples."""
    b = bytearray(data)
    struct.pack_into("<I", b, 4, 0xFFFFFFF0)
    struct.pack_into("<I", b, 40, 0xFFFFFF00)
    return bytes(b)


def _rate(data: bytes, rate: int) -> bytes:
    b = bytearray(data)
    struct.pack_into("<I", b, 24, rate)
    struct.pack_into("<I", b, 28, rate * 2)
    return bytes(b)


def _flac_claiming_2_36_frames() -> bytes:
    b = bytearray(wav_bytes(tone(1, SR), SR, "PCM_16", "FLAC"))
    x = int.from_bytes(b[18:26], "big")  # STREAMINFO: rate 20 | channels 3 | bits 5 | frames 36
    b[18:26] = (x | ((1 << 36) - 1)).to_bytes(8, "big")
    return bytes(b)


def _nonfinite(value: float) -> bytes:
    wave = tone(1, SR)
    wave[100:200] = value
    return wav_bytes(wave, SR, "FLOAT")


PCM16_2S = wav_bytes(tone(2, SR), SR)


def _header_only() -> bytes:
    """A complete 44-byte header announcing no samples, and nothing after it."""
    b = bytearray(PCM16_2S[:44])
    struct.pack_into("<I", b, 4, 36)
    struct.pack_into("<I", b, 40, 0)
    return bytes(b)


#: name → (file bytes, expected): ("ok", samples at 16 kHz, reference tone seconds or None
#: for silence) or ("error", message).
AUDIO = {
    "8kHz": (wav_bytes(tone(2, 8000), 8000), ("ok", 32000, 2)),
    "48kHz": (wav_bytes(tone(2, 48000), 48000), ("ok", 32000, 2)),
    "44.1kHz-stereo": (wav_bytes(tone(2, 44100, 2), 44100), ("ok", 32000, 2)),
    "24-bit": (wav_bytes(tone(2, SR), SR, "PCM_24"), ("ok", 32000, 2)),
    "float32-22kHz": (wav_bytes(tone(2, 22050), 22050, "FLOAT"), ("ok", 32000, 2)),
    "float64": (wav_bytes(tone(2, SR), SR, "DOUBLE"), ("ok", 32000, 2)),
    "8-bit": (wav_bytes(tone(2, SR), SR, "PCM_U8"), ("ok", 32000, 2)),
    "6-channels": (wav_bytes(tone(2, SR, 6), SR), ("ok", 32000, 2)),
    "silence": (wav_bytes(np.zeros((2 * SR, 1), np.float32), SR), ("ok", 32000, None)),
    # A valid wav cut inside a sample: the whole samples before the cut are read.
    "truncated": (PCM16_2S[: 44 + 2 * 16001 + 1], ("ok", 16001, 16001 / SR)),
    # The header claims 4 GB; libsndfile bounds it by the file size: the real second is read.
    "huge-header": (_huge_header(wav_bytes(tone(1, SR), SR)), ("ok", 16000, 1)),
    "empty": (b"", ("error", "audio file is empty (0 bytes)")),
    "header-only": (_header_only(), ("error", "audio file holds no samples")),
    "cut-in-header": (PCM16_2S[:20], ("error", "not a readable audio file")),
    "text": (b"this is not audio\n" * 20, ("error", "not a readable audio file")),
    "png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, ("error", "not a readable audio file")),
    # A 2 s file whose header says 1 Hz would resample into 512M samples (4 GB).
    "header-rate-1Hz": (_rate(PCM16_2S, 1), ("error", "header states a sample rate of 1 Hz")),
    "header-rate-2GHz": (_rate(PCM16_2S, 2**31 - 1),
                         ("error", "header states a sample rate of 2147483647 Hz")),
    "flac-claiming-2^36-frames": (_flac_claiming_2_36_frames(), ("error", "")),
    "NaN-samples": (_nonfinite(np.nan), ("error", "audio holds NaN or infinite samples")),
    "Inf-samples": (_nonfinite(np.inf), ("error", "audio holds NaN or infinite samples")),
}
AUDIO_ERRORS = [k for k, (_, e) in AUDIO.items() if e[0] == "error"]
#: What `data stats` can see without decoding (it reads headers only, by design: speed).
AUDIO_HEADER_ERRORS = [k for k in AUDIO_ERRORS if "samples" not in k and "flac" not in k]


def _write_audio(path: Path, kind: str) -> Path:
    path.write_bytes(AUDIO[kind][0])
    return path


@pytest.mark.parametrize("kind", list(AUDIO))
def test_audio_reader(tmp_path, kind):
    path = _write_audio(tmp_path / ("a.flac" if "flac" in kind else "a.wav"), kind)
    expected = AUDIO[kind][1]
    if expected[0] == "error":
        with pytest.raises(DataError) as e:
            load_audio(path)
        assert e.value.file == str(path) and expected[1] in e.value.problem
        assert "\n" not in str(e.value)
        return
    wave = load_audio(path)
    assert wave.dtype == np.float32 and wave.ndim == 1 and np.isfinite(wave).all()
    assert abs(wave.size - expected[1]) <= 1
    if expected[2] is None:
        assert not wave.any()
    else:  # the tone (first channel's share of the mean) survives every format and rate
        ref = tone(expected[2], SR)[:, 0][: wave.size]
        corr = np.corrcoef(wave[200:-200], ref[200:wave.size - 200])[0, 1]
        assert corr > 0.99, corr


@pytest.mark.parametrize("kind", list(AUDIO))
def test_audio_generate(bundle_dir, tmp_path, capsys, kind):
    path = _write_audio(tmp_path / ("a.flac" if "flac" in kind else "a.wav"), kind)
    expected = AUDIO[kind][1]
    rc, err, out = generate_cli(capsys, bundle_dir, path, tmp_path / "out")
    if expected[0] == "error":
        assert_refused(rc, err, path, expected[1])
        assert tree(tmp_path / "out") == []
    else:
        assert rc == 0, err
        poses = beat2.read_motion(out)["poses"]
        assert poses.shape == (n_frames_for(expected[1] / SR, 30), 165)
        assert tree(tmp_path / "out") == ["a.npz"]


@pytest.mark.parametrize("kind", AUDIO_ERRORS)
def test_audio_train(tmp_path, capsys, kind):
    root = beat2_root(tmp_path)
    wav = _write_audio(beat2.wave_path(root, SEQ), kind)
    assert_train_refused(capsys, root, tmp_path, wav, AUDIO[kind][1][1])


@pytest.mark.parametrize("kind", AUDIO_HEADER_ERRORS)
def test_audio_stats(tmp_path, capsys, kind):
    root = beat2_root(tmp_path)
    wav = _write_audio(beat2.wave_path(root, SEQ), kind)
    assert_stats_lists(capsys, root, wav, AUDIO[kind][1][1])


# === 2. motion npz (BEAT2) ======================================================================

class _Payload:
    """Unpickling this would create the marker file: it must never happen."""

    marker = ""

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _npz(change) -> bytes:
    """A 3 s BEAT2 npz (90 frames) after ``change(dict)``; returns its bytes."""
    n = 90
    d = {"poses": np.zeros((n, 165), np.float32), "trans": np.zeros((n, 3)),
         "betas": np.zeros(300, np.float32), "expressions": np.zeros((n, 100)),
         "mocap_frame_rate": np.int32(30)}
    change(d)
    buf = io.BytesIO()
    np.savez(buf, **d)
    return buf.getvalue()


def _set(key, value):
    return lambda d: d.__setitem__(key, value)


def _poke(key, index, value, dtype=None):
    def change(d):
        d[key] = d[key].astype(dtype or d[key].dtype)
        d[key][index] = value
    return change


def _pickled(d):
    d["poses"] = np.array([_Payload()], dtype=object)


#: name → (change to the npz dict, or raw bytes, message); ``None`` message = loads fine.
MOTION = {
    "NaN": (_poke("poses", (40, 7), np.nan), "'poses' holds NaN or infinite values (first at frame 40)"),
    "Inf": (_poke("poses", (12, 0), -np.inf), "'poses' holds NaN or infinite values (first at frame 12)"),
    "overflows-float32": (_poke("poses", (5, 3), 1e39, np.float64),
                          "'poses' holds NaN or infinite values (first at frame 5)"),
    "width-156": (lambda d: d.__setitem__("poses", d["poses"][:, :156]),
                  "'poses' has shape (90, 156), expected (T, 165)"),
    "poses-(T,55,3)": (lambda d: d.__setitem__("poses", d["poses"].reshape(90, 55, 3)),
                       "'poses' has shape (90, 55, 3), expected (T, 165)"),
    "no-frames": (lambda d: d.update(poses=np.zeros((0, 165)), trans=np.zeros((0, 3)),
                                     expressions=np.zeros((0, 100))), "'poses' has no frames"),
    "no-poses": (lambda d: d.pop("poses"), "npz has no 'poses' array"),
    "text-poses": (_set("poses", np.full((90, 165), "x")), "'poses' is not an array of real numbers"),
    "complex-poses": (_set("poses", np.zeros((90, 165), complex)),
                      "'poses' is not an array of real numbers (dtype complex128)"),
    "pickled-object-array": (_pickled, "not a readable npz file"),
    "not-a-zip": (b"poses = 1, 2, 3\n", "not a readable npz file"),
    "truncated-zip": ("truncate", "not a readable npz file"),
    "fps-60": (_set("mocap_frame_rate", np.int32(60)), "mocap_frame_rate is 60, BEAT2 motion is 30 fps"),
    "fps-text": (_set("mocap_frame_rate", np.array("thirty")),
                 "'mocap_frame_rate' is not an array of real numbers"),
    "trans-frames": (lambda d: d.__setitem__("trans", d["trans"][:-1]),
                     "'trans' has shape (89, 3), expected (90, 3)"),
    "trans-NaN": (_poke("trans", (3, 1), np.nan), "'trans' holds NaN or infinite values"),
    "expressions-Inf": (_poke("expressions", (3, 1), np.inf),
                        "'expressions' holds NaN or infinite values"),
    "int-poses": (_set("poses", np.zeros((90, 165), np.int64)), None),
}


def _write_motion(tmp_path: Path, path: Path, kind: str) -> Path:
    change = MOTION[kind][0]
    _Payload.marker = str(tmp_path / "PAYLOAD-RAN")
    if isinstance(change, bytes):
        data = change
    elif change == "truncate":
        data = _npz(lambda d: None)
        data = data[: len(data) // 2]
    else:
        data = _npz(change)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind", list(MOTION))
def test_motion_reader(tmp_path, kind):
    path = _write_motion(tmp_path, tmp_path / "m.npz", kind)
    message = MOTION[kind][1]
    if message is None:
        assert beat2.read_motion(path)["poses"].shape == (90, 165)
        return
    with pytest.raises(DataError) as e:
        beat2.read_motion(path)
    assert e.value.file == str(path) and message in e.value.problem and "\n" not in str(e.value)
    assert not (tmp_path / "PAYLOAD-RAN").exists()


@pytest.mark.parametrize("kind", [k for k, (_, m) in MOTION.items() if m])
def test_motion_stats_and_train(tmp_path, capsys, kind):
    root = beat2_root(tmp_path)
    npz = _write_motion(tmp_path, beat2.motion_path(root, SEQ), kind)
    message = MOTION[kind][1]
    assert_stats_lists(capsys, root, npz, message)
    assert_train_refused(capsys, root, tmp_path, npz, message)
    assert not (tmp_path / "PAYLOAD-RAN").exists()


# === 3. TextGrids =============================================================================

WORDS = [(0.1, 0.4, "hello"), (0.6, 0.9, "world"), (1.6, 2.2, "big")]
CAFE = [(0.1, 0.4, "café"), (0.6, 0.9, "world")]


def long_tg(tiers: list[tuple[str, str, list]], xmax: float = 3.0) -> str:
    """A long-format TextGrid; entries written in the order given (no gap filling)."""
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0",
             f"xmax = {xmax}", "tiers? <exists>", f"size = {len(tiers)}", "item []:"]
    for k, (cls, name, entries) in enumerate(tiers, start=1):
        kind = "intervals" if cls == "IntervalTier" else "points"
        lines += [f"    item [{k}]:", f'        class = "{cls}"', f'        name = "{name}"',
                  "        xmin = 0", f"        xmax = {xmax}", f"        {kind}: size = {len(entries)}"]
        for i, e in enumerate(entries, start=1):
            if cls == "IntervalTier":
                lines += [f"        intervals [{i}]:", f"            xmin = {e[0]}",
                          f"            xmax = {e[1]}", f'            text = "{e[2]}"']
            else:
                lines += [f"        points [{i}]:", f"            number = {e[0]}",
                          f'            mark = "{e[1]}"']
    return "\n".join(lines) + "\n"


def short_tg(words, xmax: float = 3.0) -> str:
    """Praat's short text format: values only, one per line."""
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "0", str(xmax),
             "<exists>", "1", '"IntervalTier"', '"words"', "0", str(xmax), str(len(words))]
    for a, b, w in words:
        lines += [str(a), str(b), f'"{w}"']
    return "\n".join(lines) + "\n"


def _words_tier(words):
    return [("IntervalTier", "words", list(words))]


GOOD_TG = long_tg(_words_tier(WORDS))

#: name → (file bytes, expected words or an error message).
TEXTGRIDS = {
    "unsorted": (long_tg(_words_tier(WORDS[::-1])).encode(), WORDS),
    "word-tier-second": (long_tg([("IntervalTier", "phones", [(0.1, 0.2, "HH"), (0.2, 0.4, "AH")]),
                                  *_words_tier(WORDS)]).encode(), WORDS),
    "short-format": (short_tg(WORDS).encode(), WORDS),
    "UTF-16-with-BOM": (GOOD_TG.encode("utf-16"), WORDS),
    "UTF-16-BE-without-BOM": (GOOD_TG.encode("utf-16-be"), WORDS),
    "UTF-8-with-BOM": (b"\xef\xbb\xbf" + GOOD_TG.encode(), WORDS),
    "Latin-1": (long_tg(_words_tier(CAFE)).encode("latin-1"), CAFE),
    "CRLF": (GOOD_TG.replace("\n", "\r\n").encode(), WORDS),
    "overlapping": (long_tg(_words_tier([WORDS[0], (0.3, 0.9, "world")])).encode(),
                    "words overlap in time: 'hello' (0.1–0.4 s) and 'world' (0.3–0.9 s)"),
    "no-word-tier": (long_tg([("TextTier", "words", [(0.5, "x")])]).encode(),
                     "TextGrid has no word tier"),
    "no-tiers": (GOOD_TG.split("tiers?")[0].encode() + b"tiers? <absent>\n",
                 "TextGrid has no word tier"),
    "empty": (b"", "TextGrid file is empty"),
    "truncated": (GOOD_TG[: len(GOOD_TG) // 2].encode(), "invalid or truncated TextGrid"),
    "binary-junk": (bytes(range(256)) * 4, "not a TextGrid"),
    "plain-text": (b"hello world big\n", "not a TextGrid"),
    "Praat-binary": (b'ooBinaryFile\x08TextGrid' + bytes(64), "binary TextGrid"),
    "NaN-time": (GOOD_TG.replace("xmin = 0.6", "xmin = nan").encode(),
                 "xmin = nan is not a time in seconds"),
    "negative-time": (GOOD_TG.replace("xmin = 0.1", "xmin = -0.1").encode(),
                      "xmin = -0.1 is not a time in seconds"),
    "inverted-interval": (long_tg(_words_tier([(0.6, 0.5, "world")])).encode(),
                          "word 'world' has a bad time span 0.6–0.5 s"),
}
TG_OK = [k for k, (_, e) in TEXTGRIDS.items() if not isinstance(e, str)]
TG_ERRORS = [k for k in TEXTGRIDS if k not in TG_OK]


@pytest.mark.parametrize("kind", list(TEXTGRIDS))
def test_textgrid_reader(tmp_path, kind):
    data, expected = TEXTGRIDS[kind]
    path = tmp_path / "t.TextGrid"
    path.write_bytes(data)
    if isinstance(expected, str):
        with pytest.raises(DataError) as e:
            read_textgrid(path)
        assert e.value.file == str(path) and expected in e.value.problem, e.value
        assert "\n" not in str(e.value)
    else:
        assert read_textgrid(path) == [Word(a, b, w) for a, b, w in expected]


_REFERENCE: dict = {}


def reference_npz(bundle_dir, tmp_path_factory, capsys, text: str | None, suffix: str):
    """Arrays generated for the 3 s test speech with a clean UTF-8 transcript ``text``."""
    key = (text, suffix)
    if key not in _REFERENCE:
        folder = tmp_path_factory.mktemp("ref")
        wav = folder / "a.wav"
        wav.write_bytes(wav_bytes(tone(3, SR), SR))
        extra = []
        if text is not None:
            (folder / f"t{suffix}").write_text(text, encoding="utf-8")
            extra = ["--text", folder / f"t{suffix}"]
        rc, err, out = generate_cli(capsys, bundle_dir, wav, folder / "out", *extra)
        assert rc == 0, err
        _REFERENCE[key] = dict(np.load(out))
    return _REFERENCE[key]


def assert_same_npz(path: Path, reference: dict) -> None:
    got = dict(np.load(path))
    assert got.keys() == reference.keys()
    for k in got:
        np.testing.assert_array_equal(got[k], reference[k], err_msg=k)


@pytest.mark.parametrize("kind", list(TEXTGRIDS))
def test_textgrid_generate(bundle_dir, tmp_path, tmp_path_factory, capsys, kind):
    data, expected = TEXTGRIDS[kind]
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(tone(3, SR), SR))
    tg = tmp_path / "t.TextGrid"
    tg.write_bytes(data)
    rc, err, out = generate_cli(capsys, bundle_dir, wav, tmp_path / "out", "--text", tg)
    if isinstance(expected, str):
        assert_refused(rc, err, tg, expected)
        assert tree(tmp_path / "out") == []
    else:  # the same output as the same words in a plain UTF-8 long-format TextGrid
        assert rc == 0, err
        ref = reference_npz(bundle_dir, tmp_path_factory, capsys,
                            long_tg(_words_tier(expected)), ".TextGrid")
        assert_same_npz(out, ref)


@pytest.mark.parametrize("kind", list(TEXTGRIDS))
def test_textgrid_stats_and_train(tmp_path, capsys, kind):
    data, expected = TEXTGRIDS[kind]
    root = beat2_root(tmp_path)
    tg = beat2.textgrid_path(root, SEQ)
    tg.write_bytes(data)
    if isinstance(expected, str):
        assert_stats_lists(capsys, root, tg, expected)
        assert_train_refused(capsys, root, tmp_path, tg, expected)
    else:
        assert stats_problems(capsys, root) == (0, [])


def test_textgrid_longer_than_the_audio(bundle_dir, tmp_path, capsys):
    """Readable, but the words of another (longer) recording: refused by every command."""
    words = [(1.0, 1.5, "hello"), (40.0, 40.5, "world")]
    root = beat2_root(tmp_path)
    tg = beat2.textgrid_path(root, SEQ)
    tg.write_text(textgrid_text(words, 41.0))
    assert [w.text for w in read_textgrid(tg)] == ["hello", "world"]
    message = "words run to 40.50 s, past the end of the audio (3.00 s)"
    assert_stats_lists(capsys, root, tg, message)
    assert_train_refused(capsys, root, tmp_path, tg, message)
    rc, err, _ = generate_cli(capsys, bundle_dir, beat2.wave_path(root, SEQ), tmp_path / "out",
                              "--text", tg)
    assert_refused(rc, err, tg, "transcript runs to 40.50 s but the audio lasts 3.00 s")
    assert tree(tmp_path / "out") == []


# === 4. JSON and plain-text transcripts ========================================================

def _flat(words, key="start"):
    return json.dumps([{"word": w, key: a, key.replace("start", "end"): b} for a, b, w in words])


def _genea(words):
    return json.dumps([{"alternatives": [{"words": [
        {"start_time": f"{a:.3f}s", "end_time": f"{b:.3f}s", "word": w} for a, b, w in words]}]}])


#: name → (suffix, file bytes, expected words, "plain:<text>" for untimed words, or an error).
TRANSCRIPTS = {
    "json-unsorted": (".json", _flat(WORDS[::-1]).encode(), WORDS),
    "json-UTF-16": (".json", _genea(WORDS).encode("utf-16"), WORDS),
    "txt-UTF-16": (".txt", "Hello world, big!".encode("utf-16"), "plain:Hello world, big!"),
    "txt-empty": (".txt", b"", "plain:"),
    "json-invalid": (".json", b'[{"word": "hello", "start": 0.1,', "not valid JSON"),
    "json-empty-file": (".json", b"", "not valid JSON"),
    "json-nested-100000-deep": (".json", b"[" * 100000 + b"]" * 100000,
                                "JSON nested too deeply to be a transcript"),
    "json-no-words": (".json", b'{"results": []}', "no words with start/end times found"),
    "json-NaN-time": (".json", b'[{"word": "a", "start": NaN, "end": 0.2}]',
                      "word 'a' has a bad time span nan–0.2 s"),
    "json-boolean-time": (".json", b'[{"word": "a", "start": true, "end": 2}]',
                          "bad time value True"),
    "json-word-not-text": (".json", b'[{"word": null, "start": 0.1, "end": 0.2}]',
                           "word None at 0.1 s is not text"),
    "json-missing-end": (".json", b'[{"word": "a", "start_time": "0.1s"}]', "bad time value None"),
    "json-overlapping": (".json", _flat([(0.1, 0.5, "a"), (0.4, 0.9, "b")]).encode(),
                         "words overlap in time"),
    "txt-binary": (".txt", bytes(range(256)) * 4, "transcript is not UTF-8 or UTF-16 text"),
}


def _is_error(expected) -> bool:
    return isinstance(expected, str) and not expected.startswith("plain:")


@pytest.mark.parametrize("kind", list(TRANSCRIPTS))
def test_transcript_reader(tmp_path, kind):
    suffix, data, expected = TRANSCRIPTS[kind]
    path = tmp_path / f"t{suffix}"
    path.write_bytes(data)
    wave = tone(3, SR)[:, 0]
    if _is_error(expected):
        with pytest.raises(DataError) as e:
            read_transcript(path, wave)
        assert e.value.file == str(path) and expected in e.value.problem, e.value
    elif isinstance(expected, str):  # untimed words, in order, inside the audio
        words = read_transcript(path, wave)
        assert [w.text for w in words] == [t.strip(",!").lower() for t in expected[6:].split()]
        assert all(0 <= w.start <= w.end <= 3.0 for w in words)
    else:
        assert read_transcript(path, wave) == [Word(a, b, w) for a, b, w in expected]


@pytest.mark.parametrize("kind", list(TRANSCRIPTS))
def test_transcript_generate(bundle_dir, tmp_path, tmp_path_factory, capsys, kind):
    suffix, data, expected = TRANSCRIPTS[kind]
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(tone(3, SR), SR))
    path = tmp_path / f"t{suffix}"
    path.write_bytes(data)
    rc, err, out = generate_cli(capsys, bundle_dir, wav, tmp_path / "out", "--text", path)
    if _is_error(expected):
        assert_refused(rc, err, path, expected)
        assert tree(tmp_path / "out") == []
        return
    assert rc == 0, err
    if isinstance(expected, str):  # the same text as UTF-8 gives the same output
        ref = reference_npz(bundle_dir, tmp_path_factory, capsys, expected[6:], ".txt")
    else:
        ref = reference_npz(bundle_dir, tmp_path_factory, capsys, _flat(expected), ".json")
    assert_same_npz(out, ref)


def test_json_transcript_longer_than_the_audio(bundle_dir, tmp_path, capsys):
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(tone(3, SR), SR))
    path = tmp_path / "t.json"
    path.write_text(_genea([(1.0, 1.5, "hello"), (40.0, 40.5, "world")]))
    rc, err, _ = generate_cli(capsys, bundle_dir, wav, tmp_path / "out", "--text", path)
    assert_refused(rc, err, path, "transcript runs to 40.50 s but the audio lasts 3.00 s")
    assert tree(tmp_path / "out") == []


@pytest.mark.parametrize("kind", [k for k, (s, _, e) in TRANSCRIPTS.items()
                                  if s == ".json" and _is_error(e)])
def test_transcript_trinity_stats(tmp_path, capsys, kind):
    """The Trinity reader's transcripts: a bad one is listed under problems, naming it."""
    _, data, expected = TRANSCRIPTS[kind]
    root = write_genea_folder(tmp_path / "genea", recordings=(6, 7))
    path = root / "Transcripts" / "Recording_006.json"
    path.write_bytes(data)
    assert_stats_lists(capsys, root, path, expected)

"""Reliability matrix (issue 11): bad input through every reader and command.

Each case gives either *correct handling* (checked against a known answer: a length, a
reference output, the words a transcript holds) or *one clear error*: a
:class:`~eggesture.errors.EggestureError` naming the file and the problem, and on the command
line exit code 2, exactly one ``error: FILE: problem`` line on stderr, and no new or partial
file in the output folder (nor in the window cache). ``eggesture data stats`` lists problems
instead of stopping, with exit code 1.

Sections: audio files · motion npz · TextGrids · JSON / plain-text transcripts · BVH
(Trinity) · dataset folders with missing pieces · configs · inference bundles (tampered,
truncated, mismatched, pickled) · atomic writes (concurrent ``generate``, a writer killed
mid-file, an interrupted cache build). Killing a training process is in test_kill_resume.py;
property-based tests of the readers are in test_properties.py. The commands run in-process through
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
from eggesture.data.poses import n_frames_for
from eggesture.data.transcript import Word, read_textgrid, read_transcript
from eggesture.data.wav import load_audio
from eggesture.errors import DataError
from speech import say
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
def bundle_dir(tiny_bundle_dir):
    """A ``tiny`` bundle trained on 3 × 8 s (seconds of CPU: conftest)."""
    return tiny_bundle_dir


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
    "NaN": (_poke("poses", (40, 7), np.nan),
            "'poses' holds NaN or infinite values (first at frame 40)"),
    "Inf": (_poke("poses", (12, 0), -np.inf),
            "'poses' holds NaN or infinite values (first at frame 12)"),
    "overflows-float32": (_poke("poses", (5, 3), 1e39, np.float64),
                          "'poses' holds NaN or infinite values (first at frame 5)"),
    "width-156": (lambda d: d.__setitem__("poses", d["poses"][:, :156]),
                  "'poses' has shape (90, 156), expected (T, 165)"),
    "poses-(T,55,3)": (lambda d: d.__setitem__("poses", d["poses"].reshape(90, 55, 3)),
                       "'poses' has shape (90, 55, 3), expected (T, 165)"),
    "no-frames": (lambda d: d.update(poses=np.zeros((0, 165)), trans=np.zeros((0, 3)),
                                     expressions=np.zeros((0, 100))), "'poses' has no frames"),
    "no-poses": (lambda d: d.pop("poses"), "npz has no 'poses' array"),
    "text-poses": (_set("poses", np.full((90, 165), "x")),
                   "'poses' is not an array of real numbers"),
    "complex-poses": (_set("poses", np.zeros((90, 165), complex)),
                      "'poses' is not an array of real numbers (dtype complex128)"),
    "pickled-object-array": (_pickled, "not a readable npz file"),
    "not-a-zip": (b"poses = 1, 2, 3\n", "not a readable npz file"),
    "truncated-zip": ("truncate", "not a readable npz file"),
    "fps-60": (_set("mocap_frame_rate", np.int32(60)),
               "mocap_frame_rate is 60, BEAT2 motion is 30 fps"),
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
                  "        xmin = 0", f"        xmax = {xmax}",
                  f"        {kind}: size = {len(entries)}"]
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


def reference_npz(bundle_dir, tmp_path_factory, capsys, text: str | None, suffix: str,
                  audio: np.ndarray | None = None):
    """Arrays generated for ``audio`` (the 3 s test tone by default) with a clean UTF-8
    transcript ``text``."""
    key = (text, suffix)
    if key not in _REFERENCE:
        folder = tmp_path_factory.mktemp("ref")
        wav = folder / "a.wav"
        wav.write_bytes(wav_bytes(tone(3, SR) if audio is None else audio, SR))
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
#: Plain text is aligned to speech that says it (:data:`SPOKEN`); the rest is read on a tone.
TRANSCRIPTS = {
    "json-unsorted": (".json", _flat(WORDS[::-1]).encode(), WORDS),
    "json-UTF-16": (".json", _genea(WORDS).encode("utf-16"), WORDS),
    "txt-UTF-16": (".txt", "Hello world, big!".encode("utf-16"), "plain:Hello world, big!"),
    "txt-empty": (".txt", b"", "the text is empty"),
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


def _audio_for(kind: str) -> np.ndarray:
    """``(N, 1)`` audio for a transcript case: speech saying the words of a plain-text case
    (plain text is aligned to it), a 3 s tone for the others."""
    if TRANSCRIPTS[kind][0] == ".txt":
        return say("hello world big")[0][:, None]
    return tone(3, SR)


@pytest.mark.parametrize("kind", list(TRANSCRIPTS))
def test_transcript_reader(tmp_path, kind):
    suffix, data, expected = TRANSCRIPTS[kind]
    path = tmp_path / f"t{suffix}"
    path.write_bytes(data)
    wave = _audio_for(kind)[:, 0]
    if _is_error(expected):
        with pytest.raises(DataError) as e:
            read_transcript(path, wave)
        assert e.value.file == str(path) and expected in e.value.problem, e.value
    elif isinstance(expected, str):  # untimed words, in order, where the speech says them
        words = read_transcript(path, wave)
        truth = say("hello world big")[1]
        assert [w.text for w in words] == [t.strip(",!").lower() for t in expected[6:].split()]
        assert max(abs(w.start - t.start) for w, t in zip(words, truth)) < 0.1
    else:
        assert read_transcript(path, wave) == [Word(a, b, w) for a, b, w in expected]


@pytest.mark.parametrize("kind", list(TRANSCRIPTS))
def test_transcript_generate(bundle_dir, tmp_path, tmp_path_factory, capsys, kind):
    suffix, data, expected = TRANSCRIPTS[kind]
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(_audio_for(kind), SR))
    path = tmp_path / f"t{suffix}"
    path.write_bytes(data)
    rc, err, out = generate_cli(capsys, bundle_dir, wav, tmp_path / "out", "--text", path)
    if _is_error(expected):
        assert_refused(rc, err, path, expected)
        assert tree(tmp_path / "out") == []
        return
    assert rc == 0, err
    if isinstance(expected, str):  # the same text as UTF-8 gives the same output
        ref = reference_npz(bundle_dir, tmp_path_factory, capsys, expected[6:], ".txt",
                            audio=_audio_for(kind))
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


def test_silence_with_a_plain_text_transcript(bundle_dir, tmp_path, capsys):
    """No speech to align the words to: refused, naming the transcript, nothing written."""
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(np.zeros((3 * SR, 1), np.float32), SR))
    text = tmp_path / "t.txt"
    text.write_text("hello world big")
    with pytest.raises(DataError, match="no speech found in the audio"):
        read_transcript(text, load_audio(wav))
    rc, err, out = generate_cli(capsys, bundle_dir, wav, tmp_path / "out", "--text", text)
    assert_refused(rc, err, text, "no speech found in the audio")
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


# === 5. BVH motion (Trinity / GENEA) ===========================================================

def _trinity_root(tmp_path: Path) -> Path:
    return write_genea_folder(tmp_path / "genea", recordings=(6, 7))


def _first(old: str, new: str):
    return lambda text: text.replace(old, new, 1)


def _frame_value(line_from_end: int, value: str):
    def change(text):
        lines = text.splitlines()
        vals = lines[-line_from_end].split()
        vals[4] = value
        lines[-line_from_end] = " ".join(vals)
        return "\n".join(lines) + "\n"
    return change


JOINT_ROT = "CHANNELS 3 Zrotation Xrotation Yrotation"
#: name → (change to the text of Recording_006.bvh, or a skeleton spec, and the message).
BVH = {
    "unknown-channel": (_first(JOINT_ROT, "CHANNELS 3 Zrotation Xrotation Wrotation"),
                        "unknown channel 'Wrotation'"),
    "channel-count-wrong": (_first(JOINT_ROT, "CHANNELS 4 Zrotation Xrotation Yrotation"),
                            "CHANNELS says 4 but lists 3"),
    "channel-twice": (_first(JOINT_ROT, "CHANNELS 3 Zrotation Xrotation Zrotation"),
                      "channel Zrotation listed twice"),
    "joint-without-rotation": (genea_skeleton(lambda i: "Xposition Yposition Zposition" if i == 1
                                              else ZXY), "joint 'Spine' has no rotation channels"),
    "NaN-value": (_frame_value(3, "nan"), "value 'nan' is not finite"),
    "text-value": (_frame_value(2, "abc"), "value 'abc' is not a number"),
    "truncated": (lambda text: text[:-40], "truncated"),
    "frame-count-lies": (_first("Frames: 120", "Frames: 9999"),
                         "'Frames: 9999' but the motion block holds 120 frames"),
    "two-rotation-channels": (genea_skeleton(lambda i: "Zrotation Xrotation" if i == 2 else ZXY),
                              None),
}


def _write_bvh_case(root: Path, kind: str) -> Path:
    path = root / "Motion" / "Recording_006.bvh"
    change = BVH[kind][0]
    if isinstance(change, list):
        write_genea_bvh(path, 120, seed=6, spec=change)
    else:
        path.write_text(change(path.read_text()))
    return path


@pytest.mark.parametrize("kind", list(BVH))
def test_bvh_stats_and_train(tmp_path, capsys, kind):
    root = _trinity_root(tmp_path)
    path = _write_bvh_case(root, kind)
    message = BVH[kind][1]
    if message is None:  # two rotation axes are a valid joint: read as that rotation
        assert stats_problems(capsys, root) == (0, [])
        clip = trinity.load_clip(root, "Recording_006", "train", "upper")
        assert clip.rotvec.shape == (120, 15, 3) and np.isfinite(clip.rotvec).all()
        return
    assert_stats_lists(capsys, root, path, message)
    assert_train_refused(capsys, root, tmp_path, path, message)


# === 6. dataset folders with missing pieces ====================================================

def _beat2_case(tmp_path: Path, kind: str) -> tuple[Path, Path, str, bool]:
    """Make the BEAT2 folder of ``kind``; returns (root, file named, message, stats-lists-it).

    ``stats-lists-it`` False: the folder itself is unusable, so `data stats` refuses too."""
    if kind in ("missing-folder", "file-not-folder", "empty-folder"):
        root = tmp_path / "beat2"
        if kind == "file-not-folder":
            root.write_text("not a folder")
        elif kind == "empty-folder":
            root.mkdir()
        message = {"missing-folder": "dataset folder not found",
                   "file-not-folder": "is a file, not a dataset folder",
                   "empty-folder": "not a dataset folder this tool reads"}[kind]
        return root, root, message, False
    root = write_folder(tmp_path / "beat2", {SEQ: "train", "1_x_0_2_2": "val"}, seconds=3)
    csv = root / "train_test_split.csv"
    if kind == "no-split-csv":
        csv.unlink()
        return root, csv, "split file not found", False
    if kind in ("csv-header-only", "csv-unknown-split", "csv-binary"):
        csv.write_bytes({"csv-header-only": b"id,type\n",
                         "csv-unknown-split": f"id,type\n{SEQ},training\n".encode(),
                         "csv-binary": b"\xff\xfe\x00\x00id,type"}[kind])
        return root, csv, {"csv-header-only": "expected a header 'id,type' and one row",
                           "csv-unknown-split": f"line 2: unknown split 'training' for {SEQ}",
                           "csv-binary": "unreadable csv"}[kind], False
    if kind == "csv-id-without-files":
        with csv.open("a") as f:
            f.write("1_ghost_0_9_9,train\n")
        return root, beat2.motion_path(root, "1_ghost_0_9_9"), "motion file not found", True
    folder, path, message = {
        "no-motion-folder": ("smplxflame_30", beat2.motion_path(root, SEQ),
                             "motion file not found"),
        "no-wave-folder": ("wave16k", beat2.wave_path(root, SEQ), "audio file not found"),
        "no-textgrid-folder": ("textgrid", beat2.textgrid_path(root, SEQ),
                               "TextGrid file not found"),
    }[kind]
    shutil.rmtree(root / folder)
    return root, path, message, True


BEAT2_MISSING = ["missing-folder", "file-not-folder", "empty-folder", "no-split-csv",
                 "csv-header-only", "csv-unknown-split", "csv-binary", "csv-id-without-files",
                 "no-motion-folder", "no-wave-folder", "no-textgrid-folder"]


@pytest.mark.parametrize("kind", BEAT2_MISSING)
def test_beat2_folder_missing_pieces(tmp_path, capsys, kind):
    root, path, message, listed = _beat2_case(tmp_path, kind)
    if listed:
        assert_stats_lists(capsys, root, path, message)
    else:
        rc, out, err = cli(capsys, "data", "stats", root)
        assert_refused(rc, err, path, message)
        assert out == ""
    assert_train_refused(capsys, root, tmp_path, path, message)


def test_no_training_sequences(tmp_path, capsys):
    root = write_folder(tmp_path / "beat2", {SEQ: "test"}, seconds=3)
    assert stats_problems(capsys, root) == (0, [])  # a fine folder, but not one to train on
    assert_train_refused(capsys, root, tmp_path, root / "train_test_split.csv",
                         "no sequences in the training split(s) ['train']")


@pytest.mark.parametrize("kind", ["no-audio-folder", "no-transcripts-folder", "no-bvh-files"])
def test_trinity_folder_missing_pieces(tmp_path, capsys, kind):
    root = _trinity_root(tmp_path)
    if kind == "no-bvh-files":
        for p in (root / "Motion").glob("*.bvh"):
            p.unlink()
        rc, problems = stats_problems(capsys, root)
        assert rc == 1 and problems == [{"file": str(root), "problem": "no sequences found"}]
        assert_train_refused(capsys, root, tmp_path, root, "no sequences listed")
        return
    folder, path, message = {
        "no-audio-folder": ("Audio", root / "Audio" / "Recording_006.wav", "audio file not found"),
        "no-transcripts-folder": ("Transcripts", root / "Transcripts" / "Recording_006.json",
                                  "transcript not found"),
    }[kind]
    shutil.rmtree(root / folder)
    assert_stats_lists(capsys, root, path, message)
    assert_train_refused(capsys, root, tmp_path, path, message)


# === 7. configs ================================================================================

#: name → (YAML text, or None for the packaged tiny config; extra overrides; what the error
#: names: "file" or the override; message).
CONFIGS = {
    "unknown-key": ("train:\n  epochz: 3\n", [], "file", "unknown key 'train.epochz'"),
    "unknown-section": ("trian:\n  epochs: 3\n", [], "file", "unknown section 'trian'"),
    "wrong-type": ("train:\n  epochs: three\n", [], "file",
                   "train.epochs: expected an integer, got 'three'"),
    "NaN-number": ("train:\n  lr: .nan\n", [], "file", "train.lr: expected a finite number"),
    "invalid-value": ("data:\n  length: 30\n", [], "file", "data.length must be a multiple of 4"),
    "unknown-joint-set": ("data:\n  joint_set: elbows\n", [], "file",
                          "data.joint_set 'elbows' is not one of"),
    "zero-heads": ("model:\n  heads: 0\n", [], "file", "model.heads must be ≥ 1"),
    "section-not-mapping": ("train: 5\n", [], "file", "section 'train' is not a mapping"),
    "not-a-mapping": ("- data\n- train\n", [], "file", "expected a mapping"),
    "invalid-YAML": ("train: [1, 2\n", [], "file", "invalid YAML"),
    "binary-file": (b"\xff\xfe\x00\x81", [], "file", "not a YAML text file"),
    "python-tag": ("train:\n  epochs: !!python/object/apply:os.system ['touch {marker}']\n", [],
                   "file", "invalid YAML"),
    "missing-file": ("<missing>", [], "file", "config file not found"),
    "override-wrong-type": (None, ["train.epochs=abc"], "train.epochs=abc",
                            "train.epochs: expected an integer, got 'abc'"),
    "override-unknown-key": (None, ["train.epochz=3"], "train.epochz=3",
                             "unknown key 'train.epochz'"),
    "override-invalid-value": (None, ["model.heads=3"], "model.heads=3",
                               "model.d_model (32) must be divisible by model.heads"),
    "override-unknown-precision": (None, ["train.precision=banana"], "train.precision=banana",
                                   "train.precision 'banana' is not one of"),
    "override-unknown-accelerator": (None, ["train.accelerator=tpu2"], "train.accelerator=tpu2",
                                     "train.accelerator 'tpu2' is not one of"),
    "override-not-key-value": (None, ["epochs"], "'epochs'", "is not key=value"),
    "override-three-parts": (None, ["train.epochs.max=3"], "'train.epochs.max'",
                             "must be section.name"),
}


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_config(tmp_path, capsys, kind):
    text, overrides, named, message = CONFIGS[kind]
    root = beat2_root(tmp_path)
    config = "tiny"
    if text is not None:
        config = tmp_path / "c.yaml"
        if text != "<missing>":
            data = text if isinstance(text, bytes) else text.format(
                marker=tmp_path / "PAYLOAD-RAN").encode()
            config.write_bytes(data)
    run = tmp_path / "run"
    rc, _, err = cli(capsys, "train", "--config", config, f"data.root={root}", f"train.out={run}",
                     *overrides)
    assert_refused(rc, err, config if named == "file" else named, message)
    assert not run.exists() and not (tmp_path / "PAYLOAD-RAN").exists()


# === 8. inference bundles: tampered, truncated, mismatched, pickled ============================

def _weights(d: Path) -> Path:
    return d / "model.safetensors"


def _header(d: Path) -> tuple[bytes, int, dict]:
    blob = _weights(d).read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    return blob, n, json.loads(blob[8:8 + n])


def _rewrite_header(d: Path, change) -> None:
    blob, n, head = _header(d)
    change(head)
    raw = json.dumps(head).encode()
    raw += b" " * (-len(raw) % 8)
    _weights(d).write_bytes(struct.pack("<Q", len(raw)) + raw + blob[8 + n:])


def _first_tensor(head: dict, dtype: str = "F32") -> str:
    return next(k for k, v in head.items() if k != "__metadata__" and v["dtype"] == dtype)


def _tensors(d: Path, change) -> None:
    """Rewrite the weights with ``change(tensors)``, keeping the safetensors metadata."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(_weights(d)), "pt") as f:
        meta = f.metadata()
    tensors = load_file(str(_weights(d)))
    change(tensors)
    save_file(tensors, str(_weights(d)), metadata=meta)


def _meta(change):
    def apply(d: Path) -> None:
        meta = json.loads((d / "config.json").read_text())
        change(meta)
        (d / "config.json").write_text(json.dumps(meta))
    return apply


def _cut(n):
    def apply(d: Path) -> None:
        blob = _weights(d).read_bytes()
        _weights(d).write_bytes(blob[:n(len(blob))])
    return apply


def _torch_pickle(d: Path) -> None:
    import torch

    torch.save({"vqvae.x": _Payload()}, str(_weights(d)))


def _flip_byte(d: Path) -> None:
    blob = bytearray(_weights(d).read_bytes())
    blob[-100] ^= 0xFF
    _weights(d).write_bytes(bytes(blob))


def _nan_in(prefix: str):
    def change(t):
        k = next(k for k in t if k.startswith(prefix) and t[k].is_floating_point())
        t[k] = t[k].clone()
        t[k].view(-1)[0] = float("nan")
    return change


#: name → (change to a copy of the bundle, file named: "weights" | "config" | "folder", message)
BUNDLES = {
    "weights-truncated-half": (_cut(lambda n: n // 2), "weights", "corrupt or truncated weights"),
    "weights-8-bytes": (_cut(lambda n: 8), "weights", "corrupt or truncated weights"),
    "weights-empty": (_cut(lambda n: 0), "weights", "corrupt or truncated weights"),
    "header-length-2^62": (lambda d: _weights(d).write_bytes(
        struct.pack("<Q", 2**62) + _weights(d).read_bytes()[8:]), "weights",
        "corrupt or truncated"),
    "header-not-JSON": (lambda d: _weights(d).write_bytes(
        _weights(d).read_bytes()[:8] + b"[" + _weights(d).read_bytes()[9:]), "weights",
        "corrupt or truncated weights"),
    "tensor-shape-past-the-data": (lambda d: _rewrite_header(
        d, lambda h: h[_first_tensor(h)].update(shape=[10**6])), "weights",
        "corrupt or truncated weights"),
    "tensor-dtype-changed": (lambda d: _rewrite_header(d, lambda h: h[_first_tensor(h)].update(
        dtype="I32")), "weights", "torch.int32, expected"),
    "extra-tensor": (lambda d: _tensors(d, lambda t: t.__setitem__("vqvae.extra",
                                                                   t["norm.mean"].clone())),
                     "weights", "weights do not match config.json: unexpected vqvae.extra"),
    "missing-tensor": (lambda d: _tensors(d, lambda t: t.pop(next(k for k in t if k.startswith(
        "classifier.")))), "weights", "weights do not match config.json: missing classifier."),
    "NaN-weight": (lambda d: _tensors(d, _nan_in("classifier.")), "weights",
                   "holds NaN or infinite values"),
    "NaN-normalisation": (lambda d: _tensors(d, _nan_in("norm.std")), "weights",
                          "normalisation statistics hold NaN"),
    "one-byte-flipped": (_flip_byte, "weights", "SHA-256 differs"),
    "torch-pickle-as-weights": (_torch_pickle, "weights",
                                "a pickle / torch.save file, not safetensors"),
    "vocab-longer": (_meta(lambda m: m["vocab"].append("zzz")), "weights",
                     "weights do not match config.json: classifier.text_encoder.embed.weight"),
    "joint-names-shorter": (_meta(lambda m: m["joint_names"].pop()), "config",
                            "42 joint names but motion_dim 258"),
    "motion-dim": (_meta(lambda m: m.update(motion_dim=6, joint_names=["spine1"])), "weights",
                   "weights do not match config.json: vqvae.encoder"),
    "audio-features": (_meta(lambda m: m.update(n_audio_features=3)), "weights",
                       "weights do not match config.json: classifier.audio_encoder"),
    "other-classifier": (_meta(lambda m: m["config"]["model"].update(classifier="lstm")), "weights",
                         "weights do not match config.json: missing classifier."),
    "other-window-length": (_meta(lambda m: m["config"]["data"].update(length=80)), "weights",
                            "classifier.positions"),
    "other-fps": (_meta(lambda m: m["config"]["data"].update(fps=30.0)), "config",
                  "does not match model.safetensors: the model definition"),
    "other-seed-frames": (_meta(lambda m: m["config"]["data"].update(seed_frames=16)), "config",
                          "the model definition"),
    "unknown-config-key": (_meta(lambda m: m["config"]["model"].update(foo=1)), "config",
                           "unknown key 'model.foo'"),
    "wrong-config-type": (_meta(lambda m: m["config"]["model"].update(codebook_size="many")),
                          "config", "model.codebook_size: expected an integer, got 'many'"),
    "vocab-not-a-list": (_meta(lambda m: m.update(vocab=5)), "config",
                         "vocab must be a list of strings"),
    "no-joint-names": (_meta(lambda m: m.pop("joint_names")), "config",
                       "incomplete bundle config (no 'joint_names')"),
    "other-format": (_meta(lambda m: m.update(format="x")), "config", "not an eggesture bundle"),
    "other-version": (_meta(lambda m: m.update(version=99)), "config",
                      "bundle version 99 is not 2"),
    "config-a-list": (lambda d: (d / "config.json").write_text("[1, 2]"), "config",
                      "not an eggesture bundle config"),
    "config-invalid-JSON": (lambda d: (d / "config.json").write_text("{"), "config",
                            "not valid JSON"),
    "config-binary": (lambda d: (d / "config.json").write_bytes(b"\xff\xfe\x00\x81"), "config",
                      "not valid JSON"),
    "no-config": (lambda d: (d / "config.json").unlink(), "folder", "not an inference bundle"),
    "no-weights": (lambda d: _weights(d).unlink(), "folder", "not an inference bundle"),
}


@pytest.mark.parametrize("kind", list(BUNDLES))
def test_bundle(bundle_dir, tmp_path, capsys, kind):
    change, named, message = BUNDLES[kind]
    _Payload.marker = str(tmp_path / "PAYLOAD-RAN")
    bundle = shutil.copytree(bundle_dir, tmp_path / "bundle")
    change(bundle)
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(tone(1, SR), SR))
    rc, err, _ = generate_cli(capsys, bundle, wav, tmp_path / "out")
    file = {"weights": _weights(bundle), "config": bundle / "config.json", "folder": bundle}[named]
    assert_refused(rc, err, file, message)
    assert err.startswith(f"error: {file}")
    assert tree(tmp_path / "out") == [] and not (tmp_path / "PAYLOAD-RAN").exists()


def test_bundle_without_hashes_still_loads(bundle_dir, tmp_path, capsys):
    """Bundles written before the hashes existed load, and generate the same motion."""
    from safetensors.torch import load_file, save_file

    old = shutil.copytree(bundle_dir, tmp_path / "old")
    save_file(load_file(str(_weights(old))), str(_weights(old)),
              metadata={"format": "eggesture-bundle"})
    _meta(lambda m: m.pop("weights_sha256"))(old)
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(tone(2, SR), SR))
    outs = []
    for b in (bundle_dir, old):
        rc, err, out = generate_cli(capsys, b, wav, tmp_path / b.name)
        assert rc == 0, err
        outs.append(dict(np.load(out)))
    np.testing.assert_array_equal(outs[0]["poses"], outs[1]["poses"])


def test_bundles_load_without_unpickling(bundle_dir, tmp_path, capsys, monkeypatch):
    """Nothing on the load path unpickles: with pickle and torch.load disabled, generate works."""
    import pickle

    import torch

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling attempted")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(torch, "load", refuse)
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(tone(1, SR), SR))
    rc, err, out = generate_cli(capsys, bundle_dir, wav, tmp_path / "out")
    assert rc == 0, err
    assert beat2.read_motion(out)["poses"].shape == (30, 165)


def test_a_training_checkpoint_is_not_a_bundle(bundle_dir, tmp_path, capsys):
    ckpt = bundle_dir.parent / "checkpoints" / "last.ckpt"
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(tone(1, SR), SR))
    rc, err, _ = generate_cli(capsys, ckpt, wav, tmp_path / "out")
    assert_refused(rc, err, ckpt, "not an inference bundle")


# === 9. atomic writes: concurrent writers, killed writers, interrupted cache builds ==============

def _subprocess_env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=REPO_SRC)


def test_two_generate_processes_writing_the_same_output(bundle_dir, tmp_path, capsys):
    """Both finish; the files are whole and equal to a single run's (last rename wins)."""
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(tone(20, SR), SR))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "eggesture.cli", "generate", "--checkpoint", str(bundle_dir),
           "--audio", str(wav), "--out", str(out / "a.npz"), "--bvh", str(out / "a.bvh")]
    procs = [subprocess.Popen(cmd, env=_subprocess_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    rc, err, single = generate_cli(capsys, bundle_dir, wav, tmp_path / "single", "--bvh",
                                   tmp_path / "single" / "a.bvh")
    assert rc == 0, err
    assert_same_npz(out / "a.npz", dict(np.load(single)))
    assert (out / "a.bvh").read_text() == (tmp_path / "single" / "a.bvh").read_text()
    assert tree(out) == ["a.bvh", "a.npz"]  # no temporary left behind


KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    def savez(f, **arrays):  # half a file, then SIGKILL: no cleanup code can run
        f.write(b"PK\\x03\\x04 half of an npz")
        f.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    np.savez = savez
    from eggesture.cli import main
    main(sys.argv[1:])
""")


def test_generate_killed_while_writing_leaves_the_old_file(bundle_dir, tmp_path, capsys):
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(tone(2, SR), SR))
    rc, err, out = generate_cli(capsys, bundle_dir, wav, tmp_path / "out")
    assert rc == 0, err
    old = out.read_bytes()
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, "generate", "--checkpoint",
                           str(bundle_dir), "--audio", str(wav), "--out", str(out)],
                          env=_subprocess_env(), capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert out.read_bytes() == old  # the complete old file, not half of the new one
    left = [p for p in tree(out.parent) if p != "a.npz"]
    assert all(p.startswith(".") for p in left), left  # at most hidden temporaries


KILLED_CACHE_BUILD = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    from eggesture.data import windows as W
    real, calls = np.save, []
    def save(*args, **kwargs):  # SIGKILL after two of the cache's arrays are written
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        real(*args, **kwargs)
    np.save = save
    W.prepare(sys.argv[1], W.WindowSettings(length=20, stride=5))
""")


def test_cache_build_killed_midway_is_detected_and_rebuilt(tmp_path):
    root = beat2_root(tmp_path, seconds=4)
    settings = W.WindowSettings(length=20, stride=5)
    proc = subprocess.run([sys.executable, "-c", KILLED_CACHE_BUILD, str(root)],
                          env=_subprocess_env(), capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    (left,) = (cache() / "windows").iterdir()
    assert left.name.startswith(".")  # a temporary name: never mistaken for a finished build
    assert not (left / "meta.json").exists()
    data = W.prepare(root, settings)
    fresh = W.prepare(root, settings, use_cache=False)
    for name in ("motion", "words", "audio_feats", "audio", "offsets"):
        np.testing.assert_array_equal(np.asarray(getattr(data, name)), getattr(fresh, name))
    assert isinstance(data.motion, np.memmap)  # now from a complete cache folder
    # The killed build's temporary is removed by a later build once it is stale.
    os.utime(left, (0, 0))
    W.prepare(root, W.WindowSettings(length=20, stride=10))
    names = [p.name for p in (cache() / "windows").iterdir()]
    assert len(names) == 2 and not any(n.startswith(".") for n in names)


@pytest.mark.parametrize("damage", ["array-of-another-length", "norm-not-safetensors",
                                    "meta-not-JSON", "array-missing"])
def test_damaged_cache_is_rebuilt(tmp_path, damage):
    root = beat2_root(tmp_path, seconds=4)
    settings = W.WindowSettings(length=20, stride=5)
    first = W.prepare(root, settings)
    expected = {n: np.array(getattr(first, n)) for n in ("motion", "words", "audio_feats")}
    (folder,) = (cache() / "windows").iterdir()
    if damage == "array-of-another-length":
        np.save(folder / "words.npy", np.zeros(7, np.int32))  # a valid npy: only sizes tell
    elif damage == "norm-not-safetensors":
        (folder / "norm.safetensors").write_bytes(b"junk")
    elif damage == "meta-not-JSON":
        (folder / "meta.json").write_text("{")
    else:
        (folder / "audio.npy").unlink()
    again = W.prepare(root, settings)
    for n, arr in expected.items():
        np.testing.assert_array_equal(np.asarray(getattr(again, n)), arr)


def test_errors_survive_pickling_across_processes():
    """The demo trains in worker processes: an error raised there must reach the parent as
    the same one-line error (an Exception subclass with its own __init__ does not by default)."""
    import pickle

    from eggesture.errors import CheckpointError, ConfigError, EggestureError

    for cls in (DataError, ConfigError, CheckpointError, EggestureError):
        for file in ("a/b.wav", None):
            e = pickle.loads(pickle.dumps(cls(file, "the problem")))
            assert type(e) is cls and e.file == file and e.problem == "the problem"
            assert str(e) == str(cls(file, "the problem"))

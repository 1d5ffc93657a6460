"""Live generation (:mod:`eggesture.recipes.stream`): frame counts, the lookahead, offline
equivalence when nothing is live, a bounded buffer, the command."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from eggesture.bundle import load_bundle
from eggesture.cli import main
from eggesture.data.beat2 import read_motion
from eggesture.recipes.generate import generate_motion
from eggesture.recipes.stream import KEEP_SECONDS, GestureStream, stream_wave
from speech import SR, say


@pytest.fixture(scope="module")
def bundle(tiny_bundle_dir):
    return load_bundle(tiny_bundle_dir)


@pytest.fixture(scope="module")
def wave():
    """About 9 s of speech: several model windows."""
    parts = [say(s)[0] for s in ("the first thing i like to do on weekends is relaxing",
                                 "we went to the market to buy some fresh bread",
                                 "three small dogs ran across the park")]
    return np.concatenate(parts)


@pytest.mark.parametrize("chunk, lookahead", [(0.05, 0.25), (0.37, 0.5), (1.0, 1.0)])
def test_a_stream_gives_as_many_frames_as_offline(bundle, wave, chunk, lookahead):
    offline = generate_motion(bundle, wave).rotvec
    run = stream_wave(bundle, wave, chunk=chunk, lookahead=lookahead)
    assert run.generated.rotvec.shape == offline.shape
    assert np.isfinite(run.generated.rotvec).all()


def test_with_the_whole_speech_ahead_a_stream_is_offline_generation(bundle, wave):
    offline = generate_motion(bundle, wave).rotvec
    streamed = stream_wave(bundle, wave, chunk=0.5, lookahead=wave.size / SR + 1).generated
    # the same codes, decoded alike; only the last token's frames see a different padding of
    # the decoder's future (offline: the convolution's; streamed: the last token held)
    np.testing.assert_allclose(streamed.rotvec[:-4], offline[:-4], atol=1e-5)
    np.testing.assert_allclose(streamed.rotvec, offline, atol=1e-3)


def test_the_motion_for_t_waits_for_audio_up_to_t_plus_the_lookahead(bundle, wave):
    stream = GestureStream(bundle, lookahead=0.5)
    out = 0
    for a in range(0, wave.size, 2400):  # 0.15 s chunks
        out += len(stream.push(wave[a:a + 2400]))
        heard = min(wave.size, a + 2400) / SR
        expected = max(0, int(np.floor((heard - 0.5) * 15 + 1e-9)) + 1) if heard >= 0.5 else 0
        assert out == expected, (heard, out)
    out += len(stream.flush())
    assert out == int(np.floor(wave.size / SR * 15 + 0.5))
    with pytest.raises(RuntimeError, match="flushed"):
        stream.push(wave[:100])
    with pytest.raises(ValueError, match="lookahead"):
        GestureStream(bundle, lookahead=-0.1)


def test_a_long_stream_holds_a_bounded_buffer(bundle, wave):
    stream = GestureStream(bundle, lookahead=0.5)
    for _ in range(6):  # about a minute
        for a in range(0, wave.size, 8000):
            stream.push(wave[a:a + 8000])
    window = bundle.cfg.data.length / bundle.fps
    assert stream.seconds > 50 and stream.audio.size / SR <= KEEP_SECONDS + window + 1.0


def test_the_stream_command(tiny_bundle_dir, wave, tmp_path, capsys):
    sf.write(tmp_path / "a.wav", wave, SR, subtype="PCM_16")
    rc = main(["stream", "--checkpoint", str(tiny_bundle_dir), "--audio", str(tmp_path / "a.wav"),
               "--chunk", "0.2", "--out", str(tmp_path / "a.npz")])
    out = capsys.readouterr().out
    assert rc == 0 and "chunks of 0.2 s, lookahead 0.5 s" in out and "latency" in out
    assert read_motion(tmp_path / "a.npz")["poses"].shape == (round(wave.size / SR * 30), 165)
    rc = main(["stream", "--checkpoint", str(tiny_bundle_dir), "--audio", str(tmp_path / "a.wav"),
               "--chunk", "0", "--out", str(tmp_path / "b.npz")])
    assert rc == 2 and "--chunk must be > 0" in capsys.readouterr().err
    assert not (tmp_path / "b.npz").exists()


def test_a_lookahead_model_streams_at_its_own_lookahead_and_not_less(tiny_bundle_dir, wave):
    from eggesture.models.classifier import lookahead_plan

    b = load_bundle(tiny_bundle_dir)  # the same weights, made to look 0.75 s ahead
    b.cfg.model.lookahead = 0.75
    b.classifier.lookahead = lookahead_plan(0.75, b.fps)
    assert GestureStream(b).lookahead == 0.75 and GestureStream(b, 1.0).lookahead == 1.0
    with pytest.raises(ValueError, match="trained to look 0.75 s ahead"):
        GestureStream(b, 0.5)
    run = stream_wave(b, wave, chunk=0.2)
    assert run.lookahead == 0.75 and np.isfinite(run.generated.rotvec).all()
    waited = run.latency - run.compute[run.chunk_of_frame]  # on the audio's clock, less compute
    assert waited.max() <= 0.75 + 0.2 + 1e-9 and waited[:-20].min() >= 0.75 - 1e-9
    offline = generate_motion(b, wave).rotvec
    assert run.generated.rotvec.shape == offline.shape

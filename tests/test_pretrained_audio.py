"""``model.audio_encoder=hf:DIR``: a local wav2vec2 / HuBERT as the audio encoder's features.

No model can be downloaded here, so the tests save small randomly initialised wav2vec2 and
HuBERT models with ``transformers`` and load them back from their folders, as a user's local
checkpoint would be.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from beat2_folder import write_folder
from eggesture.bundle import load_bundle
from eggesture.data.windows import cache_root
from eggesture.errors import CheckpointError, ConfigError
from eggesture.features.audio import PER_FRAME
from eggesture.features.pretrained_audio import PretrainedAudioFeatures, receptive_field
from eggesture.recipes.generate import generate_motion
from eggesture.recipes.train import prepare_data, train
from test_training import tiny

pytest.importorskip("transformers")


def save_model(folder, kind="wav2vec2", *, layers=1, local=False, seed=0):
    """A tiny random wav2vec2 / HuBERT saved in ``folder``. ``local``: no attention layers and
    per-frame conv norms, so every output frame depends on a bounded span of audio only."""
    import torch
    from transformers import HubertConfig, HubertModel, Wav2Vec2Config, Wav2Vec2Model

    config, model = {"wav2vec2": (Wav2Vec2Config, Wav2Vec2Model),
                     "hubert": (HubertConfig, HubertModel)}[kind]
    torch.manual_seed(seed)
    cfg = config(hidden_size=32, num_hidden_layers=0 if local else layers, num_attention_heads=2,
                 intermediate_size=64, conv_dim=(16,) * 7, num_conv_pos_embeddings=16,
                 num_conv_pos_embedding_groups=4, feat_extract_norm="layer" if local else "group",
                 do_stable_layer_norm=local)
    model(cfg).save_pretrained(folder)
    if local:  # no per-chunk waveform normalisation either
        (folder / "preprocessor_config.json").write_text(json.dumps({"do_normalize": False}))
    return folder


def test_receptive_field_of_wav2vec2s_feature_encoder():
    # wav2vec2 / HuBERT: kernels (10, 3, 3, 3, 3, 2, 2), strides (5, 2, 2, 2, 2, 2, 2): 20 ms hop,
    # 25 ms receptive field at 16 kHz.
    assert receptive_field([10, 3, 3, 3, 3, 2, 2], [5, 2, 2, 2, 2, 2, 2]) == (320, 400)
    assert receptive_field([3], [1]) == (1, 3)


@pytest.mark.parametrize("kind", ["wav2vec2", "hubert"])
def test_features_on_the_motion_grid(tmp_path, kind):
    ext = PretrainedAudioFeatures(save_model(tmp_path / kind, kind))
    wave = np.random.default_rng(0).standard_normal(16000 * 3).astype(np.float32)
    feats = ext.features(wave, n_frames=45, fps=15)
    assert feats.shape == (45 * PER_FRAME, 32) and np.isfinite(feats).all()
    assert ext.features(wave[:100], n_frames=1, fps=15).shape == (PER_FRAME, 32)  # < one model frame
    assert ext.features(wave, n_frames=0, fps=15).shape == (0, 32)


def test_chunking_equals_one_pass_for_a_local_model(tmp_path):
    """With a model whose frames see a bounded span of audio, chunks with context give exactly
    the frames of one pass over the whole file, and a window equals the whole file's frames."""
    folder = save_model(tmp_path / "m", local=True)
    whole = PretrainedAudioFeatures(folder, chunk_s=100.0)
    chunked = PretrainedAudioFeatures(folder, chunk_s=1.0, context_s=1.0)
    wave = np.random.default_rng(1).standard_normal(int(16000 * 4.3)).astype(np.float32)
    a, b = whole.frames(wave), chunked.frames(wave)
    assert a.shape == b.shape == ((wave.size - 400) // 320 + 1, 32)
    np.testing.assert_allclose(a, b, atol=1e-5)
    full = whole.features(wave, n_frames=60, fps=15)
    win = chunked.window_features(wave, start=20, n_frames=20, fps=15)
    np.testing.assert_allclose(win, full[20 * PER_FRAME:40 * PER_FRAME], atol=1e-5)


def test_a_folder_without_a_model_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no config.json"):
        PretrainedAudioFeatures(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 8}))
    with pytest.raises(ConfigError):
        PretrainedAudioFeatures(tmp_path)


def test_train_cache_and_generate_with_a_local_wav2vec2(tmp_path, monkeypatch):
    model_dir = save_model(tmp_path / "w2v")
    root = write_folder(tmp_path / "b", {"1_x_0_1_1": "train", "1_x_0_2_2": "train",
                                         "1_x_0_3_3": "test"}, seconds=6)
    cfg = tiny(root, tmp_path / "run", f"model.audio_encoder=hf:{model_dir}", "train.epochs=2")
    result = train(cfg)
    bundle = load_bundle(result.bundle)
    assert bundle.meta["n_audio_features"] == 32
    assert bundle.classifier.audio_encoder.norm.normalized_shape == (32,)

    cached = list((cache_root() / "audio_features").glob("*.npy"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    import transformers

    with monkeypatch.context() as m:  # a second run reads the cache and never loads the weights
        m.setattr(transformers.AutoModel, "from_pretrained",
                  lambda *a, **k: pytest.fail("weights loaded on a cache hit"))
        data = prepare_data(cfg, progress=False)
    assert cached[0].stat().st_mtime_ns == stamp
    assert data.audio_feats.shape == (int(data.offsets[-1]) * PER_FRAME, 32)
    ext = PretrainedAudioFeatures(model_dir)
    seq = data.sequence(0)
    np.testing.assert_allclose(seq["audio_feats"], ext.features(seq["audio"], data.n_frames(0), 15),
                               atol=1e-5)

    wave = np.random.default_rng(2).standard_normal(16000 * 5).astype(np.float32) * 0.1
    out = generate_motion(bundle, wave)
    assert out.rotvec.shape[0] == round(5 * bundle.fps) and np.isfinite(out.rotvec).all()

    # Another audio model of a different width does not fit the bundle.
    other = tmp_path / "other"
    save_model(other)
    meta = json.loads((other / "config.json").read_text())
    meta["hidden_size"], meta["num_attention_heads"] = 16, 2
    (other / "config.json").write_text(json.dumps(meta))
    (other / "model.safetensors").unlink()
    import torch
    from transformers import AutoConfig, AutoModel

    torch.manual_seed(0)
    AutoModel.from_config(AutoConfig.from_pretrained(other)).save_pretrained(other)
    bundle.cfg.model.audio_encoder = f"hf:{other}"
    del bundle.__dict__["audio_features"]
    with pytest.raises(CheckpointError, match="16 features"):
        generate_motion(bundle, wave)

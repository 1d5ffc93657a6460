"""Builders: a :class:`~eggesture.config.Config` in, the networks out (keyword arguments only)."""

from __future__ import annotations

import dataclasses

from torch import nn

from ..config import Config, method_spec
from .classifier import IndexClassifier, lookahead_plan
from .encoders import AudioEncoder, LearnedTextEncoder, PretrainedTextEncoder, minilm_dir
from .quantizer import EntropyGuidedQuantizer, VectorQuantizer
from .vqvae import DOWNSAMPLE, MotionVQVAE


def quantizer_distance(cfg: Config) -> str:
    """The quantizer geometry of a config (``model.distance``; ``auto``: Euclidean for both
    quantizers — measured best for EGGesture, docs/decisions.md; TM2T's for the baseline)."""
    return "euclidean" if cfg.model.distance == "auto" else cfg.model.distance


def sim_temperature(cfg: Config) -> float:
    """The entropy's similarity temperature t (``model.sim_temperature``; None: 1.0 for the
    Euclidean geometry, 0.1 for the cosine one)."""
    if cfg.model.sim_temperature is not None:
        return cfg.model.sim_temperature
    return 0.1 if quantizer_distance(cfg) == "cosine" else 1.0


def tied_head(cfg: Config) -> bool:
    """Whether the classifier's head is tied to the codebook (``model.tied_head``; ``auto``:
    for the jointly trained methods)."""
    if cfg.model.tied_head == "auto":
        return method_spec(cfg.train).joint
    return bool(cfg.model.tied_head)


def resolved(cfg: Config) -> Config:
    """``cfg`` with the model's ``auto`` settings replaced by what they resolve to (geometry,
    similarity temperature, tied head), so a saved model does not change meaning when a
    default does."""
    m = dataclasses.replace(cfg.model, distance=quantizer_distance(cfg),
                            sim_temperature=sim_temperature(cfg), tied_head=tied_head(cfg))
    return dataclasses.replace(cfg, model=m)


def build_quantizer(cfg: Config) -> VectorQuantizer:
    spec, m = method_spec(cfg.train), cfg.model
    distance = quantizer_distance(cfg)
    common = dict(codebook_size=m.codebook_size, dim=m.code_dim, beta=m.beta, alpha=m.alpha,
                  distance=distance)
    if spec.quantizer == "vanilla":
        return VectorQuantizer(**common)
    return EntropyGuidedQuantizer(**common, sim_temperature=sim_temperature(cfg), tau=m.tau,
                                  gumbel=spec.gumbel)


def build_vqvae(cfg: Config, motion_dim: int) -> MotionVQVAE:
    return MotionVQVAE(motion_dim=motion_dim, quantizer=build_quantizer(cfg), width=cfg.model.width,
                       depth=cfg.model.res_blocks)


def build_text_encoder(cfg: Config, vocab: list[str]) -> nn.Module | None:
    m = cfg.model
    common = dict(d_model=m.d_model, layers=m.encoder_layers, heads=m.heads, dropout=m.dropout,
                  arch=m.classifier)
    if m.text_encoder == "none":
        return None
    if m.text_encoder == "learned":
        return LearnedTextEncoder(vocab_size=len(vocab), text_dim=m.text_dim, **common)
    model_dir = minilm_dir() if m.text_encoder.startswith("minilm") else m.text_encoder[3:]
    return PretrainedTextEncoder(vocab=vocab, model_dir=model_dir,
                                 finetune=m.text_encoder == "minilm-ft", **common)


def build_classifier(cfg: Config, vocab: list[str], n_audio_features: int) -> IndexClassifier:
    m, d = cfg.model, cfg.data
    audio = AudioEncoder(n_features=n_audio_features, d_model=m.d_model, layers=m.encoder_layers,
                         heads=m.heads, dropout=m.dropout, arch=m.classifier)
    return IndexClassifier(
        codebook_size=m.codebook_size, n_tokens=d.length // DOWNSAMPLE,
        seed_tokens=d.seed_frames // DOWNSAMPLE, audio_encoder=audio,
        text_encoder=build_text_encoder(cfg, vocab), d_model=m.d_model, heads=m.heads,
        layers=m.decoder_layers, dropout=m.dropout, text_dropout=m.text_dropout,
        word_dropout=m.word_dropout, arch=m.classifier,
        tied_head=tied_head(cfg), code_dim=m.code_dim, distance=quantizer_distance(cfg),
        logit_scale=1.0 / sim_temperature(cfg),
        lookahead=None if m.lookahead is None else lookahead_plan(m.lookahead, d.fps),
    )

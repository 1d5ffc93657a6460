"""Index classifier: speech → code indices of a window, in one pass (paper §3.3–3.4).

Audio and text features (token rate) are concatenated on channels and projected into a memory.
A transformer *decoder* turns queries — learned positional embeddings plus, at the seed
positions, embeddings of the seed tokens (the window's first frames, from the previous window or
from ground truth in training) — into logits over the K codes for every token of the window,
cross-attending to the memory. Not autoregressive (DESIGN §3). The LSTM variant of Table 7
replaces encoders and cross-attention by LSTMs over the concatenated memory and queries.

With a **lookahead** (``model.lookahead``, seconds; :func:`lookahead_plan`) the classifier never
sees more of the future than that: the encoders' and the decoder's self-attention are causal,
token t cross-attends to memory tokens ≤ t + n, and the audio features are delayed by d frames,
so that token t depends on audio up to its first frame's time plus the lookahead. Streaming
(:class:`eggesture.recipes.stream.GestureStream`) then computes what offline generation does.

With a **tied head** (``tied_head=True``) the last layer predicts a vector in the code space
and the logits are its similarities to the codebook in the quantizer's geometry
(``cos(h, e_k)·s`` or ``−‖h − e_k‖²·s``, s a learned scale), so the prediction stays
meaningful while the codes move during joint training — one reading of the paper's "jointly
differentiable optimization" (Fig. 3). The codes are passed in, detached, at every call. The
builder starts s at 1/t, the quantizer's own similarity temperature (10 for cosine, 1 for
Euclidean): then the head's first logits have the scale of the quantizer's soft assignment. A
fixed s = 10 in the Euclidean geometry, where codes lie ~3 units apart, made the first logits
differ by ~100: the classifier's loss rose to 2.5× that of a uniform guess while the codebook
trained, and whether it ever fitted depended on the seed (docs/decisions.md).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..features.audio import FEATURE_REACH_S, PER_FRAME
from .encoders import AudioEncoder, LearnedTextEncoder, causal_mask

#: Motion frames per token (the VQ-VAE's temporal downsampling; eggesture.models.vqvae).
FRAMES_PER_TOKEN = 4


def lookahead_plan(seconds: float, fps: float) -> tuple[int, int]:
    """``(n, d)`` for a classifier that sees audio up to ``seconds`` past each token's first
    frame: memory tokens ≤ t + n, the features delayed by d frames.

    Token t's first frame is feature frame ``16t`` (:data:`PER_FRAME` features per motion frame,
    4 frames per token); memory token t + n holds feature frames up to ``16(t + n) + 15 − d``,
    the audio stem reaches :attr:`AudioEncoder.STEM_REACH` frames further, and each feature frame
    :data:`~eggesture.features.audio.FEATURE_REACH_S` seconds (its analysis window). The
    largest reach within ``seconds`` is taken: n as large and d as small as allowed."""
    per_token = PER_FRAME * FRAMES_PER_TOKEN
    rate = PER_FRAME * fps  # feature frames per second
    budget = int(math.floor((seconds - FEATURE_REACH_S) * rate + 1e-9))
    budget -= per_token - 1 + AudioEncoder.STEM_REACH  # feature frames past the token's own
    if budget + per_token - 1 < 0:  # the delay would pass a whole token
        shortest = lookahead_reach(0, per_token - 1, fps)
        raise ValueError(f"model.lookahead {seconds:g} s is shorter than the audio features' and "
                         f"the stem's own reach ({shortest:.3f} s)")
    n = max(0, -(-budget // per_token))  # ceil
    return n, n * per_token - budget


def lookahead_reach(n: int, d: int, fps: float) -> float:
    """Seconds past a token's first frame that a classifier with plan ``(n, d)`` sees."""
    last = FRAMES_PER_TOKEN * PER_FRAME * (n + 1) - 1 - d + AudioEncoder.STEM_REACH
    return last / (PER_FRAME * fps) + FEATURE_REACH_S


class IndexClassifier(nn.Module):
    """Predict logits ``(B, n_tokens, K)`` from audio features, words and seed tokens.

    ``text_encoder`` may be None (audio only). With ``text_dropout`` > 0, training hides the whole
    transcript of a window with that probability, so the model also works without one; with
    ``word_dropout`` > 0, each word (:func:`drop_words`), so unknown words do not hurt.
    """

    def __init__(self, *, codebook_size: int, n_tokens: int, seed_tokens: int,
                 audio_encoder: AudioEncoder, text_encoder: LearnedTextEncoder | None,
                 d_model: int = 256, heads: int = 4, layers: int = 4, dropout: float = 0.1,
                 text_dropout: float = 0.1, word_dropout: float = 0.0, arch: str = "transformer",
                 tied_head: bool = False, code_dim: int | None = None, distance: str = "cosine",
                 logit_scale: float = 10.0, lookahead: tuple[int, int] | None = None):
        super().__init__()
        if not 0 <= seed_tokens < n_tokens:
            raise ValueError(f"seed_tokens must be in [0, n_tokens), got {seed_tokens}")
        if lookahead is not None and arch == "lstm":
            raise ValueError("a lookahead needs the transformer classifier (the LSTM's encoders "
                             "are bidirectional)")
        self.lookahead = lookahead  # (n, d) of lookahead_plan, or None: the whole window
        self.codebook_size, self.n_tokens, self.seed_tokens = codebook_size, n_tokens, seed_tokens
        self.arch, self.text_dropout, self.word_dropout = arch, text_dropout, word_dropout
        self.audio_encoder, self.text_encoder = audio_encoder, text_encoder
        n_streams = 2 if text_encoder is not None else 1
        self.fuse = nn.Sequential(nn.Linear(n_streams * d_model, d_model), nn.LayerNorm(d_model))
        self.positions = nn.Parameter(torch.randn(n_tokens, d_model) * 0.02)
        self.code_embed = nn.Embedding(codebook_size, d_model)
        self.unseeded = nn.Parameter(torch.zeros(d_model))
        if arch == "lstm":
            self.decoder = nn.LSTM(2 * d_model, d_model, num_layers=max(1, layers),
                                   batch_first=True, dropout=dropout if layers > 1 else 0.0)
        else:
            layer = nn.TransformerDecoderLayer(d_model, heads, 2 * d_model, dropout,
                                               batch_first=True, norm_first=True)
            self.decoder = nn.TransformerDecoder(layer, max(1, layers))
        self.tied_head, self.distance = tied_head, distance
        if tied_head:
            if code_dim is None:
                raise ValueError("a tied head needs code_dim")
            if not logit_scale > 0:
                raise ValueError(f"logit_scale must be positive, got {logit_scale}")
            self.head = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, code_dim))
            self.logit_scale = nn.Parameter(torch.tensor(math.log(logit_scale)))  # learned, log s
        else:
            self.head = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, codebook_size))

    def memory(self, audio_feats: torch.Tensor, words: torch.Tensor | None) -> torch.Tensor:
        """Fused audio–text memory ``(B, n_tokens, d_model)``."""
        if self.lookahead is None:
            streams = [self.audio_encoder(audio_feats, self.n_tokens)]
        else:
            streams = [self.audio_encoder(audio_feats, self.n_tokens, causal=True,
                                          delay=self.lookahead[1])]
        if self.text_encoder is not None:
            if words is None:
                words = torch.zeros(audio_feats.shape[0], self.n_tokens * 4, dtype=torch.long,
                                    device=audio_feats.device)
            elif self.training:
                words = drop_words(words, self.word_dropout, self.text_dropout)
            streams.append(self.text_encoder(words, self.n_tokens, causal=self.lookahead is not None))
        return self.fuse(torch.cat(streams, dim=-1))

    def queries(self, seed: torch.Tensor | None, batch: int) -> torch.Tensor:
        """Positional embeddings plus seed-token embeddings ``(B, n_tokens, d_model)``."""
        q = self.positions.expand(batch, -1, -1)
        fill = self.unseeded.expand(batch, self.n_tokens, -1)
        if self.seed_tokens and seed is not None:
            s = self.code_embed(seed[:, : self.seed_tokens])  # (B, S, d)
            fill = torch.cat([s, fill[:, self.seed_tokens:]], dim=1)
        return q + fill

    def forward(self, audio_feats: torch.Tensor, words: torch.Tensor | None,
                seed: torch.Tensor | None, codes: torch.Tensor | None = None) -> torch.Tensor:
        """``audio_feats (B, 4·T, F)``, ``words (B, T)`` or None, ``seed (B, ≥seed_tokens)``
        code indices or None → logits ``(B, n_tokens, K)`` with T = 4 · n_tokens frames.
        ``codes (K, code_dim)``: the codebook in the quantizer's geometry (tied head only)."""
        mem = self.memory(audio_feats, words)
        q = self.queries(seed, audio_feats.shape[0])
        if self.arch == "lstm":
            h = self.decoder(torch.cat([q, mem], dim=-1))[0]
        elif self.lookahead is None:
            h = self.decoder(q, mem)
        else:
            n = self.n_tokens
            h = self.decoder(q, mem, tgt_mask=causal_mask(n, q.device),
                             memory_mask=causal_mask(n, q.device, ahead=self.lookahead[0]))
        out = self.head(h)
        if not self.tied_head:
            return out
        if codes is None:
            raise ValueError("a tied head needs the codebook (codes=...)")
        codes = codes.detach()
        scale = self.logit_scale.exp()
        if self.distance == "cosine":
            return scale * F.normalize(out, dim=-1) @ codes.T
        # −‖h − e‖² = 2 h·e − ‖e‖² − ‖h‖²
        sq = 2 * out @ codes.T - (codes * codes).sum(-1) - (out * out).sum(-1, keepdim=True)
        return scale * sq


#: The floor of a prior probability in :func:`adjust_logits`, as a share of uniform (1/K): a code
#: that is never a target gets log(0.1/K), not −∞, so its logit stays finite.
PRIOR_FLOOR = 0.1


def adjust_logits(logits: torch.Tensor, prior: torch.Tensor, tau: float) -> torch.Tensor:
    """``logits + τ·log π`` (logit adjustment, Menon et al. 2021) for ``logits (..., K)`` and a
    prior ``π (K,)`` (renormalised, floored at :data:`PRIOR_FLOOR`/K). Training adds it with
    τ > 0 (the loss sees the prior, so the raw logits learn the balanced part); at generation a
    negative τ (−τ′) is the post-hoc variant."""
    if tau == 0:
        return logits
    k = prior.numel()
    p = prior.float() / prior.float().sum().clamp_min(1e-12)
    return logits + tau * torch.log(p.clamp_min(PRIOR_FLOOR / k)).to(logits.dtype)


def drop_words(words: torch.Tensor, word_p: float, text_p: float) -> torch.Tensor:
    """Frame-aligned word ids ``(B, T)`` with whole words (runs of one id) set to padding (0,
    "no text") with probability ``word_p``, and a window's whole transcript with ``text_p``.

    Trains the text path to read padding as "no information", so that words a model never saw
    (padding at generation: :meth:`eggesture.bundle.Bundle.word_ids`) and a missing transcript
    give the motion the audio alone gives. Draws from the global RNG, which checkpoints save.
    """
    if word_p <= 0 and text_p <= 0:
        return words
    b, t = words.shape
    start = torch.ones_like(words, dtype=torch.bool)
    start[:, 1:] = words[:, 1:] != words[:, :-1]
    run = torch.cumsum(start.long(), dim=1) - 1  # (B, T): the word each frame belongs to
    drop = torch.rand(b, 1, device=words.device) < text_p
    if word_p > 0:
        drop = drop | (torch.gather(torch.rand(b, t, device=words.device), 1, run) < word_p)
    return words.masked_fill(drop, 0)

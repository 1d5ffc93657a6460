"""Vector quantizers: the vanilla VQ (paper eq. 1–4) and the entropy-guided quantizer (eq. 5–9).

Both map encoder latents ``z (B, T, D)`` to their nearest codebook vectors with a
straight-through gradient and a commitment loss, and return one :class:`QuantizerOutput`.

The entropy-guided quantizer (EGGesture §3.2) adds a *differentiable* estimate of how the batch
uses the codebook, and a loss that pushes that usage towards uniform:

* ``s = cos(z, e_k)`` for every code (eq. 5; DESIGN §3 reads the paper's ``log s`` as logits,
  since the log of a cosine is undefined for s ≤ 0),
* ``p = softmax((s / t + n) / τ)`` with Gumbel noise ``n = −log(−log u)`` in training only
  (eq. 6–7; ``gumbel=False`` gives the plain softmax of the ``w/o gumbel`` ablation),
* ``p̄ = mean_N p`` and the moving average ``p_t = α·sg(p_{t−1}) + (1 − α)·p̄`` (eq. 8), kept in
  a buffer and averaged across processes under DDP so every rank holds the same state,
* ``l_entropy = log K − H(p_t)`` with ``H = −Σ p_t log p_t`` (eq. 9, sign fixed as the paper's
  text intends: the loss *maximises* the entropy; it is 0 at uniform usage, log K for one code).

Example::

    >>> import torch
    >>> from eggesture.models.quantizer import EntropyGuidedQuantizer
    >>> vq = EntropyGuidedQuantizer(codebook_size=512, dim=256)
    >>> out = vq(torch.randn(8, 75, 256))          # (B, T, D)
    >>> out.quantized.shape, out.indices.shape      # straight-through codes, code indices
    (torch.Size([8, 75, 256]), torch.Size([8, 75]))
    >>> loss = out.losses["commit"] + out.losses["entropy"]
    >>> out.probs.shape                             # p_t: moving-average code probabilities
    torch.Size([512])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from torch.utils.checkpoint import checkpoint


@dataclass
class QuantizerOutput:
    """What a quantizer returns (shapes for input ``z (B, T, D)``, codebook size K)."""

    quantized: torch.Tensor
    """``(B, T, D)`` nearest codes with the straight-through gradient ``z + sg(ẑ − z)`` (eq. 3)."""
    indices: torch.Tensor
    """``(B, T)`` code indices (eq. 1)."""
    probs: torch.Tensor
    """``(K,)`` moving-average code probabilities ``p_t`` (differentiable for the entropy
    quantizer; the moving average of hard usage, without gradient, for the vanilla one)."""
    losses: dict[str, torch.Tensor] = field(default_factory=dict)
    """``commit`` (eq. 4) and ``entropy`` (eq. 9; zero for the vanilla quantizer), scalars."""
    perplexity: torch.Tensor | None = None
    """``exp(H)`` of this batch's hard code usage, a scalar in [1, K]."""
    utilization: torch.Tensor | None = None
    """Fraction of the K codes used at least once in this batch."""
    soft_assign: torch.Tensor | None = None
    """``(B, T, K)`` soft assignment ``p``, only when asked for (``return_soft=True``)."""


def _chunks(n: int, chunk: int) -> list[slice]:
    return [slice(i, min(i + chunk, n)) for i in range(0, n, chunk)]


def _ddp_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` over all processes (identity outside torch.distributed)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        x = x.clone()
        dist.all_reduce(x, op=dist.ReduceOp.SUM)
        x /= dist.get_world_size()
    return x


class VectorQuantizer(nn.Module):
    """Vanilla VQ: nearest code, straight-through estimator, commitment loss (eq. 1–4).

    ``l_commit = ‖z − sg(ẑ)‖² + β‖sg(z) − ẑ‖²`` (mean over elements). ``distance`` is
    ``"euclidean"`` (default) or ``"cosine"`` for the nearest-code lookup. A moving average of
    hard code usage (``alpha``) is kept so classification can be reweighted for this codebook too
    (the paper's reweighting-only baselines, Table 3). Token × code matrices are processed in
    chunks of at most ``chunk_elements`` entries, so memory stays bounded for large K.
    """

    def _rows(self) -> int:
        """Tokens per chunk of a (tokens × K) matrix."""
        return max(1, self.chunk_elements // self.codebook_size)

    def __init__(self, *, codebook_size: int = 512, dim: int = 256, beta: float = 0.1,
                 alpha: float = 0.95, distance: str = "euclidean", chunk_elements: int = 1 << 25):
        super().__init__()
        if codebook_size < 2:
            raise ValueError(f"codebook_size must be ≥ 2, got {codebook_size}")
        if distance not in ("euclidean", "cosine"):
            raise ValueError(f"distance must be 'euclidean' or 'cosine', got {distance!r}")
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        self.codebook_size, self.dim, self.beta, self.alpha = codebook_size, dim, beta, alpha
        self.distance, self.chunk_elements = distance, chunk_elements
        self.codebook = nn.Parameter(torch.empty(codebook_size, dim).uniform_(
            -1.0 / codebook_size, 1.0 / codebook_size))
        self.register_buffer("ema_probs", torch.full((codebook_size,), 1.0 / codebook_size))

    @torch.no_grad()
    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """Indices ``(N,)`` of the nearest codes to ``flat (N, D)``, in chunks of rows."""
        codes = self.codebook
        if self.distance == "cosine":
            codes, flat = F.normalize(codes, dim=-1), F.normalize(flat, dim=-1)
        sq = (codes * codes).sum(-1)  # (K,)
        out = []
        for sl in _chunks(flat.shape[0], self._rows()):
            # ‖z − e‖² = ‖z‖² − 2 z·e + ‖e‖²; ‖z‖² does not change the argmin.
            out.append((sq - 2 * flat[sl] @ codes.T).argmin(-1))
        return torch.cat(out) if out else torch.zeros(0, dtype=torch.long, device=flat.device)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Codes ``(..., D)`` of ``indices (...)``."""
        return F.embedding(indices, self.codebook)

    def _quantize(self, flat: torch.Tensor, idx: torch.Tensor):
        """Codes of ``idx``, the straight-through output and the commitment loss (eq. 3–4)."""
        zq = self.lookup(idx)  # (N, D)
        commit = F.mse_loss(flat, zq.detach()) + self.beta * F.mse_loss(flat.detach(), zq)
        st = flat + (zq - flat).detach()  # straight-through (eq. 3)
        return st, commit

    def _usage(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        counts = torch.bincount(idx, minlength=self.codebook_size).float()
        freq = counts / counts.sum().clamp_min(1)
        ent = -(freq * torch.log(freq.clamp_min(1e-12))).sum()
        return freq, torch.exp(ent), (counts > 0).float().mean()

    def forward(self, z: torch.Tensor, return_soft: bool = False) -> QuantizerOutput:
        """Quantize ``z (B, T, D)``."""
        b, t, _ = z.shape
        flat = rearrange(z, "b t d -> (b t) d")
        idx = self.nearest(flat.detach())  # (N,) eq. 1
        st, commit = self._quantize(flat, idx)
        freq, perplexity, util = self._usage(idx)
        if self.training:
            with torch.no_grad():
                self.ema_probs.mul_(self.alpha).add_((1 - self.alpha) * _ddp_mean(freq))
        return QuantizerOutput(
            quantized=rearrange(st, "(b t) d -> b t d", b=b, t=t),
            indices=rearrange(idx, "(b t) -> b t", b=b, t=t),
            probs=self.ema_probs.clone(),
            losses={"commit": commit, "entropy": torch.zeros((), device=z.device)},
            perplexity=perplexity, utilization=util,
        )


class EntropyGuidedQuantizer(VectorQuantizer):
    """EGGesture's quantizer: vanilla VQ plus the differentiable codebook-entropy loss.

    ``sim_temperature`` is t (cosine logits ``s / t``), ``tau`` the Gumbel-softmax temperature,
    ``alpha`` the moving-average factor of eq. 8, ``gumbel=False`` the plain-softmax ablation.
    When the (tokens × K) similarity matrix exceeds ``chunk_elements`` entries, the soft
    assignment is computed in chunks with activation checkpointing, so memory stays bounded for
    large codebooks (K = 10240) and batches. With the cosine lookup, the hard codes are the
    argmax of the same similarities, computed once.
    """

    def __init__(self, *, codebook_size: int = 512, dim: int = 256, beta: float = 0.1,
                 alpha: float = 0.95, sim_temperature: float = 0.1, tau: float = 1.0,
                 gumbel: bool = True, distance: str = "euclidean", chunk_elements: int = 1 << 25):
        super().__init__(codebook_size=codebook_size, dim=dim, beta=beta, alpha=alpha,
                         distance=distance, chunk_elements=chunk_elements)
        if sim_temperature <= 0 or tau <= 0:
            raise ValueError("sim_temperature and tau must be positive")
        self.sim_temperature, self.tau, self.gumbel = sim_temperature, tau, gumbel

    def _logits(self, flat: torch.Tensor) -> torch.Tensor:
        """``cos(z, e) / t`` ``(N, K)`` (eq. 5)."""
        return F.normalize(flat, dim=-1) @ F.normalize(self.codebook, dim=-1).T / self.sim_temperature

    def _softmax(self, logits: torch.Tensor, noise: bool) -> torch.Tensor:
        """``softmax((logits + n) / τ)`` with Gumbel noise ``n = −log(−log u)``, ``u ~ U(0, 1)``
        (eq. 6–7), only if ``noise``."""
        if noise:
            u = torch.rand_like(logits).clamp_(1e-10, 1.0 - 1e-7)
            logits = logits - u.log_().neg_().log_()  # in place: a third of the time of exp/log
        return torch.softmax(logits / self.tau, dim=-1)

    def soft_assign(self, flat: torch.Tensor, noise: bool) -> torch.Tensor:
        """``p (N, K) = softmax((cos(z, e) / t + n) / τ)`` (eq. 5–7); noise only if ``noise``."""
        return self._softmax(self._logits(flat), noise)

    def _assign(self, flat: torch.Tensor, noise: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Hard codes ``(N,)`` and ``p̄ = mean_N p`` ``(K,)``, chunked when the matrix is large."""
        n = flat.shape[0]
        if n <= self._rows():
            logits = self._logits(flat)
            if self.distance == "cosine":
                idx = logits.detach().argmax(-1)
            else:
                idx = self.nearest(flat.detach())
            return idx, self._softmax(logits, noise).mean(0)
        total, blocks = flat.new_zeros(self.codebook_size), []
        for sl in _chunks(n, self._rows()):
            # The checkpoint re-runs the chunk in backward; the RNG state is restored, so the
            # recomputed Gumbel noise is the noise of the forward pass.
            part, i = checkpoint(self._block, flat[sl], noise, use_reentrant=False)
            total, blocks = total + part, blocks + [i]
        idx = torch.cat(blocks) if self.distance == "cosine" else self.nearest(flat.detach())
        return idx, total / n

    def _block(self, x: torch.Tensor, noise: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """One chunk: ``Σ p`` over its rows ``(K,)`` and its cosine argmax ``(rows,)``."""
        logits = self._logits(x)
        return self._softmax(logits, noise).sum(0), logits.detach().argmax(-1)

    def forward(self, z: torch.Tensor, return_soft: bool = False) -> QuantizerOutput:
        """Quantize ``z (B, T, D)`` and compute the entropy loss of the moving-average usage."""
        b, t, _ = z.shape
        flat = rearrange(z, "b t d -> (b t) d")
        noise = self.gumbel and self.training
        idx, p_bar = self._assign(flat, noise)  # (N,), (K,)
        st, commit = self._quantize(flat, idx)
        # Every rank mixes the same global mean into its state; gradients flow through the
        # local part only (straight-through for the other ranks' contribution).
        p_bar = p_bar + (_ddp_mean(p_bar.detach()) - p_bar.detach())
        p_t = self.alpha * self.ema_probs + (1 - self.alpha) * p_bar  # eq. 8 (buffer is sg)
        if self.training:
            with torch.no_grad():
                self.ema_probs.copy_(p_t.detach())
        _, perplexity, util = self._usage(idx)
        soft = None
        if return_soft:
            soft = rearrange(self.soft_assign(flat, noise), "(b t) k -> b t k", b=b, t=t)
        return QuantizerOutput(
            quantized=rearrange(st, "(b t) d -> b t d", b=b, t=t),
            indices=rearrange(idx, "(b t) -> b t", b=b, t=t),
            probs=p_t,
            losses={"commit": commit, "entropy": entropy_loss(p_t)},
            perplexity=perplexity, utilization=util, soft_assign=soft,
        )


def entropy_loss(p: torch.Tensor) -> torch.Tensor:
    """``log K − H(p)`` for a probability vector ``p (K,)``: 0 when uniform, log K when one-hot."""
    return math.log(p.shape[-1]) + (p * torch.log(p.clamp_min(1e-12))).sum(-1)

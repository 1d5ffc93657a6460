"""Vector quantizers: the vanilla VQ (paper eq. 1–4) and the entropy-guided quantizer (eq. 5–9).

Both map encoder latents ``z (B, T, D)`` to their nearest codebook vectors with a
straight-through gradient and a commitment loss, and return one :class:`QuantizerOutput`.

**One geometry per quantizer** (DESIGN §3): ``distance="cosine"`` L2-normalises latents and
codes *everywhere* — the lookup, the straight-through output the decoder receives, the
commitment loss and the similarities of the entropy (the "l2-normalised codes" of ViT-VQGAN);
``distance="euclidean"`` keeps raw vectors everywhere and takes the entropy's similarities as
``−‖z − e‖²``. (A cosine lookup with raw vectors in the straight-through path handed the decoder
near-zero codes: docs/decisions.md.)

The entropy-guided quantizer (EGGesture §3.2) adds a *differentiable* estimate of how the batch
uses the codebook, and a loss that pushes that usage towards uniform:

* ``s_k = cos(z, e_k)`` (or ``−‖z − e_k‖²``) for every code (eq. 5; DESIGN §3 reads the paper's
  ``log s`` as logits, since the log of a cosine is undefined for s ≤ 0),
* ``p = softmax((s / t + n) / τ)`` with Gumbel noise ``n = −log(−log u)`` in training only
  (eq. 6–7; ``gumbel=False`` gives the plain softmax of the ``w/o gumbel`` ablation),
* ``p̄ = mean_N p`` and the moving average ``p_t = α·sg(p_{t−1}) + (1 − α)·p̄`` (eq. 8), kept in
  a buffer and averaged across processes under DDP so every rank holds the same state,
* ``l_entropy = log K − H(p_t)`` with ``H = −Σ p_t log p_t`` (eq. 9, sign fixed as the paper's
  text intends: the loss *maximises* the entropy; it is 0 at uniform usage, log K for one code).

Both quantizers also keep a moving average of *hard* code usage (``usage``), the code
frequencies that the classification weights of eq. 10 need: the soft ``p_t`` is what the entropy
loss flattens, so it does not track how often each code is really a target.

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
    """``(B, T, D)`` codes with the straight-through gradient ``z + sg(ẑ − z)`` (eq. 3), both in
    the quantizer's geometry (unit vectors for the cosine geometry)."""
    indices: torch.Tensor
    """``(B, T)`` code indices (eq. 1)."""
    probs: torch.Tensor
    """``(K,)`` moving-average code probabilities ``p_t`` of eq. 8 (differentiable) for the
    entropy quantizer; the same as ``usage`` for the vanilla one."""
    usage: torch.Tensor
    """``(K,)`` moving average of hard code usage (no gradient): the code frequencies."""
    losses: dict[str, torch.Tensor] = field(default_factory=dict)
    """``commit`` (eq. 4) and ``entropy`` (eq. 9; zero for the vanilla quantizer), scalars."""
    perplexity: torch.Tensor | None = None
    """``exp(H)`` of this batch's hard code usage, a scalar in [1, K]."""
    utilization: torch.Tensor | None = None
    """Fraction of the K codes used at least once in this batch."""
    soft_assign: torch.Tensor | None = None
    """``(B, T, K)`` soft assignment ``p``, only when asked for (``return_soft=True``)."""
    batch_soft_usage: torch.Tensor | None = None
    """``(K,)`` this batch's mean soft assignment ``p̄`` (no gradient; entropy quantizer only)."""


def _chunks(n: int, chunk: int) -> list[slice]:
    return [slice(i, min(i + chunk, n)) for i in range(0, n, chunk)]


def _ddp_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` over all processes (identity outside torch.distributed)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        x = x.clone()
        dist.all_reduce(x, op=dist.ReduceOp.SUM)
        x /= dist.get_world_size()
    return x


#: The quantizer geometries.
DISTANCES = ("euclidean", "cosine")


class VectorQuantizer(nn.Module):
    """Vanilla VQ: nearest code, straight-through estimator, commitment loss (eq. 1–4).

    ``l_commit = ‖z − sg(ẑ)‖² + β‖sg(z) − ẑ‖²`` (mean over elements). ``distance`` is the
    geometry: ``"euclidean"`` (default, TM2T) or ``"cosine"`` (latents and codes L2-normalised
    in the lookup, the output and the commitment loss alike). A moving average of hard code
    usage (``alpha``) is kept so classification can be reweighted by code frequency (eq. 10,
    and the paper's reweighting-only baselines, Table 3). Token × code matrices are processed
    in chunks of at most ``chunk_elements`` entries, so memory stays bounded for large K.
    """

    def _rows(self) -> int:
        """Tokens per chunk of a (tokens × K) matrix."""
        return max(1, self.chunk_elements // self.codebook_size)

    def __init__(self, *, codebook_size: int = 512, dim: int = 256, beta: float = 0.1,
                 alpha: float = 0.95, distance: str = "euclidean", chunk_elements: int = 1 << 25):
        super().__init__()
        if codebook_size < 2:
            raise ValueError(f"codebook_size must be ≥ 2, got {codebook_size}")
        if distance not in DISTANCES:
            raise ValueError(f"distance must be 'euclidean' or 'cosine', got {distance!r}")
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        self.codebook_size, self.dim, self.beta, self.alpha = codebook_size, dim, beta, alpha
        self.distance, self.chunk_elements = distance, chunk_elements
        self.codebook = nn.Parameter(torch.empty(codebook_size, dim).uniform_(
            -1.0 / codebook_size, 1.0 / codebook_size))
        self.register_buffer("usage_probs", torch.full((codebook_size,), 1.0 / codebook_size))

    # --- the geometry -----------------------------------------------------------------------

    def codes(self) -> torch.Tensor:
        """The codebook ``(K, D)`` in the quantizer's geometry (unit rows for cosine)."""
        return F.normalize(self.codebook, dim=-1) if self.distance == "cosine" else self.codebook

    def project(self, flat: torch.Tensor) -> torch.Tensor:
        """Latents ``(N, D)`` in the quantizer's geometry (unit rows for cosine)."""
        return F.normalize(flat, dim=-1) if self.distance == "cosine" else flat

    def similarity(self, flat: torch.Tensor, codes: torch.Tensor | None = None) -> torch.Tensor:
        """``(N, K)`` similarities of projected latents ``flat (N, D)`` to the codes: cosine
        for the cosine geometry, ``−‖z − e‖²`` for the Euclidean one (larger = nearer)."""
        codes = self.codes() if codes is None else codes
        dot = flat @ codes.T
        if self.distance == "cosine":
            return dot
        # −‖z − e‖² = 2 z·e − ‖e‖² − ‖z‖²
        return 2 * dot - (codes * codes).sum(-1) - (flat * flat).sum(-1, keepdim=True)

    @torch.no_grad()
    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """Indices ``(N,)`` of the nearest codes to raw latents ``flat (N, D)``, in chunks."""
        flat, codes = self.project(flat), self.codes()
        out = [self.similarity(flat[sl], codes).argmax(-1) for sl in _chunks(flat.shape[0], self._rows())]
        return torch.cat(out) if out else torch.zeros(0, dtype=torch.long, device=flat.device)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Codes ``(..., D)`` of ``indices (...)``, in the quantizer's geometry — what the
        decoder receives."""
        return F.embedding(indices, self.codes())

    # --- one step ---------------------------------------------------------------------------

    def _quantize(self, proj: torch.Tensor, idx: torch.Tensor):
        """Codes of ``idx``, the straight-through output and the commitment loss (eq. 3–4), all
        on the projected latents ``proj (N, D)``."""
        zq = self.lookup(idx)  # (N, D)
        commit = F.mse_loss(proj, zq.detach()) + self.beta * F.mse_loss(proj.detach(), zq)
        st = proj + (zq - proj).detach()  # straight-through (eq. 3)
        return st, commit

    def _usage(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """This batch's hard usage: frequencies ``(K,)``, perplexity and utilisation; in training
        the frequencies also update the moving average ``usage_probs``."""
        counts = torch.bincount(idx, minlength=self.codebook_size).float()
        freq = counts / counts.sum().clamp_min(1)
        ent = -(freq * torch.log(freq.clamp_min(1e-12))).sum()
        if self.training:
            with torch.no_grad():
                self.usage_probs.mul_(self.alpha).add_((1 - self.alpha) * _ddp_mean(freq))
        return freq, torch.exp(ent), (counts > 0).float().mean()

    def forward(self, z: torch.Tensor, return_soft: bool = False) -> QuantizerOutput:
        """Quantize ``z (B, T, D)`` (``return_soft`` is ignored: no soft assignment here)."""
        b, t, _ = z.shape
        flat = self.project(rearrange(z, "b t d -> (b t) d"))
        idx = self.nearest(flat.detach())  # (N,) eq. 1
        st, commit = self._quantize(flat, idx)
        _, perplexity, util = self._usage(idx)
        usage = self.usage_probs.clone()
        return QuantizerOutput(
            quantized=rearrange(st, "(b t) d -> b t d", b=b, t=t),
            indices=rearrange(idx, "(b t) -> b t", b=b, t=t),
            probs=usage, usage=usage,
            losses={"commit": commit, "entropy": torch.zeros((), device=z.device)},
            perplexity=perplexity, utilization=util,
        )


class EntropyGuidedQuantizer(VectorQuantizer):
    """EGGesture's quantizer: vanilla VQ plus the differentiable codebook-entropy loss.

    ``sim_temperature`` is t (similarity logits ``s / t``; 1.0 suits the Euclidean
    ``s = −‖z − e‖²`` of latents of unit scale, 0.1 the cosine), ``tau`` the Gumbel-softmax
    temperature, ``alpha`` the moving-average factor of eq. 8, ``gumbel=False`` the
    plain-softmax ablation. The hard code is the argmax of the same similarities the soft
    assignment is computed from. When the (tokens × K) similarity matrix exceeds
    ``chunk_elements`` entries, the soft assignment is computed in chunks with activation
    checkpointing, so memory stays bounded for large codebooks (K = 10240) and batches.
    """

    def __init__(self, *, codebook_size: int = 512, dim: int = 256, beta: float = 0.1,
                 alpha: float = 0.95, sim_temperature: float = 1.0, tau: float = 1.0,
                 gumbel: bool = True, distance: str = "euclidean", chunk_elements: int = 1 << 25):
        super().__init__(codebook_size=codebook_size, dim=dim, beta=beta, alpha=alpha,
                         distance=distance, chunk_elements=chunk_elements)
        if sim_temperature <= 0 or tau <= 0:
            raise ValueError("sim_temperature and tau must be positive")
        self.sim_temperature, self.tau, self.gumbel = sim_temperature, tau, gumbel
        self.register_buffer("ema_probs", torch.full((codebook_size,), 1.0 / codebook_size))

    def _logits(self, proj: torch.Tensor) -> torch.Tensor:
        """``s / t`` ``(N, K)`` for projected latents (eq. 5)."""
        return self.similarity(proj) / self.sim_temperature

    def _softmax(self, logits: torch.Tensor, noise: bool) -> torch.Tensor:
        """``softmax((logits + n) / τ)`` with Gumbel noise ``n = −log(−log u)``, ``u ~ U(0, 1)``
        (eq. 6–7), only if ``noise``."""
        if noise:
            u = torch.rand_like(logits).clamp_(1e-10, 1.0 - 1e-7)
            logits = logits - u.log_().neg_().log_()  # in place: a third of the time of exp/log
        return torch.softmax(logits / self.tau, dim=-1)

    def soft_assign(self, flat: torch.Tensor, noise: bool) -> torch.Tensor:
        """``p (N, K) = softmax((s(z, e) / t + n) / τ)`` for raw latents ``flat (N, D)``
        (eq. 5–7); noise only if ``noise``."""
        return self._softmax(self._logits(self.project(flat)), noise)

    def _assign(self, proj: torch.Tensor, noise: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Hard codes ``(N,)`` and ``p̄ = mean_N p`` ``(K,)``, chunked when the matrix is large."""
        n = proj.shape[0]
        if n <= self._rows():
            logits = self._logits(proj)
            return logits.detach().argmax(-1), self._softmax(logits, noise).mean(0)
        total, blocks = proj.new_zeros(self.codebook_size), []
        for sl in _chunks(n, self._rows()):
            # The checkpoint re-runs the chunk in backward; the RNG state is restored, so the
            # recomputed Gumbel noise is the noise of the forward pass.
            part, i = checkpoint(self._block, proj[sl], noise, use_reentrant=False)
            total, blocks = total + part, blocks + [i]
        return torch.cat(blocks), total / n

    def _block(self, x: torch.Tensor, noise: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """One chunk: ``Σ p`` over its rows ``(K,)`` and its argmax ``(rows,)``."""
        logits = self._logits(x)
        return self._softmax(logits, noise).sum(0), logits.detach().argmax(-1)

    def forward(self, z: torch.Tensor, return_soft: bool = False) -> QuantizerOutput:
        """Quantize ``z (B, T, D)`` and compute the entropy loss of the moving-average usage;
        ``return_soft`` also returns the soft assignment ``(B, T, K)``."""
        b, t, _ = z.shape
        flat = self.project(rearrange(z, "b t d -> (b t) d"))  # (N, D) in the geometry
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
            soft = rearrange(self._softmax(self._logits(flat), noise), "(b t) k -> b t k", b=b, t=t)
        return QuantizerOutput(
            quantized=rearrange(st, "(b t) d -> b t d", b=b, t=t),
            indices=rearrange(idx, "(b t) -> b t", b=b, t=t),
            probs=p_t, usage=self.usage_probs.clone(),
            losses={"commit": commit, "entropy": entropy_loss(p_t)},
            perplexity=perplexity, utilization=util, soft_assign=soft,
            batch_soft_usage=p_bar.detach(),
        )


def entropy_loss(p: torch.Tensor) -> torch.Tensor:
    """``log K − H(p)`` for a probability vector ``p (K,)``: 0 when uniform, log K when one-hot."""
    return math.log(p.shape[-1]) + (p * torch.log(p.clamp_min(1e-12))).sum(-1)

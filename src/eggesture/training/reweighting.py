"""Entropy-guided classification loss (paper eq. 10) and the reweighting strategies of Table 3.

Code k's weight is a function of its inverse probability, ``x_k = (1/p_k) / mean_j(1/p_j)``
(probabilities from the quantizer's moving average, detached; ``mean`` over the codes in use):

=========  ==========================
strategy   f(x)
=========  ==========================
none       1
log        log(1 + x)
sqrt       √x
linear     x            (EGGesture)
square     x²
exp        exp(x)
=========  ==========================

The weights are then normalised so their expectation under the code distribution is 1
(``Σ_k p_k w_k = 1``, which keeps the loss on the scale of the unweighted NLL) and clamped at
``max_weight`` so that codes with a vanishing probability cannot dominate (DESIGN §3). Codes
whose probability is below ``min_prob`` count as unused: they get the clamp value and do not
enter the normalisation (they are never targets).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..config import REWEIGHTS

STRATEGIES = REWEIGHTS


def class_weights(probs: torch.Tensor, strategy: str = "linear", max_weight: float = 20.0,
                  min_prob: float | None = None) -> torch.Tensor:
    """Per-code weights ``(K,)`` from code probabilities ``probs (K,)``."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown reweighting strategy {strategy!r}; choose from {STRATEGIES}")
    p = probs.detach().float()
    p = p / p.sum().clamp_min(1e-12)
    if strategy == "none":
        return torch.ones_like(p)
    k = p.numel()
    min_prob = 1e-3 / k if min_prob is None else min_prob
    used = p >= min_prob
    inv = torch.where(used, 1.0 / p.clamp_min(min_prob), torch.zeros_like(p))
    x = inv / inv[used].mean()
    f = {"log": torch.log1p, "sqrt": torch.sqrt, "linear": lambda v: v,
         "square": torch.square, "exp": lambda v: torch.exp(v - v[used].max())}[strategy](x)
    w = f / (p[used] * f[used]).sum().clamp_min(1e-12)
    return torch.where(used, w, torch.full_like(w, max_weight)).clamp(max=max_weight)


def weighted_nll(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None,
                 mask: torch.Tensor | None = None) -> torch.Tensor:
    """``(1/n) Σ_i w_{y_i} · (−log softmax(logits_i)[y_i])`` (eq. 10, averaged over tokens).

    ``logits (B, T, K)``, ``targets (B, T)``, ``weights (K,)`` or None, ``mask (B, T)`` bool of
    the tokens that count.
    """
    nll = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # (B, T)
    if weights is not None:
        nll = nll * weights[targets]
    if mask is not None:
        return (nll * mask).sum() / mask.sum().clamp_min(1)
    return nll.mean()

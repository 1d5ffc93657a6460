"""The classification losses: entropy-guided weighting (paper eq. 10), Table 3's reweighting
strategies, and the long-tail losses made for a skewed prior over many classes.

``train.cls_loss`` names one (DESIGN §3); each states where its prior over the codes comes from —
``soft``: eq. 8's moving average ``p_t`` (what the entropy loss flattens; the vanilla quantizer has
none and gives its hard usage instead), ``hard``: the moving average of hard code usage (how
often each code really is a target):

=================  =====  ===========================================================================
cls_loss           prior  loss over the target tokens
=================  =====  ===========================================================================
none               –      cross-entropy
paper              soft   ``w_{y} · CE``, ``w = f(1/p_t)`` (eq. 10 read literally; f from Table 3)
hard               hard   ``w_{y} · CE``, ``w = f(1/π)`` (this project's earlier rule)
logit_adjusted     hard   ``CE(f + τ·log π)`` (Menon et al., ICLR 2021); optional post-hoc
                          ``argmax f − τ′·log π`` at generation (``model.posthoc_tau``)
balanced_softmax   hard   ``CE(f + log π)`` (Ren et al., NeurIPS 2020: logit adjustment at τ = 1)
class_balanced     hard   ``w_{y} · CE``, ``w_k ∝ (1 − β)/(1 − β^{n_k})``, ``n_k = π_k · N`` the
                          effective number of samples (Cui et al., CVPR 2019; N target tokens/epoch)
=================  =====  ===========================================================================

The weighting strategies (``paper``, ``hard``):

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

import math

import torch
import torch.nn.functional as F

from ..config import CLS_LOSSES, REWEIGHTS
from ..models.classifier import adjust_logits

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


def effective_number_weights(probs: torch.Tensor, n_tokens: float, beta: float = 0.999,
                             max_weight: float = 20.0) -> torch.Tensor:
    """Class-balanced weights ``(K,)`` (Cui et al. 2019): ``(1 − β)/(1 − β^{n_k})`` with
    ``n_k = probs_k · n_tokens``, normalised so ``Σ_k p_k w_k = 1`` and clamped at ``max_weight``
    (a code that is never a target would otherwise get ``1/0``)."""
    p = probs.detach().float()
    p = p / p.sum().clamp_min(1e-12)
    n = p * float(n_tokens)
    w = (1 - beta) / (-torch.expm1(n * math.log(beta))).clamp_min(1e-12)  # 1 − β^n, stably
    w = w / (p * w).sum().clamp_min(1e-12)
    return w.clamp(max=max_weight)


def classification_loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None, *,
                        loss: str, soft: torch.Tensor, hard: torch.Tensor, strategy: str = "linear",
                        max_weight: float = 20.0, tau: float = 1.0, beta: float = 0.999,
                        n_tokens: float = 1.0) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The classification loss ``loss`` (this module's table) and its per-code weights ``(K,)``
    (None for the losses that do not weight).

    ``logits (B, T, K)``, ``targets (B, T)``, ``mask (B, T)`` bool of the tokens that count;
    ``soft (K,)`` eq. 8's ``p_t``, ``hard (K,)`` the hard-usage moving average (both detached
    here); ``strategy`` Table 3's ``f`` for ``paper``/``hard``; ``tau`` the logit adjustment's
    τ; ``beta`` and ``n_tokens`` (target tokens per epoch) for ``class_balanced``.
    """
    if loss not in CLS_LOSSES:
        raise ValueError(f"unknown classification loss {loss!r}; choose from {CLS_LOSSES}")
    weights = None
    if loss in ("paper", "hard"):
        weights = class_weights(soft if loss == "paper" else hard, strategy, max_weight)
    elif loss == "class_balanced":
        weights = effective_number_weights(hard, n_tokens, beta, max_weight)
    elif loss in ("logit_adjusted", "balanced_softmax"):
        t = tau if loss == "logit_adjusted" else 1.0
        logits = adjust_logits(logits, hard.detach(), t)
    return weighted_nll(logits, targets, weights, mask), weights

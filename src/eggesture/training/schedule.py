"""The joint-training schedule (paper eq. 11) as per-epoch learning-rate factors of the two networks.

Eq. 11 weighs the classifier loss by ``e/γ`` and the VQ-VAE's by ``γ/e`` (e = 1-based epoch) "to
mitigate the impact of the codebook indices randomness in the early training epochs". The two
networks share no parameters, and Adam divides each parameter's step by the running size of its
own gradient, so a constant factor on one network's whole loss is (almost) a no-op: the schedule
has to act on step sizes (DESIGN §3). ``train.schedule`` chooses how:

``settle`` (default)
    The VQ-VAE at the base rate for the first ``settle`` share of the epochs, then a cosine
    decay to 0 over the next ``settle_decay`` share, then frozen (rate 0), so its codes settle;
    the classifier ramped linearly up to the base rate over the first share, then at the base
    rate while the codes settle and after. The classifier's share grows and the VQ-VAE's
    shrinks, as eq. 11 intends, without starving the VQ-VAE.
``lr``
    Eq. 11's factors as step sizes: the VQ-VAE's rate × ``1/e``, the classifier's × ``e/E``
    (E = epochs). Measured: the VQ-VAE gets 4.8 full-rate epochs of 80 and reconstructs at twice
    the baseline's error (docs/decisions.md).
``cls-ramp``
    The VQ-VAE at the base rate throughout, the classifier × ``e/E``.
``loss``
    Eq. 11 literally, on the losses (no learning-rate factors).

Two-phase methods (VQ-VAE first, then the classifier on frozen codes) ignore the schedule: each
network trains at the base rate in its own phase. The paper's step decay (× ``lr_decay`` from
``lr_decay_epoch``; in two phases at the same fraction of each phase) applies on top.

:func:`effective_epochs` sums each network's factors: the number of full-rate epochs it gets.
"""

from __future__ import annotations

import math

from ..config import SCHEDULES, Config, method_spec

__all__ = ["SCHEDULES", "effective_epochs", "lr_factors", "vq_epochs_of"]


def vq_epochs_of(cfg: Config) -> int | None:
    """Epochs of the first (VQ-VAE) phase of a two-phase method; None for joint training."""
    if method_spec(cfg.train).joint:
        return None
    return cfg.train.vq_epochs or max(1, cfg.train.epochs // 2)


def _decay(cfg: Config, epoch: int) -> float:
    """The paper's step decay at 0-based ``epoch``."""
    t = cfg.train
    if t.lr_decay_epoch is None:
        return 1.0
    vq_epochs = vq_epochs_of(cfg)
    if vq_epochs is None:
        return t.lr_decay if epoch >= t.lr_decay_epoch else 1.0
    # Two phases: each phase decays at the same fraction of its own length.
    frac = t.lr_decay_epoch / t.epochs
    start, length = ((0, vq_epochs) if epoch < vq_epochs else (vq_epochs, t.epochs - vq_epochs))
    return t.lr_decay if epoch - start >= frac * length else 1.0


def lr_factors(cfg: Config, epoch: int) -> tuple[float, float]:
    """``(VQ-VAE, classifier)`` learning-rate factors at 0-based ``epoch``."""
    t = cfg.train
    d = _decay(cfg, epoch)
    vq_epochs = vq_epochs_of(cfg)
    if vq_epochs is not None:  # two phases: the frozen network's factor does not matter
        return (d, 0.0) if epoch < vq_epochs else (0.0, d)
    e, big_e = epoch + 1, t.epochs
    if t.schedule == "lr":
        return d / e, d * e / big_e  # × (γ/e)/(γ/1) and × (e/γ)/(E/γ)
    if t.schedule == "cls-ramp":
        return d, d * e / big_e
    if t.schedule == "settle":
        ramp = max(1, round(t.settle * big_e))  # epochs at the VQ-VAE's full rate
        fall = max(1, round(t.settle_decay * big_e))  # epochs of its decay
        if e <= ramp:
            return d, d * e / ramp
        u = min(1.0, (e - ramp) / fall)  # (0, 1] through the decay, then 1 (frozen)
        return d * 0.5 * (1 + math.cos(math.pi * u)), d
    return d, d  # "loss": eq. 11 acts on the losses


def effective_epochs(cfg: Config) -> dict[str, float]:
    """Full-rate epochs each network gets: the sum of its learning-rate factors over training
    (two-phase methods: the epochs of its phase, decay included)."""
    vq = cls = 0.0
    for epoch in range(cfg.train.epochs):
        a, b = lr_factors(cfg, epoch)
        vq, cls = vq + a, cls + b
    return {"vqvae": round(vq, 2), "classifier": round(cls, 2), "epochs": cfg.train.epochs}

"""The Lightning module: VQ-VAE and index classifier, trained jointly (eq. 11) or in two phases.

Joint training (EGGesture and its joint ablations), with e the 1-based epoch::

    l = (e/γ)·l_cls + (γ/e)·(l_rec + l_entropy + l_commit)

where ``l_cls`` is the entropy-guided weighted NLL (eq. 10) against ``sg(indices)`` of the
*current* VQ-VAE, so targets move as the codebook learns. Two-phase methods (the vanilla
baseline, ``no_joint``, ``reweight_only``) train the VQ-VAE alone for ``vq_epochs`` epochs, then
freeze it and train the classifier on its codes.

Per epoch it logs every loss term, codebook utilisation, perplexity and entropy over the
epoch's codes, and classification accuracy, top-5 accuracy and accuracy on tail codes (the least
frequent codes of the epoch that together hold the last 20 % of target tokens).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr

from ..config import Config, method_spec
from ..metrics.tokens import FREQUENCY_GROUPS, frequency_groups, total_variation
from ..models.builders import build_classifier, build_vqvae
from ..models.vqvae import DOWNSAMPLE
from .reweighting import classification_loss
from .schedule import lr_factors, vq_epochs_of

#: Share of target tokens held by the tail codes in the tail accuracy.
TAIL_MASS = 0.2


@dataclass
class StepOutput:
    """What one step computed (as :class:`~eggesture.models.quantizer.QuantizerOutput` is for
    the quantizer): the loss terms of its phase (None where the phase has none), the targets
    (the VQ-VAE's codes), and, where the classifier ran, its logits, the mask of the predicted
    tokens and the class weights of eq. 10 (None for an unweighted loss)."""

    targets: torch.Tensor
    rec: torch.Tensor | None = None
    vel: torch.Tensor | None = None
    commit: torch.Tensor | None = None
    entropy: torch.Tensor | None = None
    cls: torch.Tensor | None = None
    soft_usage: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    weights: torch.Tensor | None = None

    def terms(self, names: tuple[str, ...] = ("rec", "vel", "commit", "entropy", "cls")
              ) -> dict[str, torch.Tensor]:
        """The loss terms among ``names`` this step has, by name (for the log)."""
        return {n: v for n in names if (v := getattr(self, n)) is not None}


class EGGestureModule(L.LightningModule):
    """VQ-VAE + classifier for one method of :mod:`eggesture.config`."""

    def __init__(self, cfg: Config, *, motion_dim: int, vocab: list[str], n_audio_features: int):
        super().__init__()
        self.cfg, self.spec = cfg, method_spec(cfg.train)
        self.vqvae = build_vqvae(cfg, motion_dim)
        self.classifier = build_classifier(cfg, vocab, n_audio_features)
        self.seed_tokens = cfg.data.seed_frames // DOWNSAMPLE
        self.vq_epochs = vq_epochs_of(cfg)
        k = cfg.model.codebook_size
        self._stats = {n: torch.zeros(k, dtype=torch.long)
                       for n in ("count", "pred", "correct", "top5", "argmax")}
        self._soft = torch.zeros(k, dtype=torch.float64)  # Σ over batches of p̄ (soft usage)
        self._last_weights: torch.Tensor | None = None  # eq. 10's weights of the last batch
        self._pending_rng = None
        self._epoch_tokens: float | None = None  # predicted tokens per epoch (class_balanced's N)

    def on_train_start(self) -> None:
        n_tokens = self.cfg.data.length // DOWNSAMPLE - self.seed_tokens
        self._epoch_tokens = float(self.trainer.num_training_batches * self.cfg.train.batch_size
                                   * n_tokens)

    # --- phases -----------------------------------------------------------------------------

    def phase(self) -> str:
        """``joint``, or ``vq`` / ``cls`` for the two phases of a two-phase method."""
        if self.vq_epochs is None:
            return "joint"
        return "vq" if self.current_epoch < self.vq_epochs else "cls"

    def on_train_epoch_start(self) -> None:
        if self._pending_rng is not None:  # resumed: continue the random streams exactly
            _set_rng(self._pending_rng)
            self._pending_rng = None
        frozen = self.phase() == "cls"
        self.vqvae.requires_grad_(not frozen)
        if frozen:
            self.vqvae.eval()  # the codebook and its usage statistics stay as phase 1 left them
        for v in self._stats.values():
            v.zero_()
        self._soft.zero_()

    # --- steps ------------------------------------------------------------------------------

    def _losses(self, batch: dict[str, torch.Tensor], phase: str) -> StepOutput:
        motion = batch["motion"]  # (B, L, D) normalised 6D
        if phase in ("joint", "vq"):
            vq = self.vqvae(motion)
            out = StepOutput(targets=vq.quant.indices.detach(), rec=F.l1_loss(vq.recon, motion),
                             commit=vq.quant.losses["commit"], entropy=vq.quant.losses["entropy"],
                             soft_usage=vq.quant.batch_soft_usage)
            if self.cfg.train.velocity_weight:
                out.vel = F.l1_loss(torch.diff(vq.recon, dim=1), torch.diff(motion, dim=1))
            soft, hard = vq.quant.probs.detach(), vq.quant.usage
        else:
            with torch.no_grad():
                out = StepOutput(targets=self.vqvae.encode(motion))
            q = self.vqvae.quantizer
            hard = q.usage_probs
            soft = getattr(q, "ema_probs", hard)  # the vanilla quantizer has no eq. 8 average
        if phase in ("joint", "cls"):
            targets = out.targets
            logits = self.classifier(batch["audio_feats"], batch["words"], targets,
                                     codes=self.vqvae.quantizer.codes())
            mask = torch.ones_like(targets, dtype=torch.bool)
            mask[:, : self.seed_tokens] = False  # seed tokens are given, not predicted
            t = self.cfg.train
            out.cls, out.weights = classification_loss(
                logits, targets, mask, loss="none" if self.spec.reweight == "none" else t.cls_loss,
                soft=soft, hard=hard, strategy=self.spec.reweight, max_weight=t.max_weight,
                tau=t.logit_tau, beta=t.cb_beta,
                n_tokens=self._epoch_tokens or float(mask.sum()))
            out.logits, out.mask = logits.detach(), mask
        return out

    def _total(self, out: StepOutput, phase: str) -> torch.Tensor:
        t = self.cfg.train
        vq_terms = None
        if phase in ("joint", "vq"):
            vq_terms = out.rec + out.commit + t.entropy_weight * out.entropy
            if out.vel is not None:
                vq_terms = vq_terms + t.velocity_weight * out.vel
        if phase == "vq":
            return vq_terms
        if phase == "cls":
            return out.cls
        if t.schedule != "loss":  # eq. 11 acts on the step sizes (training/schedule.py)
            return out.cls + vq_terms
        e = self.current_epoch + 1
        return (e / t.gamma) * out.cls + (t.gamma / e) * vq_terms  # eq. 11

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        phase = self.phase()
        out = self._losses(batch, phase)
        loss = self._total(out, phase)
        logs = {f"train/{k}": v for k, v in out.terms().items()}
        logs["train/loss"] = loss
        self.log_dict(logs, on_step=False, on_epoch=True, batch_size=batch["motion"].shape[0],
                      sync_dist=True)
        self._accumulate(out)
        return loss

    @torch.no_grad()
    def _accumulate(self, out: StepOutput) -> None:
        targets = out.targets.reshape(-1)
        k = self.cfg.model.codebook_size
        if self._stats["count"].device != targets.device:
            self._stats = {n: v.to(targets.device) for n, v in self._stats.items()}
        self._stats["count"] += torch.bincount(targets, minlength=k)
        if out.soft_usage is not None:
            self._soft = self._soft.to(targets.device) + out.soft_usage.double()
        if out.weights is not None:
            self._last_weights = out.weights.detach()
        if out.logits is not None:
            m = out.mask.reshape(-1)
            logits, y = out.logits.reshape(-1, k)[m], targets[m]
            top5 = logits.topk(min(5, k), dim=-1).indices
            self._stats["pred"] += torch.bincount(y, minlength=k)
            self._stats["correct"] += torch.bincount(y[top5[:, 0] == y], minlength=k)
            self._stats["top5"] += torch.bincount(y[(top5 == y[:, None]).any(-1)], minlength=k)
            self._stats["argmax"] += torch.bincount(top5[:, 0], minlength=k)

    def on_train_epoch_end(self) -> None:
        stats = {n: self.trainer.strategy.reduce(v.double(), reduce_op="sum").cpu()
                 for n, v in self._stats.items()}
        count, pred = stats["count"], stats["pred"]
        freq = count / count.sum().clamp_min(1)
        ent = _entropy(freq) if count.sum() > 0 else torch.zeros((), dtype=torch.float64)
        q = self.vqvae.quantizer
        state = q.ema_probs if hasattr(q, "ema_probs") else q.usage_probs
        logs = {
            "codebook/utilization": (count > 0).double().mean(),
            "codebook/perplexity": ent.exp(),
            "codebook/normalized_entropy": ent / math.log(count.numel()),
            "codebook/ema_entropy": _entropy(state.detach().double().cpu()),
            "train/phase": float({"joint": 0, "vq": 1, "cls": 2}[self.phase()]),
        }
        soft = self.trainer.strategy.reduce(self._soft, reduce_op="sum").cpu()
        if soft.sum() > 0 and count.sum() > 0:
            # The entropy loss must move hard usage, not only flatten the soft assignment
            # (DESIGN §3): the soft usage's perplexity beside the hard one, and their rank
            # agreement over the codes.
            ps = soft / soft.sum()
            logs["codebook/soft_perplexity"] = _entropy(ps).exp()
            logs["codebook/soft_hard_rank_corr"] = spearman(ps, freq)
        weights = self._last_weights
        if weights is not None and count.sum() > 0:
            # Eq. 10's weights (as the epoch's last batch used them) must follow the real code
            # frequencies: their span over the codes that were targets, and their rank
            # correlation with 1/frequency.
            w, live = weights.double().cpu(), count > 0
            logs["weights/min"], logs["weights/max"] = w[live].min(), w[live].max()
            logs["weights/rank_corr_inverse_freq"] = spearman(w[live], 1.0 / freq[live])
            self._last_weights = None
        if self.trainer.world_size > 1:  # DDP: the moving averages must agree on every rank
            every = self.all_gather(state.detach())  # (W, K)
            logs["codebook/ema_rank_spread"] = (every.max(0).values - every.min(0).values).max()
        if pred.sum() > 0:
            order = torch.argsort(count, descending=True)
            cum = torch.cumsum(count[order], 0) / count.sum()
            tail = order[cum > 1 - TAIL_MASS]
            logs["cls/accuracy"] = stats["correct"].sum() / pred.sum()
            logs["cls/top5"] = stats["top5"].sum() / pred.sum()
            logs["cls/tail_accuracy"] = stats["correct"][tail].sum() / pred[tail].sum().clamp_min(1)
            # A classifier that spreads its predictions over rare codes (eggesture.metrics.tokens):
            # accuracy by the codes' frequency this epoch, and how far the predicted codes'
            # histogram lies from the targets'.
            groups = torch.from_numpy(frequency_groups(count.numpy()))
            for g, name in enumerate(FREQUENCY_GROUPS):
                sel = groups == g
                if pred[sel].sum() > 0:
                    logs[f"cls/accuracy_{name}"] = stats["correct"][sel].sum() / pred[sel].sum()
            logs["cls/histogram_distance"] = total_variation(stats["argmax"].numpy(), pred.numpy())
        self.log_dict({k: float(v) for k, v in logs.items()}, on_step=False, on_epoch=True)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        out = self._losses(batch, "joint" if self.phase() == "vq" else self.phase())
        logs = {f"val/{k}": v for k, v in out.terms(("rec", "cls")).items()}
        if out.logits is not None:
            logs["val/accuracy"] = (out.logits.argmax(-1) == out.targets)[out.mask].float().mean()
        self.log_dict(logs, on_step=False, on_epoch=True, batch_size=batch["motion"].shape[0],
                      sync_dist=True)

    # --- optimisation -----------------------------------------------------------------------

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None,
                                    gradient_clip_algorithm=None) -> None:
        """Clip the VQ-VAE's and the classifier's gradients each on its own.

        The two networks share no parameters; eq. 11 scales their losses by (γ/e) and (e/γ).
        One global norm would be dominated by the VQ-VAE's (γ/e)-scaled gradients and shrink the
        classifier's far below Adam's epsilon, so the classifier would barely learn.
        """
        if not gradient_clip_val:
            return
        for net in (self.vqvae, self.classifier):
            params = [p for p in net.parameters() if p.grad is not None]
            if params:
                torch.nn.utils.clip_grad_norm_(params, gradient_clip_val)

    def configure_optimizers(self):
        """One Adam over both networks; the schedule's per-epoch factors of each network's
        learning rate (eq. 11 read as step sizes, :mod:`eggesture.training.schedule`)."""
        groups = [{"params": list(self.vqvae.parameters())},
                  {"params": list(self.classifier.parameters())}]
        opt = torch.optim.Adam(groups, lr=self.cfg.train.lr)
        cfg = self.cfg
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, [lambda e: lr_factors(cfg, e)[0], lambda e: lr_factors(cfg, e)[1]])
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}

    # --- exact resumption -------------------------------------------------------------------

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["eggesture_rng"] = _get_rng()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self._pending_rng = checkpoint.get("eggesture_rng")


def spearman(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman rank correlation of two vectors (average ranks for ties; 0 when constant)."""
    if a.numel() < 2:
        return torch.zeros((), dtype=torch.float64)
    r = spearmanr(a.double().cpu().numpy(), b.double().cpu().numpy()).statistic
    return torch.tensor(0.0 if not math.isfinite(r) else float(r), dtype=torch.float64)


def _entropy(p: torch.Tensor) -> torch.Tensor:
    p = p / p.sum()
    return -(p[p > 0] * p[p > 0].log()).sum()


def _get_rng() -> dict:
    """RNG states as tensors and plain values, loadable with ``torch.load(weights_only=True)``."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"torch": torch.get_rng_state(),
             "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
             "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])

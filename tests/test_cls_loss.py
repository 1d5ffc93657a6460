"""Known answers of the classification losses (eggesture.training.reweighting, DESIGN §3)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from eggesture.config import CLS_LOSSES, load_config
from eggesture.models.classifier import PRIOR_FLOOR, adjust_logits
from eggesture.training.reweighting import (
    class_weights,
    classification_loss,
    effective_number_weights,
)


def _loss(name, logits, targets, soft, hard, **kw):
    return classification_loss(logits, targets, None, loss=name, soft=soft, hard=hard, **kw)


def test_none_is_plain_cross_entropy():
    torch.manual_seed(0)
    logits, targets = torch.randn(2, 5, 7), torch.randint(0, 7, (2, 5))
    mask = torch.rand(2, 5) > 0.3
    p = torch.full((7,), 1 / 7)
    value, weights = classification_loss(logits, targets, mask, loss="none", soft=p, hard=p)
    want = F.cross_entropy(logits[mask], targets[mask])
    assert weights is None
    torch.testing.assert_close(value, want)


def test_logit_adjustment_known_answer():
    # Two codes, equal logits, prior (0.8, 0.2): the adjusted softmax is the prior itself, so the
    # loss of target 1 is −log 0.2 (Menon et al. 2021, eq. 10 with τ = 1); with τ = 2 it is
    # −log(0.04 / (0.64 + 0.04)).
    logits, targets = torch.zeros(1, 1, 2), torch.tensor([[1]])
    prior = torch.tensor([0.8, 0.2])
    flat = torch.full((2,), 0.5)
    la1, w = _loss("logit_adjusted", logits, targets, flat, prior, tau=1.0)
    assert w is None
    assert la1.item() == pytest.approx(-math.log(0.2), rel=1e-6)
    la2, _ = _loss("logit_adjusted", logits, targets, flat, prior, tau=2.0)
    assert la2.item() == pytest.approx(-math.log(0.04 / 0.68), rel=1e-6)
    # Balanced softmax (Ren et al. 2020) is logit adjustment at τ = 1, whatever τ says.
    bs, _ = _loss("balanced_softmax", logits, targets, flat, prior, tau=2.0)
    assert bs.item() == pytest.approx(la1.item(), rel=1e-6)
    # The prior is the hard usage: the soft one is not read.
    other, _ = _loss("logit_adjusted", logits, targets, prior, flat, tau=1.0)
    assert other.item() == pytest.approx(math.log(2), rel=1e-6)


def test_a_dead_code_keeps_a_finite_adjusted_logit():
    prior = torch.tensor([0.5, 0.5, 0.0, 0.0])
    out = adjust_logits(torch.zeros(4), prior, 1.0)
    assert torch.isfinite(out).all()
    assert out[2].item() == pytest.approx(math.log(PRIOR_FLOOR / 4))


def test_post_hoc_adjustment_moves_the_choice_to_the_rarer_code():
    # f prefers the head code by 1 nat; with π = (0.9, 0.1), argmax f − τ′·log π picks the tail
    # code once τ′·log 9 > 1, i.e. τ′ > 0.455.
    logits = torch.tensor([1.0, 0.0])
    prior = torch.tensor([0.9, 0.1])
    assert adjust_logits(logits, prior, -0.4).argmax().item() == 0
    assert adjust_logits(logits, prior, -0.5).argmax().item() == 1
    assert torch.equal(adjust_logits(logits, prior, 0.0), logits)


def test_paper_weights_read_the_soft_average_and_hard_the_usage():
    k = 8
    hard = torch.linspace(1, 50, k)
    hard = hard / hard.sum()
    soft = torch.full((k,), 1 / k)  # what the entropy loss makes of p_t
    logits, targets = torch.zeros(1, k, k), torch.arange(k)[None]
    _, w_paper = _loss("paper", logits, targets, soft, hard)
    _, w_hard = _loss("hard", logits, targets, soft, hard)
    torch.testing.assert_close(w_paper, torch.ones(k))  # uniform p_t: every weight 1
    torch.testing.assert_close(w_hard, class_weights(hard, "linear"))
    assert w_hard[0] > 10 * w_hard[-1]
    # Table 3's strategy applies to both.
    _, w_sqrt = _loss("hard", logits, targets, soft, hard, strategy="sqrt")
    torch.testing.assert_close(w_sqrt, class_weights(hard, "sqrt"))


def test_class_balanced_weights_known_answer():
    # p = (0.9, 0.1), N = 10 → n = (9, 1); β = 0.5: raw (1 − β)/(1 − β^n) = (0.5/(1 − 2⁻⁹), 1),
    # normalised so that Σ p w = 1.
    w = effective_number_weights(torch.tensor([0.9, 0.1]), n_tokens=10, beta=0.5)
    raw = torch.tensor([0.5 / (1 - 0.5**9), 1.0])
    want = raw / (0.9 * raw[0] + 0.1 * raw[1])
    torch.testing.assert_close(w, want)
    # Balanced usage: every weight 1; a code with no samples is clamped.
    torch.testing.assert_close(effective_number_weights(torch.full((4,), 0.25), 100, 0.99),
                               torch.ones(4))
    w0 = effective_number_weights(torch.tensor([0.5, 0.5, 0.0]), 100, 0.999, max_weight=20.0)
    assert w0[2].item() == 20.0
    # β → 0 gives no reweighting, larger β approaches 1/n.
    flat = effective_number_weights(torch.tensor([0.9, 0.1]), 1000, 1e-6)
    torch.testing.assert_close(flat, torch.ones(2), atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", CLS_LOSSES)
def test_every_loss_is_a_finite_differentiable_scalar(name):
    torch.manual_seed(1)
    k = 16
    logits = torch.randn(3, 6, k, requires_grad=True)
    targets = torch.randint(0, k, (3, 6))
    hard = torch.rand(k) ** 4
    hard[3] = 0.0  # a dead code
    soft = torch.softmax(torch.randn(k), 0)
    value, _ = classification_loss(logits, targets, torch.ones(3, 6, dtype=torch.bool), loss=name,
                                   soft=soft, hard=hard, n_tokens=500)
    value.backward()
    assert value.ndim == 0 and torch.isfinite(value)
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_unknown_loss_is_an_error():
    p = torch.full((2,), 0.5)
    with pytest.raises(ValueError, match="unknown classification loss"):
        classification_loss(torch.zeros(1, 1, 2), torch.zeros(1, 1, dtype=torch.long), None,
                            loss="focal", soft=p, hard=p)


def test_config_names_the_loss_and_reads_the_old_key():
    assert load_config("tiny", ["train.cls_loss=logit_adjusted"]).train.cls_loss == "logit_adjusted"
    from eggesture.errors import ConfigError

    with pytest.raises(ConfigError, match="train.cls_loss"):
        load_config("tiny", ["train.cls_loss=focal"])
    # A bundle saved before train.cls_loss existed loads as what it trained with.
    from eggesture.config import from_dict

    assert from_dict({"train": {"weight_source": "usage"}}).train.cls_loss == "hard"
    assert from_dict({"train": {"weight_source": "soft"}}).train.cls_loss == "paper"


def test_a_weighting_strategy_needs_a_weighting_loss():
    from eggesture.errors import ConfigError

    with pytest.raises(ConfigError, match="train.reweight=log is a weighting strategy"):
        load_config("tiny", ["train.method=reweight_only", "train.reweight=log",
                             "train.cls_loss=logit_adjusted"])
    # Table 3's rows weight the loss whatever EGGesture's default is.
    from eggesture.paper import TABLES

    for row in TABLES["reweighting"][1]:
        if any(o.startswith("train.reweight=") for o in row.overrides):
            cfg = load_config("tiny", list(row.overrides))
            assert cfg.train.cls_loss in ("paper", "hard"), row.name
    # The long-tail losses stand beside them on the same vanilla codebook (issue 28, item 5).
    from eggesture.config import method_spec
    from eggesture.paper import LONG_TAIL_LOSSES

    rows = {r.name: r for r in TABLES["reweighting"][1]}
    for name, loss in LONG_TAIL_LOSSES:
        cfg = load_config("tiny", list(rows[name].overrides))
        assert (cfg.train.method, cfg.train.cls_loss) == ("reweight_only", loss)
        assert method_spec(cfg.train).quantizer == "vanilla"


def test_fig7_reading_across_codebook_sizes():
    """benchmarks.cls_loss.growth: FGD per K ascending; a step agrees only when the larger K's
    interval lies wholly below the smaller one's."""
    from benchmarks.cls_loss import growth, table_k

    def table(k, low, high):
        row = {"name": "EGGesture logit_adjusted",
               "overrides": ["train.method=eggesture", f"model.codebook_size={k}"],
               "fgd": {"mean": (low + high) / 2, "low": low, "high": high, "n": 3}}
        return {"table": f"t{k}", "rows": [row]}

    tables = {table_k(t): t for t in (table(2048, 8.0, 10.0), table(512, 11.0, 14.0),
                                       table(10240, 9.0, 12.0))}
    g = growth(tables, "logit_adjusted")
    assert list(g["fgd"]) == [512, 2048, 10240]
    assert [s["verdict"] for s in g["steps"]] == ["agrees", "not resolved at this budget"]
    assert growth({2048: table(2048, 8, 10), 512: table(512, 1, 2)},
                  "logit_adjusted")["steps"][0]["verdict"] == "disagrees"
    from eggesture.errors import ConfigError

    with pytest.raises(ConfigError, match="codebook_size"):
        table_k({"table": "x", "rows": [{"overrides": ["train.method=vanilla"]}]})

"""The paper's ablation study as data: each table's rows (a name and the config overrides that
make it) and, where the paper gives them, its numbers (BEAT2 speaker 2).

``eggesture ablate`` trains these rows (:mod:`eggesture.recipes.ablate`), the reports read their
names and the paper's numbers (:mod:`eggesture.reporting`). A new table or row is added here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    """One line of a table: a name, config overrides, and the paper's numbers if it has them."""

    name: str
    overrides: tuple[str, ...]
    paper: dict = field(default_factory=dict)


def _p(fgd, ba, l1):
    return {"fgd": fgd, "beat_alignment": ba, "l1_diversity": l1}


#: The paper's Table 1, BEAT column (BEAT2 speaker 2): the vanilla baseline's row and EGGesture's.
BASELINE = _p(10.38, 0.4124, 542.9)
FULL = _p(5.74, 0.4117, 617.2)

#: Table 3's strategies weight the loss: eq. 10 as the paper writes it (on the vanilla codebook,
#: which has no eq. 8 average, its weights come from the hard code usage).
WEIGHTED = ("train.cls_loss=paper",)

#: The long-tail classification losses that are not the paper's (``train.cls_loss``), as rows of
#: Table 3 beside its five strategies: (row name, loss).
LONG_TAIL_LOSSES = (("logit adjusted (not in paper)", "logit_adjusted"),
                    ("balanced softmax (not in paper)", "balanced_softmax"),
                    ("class-balanced (not in paper)", "class_balanced"))

TABLES: dict[str, tuple[str, list[Row]]] = {
    "methods": ("EGGesture against the vanilla VQ-VAE baseline (the paper's Table 1 rows)", [
        Row("EGGesture", ("train.method=eggesture",), FULL),
        Row("vanilla VQ-VAE", ("train.method=vanilla",), BASELINE),
    ]),
    "reweighting": ("Table 3: reweighting strategies on the vanilla codebook vs EGGesture", [
        Row("baseline", ("train.method=vanilla",), BASELINE),
        Row("log x", ("train.method=reweight_only", "train.reweight=log", *WEIGHTED),
            _p(10.19, 0.4107, 552.4)),
        Row("sqrt x", ("train.method=reweight_only", "train.reweight=sqrt", *WEIGHTED),
            _p(9.82, 0.4064, 559.6)),
        Row("x (linear)", ("train.method=reweight_only", "train.reweight=linear", *WEIGHTED),
            _p(9.48, 0.4087, 573.4)),
        Row("x^2", ("train.method=reweight_only", "train.reweight=square", *WEIGHTED),
            _p(11.72, 0.3769, 531.1)),
        Row("e^x", ("train.method=reweight_only", "train.reweight=exp", *WEIGHTED), _p(13.64, 0.3319, 487.6)),
        # Not the paper's: the long-tail losses of DESIGN §3 on the same vanilla codebook (issue 28).
        *[Row(name, ("train.method=reweight_only", f"train.cls_loss={loss}"))
          for name, loss in LONG_TAIL_LOSSES],
        Row("EGGesture", ("train.method=eggesture",), FULL),
    ]),
    "reweight": ("Table 4: classification reweighting", [
        Row("EGGesture", ("train.method=eggesture",), FULL),
        Row("w/o classification reweighting", ("train.method=no_reweight",), _p(8.11, 0.4037, 571.0)),
    ]),
    "joint-gumbel": ("Table 5: joint training and Gumbel softmax", [
        Row("full EGGesture", ("train.method=eggesture",), FULL),
        Row("w/o joint training", ("train.method=no_joint",), _p(22.64, 0.3093, 461.3)),
        Row("w/o gumbel softmax", ("train.method=no_gumbel",), _p(7.12, 0.4130, 592.4)),
    ]),
    "text-encoder": ("Table 6: text encoders (ours: learned embedding ≈ the paper's custom "
                     "encoder without pretraining; MiniLM ≈ its BERT)", [
        Row("learned embedding", ("model.text_encoder=learned",), _p(5.77, 0.4131, 610.8)),
        Row("MiniLM frozen", ("model.text_encoder=minilm",), _p(6.78, 0.4110, 589.9)),
        Row("MiniLM fine-tuned", ("model.text_encoder=minilm-ft",), FULL),
    ]),
    "architecture": ("Table 7: transformer vs LSTM", [
        Row("baseline transformer", ("train.method=vanilla", "model.classifier=transformer"), BASELINE),
        Row("EGGesture transformer", ("train.method=eggesture", "model.classifier=transformer"), FULL),
        Row("baseline LSTM", ("train.method=vanilla", "model.classifier=lstm"), _p(12.77, 0.4093, 533.3)),
        Row("EGGesture LSTM", ("train.method=eggesture", "model.classifier=lstm"),
            _p(7.16, 0.4089, 603.1)),
    ]),
    "codebook-size": ("Fig. 2 / Fig. 7: codebook size (paper: vanilla utilisation plateaus, 28% at "
                      "K=512 in Fig. 1; EGGesture's FGD improves with K; ours: the rows without "
                      "the reweighting tell the codebook's size from eq. 10's weights)", [
        *[Row(f"vanilla K={k}", ("train.method=vanilla", f"model.codebook_size={k}"),
              {"codebook_utilization": 0.28} if k == 512 else {}) for k in (32, 128, 512, 2048, 10240)],
        *[Row(f"EGGesture K={k}", ("train.method=eggesture", f"model.codebook_size={k}"))
          for k in (512, 2048, 10240)],
        # The decomposition of Fig. 7: the entropy-guided codebook without the classification
        # reweighting, to tell the codebook's size from the reweighting over its used codes.
        *[Row(f"EGGesture w/o reweighting K={k}",
              ("train.method=no_reweight", f"model.codebook_size={k}")) for k in (512, 2048, 10240)],
    ]),
}

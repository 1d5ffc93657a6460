"""Typed evaluation results: one dataclass per metric family, one :class:`EvaluationResult`.

:func:`eggesture.recipes.evaluate.evaluate` fills them; :meth:`EvaluationResult.to_dict` writes
the JSON layout that ``eggesture evaluate --json``, the demo and the ablations store (its keys
are the contract); :mod:`eggesture.reporting.evaluation` renders that layout as tables (so it
also renders a stored ``results.json``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..metrics.tokens import TokenDiagnostics

#: What each number is measured in (written into every result).
UNITS = {
    "fgd": "squared distance between FGD-autoencoder feature distributions (unitless)",
    "beat_alignment": "dimensionless score in [0, 1]",
    "beat_alignment_emage": "dimensionless score in [0, 1]",
    "l1_diversity": "6D rotation units per frame (normalised-free, raw 6D of the joint set)",
    "l1_diversity_per_sequence": "6D rotation units per frame",
    "codebook_utilization": "fraction of the K codes used",
    "perplexity": "codes (exp of the entropy of code usage)",
    "semantic_recall": "fraction of ground-truth gesture events (precision: fraction of "
                       "detected gestures); intervals: 95 % percentile bootstrap over "
                       "events (precision: over detections)",
    "oracle": "as the generated motion's (FGD, L1 diversity, recall)",
    "classifier_token_accuracy": "fraction of generated tokens equal to the VQ-VAE's "
                                 "codes of the ground truth",
    "classifier_tokens": "accuracies: fractions of tokens; histogram distance: total variation "
                         "in [0, 1]; motion error: degrees",
    "quantizer_geometry": "norms of the encoder's latents and of the codes the decoder "
                          "receives; cosine between them; ‖z − ẑ‖ / ‖z‖ in the "
                          "quantizer's geometry",
}


@dataclass
class FGDResult:
    """Fréchet distances (eq. 12) to the real windows' features."""

    generated: float | None
    oracle: float | None
    """The VQ-VAE decoding the ground truth's own codes."""
    ground_truth: float | None
    """0 by definition (the real windows against themselves); None when not computed."""
    autoencoder: str | None
    """None without the dataset's FGD autoencoder (``EvaluationResult.left_out`` says why)."""
    folder: str | None
    stride: int
    n_windows: int


@dataclass
class BeatResult:
    """Beat alignment (eq. 13) and the BEAT2/EMAGE protocol variant."""

    generated: float | None
    ground_truth: float | None
    generated_emage: float | None
    ground_truth_emage: float | None
    protocol: str | None
    protocol_emage: str | None
    mean_speed_source: str | None


@dataclass
class DiversityResult:
    """L1 diversity (eq. 14) over windows, and the per-sequence variant."""

    generated: float | None
    ground_truth: float | None
    oracle: float | None
    per_sequence_generated: dict | float | None
    per_sequence_ground_truth: dict | float | None
    protocol: str | None


@dataclass
class CodebookResult:
    """Code usage: the VQ-VAE encoding the ground truth, and the generated codes."""

    ground_truth_encoding: dict | None
    """:class:`eggesture.metrics.codebook.CodebookStats` as a dict (counts included)."""
    generated: dict


@dataclass
class RecallResult:
    """Semantic-gesture recall (:class:`eggesture.metrics.recall.SemanticRecall` as dicts) of
    the generated motion, the ground truth and the oracle; None without ``sem/``."""

    generated: dict | None = None
    ground_truth: dict | None = None
    oracle: dict | None = None


#: Units of the EMAGE protocol's numbers (:class:`EmageProtocolResult`).
EMAGE_UNITS = {
    "bc": "dimensionless score in [0, 1]",
    "l1div": "metres per frame, summed over the 165 coordinates of 55 joint positions",
    "fgd": "squared distance between AESKConv_240_100 latent distributions (unitless), the raw "
           "value mertic.py returns",
    "tables": "EMAGE-style tables print FGD and BC multiplied by 10 under a '×10^-1' header "
              "(BC 7.724 there is 0.7724 here); L1div as it is",
}


@dataclass
class EmageProtocolResult:
    """The three EMAGE-protocol numbers of one evaluation, with what they were computed on."""

    bc_generated: float | None
    bc_ground_truth: float | None
    l1div_generated: float | None
    l1div_ground_truth: float | None
    fgd_generated: float | None
    """None without the AESKConv checkpoint (see ``fgd_missing``)."""
    fgd_ground_truth_filled: float | None
    """The ground truth with the joints the model does not generate set to zero, against the
    ground truth: how much of ``fgd_generated`` the fill alone costs."""
    fgd_model: str | None
    fgd_missing: str | None
    positions: str
    mean_speed_source: str | None
    n_sequences: int
    frames: int
    generated_joints: int
    fill: str
    constants: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {**asdict(self), "units": dict(EMAGE_UNITS)}


@dataclass
class EvaluationResult:
    """Everything ``eggesture evaluate`` measured on one split."""

    checkpoint: str
    data: str
    split: list[str]
    method: str
    n_sequences: int
    minutes: float
    fps: float
    window: int
    seed_frames: int
    fgd: FGDResult
    beat: BeatResult
    diversity: DiversityResult
    codebook: CodebookResult
    recall: RecallResult
    quantizer_geometry: dict = field(default_factory=dict)
    tokens: TokenDiagnostics | None = None
    """The classifier against its own targets (accuracy, by code frequency, histogram distance,
    motion-space error)."""
    emage: EmageProtocolResult | None = None
    """The EMAGE protocol's numbers, with ``protocol="emage"``."""
    posthoc_tau: float = 0.0
    """τ′ of the post-hoc logit adjustment the codes were generated with (0: none)."""
    left_out: dict[str, str] = field(default_factory=dict)
    """Metrics not computed, each with why in one line (e.g. ``fgd``: no autoencoder of this
    dataset and no training split to train one on)."""

    def to_dict(self) -> dict:
        """The JSON layout (its keys are what every stored result holds)."""
        g, r, pick = self.codebook.ground_truth_encoding, self.recall, _pick
        return {
            "checkpoint": self.checkpoint, "data": self.data, "split": self.split,
            "method": self.method, "n_sequences": self.n_sequences, "minutes": self.minutes,
            "fgd": self.fgd.generated, "beat_alignment": self.beat.generated,
            "beat_alignment_emage": self.beat.generated_emage,
            "l1_diversity": self.diversity.generated,
            "l1_diversity_per_sequence": self.diversity.per_sequence_generated,
            "codebook_utilization": None if g is None else g["utilization"],
            "perplexity": None if g is None else g["perplexity"],
            "generated_codebook_utilization": self.codebook.generated["utilization"],
            "generated_perplexity": self.codebook.generated["perplexity"],
            "semantic_recall": pick(r.generated, (
                "all", "head", "tail", "macro", "precision", "detections", "per_class", "rule",
                "protocol", "intervals", "outcomes")),
            "oracle": {
                "fgd": self.fgd.oracle, "l1_diversity": self.diversity.oracle,
                "semantic_recall": pick(r.oracle, ("all", "head", "tail", "precision",
                                                   "intervals")),
                "what": "ground truth encoded and decoded by the VQ-VAE (no classifier)"},
            "quantizer_geometry": self.quantizer_geometry,
            "classifier_token_accuracy": None if self.tokens is None else self.tokens.accuracy,
            "classifier_tokens": None if self.tokens is None else self.tokens.to_dict(),
            "ground_truth": {
                "fgd": self.fgd.ground_truth, "beat_alignment": self.beat.ground_truth,
                "beat_alignment_emage": self.beat.ground_truth_emage,
                "l1_diversity": self.diversity.ground_truth,
                "l1_diversity_per_sequence": self.diversity.per_sequence_ground_truth,
                "semantic_recall": pick(r.ground_truth, ("all", "head", "tail", "precision")),
            },
            "codebook": {"ground_truth_encoding": g, "generated": self.codebook.generated},
            # The EMAGE protocol's numbers, kept apart: other units, other inputs (None unless
            # evaluated with protocol="emage").
            "emage_protocol": None if self.emage is None else self.emage.to_dict(),
            "left_out": dict(self.left_out),
            "units": dict(UNITS),
            "protocol": {
                "fps": self.fps, "window": self.window, "fgd_window_stride": self.fgd.stride,
                "fgd_autoencoder": self.fgd.autoencoder, "posthoc_tau": self.posthoc_tau,
                "fgd_autoencoder_folder": self.fgd.folder, "n_windows": self.fgd.n_windows,
                "beat_alignment": self.beat.protocol,
                "beat_alignment_emage": self.beat.protocol_emage,
                "emage_mean_speed": self.beat.mean_speed_source,
                "l1_diversity": self.diversity.protocol,
                "seed": f"first {self.seed_frames} ground-truth frames of each sequence",
                "decoding": "most likely code per token (temperature 0)",
                "semantic_recall": None if r.generated is None else r.generated.get("rule"),
                "codebook": "codebook_utilization/perplexity: VQ-VAE encoding of the split's "
                            "ground truth in non-overlapping windows; generated_*: the "
                            "predicted codes",
            },
        }


def _pick(d: dict | None, keys: tuple[str, ...]) -> dict | None:
    return None if d is None else {k: d[k] for k in keys}

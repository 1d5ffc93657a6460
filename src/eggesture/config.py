"""Typed run configuration: data, model and training settings, read from YAML.

``eggesture train --config FILE [key=value ...]`` loads a YAML file (a path, or the name of a
packaged config: ``tiny``, ``synthetic``, ``paper_beat2``, ``paper_trinity``) into
:class:`Config`, then applies dotted overrides such as ``train.epochs=5``. Unknown keys and
wrong types are errors that name the file (or the override) and the key.

Methods (paper §5 ablations) are names for a combination of switches, resolved by
:func:`method_spec`:

============== =========== ====== ===== ==========
method         quantizer   gumbel joint reweight
============== =========== ====== ===== ==========
eggesture      entropy     yes    yes   linear
vanilla        vanilla     –      no    none
reweight_only  vanilla     –      no    ``train.reweight`` (default linear)
no_reweight    entropy     yes    yes   none
no_joint       entropy     yes    no    linear
no_gumbel      entropy     no     yes   linear
============== =========== ====== ===== ==========
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from .errors import ConfigError
from .io import write_text

#: The audio rate of the whole pipeline (features, corpus speech, generation): 16 kHz mono.
AUDIO_SR = 16000
#: Held-out splits the demo evaluates on: the corpus's val and test sequences (nothing is
#: selected on val), so that the rare classes have more than a handful of events.
EVAL_SPLITS = ["val", "test"]
#: Joint sets every reader understands (BEAT2: SMPL-X joints; Trinity: its skeleton's).
JOINT_SETS = ("upper", "hands", "upper_hands", "full")
#: Lightning's accelerator and precision names (checked here so a typo is one line, not a
#: traceback from inside the Trainer).
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu")
PRECISIONS = ("auto", "32-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64-true",
              "transformer-engine", "transformer-engine-float16", "32", "16", "bf16", "64")
METHODS = ("eggesture", "vanilla", "reweight_only", "no_reweight", "no_joint", "no_gumbel")
REWEIGHTS = ("none", "log", "sqrt", "linear", "square", "exp")
#: Readings of eq. 11 (eggesture.training.schedule).
SCHEDULES = ("settle", "lr", "cls-ramp", "loss")
#: The classification losses (eggesture.training.reweighting): eq. 10 read literally (paper), with
#: weights from hard code frequencies (hard), and the long-tail losses.
CLS_LOSSES = ("paper", "hard", "logit_adjusted", "balanced_softmax", "class_balanced", "none")
#: Keys of earlier configs (bundles, run folders) and how they read today.
LEGACY_KEYS = {("train", "weight_source"): ("cls_loss", {"usage": "hard", "soft": "paper"})}


@dataclass
class DataConfig:
    """Which data, and how it is cut into windows."""

    root: str = ""
    """Dataset folder (BEAT2 or Trinity/GENEA layout)."""
    fps: float = 15.0
    """Model frame rate (paper: 15)."""
    length: int = 300
    """Window length in frames (paper: 300 = 20 s); a multiple of 4."""
    stride: int = 30
    """Frames between training windows."""
    joint_set: str = "upper_hands"
    """Generated joints: upper, hands, upper_hands, full (BEAT2), upper (Trinity)."""
    speakers: list[int] | None = None
    """Speaker ids to keep (BEAT2: the paper trains on [2]); None keeps all."""
    train_splits: list[str] = field(default_factory=lambda: ["train"])
    """Splits used for training, normalisation statistics and the vocabulary."""
    val_splits: list[str] = field(default_factory=lambda: ["val"])
    """Splits used for validation (may be empty)."""
    test_splits: list[str] = field(default_factory=lambda: ["test"])
    """Splits used by evaluation."""
    seed_frames: int = 8
    """Frames of ground truth (training) or previous output (generation) that seed a window."""

    def __post_init__(self):
        if self.length < 8 or self.length % 4:
            raise ValueError(f"data.length must be a multiple of 4 and ≥ 8, got {self.length}")
        if self.seed_frames < 0 or self.seed_frames % 4 or self.seed_frames >= self.length:
            raise ValueError(f"data.seed_frames must be a multiple of 4 in [0, length), got "
                             f"{self.seed_frames}")
        if self.fps <= 0 or self.stride < 1:
            raise ValueError("data.fps must be positive and data.stride ≥ 1")
        if self.joint_set not in JOINT_SETS:
            raise ValueError(f"data.joint_set {self.joint_set!r} is not one of {', '.join(JOINT_SETS)}")


@dataclass
class ModelConfig:
    """Network sizes and quantizer settings."""

    codebook_size: int = 512
    """K, codes in the codebook (paper: 512)."""
    code_dim: int = 256
    """Length of each code vector (paper: 256)."""
    width: int = 256
    """Channels of the VQ-VAE's convolutions."""
    res_blocks: int = 2
    """Residual blocks per VQ-VAE stage."""
    beta: float = 0.1
    """β of the commitment loss (eq. 4)."""
    alpha: float = 0.95
    """α of the moving average of code probabilities (eq. 8)."""
    sim_temperature: float | None = None
    """t: the entropy's similarity logits are s / t (DESIGN §3); None: 1.0 for the Euclidean
    geometry (s = −‖z − e‖²), 0.1 for the cosine one (s = cos(z, e))."""
    tau: float = 1.0
    """τ: Gumbel-softmax temperature (eq. 6)."""
    distance: str = "auto"
    """The quantizer's geometry, used for the lookup, the decoder's input, the commitment loss
    and the entropy alike: euclidean, cosine (unit latents and codes), or auto — Euclidean for
    both quantizers (measured best for EGGesture on the benchmark; TM2T's for the vanilla
    baseline). See docs/decisions.md."""
    classifier: str = "transformer"
    """Index classifier: transformer (paper) or lstm (Table 7)."""
    tied_head: bool | str = "auto"
    """Classifier logits from the similarity of its output to the codebook, in the quantizer's
    geometry, instead of a K-way linear layer (eggesture.models.classifier): true, false, or
    auto — tied for the jointly trained methods, whose codes move while the classifier learns
    (docs/decisions.md); a K-way layer for the two-phase ones (the vanilla baseline)."""
    d_model: int = 256
    """Width of the encoders and the classifier."""
    heads: int = 4
    """Attention heads."""
    encoder_layers: int = 2
    """Transformer (or LSTM) layers of the audio and text encoders."""
    decoder_layers: int = 4
    """Transformer decoder (or LSTM) layers of the classifier."""
    dropout: float = 0.1
    """Dropout in encoders and classifier."""
    text_encoder: str = "learned"
    """learned, minilm (frozen), minilm-ft (fine-tuned), hf:<local BERT dir>, or none."""
    text_dim: int = 128
    """Width of learned word embeddings."""
    text_dropout: float = 0.1
    """Probability of hiding a window's whole transcript in training (runs without text)."""
    word_dropout: float = 0.25
    """Probability of hiding each training word (as padding: "no text"), so that words the
    model never saw — padding at generation too — give the motion of the audio alone."""
    audio_encoder: str = "default"
    """default (log-mel + onset + RMS) or hf:<local wav2vec2/HuBERT dir>."""
    posthoc_tau: float = 0.0
    """τ′ of post-hoc logit adjustment at generation: codes are chosen by argmax f − τ′·log π
    (π the hard code usage; Menon et al. 2021). 0 = off."""
    lookahead: float | None = None
    """Seconds of audio past each token's first frame the classifier may see (streaming; causal
    attention, a band on the cross-attention and delayed features: eggesture.models.classifier);
    None: the whole window (offline). Needs the transformer classifier and the default audio
    features; at least the features' own reach (0.109 s at 15 fps)."""

    def __post_init__(self):
        if self.codebook_size < 2 or self.code_dim < 1:
            raise ValueError("model.codebook_size must be ≥ 2 and model.code_dim ≥ 1")
        if self.classifier not in ("transformer", "lstm"):
            raise ValueError(f"model.classifier must be transformer or lstm, got {self.classifier!r}")
        if self.tied_head not in (True, False, "auto"):
            raise ValueError(f"model.tied_head must be true, false or auto, got {self.tied_head!r}")
        if self.distance not in ("auto", "euclidean", "cosine"):
            raise ValueError(f"model.distance must be auto, euclidean or cosine, got {self.distance!r}")
        if not (self.text_encoder in ("learned", "minilm", "minilm-ft", "none")
                or self.text_encoder.startswith("hf:")):
            raise ValueError(f"model.text_encoder {self.text_encoder!r} is not one of learned, "
                             "minilm, minilm-ft, none, hf:<dir>")
        if not (self.audio_encoder == "default" or self.audio_encoder.startswith("hf:")):
            raise ValueError(f"model.audio_encoder {self.audio_encoder!r} is not default or hf:<dir>")
        for name in ("width", "d_model", "heads", "encoder_layers", "decoder_layers", "text_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"model.{name} must be ≥ 1, got {getattr(self, name)}")
        if self.res_blocks < 0:
            raise ValueError(f"model.res_blocks must be ≥ 0, got {self.res_blocks}")
        if self.d_model % self.heads:
            raise ValueError(f"model.d_model ({self.d_model}) must be divisible by model.heads")
        if not 0 <= self.alpha < 1:
            raise ValueError(f"model.alpha must be in [0, 1), got {self.alpha}")
        for name in ("dropout", "text_dropout", "word_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"model.{name} must be in [0, 1), got {getattr(self, name)}")
        for name in ("sim_temperature", "tau"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ValueError(f"model.{name} must be positive, got {getattr(self, name)}")
        if self.beta < 0:
            raise ValueError(f"model.beta must be ≥ 0, got {self.beta}")
        if self.posthoc_tau < 0:
            raise ValueError(f"model.posthoc_tau must be ≥ 0, got {self.posthoc_tau}")
        if self.lookahead is not None:
            if self.classifier != "transformer" or self.audio_encoder != "default":
                raise ValueError("model.lookahead needs model.classifier=transformer and "
                                 "model.audio_encoder=default")
            if not self.lookahead > 0:
                raise ValueError(f"model.lookahead must be positive or null, got {self.lookahead}")


@dataclass
class TrainConfig:
    """Optimisation, schedule and the engine (Lightning) settings."""

    method: str = "eggesture"
    """One of the methods in this module's table."""
    reweight: str | None = None
    """Reweighting strategy override (none, log, sqrt, linear, square, exp) of cls_loss paper or
    hard (Table 3); None: the method's."""
    max_weight: float = 20.0
    """Clamp of the classification weights, so rare codes do not explode."""
    epochs: int = 120
    """Total epochs (paper: 120)."""
    vq_epochs: int | None = None
    """Two-phase methods: epochs of VQ-VAE training before the classifier (default: half)."""
    batch_size: int = 128
    """Windows per batch (paper: 128)."""
    lr: float = 3e-4
    """Adam learning rate (paper: 3e-4)."""
    lr_decay_epoch: int | None = 100
    """Epoch at which the learning rate is multiplied by lr_decay (paper: 100)."""
    lr_decay: float = 0.1
    """Learning-rate factor at lr_decay_epoch (paper: 0.1)."""
    gamma: float = 500.0
    """γ of the loss schedule (e/γ)·l_cls + (γ/e)·(l_rec + l_entropy + l_commit) (eq. 11)."""
    schedule: str = "settle"
    """How eq. 11 is applied in joint training (eggesture.training.schedule): ``settle`` —
    the VQ-VAE at the full rate for the first ``settle`` share of the epochs, then decayed to 0
    (cosine) so its codes settle, the classifier ramped up over that share; ``lr`` — eq. 11's
    factors as step sizes (VQ-VAE × 1/e, classifier × e/E), which starves the VQ-VAE;
    ``cls-ramp`` — the VQ-VAE constant, the classifier × e/E; ``loss`` — eq. 11 on the losses,
    as written (Adam cancels constant loss factors). See docs/decisions.md."""
    settle: float = 0.4
    """``schedule=settle``: share of the epochs with the VQ-VAE at its full learning rate."""
    settle_decay: float = 0.1
    """``schedule=settle``: share of the epochs over which the VQ-VAE's rate then decays to 0
    (cosine); the VQ-VAE is frozen for the rest."""
    cls_loss: str = "logit_adjusted"
    """The classification loss of the methods that reweight (eggesture.training.reweighting):
    paper (the paper's eq. 10 read literally: weights f(1/p_t), p_t eq. 8's soft average), hard
    (weights f(1/π), π the hard code usage), logit_adjusted (CE on logits + τ·log π; measured
    best at K = 512, docs/decisions.md), balanced_softmax (τ = 1), class_balanced
    (effective-number weights), none. Methods without reweighting use plain CE."""
    logit_tau: float = 1.0
    """τ of cls_loss=logit_adjusted."""
    cb_beta: float = 0.999
    """β of cls_loss=class_balanced (effective number of samples)."""
    entropy_weight: float = 1.0
    """Extra factor on l_entropy (1 = the paper)."""
    velocity_weight: float = 0.0
    """Weight of an L1 loss on frame-to-frame differences in reconstruction (0 = off)."""
    audio_augment: float = 0.0
    """Probability per training window of augmenting its speech (pitch, colour, room, noise,
    gain: eggesture.features.augment) before its features are computed; 0 = off. Default
    audio features only."""
    grad_clip: float = 1.0
    """Gradient-norm clipping (0 = off)."""
    seed: int = 0
    """Seed of every random number generator."""
    accelerator: str = "auto"
    """Lightning accelerator: auto, cpu, gpu."""
    devices: str | int = "auto"
    """Lightning devices (e.g. 1, 4, auto)."""
    strategy: str = "auto"
    """Lightning strategy (auto, ddp, ddp_spawn, ...)."""
    num_nodes: int = 1
    """Machines for multi-node DDP."""
    precision: str = "auto"
    """Lightning precision; auto = bf16-mixed on a GPU, 32-true on a CPU."""
    num_workers: int = 0
    """DataLoader workers."""
    out: str = "runs/eggesture"
    """Run directory: config, checkpoints, logs, inference bundle."""
    limit_train_batches: float | int = 1.0
    """Lightning's limit_train_batches (fraction or count), for quick runs."""
    progress: bool = True
    """Show Lightning's progress bar."""

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"train.method {self.method!r} is not one of {', '.join(METHODS)}")
        if self.reweight is not None and self.reweight not in REWEIGHTS:
            raise ValueError(f"train.reweight {self.reweight!r} is not one of {', '.join(REWEIGHTS)}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.gamma <= 0:
            raise ValueError("train.epochs, train.batch_size ≥ 1; train.lr, train.gamma > 0")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"train.schedule must be one of {', '.join(SCHEDULES)}, got "
                             f"{self.schedule!r}")
        if not (0 < self.settle < 1 and 0 < self.settle_decay and
                self.settle + self.settle_decay <= 1):
            raise ValueError(f"train.settle and train.settle_decay must be positive shares "
                             f"summing to at most 1, got {self.settle} and {self.settle_decay}")
        if self.cls_loss not in CLS_LOSSES:
            raise ValueError(f"train.cls_loss must be one of {', '.join(CLS_LOSSES)}, "
                             f"got {self.cls_loss!r}")
        if self.reweight not in (None, "none") and self.cls_loss not in ("paper", "hard"):
            raise ValueError(f"train.reweight={self.reweight} is a weighting strategy of "
                             f"train.cls_loss paper or hard, not of {self.cls_loss}")
        if self.logit_tau < 0:
            raise ValueError(f"train.logit_tau must be ≥ 0, got {self.logit_tau}")
        if not 0 < self.cb_beta < 1:
            raise ValueError(f"train.cb_beta must be in (0, 1), got {self.cb_beta}")
        if self.vq_epochs is not None and not 0 < self.vq_epochs < self.epochs:
            raise ValueError(f"train.vq_epochs must be in (0, epochs), got {self.vq_epochs}")
        for name in ("max_weight", "lr_decay", "limit_train_batches"):
            if getattr(self, name) <= 0:
                raise ValueError(f"train.{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.audio_augment <= 1:
            raise ValueError(f"train.audio_augment must be in [0, 1], got {self.audio_augment}")
        for name in ("entropy_weight", "velocity_weight", "grad_clip", "num_workers"):
            if getattr(self, name) < 0:
                raise ValueError(f"train.{name} must be ≥ 0, got {getattr(self, name)}")
        if self.lr_decay_epoch is not None and self.lr_decay_epoch < 1:
            raise ValueError(f"train.lr_decay_epoch must be ≥ 1 or null, got {self.lr_decay_epoch}")
        if not 0 <= self.seed < 2**32:  # Lightning replaces other seeds by a random one
            raise ValueError(f"train.seed must be in [0, 2**32), got {self.seed}")
        if self.num_nodes < 1:
            raise ValueError(f"train.num_nodes must be ≥ 1, got {self.num_nodes}")
        if self.accelerator not in ACCELERATORS:
            raise ValueError(f"train.accelerator {self.accelerator!r} is not one of "
                             f"{', '.join(ACCELERATORS)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"train.precision {self.precision!r} is not one of "
                             f"{', '.join(PRECISIONS)}")


@dataclass
class Config:
    """A whole run."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        if self.train.audio_augment > 0 and self.model.audio_encoder != "default":
            raise ValueError("train.audio_augment needs model.audio_encoder=default (the "
                             "pretrained features are computed once per dataset)")
        if self.model.lookahead is not None:  # its shortest value depends on the frame rate
            from .models.classifier import lookahead_plan

            lookahead_plan(self.model.lookahead, self.data.fps)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MethodSpec:
    """The switches a method name stands for."""

    quantizer: str  # "entropy" | "vanilla"
    gumbel: bool
    joint: bool
    reweight: str


def method_spec(train: TrainConfig) -> MethodSpec:
    """Resolve ``train.method`` (and the ``train.reweight`` override) into switches."""
    base = {
        "eggesture": MethodSpec("entropy", True, True, "linear"),
        "vanilla": MethodSpec("vanilla", False, False, "none"),
        "reweight_only": MethodSpec("vanilla", False, False, "linear"),
        "no_reweight": MethodSpec("entropy", True, True, "none"),
        "no_joint": MethodSpec("entropy", True, False, "linear"),
        "no_gumbel": MethodSpec("entropy", False, True, "linear"),
    }[train.method]
    if train.reweight is not None:
        base = dataclasses.replace(base, reweight=train.reweight)
    return base


# --- loading --------------------------------------------------------------------------------

PACKAGED = ("tiny", "synthetic", "paper_beat2", "paper_trinity")


def config_path(name_or_path: str) -> Path:
    """A config file path, or the packaged config of that name."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    stem = p.name[:-5] if p.name.endswith(".yaml") else p.name
    if stem in PACKAGED and p.parent == Path("."):
        return Path(str(resources.files("eggesture") / "configs" / f"{stem}.yaml"))
    raise ConfigError(p, f"config file not found (packaged configs: {', '.join(PACKAGED)})")


def _convert(value, typ, where: str):
    """Check/convert ``value`` to the annotated type ``typ``; raise ValueError naming ``where``."""
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None and type(None) in args:
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(value, a, where)
            except ValueError:
                pass
        raise ValueError(f"{where}: {value!r} is not a valid {typ}")
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        return [_convert(v, args[0], where) for v in value]
    if typ is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(f"{where}: expected true/false, got {value!r}")
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}: expected an integer, got {value!r}")
        return value
    if typ is float:
        if isinstance(value, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                raise ValueError(f"{where}: expected a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{where}: expected a finite number, got {value!r}")
        return float(value)
    if typ is str:
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected a string, got {value!r}")
        return value
    raise ValueError(f"{where}: unsupported type {typ}")


def _section(cls, values: dict, where: str, source):
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in names:
            raise ConfigError(source, f"unknown key '{where}.{key}' (known: {', '.join(sorted(names))})")
        try:
            kwargs[key] = _convert(value, hints[key], f"{where}.{key}")
        except ValueError as e:
            raise ConfigError(source, str(e)) from None
    try:
        return cls(**kwargs)
    except ValueError as e:
        raise ConfigError(source, str(e)) from None


#: The sections of a config and the dataclass of each.
SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def _translate_legacy(d: dict) -> dict:
    """``d`` with the keys of :data:`LEGACY_KEYS` replaced by today's (a bundle saved before
    ``train.cls_loss`` existed loads as what it trained with)."""
    d = {k: dict(v) if isinstance(v, dict) else v for k, v in d.items()}
    for (section, old), (new, values) in LEGACY_KEYS.items():
        sec = d.get(section)
        if isinstance(sec, dict) and old in sec:
            value = sec.pop(old)
            if value in values:
                sec.setdefault(new, values[value])
    return d


def from_dict(d: dict, source="config") -> Config:
    """Build a validated :class:`Config` from nested dicts."""
    if not isinstance(d, dict):
        raise ConfigError(source, "expected a mapping with sections data, model, train")
    for key in d:
        if key not in SECTIONS:
            raise ConfigError(source, f"unknown section '{key}' (known: {', '.join(SECTIONS)})")
    d = _translate_legacy(d)
    sections = {name: _section(cls, d.get(name) or {}, name, source) for name, cls in SECTIONS.items()}
    try:
        return Config(**sections)
    except ValueError as e:
        raise ConfigError(source, str(e)) from None


def parse_override(text: str) -> tuple[list[str], object]:
    """``"train.epochs=5"`` → (["train", "epochs"], 5); the value is parsed as YAML.

    The section and the key must exist, so a typo on the command line is reported as the
    override's, not as the config file's.
    """
    if "=" not in text:
        raise ConfigError(None, f"override {text!r} is not key=value (e.g. train.epochs=5)")
    key, raw = text.split("=", 1)
    parts = key.strip().split(".")
    if len(parts) != 2:
        raise ConfigError(None, f"override key {key!r} must be section.name (e.g. train.epochs)")
    section, name = parts
    if section not in SECTIONS:
        raise ConfigError(f"override '{text}'", f"unknown section '{section}' (sections: "
                                                f"{', '.join(SECTIONS)})")
    names = sorted(f.name for f in dataclasses.fields(SECTIONS[section]))
    if name not in names:
        raise ConfigError(f"override '{text}'", f"unknown key '{section}.{name}' (known: "
                                                f"{', '.join(names)})")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def load_config(name_or_path: str | None, overrides: list[str] = ()) -> Config:
    """Read a YAML config (or start from defaults when None) and apply ``section.key=value``."""
    raw: dict = {}
    source = "overrides"
    if name_or_path:
        path = config_path(name_or_path)
        source = path
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise ConfigError(path, f"invalid YAML ({' '.join(str(e).split())})") from None
        except UnicodeDecodeError:
            raise ConfigError(path, "not a YAML text file (not UTF-8)") from None
        if not isinstance(raw, dict):
            raise ConfigError(path, "expected a mapping with sections data, model, train")
    for text in overrides:
        (section, key), value = parse_override(text)
        raw.setdefault(section, {})
        if not isinstance(raw[section], dict):
            raise ConfigError(source, f"section {section!r} is not a mapping")
        raw[section][key] = value
    try:
        return from_dict(raw, source)
    except ConfigError as e:  # name the override, not the file, when the bad key came from it
        culprit = next((t for t in reversed(list(overrides))
                        if re.search(rf"\b{re.escape(t.split('=', 1)[0].strip())}\b", e.problem)), None)
        if culprit is None:
            raise
        raise ConfigError(f"override '{culprit}'", e.problem) from None


def save_config(cfg: Config, path: str | Path) -> None:
    """Write the resolved config as YAML (atomically)."""
    write_text(path, yaml.safe_dump(cfg.to_dict(), sort_keys=False))

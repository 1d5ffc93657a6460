"""``eggesture evaluate``: generate for every test sequence, then every metric of DESIGN §5.

For each sequence of the split, motion is generated from its audio and transcript, seeded with
its first ground-truth frames as the paper does, and scored against the ground truth:

* ``fgd`` — Fréchet distance (eq. 12) between FGD-autoencoder features of real and generated
  windows (the autoencoder of :mod:`eggesture.evaluation.feature_ae`, trained on the dataset's
  training split, ``eggesture fgd-train``; trained here on first use when missing);
* ``beat_alignment`` — eq. 13 on the approximate SMPL-X skeleton's joint positions at the model
  frame rate; ``beat_alignment_emage`` — the BEAT2/EMAGE protocol at 30 fps;
* ``l1_diversity`` — eq. 14 over groups of 40 equal-length generated windows, and the
  per-sequence variant of the BEAT2 literature;
* ``codebook_utilization`` / ``perplexity`` — codebook use when the VQ-VAE encodes the split's
  ground truth, plus the same for the codes the classifier predicted;
* ``semantic_recall`` — ground-truth gesture events found in the generated motion by the
  dataset's gesture recogniser (when the dataset has ``sem/`` annotations).

The same metrics on the ground truth itself form a reference row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..bundle import Bundle, load_bundle
from ..data.motion import SMPLX_JOINT_NAMES, axis_angle_to_6d, sixd_to_axis_angle
from ..data.transcript import Word
from ..data.wav import AUDIO_SR
from ..errors import DataError
from ..models.vqvae import DOWNSAMPLE

#: Where BEAT2 keeps its per-joint mean speeds (the EMAGE beat metric's normalisers).
MEAN_VEL_FILE = Path("weights") / "mean_vel_smplxflame_30.npy"


@dataclass
class SequenceResult:
    """Generated and real motion of one sequence, at the model frame rate."""

    id: str
    gen6d: np.ndarray  # (T, J, 6)
    real6d: np.ndarray  # (T, J, 6)
    indices: np.ndarray  # (T/4,) predicted codes
    wave: np.ndarray
    events: list | None = field(default=None)


def _words_from_ids(ids: np.ndarray, vocab: list[str], fps: float) -> list[Word]:
    """Timed words from frame-aligned word ids (runs of one id become one word)."""
    words, k, n = [], 0, len(ids)
    while k < n:
        j = k
        while j + 1 < n and ids[j + 1] == ids[k]:
            j += 1
        if ids[k] != 0:
            words.append(Word(k / fps, (j + 1) / fps, vocab[int(ids[k])]))
        k = j + 1
    return words


def _smplx_poses(six: np.ndarray, joint_names: list[str]) -> np.ndarray | None:
    """Full SMPL-X poses ``(T, 165)`` from 6D of a joint subset, None if not SMPL-X joints."""
    index = {n: i for i, n in enumerate(SMPLX_JOINT_NAMES)}
    if not set(joint_names) <= set(index):
        return None
    poses = np.zeros((six.shape[0], 55, 3), np.float64)
    poses[:, [index[n] for n in joint_names]] = sixd_to_axis_angle(six.astype(np.float64))
    return poses.reshape(six.shape[0], 165)


def generate_split(bundle: Bundle, data, split: list[str],
                   progress: Callable[[int, int, str], None] | None = None,
                   only: list[int] | None = None) -> list[SequenceResult]:
    """Generate every sequence of ``split`` of prepared ``data`` (ground-truth seeded), or only
    the sequence indices ``only`` of it."""
    from .generate import generate_motion

    out = []
    seqs = [i for i in data.sequence_indices(split) if only is None or i in only]
    for n, i in enumerate(seqs, start=1):
        s = data.sequence(i)
        real = np.asarray(s["motion"], dtype=np.float32)  # (T, J, 6)
        words = _words_from_ids(np.asarray(s["words"]), data.vocab, data.settings.fps)
        seed = bundle.norm.normalize(real[: bundle.cfg.data.seed_frames].reshape(
            min(len(real), bundle.cfg.data.seed_frames), -1))
        wave = np.asarray(s["audio"], dtype=np.float32)
        gen = generate_motion(bundle, wave, words, seed_motion=seed if len(seed) else None)
        t = min(len(real), len(gen.rotvec))
        out.append(SequenceResult(
            id=data.ids[i], gen6d=axis_angle_to_6d(gen.rotvec[:t]).astype(np.float32),
            real6d=real[:t], indices=gen.indices, wave=wave, events=data.sem_events[i]))
        if progress:
            progress(n, len(seqs), data.ids[i])
    return out


def _windows(seqs: list[np.ndarray], length: int, stride: int) -> np.ndarray:
    rows = [m[s:s + length] for m in seqs for s in range(0, len(m) - length + 1, stride)]
    return np.stack(rows) if rows else np.zeros((0, length) + seqs[0].shape[1:], np.float32)


def _positions(six: np.ndarray, joint_names: list[str], fps: float, out_fps: float) -> np.ndarray:
    from ..data.motion import resample_rotations
    from ..data.skeleton import smplx_positions

    poses = _smplx_poses(six, joint_names)
    n = max(1, int(math.floor(len(six) * out_fps / fps + 0.5)))
    aa = resample_rotations(poses.reshape(len(six), 55, 3), fps, out_fps, n_out=n)
    return smplx_positions(aa.reshape(n, 165))


@torch.no_grad()
def oracle_codes(bundle: Bundle, real6d: np.ndarray) -> torch.Tensor:
    """The VQ-VAE's codes ``(1, ⌈T/4⌉)`` of ground truth ``(T, J, 6)``, coded as a whole (the
    networks are convolutional), padded to a multiple of 4 with its last frame."""
    t = len(real6d)
    x = bundle.norm.normalize(real6d.reshape(t, -1)).astype(np.float32)
    pad = (-t) % DOWNSAMPLE
    if pad:
        x = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)])
    dev = next(bundle.vqvae.parameters()).device
    return bundle.vqvae.encode(torch.from_numpy(x)[None].to(dev))


@torch.no_grad()
def oracle_motion(bundle: Bundle, real6d: np.ndarray, codes: torch.Tensor | None = None) -> np.ndarray:
    """Encode → decode ground truth ``(T, J, 6)`` through the VQ-VAE (no classifier): the
    ceiling that the codes put on any generation."""
    t = len(real6d)
    codes = oracle_codes(bundle, real6d) if codes is None else codes
    out = bundle.vqvae.decode(codes)[0, :t].float().cpu().numpy()
    six = bundle.norm.denormalize(out).reshape(t, -1, 6)
    # Back through axis-angle, as generated motion is, so both are valid rotations.
    return axis_angle_to_6d(sixd_to_axis_angle(six)).astype(np.float32)


def token_accuracy(results: list[SequenceResult], codes: list[torch.Tensor],
                   seed_tokens: int) -> float | None:
    """Share of generated tokens equal to the VQ-VAE's codes of the ground truth (the
    classifier against its own targets), the seed tokens of each sequence left out."""
    hit = total = 0
    for r, c in zip(results, codes, strict=True):
        c = c[0].cpu().numpy()
        n = min(len(c), len(r.indices))
        hit += int((r.indices[seed_tokens:n] == c[seed_tokens:n]).sum())
        total += max(0, n - seed_tokens)
    return hit / total if total else None


@torch.no_grad()
def quantizer_geometry(bundle: Bundle, real: list[np.ndarray]) -> dict:
    """How the codes sit against the latents on ground truth: mean latent norm ‖z‖, mean norm of
    the code the decoder receives ‖ẑ‖, cos(z, ẑ), and the quantisation error ‖z̃ − ẑ‖ relative
    to ‖z̃‖ (z̃ = z in the quantizer's geometry: unit vectors for cosine)."""
    q = bundle.vqvae.quantizer
    dev = next(bundle.vqvae.parameters()).device
    z_all = []
    for m in real:
        x = bundle.norm.normalize(m.reshape(len(m), -1)).astype(np.float32)
        x = x[: len(x) - len(x) % 4]
        if len(x):
            z_all.append(bundle.vqvae.encoder(torch.from_numpy(x)[None].to(dev))[0])
    if not z_all:
        return {}
    z = torch.cat(z_all)  # (N, D)
    zt = q.project(z)
    zq = q.lookup(q.nearest(z))
    err = (zt - zq).norm(dim=-1) / zt.norm(dim=-1).clamp_min(1e-12)
    return {"latent_norm": float(z.norm(dim=-1).mean()), "code_norm": float(zq.norm(dim=-1).mean()),
            "cosine": float(torch.nn.functional.cosine_similarity(z, zq, dim=-1).mean()),
            "relative_quantisation_error": float(err.mean()), "geometry": q.distance,
            "tokens": int(z.shape[0])}


def _mean_speed(root: Path, data, train_splits: list[str]) -> tuple[np.ndarray, str]:
    """BEAT2's per-joint mean speeds if the dataset ships them, else computed on its train split."""
    from ..metrics.beat import joint_speeds

    path = Path(root) / MEAN_VEL_FILE
    if path.is_file():
        try:
            mean = np.load(path, allow_pickle=False).astype(np.float64).reshape(-1)
        except (ValueError, OSError) as e:
            raise DataError(path, f"not a readable .npy array ({e})") from None
        if mean.size != 55 or not np.isfinite(mean).all() or (mean <= 0).any():
            raise DataError(path, f"expected 55 positive per-joint mean speeds, got {mean.size} values")
        return mean, str(path)
    speeds = []
    for i in data.sequence_indices(train_splits):
        six = np.asarray(data.sequence(i)["motion"])
        speeds.append(joint_speeds(_positions(six, data.joint_names, data.settings.fps, 30), 30))
    mean = np.concatenate(speeds).mean(0)
    return np.maximum(mean, 1e-6), f"computed on the training split of {root} at 30 fps"


def evaluate(
    checkpoint: str | Path | Bundle, data_root: str | Path, *, split: list[str] | None = None,
    fgd_dir: str | Path | None = None, recognizer_dir: str | Path | None = None,
    train_missing: bool = True, progress: Callable[[str], None] | None = None,
) -> dict:
    """Evaluate a bundle on a dataset split; returns the results dict (see module docstring)."""
    from ..data.windows import WindowSettings, prepare
    from ..evaluation import recognizer as R
    from ..evaluation.feature_ae import load_feature_extractor, train_feature_ae
    from ..metrics.beat import audio_onsets, beat_alignment, beat_alignment_emage, emage_audio_onsets
    from ..metrics.codebook import codebook_stats
    from ..metrics.diversity import l1_diversity, l1_diversity_per_sequence
    from ..metrics.fgd import frechet_distance

    say = progress or (lambda msg: None)
    bundle = checkpoint if isinstance(checkpoint, Bundle) else load_bundle(checkpoint)
    cfg = bundle.cfg
    split = list(split or cfg.data.test_splits)
    data = prepare(data_root, WindowSettings.from_config(cfg),
                   train_splits=tuple(cfg.data.train_splits))
    if list(data.joint_names) != bundle.joint_names:
        raise DataError(data_root, "the dataset's joints differ from the model's "
                                   f"({len(data.joint_names)} vs {len(bundle.joint_names)})")
    if not data.sequence_indices(split):
        raise DataError(data_root, f"no sequences in split(s) {split}")
    fps, length = data.settings.fps, cfg.data.length

    say(f"generating {len(data.sequence_indices(split))} sequences of split {split}")
    results = generate_split(bundle, data, split,
                             lambda n, t, i: say(f"  generated {n}/{t} {i}"))
    gen = [r.gen6d for r in results]
    real = [r.real6d for r in results]

    # FGD (eq. 12) on windows of the model length, half-overlapping.
    try:
        fx = load_feature_extractor(data_root, cfg.data.joint_set, fps, length, fgd_dir)
    except DataError:
        if not train_missing:
            raise
        say("training the FGD autoencoder (first evaluation on this dataset)")
        fx = train_feature_ae(data, fgd_dir, train_splits=tuple(cfg.data.train_splits))
    stride = max(1, length // 2)
    real_w, gen_w = _windows(real, length, stride), _windows(gen, length, stride)
    codes_gt = [oracle_codes(bundle, m) for m in real]
    oracle = [oracle_motion(bundle, m, c) for m, c in zip(real, codes_gt, strict=True)]
    fgd = gt_fgd = oracle_fgd = None
    if len(real_w) >= 2:
        f_real, f_gen = fx.features(real_w), fx.features(gen_w)
        fgd = frechet_distance(f_real, f_gen)
        gt_fgd = 0.0  # the definition: the real windows against themselves
        oracle_fgd = frechet_distance(f_real, fx.features(_windows(oracle, length, stride)))

    # Beat alignment (eq. 13 at the model fps; EMAGE protocol at 30 fps) — SMPL-X skeletons.
    smplx = _smplx_poses(real[0][:1], data.joint_names) is not None
    ba = {"generated": [], "ground_truth": []}
    ba_e = {"generated": [], "ground_truth": []}
    mean_speed, mean_speed_src = (_mean_speed(Path(data_root), data, cfg.data.train_splits)
                                  if smplx else (None, None))
    ba_protocol = ba_e_protocol = None
    for r in results:
        onsets = audio_onsets(r.wave, AUDIO_SR)
        dur = r.wave.size / AUDIO_SR
        onsets_e = emage_audio_onsets(r.wave, AUDIO_SR, dur)
        for key, six in (("generated", r.gen6d), ("ground_truth", r.real6d)):
            if not smplx:
                continue
            b = beat_alignment(_positions(six, data.joint_names, fps, fps), onsets, fps)
            ba[key].append(b.score)
            ba_protocol = b.protocol
            p30 = _positions(six, data.joint_names, fps, 30)
            be = beat_alignment_emage(p30, onsets_e, mean_speed)
            ba_e[key].append((be.score, be.extra["weight"]))
            ba_e_protocol = be.protocol

    def ba_mean(v):
        return float(np.mean(v)) if v else None

    def ba_e_mean(v):
        w = sum(x[1] for x in v)
        return float(sum(x[0] * x[1] for x in v) / w) if w else None

    # L1 diversity (eq. 14) on non-overlapping windows of 6D rotations.
    def l1(seqs):
        w = _windows(seqs, length, length)
        return l1_diversity(w, units="6D rotation units").to_dict() if len(w) >= 2 else None

    l1_gen, l1_real, l1_oracle = l1(gen), l1(real), l1(oracle)

    # Codebook: the VQ-VAE encoding the split's ground truth; the classifier's predictions.
    with torch.no_grad():
        codes = []
        for m in real:
            w = _windows([bundle.norm.normalize(m.reshape(len(m), -1))], length, length)
            if len(w):
                codes.append(bundle.vqvae.encode(torch.from_numpy(w.astype(np.float32))).numpy().ravel())
    k = cfg.model.codebook_size
    cb_real = codebook_stats(np.concatenate(codes), k) if codes else None
    cb_gen = codebook_stats(np.concatenate([r.indices for r in results]), k)

    # Semantic-gesture recall (datasets with sem/ annotations).
    recall = gt_recall = oracle_recall = None
    if data.sem_classes:
        try:
            rec = R.load_recognizer(data_root, cfg.data.joint_set, fps, length, recognizer_dir)
        except DataError:
            if not train_missing:
                raise
            say("training the gesture recogniser (first evaluation on this dataset)")
            rec = R.train_recognizer(data, recognizer_dir, train_splits=tuple(cfg.data.train_splits))
        events = [r.events for r in results]
        recall = rec.recall(gen, events).to_dict()
        gt_recall = rec.recall(real, events).to_dict()
        oracle_recall = rec.recall(oracle, events).to_dict()

    def cb(stats):
        return None if stats is None else stats.to_dict()

    out = {
        "checkpoint": str(bundle.path), "data": str(data_root), "split": split,
        "method": cfg.train.method, "n_sequences": len(results),
        "minutes": round(sum(len(g) for g in gen) / fps / 60, 3),
        "fgd": fgd, "beat_alignment": ba_mean(ba["generated"]),
        "beat_alignment_emage": ba_e_mean(ba_e["generated"]),
        "l1_diversity": None if l1_gen is None else l1_gen["l1div"],
        "l1_diversity_per_sequence": l1_diversity_per_sequence(gen),
        "codebook_utilization": None if cb_real is None else cb_real.utilization,
        "perplexity": None if cb_real is None else cb_real.perplexity,
        "generated_codebook_utilization": cb_gen.utilization,
        "generated_perplexity": cb_gen.perplexity,
        "semantic_recall": None if recall is None else {
            "all": recall["all"], "head": recall["head"], "tail": recall["tail"],
            "macro": recall["macro"], "precision": recall["precision"],
            "detections": recall["detections"], "per_class": recall["per_class"],
            "rule": recall["rule"], "protocol": recall["protocol"],
            "intervals": recall["intervals"], "outcomes": recall["outcomes"]},
        "oracle": {
            "fgd": oracle_fgd, "l1_diversity": None if l1_oracle is None else l1_oracle["l1div"],
            "semantic_recall": None if oracle_recall is None else {
                k: oracle_recall[k] for k in ("all", "head", "tail", "precision", "intervals")},
            "what": "ground truth encoded and decoded by the VQ-VAE (no classifier)"},
        "quantizer_geometry": quantizer_geometry(bundle, real),
        "classifier_token_accuracy": token_accuracy(results, codes_gt,
                                                    cfg.data.seed_frames // DOWNSAMPLE),
        "ground_truth": {
            "fgd": gt_fgd, "beat_alignment": ba_mean(ba["ground_truth"]),
            "beat_alignment_emage": ba_e_mean(ba_e["ground_truth"]),
            "l1_diversity": None if l1_real is None else l1_real["l1div"],
            "l1_diversity_per_sequence": l1_diversity_per_sequence(real),
            "semantic_recall": None if gt_recall is None else {
                "all": gt_recall["all"], "head": gt_recall["head"], "tail": gt_recall["tail"],
                "precision": gt_recall["precision"]},
        },
        "codebook": {"ground_truth_encoding": cb(cb_real), "generated": cb(cb_gen)},
        "units": {
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
            "quantizer_geometry": "norms of the encoder's latents and of the codes the decoder "
                                  "receives; cosine between them; ‖z − ẑ‖ / ‖z‖ in the "
                                  "quantizer's geometry",
        },
        "protocol": {
            "fps": fps, "window": length, "fgd_window_stride": stride,
            "fgd_autoencoder": fx.tag, "fgd_autoencoder_folder": str(fx.folder),
            "n_windows": int(len(real_w)),
            "beat_alignment": ba_protocol, "beat_alignment_emage": ba_e_protocol,
            "emage_mean_speed": mean_speed_src,
            "l1_diversity": None if l1_gen is None else l1_gen["protocol"],
            "seed": f"first {cfg.data.seed_frames} ground-truth frames of each sequence",
            "decoding": "most likely code per token (temperature 0)",
            "semantic_recall": None if recall is None else recall.get("rule"),
            "codebook": "codebook_utilization/perplexity: VQ-VAE encoding of the split's ground "
                        "truth in non-overlapping windows; generated_*: the predicted codes",
        },
    }
    return out


def markdown_table(results: dict) -> str:
    """The results as a markdown table, with the oracle and ground-truth reference rows."""
    def f(v, d=3):
        return "–" if v is None else f"{v:.{d}f}"

    from ..metrics.recall import format_rate

    def recs(r):
        return " | ".join(format_rate(r, k) for k in ("all", "head", "tail", "precision"))

    gt, orc = results["ground_truth"], results.get("oracle") or {}
    head = ("| | FGD ↓ | BA ↑ | BA (EMAGE) ↑ | L1Div ↑ | utilisation | perplexity | token accuracy | "
            "recall all | recall head | recall tail | gesture precision |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    row = (f"| {results['method']} | {f(results['fgd'])} | {f(results['beat_alignment'], 4)} | "
           f"{f(results['beat_alignment_emage'], 4)} | {f(results['l1_diversity'])} | "
           f"{f(results['codebook_utilization'])} | {f(results['perplexity'], 1)} | "
           f"{f(results.get('classifier_token_accuracy'))} | {recs(results['semantic_recall'])} |\n")
    oracle = (f"| oracle (its VQ-VAE decoding the ground truth's codes) | {f(orc.get('fgd'))} | – | – | "
              f"{f(orc.get('l1_diversity'))} | – | – | – | {recs(orc.get('semantic_recall'))} |\n")
    ref = (f"| ground truth | {f(gt['fgd'])} (definition) | {f(gt['beat_alignment'], 4)} | "
           f"{f(gt['beat_alignment_emage'], 4)} | {f(gt['l1_diversity'])} | – | – | – | "
           f"{recs(gt['semantic_recall'])} |\n")
    return head + row + oracle + ref

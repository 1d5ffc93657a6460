"""``eggesture evaluate``: generate for every test sequence, then every metric of DESIGN §5.

For each sequence of the split, motion is generated from its audio and transcript, seeded with
its first ground-truth frames as the paper does, and scored against the ground truth:

* ``fgd`` — Fréchet distance (eq. 12) between FGD-autoencoder features of real and generated
  windows (the autoencoder of :mod:`eggesture.evaluation.feature_ae`, trained on the dataset's
  training split, ``eggesture fgd-train``; trained here when missing only if asked
  (``train_missing``), left out with the reason in ``left_out`` when the folder has no training
  split to train it on);
* ``beat_alignment`` — eq. 13 on the approximate SMPL-X skeleton's joint positions at the model
  frame rate; ``beat_alignment_emage`` — the BEAT2/EMAGE protocol at 30 fps;
* ``l1_diversity`` — eq. 14 over groups of 40 equal-length generated windows, and the
  per-sequence variant of the BEAT2 literature;
* ``codebook_utilization`` / ``perplexity`` — codebook use when the VQ-VAE encodes the split's
  ground truth, plus the same for the codes the classifier predicted;
* ``semantic_recall`` — ground-truth gesture events found in the generated motion by the
  dataset's gesture recogniser (when the dataset has ``sem/`` annotations).

The same metrics on the ground truth itself form a reference row.

Generation uses the bundle's own normalisation statistics and vocabulary. Of what
:func:`eggesture.data.windows.prepare` takes from a training split, evaluation reads only the
vocabulary (to read each sequence's words back as text); our FGD autoencoder, the recogniser and
BC's fallback mean speeds need the training sequences themselves. A folder without the bundle's
training splits (BEAT2's test set alone) is therefore prepared with the evaluated split standing
in for them, so that its vocabulary holds every word evaluated, and those three, where missing,
are left out with one line saying why (the EMAGE protocol trains nothing: BEAT2 ships its mean
speeds in ``weights/``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..bundle import Bundle, load_bundle
from ..checkpoint import CONFIG
from ..data.motion import axis_angle_to_6d, sixd_to_axis_angle, sixd_to_matrix
from ..data.poses import is_smplx, n_frames_for, sixd_positions
from ..data.transcript import Word
from ..data.wav import AUDIO_SR
from ..data.windows import PAD, UNK, WindowSettings, list_sequences, prepare
from ..errors import DataError
from ..evaluation import recognizer as R
from ..evaluation.feature_ae import load_feature_extractor, train_feature_ae
from ..evaluation.results import (
    BeatResult,
    CodebookResult,
    DiversityResult,
    EvaluationResult,
    FGDResult,
    RecallResult,
)
from ..metrics.beat import (
    audio_onsets,
    beat_alignment,
    beat_alignment_emage,
    emage_audio_onsets,
    joint_speeds,
)
from ..metrics.codebook import codebook_stats
from ..metrics.diversity import l1_diversity, l1_diversity_per_sequence
from ..metrics.fgd import frechet_distance
from ..metrics.tokens import TokenDiagnostics, rotation_error_deg, token_diagnostics
from ..models.vqvae import DOWNSAMPLE
from ..reporting.evaluation import results_markdown
from .generate import generate_motion
from .stream import stream_wave

#: ``evaluate(protocol=...)``: our metrics only, or also the EMAGE protocol's.
PROTOCOLS = ("ours", "emage")
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
    """Timed words from frame-aligned word ids (runs of one id become one word). A word the
    folder's vocabulary does not hold (UNK) is no word: read back as "<unk>" the bundle would
    take it for its own never-trained UNK id, where generation reads an unknown word as no
    text (:meth:`eggesture.bundle.Bundle.word_ids`)."""
    words, k, n = [], 0, len(ids)
    while k < n:
        j = k
        while j + 1 < n and ids[j + 1] == ids[k]:
            j += 1
        if ids[k] not in (PAD, UNK):
            words.append(Word(k / fps, (j + 1) / fps, vocab[int(ids[k])]))
        k = j + 1
    return words


def generate_split(bundle: Bundle, data, split: list[str],
                   progress: Callable[[int, int, str], None] | None = None,
                   only: list[int] | None = None,
                   posthoc_tau: float | None = None,
                   stream_lookahead: float | None = None,
                   words: bool = True) -> list[SequenceResult]:
    """Generate every sequence of ``split`` of prepared ``data`` (ground-truth seeded), or only
    the sequence indices ``only`` of it; ``posthoc_tau``: generation's post-hoc logit
    adjustment (None: the bundle's); ``stream_lookahead`` (seconds): generate live instead, in
    0.1 s chunks with that lookahead (:mod:`.stream`); ``words=False``: without the transcript."""
    out = []
    seqs = [i for i in data.sequence_indices(split) if only is None or i in only]
    for n, i in enumerate(seqs, start=1):
        s = data.sequence(i)
        real = np.asarray(s["motion"], dtype=np.float32)  # (T, J, 6)
        said = (_words_from_ids(np.asarray(s["words"]), data.vocab, data.settings.fps)
                if words else [])
        seed = bundle.norm.normalize(real[: bundle.cfg.data.seed_frames].reshape(
            min(len(real), bundle.cfg.data.seed_frames), -1))
        wave = np.asarray(s["audio"], dtype=np.float32)
        if stream_lookahead is not None:
            gen = stream_wave(bundle, wave, chunk=0.1, lookahead=stream_lookahead, words=said,
                              seed_motion=seed if len(seed) else None).generated
        else:
            gen = generate_motion(bundle, wave, said, seed_motion=seed if len(seed) else None,
                                  posthoc_tau=posthoc_tau)
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


def classifier_tokens(bundle: Bundle, results: list[SequenceResult], codes: list[torch.Tensor],
                      oracle: list[np.ndarray], seed_frames: int) -> TokenDiagnostics | None:
    """The classifier against its own targets (:mod:`eggesture.metrics.tokens`): the generated
    tokens against the VQ-VAE's codes of the ground truth, the seed tokens of each sequence left
    out; the motion-space error between the generated motion and ``oracle`` (the same VQ-VAE
    decoding the target codes), the seed frames left out. Training frequencies: the quantizer's
    moving average of hard code usage."""
    seed_tokens = seed_frames // DOWNSAMPLE
    pred, tgt, gen_m, tgt_m = [], [], [], []
    for r, c, o in zip(results, codes, oracle, strict=True):
        c = c[0].cpu().numpy()
        n = min(len(c), len(r.indices))
        pred.append(r.indices[seed_tokens:n])
        tgt.append(c[seed_tokens:n])
        t = min(len(r.gen6d), len(o))
        gen_m.append(r.gen6d[seed_frames:t])
        tgt_m.append(o[seed_frames:t])
    pred, tgt = np.concatenate(pred), np.concatenate(tgt)
    if not pred.size:
        return None
    gen_m, tgt_m = np.concatenate(gen_m), np.concatenate(tgt_m)
    angle = (rotation_error_deg(sixd_to_matrix(gen_m.astype(np.float64)),
                                sixd_to_matrix(tgt_m.astype(np.float64))) if len(gen_m) else None)
    freq = bundle.vqvae.quantizer.usage_probs.detach().double().cpu().numpy()
    return token_diagnostics(pred, tgt, freq, motion_error_deg=angle)


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


def _mean_speed(root: Path, data, train_splits: list[str]) -> tuple[np.ndarray | None, str]:
    """BEAT2's per-joint mean speeds if the dataset ships them, else computed on its training
    split; without either, None and why."""
    path = Path(root) / MEAN_VEL_FILE
    if path.is_file():
        try:
            mean = np.load(path, allow_pickle=False).astype(np.float64).reshape(-1)
        except (ValueError, OSError) as e:
            raise DataError(path, f"not a readable .npy array ({e})") from None
        if mean.size != 55 or not np.isfinite(mean).all() or (mean <= 0).any():
            raise DataError(path, f"expected 55 positive per-joint mean speeds, got {mean.size} values")
        return mean, str(path)
    train = data.sequence_indices(train_splits)
    if not train:
        return None, (f"no {MEAN_VEL_FILE} in {root} and no sequences in the training split(s) "
                      f"{list(train_splits)} to compute them on")
    speeds = []
    for i in train:
        six = np.asarray(data.sequence(i)["motion"])
        speeds.append(joint_speeds(sixd_positions(six, data.joint_names, data.settings.fps, 30), 30))
    mean = np.concatenate(speeds).mean(0)
    return np.maximum(mean, 1e-6), f"computed on the training split of {root} at 30 fps"


def _fgd(fx, real, gen, oracle, length: int) -> FGDResult:
    """FGD (eq. 12) of the generated and the oracle motion on windows of the model length,
    half-overlapping; all None without an autoencoder ``fx``."""
    stride = max(1, length // 2)
    real_w = _windows(real, length, stride)
    fgd = gt = orc = None
    if fx is not None and len(real_w) >= 2:
        f_real = fx.features(real_w)
        fgd = frechet_distance(f_real, fx.features(_windows(gen, length, stride)))
        gt = 0.0  # the definition: the real windows against themselves
        orc = frechet_distance(f_real, fx.features(_windows(oracle, length, stride)))
    return FGDResult(generated=fgd, oracle=orc, ground_truth=gt,
                     autoencoder=None if fx is None else fx.tag,
                     folder=None if fx is None else str(fx.folder), stride=stride,
                     n_windows=int(len(real_w)))


def _beats(results: list[SequenceResult], data, mean_speed, mean_speed_src) -> BeatResult:
    """Beat alignment (eq. 13 at the model fps) and the EMAGE protocol (30 fps, only with
    ``mean_speed``) on the approximate SMPL-X skeleton; None where the joints are not SMPL-X's."""
    fps, names = data.settings.fps, data.joint_names
    ba = {"generated": [], "ground_truth": []}
    ba_e = {"generated": [], "ground_truth": []}
    protocol = protocol_e = None
    for r in results if is_smplx(names) else []:
        onsets = audio_onsets(r.wave, AUDIO_SR)
        # EMAGE cuts the audio at the motion's length (at 30 fps), not the audio's.
        onsets_e = emage_audio_onsets(r.wave, AUDIO_SR, n_frames_for(len(r.gen6d) / fps, 30) / 30)
        for key, six in (("generated", r.gen6d), ("ground_truth", r.real6d)):
            b = beat_alignment(sixd_positions(six, names, fps, fps), onsets, fps)
            ba[key].append(b.score)
            protocol = b.protocol
            if mean_speed is not None:
                be = beat_alignment_emage(sixd_positions(six, names, fps, 30), onsets_e, mean_speed)
                ba_e[key].append((be.score, be.extra["weight"]))
                protocol_e = be.protocol

    def mean(v):
        return float(np.mean(v)) if v else None

    def weighted(v):  # the EMAGE score is averaged per audio beat
        w = sum(x[1] for x in v)
        return float(sum(x[0] * x[1] for x in v) / w) if w else None

    return BeatResult(generated=mean(ba["generated"]), ground_truth=mean(ba["ground_truth"]),
                      generated_emage=weighted(ba_e["generated"]),
                      ground_truth_emage=weighted(ba_e["ground_truth"]), protocol=protocol,
                      protocol_emage=protocol_e, mean_speed_source=mean_speed_src)


def _diversity(real, gen, oracle, length: int) -> DiversityResult:
    """L1 diversity (eq. 14) on non-overlapping windows of 6D rotations, and per sequence."""
    def l1(seqs):
        w = _windows(seqs, length, length)
        return l1_diversity(w, units="6D rotation units").to_dict() if len(w) >= 2 else None

    g, t, o = l1(gen), l1(real), l1(oracle)
    return DiversityResult(
        generated=None if g is None else g["l1div"], ground_truth=None if t is None else t["l1div"],
        oracle=None if o is None else o["l1div"],
        per_sequence_generated=l1_diversity_per_sequence(gen),
        per_sequence_ground_truth=l1_diversity_per_sequence(real),
        protocol=None if g is None else g["protocol"])


@torch.no_grad()
def _codebook(bundle: Bundle, real, results: list[SequenceResult], length: int) -> CodebookResult:
    """Code usage of the VQ-VAE encoding the ground truth (non-overlapping windows) and of the
    classifier's predictions."""
    codes = []
    for m in real:
        w = _windows([bundle.norm.normalize(m.reshape(len(m), -1))], length, length)
        if len(w):
            codes.append(bundle.vqvae.encode(torch.from_numpy(w.astype(np.float32))).numpy().ravel())
    k = bundle.cfg.model.codebook_size
    return CodebookResult(
        ground_truth_encoding=codebook_stats(np.concatenate(codes), k).to_dict() if codes else None,
        generated=codebook_stats(np.concatenate([r.indices for r in results]), k).to_dict())


def _recall(rec, results: list[SequenceResult], oracle) -> RecallResult:
    """Semantic-gesture recall of the generated motion, the ground truth and the oracle."""
    events = [r.events for r in results]
    return RecallResult(generated=rec.recall([r.gen6d for r in results], events).to_dict(),
                        ground_truth=rec.recall([r.real6d for r in results], events).to_dict(),
                        oracle=rec.recall(oracle, events).to_dict())


def _nets(data, data_root, cfg, fgd_dir, recognizer_dir, train_missing: bool, say):
    """The dataset's FGD autoencoder and (with ``sem/``) gesture recogniser, and what was left
    out. A missing net is trained here if ``train_missing``, else its one-line error (which
    names ``eggesture fgd-train``) is raised; where the folder has no training sequences to
    train it on, it is None, with why."""
    d, train_splits = cfg.data, tuple(cfg.data.train_splits)
    # Both nets are defined on the dataset's own training split (as `eggesture fgd-train`
    # trains them); one trained on another split or dataset would measure something else.
    trainable = bool(data.sequence_indices(train_splits))
    left_out = {}

    def cannot_train(metric: str, what: str, missing: DataError, flag: str) -> str:
        line = (f"{metric} not computed: no {what} of this dataset at {missing.file}, and "
                f"{data_root} has no sequences in the training split(s) {list(train_splits)} to "
                f"train one on (pass {flag} DIR of one trained on this dataset)")
        say(line)
        return line

    def mismatched(e: DataError) -> bool:
        # A net that is there but trained for other data (joints, fps, window length): its own
        # reason, not "missing" (and not replaced by one trained here).
        return e.file is not None and Path(e.file).name == CONFIG

    fx = rec = None
    try:
        fx = load_feature_extractor(data_root, d.joint_set, d.fps, d.length, fgd_dir)
    except DataError as e:
        if mismatched(e):
            raise
        if trainable and not train_missing:
            raise DataError(e.file, f"{e.problem} (or pass --train-eval-nets)") from None
        if trainable:
            say("training the FGD autoencoder (first evaluation on this dataset)")
            fx = train_feature_ae(data, fgd_dir, train_splits=train_splits)
        else:
            left_out["fgd"] = cannot_train("our FGD", "FGD autoencoder", e, "--fgd-dir")
    if data.sem_classes:
        try:
            rec = R.load_recognizer(data_root, d.joint_set, d.fps, d.length, recognizer_dir)
        except DataError as e:
            if mismatched(e):
                raise
            if trainable and not train_missing:
                raise DataError(e.file, f"{e.problem} (or pass --train-eval-nets)") from None
            if trainable:
                say("training the gesture recogniser (first evaluation on this dataset)")
                rec = R.train_recognizer(data, recognizer_dir, train_splits=train_splits)
            else:
                left_out["semantic_recall"] = cannot_train("semantic recall", "gesture recogniser",
                                                           e, "--recognizer-dir")
    return fx, rec, left_out


def _prepare(bundle: Bundle, data_root: str | Path, split: list[str]):
    """``data_root`` prepared at the bundle's settings: with its training splits' statistics and
    vocabulary, as training and ``fgd-train`` prepare it (one cache for all three), or, in a
    folder without sequences in them, the evaluated split's: generation reads only the words
    back from them (the bundle has its own statistics), so they must cover the split's words."""
    settings = WindowSettings.from_config(bundle.cfg)
    listed = {s for _, s in list_sequences(data_root, settings)}
    if not listed & set(split):
        raise DataError(data_root, f"no sequences in split(s) {split}")
    train_splits = tuple(bundle.cfg.data.train_splits)
    if not listed & set(train_splits):
        train_splits = tuple(split)
    return prepare(data_root, settings, train_splits=train_splits)


def evaluate(
    checkpoint: str | Path | Bundle, data_root: str | Path, *, split: list[str] | None = None,
    fgd_dir: str | Path | None = None, recognizer_dir: str | Path | None = None,
    train_missing: bool = False, progress: Callable[[str], None] | None = None,
    protocol: str = "ours", fgd_model: str | Path | None = None,
    smplx_model: str | Path | None = None, posthoc_tau: float | None = None,
    stream_lookahead: float | None = None, words: bool = True,
) -> EvaluationResult:
    """Evaluate a bundle on a dataset split (see the module docstring).

    ``protocol="emage"`` adds the EMAGE protocol's BC, L1div and FGD
    (:mod:`eggesture.evaluation.emage_protocol`) as ``EvaluationResult.emage``, computed with
    the AESKConv checkpoint ``fgd_model`` and the SMPL-X model file ``smplx_model`` (each else
    its default location under ``data_root``, else without: FGD None, approximate joints).
    Those files, the dataset and the evaluation nets are all checked before anything is
    generated. ``posthoc_tau`` overrides the bundle's ``model.posthoc_tau`` (generation's post-hoc
    logit adjustment). ``stream_lookahead`` (seconds) evaluates live generation (0.1 s chunks,
    :mod:`.stream`) instead of offline generation; ``words=False`` generates without the
    transcript (as a live stream without a recogniser).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    say = progress or (lambda msg: None)
    bundle = checkpoint if isinstance(checkpoint, Bundle) else load_bundle(checkpoint)
    cfg = bundle.cfg
    posthoc_tau = cfg.model.posthoc_tau if posthoc_tau is None else posthoc_tau
    if posthoc_tau < 0:  # before anything is prepared or generated
        raise ValueError(f"posthoc_tau must be ≥ 0, got {posthoc_tau}")
    split = list(split or cfg.data.test_splits)
    files = None
    if protocol == "emage":
        from ..evaluation.emage_protocol import load_emage_files

        files = load_emage_files(data_root, bundle.joint_names, fgd_model=fgd_model,
                                 smplx_model=smplx_model)
    data = _prepare(bundle, data_root, split)
    if list(data.joint_names) != bundle.joint_names:
        raise DataError(data_root, "the dataset's joints differ from the model's "
                                   f"({len(data.joint_names)} vs {len(bundle.joint_names)})")
    fps, length = data.settings.fps, cfg.data.length
    fx, rec, left_out = _nets(data, data_root, cfg, fgd_dir, recognizer_dir, train_missing, say)
    mean_speed, mean_speed_src = (_mean_speed(Path(data_root), data, cfg.data.train_splits)
                                  if is_smplx(data.joint_names) else (None, None))
    if mean_speed is None and mean_speed_src is not None:
        left_out["beat_alignment_emage"] = f"BA (EMAGE) and BC not computed: {mean_speed_src}"
        say(left_out["beat_alignment_emage"])

    say(f"generating {len(data.sequence_indices(split))} sequences of split {split}")
    results = generate_split(bundle, data, split,
                             lambda n, t, i: say(f"  generated {n}/{t} {i}"), posthoc_tau=posthoc_tau,
                             stream_lookahead=stream_lookahead, words=words)
    gen, real = [r.gen6d for r in results], [r.real6d for r in results]
    codes_gt = [oracle_codes(bundle, m) for m in real]
    oracle = [oracle_motion(bundle, m, c) for m, c in zip(real, codes_gt, strict=True)]
    emage = None
    if files is not None:
        from ..evaluation.emage_protocol import evaluate_emage

        emage = evaluate_emage(results, data, files, mean_speed, mean_speed_src, say=say)
    return EvaluationResult(
        checkpoint=str(bundle.path), data=str(data_root), split=split, method=cfg.train.method,
        n_sequences=len(results), minutes=round(sum(len(g) for g in gen) / fps / 60, 3),
        fps=fps, window=length, seed_frames=cfg.data.seed_frames,
        fgd=_fgd(fx, real, gen, oracle, length),
        beat=_beats(results, data, mean_speed, mean_speed_src),
        diversity=_diversity(real, gen, oracle, length),
        codebook=_codebook(bundle, real, results, length),
        recall=RecallResult() if rec is None else _recall(rec, results, oracle),
        quantizer_geometry=quantizer_geometry(bundle, real),
        tokens=classifier_tokens(bundle, results, codes_gt, oracle, cfg.data.seed_frames),
        emage=emage, left_out=left_out, posthoc_tau=posthoc_tau)


def markdown_table(results: dict) -> str:
    """One evaluation (the JSON layout) as a markdown table, with its oracle and the ground
    truth (:func:`eggesture.reporting.evaluation.results_markdown`), then a line for each metric
    left out."""
    lines = results_markdown({results["method"]: results}, oracle_rows=True)
    lines += [f"{why}." for why in (results.get("left_out") or {}).values()]
    return "\n".join(lines) + "\n"

"""The EMAGE evaluation protocol — the FGD, BC and L1div of the BEAT2 papers' tables.

EMAGE (Liu et al., CVPR 2024) published the evaluation that TalkSHOW, EMAGE, GestureLSM and
most BEAT2 papers report: ``emage_evaltools`` in PantoMatrix/PantoMatrix (read at commit
``0bbb03d``; ``evaluation_fn`` in ``train_emage_audio.py`` at ``c7356f3``). This module computes
the same three numbers on our generated motion, as that code does, beside (never mixed with)
our own metrics of :mod:`eggesture.recipes.evaluate`:

* per sequence, generated and ground-truth motion are full SMPL-X poses ``(t, 165)`` at 30 fps,
  cut to the shorter of the two (``train_emage_audio.py:396-398``). Our generated joints are
  slerped to 30 fps; the joints the model does not generate are zero rotations, as the output
  ``.npz`` writes them (:func:`eggesture.data.poses.place_joints`). The ground truth is the
  dataset's own 30 fps file, all 55 joints as recorded;
* **positions** for BC and L1div (``emage_utils/motion_rep_transfer.py:74-118``,
  ``get_motion_rep_numpy``): SMPL-X joints 0–54 with the body, hand and finger rotations of the
  poses but *zero* global orientation, jaw, eyes, translation and expression, the body shape of
  the ground truth's ``betas`` for both motions, the file's mean hand pose added
  (``flat_hand_mean=False``). Exact with the user's SMPL-X ``.npz``
  (:mod:`eggesture.data.smplx_model`), else our approximate skeleton (stated in the result);
* **BC** (``mertic.py:115-266``, class ``BC``; called at ``train_emage_audio.py:403-408``):
  :func:`eggesture.metrics.beat.beat_alignment_emage` — audio onsets (librosa, hop 512 at
  16 kHz) on samples ``2·16000`` to ``int((t − 60)/30·16000)``, the *motion's* length; speed minima
  of order 7 within frames ``[60, t − 60)``, kept where speed / BEAT2 mean speed > 0.10,
  σ = 0.3 s, mean over 13 upper-body joints; sequences weighted by ``t − 120``;
* **L1div** (``mertic.py:57-75``, class ``L1div``): Σ over frames and 165 coordinates of
  ``|x − mean_t x|`` of each sequence's positions, summed over sequences, divided by all
  frames (:func:`eggesture.metrics.diversity.l1_diversity_per_sequence`); metres;
* **FGD** (``mertic.py:280-357``, class ``FGD``; called at ``train_emage_audio.py:420-428``):
  :mod:`eggesture.evaluation.emage_fgd` — the published ``AESKConv_240_100.bin`` autoencoder's
  latents (one 240-d row per 16 frames) of both motions' 6D rotations (pytorch3d convention,
  sequences cut to a multiple of 32 frames), Fréchet distance of the pooled rows with ε = 1e-6
  inside the square root. Without that file the FGD is None and the result says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import beat2
from ..data.beat2 import motion_path, read_motion
from ..data.motion import resample_rotations, sixd_to_axis_angle
from ..data.poses import is_smplx, n_frames_for, place_joints, smplx_indices
from ..data.smplx_model import load_smplx_model, positions
from ..data.wav import AUDIO_SR
from ..errors import DataError
from ..metrics import beat as B
from ..metrics.beat import beat_alignment_emage, emage_audio_onsets
from ..metrics.diversity import l1_diversity_per_sequence
from . import emage_fgd
from .emage_fgd import load_emage_fgd_model
from .results import EmageProtocolResult

#: Where ``evaluate --protocol emage`` looks for the protocol's files when not given, relative to
#: the dataset folder (the BEAT2 release keeps ``weights/mean_vel_smplxflame_30.npy`` there).
DEFAULT_FGD_MODEL = Path("weights") / "AESKConv_240_100.bin"
DEFAULT_SMPLX_MODEL = Path("weights") / "SMPLX_NEUTRAL_2020.npz"
#: Also looked for: the layout of EMAGE's own download folder copied under ``weights/``.
EMAGE_SMPLX_LAYOUT = Path("weights") / "smplx_models" / "smplx" / "SMPLX_NEUTRAL_2020.npz"
#: The protocol's rate, and the joints its positions leave at zero rotation (global orientation,
#: jaw, left eye, right eye; ``motion_rep_transfer.py:105-117``).
FPS = 30
ZEROED_JOINTS = (0, 22, 23, 24)

@dataclass
class EmageFiles:
    """The protocol's dataset folder and user files, checked and loaded before anything is
    generated (:func:`load_emage_files`), so a bad file fails in seconds, not after a test set."""

    root: Path
    fgd_path: Path | None
    """The AESKConv checkpoint; None when neither given nor at :data:`DEFAULT_FGD_MODEL`."""
    fgd_net: object | None
    """:class:`eggesture.evaluation.emage_fgd.AESKConv`, loaded strictly, in eval mode."""
    smplx_path: Path | None
    smplx: object | None
    """:class:`eggesture.data.smplx_model.SmplxModel`; None: the approximate skeleton."""


def load_emage_files(data_root: str | Path, joint_names: list[str], *,
                     fgd_model: str | Path | None = None,
                     smplx_model: str | Path | None = None) -> EmageFiles:
    """Check that the protocol applies to ``data_root`` and a model of ``joint_names``, and load
    its files: ``fgd_model`` / ``smplx_model``, else the default locations under ``data_root``
    (:data:`DEFAULT_FGD_MODEL`, :data:`DEFAULT_SMPLX_MODEL`) when present. A path given but
    missing, a checkpoint that does not load strictly and a model file that cannot be read
    without pickle are one-line errors; a default location that is empty is not (FGD None,
    approximate joints)."""
    root = Path(data_root)
    if not beat2.detect(root):
        raise DataError(root, "the EMAGE protocol is defined on BEAT2's SMPL-X motion (30 fps "
                              "smplxflame_30/ files); this dataset is not in that layout")
    if not is_smplx(joint_names):
        raise DataError(root, "the EMAGE protocol needs SMPL-X joints; the model's are not")
    fgd_path = _resolve(fgd_model, root / DEFAULT_FGD_MODEL)
    smplx_path = _resolve(smplx_model, root / DEFAULT_SMPLX_MODEL, root / EMAGE_SMPLX_LAYOUT)
    return EmageFiles(root=root, fgd_path=fgd_path,
                      fgd_net=load_emage_fgd_model(fgd_path) if fgd_path else None,
                      smplx_path=smplx_path,
                      smplx=load_smplx_model(smplx_path) if smplx_path else None)


@dataclass
class _Pair:
    """One sequence at the protocol's rate: full poses ``(t, 165)`` of both motions."""

    generated: np.ndarray
    ground_truth: np.ndarray
    betas: np.ndarray
    wave: np.ndarray


def protocol_positions(poses: np.ndarray, betas: np.ndarray | None, model=None) -> np.ndarray:
    """Joint positions ``(T, 55, 3)`` in metres as EMAGE's ``get_motion_rep_numpy`` gives them:
    global orientation, jaw and eyes at zero rotation, no translation, no expression."""
    p = np.asarray(poses, dtype=np.float64).reshape(len(poses), -1, 3).copy()
    p[:, ZEROED_JOINTS] = 0.0
    return positions(p.reshape(len(p), -1), None, model=model, betas=betas)


def _pairs(results, data, data_root: Path) -> list[_Pair]:
    """Generated motion (at the model rate) and the dataset's 30 fps ground truth, as pairs."""
    idx = smplx_indices(data.joint_names)
    pairs = []
    for r in results:
        raw = read_motion(motion_path(data_root, r.id))
        n = n_frames_for(len(r.gen6d) / data.settings.fps, FPS)
        aa = resample_rotations(sixd_to_axis_angle(r.gen6d.astype(np.float64)),
                                data.settings.fps, FPS, n_out=n)
        gen = place_joints(aa, idx)
        t = min(len(gen), len(raw["poses"]))
        pairs.append(_Pair(gen[:t], raw["poses"][:t].astype(np.float64), raw["betas"], r.wave))
    return pairs


def _bc(pos: list[np.ndarray], waves: list[np.ndarray], mean_speed: np.ndarray) -> float | None:
    """BC pooled as the reference does: per-sequence scores weighted by ``t − 120`` frames."""
    total = weight = 0.0
    for p, w in zip(pos, waves, strict=True):
        onsets = emage_audio_onsets(w, AUDIO_SR, len(p) / FPS)
        b = beat_alignment_emage(p, onsets, mean_speed, fps=FPS)
        total += b.score * b.extra["weight"]
        weight += b.extra["weight"]
    return total / weight if weight else None


def evaluate_emage(results, data, files: EmageFiles, mean_speed: np.ndarray | None,
                   mean_speed_source: str | None, *, say=None) -> EmageProtocolResult:
    """The EMAGE protocol on generated ``results`` (:class:`eggesture.recipes.evaluate.
    SequenceResult`) of prepared BEAT2-layout ``data``, with the folder and files of
    :func:`load_emage_files`. Without ``mean_speed`` BC is None (``mean_speed_source`` says
    why)."""
    say = say or (lambda msg: None)
    root, fgd_path, smplx_path, model = files.root, files.fgd_path, files.smplx_path, files.smplx
    pairs = _pairs(results, data, root)

    say("EMAGE protocol: joint positions" + (f" from {smplx_path}" if model else
                                             " (approximate skeleton)"))
    gen_pos = [protocol_positions(p.generated, p.betas, model) for p in pairs]
    gt_pos = [protocol_positions(p.ground_truth, p.betas, model) for p in pairs]
    waves = [p.wave for p in pairs]

    fgd = fgd_filled = missing = None
    if fgd_path is None:
        missing = (f"EMAGE's FGD needs its autoencoder AESKConv_240_100.bin (published with "
                   f"PantoMatrix's emage_evaltools): pass --fgd-model FILE or put it at "
                   f"{root / DEFAULT_FGD_MODEL}")
    else:
        say(f"EMAGE protocol: FGD with {fgd_path}")
        net = files.fgd_net
        gen_aa = [p.generated.reshape(len(p.generated), -1, 3) for p in pairs]
        gt_aa = [p.ground_truth.reshape(len(p.ground_truth), -1, 3) for p in pairs]
        f_gt = emage_fgd.emage_features(net, gt_aa, fps=FPS)
        fgd = emage_fgd.frechet_distance_emage(emage_fgd.emage_features(net, gen_aa, fps=FPS), f_gt)
        generated = np.zeros(55, bool)
        generated[smplx_indices(data.joint_names)] = True
        filled = [np.where(generated[None, :, None], a, 0.0) for a in gt_aa]
        fgd_filled = emage_fgd.frechet_distance_emage(
            emage_fgd.emage_features(net, filled, fps=FPS), f_gt)

    n_gen = len(smplx_indices(data.joint_names))
    return EmageProtocolResult(
        bc_generated=None if mean_speed is None else _bc(gen_pos, waves, mean_speed),
        bc_ground_truth=None if mean_speed is None else _bc(gt_pos, waves, mean_speed),
        l1div_generated=l1_diversity_per_sequence(gen_pos) if pairs else None,
        l1div_ground_truth=l1_diversity_per_sequence(gt_pos) if pairs else None,
        fgd_generated=fgd, fgd_ground_truth_filled=fgd_filled,
        fgd_model=None if fgd_path is None else str(fgd_path), fgd_missing=missing,
        positions=(f"exact SMPL-X joints of {smplx_path} (forward kinematics, betas of each "
                   "sequence's ground truth)" if model else
                   "approximate SMPL-X skeleton (eggesture.data.skeleton; pass --smplx-model "
                   "SMPLX_NEUTRAL_2020.npz for EMAGE's exact joints)"),
        mean_speed_source=mean_speed_source, n_sequences=len(pairs),
        frames=int(sum(len(p.generated) for p in pairs)), generated_joints=n_gen,
        fill=(f"the model generates {n_gen} of the 55 SMPL-X joints; the other {55 - n_gen} are "
              "zero rotations in the generated motion (as the output .npz writes them); the "
              "ground truth keeps all 55 as recorded"),
        constants={
            "fps": FPS, "bc_sigma_s": B.EMAGE_SIGMA_S, "bc_order": B.EMAGE_ORDER,
            "bc_threshold": B.EMAGE_THRESHOLD, "bc_excluded_s_each_end": B.EMAGE_EXCLUDE_S,
            "bc_joints": list(B.EMAGE_UPPER_BODY),
            "bc_audio_cut": "samples 2*16000 to int((t - 60)/30*16000), t = motion frames",
            "bc_onset_hop": B.HOP_LENGTH, "positions_zeroed_joints": list(ZEROED_JOINTS),
            "fgd_trim": f"multiple of {emage_fgd.TRIM_FRAMES} frames",
            "fgd_rows": f"one {emage_fgd.LATENT_DIM}-d latent per {emage_fgd.DOWNSAMPLING} "
                        "frames, pooled over sequences",
            "fgd_eps": emage_fgd.EPS, "reference": "PantoMatrix/PantoMatrix emage_evaltools/"
                                                   "mertic.py (0bbb03d), train_emage_audio.py "
                                                   "evaluation_fn (c7356f3)",
        })


def _resolve(given: str | Path | None, *defaults: Path) -> Path | None:
    """The file given (which must exist), else the first default location holding a file."""
    if given is not None:
        path = Path(given)
        if not path.is_file():
            raise DataError(path, "does not exist" if not path.exists() else "is not a file")
        return path
    return next((d for d in defaults if d.is_file()), None)

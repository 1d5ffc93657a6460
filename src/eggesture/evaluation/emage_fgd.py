"""EMAGE's FGD: the Fréchet distance of ``AESKConv_240_100.bin`` latents, as ``emage_evaltools``.

EMAGE (Liu et al., CVPR 2024) published its FGD as class ``FGD`` of ``emage_evaltools/mertic.py``
in PantoMatrix/PantoMatrix (read at commit ``0bbb03d``). This is our own implementation of what
that code computes, with a module layout whose ``state_dict()`` has exactly the published
checkpoint's keys (56 tensors, 4,384,500 values), so the real file loads strictly and gives the
same numbers. References below are ``file:line`` at that commit, in ``emage_evaltools/`` unless
another folder is named (``README.md`` is the repository's). Checked once against the reference
code itself (run outside this repository): identical key order, masks and pooling matrices, and
bitwise-identical encoder outputs and Fréchet values on the same inputs.

Input (``mertic.py:323-332``; callers such as ``README.md:223-228`` build it). Per sequence, all
55 SMPL-X joints in axis-angle at 30 fps become 6D rotations in pytorch3d's convention, the
first two *rows* of each matrix, ``R[..., :2, :]`` (``emage_utils/rotation_conversions.py:550,
566``; our own 6D of :mod:`eggesture.data.motion` takes columns), unnormalised, ``(1, T, 330)``.
``T`` is cut to a multiple of 32 by dropping the last ``T mod 32`` frames (``mertic.py:325-327``);
a sequence shorter than 32 frames is left empty there and the encoder fails on it, so we refuse
it with a ``ValueError``.

The autoencoder (``Arg``, ``mertic.py:269-277``: latent 240, input 330, 4 layers, growth
``[1, 1, 2, 1]``, ``variational=False``):

* skeleton edges: a virtual edge ``(0, 55)`` from the root, then ``(parent[j], j)`` for j ≥ 1
  of SMPL-X's kinematic tree (``skeleton_DME.py:358-365``; the tree is the ``kintree_table`` of
  ``SMPLX_NEUTRAL_2020.npz``, ``motion_encoder.py:188-191``) — 55 edges;
* ``LocalEncoder`` (``motion_encoder.py:9-138``): 6 channels per edge (``:12``), growing to
  6, 6, 12, 12 (``:41-42``); kernel 4, padding 1, stride 2 (``:17, 38, 72``), tanh (``:13``),
  residual blocks without extra convs (``:14, 20``), neighbours of an edge are the edges at most
  2 apart (``:19``; ``skeleton_DME.py:415-458``: edges sharing a joint are 1 apart);
* each layer is one ``SkeletonResidual`` (``skeleton.py:122-205``): a masked skeleton conv
  (``skeleton_DME.py:92-101``: output edge i sees only its neighbours' input channels; mask
  stored as a frozen parameter; constant zero padding done by ``F.pad``, ``:140-148``) then
  ``GroupNorm(10)`` (``skeleton.py:176``), plus a masked 1×1 stride-2 conv shortcut
  (``:180-190``), then mean pooling of edge pairs (``skeleton_DME.py:205-276``), kept only where
  it removes edges (``skeleton.py:197-198``), then tanh (``:199``). Edges go 55 → 35 → 20 → 20
  → 20 and channels 330 → 210 → 120 → 240 → 240; time is downsampled 16 times;
* ``fc_mu`` / ``fc_logvar`` (``motion_encoder.py:152-153``) and the ``VQDecoderV3`` decoder
  (``decoders.py:7-56``) are loaded but unused: ``map2latent`` with ``variational=False``
  returns the encoder output itself (``motion_encoder.py:171-177``), not ``fc_mu`` of it.

Features: every latent frame of every sequence is one 240-d row, 1 per 16 input frames, pooled
over sequences (``mertic.py:341-342``). The Fréchet distance (``mertic.py:346-357``): means and
``np.cov`` (ddof 1) of both sets, ``ε = 1e-6`` added to *both* covariances inside the square
root only, ``sqrtm((Σ_a + εI)(Σ_b + εI))`` by ``scipy.linalg.sqrtm``, its real part kept
whatever the imaginary part, ``|μ_a − μ_b|² + tr Σ_a + tr Σ_b − 2 tr sqrtm``. So the FGD of a
set with itself is ``−2εD`` (−4.8e-4 for D = 240), not 0.

Scale: the value here is the raw value ``mertic.py:357`` returns; PantoMatrix's README prints it
unscaled (``README.md:69, 83-85``: DisCo 2.233, EMAGE 0.615). ``mertic.py`` applies no scale;
a table headed "FGD ×10^-1" (value = printed × 10^-1) prints ten times this value.

The weights themselves (published with emage_evaltools) are not shipped here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from scipy import linalg
from torch import nn

from ..data.beat2 import FPS as BEAT2_FPS
from ..data.motion import NUM_SMPLX_JOINTS, SMPLX_PARENTS, axis_angle_to_matrix
from ..errors import CheckpointError

#: ``Arg`` of ``mertic.py:271-276``.
LATENT_DIM = 240
INPUT_DIM = NUM_SMPLX_JOINTS * 6  # 330
N_LAYERS = 4
GROWTH = (1, 1, 2, 1)
#: ``LocalEncoder`` settings (``motion_encoder.py:12, 17, 19, 38``) and ``skeleton.py:176``.
CHANNELS_PER_EDGE = 6
KERNEL_SIZE = 4
PADDING = (KERNEL_SIZE - 1) // 2
NEIGHBOUR_DISTANCE = 2
NORM_GROUPS = 10
#: Input frames per latent frame (four stride-2 layers).
DOWNSAMPLING = 2**N_LAYERS
#: Sequences are cut to a multiple of this many frames (``mertic.py:325-327``).
TRIM_FRAMES = 32
#: Added to both covariances inside the square root (``mertic.py:347, 353-354``).
EPS = 1e-6
#: The published checkpoint, as ``model.state_dict()`` counts it.
N_STATE_TENSORS = 56
N_PARAMETERS = 4_384_500

_PREFIX = "module."  # the checkpoint was saved from a DataParallel wrapper


# --- skeleton topology ----------------------------------------------------------------------

Edge = tuple[int, int]


def skeleton_edges(parents: Sequence[int] = SMPLX_PARENTS) -> list[Edge]:
    """(parent, child) joint pairs: a virtual edge from the root to joint ``J``, then one per
    non-root joint in joint order (``skeleton_DME.py:358-365``)."""
    return [(0, len(parents))] + [(parents[j], j) for j in range(1, len(parents))]


def edge_neighbours(edges: Sequence[Edge], max_distance: int) -> list[list[int]]:
    """For each edge, the indices (ascending) of the edges at most ``max_distance`` apart; two
    edges sharing a joint are 1 apart (``skeleton_DME.py:415-458``)."""
    at_joint: dict[int, list[int]] = {}
    for i, edge in enumerate(edges):
        for joint in set(edge):
            at_joint.setdefault(joint, []).append(i)
    neighbours = []
    for start in range(len(edges)):
        seen, frontier = {start}, {start}
        for _ in range(max_distance):
            frontier = {k for i in frontier for joint in edges[i] for k in at_joint[joint]} - seen
            seen |= frontier
        neighbours.append(sorted(seen))
    return neighbours


def pooling_groups(edges: Sequence[Edge], *, last: bool) -> tuple[list[list[int]], list[Edge]]:
    """The edge groups one ``SkeletonPool`` averages and the edges it leaves.

    The tree is cut into chains between joints of degree ≠ 2, walked depth first from joint 0
    with children in edge order; each chain is pooled in pairs, an odd chain's first edge
    alone; in the last layer each whole chain is one group (``skeleton_DME.py:219-254``).
    """
    degree = Counter(joint for edge in edges for joint in edge)
    children: dict[int, list[int]] = {}
    for i, (parent, _) in enumerate(edges):
        children.setdefault(parent, []).append(i)
    chains: list[list[int]] = []

    def walk(joint: int, chain: list[int]) -> None:
        if joint != 0 and degree[joint] > 2:  # a branching joint ends the chain that reached it
            chains.append(chain)
            chain = []
        if degree[joint] == 1:
            chains.append(chain)
            return
        for i in children.get(joint, ()):
            walk(edges[i][1], chain + [i])

    walk(0, [])
    if last:
        return chains, []
    groups: list[list[int]] = []
    kept: list[Edge] = []
    for chain in chains:
        if len(chain) % 2:
            groups.append([chain[0]])
            kept.append(tuple(edges[chain[0]]))
            chain = chain[1:]
        for a, b in zip(chain[::2], chain[1::2]):
            groups.append([a, b])
            kept.append((edges[a][0], edges[b][1]))
    return groups, kept


# --- the autoencoder ------------------------------------------------------------------------

class SkeletonConv(nn.Module):
    """1D conv over time whose output channels of edge ``i`` see only the input channels of the
    edges neighbouring ``i`` (a fixed 0/1 mask on the weight). ``(B, E·c_in, T) → (B, E·c_out,
    T')``."""

    def __init__(self, *, neighbours: Sequence[Sequence[int]], in_channels: int,
                 out_channels: int, kernel_size: int, stride: int, padding: int):
        super().__init__()
        n_edges = len(neighbours)
        if in_channels % n_edges or out_channels % n_edges:
            raise ValueError(f"in_channels {in_channels} and out_channels {out_channels} must be "
                             f"multiples of the {n_edges} edges")
        c_in, c_out = in_channels // n_edges, out_channels // n_edges
        mask = torch.zeros(out_channels, in_channels, kernel_size)
        for i, edge_ids in enumerate(neighbours):
            cols = [k * c_in + c for k in edge_ids for c in range(c_in)]
            mask[i * c_out:(i + 1) * c_out, cols] = 1.0
        # A frozen parameter, not a buffer, and registered first: the checkpoint counts it among
        # the parameters and lists it before the weight (skeleton_DME.py:101, 127-129).
        self.mask = nn.Parameter(mask, requires_grad=False)
        # PyTorch's default conv init, with the fan-in of each output's unmasked inputs.
        bound = 1.0 / mask.sum(dim=(1, 2)).sqrt()  # (out,)
        self.weight = nn.Parameter((torch.rand_like(mask) * 2 - 1) * bound[:, None, None] * mask)
        self.bias = nn.Parameter((torch.rand(out_channels) * 2 - 1) * bound)
        self.stride, self.padding = stride, padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (self.padding, self.padding))  # zeros at both ends of time
        return F.conv1d(x, self.weight * self.mask, self.bias, stride=self.stride)


class SkeletonPool(nn.Module):
    """Mean of each group's edges, channel by channel, as a fixed matrix.
    ``(B, E·c, T) → (B, G·c, T)``."""

    def __init__(self, *, groups: Sequence[Sequence[int]], n_edges: int, channels_per_edge: int):
        super().__init__()
        c = channels_per_edge
        weight = torch.zeros(len(groups) * c, n_edges * c)
        for i, group in enumerate(groups):
            for j in group:
                weight[i * c + torch.arange(c), j * c + torch.arange(c)] = 1.0 / len(group)
        self.weight = nn.Parameter(weight, requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(self.weight, x)  # (G·c, E·c) @ (B, E·c, T) → (B, G·c, T)


class SkeletonResidual(nn.Module):
    """One encoder layer: (masked conv → GroupNorm) + masked 1×1 shortcut, both stride 2, then
    pooling (where it removes edges) and tanh. ``(B, E·c_in, T) → (B, G·c_out, T/2)``."""

    def __init__(self, *, edges: Sequence[Edge], in_channels: int, out_channels: int, last: bool):
        super().__init__()
        neighbours = edge_neighbours(edges, NEIGHBOUR_DISTANCE)
        self.residual = nn.Sequential(
            SkeletonConv(neighbours=neighbours, in_channels=in_channels, out_channels=out_channels,
                         kernel_size=KERNEL_SIZE, stride=2, padding=PADDING),
            nn.GroupNorm(NORM_GROUPS, out_channels),
        )
        self.shortcut = SkeletonConv(neighbours=neighbours, in_channels=in_channels,
                                     out_channels=out_channels, kernel_size=1, stride=2, padding=0)
        groups, self.edges_out = pooling_groups(edges, last=last)
        self.n_groups = len(groups)
        common: list[nn.Module] = []
        if len(groups) != len(edges):
            common.append(SkeletonPool(groups=groups, n_edges=len(edges),
                                       channels_per_edge=out_channels // len(edges)))
        common.append(nn.Tanh())
        self.common = nn.Sequential(*common)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.common(self.residual(x) + self.shortcut(x))


class LocalEncoder(nn.Module):
    """The skeleton-aware encoder. ``(B, T, E·6) → (B, T/16, 240)``."""

    def __init__(self, *, edges: Sequence[Edge], channels_per_edge: int = CHANNELS_PER_EDGE,
                 growth: Sequence[int] = GROWTH):
        super().__init__()
        self.layers = nn.ModuleList()
        self.edge_counts = [len(edges)]  # edges entering each layer, then groups leaving the last
        per_edge = channels_per_edge
        for i, g in enumerate(growth):
            block = SkeletonResidual(edges=edges, in_channels=per_edge * len(edges),
                                     out_channels=per_edge * g * len(edges),
                                     last=i == len(growth) - 1)
            # Each layer is a one-block Sequential in the checkpoint: ``layers.{i}.0.…``.
            self.layers.append(nn.Sequential(block))
            per_edge *= g
            edges = block.edges_out
            self.edge_counts.append(block.n_groups)
        self.out_channels = per_edge * self.edge_counts[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = rearrange(x, "b t c -> b c t")
        for layer in self.layers:
            x = layer(x)
        return rearrange(x, "b c t -> b t c")


class _ResBlock(nn.Module):
    def __init__(self, *, channels: int):
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv1d(channels, channels, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.model(x)


class Decoder(nn.Module):
    """``VQDecoderV3`` (``decoders.py:7-40``): two residual blocks, ``n_up`` × (nearest ×2
    upsampling, conv, leaky ReLU), a last conv. ``(B, T', latent) → (B, T'·2^n_up, out)``.
    Part of the checkpoint; the FGD never runs it."""

    def __init__(self, *, latent_dim: int = LATENT_DIM, out_dim: int = INPUT_DIM,
                 n_up: int = N_LAYERS):
        super().__init__()
        channels = [latent_dim] * n_up + [out_dim]
        layers: list[nn.Module] = [_ResBlock(channels=latent_dim), _ResBlock(channels=latent_dim)]
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv1d(c_in, c_out, 3, padding=1), nn.LeakyReLU(0.2)]
        layers.append(nn.Conv1d(out_dim, out_dim, 3, padding=1))
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return rearrange(self.main(rearrange(z, "b t c -> b c t")), "b c t -> b t c")


class AESKConv(nn.Module):
    """EMAGE's FGD autoencoder (``VAESKConv`` with ``variational=False``): ``encode`` gives the
    features, ``(B, T, 330) → (B, T/16, 240)``."""

    def __init__(self, *, parents: Sequence[int] = SMPLX_PARENTS, latent_dim: int = LATENT_DIM):
        super().__init__()
        # Registered in the checkpoint's order: fc_mu, fc_logvar, encoder, decoder.
        self.fc_mu = nn.Linear(latent_dim, latent_dim)
        self.fc_logvar = nn.Linear(latent_dim, latent_dim)
        self.encoder = LocalEncoder(edges=skeleton_edges(parents))
        if self.encoder.out_channels != latent_dim:
            raise ValueError(f"latent_dim is {latent_dim} but the encoder gives "
                             f"{self.encoder.out_channels} channels")
        self.decoder = Decoder(latent_dim=latent_dim, out_dim=len(parents) * 6)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``map2latent`` of a non-variational model: the encoder output (not ``fc_mu``)."""
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``(B, T, 330)`` of ``x`` (T a multiple of 16)."""
        return self.decoder(self.encoder(x))


def build_emage_fgd_model() -> AESKConv:
    """A freshly initialised model with the layout of ``AESKConv_240_100.bin``."""
    return AESKConv()


def load_emage_fgd_model(path: str | Path) -> AESKConv:
    """``AESKConv_240_100.bin`` (``{"model_state": state_dict}``, keys prefixed ``module.``),
    loaded strictly on the CPU, in eval mode. Raises :class:`CheckpointError` (one line)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "does not exist" if not path.exists() else "is not a file")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds here (unpickling, zip, EOF)
        reason = " ".join(str(e).split())[:160]
        raise CheckpointError(path, f"not loadable by torch.load(weights_only=True) "
                                    f"({type(e).__name__}: {reason})") from None
    state = obj["model_state"] if isinstance(obj, dict) and "model_state" in obj else obj
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(path, f"holds a {type(state).__name__}, not a state dict of tensors; "
                                    "not an EMAGE AESKConv_240_100 checkpoint")
    state = {k.removeprefix(_PREFIX): v for k, v in state.items()}

    model = build_emage_fgd_model()
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        raise CheckpointError(path, f"not an EMAGE AESKConv_240_100 checkpoint: "
                                    f"{_few(missing, 'missing')}, {_few(unexpected, 'unexpected')}")
    wrong = [k for k in expected if state[k].shape != expected[k].shape]
    if wrong:
        k = wrong[0]
        raise CheckpointError(path, f"{k} has shape {tuple(state[k].shape)}, expected "
                                    f"{tuple(expected[k].shape)} ({len(wrong)} tensor(s) of "
                                    "the wrong shape); not an EMAGE AESKConv_240_100 checkpoint")
    model.load_state_dict(state, strict=True)
    return model.eval()


def _few(keys: list[str], what: str, n: int = 3) -> str:
    """``"2 missing keys (a, b)"``: a count and the first few names."""
    if not keys:
        return f"0 {what}"
    shown = ", ".join(keys[:n]) + (", …" if len(keys) > n else "")
    return f"{len(keys)} {what} key(s) ({shown})"


# --- features and distance ------------------------------------------------------------------

def emage_6d(axis_angle: np.ndarray) -> np.ndarray:
    """Axis-angle ``(T, 55, 3)`` → EMAGE's 6D ``(T, 330)`` float32: per joint the first two rows
    of its rotation matrix, ``[R00, R01, R02, R10, R11, R12]`` (pytorch3d's convention)."""
    aa = np.asarray(axis_angle, dtype=np.float64)
    if aa.ndim != 3 or aa.shape[1:] != (NUM_SMPLX_JOINTS, 3):
        raise ValueError(f"expected axis-angle poses (T, {NUM_SMPLX_JOINTS}, 3), got "
                         f"{aa.shape}")
    if not np.isfinite(aa).all():
        raise ValueError("axis-angle poses hold NaN or infinite values")
    rot = axis_angle_to_matrix(aa)  # (T, 55, 3, 3)
    return rearrange(rot[..., :2, :], "t j r c -> t (j r c)").astype(np.float32)


def emage_features(model: AESKConv, poses_list: Sequence[np.ndarray], fps: int = BEAT2_FPS
                   ) -> np.ndarray:
    """Latent rows of all sequences, pooled: ``(N, 240)`` float64, N = Σ ⌊T/32⌋·32 / 16.

    ``poses_list``: axis-angle sequences ``(T, 55, 3)`` at 30 fps, each cut to a multiple of 32
    frames (its tail dropped) and encoded alone, as ``mertic.py:323-334`` does.
    """
    if fps != BEAT2_FPS:
        raise ValueError(f"EMAGE's FGD is defined on {BEAT2_FPS} fps motion (its autoencoder was "
                         f"trained on BEAT2 at {BEAT2_FPS} fps); got fps={fps}, resample first")
    if len(poses_list) == 0:
        raise ValueError("no sequences to compute EMAGE features of")
    device = next(model.parameters()).device
    model.eval()
    rows = []
    with torch.no_grad():
        for i, poses in enumerate(poses_list):
            six = emage_6d(poses)  # (T, 330)
            n = len(six) - len(six) % TRIM_FRAMES
            if n == 0:
                raise ValueError(f"sequence {i} has {len(six)} frames; EMAGE's FGD needs at least "
                                 f"{TRIM_FRAMES} (it keeps a multiple of {TRIM_FRAMES})")
            x = torch.from_numpy(six[:n]).to(device)[None]  # (1, n, 330)
            rows.append(model.encode(x)[0].cpu().numpy().astype(np.float64))  # (n/16, 240)
    return np.concatenate(rows)


def frechet_distance_emage(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """``mertic.py:346-357``: ``|μ_a − μ_b|² + tr Σ_a + tr Σ_b − 2 tr √((Σ_a + εI)(Σ_b + εI))``
    of two sets of rows ``(N, D)``; Σ by ``np.cov`` (ddof 1), ε = 1e-6, the root by
    ``scipy.linalg.sqrtm`` and its real part kept. ``(x, x)`` gives ``−2εD``."""
    a, b = np.asarray(feats_a), np.asarray(feats_b)
    for name, f in (("feats_a", a), ("feats_b", b)):
        if f.ndim != 2 or len(f) < 2:
            raise ValueError(f"{name} must be rows (N ≥ 2, D), got shape {f.shape}")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sizes differ: {a.shape[1]} and {b.shape[1]}")
    diff = a.mean(axis=0) - b.mean(axis=0)  # (D,)
    # atleast_2d: np.cov squeezes a 1×1 covariance to a scalar (the reference then fails at D = 1)
    sigma_a = np.atleast_2d(np.cov(a, rowvar=False))  # (D, D)
    sigma_b = np.atleast_2d(np.cov(b, rowvar=False))
    offset = np.eye(len(sigma_a)) * EPS
    covmean = linalg.sqrtm((sigma_a + offset) @ (sigma_b + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    value = diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2 * np.trace(covmean)
    return float(value)


def emage_fgd(model: AESKConv, generated_list: Sequence[np.ndarray],
              reference_list: Sequence[np.ndarray], fps: int = BEAT2_FPS) -> float:
    """EMAGE's FGD of generated against reference motion, axis-angle ``(T, 55, 3)`` at 30 fps
    (``mertic.py:336-344``: generated first, as ``pred``)."""
    return frechet_distance_emage(emage_features(model, generated_list, fps),
                                  emage_features(model, reference_list, fps))

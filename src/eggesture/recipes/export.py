"""``eggesture export``: an SMPL-X motion ``.npz`` (BEAT2's layout, any frame rate) as binary
glTF and / or BVH for animators' tools, at its own frame rate or another."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from ..data.beat2 import read_smplx_npz
from ..data.motion import NUM_SMPLX_JOINTS, resample_linear, resample_rotations
from ..data.poses import n_frames_for
from ..data.smplx_model import load_smplx_model
from ..export.bvh import write_smplx_bvh
from ..export.gltf import smplx_body, write_smplx_glb
from ..io import atomic_path


@dataclass
class Exported:
    """What :func:`export_motion` wrote: frames, their rate, the motion's seconds, the files."""

    frames: int
    fps: float
    duration: float
    files: list[Path]


def export_motion(motion: str | Path, *, glb: Path | None = None, bvh: Path | None = None,
                  fps: float | None = None, smplx_model: str | Path | None = None) -> Exported:
    """Write ``motion`` as ``glb`` and / or ``bvh`` (all or none), resampled to ``fps`` when
    given; with ``smplx_model`` the GLB carries the SMPL-X mesh in the motion's body shape and
    the BVH its exact skeleton."""
    data = read_smplx_npz(motion, fps=None)
    poses, trans, src_fps = data["poses"], data["trans"], data["mocap_frame_rate"]
    fps = src_fps if fps is None else fps
    duration = len(poses) / src_fps
    if fps != src_fps:
        n = n_frames_for(duration, fps)
        poses = resample_rotations(poses.reshape(len(poses), NUM_SMPLX_JOINTS, 3), src_fps, fps,
                                   n_out=n).reshape(n, -1)
        trans = resample_linear(trans, src_fps, fps, n_out=n)
    model = body = None
    if smplx_model:
        model = load_smplx_model(smplx_model)
        body = smplx_body(model.path, data.get("betas"))
    with ExitStack() as stack:  # each temporary is renamed onto its target when the stack closes
        if glb is not None:
            tmp = stack.enter_context(atomic_path(glb))
            write_smplx_glb(tmp, poses, fps, trans, body=body, duration=duration)
        if bvh is not None:
            tmp = stack.enter_context(atomic_path(bvh))
            write_smplx_bvh(tmp, poses, fps, trans, model=model, betas=data.get("betas"))
    return Exported(len(poses), fps, duration, [p for p in (glb, bvh) if p is not None])

"""``eggesture export MOTION.npz --glb OUT.glb [--bvh OUT.bvh]``: a motion file for animators' tools.

MOTION is a ``.npz`` in BEAT2's layout (``eggesture generate``'s output, or BEAT2's own
``smplxflame_30`` files), at any frame rate. The GLB (glTF 2.0, :mod:`eggesture.export.gltf`)
is for Blender, Unity, Unreal and the web; the BVH (:mod:`eggesture.export.bvh`) for Blender and
mocap tools. Both files are written, or neither. Both stand the body on the floor y = 0 (its rest
pose's lowest point: the foot joints, or with ``--smplx-model`` the mesh's soles), the root
following the motion's ``trans`` from the first frame on
(:func:`eggesture.data.skeleton.standing_trans`); MOTION itself is not changed.
"""

from __future__ import annotations

import argparse

#: Highest output frame rate ``--fps`` accepts.
MAX_FPS = 240.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="motion .npz → glTF (.glb) and/or BVH for Blender, Unity, Unreal, the web",
        description="Write an SMPL-X motion (.npz in BEAT2's layout, any frame rate) as a binary "
                    "glTF 2.0 (.glb: the SMPL-X skeleton as a skin with the animation and a "
                    "simple body, or the SMPL-X mesh with --smplx-model) and/or a BVH (in "
                    "centimetres) on the approximate SMPL-X skeleton, or on the model's exact one "
                    "with --smplx-model. Both stand the body on the floor (y up, y = 0 under the "
                    "rest pose's feet) and move its root as the motion's trans does from the "
                    "first frame on. See docs/animators.md for each tool's import settings.",
    )
    p.add_argument("motion", metavar="MOTION", help="motion file (.npz, BEAT2 layout)")
    p.add_argument("--glb", metavar="OUT", help="write a binary glTF 2.0 file here (.glb)")
    p.add_argument("--bvh", metavar="OUT", help="write a BVH file here (.bvh, centimetres)")
    p.add_argument("--smplx-model", metavar="FILE",
                   help="an SMPL-X .npz model file (e.g. SMPLX_NEUTRAL_2020.npz): the GLB gets the "
                        "SMPL-X mesh, shaped by the motion's betas; both files get that model's "
                        "exact skeleton and its mean hand pose")
    p.add_argument("--fps", type=float, metavar="N",
                   help="output frame rate (default: the file's mocap_frame_rate); other rates "
                        "are resampled (slerp), keeping the duration")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import DataError
    from ..recipes.export import export_motion

    targets = {suffix: Path(value) for suffix, value in ((".glb", args.glb), (".bvh", args.bvh))
               if value is not None}
    if not targets:
        raise DataError(args.motion, "nothing to write: give --glb OUT.glb and/or --bvh OUT.bvh")
    for suffix, path in targets.items():
        if path.suffix.lower() != suffix:
            raise DataError(path, f"--{suffix[1:]} needs a file name ending in {suffix}")
        if path.is_dir():
            raise DataError(path, "is a folder, expected a file name")
    if len({p.resolve() for p in targets.values()}) < len(targets):
        raise DataError(args.glb, "--glb and --bvh must be different files")
    if args.fps is not None and not 0 < args.fps <= MAX_FPS:
        raise DataError(None, f"--fps must be in (0, {MAX_FPS:g}], got {args.fps:g}")
    done = export_motion(args.motion, glb=targets.get(".glb"), bvh=targets.get(".bvh"),
                         fps=args.fps, smplx_model=args.smplx_model)
    print(f"{args.motion}: {done.frames} frames at {done.fps:g} fps ({done.duration:.2f} s) → "
          + ", ".join(str(p) for p in done.files))
    return 0

"""Stick-figure previews: a 3D skeleton video with the speech muxed in, or a strip of stills.

Joint positions ``(T, J, 3)`` (y up, the body facing +z: SMPL-X's and BVH's convention) are drawn
as bones from each joint to its parent with matplotlib's Agg backend, seen by a fixed orthographic
camera in front of the body, swung 20° toward its left and looking 8° down so depth reads, with
fixed axis limits so nothing jumps (the root is held in place horizontally).
Several motions ("generated" / "reference") are drawn side by side on a shared scale. Frames are
piped to the ffmpeg binary that ``imageio-ffmpeg`` ships (no system ffmpeg), which also muxes the
audio (AAC); the strip (paper Fig. 5) is a PNG with one row per motion and one column per instant.

Speed: one figure is built once and only the line segments change per frame (the 3D view is
projected by hand onto 2D axes, far cheaper than mplot3d); a 20 s clip at 15 fps renders in about
4 s (one panel) or 7 s (two panels) on two CPU cores.
Every output is written to a temporary file and renamed, so a failure leaves no partial file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import soundfile as sf
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from ..data.motion import SMPLX_JOINT_NAMES, SMPLX_PARENTS, resample_linear, resample_rotations
from ..data.poses import n_frames_for
from ..data.smplx_model import positions as smplx_model_positions
from ..data.wav import audio_duration, load_audio
from ..errors import DataError
from ..io import atomic_path
from .npz import MotionFile

#: One motion to draw: joint positions ``(T, J, 3)``, parent index per joint (-1 = root), title.
Motion = tuple[np.ndarray, Sequence[int], str]

#: Default preview frame rate (the model's rate; half the work of 30 fps).
DEFAULT_FPS = 15
#: Pixel size of one panel (width, height); multiples of 16 so ffmpeg needs no rescale.
PANEL_PX = (512, 512)
#: Pixels at the top of each panel kept free for its title.
_TITLE_PX = 26
_DPI = 100
#: Camera: degrees swung around the vertical toward the body's left (0 = straight at its front),
#: so arms reaching forward read, and degrees looking down.
CAMERA_YAW, CAMERA_PITCH = 20.0, 8.0
_COLORS = {"left": "#1f77b4", "right": "#d62728", "centre": "#444444"}
#: SMPL-X joints below the pelvis, hidden in the upper-body view (legs).
_SMPLX_LEGS = frozenset(
    i for i, n in enumerate(SMPLX_JOINT_NAMES) if n.split("_")[-1] in {"knee", "ankle", "foot"}
)


# --- preparing positions ----------------------------------------------------------------------

def root_relative(positions: np.ndarray, root: int = 0) -> np.ndarray:
    """Positions ``(T, J, 3)`` with the root's horizontal (x, z) position subtracted per frame.

    The model generates no root translation (DESIGN §3), so previews keep the body in place;
    the height (y) is kept, so crouching and standing still read.
    """
    out = np.array(positions, dtype=np.float64, copy=True)
    out[..., [0, 2]] -= out[:, root : root + 1, [0, 2]]
    return out


def preview_positions(
    motion: MotionFile, fps: float, start: float = 0.0, duration: float | None = None,
    n_frames: int | None = None, model=None,
) -> np.ndarray:
    """Joint positions ``(T, J, 3)`` of a motion file at ``fps`` from ``start`` seconds on.

    SMPL-X poses are resampled by slerp before forward kinematics on the approximate skeleton
    (:func:`eggesture.data.skeleton.smplx_positions`); BVH positions linearly. ``T`` is
    ``n_frames`` when given, else ``round(duration × fps)`` with ``duration`` defaulting to the
    rest of the motion; frames past the motion's end hold its last frame. The root is kept in
    place horizontally (:func:`root_relative`). Raises :class:`DataError` when ``start`` is past
    the end of the motion. With the user's SMPL-X ``model``
    (:class:`eggesture.data.smplx_model.SmplxModel`) SMPL-X poses get its exact joints, for the
    file's ``betas``.
    """
    if start < 0:
        raise ValueError(f"start must be ≥ 0, got {start}")
    first = int(round(start * motion.fps))
    if first >= motion.n_frames:
        raise DataError(motion.path, f"the motion lasts {motion.duration:.2f} s; nothing to show "
                                     f"from {start:g} s on")
    if n_frames is None:
        rest = motion.duration - first / motion.fps
        n_frames = max(1, n_frames_for(rest if duration is None else min(duration, rest), fps))
    if motion.poses is not None:
        t = motion.poses.shape[0]
        rot = resample_rotations(motion.poses[first:].reshape(t - first, -1, 3), motion.fps, fps,
                                 n_out=n_frames)
        trans = resample_linear(motion.trans[first:], motion.fps, fps, n_out=n_frames)
        pos = smplx_model_positions(rot.reshape(n_frames, -1), trans, model=model,
                                    betas=motion.betas)  # approximate skeleton without model
    else:
        pos = resample_linear(motion.positions[first:], motion.fps, fps, n_out=n_frames)
    return root_relative(pos)


def camera_matrix(yaw_deg: float = CAMERA_YAW, pitch_deg: float = CAMERA_PITCH) -> np.ndarray:
    """Rotation ``(3, 3)`` from world (y up, body facing +z) to camera (x right, y up, z to viewer).

    The camera starts in front of the body looking at it (the body's left on the viewer's right),
    swings ``yaw_deg`` around the vertical toward the body's left, then looks down ``pitch_deg``.
    """
    yaw, pitch = np.radians(yaw_deg), np.radians(pitch_deg)
    ry = np.array([[np.cos(yaw), 0, -np.sin(yaw)], [0, 1, 0], [np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)],
                   [0, np.sin(pitch), np.cos(pitch)]])
    return rx @ ry


def project(positions: np.ndarray, camera: np.ndarray | None = None) -> np.ndarray:
    """Orthographic view ``(..., 3)`` → screen x, screen y, depth (nearer = larger) ``(..., 3)``."""
    cam = camera_matrix() if camera is None else camera
    return np.asarray(positions, dtype=np.float64) @ cam.T


def _side(name: str) -> str:
    return "left" if name.startswith("left") else "right" if name.startswith("right") else "centre"


def _bones(parents: Sequence[int], upper_only: bool) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Child and parent index pairs ``(B, 2)`` to draw, with a colour and a width per bone."""
    smplx = tuple(parents) == SMPLX_PARENTS
    pairs, colors, widths = [], [], []
    for j, p in enumerate(parents):
        if p < 0 or (upper_only and smplx and j in _SMPLX_LEGS):
            continue
        name = SMPLX_JOINT_NAMES[j] if smplx else ""
        if name == "jaw":
            continue  # a point inside the head; the eyes show where the face points
        pairs.append((j, p))
        colors.append(_COLORS[_side(name)] if name and "eye" not in name else _COLORS["centre"])
        widths.append(1.0 if smplx and (j >= 25 or "eye" in name) else 3.0)
    return np.array(pairs, dtype=np.int64).reshape(-1, 2), colors, np.array(widths)


def _bounds(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre ``(2,)`` and half-size ``(2,)`` of screen ``points (..., 2)``, ignoring outliers."""
    sel = points.reshape(-1, 2)
    lo, hi = np.percentile(sel, 0.2, axis=0), np.percentile(sel, 99.8, axis=0)
    return (lo + hi) / 2, np.maximum((hi - lo) / 2, 1e-6)


class _Scene:
    """One reusable figure: an axes per panel whose bone segments are updated per frame.

    Drawing the camera's projection on plain 2D axes (rather than mplot3d) keeps the framing
    exact and each frame cheap; bones are re-sorted far-to-near every frame so the nearer arm
    covers the farther one, as in 3D.
    """

    def __init__(self, motions: Sequence[Motion], *, upper_only: bool, panel_px=PANEL_PX,
                 rows: int = 1, cols: int | None = None):
        self.LineCollection = LineCollection
        cols = len(motions) if cols is None else cols
        w, h = panel_px
        self.rows, self.cols = rows, cols
        self.size = (w * cols, h * rows)
        self.fig = Figure(figsize=(w * cols / _DPI, h * rows / _DPI), dpi=_DPI)
        FigureCanvasAgg(self.fig)  # draw off-screen, whatever the user's backend
        self.screens, self.bones, self.heads, boxes = [], [], [], []
        for pos, parents, _ in motions:
            screen = project(pos)  # (T, J, 3)
            bones, colors, widths = _bones(parents, upper_only)
            if bones.size == 0:
                raise ValueError("a motion has no bones to draw (every joint is a root)")
            self.screens.append(screen)
            self.bones.append((bones, np.array(colors), widths))
            head = _head_joint(parents)
            self.heads.append(head)
            points = screen[:, np.unique(bones), :2]  # (T, J', 2)
            if head is not None:
                points = np.concatenate([points, _head_centre(screen, head)[:, None]
                                         + [[0, _HEAD_RADIUS]]], axis=1)
            boxes.append(_bounds(points))
        # One scale for all panels (the same metres per pixel) when the motions are in similar
        # units; a motion in other units (cm vs m) keeps its own.
        self.band = _TITLE_PX / h  # title band, as a fraction of the panel height
        aspect = (h - _TITLE_PX) / w
        halves = np.array([max(hf[1], hf[0] * aspect) * 1.1 for _, hf in boxes])
        self.limits = []
        for (centre, _), half in zip(boxes, halves, strict=True):
            peers = halves[(halves <= 3 * half) & (halves >= half / 3)]
            hy = peers.max()
            self.limits.append((centre, np.array([hy / aspect, hy])))
        self.panels: list[tuple[object, object, object, int]] = []

    def add_panel(self, index: int, motion_i: int, title: str | None):
        """An axes at grid cell ``index`` (0-based, row-major) showing motion ``motion_i``."""
        r, c = divmod(index, self.cols)
        ax = self.fig.add_axes((c / self.cols, 1 - (r + 1) / self.rows, 1 / self.cols,
                                (1 - self.band) / self.rows))
        ax.set_axis_off()
        centre, half = self.limits[motion_i]
        ax.set_xlim(centre[0] - half[0], centre[0] + half[0])
        ax.set_ylim(centre[1] - half[1], centre[1] + half[1])
        ax.set_aspect("equal", adjustable="box")
        bones, colors, widths = self.bones[motion_i]
        coll = self.LineCollection(np.zeros((len(bones), 2, 2)), colors=colors,
                                   linewidths=widths, capstyle="round", joinstyle="round")
        ax.add_collection(coll)
        head = None
        if self.heads[motion_i] is not None:
            head = Circle((0, 0), _HEAD_RADIUS, facecolor="white", edgecolor=_COLORS["centre"],
                          linewidth=2.0, zorder=1)
            ax.add_patch(head)
            coll.set_zorder(2)
        if title:
            self.fig.text((c + 0.5) / self.cols, 1 - r / self.rows - 0.3 * self.band / self.rows,
                          title, ha="center", va="top", fontsize=12)
        self.panels.append((ax, coll, head, motion_i))
        return ax

    def set_frame(self, panel: int, frame: int) -> None:
        _, coll, head, mi = self.panels[panel]
        screen = self.screens[mi]
        bones, colors, widths = self.bones[mi]
        f = min(frame, screen.shape[0] - 1)  # a shorter motion holds its last frame
        seg = screen[f][bones]  # (B, 2, 3)
        order = np.argsort(seg[:, :, 2].mean(axis=1), kind="stable")  # far → near
        coll.set_segments(seg[order, :, :2])
        coll.set_color(colors[order])
        coll.set_linewidth(widths[order])
        if head is not None:
            head.set_center(_head_centre(screen[f : f + 1], self.heads[mi])[0])

    def rgb(self) -> np.ndarray:
        """The figure as ``(H, W, 3)`` uint8."""
        self.fig.canvas.draw()
        return np.asarray(self.fig.canvas.buffer_rgba())[..., :3]


#: Radius of the head circle drawn around SMPL-X's head joint (metres).
_HEAD_RADIUS = 0.1


def _head_joint(parents: Sequence[int]) -> tuple[int, int] | None:
    """(head, neck) joint indices of an SMPL-X skeleton, else None (no head circle)."""
    if tuple(parents) != SMPLX_PARENTS:
        return None
    return SMPLX_JOINT_NAMES.index("head"), SMPLX_JOINT_NAMES.index("neck")


def _head_centre(screen: np.ndarray, head: tuple[int, int]) -> np.ndarray:
    """Screen centre ``(T, 2)`` of the head circle: above the head joint, along neck → head."""
    j_head, j_neck = head
    up = screen[:, j_head, :2] - screen[:, j_neck, :2]  # (T, 2)
    up /= np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-9)
    return screen[:, j_head, :2] + up * _HEAD_RADIUS * 0.8


def _check_motions(motions: Sequence[Motion]) -> None:
    if not motions:
        raise ValueError("nothing to render: no motions given")
    for pos, parents, title in motions:
        pos = np.asarray(pos)
        if pos.ndim != 3 or pos.shape[2] != 3 or pos.shape[0] == 0:
            raise ValueError(f"{title}: positions must be (T, J, 3) with T ≥ 1, got {pos.shape}")
        if len(parents) != pos.shape[1]:
            raise ValueError(f"{title}: {len(parents)} parents for {pos.shape[1]} joints")
        if not np.isfinite(pos).all():
            raise ValueError(f"{title}: positions hold NaN or infinite values")


# --- video ------------------------------------------------------------------------------------

def render_video(
    out: str | Path,
    motions: Sequence[Motion],
    fps: float = DEFAULT_FPS,
    audio_path: str | Path | None = None,
    *,
    audio_start: float = 0.0,
    upper_only: bool = True,
    progress=None,
) -> Path:
    """Render ``motions`` side by side into an ``.mp4`` at ``fps``, with ``audio_path`` muxed in.

    The video has as many frames as the first motion; a shorter motion holds its last frame.
    The audio (any format soundfile reads) is taken from ``audio_start`` seconds on, cut or
    padded with silence to the video's duration, and encoded as AAC. ``progress(done, total)``
    is called after each frame when given. Written atomically; returns ``Path(out)``.
    """
    _check_motions(motions)
    out = Path(out)
    n_frames = int(np.asarray(motions[0][0]).shape[0])
    with tempfile.TemporaryDirectory(prefix="eggesture-render-") as tmpdir:
        wav = None
        if audio_path is not None:
            wav = _audio_segment(audio_path, audio_start, n_frames / fps, Path(tmpdir) / "a.wav")
        scene = _Scene(motions, upper_only=upper_only)
        for i, (_, _, title) in enumerate(motions):
            scene.add_panel(i, i, title)
        time_text = scene.fig.text(0.01, 0.01, "", fontsize=9, color="#666666")
        with atomic_path(out) as tmp:
            writer = imageio_ffmpeg.write_frames(
                str(tmp), scene.size, fps=fps, quality=6, macro_block_size=16,
                ffmpeg_log_level="error", audio_path=None if wav is None else str(wav),
                audio_codec=None if wav is None else "aac",
                output_params=["-movflags", "+faststart"],
            )
            writer.send(None)  # start ffmpeg
            try:
                for f in range(n_frames):
                    for panel in range(len(motions)):
                        scene.set_frame(panel, f)
                    time_text.set_text(f"{audio_start + f / fps:6.2f} s")
                    writer.send(np.ascontiguousarray(scene.rgb()))
                    if progress is not None:
                        progress(f + 1, n_frames)
            finally:
                writer.close()
    return out


def _audio_segment(path: str | Path, start: float, duration: float, dst: Path) -> Path:
    """Write ``duration`` seconds of ``path`` from ``start`` on (silence-padded) as a wav."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "audio file not found")
    if path.stat().st_size == 0:
        raise DataError(path, "audio file is empty (0 bytes)")
    total = audio_duration(path)  # DataError for a file that is not audio
    sr = int(sf.info(str(path)).samplerate)
    if start >= total:
        raise DataError(path, f"audio lasts {total:.2f} s; nothing left after --start {start:g} s")
    wave = load_audio(path, sr)  # mono float32 at the file's own rate
    a = int(round(start * sr))
    n = int(round(duration * sr))
    seg = np.zeros(n, dtype=np.float32)
    piece = wave[a : a + n]
    seg[: piece.size] = piece
    sf.write(str(dst), seg, sr, subtype="PCM_16")
    return dst


# --- strip of stills --------------------------------------------------------------------------

def strip_frames(n_frames: int, count: int) -> np.ndarray:
    """``count`` frame indices spread evenly over ``n_frames`` (centres of equal segments)."""
    if count < 1:
        raise ValueError(f"need at least one still, got {count}")
    return np.minimum(((np.arange(count) + 0.5) * n_frames / count).astype(np.int64), n_frames - 1)


def render_strip(
    out: str | Path,
    motions: Sequence[Motion],
    fps: float,
    n_stills: int = 8,
    *,
    time_offset: float = 0.0,
    column_labels: Sequence[str] | None = None,
    upper_only: bool = True,
) -> Path:
    """A PNG strip of ``n_stills`` instants (paper Fig. 5): one row per motion, one column each.

    The instants are spread evenly over the first motion (:func:`strip_frames`); each column is
    titled with its time (``time_offset`` + frame / fps) unless ``column_labels`` are given.
    Written atomically; returns ``Path(out)``.
    """
    _check_motions(motions)
    out = Path(out)
    n_frames = int(np.asarray(motions[0][0]).shape[0])
    frames = strip_frames(n_frames, n_stills)
    if column_labels is not None and len(column_labels) != n_stills:
        raise ValueError(f"{len(column_labels)} column labels for {n_stills} stills")
    rows = len(motions)
    scene = _Scene(motions, upper_only=upper_only, panel_px=(256, 256), rows=rows, cols=n_stills)
    for r, (_, _, title) in enumerate(motions):
        for c, f in enumerate(frames):
            label = (column_labels[c] if column_labels is not None
                     else f"{time_offset + f / fps:.1f} s")
            ax = scene.add_panel(r * n_stills + c, r, label if r == 0 else None)
            scene.set_frame(len(scene.panels) - 1, int(f))
            if c == 0 and rows > 1:
                ax.text(0.02, 0.5, title, transform=ax.transAxes, rotation=90,
                          va="center", fontsize=10)
    with atomic_path(out) as tmp:
        scene.fig.savefig(tmp, format="png", dpi=_DPI)
    return out

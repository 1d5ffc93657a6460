"""BVH read/write and forward kinematics (data/bvh.py), with bvhio as the oracle.

``genea_skeleton`` / ``bvh_text`` write small GENEA-2020-like BVH files by hand (not through the
writer under test); test_trinity.py and test_export_bvh.py reuse them.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from eggesture.data.bvh import Bvh, BvhJoint, parse_bvh, preorder, read_bvh, write_bvh
from eggesture.errors import DataError

# bvhio (the oracle) imports PyGLM the old way.
pytestmark = pytest.mark.filterwarnings("ignore:Importing PyGLM:PendingDeprecationWarning")

ROOT_CHANNELS = "Xposition Yposition Zposition Zrotation Xrotation Yrotation"
ZXY = "Zrotation Xrotation Yrotation"


def genea_skeleton(rot_channels=lambda i: ZXY) -> list[tuple[str, int, tuple, str, tuple | None]]:
    """A 22-joint cut of the GENEA 2020 skeleton: ``(name, parent, offset cm, channels, end)``.

    ``rot_channels(i)`` gives the channels of non-root joint ``i`` (default ZXY everywhere).
    """
    spec: list = []

    def add(name, parent, off, end=None, chans=None):
        spec.append((name, parent, off, chans or rot_channels(len(spec)), end))
        return len(spec) - 1

    hips = add("Hips", -1, (0.0, 0.0, 0.0), chans=ROOT_CHANNELS)
    p = hips
    for name, off in (("Spine", (0, 9.5, -1)), ("Spine1", (0, 10, 0)), ("Spine2", (0, 10, 0)),
                      ("Spine3", (0, 10, 0.5))):
        p = add(name, p, off)
    spine3 = p
    neck = add("Neck", spine3, (0, 13, 1))
    neck1 = add("Neck1", neck, (0, 5, 0.5))
    add("Head", neck1, (0, 6, 1), end=(0, 16, 0))
    for side, sx in (("Right", -1), ("Left", 1)):
        s = add(f"{side}Shoulder", spine3, (sx * 3.5, 9, 0))
        a = add(f"{side}Arm", s, (sx * 14, 0, 0))
        f = add(f"{side}ForeArm", a, (sx * 28, 0, 0))
        h = add(f"{side}Hand", f, (sx * 25, 0, 0))
        add(f"{side}HandIndex1", h, (sx * 9, 0, 2), end=(sx * 4, 0, 0))
    for side, sx in (("Right", -1), ("Left", 1)):
        u = add(f"{side}UpLeg", hips, (sx * 9, -4, 0))
        add(f"{side}Leg", u, (0, -43, 0), end=(0, -42, 0))
    return spec


def n_channels(spec) -> int:
    return sum(len(c.split()) for _, _, _, c, _ in spec)


def smooth_motion(spec, n_frames: int, seed: int = 0, amplitude: float = 50.0) -> np.ndarray:
    """Smooth random channel values ``(T, C)``: sines in degrees, the root standing at ~95 cm."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames)[:, None] / 60.0
    c = n_channels(spec)
    freq, phase = rng.uniform(0.2, 1.5, c), rng.uniform(0, 6, c)
    m = amplitude * np.sin(2 * np.pi * freq * t + phase) * rng.uniform(0.3, 1.0, c)
    m[:, :3] = [5.0, 95.0, -3.0] + 4 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 6, 3))
    return m


def bvh_text(spec, motion: np.ndarray, frame_time: float = 1 / 60, frames: int | None = None,
             indent: str = "\t", newline: str = "\n") -> str:
    """BVH text for ``spec`` and ``motion``, written independently of eggesture's writer."""
    out = ["HIERARCHY"]

    def emit(i: int, depth: int) -> None:
        name, parent, off, chans, end = spec[i]
        ind = indent * depth
        out.append(f"{ind}{'ROOT' if parent < 0 else 'JOINT'} {name}")
        out.append(f"{ind}{{")
        out.append(f"{ind}{indent}OFFSET {off[0]:.6f} {off[1]:.6f} {off[2]:.6f}")
        out.append(f"{ind}{indent}CHANNELS {len(chans.split())} {chans}")
        for k, s in enumerate(spec):
            if s[1] == i:
                emit(k, depth + 1)
        if end is not None:
            out.append(f"{ind}{indent}End Site")
            out.append(f"{ind}{indent}{{")
            out.append(f"{ind}{indent}{indent}OFFSET {end[0]:.6f} {end[1]:.6f} {end[2]:.6f}")
            out.append(f"{ind}{indent}}}")
        out.append(f"{ind}}}")

    emit(0, 0)
    out += ["MOTION", f"Frames: {len(motion) if frames is None else frames}",
            f"Frame Time: {frame_time:.7f}"]
    out += [" ".join(f"{v:.6f}" for v in row) for row in motion]
    return newline.join(out) + newline


def write_genea_bvh(path: Path, n_frames: int = 120, seed: int = 0, spec=None) -> np.ndarray:
    """Write a GENEA-like BVH file; returns its motion ``(T, C)`` as written (6 decimals)."""
    spec = spec or genea_skeleton()
    motion = np.round(smooth_motion(spec, n_frames, seed), 6)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(bvh_text(spec, motion))
    return motion


def bvhio_positions(path: Path) -> tuple[list[str], np.ndarray]:
    """Joint names and world positions ``(T, J, 3)`` computed by bvhio (the oracle)."""
    import bvhio

    root = bvhio.readAsHierarchy(str(path))
    layout = root.layout()
    n = root.getKeyframeRange()[1] + 1
    pos = np.zeros((n, len(layout), 3))
    for f in range(n):
        root.loadPose(f)
        for joint, i, _ in layout:
            pos[f, i] = tuple(joint.PositionWorld)
    return [j.Name for j, _, _ in layout], pos


def _elementary(axis: str, deg: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(T, 3, 3)`` about one axis, written out (independent of roma)."""
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    o, z = np.ones_like(c), np.zeros_like(c)
    m = {"X": [[o, z, z], [z, c, -s], [z, s, c]],
         "Y": [[c, z, s], [z, o, z], [-s, z, c]],
         "Z": [[c, -s, z], [s, c, z], [z, z, o]]}[axis]
    return np.moveaxis(np.array(m), -1, 0)


# --- reading and the conventions --------------------------------------------------------------

def test_reads_hierarchy_offsets_channels_end_sites_and_frame_time(tmp_path):
    spec = genea_skeleton()
    motion = write_genea_bvh(tmp_path / "a.bvh", n_frames=30)
    b = read_bvh(tmp_path / "a.bvh")
    assert b.joint_names == [s[0] for s in spec]
    assert b.parents == tuple(s[1] for s in spec)
    for joint, (_, _, off, chans, end) in zip(b.joints, spec, strict=True):
        np.testing.assert_array_equal(joint.offset, off)
        assert joint.channels == tuple(chans.split())
        assert (joint.end_site is None) == (end is None)
        if end is not None:
            np.testing.assert_array_equal(joint.end_site, end)
    assert b.motion.shape == (30, n_channels(spec)) and b.n_channels == n_channels(spec)
    np.testing.assert_array_equal(b.motion, motion)
    assert b.frame_time == pytest.approx(1 / 60, abs=1e-7) and b.fps == 60.0
    assert b.joints[b.index("Head")].rotation_order == "ZXY"
    np.testing.assert_allclose(b.root_positions(), motion[:, :3])


def test_whitespace_variants_crlf_tabs_and_one_line_blocks():
    text = "\r\n".join([
        "HIERARCHY", "ROOT Hips", "{ OFFSET 1 2 3",
        "  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation",
        "  JOINT Spine { OFFSET 0 10 0 CHANNELS 3 xrotation YROTATION Zrotation",
        " End Site { OFFSET 0 5 0 } }", "}", "MOTION", "Frames:\t2", "Frame Time:\t0.0333333",
        "1 2 3 0 0 0 10 20 30", "", "4 5 6 0 0 0 0 0 90", "", ""])
    b = parse_bvh(text)
    assert b.joint_names == ["Hips", "Spine"] and b.joints[1].rotation_order == "XYZ"
    assert b.joints[1].channels == ("Xrotation", "Yrotation", "Zrotation")  # names normalised
    np.testing.assert_array_equal(b.joints[1].end_site, [0, 5, 0])
    assert b.motion.shape == (2, 9) and b.fps == 30.0


@pytest.mark.parametrize("order", ["".join(p) for p in itertools.permutations("XYZ")])
def test_euler_channels_are_intrinsic_in_listed_order(order):
    """``Zrotation Xrotation Yrotation`` means R = R_Z · R_X · R_Y (and so on for every order)."""
    rng = np.random.default_rng(1)
    angles = rng.uniform(-170, 170, (5, 3))
    chans = " ".join(f"{a}rotation" for a in order)
    spec = [("Hips", -1, (0, 0, 0), chans, None), ("Spine", 0, (0, 10, 0), chans, (0, 5, 0))]
    b = parse_bvh(bvh_text(spec, np.concatenate([angles, np.zeros((5, 3))], axis=1)))
    expected = (_elementary(order[0], angles[:, 0]) @ _elementary(order[1], angles[:, 1])
                @ _elementary(order[2], angles[:, 2]))
    np.testing.assert_allclose(b.local_rotations()[:, 0], expected, atol=1e-6)
    np.testing.assert_allclose(b.local_rotations()[:, 1], np.broadcast_to(np.eye(3), (5, 3, 3)))


def test_forward_kinematics_known_values():
    """Root at (1, 2, 3) turned 90° about Z: the child offset (0, 10, 0) points along −x."""
    spec = [("Hips", -1, (7, 7, 7), ROOT_CHANNELS, None),
            ("Spine", 0, (0, 10, 0), ZXY, None), ("Head", 1, (0, 5, 0), ZXY, (0, 1, 0))]
    motion = np.array([[1, 2, 3, 90, 0, 0, 0, 0, 0, 0, 0, 0],
                       [0, 0, 0, 0, 0, 0, 0, 90, 0, 0, 0, 0]], dtype=float)
    pos = parse_bvh(bvh_text(spec, motion)).forward_kinematics()
    # Position channels replace the root's OFFSET.
    np.testing.assert_allclose(pos[0], [[1, 2, 3], [-9, 2, 3], [-14, 2, 3]], atol=1e-9)
    # Spine turned 90° about X carries Head's (0, 5, 0) to (0, 0, 5).
    np.testing.assert_allclose(pos[1], [[0, 0, 0], [0, 10, 0], [0, 10, 5]], atol=1e-9)


@pytest.mark.parametrize("variant", ["zxy", "mixed_orders", "partial_and_position_channels"])
def test_forward_kinematics_matches_bvhio(tmp_path, variant):
    orders = ["".join(p) for p in itertools.permutations("XYZ")]
    if variant == "zxy":
        spec = genea_skeleton()
    elif variant == "mixed_orders":
        spec = genea_skeleton(lambda i: " ".join(f"{a}rotation" for a in orders[i % 6]))
    else:  # two-axis joints and a non-root joint with position channels
        spec = genea_skeleton(lambda i: {3: "Xrotation Zrotation", 7: "Yrotation",
                                         5: "Xposition Yposition Zposition " + ZXY}.get(i, ZXY))
    motion = np.round(smooth_motion(spec, 40, seed=2, amplitude=120), 6)
    path = tmp_path / "m.bvh"
    path.write_text(bvh_text(spec, motion))
    ours = read_bvh(path).forward_kinematics()
    names, oracle = bvhio_positions(path)
    assert names == [s[0] for s in spec]
    assert np.abs(ours).max() > 50  # a real pose, not a collapsed one
    np.testing.assert_allclose(ours, oracle, atol=2e-3)  # bvhio computes in float32


def test_local_rotations_subset_and_order(tmp_path):
    write_genea_bvh(tmp_path / "a.bvh", n_frames=10)
    b = read_bvh(tmp_path / "a.bvh")
    full = b.local_rotations()
    pick = [b.index("LeftHand"), b.index("Spine")]
    np.testing.assert_array_equal(b.local_rotations(pick), full[:, pick])
    assert full.shape == (10, len(b.joints), 3, 3)


def test_header_only_reads_the_skeleton_without_frames(tmp_path):
    write_genea_bvh(tmp_path / "a.bvh", n_frames=50)
    head = read_bvh(tmp_path / "a.bvh", header_only=True)
    full = read_bvh(tmp_path / "a.bvh")
    assert head.motion.shape == (0, full.n_channels) and head.joint_names == full.joint_names
    assert head.frame_time == full.frame_time
    np.testing.assert_array_equal(head.rest_frame()[:3], full.joints[0].offset)


# --- writing ----------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["zxy", "mixed_orders"])
def test_round_trip_keeps_hierarchy_and_angles(tmp_path, variant):
    orders = ["".join(p) for p in itertools.permutations("XYZ")]
    spec = genea_skeleton() if variant == "zxy" else genea_skeleton(
        lambda i: " ".join(f"{a}rotation" for a in orders[i % 6]))
    motion = smooth_motion(spec, 50, seed=3, amplitude=179)  # full precision, large angles
    first = parse_bvh(bvh_text(spec, np.round(motion, 6)))
    write_bvh(tmp_path / "out.bvh", first)
    again = read_bvh(tmp_path / "out.bvh")
    assert again.joint_names == first.joint_names and again.parents == first.parents
    for a, b in zip(again.joints, first.joints, strict=True):
        assert a.channels == b.channels
        np.testing.assert_allclose(a.offset, b.offset, atol=1e-6)
        assert (a.end_site is None) == (b.end_site is None)
    assert np.abs(again.motion - first.motion).max() < 1e-4  # degrees (and cm)
    assert again.frame_time == pytest.approx(first.frame_time, rel=1e-9)
    # bvhio reads what we wrote.
    names, pos = bvhio_positions(tmp_path / "out.bvh")
    np.testing.assert_allclose(pos, first.forward_kinematics(), atol=2e-3)


def test_write_is_atomic_and_rejects_non_finite(tmp_path):
    spec = genea_skeleton()
    b = parse_bvh(bvh_text(spec, smooth_motion(spec, 5)))
    b.motion[2, 7] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        write_bvh(tmp_path / "x.bvh", b)
    assert list(tmp_path.iterdir()) == []


def test_joints_must_be_in_file_order():
    assert preorder([-1, 0, 0, 1, 2]) == [0, 1, 3, 2, 4]
    j = [BvhJoint("a", -1, np.zeros(3), ZXY.split()), BvhJoint("b", 0, np.zeros(3), ()),
         BvhJoint("c", 0, np.zeros(3), ()), BvhJoint("d", 1, np.zeros(3), ())]
    with pytest.raises(ValueError, match="depth-first"):
        Bvh(j, 1 / 60, np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"\(T, 3\)"):
        Bvh(j[:2], 1 / 60, np.zeros((1, 4)))


# --- bad files: one clear error naming the line -----------------------------------------------

GOOD = bvh_text([("Hips", -1, (0, 0, 0), ROOT_CHANNELS, None),
                 ("Spine", 0, (0, 10, 0), ZXY, (0, 5, 0))],
                np.arange(27, dtype=float).reshape(3, 9))
GOOD_LINES = GOOD.splitlines()
FRAMES_LINE = GOOD_LINES.index("Frames: 3") + 1  # 1-based
FIRST_DATA = FRAMES_LINE + 2


def _line(fragment: str) -> int:
    """1-based number of the first line of GOOD holding ``fragment``."""
    return next(n for n, line in enumerate(GOOD_LINES, start=1) if fragment in line)


def _replace(line_no: int, new: str) -> str:
    lines = list(GOOD_LINES)
    lines[line_no - 1] = new
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, message", [
    (GOOD[: GOOD.rindex(" 2")], rf"line {FIRST_DATA + 2}: frame 3 holds 8 values, expected 9 .*"
                                r"truncated"),
    ("\n".join(GOOD_LINES[:-1]) + "\n", rf"line {FRAMES_LINE}: 'Frames: 3' but the motion block "
                                        r"holds 2 frames"),
    (GOOD + GOOD_LINES[-1] + "\n", rf"line {FIRST_DATA + 3}: frame 4 is past the 3 frames "
                                   rf"announced on line {FRAMES_LINE}"),
    (GOOD.replace("Xrotation Yrotation\n\tJOINT", "Xrotation Wrotation\n\tJOINT"),
     rf"line {_line('CHANNELS 6')}: unknown channel 'Wrotation'"),
    (_replace(FIRST_DATA + 1, "9 10 11 12 abc 14 15 16 17"), rf"line {FIRST_DATA + 1}: value "
                                                             r"'abc' is not a number"),
    (_replace(FIRST_DATA, "0 1 2 3 nan 5 6 7 8"), rf"line {FIRST_DATA}: value 'nan' is not finite"),
    (GOOD.replace("OFFSET 0.000000 10.000000", "OFFSET 0.000000 ten"),
     rf"line {_line('OFFSET 0.000000 10')}: OFFSET value 'ten' is not a number"),
    (GOOD.replace("CHANNELS 3 Z", "CHANNELS 4 Z"),
     rf"line {_line('CHANNELS 3')}: CHANNELS says 4 but lists 3"),
    (GOOD.replace("\tEnd Site", "\tEnd Sight"),
     rf"line {_line('End Site')}: expected 'End Site', found 'End Sight'"),
    (GOOD.replace("\t\t}\n\t}\n}\n", "\t\t}\n}\n"), r"line \d+: file ends where the end of joint "
                                                     r"'Hips' was expected"),
    (GOOD.replace("Frames: 3", "Frames: three"), rf"line {FRAMES_LINE}: frame count 'three' is "
                                                  r"not an integer"),
    (GOOD.replace("Frame Time: 0.0166667", "Frame Time: 0"), r"frame time must be positive"),
    (GOOD.replace("MOTION", "MOTON"), r"no MOTION section"),
    (GOOD.replace("JOINT Spine", "JOINT Hips"), r"joint name 'Hips' occurs twice"),
    ("ROOT Hips\n{\n}\nMOTION\n", r"line 1: a BVH file starts with HIERARCHY"),
])
def test_bad_bvh_gives_a_clear_error_naming_the_line(tmp_path, text, message):
    path = tmp_path / "bad.bvh"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as err:
        read_bvh(path)
    assert err.value.file == str(path) and "\n" not in str(err.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(DataError, match="BVH file not found"):
        read_bvh(tmp_path / "nope.bvh")
    (tmp_path / "bin.bvh").write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(DataError, match="not a BVH text file"):
        read_bvh(tmp_path / "bin.bvh")

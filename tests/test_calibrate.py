"""``eggesture calibrate``: variance compensation fitted on held-out data (eggesture.recipes.calibrate)."""

import json

import numpy as np
import pytest

from eggesture.bundle import load_bundle
from eggesture.cli import main
from eggesture.errors import CheckpointError
from eggesture.recipes.calibrate import fit_gain
from eggesture.recipes.generate import generate_motion
from eggesture.recipes.stream import stream_wave


def test_the_gain_gives_back_the_spread_the_generated_motion_lost():
    rng = np.random.default_rng(0)
    truth = [rng.standard_normal((200, 5)) + 3.0 for _ in range(3)]
    truth[0][:, 4] = truth[1][:, 4] = truth[2][:, 4] = 1.0  # a channel that never moves
    gen = [np.column_stack([t[:, 0] * 0.5,                       # half the spread: ×2
                            t[:, 1] * 2.0,                       # more spread: kept (1)
                            t[:, 2] * 0.1,                       # a tenth: clamped at 3
                            t[:, 3] * 0.8 + 7.0,                 # another posture: ×1.25
                            t[:, 4] + rng.standard_normal(200) * 0.01]) for t in truth]
    centre, scale = fit_gain(gen, truth)
    np.testing.assert_allclose(scale, [2.0, 1.0, 3.0, 1.25, 1.0], rtol=1e-6)
    np.testing.assert_allclose(centre, np.concatenate(gen).mean(0))


@pytest.fixture(scope="module")
def calibrated(tiny_bundle_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "bundle"
    root = tiny_bundle_dir.parent.parent / "beat2"
    assert main(["calibrate", str(tiny_bundle_dir), "--data", str(root), "--out", str(out)]) == 0
    return out


def test_the_calibrated_bundle_applies_its_gain_offline_and_live(tiny_bundle_dir, calibrated):
    from speech import say

    raw, cal = load_bundle(tiny_bundle_dir), load_bundle(calibrated)
    gain = json.loads((calibrated / "config.json").read_text())["output_gain"]
    assert gain["fitted_on"]["split"] == ["val"] and gain["fitted_on"]["sequences"] == 1
    centre, scale = cal.output_gain
    assert centre.shape == scale.shape == (raw.norm.mean.shape[0],) and (scale >= 1).all()
    assert raw.output_gain is None and scale.max() > 1  # the tiny model loses spread
    x = np.random.default_rng(1).standard_normal((10, centre.size)).astype(np.float32)
    np.testing.assert_allclose(cal.compensate(x) - centre, scale * (x - centre), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(raw.compensate(x), x)
    wave = say("the first thing i like to do on weekends is relaxing")[0]
    a, b = generate_motion(raw, wave).rotvec, generate_motion(cal, wave).rotvec
    assert a.shape == b.shape and not np.allclose(a, b, atol=1e-3)
    assert b.std(0).mean() > a.std(0).mean()  # more spread
    live = stream_wave(cal, wave, chunk=0.5, lookahead=wave.size / 16000 + 1).generated.rotvec
    np.testing.assert_allclose(live[:-4], b[:-4], atol=1e-4)  # live is offline, gain and all


def test_calibrate_never_writes_over_a_folder_and_a_bad_gain_is_refused(tiny_bundle_dir, calibrated,
                                                                        tmp_path, capsys):
    root = tiny_bundle_dir.parent.parent / "beat2"
    before = sorted(p.name for p in calibrated.iterdir())
    assert main(["calibrate", str(tiny_bundle_dir), "--data", str(root), "--out",
                 str(calibrated)]) == 2
    assert "exists" in capsys.readouterr().err
    assert sorted(p.name for p in calibrated.iterdir()) == before
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in calibrated.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    meta = json.loads((bad / "config.json").read_text())
    meta["output_gain"]["scale"][0] = 0.5
    (bad / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"scales must be finite, in \[1, 3\]"):
        load_bundle(bad)

"""The packaged model: present, small, labelled, and used when no --checkpoint is given."""

from __future__ import annotations

import soundfile as sf

from eggesture.bundle import load_bundle
from eggesture.cli import main
from eggesture.data.beat2 import read_motion
from eggesture.pretrained import DEFAULT
from speech import SR, say


def test_the_packaged_model_is_small_and_says_what_it_is():
    size = sum(p.stat().st_size for p in DEFAULT.iterdir())
    assert size <= 10 * 2**20
    prov = load_bundle(DEFAULT).meta["provenance"]
    assert "synthetic speakers" in prov["trained_on"] and "not a person" in prov["trained_on"]
    assert prov["reproduce"].startswith("eggesture demo --seed 0")
    assert set(prov["real_speech_beat2_sample"]) >= {"arm_speed_x_real", "arm_amplitude_x_real"}


def test_generate_without_a_checkpoint_uses_it(tmp_path, capsys):
    sentence = "the first thing i like to do on weekends is relaxing"
    wave = say(sentence)[0]
    sf.write(tmp_path / "a.wav", wave, SR, subtype="PCM_16")
    rc = main(["generate", "--audio", str(tmp_path / "a.wav"), "--text", sentence,
               "--out", str(tmp_path / "a.npz"), "--glb"])
    cap = capsys.readouterr()
    assert rc == 0 and "using the packaged model" in cap.err and "(aligned" in cap.out
    assert read_motion(tmp_path / "a.npz")["poses"].shape == (round(wave.size / SR * 30), 165)
    assert (tmp_path / "a.glb").stat().st_size > 0
    long_text = "x" * 300  # not a file name (too long for one): the words, which do not match
    rc = main(["generate", "--audio", str(tmp_path / "a.wav"), "--text", long_text,
               "--out", str(tmp_path / "b.npz")])
    err = capsys.readouterr().err
    assert rc == 2 and err.strip().splitlines()[-1].startswith("error: ")
    assert not (tmp_path / "b.npz").exists()

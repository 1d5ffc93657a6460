"""Write the packaged model (:data:`eggesture.pretrained.DEFAULT`) from an ``eggesture demo``
folder: its EGGesture bundle, unchanged weights, with ``provenance`` added to ``config.json``.

Run: ``eggesture demo --seed 0 --out D`` then ``python -m eggesture.pretrained.build --demo-dir D
[--calibrate] [--real-speech REAL.json]`` (``--calibrate``: the variance compensation of
``eggesture calibrate``, fitted on the demo corpus's validation split; ``REAL.json`` from
``python -m benchmarks.real_speech --demo-dir D --out REAL.json`` or ``--bundle B --out
REAL.json``). The demo's weights are identical from run to run on one machine
(docs/decisions.md, "The demo's numbers and the machine"); another CPU may differ in the last
bits.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import DEFAULT


def provenance(demo: Path, real_speech: Path | None, calibrated: bool = False) -> dict:
    results = json.loads((demo / "results.json").read_text())
    ours = results["methods"]["eggesture"]
    out = {
        "trained_on": "four synthetic speakers (espeak-ng voices; the synthetic speaker's gestures "
                      "and vocabulary), not a person: `eggesture corpus synth` via `eggesture demo`",
        "reproduce": f"eggesture demo --seed {results['settings']['seed']} --out D; "
                     "python -m eggesture.pretrained.build --demo-dir D"
                     + (" --calibrate" if calibrated else ""),
        "corpus": results["corpus"],
        "held_out_synthetic": {k: ours[k] for k in ("fgd", "beat_alignment", "l1_diversity",
                                                    "classifier_token_accuracy")},
        "machine": results.get("machine"),
    }
    try:
        out["commit"] = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True,
                                       text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    if calibrated:
        out["calibrated"] = ("variance compensation fitted on the demo corpus's validation split "
                             "(eggesture calibrate; output_gain in this file); held_out_synthetic "
                             "is the demo's evaluation of the model as trained, before it")
    if real_speech is not None:
        r = json.loads(real_speech.read_text())
        # `benchmarks.real_speech --demo-dir` (its EGGesture) or `--bundle` (the first bundle)
        r = (r["bundles"][0] if "bundles" in r else r["methods"]["eggesture"])["with transcript"]
        out["real_speech_beat2_sample"] = {
            "arm_speed_x_real": round(r["speed_ratio"], 3),
            "arm_amplitude_x_real": round(r["amplitude_ratio"], 3),
            **({"left_arm_amplitude_x_real": round(r["amplitude_left_ratio"], 3),
                "right_arm_amplitude_x_real": round(r["amplitude_right_ratio"], 3)}
               if "amplitude_left_ratio" in r else {}),
            "measured_by": "python -m benchmarks.real_speech"}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--demo-dir", type=Path, required=True)
    ap.add_argument("--real-speech", type=Path, default=None)
    ap.add_argument("--calibrate", action="store_true",
                    help="fit the variance compensation on the demo corpus's validation split "
                         "(eggesture calibrate) and package that")
    args = ap.parse_args(argv)
    bundle = args.demo_dir / "runs" / "eggesture" / "bundle"
    with tempfile.TemporaryDirectory() as tmp:
        if args.calibrate:  # the command, not the recipe: a component imports no recipe
            subprocess.run([sys.executable, "-m", "eggesture.cli", "calibrate", str(bundle),
                            "--data", str(args.demo_dir / "corpus"), "--out",
                            str(Path(tmp) / "bundle")], check=True)
            bundle = Path(tmp) / "bundle"
        config = json.loads((bundle / "config.json").read_text())
        config["data_root"] = "(the demo's corpus: provenance)"
        if args.calibrate:
            config["output_gain"]["fitted_on"]["data"] = "(the demo's corpus: provenance)"
        config["provenance"] = provenance(args.demo_dir, args.real_speech, args.calibrate)
        DEFAULT.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundle / "model.safetensors", DEFAULT / "model.safetensors")
        (DEFAULT / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(f"{DEFAULT}: written from {args.demo_dir} ({'calibrated' if args.calibrate else 'as trained'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

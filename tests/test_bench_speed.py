"""Smoke tests of the speed benchmarks (tiny sizes): they run and report what they measured."""

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import bench_adjust, bench_label_shift, bench_stream  # noqa: E402


def test_bench_adjust_reports_every_path_with_ratio_and_peak_memory():
    rows = bench_adjust.run(n_samples=300, n_classes=20, rounds=1)
    names = [r["operation"] for r in rows]
    assert names[0] == "np.log (floor)"
    for path in ("logits -> log_proba", "logits -> proba",
                 "proba, temperature + strength -> proba"):
        assert path in names
    for r in rows[1:]:
        assert r["ratio_to_log"] > 0 and r["peak_over_output"] > 0
        assert (r["meets_target"] is None) == r["operation"].startswith("naive")
    assert "missed" in bench_adjust.format_table(
        [dict(rows[1], cpu_ratio_to_log=9.0, meets_target=False)])


def test_bench_label_shift_matches_the_plain_loops():
    rows = bench_label_shift.run(n_samples=400, n_classes=4, rounds=1)
    em = rows[0]
    assert em["operation"] == "em_prior" and em["n_iter"] == em["baseline_n_iter"]
    assert em["max_abs_diff"] < 1e-10
    assert all(r["max_abs_diff"] < 1e-6 for r in rows if r["target"] is not None)
    assert "em_prior" in bench_label_shift.format_table(rows)


def test_bench_stream_reports_throughput_and_peak_memory():
    rows = bench_stream.run(n_rows=20_000, n_classes=5, block_rows=5_000, workers=1,
                            isolate=False)
    assert [r["pipeline"] for r in rows] == ["generate + mean (floor)",
                                             "generate + adjust_logits + mean"]
    assert all(r["finite"] and r["rows_per_second"] > 0 and r["peak_mib"] > 0 for r in rows)
    assert np.isfinite(rows[1]["adjust_share"])


def test_gpu_check_without_cuda_says_so_and_measures_nothing(capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: run benchmarks/gpu_check.py itself")
    from benchmarks import gpu_check

    assert gpu_check.main([]) == 0
    out = capsys.readouterr().out
    assert "no CUDA device" in out and "nothing was measured" in out
    assert gpu_check.main(["--require-gpu"]) == 1

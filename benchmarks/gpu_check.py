"""Check sklt.nn on a GPU: the sklt.nn tests with ``device="cuda"`` and epoch times against the CPU.

Two parts, each reported:

1. **Tests.** Runs ``pytest tests/test_nn_*.py`` with ``LongTailClassifier``'s
   default ``device`` switched to ``"cuda"`` (a pytest plugin patches the
   default; tests that pass ``device=`` themselves keep theirs), so that the
   losses' class-prior buffers, the augmentations and the predictions run on
   the GPU.
2. **Training.** Trains ``LongTailClassifier`` (``sklt.nn.CNN1d``) with
   ``criterion="lade"`` and ``"logit_adjusted"`` on long-tailed MNIST-1D (as
   ``benchmarks/bench_losses.py``) on the CPU and on the GPU, same seed, and
   reports the median epoch time of each, their ratio, and the balanced
   accuracy of both (they differ only by floating-point non-determinism).

Without a CUDA device it says so and exits 0 having measured nothing (exit 1
with ``--require-gpu``); ``--device cpu`` runs both parts on the CPU, to check
the script itself. Run ``python benchmarks/gpu_check.py`` (``--epochs``,
``--skip-tests``, ``--json PATH``).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

_PLUGIN = '''
import sklt.nn.classifier as _c
_c.LongTailClassifier.__init__.__kwdefaults__["device"] = {device!r}
'''


def run_tests(device, extra_args=()):
    """Run the sklt.nn tests with LongTailClassifier's default device set to ``device``."""
    plugin_dir = ROOT / ".gpu_check_plugin"
    plugin_dir.mkdir(exist_ok=True)
    (plugin_dir / "sklt_device_plugin.py").write_text(_PLUGIN.format(device=device))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(plugin_dir), os.environ.get("PYTHONPATH", "")]))
    tests = sorted(str(p) for p in (ROOT / "tests").glob("test_nn_*.py"))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "sklt_device_plugin", "-p",
           "no:cacheprovider", *extra_args, *tests]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    summary = [line for line in proc.stdout.splitlines() if " passed" in line or " failed" in line
               or " error" in line]
    return {"device": device, "returncode": proc.returncode,
            "summary": summary[-1] if summary else proc.stdout[-500:],
            "seconds": time.perf_counter() - start,
            "failures": [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]}


def time_training(device, criterion, epochs, seed=0):
    """Median epoch time and balanced accuracy of a CNN1d on long-tailed MNIST-1D."""
    import torch
    from sklearn.metrics import balanced_accuracy_score

    from benchmarks.bench_losses import long_tailed_mnist1d
    from sklt.nn import CNN1d, LongTailClassifier

    X, y, X_test, y_test = long_tailed_mnist1d(seed, 6000)
    params = {"criterion__alpha": 0.1, "criterion__lam": 0.01} if criterion == "lade" else {}
    net = LongTailClassifier(module=CNN1d, module__channels=(32, 32, 32), criterion=criterion,
                             max_epochs=1, lr=3e-3, batch_size=64, random_state=seed,
                             device=device, **params)
    net.partial_fit(X, y)  # initialise, warm up (CUDA context, kernels)
    seconds = []
    for _ in range(epochs - 1):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        net.partial_fit(X, y)
        if device == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
    acc = balanced_accuracy_score(y_test, net.predict(X_test))
    return {"device": device, "criterion": criterion, "epoch_seconds": float(np.median(seconds)),
            "balanced_accuracy": float(acc), "epochs": epochs, "n_train": len(y)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                        help="cpu: run everything on the CPU (checks the script)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--skip-tests", action="store_true")
    parser.add_argument("--require-gpu", action="store_true")
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA device is available (torch.cuda.is_available() is False): "
              "nothing was measured. Run it on a machine with a GPU, or with --device cpu to "
              "check the script.")
        return 1 if args.require_gpu else 0
    torch.set_num_threads(max(1, torch.get_num_threads()))
    report = {"torch": torch.__version__, "device": args.device}
    if args.device == "cuda":
        report["gpu"] = torch.cuda.get_device_name(0)
    if not args.skip_tests:
        report["tests"] = run_tests(args.device)
        print(f"sklt.nn tests on {args.device}: {report['tests']['summary']} "
              f"({report['tests']['seconds']:.0f} s)")
        for line in report["tests"]["failures"]:
            print("  ", line)
    report["training"] = []
    print(f"\n| criterion | CPU epoch (s) | {args.device} epoch (s) | speed-up | "
          f"balanced acc. CPU | balanced acc. {args.device} |")
    print("|---|---:|---:|---:|---:|---:|")
    for criterion in ("lade", "logit_adjusted"):
        cpu = time_training("cpu", criterion, args.epochs)
        dev = time_training(args.device, criterion, args.epochs)
        report["training"] += [cpu, dev]
        print(f"| {criterion} | {cpu['epoch_seconds']:.3f} | {dev['epoch_seconds']:.3f} | "
              f"{cpu['epoch_seconds'] / dev['epoch_seconds']:.2f}x | "
              f"{cpu['balanced_accuracy']:.3f} | {dev['balanced_accuracy']:.3f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    failed = not args.skip_tests and report["tests"]["returncode"] != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

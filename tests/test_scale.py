"""Scale-out that runs: joblib's Dask and Ray backends, Dask arrays, Accelerate (DDP on 2 CPUs).

These are the snippets of the "Scaling out" page (docs/scaling.rst), run small.
Nothing here is skipped on a fresh ``make test``: ``dask[distributed]``, ``ray``
and ``accelerate`` come with the ``test`` and ``scale`` extras.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklt import (
    LogitAdjusterCV,
    NoisyOrFusionClassifier,
    PriorShiftClassifier,
    PriorShiftClassifierCV,
)
from sklt.adjust import adjust_logits, softmax

GRID = np.linspace(0, 2, 5)


def _data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
    X = np.hstack([y[:, None] + rng.normal(size=(n, 2)), y[:, None] + rng.normal(size=(n, 2))])
    return X, y


def _modality(cols):
    return make_pipeline(ColumnTransformer([("select", "passthrough", cols)]),
                         LogisticRegression())


def _fusion(**params):
    return NoisyOrFusionClassifier([("a", _modality([0, 1])), ("b", _modality([2, 3]))],
                                   uno_cv=3, **params)


def _fits(backend_context):
    """Fit the tuners and the fusion classifier sequentially and under a backend."""
    X, y = _data()
    estimators = {
        "PriorShiftClassifierCV": PriorShiftClassifierCV(lams=GRID, cv=3, store_cv_results=True),
        "LogitAdjusterCV": LogitAdjusterCV(taus=GRID, cv=3, store_cv_results=True),
        "NoisyOrFusionClassifier": _fusion(),
    }
    results = {}
    for name, est in estimators.items():
        sequential = est.fit(X, y).predict_proba(X)
        with backend_context():
            parallel_est = est.set_params(n_jobs=-1).fit(X, y)
        results[name] = (sequential, parallel_est.predict_proba(X), parallel_est)
    return results


def _assert_same(results):
    for name, (sequential, parallel, _) in results.items():
        np.testing.assert_allclose(parallel, sequential, rtol=1e-10, err_msg=name)


# --------------------------------------------------------------------------- joblib backends
def test_tuners_and_fusion_under_the_dask_joblib_backend():
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None):
        _assert_same(_fits(lambda: joblib.parallel_config(backend="dask")))


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=80 * 2**20, configure_logging=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    register_ray()
    yield ray
    ray.shutdown()


def test_tuners_and_fusion_under_the_ray_joblib_backend(ray_session):
    results = _fits(lambda: joblib.parallel_config(backend="ray"))
    _assert_same(results)
    # the work ran on Ray: the cluster saw tasks
    assert ray_session.is_initialized()


# --------------------------------------------------------------------------- Dask arrays
def test_adjust_logits_on_a_dask_array_streams_block_by_block():
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3, size=(1000, 7)).astype(np.float32)
    lazy = da.from_array(logits, chunks=(128, 3))  # classes split across blocks: rechunked
    prior = [0.4, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05]
    out = adjust_logits(lazy, prior, temperature=1.5, output="proba")
    assert isinstance(out, da.Array) and out.dtype == np.float32
    assert out.chunks[1] == (7,)
    np.testing.assert_allclose(out.compute(),
                               adjust_logits(logits, prior, temperature=1.5, output="proba"),
                               rtol=1e-6)
    # the mean posterior (an EM M-step) over a lazy array never materialises it
    np.testing.assert_allclose(softmax(lazy).mean(axis=0).compute(),
                               softmax(logits).mean(axis=0), rtol=1e-5)


def test_dask_parameters_are_validated_before_compute():
    da = pytest.importorskip("dask.array")
    lazy = da.zeros((10, 3), chunks=5)
    with pytest.raises(ValueError, match="source_prior has shape"):
        adjust_logits(lazy, [0.5, 0.5])
    with pytest.raises(ValueError, match="axis=2"):
        adjust_logits(lazy, axis=2)
    bad = da.from_array(np.array([[0.0, np.nan, 1.0]]), chunks=1)
    with pytest.raises(ValueError, match="NaN"):
        adjust_logits(bad).compute()


def test_corrector_predict_proba_over_a_dask_array():
    da = pytest.importorskip("dask.array")
    X, y = _data()
    clf = PriorShiftClassifier(LogisticRegression(), lam=1.0).fit(X, y)
    X_big = da.from_array(np.tile(X, (5, 1)), chunks=(200, -1))
    proba = X_big.map_blocks(clf.predict_proba, dtype=np.float64,
                             chunks=(X_big.chunks[0], (len(clf.classes_),)))
    np.testing.assert_allclose(proba.compute(), clf.predict_proba(np.tile(X, (5, 1))))


# --------------------------------------------------------------------------- Accelerate
WORKER = Path(__file__).with_name("_accelerate_worker.py")


def _launch_two_processes(out_dir, criteria):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", str(WORKER), str(out_dir), ",".join(criteria)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.slow
def test_long_tail_classifier_data_parallel_on_two_cpu_processes(tmp_path):
    pytest.importorskip("accelerate")
    torch = pytest.importorskip("torch")
    sys.path.insert(0, str(WORKER.parent))
    try:
        from _accelerate_worker import NET_PARAMS, data
    finally:
        sys.path.pop(0)
    from sklt.nn import LongTailClassifier

    criteria = ["logit_adjusted", "lade", "class_balanced", "logit_adjusted+mixup"]
    _launch_two_processes(tmp_path, criteria)
    X, y = data()
    counts = np.bincount(y).astype(float)
    for criterion in criteria:
        ranks = [json.loads((tmp_path / f"{criterion}-rank{r}.json").read_text())
                 for r in (0, 1)]
        for rec in ranks:
            assert rec["world_size"] == 2 and rec["distributed_type"] == "DistributedType.MULTI_CPU"
            # class counts and the loss's buffers come from all of y, not a shard
            np.testing.assert_array_equal(rec["class_counts_"], counts)
            np.testing.assert_array_equal(rec["criterion_class_counts"], counts)
            proba = np.array(rec["proba"])  # gathered from both processes: every row
            assert proba.shape == (96, 3)
            np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
        # gradients are all-reduced: both processes hold the same weights and predictions
        for key in ranks[0]["params"]:
            np.testing.assert_array_equal(ranks[0]["params"][key], ranks[1]["params"][key])
        np.testing.assert_array_equal(ranks[0]["proba"], ranks[1]["proba"])
        np.testing.assert_allclose(ranks[0]["source_prior_"], [0.2, 0.3, 0.5])

    # the augmentation is applied under Accelerate (it used to be dropped silently)
    plain, mixed = (json.loads((tmp_path / f"{c}-rank0.json").read_text())
                    for c in ("logit_adjusted", "logit_adjusted+mixup"))
    assert any(not np.allclose(plain["params"][k], mixed["params"][k]) for k in plain["params"])

    # logit adjustment is a mean of per-sample terms: 2 processes x 16 rows per step
    # equal one process with batches of 32 (same rows, same order), and
    # target_prior is injected at predict time the same way
    torch.manual_seed(0)
    single = LongTailClassifier(criterion="logit_adjusted", batch_size=32, **NET_PARAMS).fit(X, y)
    ranked = json.loads((tmp_path / "logit_adjusted-rank0.json").read_text())
    for key, value in single.module_.state_dict().items():
        np.testing.assert_allclose(ranked["params"][key], value.numpy().ravel(), rtol=1e-5,
                                   atol=1e-6)
    np.testing.assert_allclose(ranked["proba"], single.predict_proba(X), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- the page
def test_scaling_page_doctests_pass():
    """The "Scaling out" page's examples (Dask, Ray, Dask arrays) run (the scale extra)."""
    import doctest

    for module in ("dask.array", "distributed"):
        pytest.importorskip(module)
    ray = pytest.importorskip("ray")
    if ray.is_initialized():  # the Ray test's session, in the same worker: the page starts its own
        ray.shutdown()

    page = Path(__file__).resolve().parent.parent / "docs" / "scaling.rst"
    result = doctest.testfile(str(page), module_relative=False, verbose=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 20, result
    assert result.failed == 0, f"{result.failed} example(s) of scaling.rst failed"


# ------------------------------------------------- Accelerate in one process (no launcher)
def _one_process_data():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [40, 16, 8])
    return (rng.normal(size=(64, 4)) + y[:, None]).astype(np.float32), y


@pytest.mark.parametrize("augmentation", [None, "mixup", "unimix"])
def test_accelerated_classifier_equals_the_plain_one_in_one_process(augmentation):
    """One CPU process: the accelerated net trains exactly as LongTailClassifier, augmentation
    included (skorch's AccelerateMixin alone replaces the step that mixes the batch)."""
    pytest.importorskip("accelerate")
    torch = pytest.importorskip("torch")
    from accelerate import Accelerator

    from sklt.nn import AcceleratedLongTailClassifier, LongTailClassifier, Mixup, UniMix

    aug = {None: None, "mixup": Mixup(alpha=1.0), "unimix": UniMix()}[augmentation]
    X, y = _one_process_data()
    params = dict(criterion="logit_adjusted", augmentation=aug, max_epochs=3, batch_size=16,
                  iterator_train__shuffle=False, module__hidden_units=(8,),
                  optimizer=torch.optim.SGD, lr=0.1, random_state=0)
    plain = LongTailClassifier(**params).fit(X, y)
    accel = AcceleratedLongTailClassifier(accelerator=Accelerator(cpu=True), **params).fit(X, y)
    for key, value in plain.module_.state_dict().items():
        np.testing.assert_allclose(accel.module_.state_dict()[key].cpu().numpy(),
                                   value.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(accel.predict_proba(X), plain.predict_proba(X), atol=1e-6)
    if aug is not None:
        unmixed = LongTailClassifier(**{**params, "augmentation": None}).fit(X, y)
        assert not np.allclose(unmixed.predict_proba(X), plain.predict_proba(X), atol=1e-4)


def test_a_training_step_that_skips_the_augmentation_is_an_error():
    """A user's own AccelerateMixin subclass would drop augmentation= silently: it is named."""
    pytest.importorskip("accelerate")
    from accelerate import Accelerator
    from skorch.hf import AccelerateMixin

    from sklt.nn import LongTailClassifier, Mixup

    class Mine(AccelerateMixin, LongTailClassifier):
        pass

    X, y = _one_process_data()
    net = Mine(accelerator=Accelerator(cpu=True), augmentation=Mixup(), max_epochs=1)
    with pytest.raises(RuntimeError, match="AcceleratedLongTailClassifier"):
        net.fit(X, y)
    # without an augmentation the mixin works as before
    Mine(accelerator=Accelerator(cpu=True), max_epochs=1).fit(X, y)

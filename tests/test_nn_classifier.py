"""Tests of sklt.nn.LongTailClassifier, its modules, the augmentation hook and DRW."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from sklearn.base import BaseEstimator, clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from skorch import callbacks as skorch_callbacks  # noqa: E402
from skorch.dataset import ValidSplit  # noqa: E402

from sklt.adjust import adjust_logits  # noqa: E402
from sklt.nn import (  # noqa: E402
    CNN1d,
    CrossEntropy,
    DeferredReweighting,
    LADELoss,
    LongTailClassifier,
)
from sklt.nn.classifier import CRITERIA  # noqa: E402
from sklt.nn.losses import class_balanced_weights  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    torch.set_num_threads(1)


def _data(n=120, n_features=4, seed=0, labels=("a", "b", "c")):
    """Separable long-tailed toy data: class sizes ~ 70%, 20%, 10%."""
    rng = np.random.default_rng(seed)
    sizes = np.round(np.array([0.7, 0.2, 0.1])[: len(labels)] * n).astype(int)
    y = np.repeat(np.asarray(labels), sizes)
    centres = rng.normal(scale=3.0, size=(len(labels), n_features))
    codes = np.repeat(np.arange(len(labels)), sizes)
    X = centres[codes] + rng.normal(size=(len(y), n_features))
    return X, y


def _logits(net, X):
    return net.forward(np.asarray(X, dtype=np.float32)).numpy()


def _net(**params):
    params.setdefault("max_epochs", 3)
    params.setdefault("random_state", 0)
    return LongTailClassifier(**params)


# ----------------------------------------------------------------- packaging
def test_import_sklt_does_not_import_torch():
    code = "import sys, sklt; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sklt_nn_without_torch_says_how_to_install():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('No module named torch')\n"
        "sys.meta_path.insert(0, Block())\n"
        "try:\n"
        "    import sklt.nn\n"
        "except ImportError as exc:\n"
        "    assert 'pip install \"sklt[nn]\"' in str(exc), str(exc)\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------- basics
def test_default_classifier_fits_a_float64_matrix_with_string_labels():
    X, y = _data()
    net = LongTailClassifier(max_epochs=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(net.classes_, ["a", "b", "c"])
    np.testing.assert_array_equal(net.class_counts_, [84, 24, 12])
    assert net.module_.layers[1].in_features == 4
    assert net.module_.layers[-1].out_features == 3
    assert next(net.module_.parameters()).dtype == torch.float32
    pred = net.predict(X)
    assert pred.dtype == y.dtype and set(pred) <= {"a", "b", "c"}
    assert np.mean(pred == y) > 0.9
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(net.classes_[proba.argmax(1)], pred)
    np.testing.assert_allclose(np.exp(net.predict_log_proba(X)), proba, rtol=1e-5, atol=1e-7)


def test_module_hyperparameters_are_tunable():
    X, y = _data()
    net = _net(module__hidden_units=(7, 5), module__dropout=0.2).fit(X, y)
    linears = [m for m in net.module_.layers if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [7, 5, 3]
    assert any(isinstance(m, torch.nn.Dropout) for m in net.module_.layers)


@pytest.mark.parametrize("shape", [(40,), (2, 40)])
def test_cnn1d_module_infers_channels(shape):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], [30, 10])
    X = rng.normal(size=(40, *shape)).astype(np.float32)
    net = _net(module=CNN1d, module__channels=(4,)).fit(X, y)
    assert net.module_.layers[0].in_channels == (shape[0] if len(shape) == 2 else 1)
    assert net.predict_proba(X).shape == (40, 2)
    with pytest.raises(ValueError, match="features|shape"):
        net.predict(X[:, :20] if len(shape) == 1 else X[:, :, :20])


@pytest.mark.parametrize("name", sorted(CRITERIA))
def test_every_criterion_name_trains(name):
    from sklt.nn.offset import EstimatedOffsetHead

    X, y = _data(n=60)
    module = {"module": EstimatedOffsetHead} if name == "estimated_offset" else {}
    net = _net(criterion=name, max_epochs=2, **module).fit(X, y)
    assert isinstance(net.criterion_, CRITERIA[name])
    np.testing.assert_array_equal(net.criterion_.class_counts.numpy(), net.class_counts_)
    assert np.all(np.isfinite(net.history[:, "train_loss"]))
    assert net.predict(X).shape == y.shape


def test_criterion_class_and_hyperparameters_are_passed():
    X, y = _data(n=60)
    net = _net(criterion=LADELoss, criterion__alpha=0.3, criterion__lam=0.2).fit(X, y)
    assert (net.criterion_.alpha, net.criterion_.lam) == (0.3, 0.2)
    net = _net(criterion="class_balanced", criterion__base="focal", criterion__gamma=1.5,
               criterion__beta=0.9).fit(X, y)
    assert net.criterion_.base_.gamma == 1.5
    expected = class_balanced_weights(net.class_counts_, 0.9)
    torch.testing.assert_close(net.criterion_.class_weight, expected)


def test_hyperparameters_of_other_losses_are_ignored_but_typos_raise():
    X, y = _data(n=60)
    _net(criterion="lade", criterion__tau=2.0, max_epochs=1).fit(X, y)
    with pytest.raises(TypeError, match="tua"):
        _net(criterion="logit_adjusted", criterion__tua=2.0, max_epochs=1).fit(X, y)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "params, match",
    [
        ({"criterion": "nope"}, r"Unknown criterion 'nope'; valid names are \['balanced_softmax'"),
        ({"criterion": "logit_adjusted", "criterion__tau": -1.0}, "tau must be .* >= 0"),
        ({"criterion": "focal", "criterion__gamma": -0.5}, "gamma must be a finite number >= 0"),
        ({"criterion": "class_balanced", "criterion__beta": 1.0}, r"beta must be .* in \[0"),
        ({"criterion": "class_balanced", "criterion__beta": -0.1}, r"beta must be .* in \[0"),
        ({"target_prior": {"a": 1, "zzz": 1, "b": 1, "c": 1}}, "zzz"),
        ({"target_prior": [1, 2]}, "target_prior has 2 entries"),
    ],
)
def test_bad_parameters_raise_clear_errors_at_fit(params, match):
    X, y = _data(n=60)
    with pytest.raises(ValueError, match=match):
        _net(**params).fit(X, y)


def test_nan_in_X_raises():
    X, y = _data(n=60)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _net().fit(X, y)
    net = _net(max_epochs=1).fit(np.nan_to_num(X), y)
    with pytest.raises(ValueError, match="NaN"):
        net.predict(X)


def test_target_prior_with_unknown_class_raises_at_predict():
    X, y = _data(n=60)
    net = _net(max_epochs=1).fit(X, y)
    net.set_params(target_prior={"a": 1, "b": 1, "d": 1})
    with pytest.raises(ValueError, match="does not know"):
        net.predict_proba(X)


def test_single_class_and_unfitted():
    X, y = _data(n=60)
    with pytest.raises(ValueError, match="at least 2 classes"):
        _net().fit(X, np.zeros(len(X)))
    with pytest.raises(NotFittedError):
        _net().predict(X)


# ------------------------------------------------------ target prior injection
def test_target_prior_uniform_equals_prior_shift_classifier_on_frozen_net():
    posthoc = pytest.importorskip("sklt.posthoc")
    X, y = _data()
    net = _net(max_epochs=4).fit(X, y)
    injected = clone(net).set_params(target_prior="uniform").fit(X, y)
    # Same seed, same data: the two nets have the same weights.
    np.testing.assert_array_equal(_logits(net, X), _logits(injected, X))
    corrector = posthoc.PriorShiftClassifier(FrozenEstimator(net), lam=1.0).fit(X, y)
    np.testing.assert_allclose(corrector.source_prior_, net.class_counts_ / len(y))
    np.testing.assert_array_equal(injected.predict(X), corrector.predict(X))
    np.testing.assert_allclose(injected.predict_proba(X), corrector.predict_proba(X),
                               rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "criterion, params, entangled",
    [
        ("cross_entropy", {}, lambda p: np.log(p)),
        ("logit_adjusted", {"criterion__tau": 0.4}, lambda p: 0.6 * np.log(p)),
        ("balanced_softmax", {}, lambda p: np.zeros_like(p)),
        ("lade", {}, lambda p: np.zeros_like(p)),
        ("bayias", {"criterion__target_prior": [0.2, 0.3, 0.5]},
         lambda p: np.log([0.2, 0.3, 0.5])),
    ],
)
def test_target_prior_adds_log_target_minus_entangled_prior(criterion, params, entangled):
    X, y = _data(n=60)
    net = _net(criterion=criterion, max_epochs=2, **params).fit(X, y)
    logits = _logits(net, X)
    p_s = net.class_counts_ / net.class_counts_.sum()
    p_t = np.array([0.5, 0.25, 0.25])
    net.set_params(target_prior={"a": 0.5, "b": 0.25, "c": 0.25})
    expected = adjust_logits(logits.astype(np.float64) + np.log(p_t) - entangled(p_s),
                             output="proba")
    np.testing.assert_allclose(net.predict_proba(X), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(net.source_prior_, p_t)
    net.set_params(target_prior=None)
    np.testing.assert_allclose(net.predict_proba(X), adjust_logits(logits, output="proba"),
                               rtol=1e-5, atol=1e-7)
    ent = np.exp(entangled(p_s))
    np.testing.assert_allclose(net.source_prior_, ent / ent.sum(), rtol=1e-5)


def test_balanced_softmax_target_uniform_changes_nothing():
    X, y = _data(n=60)
    net = _net(criterion="balanced_softmax").fit(X, y)
    proba = net.predict_proba(X)
    np.testing.assert_allclose(net.set_params(target_prior="uniform").predict_proba(X), proba,
                               rtol=1e-5, atol=1e-7)


def test_ldam_probabilities_use_its_logit_scale():
    X, y = _data(n=60)
    net = _net(criterion="ldam", criterion__scale=4.0, max_epochs=2).fit(X, y)
    logits = _logits(net, X)
    np.testing.assert_allclose(net.predict_proba(X), adjust_logits(4.0 * logits, output="proba"),
                               rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------ module output
class _TupleModule(torch.nn.Module):
    def __init__(self, input_dim=None, n_classes=None):
        super().__init__()
        self.body = torch.nn.Linear(input_dim, 8)
        self.head = torch.nn.Linear(8, n_classes)

    def forward(self, X):
        features = torch.relu(self.body(X))
        return self.head(features), features


class _FeatureLoss(CrossEntropy):
    requires_module_output = True
    seen = []

    def forward(self, output, target):
        logits, features = output
        _FeatureLoss.seen.append(features.shape)
        return super().forward(logits, target) + 0.0 * features.square().mean()


def test_tuple_module_output_logits_first_and_requires_module_output():
    X, y = _data(n=60)
    net = _net(module=_TupleModule, max_epochs=1).fit(X, y)
    logits = net.forward(X.astype(np.float32))[0].numpy()
    np.testing.assert_allclose(net.predict_proba(X), adjust_logits(logits, output="proba"),
                               rtol=1e-5, atol=1e-7)
    _FeatureLoss.seen.clear()
    _net(module=_TupleModule, criterion=_FeatureLoss, max_epochs=1).fit(X, y)
    assert _FeatureLoss.seen and _FeatureLoss.seen[0][1] == 8


# -------------------------------------------------------------- augmentation
class _FlipMix(BaseEstimator):
    """Mixes each sample with the batch reversed; stops after ``stop_epoch``."""

    def __init__(self, lam=0.7, stop_epoch=1):
        self.lam = lam
        self.stop_epoch = stop_epoch

    def mix(self, X, y, *, class_counts, epoch):
        self.calls_ = getattr(self, "calls_", []) + [(epoch, X.shape[0], class_counts.tolist())]
        if epoch >= self.stop_epoch:
            return None
        onehot = torch.nn.functional.one_hot(y, len(class_counts)).to(X.dtype)
        X_mixed = self.lam * X + (1 - self.lam) * X.flip(0)
        return X_mixed, self.lam * onehot + (1 - self.lam) * onehot.flip(0)


class _RecordingCE(CrossEntropy):
    targets = []

    def forward(self, logits, target):
        _RecordingCE.targets.append((self.training, target.ndim))
        return super().forward(logits, target)


def test_augmentation_hook_mixes_training_batches_only():
    X, y = _data(n=60)
    _RecordingCE.targets.clear()
    aug = _FlipMix(lam=0.6, stop_epoch=2)
    net = _net(criterion=_RecordingCE, augmentation=aug, max_epochs=3, batch_size=32,
               train_split=ValidSplit(3, stratified=True)).fit(X, y)
    assert not hasattr(aug, "calls_")  # the user's object is not modified
    calls = net.augmentation_.calls_
    assert [c[0] for c in calls] == [0, 0, 1, 1, 2, 2]  # 40 training samples, batches of 32
    assert calls[0][2] == net.class_counts_.tolist()
    train_ndims = [nd for training, nd in _RecordingCE.targets if training]
    valid_ndims = [nd for training, nd in _RecordingCE.targets if not training]
    assert train_ndims == [2, 2, 2, 2, 1, 1]  # soft targets while mixing, labels after
    assert valid_ndims and set(valid_ndims) == {1}
    assert "valid_acc" in net.history[-1]


def test_augmentation_params_are_reachable_by_set_params_grid_search_and_clone():
    X, y = _data(n=60)
    net = _net(augmentation=_FlipMix(), max_epochs=1)
    params = net.get_params()
    assert params["augmentation__lam"] == 0.7
    net.set_params(augmentation__lam=0.3)
    assert net.get_params()["augmentation__lam"] == 0.3
    net.fit(X, y)
    assert net.augmentation_.lam == 0.3
    net.set_params(augmentation__lam=0.9)  # on a fitted net: re-initialises the augmentation
    assert net.augmentation_.lam == 0.9
    cloned = clone(net)
    assert cloned.get_params()["augmentation__lam"] == 0.9
    gs = GridSearchCV(_net(augmentation=_FlipMix(), max_epochs=1),
                      {"augmentation__lam": [0.5, 0.8]}, cv=2, error_score="raise").fit(X, y)
    assert gs.best_estimator_.augmentation_.lam in (0.5, 0.8)


def test_augmentation_class_and_bad_augmentation():
    X, y = _data(n=60)
    net = _net(augmentation=_FlipMix, augmentation__lam=0.2, max_epochs=1).fit(X, y)
    assert isinstance(net.augmentation_, _FlipMix) and net.augmentation_.lam == 0.2
    with pytest.raises(TypeError, match="mix"):
        _net(augmentation=object(), max_epochs=1).fit(X, y)


# ----------------------------------------------------------------------- DRW
def test_deferred_reweighting_switches_weights_on_at_start_epoch():
    X, y = _data(n=60)
    seen = []

    class Spy(DeferredReweighting):
        def on_epoch_begin(self, net, **kwargs):
            super().on_epoch_begin(net, **kwargs)
            seen.append(net.criterion_.class_weight.clone())

    net = _net(criterion="ldam", criterion__scale=1.0, max_epochs=4,
               callbacks=[("drw", Spy(start_epoch=2, beta=0.99))]).fit(X, y)
    expected = class_balanced_weights(net.class_counts_, 0.99)
    assert torch.equal(seen[0], torch.ones(3)) and torch.equal(seen[1], torch.ones(3))
    torch.testing.assert_close(seen[2], expected)
    torch.testing.assert_close(seen[3], expected)
    # The weights change the entangled prior, so target_prior injection follows them.
    log_ps = np.log(net.class_counts_ / net.class_counts_.sum())
    np.testing.assert_allclose(net.criterion_.entangled_log_prior().numpy(),
                               log_ps + np.log(expected.numpy()), rtol=1e-5)
    net.set_params(callbacks__drw__beta=1.5)
    with pytest.raises(ValueError, match="beta"):
        net.fit(X, y)


# ------------------------------------------------------- sklearn / skorch API
def test_grid_search_over_criterion_names_and_hyperparameters():
    X, y = _data(n=90)
    grid = {
        "criterion": ["cross_entropy", "logit_adjusted", "lade"],
        "criterion__tau": [1.0, 1.5],
    }
    gs = GridSearchCV(_net(max_epochs=2), grid, cv=2, scoring="balanced_accuracy",
                      error_score="raise").fit(X, y)
    assert len(gs.cv_results_["params"]) == 6
    best = gs.best_estimator_
    assert best.criterion == gs.best_params_["criterion"]
    if best.criterion == "logit_adjusted":
        assert best.criterion_.tau == gs.best_params_["criterion__tau"]


def test_clone_and_pickle_round_trip():
    X, y = _data(n=60)
    net = _net(criterion="focal", criterion__gamma=1.0, target_prior="uniform").fit(X, y)
    cloned = clone(net)
    assert cloned.get_params()["criterion__gamma"] == 1.0
    assert not cloned.initialized_
    np.testing.assert_array_equal(cloned.fit(X, y).predict_proba(X), net.predict_proba(X))
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.predict_proba(X), net.predict_proba(X))
    np.testing.assert_array_equal(restored.source_prior_, net.source_prior_)


def test_save_params_load_params_round_trip(tmp_path):
    X, y = _data(n=60)
    net = _net(criterion="logit_adjusted", criterion__tau=0.5, target_prior="uniform").fit(X, y)
    files = {k: str(tmp_path / k) for k in ("f_params", "f_criterion", "f_history")}
    net.save_params(**files)
    new = LongTailClassifier(criterion="logit_adjusted", criterion__tau=0.5,
                             target_prior="uniform", classes=["a", "b", "c"],
                             module__input_dim=X.shape[1]).initialize()
    new.load_params(**files)
    np.testing.assert_array_equal(new.class_counts_, net.class_counts_)
    np.testing.assert_array_equal(new.predict(X), net.predict(X))
    np.testing.assert_allclose(new.predict_proba(X), net.predict_proba(X), rtol=1e-6)


def test_random_state_makes_fits_reproducible_and_restores_the_global_rng():
    X, y = _data(n=60)
    before = torch.random.get_rng_state()
    net = _net(random_state=3).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), before)
    p1 = net.predict_proba(X)
    p2 = _net(random_state=3).fit(X, y).predict_proba(X)
    p3 = _net(random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, p3)


def test_partial_fit_continues_training_and_counts_epochs():
    X, y = _data(n=60)
    net = _net(max_epochs=2)
    net.partial_fit(X, y)
    net.partial_fit(X, y)
    assert len(net.history) == 4
    np.testing.assert_array_equal(net.class_counts_, [42, 12, 6])
    with pytest.raises(ValueError, match="not in the classes"):
        net.partial_fit(X, np.where(y == "a", "zzz", y))


def test_classes_absent_from_y_get_zero_counts():
    X, y = _data(n=60)
    net = _net(criterion="lade", max_epochs=2)
    net.partial_fit(X, y, classes=["a", "b", "c", "d"])
    np.testing.assert_array_equal(net.class_counts_, [42, 12, 6, 0])
    assert np.all(np.isfinite(net.history[:, "train_loss"]))
    proba = net.set_params(target_prior="uniform").predict_proba(X)
    assert proba.shape == (60, 4)  # LADE is entangled with the uniform prior: fine
    ce = _net(classes=["a", "b", "c", "d"], max_epochs=1).fit(X, y)
    assert ce.source_prior_[3] == 0
    with pytest.raises(ValueError, match=r"classes \['d'\] are entangled with a zero prior"):
        ce.set_params(target_prior="uniform").predict_proba(X)


@pytest.mark.parametrize(
    "device",
    ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
        not torch.cuda.is_available(), reason="no CUDA device"))],
)
def test_device(device):
    X, y = _data(n=60)
    net = _net(device=device, criterion="lade", target_prior="uniform").fit(X, y)
    assert net.criterion_.class_counts.device.type == device
    assert next(net.module_.parameters()).device.type == device
    assert net.predict_proba(X).shape == (60, 3)


# -------------------------------------------------------------- sklearn checks
EXPECTED_FAILED_CHECKS = {
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet sets history_, initialized_ and virtual_params_ in __init__, and "
        "iterator_train__shuffle=True is a default passed through **kwargs."
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "float32 training: with integer weights, fitting equals fitting on the repeated samples "
        "only up to float32 rounding (about 2e-7 relative after 15 epochs of Adam, above the "
        "check's rtol=1e-7; test_integer_sample_weights_equal_repeated_samples pins it at "
        "1e-4), and with several mini-batches the batches themselves differ (as for "
        "scikit-learn's SGD estimators)."
    ),
}


@parametrize_with_checks(
    [LongTailClassifier(max_epochs=15, random_state=0, module__hidden_units=(16,))],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ---------------------------------------------------- sample_weight (#13, skorch #203/#630)
def test_unit_sample_weights_change_nothing():
    X, y = _data(n=60)
    plain = _net().fit(X, y)
    weighted = _net().fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(weighted.class_counts_, plain.class_counts_)
    np.testing.assert_array_equal(weighted.predict_proba(X), plain.predict_proba(X))
    # the loss normalises the weights: scaling them only scales the class counts
    scaled = _net().fit(X, y, sample_weight=np.full(len(y), 7.0))
    np.testing.assert_array_equal(scaled.class_counts_, 7 * plain.class_counts_)
    np.testing.assert_allclose(scaled.predict_proba(X), plain.predict_proba(X), rtol=1e-5)
    # weights whose class sums leave float32 count the heaviest sample as one: the same
    # ratios, which is all the losses use (the class-balanced weights use the counts
    # themselves, and refuse them)
    for w in (1e-300, 1e300, 5e-324):
        extreme = _net().fit(X, y, sample_weight=np.full(len(y), w))
        np.testing.assert_array_equal(extreme.class_counts_, plain.class_counts_)
        np.testing.assert_array_equal(extreme.predict_proba(X), plain.predict_proba(X))
    with pytest.raises(ValueError, match="Rescale sample_weight"):
        _net(criterion="class_balanced").fit(X, y, sample_weight=np.full(len(y), 1e-300))
    with pytest.raises(ValueError, match="Rescale sample_weight"):
        _net(callbacks=[DeferredReweighting(start_epoch=1)]).fit(
            X, y, sample_weight=np.full(len(y), 1e300))


@pytest.mark.parametrize("criterion", sorted(CRITERIA))
def test_integer_sample_weights_equal_repeated_samples(criterion):
    # One batch (batch_size=-1): fitting with integer weights is fitting on the data with
    # each sample repeated that many times, up to float32 rounding, for every sklt loss.
    from sklt.nn.offset import EstimatedOffsetHead

    X, y = _data(n=30)
    counts = np.random.default_rng(1).integers(0, 4, size=len(y))
    counts[[0, 25, 29]] = 1  # every class keeps a sample
    module = {"module": EstimatedOffsetHead} if criterion == "estimated_offset" else {}
    params = {"criterion": criterion, "batch_size": -1, "max_epochs": 3, **module,
              "iterator_train__shuffle": False}
    weighted = _net(**params).fit(X, y, sample_weight=counts)
    repeated = _net(**params).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_array_equal(weighted.class_counts_, repeated.class_counts_)
    np.testing.assert_allclose(weighted.history[:, "train_loss"],
                               repeated.history[:, "train_loss"], rtol=1e-5)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X),
                               rtol=1e-4, atol=1e-6)


def test_sample_weights_set_the_class_counts_the_loss_adjusts_for():
    X, y = _data(n=60)
    codes = np.unique(y, return_inverse=True)[1]
    w = 1.0 / np.bincount(codes)[codes]
    net = _net(criterion="logit_adjusted", max_epochs=1).fit(X, y, sample_weight=w)
    # balanced weights: the weighted class counts are equal
    np.testing.assert_allclose(net.class_counts_, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(net.criterion_.class_counts.numpy(), net.class_counts_)
    np.testing.assert_allclose(net.source_prior_, [1 / 3] * 3, rtol=1e-6)


def test_sample_weights_with_a_validation_split_and_augmentation():
    from sklt.nn import UniMix

    X, y = _data(n=60)
    w = np.random.default_rng(0).uniform(0.2, 2.0, size=len(y))
    net = _net(criterion="lade", augmentation=UniMix(random_state=0), max_epochs=2,
               train_split=ValidSplit(3, stratified=True)).fit(X, y, sample_weight=w)
    assert np.all(np.isfinite(net.history[:, "train_loss"]))
    assert np.all(np.isfinite(net.history[:, "valid_loss"]))
    assert "valid_acc" in net.history[-1]


def test_sample_weights_need_a_criterion_and_augmentation_that_take_them():
    X, y = _data(n=60)
    w = np.ones(len(y))
    with pytest.raises(TypeError, match="criterion whose forward takes sample_weight"):
        _net(criterion=torch.nn.CrossEntropyLoss).fit(X, y, sample_weight=w)
    with pytest.raises(TypeError, match="mix method that takes sample_weight"):
        _net(augmentation=_FlipMix()).fit(X, y, sample_weight=w)


@pytest.mark.parametrize(
    "weight, match",
    [(-np.ones(60), "non-negative"), (np.full(60, np.nan), "finite"), (np.ones(59), r"\(60,\)"),
     (np.zeros(60), "all zero"), (np.array(["a"] * 60), "numbers"), ({"a": 1}, "array")],
)
def test_bad_sample_weight_is_named(weight, match):
    X, y = _data(n=60)
    with pytest.raises((ValueError, TypeError), match=f"sample_weight.*{match}|{match}.*"):
        _net().fit(X, y, sample_weight=weight)
    with pytest.raises((ValueError, TypeError), match="sample_weight"):
        _net().fit(X, y, sample_weight=weight)


# ------------------------------------------------- skorch conventions (#13)
@pytest.mark.parametrize(
    "callback",
    [
        lambda: skorch_callbacks.EarlyStopping(),
        lambda: skorch_callbacks.EpochScoring("accuracy"),
        lambda: skorch_callbacks.Checkpoint(dirname="never-written"),
        lambda: skorch_callbacks.LRScheduler(torch.optim.lr_scheduler.ReduceLROnPlateau,
                                             monitor="valid_loss"),
    ],
    ids=["EarlyStopping", "EpochScoring", "Checkpoint", "LRScheduler"],
)
def test_callbacks_that_need_a_validation_set_fail_clearly_without_one(callback):
    X, y = _data(n=60)
    with pytest.raises(ValueError, match="no validation set.*train_split=skorch.dataset"):
        _net(callbacks=[callback()]).fit(X, y)


@pytest.mark.parametrize("labels", [("a", "b", "c"), (10, 20, 30)])
def test_scoring_callbacks_compare_predictions_with_the_original_labels(labels):
    # The net trains on label codes 0..K-1; a scorer must not compare predict's labels
    # with those codes (10, 20, 30 would silently score 0).
    X, y = _data(n=90, labels=labels)
    net = _net(max_epochs=8, train_split=ValidSplit(3, stratified=True),
               callbacks=[skorch_callbacks.EpochScoring("accuracy", name="valid_accuracy",
                                                        lower_is_better=False)]).fit(X, y)
    assert net.history[-1, "valid_accuracy"] > 0.8
    assert net.history[-1, "valid_accuracy"] == pytest.approx(net.history[-1, "valid_acc"])


def test_validation_callbacks_work_with_a_split_and_training_ones_without():
    X, y = _data(n=90)
    net = _net(max_epochs=30, train_split=ValidSplit(3, stratified=True),
               callbacks=[skorch_callbacks.EpochScoring("balanced_accuracy", name="valid_bacc",
                                                        lower_is_better=False),
                          skorch_callbacks.EarlyStopping(monitor="valid_bacc",
                                                         lower_is_better=False, patience=2)]
               ).fit(X, y)
    assert "valid_bacc" in net.history[-1] and len(net.history) < 30
    net = _net(max_epochs=3, callbacks=[
        skorch_callbacks.EarlyStopping(monitor="train_loss"),
        skorch_callbacks.EpochScoring("accuracy", on_train=True, name="train_acc")]).fit(X, y)
    assert "train_acc" in net.history[-1]


@pytest.mark.parametrize("value", [None, torch.sigmoid, "softmax"])
def test_predict_nonlinearity_other_than_auto_is_rejected(value):
    X, y = _data(n=60)
    with pytest.raises(ValueError, match="predict_nonlinearity must be 'auto'"):
        _net(predict_nonlinearity=value).fit(X, y)


def test_save_params_with_safetensors_round_trip(tmp_path):
    pytest.importorskip("safetensors")
    X, y = _data(n=60)
    net = _net(criterion="ldam", criterion__scale=2.0).fit(X, y)
    files = {"f_params": str(tmp_path / "params.safetensors"),
             "f_criterion": str(tmp_path / "criterion.safetensors")}
    net.save_params(use_safetensors=True, **files)
    new = LongTailClassifier(criterion="ldam", criterion__scale=2.0, classes=["a", "b", "c"],
                             module__input_dim=X.shape[1]).initialize()
    new.load_params(use_safetensors=True, **files)
    np.testing.assert_array_equal(new.class_counts_, net.class_counts_)
    torch.testing.assert_close(new.criterion_.margins, net.criterion_.margins)
    np.testing.assert_array_equal(new.predict_proba(X), net.predict_proba(X))


def test_warm_start_continues_training_and_follows_the_new_class_counts():
    X, y = _data(n=60)
    net = _net(warm_start=True, max_epochs=2).fit(X, y)
    weights = [p.detach().clone() for p in net.module_.parameters()]
    keep = np.r_[np.flatnonzero(y == "a")[:10], np.flatnonzero(y != "a")]
    net.fit(X[keep], y[keep])
    assert len(net.history) == 4
    np.testing.assert_array_equal(net.class_counts_, [10, 12, 6])
    np.testing.assert_array_equal(net.criterion_.class_counts.numpy(), [10, 12, 6])
    assert any(not torch.equal(a, b) for a, b in zip(weights, net.module_.parameters(),
                                                     strict=True))


def test_criterion_target_prior_dict_is_mapped_onto_the_classes():
    X, y = _data(n=60)
    net = _net(criterion="bayias", criterion__target_prior={"c": 2, "a": 1, "b": 1},
               max_epochs=1).fit(X, y)
    torch.testing.assert_close(net.criterion_.log_target_prior.exp(),
                               torch.tensor([0.25, 0.25, 0.5]))
    with pytest.raises(ValueError, match="criterion__target_prior"):
        _net(criterion="bayias", criterion__target_prior={"a": 1, "zzz": 1}).fit(X, y)


def test_training_that_diverges_is_an_error_not_nan_predictions():
    X, y = _data(n=60)
    with pytest.raises(ValueError, match="(non-finite network weights|loss is).*ower lr"):
        _net(lr=1e36, optimizer=torch.optim.SGD, max_epochs=3).fit(X * 1e3, y)


def test_logits_that_overflow_at_predict_are_an_error():
    X, y = _data(n=60)
    net = _net(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="non-finite|NaN or infinite logits"):
        net.predict_proba(np.full((2, 4), 3e38))


def test_probabilities_are_float64_and_log_proba_is_their_log():
    X, y = _data(n=60)
    net = _net(criterion="ldam", max_epochs=5).fit(X, y)  # scale 30: large logits
    with torch.no_grad():
        net.module_.layers[-1].bias += torch.tensor([0.0, 40.0, -40.0])
    proba, log_proba = net.predict_proba(X), net.predict_log_proba(X)
    assert proba.dtype == log_proba.dtype == np.float64
    assert np.all(proba > 0) and log_proba.min() < -700
    np.testing.assert_allclose(np.log(proba), log_proba)
    np.testing.assert_array_equal(net.classes_[proba.argmax(1)], net.predict(X))


def test_sample_weight_is_routed_by_scikit_learn_metadata_routing():
    import sklearn
    from sklearn.model_selection import cross_validate

    X, y = _data(n=60)
    w = np.where(y == "a", 0.2, 3.0)
    with sklearn.config_context(enable_metadata_routing=True):
        net = _net(max_epochs=3).set_fit_request(sample_weight=True)
        net.set_score_request(sample_weight=False)
        routed = cross_validate(net, X, y, params={"sample_weight": w}, cv=2,
                                return_estimator=True)
    counts = [est.class_counts_ for est in routed["estimator"]]
    assert all(c[0] < c[1] for c in counts)  # the weighted counts: 0.2 * 21 < 3 * 6

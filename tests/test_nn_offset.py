"""Tests of sklt.nn.offset: the estimated-offset head and loss (001 eq. 5-6)."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

from sklt.nn.offset import (  # noqa: E402
    EstimatedOffsetHead,
    EstimatedOffsetLoss,
    empirical_offsets,
    estimated_offsets,
    uniform_constraint,
)


def _head(**kw):
    torch.manual_seed(0)
    head = EstimatedOffsetHead(input_dim=4, n_classes=3, hidden_units=(6,), **kw)
    with torch.no_grad():
        head.centers.normal_()
    return head


def test_logits_equal_the_formula():
    """logit_k = w_k . f(x) - 1/2 c_k . w_k, and the other outputs as documented."""
    head = _head()
    X = torch.randn(7, 4)
    logits, f, sq_dist, offsets = head(X)
    W, c = head.linear.weight, head.centers
    f_ref = torch.relu(head.extractor.layers[1](X))
    torch.testing.assert_close(f, f_ref)
    expected = f_ref @ W.T - 0.5 * torch.einsum("kd,kd->k", c, W)
    torch.testing.assert_close(logits, expected)
    torch.testing.assert_close(sq_dist, ((f_ref[:, None, :] - c[None]) ** 2).sum(-1),
                               rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(offsets, (0.5 * (c * W).sum(1)).expand(7, 3))
    assert head.linear.bias is None


def test_zero_centres_give_a_bias_free_linear_classifier():
    head = EstimatedOffsetHead(input_dim=4, n_classes=3)
    X = torch.randn(5, 4)
    logits, f, _, offsets = head(X)
    torch.testing.assert_close(logits, f @ head.linear.weight.T)
    assert torch.all(offsets == 0)


@pytest.mark.parametrize("shape", [(2, 9), (1, 3, 3)])
def test_extractor_class_gets_sizes_and_works_on_nd_inputs(shape):
    class Conv(nn.Module):
        def __init__(self, in_channels, n_classes):
            super().__init__()
            self.conv = nn.LazyConv1d(n_classes, 3) if len(shape) == 2 else nn.LazyConv2d(
                n_classes, 2)
            self.in_channels = in_channels

        def forward(self, X):
            return self.conv(X).flatten(2).mean(-1)

    head = EstimatedOffsetHead(Conv, in_channels=shape[0], n_classes=4, feature_dim=5)
    logits, f, _, _ = head(torch.randn(3, *shape))
    assert logits.shape == (3, 4) and f.shape == (3, 5)
    assert head.extractor.in_channels == shape[0]


def test_uniform_constraint_is_minimal_at_equal_offsets():
    k = 5
    assert uniform_constraint(torch.full((k,), 3.7)).item() == pytest.approx(-math.log(k))
    gen = torch.Generator().manual_seed(0)
    for _ in range(50):
        w0 = torch.randn(k, generator=gen) * 3
        assert uniform_constraint(w0).item() > -math.log(k)
    # its gradient vanishes at equal offsets
    w0 = torch.full((k,), -1.0, requires_grad=True)
    uniform_constraint(w0).backward()
    torch.testing.assert_close(w0.grad, torch.zeros(k))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-20, 20), min_size=2, max_size=8), st.floats(-50, 50))
def test_uniform_constraint_shift_invariant_and_bounded(offsets, shift):
    w0 = torch.tensor(offsets, dtype=torch.float64)
    value = uniform_constraint(w0).item()
    assert -math.log(len(offsets)) - 1e-9 <= value <= 1e-9
    assert uniform_constraint(w0 + shift).item() == pytest.approx(value, abs=1e-9)


def test_loss_equals_eq6_terms():
    head = _head()
    loss = EstimatedOffsetLoss([50, 10, 2], lambda_center=0.3, lambda_uniform=2.0)
    X, y = torch.randn(6, 4), torch.tensor([0, 0, 0, 1, 1, 2])
    out = head(X)
    logits, f, _, offsets = out
    expected = (
        nn.functional.cross_entropy(logits, y)
        + 0.3 * ((f - head.centers[y]) ** 2).sum(1).mean()
        + 2.0 * uniform_constraint(offsets[0])
    )
    torch.testing.assert_close(loss(out, y), expected, rtol=1e-5, atol=1e-5)
    # lambda_uniform = 0, lambda_center = 0: plain CE on the offset logits
    plain = EstimatedOffsetLoss([50, 10, 2], lambda_center=0.0, lambda_uniform=0.0)
    torch.testing.assert_close(plain(out, y), nn.functional.cross_entropy(logits, y))


def test_soft_targets_are_linear_and_one_hot_matches_labels():
    head = _head()
    loss = EstimatedOffsetLoss([5, 5, 5])
    X, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    out = head(X)
    onehot = nn.functional.one_hot(y, 3).float()
    torch.testing.assert_close(loss(out, onehot), loss(out, y))
    # xi l(y_i) + (1 - xi) l(y_j) for the per-sample parts (the uniform term is shared)
    y2 = torch.tensor([1, 2, 0, 2, 0, 1])
    xi = torch.rand(6, generator=torch.Generator().manual_seed(0))
    soft = xi[:, None] * onehot + (1 - xi[:, None]) * nn.functional.one_hot(y2, 3).float()
    no_uc = EstimatedOffsetLoss([5, 5, 5], lambda_uniform=0.0)
    per = nn.functional.cross_entropy(out[0], y, reduction="none")
    per2 = nn.functional.cross_entropy(out[0], y2, reduction="none")
    c1 = out[2].gather(1, y[:, None]).squeeze(1)
    c2 = out[2].gather(1, y2[:, None]).squeeze(1)
    expected = (xi * (per + c1) + (1 - xi) * (per2 + c2)).mean()
    torch.testing.assert_close(no_uc(out, soft), expected, rtol=1e-5, atol=1e-5)


def test_centres_receive_gradients_from_all_terms():
    head = _head()
    X, y = torch.randn(6, 4), torch.tensor([0, 0, 0, 1, 1, 2])
    for lc, lu in [(1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]:
        head.zero_grad()
        EstimatedOffsetLoss([3, 2, 1], lambda_center=lc, lambda_uniform=lu)(head(X), y).backward()
        assert head.centers.grad is not None and head.centers.grad.abs().sum() > 0


def test_entangled_prior_is_training_prior():
    loss = EstimatedOffsetLoss([90, 10, 0])
    lp = loss.entangled_log_prior()
    torch.testing.assert_close(lp[:2].exp(), torch.tensor([0.9, 0.1]))
    assert torch.isfinite(lp).all()
    assert loss.requires_module_output is True


def test_offsets_diagnostics():
    head = _head()
    X = torch.randn(40, 4)
    y = np.repeat([0, 1, 2], [20, 15, 5])
    est = estimated_offsets(head)
    W, c = head.linear.weight.detach().double(), head.centers.detach().double()
    np.testing.assert_allclose(est, 0.5 * (c * W).sum(1).numpy(), rtol=1e-6)
    emp = empirical_offsets(head, X, y)
    f = head(X)[1].detach().double()
    mu = torch.stack([f[torch.as_tensor(y == k)].mean(0) for k in range(3)])
    np.testing.assert_allclose(emp, 0.5 * (mu * W).sum(1).numpy(), rtol=1e-5)
    # a class absent from y gets NaN
    assert np.isnan(empirical_offsets(head, X[:20], y[:20])[1:]).all()
    # any module with a linear last layer works for the empirical offsets
    mlp = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    emp = empirical_offsets(mlp, X, y)
    f = torch.relu(mlp[0](X)).detach().double()
    mu = torch.stack([f[torch.as_tensor(y == k)].mean(0) for k in range(3)])
    np.testing.assert_allclose(emp, 0.5 * (mu * mlp[2].weight.detach().double()).sum(1).numpy(),
                               rtol=1e-5)


def _train_head(lambda_uniform, steps=300):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [120, 40, 10])
    X = torch.as_tensor(rng.normal(size=(170, 4)) + 2 * np.eye(4)[y], dtype=torch.float32)
    yt = torch.as_tensor(y)
    head = EstimatedOffsetHead(input_dim=4, n_classes=3, hidden_units=(8,))
    loss = EstimatedOffsetLoss(np.bincount(y), lambda_uniform=lambda_uniform)
    opt = torch.optim.Adam(head.parameters(), lr=0.02)
    for _ in range(steps):
        opt.zero_grad()
        loss(head(X), yt).backward()
        opt.step()
    return head, X, yt


def test_centres_track_class_means_and_uniform_constraint_evens_offsets():
    """Trained c_k approach the class feature means; the constraint evens the offsets (Fig. 3)."""
    head, X, yt = _train_head(lambda_uniform=1.0)
    f = head(X)[1].detach()
    mu = torch.stack([f[yt == k].mean(0) for k in range(3)])
    # each centre is much closer to its own class mean than the class means are to each other
    err = (head.centers.detach() - mu).norm(dim=1).max()
    gap = torch.cdist(mu, mu)[~torch.eye(3, dtype=bool)].min()
    assert err < 0.5 * gap
    head0, _, _ = _train_head(lambda_uniform=0.0)
    spread = np.ptp(estimated_offsets(head))
    spread0 = np.ptp(estimated_offsets(head0))
    assert spread < spread0


# ----------------------------------------------------------------- bad input
def test_loss_needs_the_head_output():
    loss = EstimatedOffsetLoss([2, 2, 2])
    y = torch.tensor([0, 1])
    with pytest.raises(ValueError, match="needs the output .* of an EstimatedOffsetHead"):
        loss(torch.randn(2, 3), y)
    with pytest.raises(ValueError, match="tuple of 2 elements"):
        loss((torch.randn(2, 3), torch.randn(2, 5)), y)
    head = _head()
    with pytest.raises(ValueError, match="targets must be"):
        loss(head(torch.randn(2, 4)), torch.zeros(2, 5))


def test_extractor_that_does_not_return_features():
    class LogitsAndAux(nn.Module):
        def forward(self, X):
            return X, X

    head = EstimatedOffsetHead(LogitsAndAux(), n_classes=3, feature_dim=4)
    with pytest.raises(ValueError, match="does not expose its features"):
        head(torch.randn(2, 4))
    head = EstimatedOffsetHead(nn.Identity(), n_classes=3, feature_dim=5)
    with pytest.raises(ValueError, match=r"features of shape \(N, 5\)"):
        head(torch.randn(2, 4))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="n_classes is not set"):
        EstimatedOffsetHead(input_dim=3)
    with pytest.raises(ValueError, match="input_dim is not set"):
        EstimatedOffsetHead(n_classes=3)
    with pytest.raises(ValueError, match="feature_dim is not set"):
        EstimatedOffsetHead(nn.Identity(), n_classes=3)
    with pytest.raises(ValueError, match="disagrees"):
        EstimatedOffsetHead(input_dim=3, n_classes=3, hidden_units=(8,), feature_dim=4)
    with pytest.raises(ValueError, match="hidden_units"):
        EstimatedOffsetHead(input_dim=3, n_classes=3, hidden_units=())
    with pytest.raises(ValueError, match=r"Extractor arguments \['channels'\] need an extractor"):
        EstimatedOffsetHead(input_dim=3, n_classes=3, channels=(4,))
    with pytest.raises(TypeError, match="extractor must be"):
        EstimatedOffsetHead("mlp", n_classes=3, feature_dim=4)
    with pytest.raises(ValueError, match="lambda_center must be"):
        EstimatedOffsetLoss([1, 2], lambda_center=-1)
    with pytest.raises(ValueError, match="lambda_uniform must be"):
        EstimatedOffsetLoss([1, 2], lambda_uniform=float("nan"))
    with pytest.raises(ValueError, match="class_counts"):
        EstimatedOffsetLoss([0, 0])
    with pytest.raises(ValueError, match="needs an EstimatedOffsetHead"):
        estimated_offsets(nn.Linear(3, 2))


# ------------------------------------------------- with LongTailClassifier
def _lt_data(n=120, shape=(6,), seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], [int(n * 0.7), int(n * 0.2), n - int(n * 0.7) - int(n * 0.2)])
    X = rng.normal(size=(n, *shape)).astype(np.float32)
    X += y.reshape((-1,) + (1,) * len(shape)) * 1.5
    return X, y


def _lt_net(**kw):
    from sklt.nn import LongTailClassifier

    kw.setdefault("max_epochs", 2)
    kw.setdefault("batch_size", 32)
    kw.setdefault("random_state", 0)
    return LongTailClassifier(**kw)


@pytest.mark.parametrize("shape", [(6,), (1, 12)])
@pytest.mark.parametrize("lambda_uniform", [0.0, 1.0])
def test_estimated_offset_criterion_trains_on_flat_and_sequence_inputs(shape, lambda_uniform):
    pytest.importorskip("skorch")
    from sklt.nn import CNN1d

    X, y = _lt_data(shape=shape)
    params = {} if len(shape) == 1 else dict(module__extractor=CNN1d, module__feature_dim=8,
                                             module__channels=(4,))
    net = _lt_net(module=EstimatedOffsetHead, criterion="estimated_offset",
                  criterion__lambda_center=0.5, criterion__lambda_uniform=lambda_uniform,
                  **params).fit(X, y)
    assert isinstance(net.criterion_, EstimatedOffsetLoss)
    assert net.criterion_.lambda_uniform == lambda_uniform
    np.testing.assert_array_equal(net.criterion_.class_counts.numpy(), [84, 24, 12])
    assert np.all(np.isfinite(net.history[:, "train_loss"]))
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    # predictions come from the head's logits (the first output)
    with torch.no_grad():
        logits = net.module_(torch.as_tensor(X))[0].numpy()
    np.testing.assert_allclose(proba, torch.softmax(torch.as_tensor(logits), 1).numpy(),
                               rtol=1e-4, atol=1e-6)
    assert estimated_offsets(net).shape == (3,)
    assert empirical_offsets(net, X, y).shape == (3,)
    np.testing.assert_allclose(net.source_prior_, [0.7, 0.2, 0.1], rtol=1e-5)


def test_estimated_offset_with_unimix_and_string_labels():
    pytest.importorskip("skorch")
    from sklt.nn.augment import UniMix

    X, y = _lt_data()
    labels = np.array(["a", "b", "c"])[y]
    net = _lt_net(module=EstimatedOffsetHead, criterion="estimated_offset",
                  augmentation=UniMix(stop_epoch=1)).fit(X, labels)
    assert set(net.predict(X)) <= {"a", "b", "c"}
    emp = empirical_offsets(net, X, labels)
    assert np.all(np.isfinite(emp))


def test_empirical_offsets_follow_the_classifier_label_order():
    pytest.importorskip("skorch")
    X, y = _lt_data()
    labels = np.array(["z", "a", "m"])[y]
    net = _lt_net(module=EstimatedOffsetHead, criterion="estimated_offset",
                  classes=["z", "a", "m"]).fit(X, labels)
    assert list(net.classes_) == ["z", "a", "m"]
    emp = empirical_offsets(net, X, labels)
    f = net.module_(torch.as_tensor(X))[1].detach().double()
    W = net.module_.linear.weight.detach().double()
    mu = torch.stack([f[torch.as_tensor(labels == c)].mean(0) for c in ["z", "a", "m"]])
    np.testing.assert_allclose(emp, 0.5 * (mu * W).sum(1).numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="not in the classes"):
        empirical_offsets(net, X, np.array(["q"] * len(X)))


# ------------------------------------- criterion="estimated_offset" with any module (#13)
@pytest.mark.parametrize("conv", [False, True])
def test_estimated_offset_criterion_wraps_the_default_modules_head(conv):
    pytest.importorskip("skorch")
    from sklt.nn import MLP, CNN1d

    X, y = _lt_data(shape=(1, 12) if conv else (6,))
    params = {"module": CNN1d, "module__channels": (4,), "module__pool_size": 2} if conv \
        else {"module__hidden_units": (7, 5)}
    net = _lt_net(criterion="estimated_offset", **params).fit(X, y)
    head = net.module_
    assert isinstance(head, EstimatedOffsetHead)
    # the head replaces the module's last linear layer: features are that layer's inputs
    plain = (CNN1d(in_channels=1, n_classes=3, channels=(4,), pool_size=2) if conv
             else MLP(input_dim=6, n_classes=3, hidden_units=(7, 5)))
    assert head.feature_dim == plain.layers[-1].in_features
    assert len(head.extractor) == len(plain.layers) - 1
    linears = [m.out_features for m in head.extractor.modules() if isinstance(m, nn.Linear)]
    assert linears == ([] if conv else [7, 5])  # no K-wide output layer before the head
    logits, f, _, offsets = head(torch.as_tensor(X[:4]))
    torch.testing.assert_close(logits, f @ head.linear.weight.T - offsets)
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_allclose(net.predict_proba(X), proba)  # deterministic at inference


def test_estimated_offset_criterion_wraps_any_module_taking_its_output_as_features():
    pytest.importorskip("skorch")

    class Net(nn.Module):
        def __init__(self, input_dim, n_classes, width=5):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(input_dim, width), nn.Tanh())

        def forward(self, X):
            return self.body(X)

    X, y = _lt_data()
    net = _lt_net(module=Net, module__width=9, criterion="estimated_offset").fit(X, y)
    assert isinstance(net.module_, EstimatedOffsetHead) and net.module_.feature_dim == 9
    assert isinstance(net.module_.extractor, Net)
    assert net.predict(X).shape == y.shape


def test_estimated_offset_criterion_with_a_module_without_features_raises():
    pytest.importorskip("skorch")

    class TupleNet(nn.Module):
        def __init__(self, input_dim, n_classes):
            super().__init__()
            self.linear = nn.Linear(input_dim, n_classes)

        def forward(self, X):
            z = self.linear(X)
            return z, z

    X, y = _lt_data()
    with pytest.raises(ValueError, match="needs a tensor of shape"):
        _lt_net(module=TupleNet, criterion="estimated_offset").fit(X, y)


def test_grid_search_over_criteria_includes_estimated_offset_with_the_default_module():
    pytest.importorskip("skorch")
    from sklearn.model_selection import GridSearchCV

    X, y = _lt_data(n=90)
    grid = [{"criterion": ["cross_entropy", "estimated_offset", "lade"]},
            {"criterion": ["logit_adjusted"], "criterion__tau": [1.0, 1.5]}]
    search = GridSearchCV(_lt_net(max_epochs=1, module__hidden_units=(8,)), grid, cv=2,
                          error_score="raise").fit(X, y)
    assert len(search.cv_results_["params"]) == 5
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


# ------------------------------------------------------ tau-normalisation
def test_tau_normalisation_identities_and_formula():
    pytest.importorskip("skorch")
    from sklearn.frozen import FrozenEstimator

    from sklt.nn.posthoc import TauNormalizedClassifier

    X, y = _lt_data()
    net = _lt_net(max_epochs=3).fit(X, y)
    frozen = FrozenEstimator(net)
    # tau = 0 with the bias: the network as trained
    t0 = TauNormalizedClassifier(frozen, tau=0.0, include_bias=True).fit(X, y)
    np.testing.assert_allclose(t0.predict_proba(X), net.predict_proba(X), rtol=1e-4, atol=1e-6)
    # eq. 3: w_y . Phi(x) / ||w_y||^tau
    layer = net.module_.layers[-1]
    with torch.no_grad():
        phi = net.module_.layers[:-1](torch.as_tensor(X)).double().numpy()
    W = layer.weight.detach().double().numpy()
    for tau in (0.5, 1.0, 2.0):
        clf = TauNormalizedClassifier(frozen, tau=tau).fit(X, y)
        expected = phi @ (W / np.linalg.norm(W, axis=1, keepdims=True) ** tau).T
        np.testing.assert_allclose(clf.decision_function(X), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(clf.predict(X), net.classes_[expected.argmax(1)])
        np.testing.assert_allclose(clf.weight_norms_, np.linalg.norm(W, axis=1))


def test_tau_normalisation_of_an_estimated_offset_head_and_unfrozen_estimator():
    pytest.importorskip("skorch")
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import GridSearchCV

    from sklt.nn.posthoc import TauNormalizedClassifier

    X, y = _lt_data()
    net = _lt_net(module=EstimatedOffsetHead, criterion="estimated_offset").fit(X, y)
    t0 = TauNormalizedClassifier(FrozenEstimator(net), tau=0.0, include_bias=True).fit(X, y)
    np.testing.assert_allclose(t0.predict_proba(X), net.predict_proba(X), rtol=1e-4, atol=1e-6)
    # a non-frozen estimator is cloned and fitted
    clf = TauNormalizedClassifier(_lt_net(), tau=1.0).fit(X, y)
    assert clf.estimator_ is not clf.estimator and clf.predict(X).shape == y.shape
    search = GridSearchCV(TauNormalizedClassifier(FrozenEstimator(net)),
                          {"tau": [0.0, 1.0]}, cv=2).fit(X, y)
    assert search.best_params_["tau"] in (0.0, 1.0)


def test_tau_normalisation_bad_input():
    pytest.importorskip("skorch")
    from sklearn.frozen import FrozenEstimator

    from sklt.nn.posthoc import TauNormalizedClassifier

    class NotLinearLast(nn.Module):
        def __init__(self, input_dim, n_classes):
            super().__init__()
            self.linear = nn.Linear(input_dim, n_classes)

        def forward(self, X):
            return torch.tanh(self.linear(X)) * 3

    X, y = _lt_data()
    net = _lt_net(module=NotLinearLast).fit(X, y)
    with pytest.raises(ValueError, match="last layer is linear"):
        TauNormalizedClassifier(FrozenEstimator(net)).fit(X, y)
    with pytest.raises(ValueError, match="tau must be a finite number >= 0"):
        TauNormalizedClassifier(FrozenEstimator(net), tau=-1).fit(X, y)


@pytest.mark.parametrize("offsets", [torch.tensor([]), torch.tensor([float("nan"), 1.0]),
                                     torch.tensor([float("inf"), 1.0])])
def test_uniform_constraint_names_empty_and_non_finite_offsets(offsets):
    from sklt.nn.offset import uniform_constraint

    with pytest.raises(ValueError, match="offsets"):
        uniform_constraint(offsets)

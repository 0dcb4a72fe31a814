"""``LongTailClassifier``: a skorch classifier whose long-tail loss is a hyperparameter."""

import contextlib
import inspect
import numbers
import sys
import warnings
from collections.abc import Mapping

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import EpochScoring, EpochTimer, PassthroughScoring, PrintLog
from skorch.callbacks.scoring import ScoringBase
from skorch.dataset import unpack_data
from skorch.utils import is_dataset, to_numpy, to_tensor

from sklt._utils import _as_array, _encode, _estimator_labels, _LabelsScoreMixin
from sklt.adjust import adjust_logits
from sklt.nn._validation import (
    F32_MAX,
    F32_TINY,
    check_finite_float32,
    check_int,
    check_real,
    check_sample_weight,
    log_proba_and_proba,
)
from sklt.nn.losses import _BASE_LOSSES, ClassBalancedLoss, LongTailLoss
from sklt.nn.modules import MLP
from sklt.nn.offset import CRITERIA as _OFFSET_CRITERIA
from sklt.nn.offset import EstimatedOffsetHead, EstimatedOffsetLoss
from sklt.priors import _format_classes, check_prior

__all__ = ["LongTailClassifier"]

CRITERIA = {**_BASE_LOSSES, "class_balanced": ClassBalancedLoss, **_OFFSET_CRITERIA}

# Keys of the dict that carries the inputs and the sample weights through skorch's
# dataset, split and batches when fit(..., sample_weight=w) is used (skorch FAQ recipe).
_X_KEY = "X"
_W_KEY = "sample_weight"
#: The default callbacks that read validation scores (they do nothing without a split).
_DEFAULT_VALID_CALLBACKS = ("valid_loss", "valid_acc")


def _loss_params(cls):
    params = set(inspect.signature(cls).parameters) - {"self", "class_counts"}
    return {p for p in params if p not in ("args", "kwargs", "base_params")}


#: Hyperparameter names of the sklt losses (``criterion__<name>``).
_KNOWN_HYPERPARAMETERS = set().union(*(_loss_params(cls) for cls in CRITERIA.values()))


def _drop_foreign_hyperparameters(cls, kwargs):
    """Drop ``criterion__*`` values that belong to *other* sklt losses.

    So that ``GridSearchCV(net, {"criterion": [...], "criterion__tau": [...]})``
    works: ``tau`` is ignored by the losses that have no ``tau``. Unknown names
    (typos) are kept and raise a TypeError from the loss.
    """
    accepted = _loss_params(cls)
    if issubclass(cls, ClassBalancedLoss):
        base = kwargs.get("base", "cross_entropy")
        base_cls = _BASE_LOSSES.get(base, base) if isinstance(base, str) else base
        if isinstance(base_cls, type):
            accepted |= _loss_params(base_cls)
    return {
        k: v for k, v in kwargs.items()
        if k in accepted or k == "class_counts" or k not in _KNOWN_HYPERPARAMETERS
    }


def _accepts(func, name):
    """Whether ``func`` takes a keyword argument ``name`` (or ``**kwargs``)."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


class _LabelDecoder:
    """``target_extractor`` of skorch scoring callbacks: label codes -> the classifier's labels.

    The net trains on encoded labels, but its ``predict`` returns the original
    ones; scorers compare the two, so they must see the original labels too.
    """

    def __init__(self, classes):
        self.classes = np.asarray(classes)

    def __call__(self, y):
        return None if y is None else self.classes[to_numpy(y).astype(np.int64)]


def _encoded_accuracy(net, X, y):
    """Accuracy on the encoded labels a skorch validation dataset holds."""
    pred = net._forward_logits(X).argmax(axis=1)
    return float(np.mean(pred == to_numpy(y).astype(np.int64)))


class LongTailClassifier(_LabelsScoreMixin, NeuralNetClassifier):
    """Neural classifier (skorch) with a long-tail loss as a hyperparameter.

    A :class:`skorch.NeuralNetClassifier` whose ``criterion`` is one of the
    long-tail losses of :mod:`sklt.nn.losses` (by name), given the class counts
    of ``y`` at fit, and which can inject a target prior at inference.
    ``LongTailClassifier().fit(X, y)`` works on a float matrix: the default
    :class:`~sklt.nn.MLP`'s input and output sizes come from the data.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=MLP
        The network; it returns logits ``(N, n_classes)`` (or a tuple whose
        first element is the logits). For a class, its ``input_dim``,
        ``in_channels`` and ``n_classes`` arguments, when it has them and they
        are not given as ``module__*``, are inferred from the data. Other
        arguments: ``module__hidden_units``, ``module__dropout``, ...
    criterion : str, LongTailLoss class or torch.nn.Module, default="cross_entropy"
        ``"cross_entropy"``, ``"logit_adjusted"``, ``"balanced_softmax"``,
        ``"bayias"``, ``"lade"``, ``"ldam"``, ``"focal"``, ``"class_balanced"``
        or ``"estimated_offset"`` (the module is then wrapped in an
        :class:`~sklt.nn.EstimatedOffsetHead` unless it is one: the head
        replaces the last linear layer of an :class:`~sklt.nn.MLP` or
        :class:`~sklt.nn.CNN1d` and takes any other module's output as its
        features, see :mod:`sklt.nn.offset`), or a class. sklt loss classes
        receive ``class_counts`` (counted from ``y`` at fit, weighted by
        ``sample_weight``); hyperparameters go in ``criterion__*``
        (``criterion__tau``, ``criterion__gamma``, ``criterion__form``, ...) and
        are validated at fit. A hyperparameter of another sklt loss is ignored
        (so one grid can span several losses); an unknown name is an error. A
        dict ``criterion__target_prior={label: weight}`` (Bayias) is mapped onto
        the classes.
    target_prior : None, "uniform", array-like of shape (n_classes,) or dict, default=None
        Prior to predict under. ``None``: the logits as trained. Otherwise
        ``log p_t - log(entangled prior of the loss)`` is added to the logits at
        inference, through :func:`sklt.adjust.adjust_logits` (``METHODS.md`` §2).
        Can be changed after fit with ``set_params``, no refit needed.
    augmentation : object, class or None, default=None
        Training-time augmentation (e.g. mixup): an object with a method
        ``mix(X, y, *, class_counts, epoch)`` that gets the batch (tensors on the
        net's device, ``y`` the encoded labels), the class counts (float tensor)
        and the 0-based epoch (``len(net.history) - 1``, counting on across
        ``partial_fit`` calls) and returns ``None`` (no mixing) or
        ``(X_mixed, Y_soft)`` with ``Y_soft`` an ``(N, K)`` float tensor of
        soft targets, given to the criterion instead of the labels. Used in
        training steps only. With ``fit(..., sample_weight=w)`` it is also given
        ``sample_weight`` (the batch's weights) and must return the mixed
        samples' weights as a third element (sklt's augmentations do). Its
        parameters are reachable as ``augmentation__*`` (``set_params``,
        ``GridSearchCV``); a copy is used, as ``augmentation_``.
    optimizer : torch optimizer class, default=torch.optim.Adam
    lr : float, default=0.01
    max_epochs : int, default=20
    batch_size : int, default=128
    train_split : None or callable, default=None
        No internal validation split by default: skorch's stratified
        ``ValidSplit(5)`` fails when a class has fewer than 5 samples, which is
        common in long-tailed data. Pass e.g. ``skorch.dataset.ValidSplit(0.1)``
        to get ``valid_loss`` and ``valid_acc``. Callbacks that read validation
        scores (``EarlyStopping()``, whose default monitor is ``valid_loss``,
        ``Checkpoint()``, ``EpochScoring(...)`` on the validation set) raise a
        ``ValueError`` at fit without a split, saying so; scoring callbacks
        compare ``predict`` with the original labels.
    verbose : int, default=0
    classes : array-like or None, default=None
        The class labels; ``None`` infers them from ``y``. Classes absent from
        ``y`` get a zero count.
    random_state : int, RandomState or None, default=None
        Seed for weight initialisation, shuffling and augmentation: ``fit``
        runs with torch's global RNG seeded from it and restores the RNG state
        afterwards (:func:`torch.random.fork_rng`). ``None``: torch's current
        global RNG, as in skorch.
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... (skorch's ``device``).
    **kwargs
        Every other :class:`skorch.NeuralNet` parameter (``callbacks``,
        ``iterator_train__*``, ``optimizer__*``, ``warm_start``, ...).
        ``iterator_train__shuffle`` defaults to True. ``predict_nonlinearity``
        must stay ``"auto"`` (anything else is a ``ValueError``):
        :meth:`predict_proba` is always the softmax of the adjusted logits. With
        ``warm_start=True``, ``fit`` continues training the network on data
        with the same classes and sample shape (a change is a ``ValueError``)
        and the loss follows the new class counts.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    class_counts_ : ndarray of shape (n_classes,)
        Training samples per class (of the ``y`` given to ``fit``; the sums of
        the sample weights per class when ``sample_weight`` is given). Where
        those sums leave the float32 range that the losses store them in
        (weights near ``1e308`` or ``5e-324``) they are the sums of
        ``sample_weight / max(sample_weight)``: the same ratios, which is all
        the losses use (``criterion="class_balanced"`` and
        :class:`~sklt.nn.DeferredReweighting` use the counts themselves, and
        raise instead).
    source_prior_ : ndarray of shape (n_classes,)
        The prior that :meth:`predict_proba`'s posteriors are entangled with:
        the loss's entangled prior (class frequencies for cross-entropy, focal
        and LDAM; uniform for balanced softmax and LADE; ...) or ``target_prior``
        when one is set. Post-hoc correctors such as
        :class:`sklt.PriorShiftClassifier` wrapping a ``FrozenEstimator`` of this
        net read it.
    n_features_in_ : int
        ``X.shape[1]`` at fit.
    input_shape_ : tuple
        ``X.shape[1:]`` at fit.
    module_, criterion_, optimizer_, history_
        As in skorch.

    Notes
    -----
    ``predict_proba`` is the softmax of the (adjusted) logits whatever the loss
    (skorch's ``predict_nonlinearity`` stays ``"auto"``); LDAM's logit scale is
    applied. ``predict_proba`` and ``predict_log_proba`` are float64 (computed
    from the network's float32 logits), floored at 2.2e-308 and ``log`` of it,
    so that they are finite and ``predict_log_proba = log(predict_proba)``;
    ``predict`` is their argmax. Inputs are numeric arrays (float64 is cast to
    float32: values beyond float32's range are an error); ``X`` and ``y`` are
    validated with scikit-learn's helpers (NaN is an error). A training loss or
    network weights that become NaN or infinite (divergence) raise a
    ``ValueError``. Models save and load with pickle and skorch's
    ``save_params`` / ``load_params``, also with ``use_safetensors=True``
    (``pip install "sklt[nn]"`` installs safetensors; initialize the new net
    with ``classes`` and the module size arguments, e.g.
    ``module__input_dim``, before loading).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklt.nn import LongTailClassifier
    >>> _ = torch.manual_seed(0)
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["common", "rare"], [90, 10])
    >>> X = rng.normal(size=(100, 2)) + (y == "rare")[:, None] * 2.0
    >>> net = LongTailClassifier(criterion="logit_adjusted", criterion__tau=1.0, max_epochs=5)
    >>> net.fit(X, y).predict(X[:3])
    array(['common', 'common', 'common'], dtype='<U6')
    >>> net.class_counts_
    array([90., 10.])
    >>> net.predict_proba(X[:1]).shape
    (1, 2)
    >>> w = np.where(y == "rare", 9.0, 1.0)  # per-sample weights
    >>> net.fit(X, y, sample_weight=w).class_counts_
    array([90., 90.])
    """

    prefixes_ = NeuralNetClassifier.prefixes_ + ["augmentation"]

    def __init__(
        self,
        module=MLP,
        *,
        criterion="cross_entropy",
        target_prior=None,
        augmentation=None,
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=20,
        batch_size=128,
        train_split=None,
        verbose=0,
        classes=None,
        random_state=None,
        **kwargs,
    ):
        kwargs.setdefault("iterator_train__shuffle", True)
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            verbose=verbose,
            classes=classes,
            **kwargs,
        )
        self.target_prior = target_prior
        self.augmentation = augmentation
        self.random_state = random_state

    def _get_param_names(self):
        # skorch lists every public attribute; leave out its private bookkeeping.
        return [k for k in super()._get_param_names() if not k.startswith("_")]

    @contextlib.contextmanager
    def _seeded(self, offset_by_history=False):
        """Run with torch's global RNG seeded from ``random_state``, then restore it."""
        if self.random_state is None:
            yield
            return
        if isinstance(self.random_state, numbers.Integral) and not isinstance(
            self.random_state, bool
        ):
            seed = int(self.random_state)
        else:
            seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        if offset_by_history and self.initialized_ and self.history_ is not None:
            # Later partial_fit calls: a different, still reproducible, stream.
            seed = (seed + len(self.history_)) % (2**63 - 1)
        device = torch.device(self.device) if self.device is not None else torch.device("cpu")
        devices = []
        if device.type == "cuda":
            devices = [device.index if device.index is not None else torch.cuda.current_device()]
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    @property
    def _default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("valid_acc", EpochScoring(_encoded_accuracy, name="valid_acc",
                                       lower_is_better=False)),
            ("print_log", PrintLog()),
        ]

    # ------------------------------------------------------------------ data
    def _validate_X(self, X, reset):
        if isinstance(X, list | tuple):
            _as_array(X, "X")  # a ragged nested list is named, not NumPy's message
        X = validate_data(
            self, X, reset=reset, dtype=(np.float32, np.float64), allow_nd=True,
        )
        check_finite_float32(X)
        shape = getattr(self, "input_shape_", None)
        if shape is not None and tuple(X.shape[1:]) != shape:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but {type(self).__name__} was "
                f"fitted on samples of shape {shape}."
            )
        return X.astype(np.float32, copy=False)

    def _validate_hyperparameters(self):
        """Check the skorch parameters sklt relies on; errors name the parameter."""
        check_int(self.max_epochs, "max_epochs", low=1)
        batch_size = check_int(self.batch_size, "batch_size", low=-1, high=sys.maxsize)
        if batch_size == 0 or batch_size < -1:
            raise ValueError(
                f"batch_size must be a positive int, or -1 for one batch of all the data; got "
                f"{self.batch_size!r}."
            )
        # the optimisers step float32 parameters by lr times a float32 quantity
        check_real(self.lr, "lr", low=0.0, high=F32_MAX, low_open=True)
        try:
            check_random_state(self.random_state)
        except (TypeError, ValueError):
            raise ValueError(
                f"random_state must be None, an int or a numpy RandomState; got "
                f"{self.random_state!r}."
            ) from None
        if not (isinstance(self.predict_nonlinearity, str)
                and self.predict_nonlinearity == "auto"):
            raise ValueError(
                f"predict_nonlinearity must be 'auto'; got {self.predict_nonlinearity!r}. "
                f"{type(self).__name__}.predict_proba is always the softmax of the logits "
                "(moved to target_prior when set, scaled by LDAM's logit scale), so that it "
                "agrees with predict and predict_log_proba; for the raw logits use "
                "net.forward(X)."
            )
        if self.classes is not None and np.size(self.classes) == 0:
            raise ValueError(
                "classes must be None (the labels of y) or a non-empty array of labels; got "
                f"{self.classes!r}."
            )
        for param in ("module", "optimizer"):
            value = getattr(self, param)
            if isinstance(value, str):
                raise TypeError(
                    f"{param} must be a class (or, for module, an instance) such as "
                    f"{'sklt.nn.MLP' if param == 'module' else 'torch.optim.Adam'}, as in "
                    f"skorch; got the string {value!r}."
                )
        if self.train_split is not None and not callable(self.train_split):
            raise TypeError(
                f"train_split must be None or a callable such as "
                f"skorch.dataset.ValidSplit(0.2); got {self.train_split!r}."
            )

    def _prepare_fit(self, X, y, reset, classes=None, sample_weight=None, warm=False):
        """Validate ``X``, ``y`` and ``sample_weight``; set classes and class counts.

        ``reset``: a first fit (classes and shapes come from this data).
        ``warm``: a ``fit`` with ``warm_start=True`` on an initialised net: the
        classes and the sample shape must stay those of the network.
        """
        if isinstance(X, list | tuple):
            _as_array(X, "X")
        if isinstance(y, list | tuple):
            y = _as_array(y, "y")
        if getattr(getattr(y, "dtype", None), "kind", None) == "c":
            _estimator_labels(np.ravel(y))  # complex labels: named before NumPy's dump
        X, y = validate_data(
            self, X, y, reset=reset and not warm, dtype=(np.float32, np.float64),
            allow_nd=True,
        )
        check_finite_float32(X)
        X = X.astype(np.float32, copy=False)
        # numbers in an object array (scikit-learn: an 'unknown' target) keep their dtype;
        # complex labels are named
        y = _estimator_labels(y) if getattr(y, "ndim", 0) == 1 else y
        check_classification_targets(y)
        if reset:
            if classes is None and self.classes is not None and len(self.classes):
                classes = self.classes
            classes = np.unique(y) if classes is None else np.asarray(classes)
            if classes.ndim != 1 or len(np.unique(classes)) != len(classes):
                raise ValueError(
                    f"classes must be a 1-D array of distinct labels; got "
                    f"{_format_classes(classes.ravel())}."
                )
            if len(classes) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes; got 1 class "
                    f"{_format_classes(classes)} in y."
                )
            if warm:
                old = np.asarray(self.classes_inferred_)
                if old.shape != classes.shape or np.any(old != classes):
                    raise ValueError(
                        f"warm_start=True continues training the fitted network, whose output "
                        f"has the classes {_format_classes(old)}, but y has the classes "
                        f"{_format_classes(classes)}. Set warm_start=False to re-initialise the "
                        "network, or pass classes=[...] (all classes, in a fixed order) to the "
                        "classifier so that every fit has the same outputs."
                    )
                if tuple(X.shape[1:]) != self.input_shape_:
                    raise ValueError(
                        f"warm_start=True continues training the fitted network, whose inputs "
                        f"have {int(np.prod(self.input_shape_))} features (samples of shape "
                        f"{self.input_shape_}), but X has samples of shape "
                        f"{tuple(X.shape[1:])}. Set warm_start=False to re-initialise."
                    )
            self.classes_inferred_ = classes
            self.input_shape_ = tuple(X.shape[1:])
        elif tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but {type(self).__name__} was "
                f"fitted on samples of shape {self.input_shape_}."
            )
        y_enc = self._encode(y)
        weight = None
        if sample_weight is not None:
            raw = check_sample_weight(sample_weight, len(y), normalize=False)
            weight = raw / raw.max()
            weight /= weight.mean()  # mean one: the loss's scale does not change
        if reset:
            counts = np.bincount(y_enc, weights=None if weight is None else raw,
                                 minlength=len(self.classes_)).astype(np.float64)
            positive = counts[counts > 0]
            if ((positive.max() > F32_MAX or positive.min() < F32_TINY)
                    and not self._absolute_counts_matter()):
                # only the counts' ratios matter to the loss: count the heaviest sample
                # as one (exact ratios, in float64)
                counts = np.bincount(y_enc, weights=raw / raw.max(),
                                     minlength=len(self.classes_)).astype(np.float64)
                positive = counts[counts > 0]
            if positive.max() > F32_MAX or positive.min() < F32_TINY:
                raise ValueError(
                    f"sample_weight gives weighted class counts {counts.tolist()} outside the "
                    f"float32 range [{F32_TINY:.3g}, {F32_MAX:.3g}] that the losses store them "
                    "in. Rescale sample_weight (criterion='class_balanced' and "
                    "DeferredReweighting use the counts themselves, not only their ratios)."
                )
            self.class_counts_ = counts
        return X, y_enc, weight

    def _encode(self, y):
        return _encode(y, self.classes_, name="y", classes_name="the classes").astype(np.int64)

    def check_data(self, X, y):
        """Data is validated and labels encoded in :meth:`fit` already."""

    @staticmethod
    def _with_weights(X, weight):
        """The skorch input: ``X``, or ``{"X": X, "sample_weight": w}`` with weights."""
        if weight is None:
            return X
        return {_X_KEY: X, _W_KEY: weight.astype(np.float32)}

    def _check_sample_weight_support(self):
        """With sample weights, the criterion and the augmentation must take them."""
        criterion = self.criterion_
        forward = getattr(criterion, "forward", criterion)
        if not _accepts(forward, "sample_weight"):
            raise TypeError(
                f"fit(..., sample_weight=...) needs a criterion whose forward takes "
                f"sample_weight (every sklt loss does); {type(criterion).__name__} does not."
            )
        aug = getattr(self, "augmentation_", None)
        if aug is not None and not _accepts(aug.mix, "sample_weight"):
            raise TypeError(
                f"fit(..., sample_weight=...) with an augmentation needs a mix method that takes "
                f"sample_weight and then returns (X_mixed, Y_soft, weights) (sklt's Mixup, "
                f"Remix and UniMix do); {type(aug).__name__}.mix does not."
            )

    def _check_validation_callbacks(self):
        """Callbacks that read validation scores need a validation split: say so clearly."""
        if self.train_split is not None:
            return
        for name, cb in getattr(self, "callbacks_", []):
            if name in _DEFAULT_VALID_CALLBACKS:
                continue
            monitor = getattr(cb, "monitor", None)
            reads_valid = isinstance(monitor, str) and monitor.startswith("valid")
            scores_valid = isinstance(cb, ScoringBase) and not getattr(cb, "on_train", True)
            if reads_valid or scores_valid:
                what = f"monitors {monitor!r}" if reads_valid else "scores the validation set"
                raise ValueError(self._no_validation_message(f"callback {name!r} "
                                                             f"({type(cb).__name__}) {what}"))

    def _no_validation_message(self, what):
        return (
            f"{what}, but there is no validation set: {type(self).__name__} trains on all the "
            "data by default (train_split=None). Pass a split, e.g. "
            "train_split=skorch.dataset.ValidSplit(0.2, stratified=True, random_state=0) (each "
            "class needs a few samples in it), or monitor the training scores instead (e.g. "
            "EarlyStopping(monitor='train_loss'), EpochScoring(..., on_train=True))."
        )

    # ------------------------------------------------------------- training
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Validate ``X`` and ``y``, encode the labels, count classes, and train.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Training inputs (numeric; cast to float32, so values beyond float32's
            range are an error).
        y : array-like of shape (n_samples,)
            Class labels of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (finite, non-negative, not all zero). Each sample's
            loss is multiplied by its weight (normalised to mean one, so that
            scaling all weights does not change the loss), and the class counts
            given to the loss are the sums of the weights per class
            (``class_counts_``): integer weights train as if each sample were
            repeated that many times. Every sklt loss takes them (see
            :mod:`sklt.nn.losses`; for LADE's regulariser, :class:`~sklt.nn.LADELoss`).
        **fit_params : dict
            Passed on to the module's ``forward`` (skorch semantics).

        Returns
        -------
        self : LongTailClassifier
        """
        self._validate_hyperparameters()
        warm = bool(self.warm_start) and self.initialized_ and hasattr(self, "class_counts_")
        X, y_enc, weight = self._prepare_fit(X, y, reset=True, sample_weight=sample_weight,
                                             warm=warm)
        self._target_prior_array()  # validate target_prior before training
        with self._seeded():
            if not warm:
                self.initialize()
            else:  # the loss follows the class counts of this fit
                self._initialize_criterion(reason="class counts of the new fit")
            self._train(X, y_enc, weight, _routing_method="fit", **fit_params)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising.

        The first call (on an uninitialised net) sets the classes (``classes``,
        else the ``classes`` parameter, else those of ``y``) and the class
        counts; later calls keep them.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)
        classes : array-like, default=None
            All classes, for a first call whose ``y`` misses some.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (see :meth:`fit`; normalised to mean one within
            this call, and used for the class counts on the first call).
        **fit_params : dict
            Passed on to the module's ``forward``.

        Returns
        -------
        self : LongTailClassifier
        """
        self._validate_hyperparameters()
        first = not self.initialized_ or not hasattr(self, "class_counts_")
        X, y_enc, weight = self._prepare_fit(X, y, reset=first, classes=classes,
                                             sample_weight=sample_weight)
        with self._seeded(offset_by_history=not first):
            if first:
                self._target_prior_array()
                self.initialize()
            self._train(X, y_enc, weight, **fit_params)
        return self

    def _decode_scoring_targets(self):
        """Let user scoring callbacks compare ``predict`` with the original labels."""
        for name, cb in getattr(self, "callbacks_", []):
            if name in _DEFAULT_VALID_CALLBACKS or not isinstance(cb, ScoringBase):
                continue
            if cb.target_extractor is to_numpy or isinstance(cb.target_extractor, _LabelDecoder):
                cb.target_extractor = _LabelDecoder(self.classes_)

    def _train(self, X, y_enc, weight, **fit_params):
        self._check_validation_callbacks()
        self._decode_scoring_targets()
        if weight is not None:
            self._check_sample_weight_support()
        try:
            NeuralNet.partial_fit(self, self._with_weights(X, weight), y_enc, **fit_params)
        except KeyError as exc:
            if self.train_split is None and "valid" in str(exc):
                raise ValueError(self._no_validation_message(f"A callback reads {exc}")) from exc
            raise
        bad = [name for name, p in self.module_.named_parameters()
               if not bool(torch.all(torch.isfinite(p)))]
        if bad:
            raise ValueError(
                f"Training produced non-finite network weights ({', '.join(bad[:3])}"
                f"{', ...' if len(bad) > 3 else ''}): it diverged. Rescale X (e.g. "
                "sklearn.preprocessing.StandardScaler) or lower lr."
            )

    def initialize(self):
        """Initialise module, criterion, optimizer, callbacks and the augmentation."""
        super().initialize()
        self.initialize_augmentation()
        return self

    def _absolute_counts_matter(self):
        """Whether the class counts' scale matters, not only their ratios: the
        class-balanced loss and deferred re-weighting use the effective number
        ``(1 - beta^n) / (1 - beta)`` of each count ``n``."""
        from sklt.nn.callbacks import DeferredReweighting

        cls = self._criterion_class()
        if cls is not None and issubclass(cls, ClassBalancedLoss):
            return True
        for callback in self.callbacks or ():
            if isinstance(callback, tuple) and len(callback) == 2:
                callback = callback[1]
            if isinstance(callback, DeferredReweighting) or (
                    isinstance(callback, type) and issubclass(callback, DeferredReweighting)):
                return True
        return False

    def _criterion_class(self):
        """The loss class ``criterion`` names (``None`` when it is not a class or name)."""
        criterion = self.criterion
        if isinstance(criterion, str):
            criterion = CRITERIA.get(criterion)
        elif isinstance(criterion, torch.nn.Module):
            criterion = type(criterion)
        return criterion if isinstance(criterion, type) else None

    def _needs_offset_head(self):
        cls = self._criterion_class()
        if cls is None or not issubclass(cls, LongTailLoss):
            return False
        if issubclass(cls, ClassBalancedLoss):
            base = self.get_params_for("criterion").get("base", "cross_entropy")
            cls = CRITERIA.get(base) if isinstance(base, str) else base
            if not isinstance(cls, type):
                return False
        return issubclass(cls, EstimatedOffsetLoss)

    def initialize_module(self):
        """Instantiate the module, inferring its size arguments from the data.

        With ``criterion="estimated_offset"`` a module that is not an
        :class:`~sklt.nn.EstimatedOffsetHead` is wrapped in one: the head
        replaces the last linear layer of an sklt :class:`~sklt.nn.MLP` or
        :class:`~sklt.nn.CNN1d`, and takes any other module's output as the
        features.
        """
        kwargs = self.get_params_for("module")
        module = self.module
        if isinstance(module, type):
            params = inspect.signature(module).parameters
            shape = getattr(self, "input_shape_", None)
            if "n_classes" in params and "n_classes" not in kwargs:
                try:
                    kwargs["n_classes"] = len(self.classes_)
                except AttributeError:
                    pass
            if shape is not None:
                if "input_dim" in params and "input_dim" not in kwargs:
                    kwargs["input_dim"] = int(np.prod(shape))
                if "in_channels" in params and "in_channels" not in kwargs:
                    kwargs["in_channels"] = int(shape[0]) if len(shape) >= 2 else 1
        module_ = self.initialized_instance(module, kwargs)
        if self._needs_offset_head() and not isinstance(module_, EstimatedOffsetHead):
            module_ = self._wrap_in_offset_head(module_)
        self.module_ = module_
        return self

    def _wrap_in_offset_head(self, module_):
        try:
            n_classes = len(self.classes_)
        except AttributeError:
            raise ValueError(
                "criterion='estimated_offset' wraps the module in an EstimatedOffsetHead, which "
                "needs the number of classes: fit the classifier, or pass classes=[...]."
            ) from None
        if hasattr(module_, "_split_head"):
            return EstimatedOffsetHead(module_, n_classes=n_classes)
        shape = getattr(self, "input_shape_", None)
        if shape is None:
            raise ValueError(
                "criterion='estimated_offset' wraps the module in an EstimatedOffsetHead whose "
                "feature size is read from one forward pass: fit the classifier first."
            )
        was_training = module_.training
        param = next(module_.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        module_.eval()
        try:
            with torch.no_grad():
                out = module_(torch.zeros((2, *shape), device=device))
        finally:
            module_.train(was_training)
        if not torch.is_tensor(out) or out.ndim != 2:
            got = type(out).__name__ if not torch.is_tensor(out) else f"shape {tuple(out.shape)}"
            raise ValueError(
                f"criterion='estimated_offset' uses the output of {type(module_).__name__} as the "
                f"features of an EstimatedOffsetHead, which needs a tensor of shape "
                f"(N, n_features); got {got}. Pass module=EstimatedOffsetHead with "
                "module__extractor=<feature extractor> and module__feature_dim."
            )
        return EstimatedOffsetHead(module_, n_classes=n_classes, feature_dim=int(out.shape[1]))

    def initialize_criterion(self):
        """Instantiate the criterion from its name or class, with the class counts."""
        kwargs = self.get_params_for("criterion")
        criterion = self.criterion
        if isinstance(criterion, str):
            if criterion not in CRITERIA:
                raise ValueError(
                    f"Unknown criterion {criterion!r}; valid names are {sorted(CRITERIA)}, "
                    "or pass a loss class."
                )
            criterion = CRITERIA[criterion]
        elif not (isinstance(criterion, type) or isinstance(criterion, torch.nn.Module)
                  or callable(criterion)):
            raise ValueError(
                f"criterion must be a name in {sorted(CRITERIA)}, a class or a module; got "
                f"{criterion!r}."
            )
        if isinstance(criterion, type) and issubclass(criterion, LongTailLoss):
            kwargs = _drop_foreign_hyperparameters(criterion, kwargs)
            if isinstance(kwargs.get("target_prior"), Mapping):
                # A dict {label: weight} is mapped onto the classes (the loss knows indices).
                kwargs["target_prior"] = check_prior(
                    kwargs["target_prior"], self.classes_, name="criterion__target_prior"
                )
        if isinstance(criterion, type) and issubclass(criterion, LongTailLoss) \
                and "class_counts" not in kwargs:
            counts = getattr(self, "class_counts_", None)
            if counts is None:
                try:
                    counts = np.ones(len(self.classes_))
                except AttributeError:
                    raise ValueError(
                        f"{criterion.__name__} needs the class counts: fit the classifier, or "
                        "pass classes=... to initialize it without data."
                    ) from None
            kwargs["class_counts"] = counts
        self.criterion_ = self.initialized_instance(criterion, kwargs)
        return self

    def initialize_augmentation(self):
        """Instantiate (or copy) the augmentation with its ``augmentation__*`` parameters."""
        aug = self.augmentation
        kwargs = self.get_params_for("augmentation")
        if aug is None:
            if kwargs:
                raise ValueError(
                    f"augmentation__* parameters {sorted(kwargs)} were given but augmentation "
                    "is None."
                )
            self.augmentation_ = None
            return self
        if isinstance(aug, type):
            aug = aug(**kwargs)
        else:
            aug = clone(aug, safe=False)
            if kwargs:
                aug.set_params(**kwargs)
        if not callable(getattr(aug, "mix", None)):
            raise TypeError(
                f"augmentation must have a method mix(X, y, *, class_counts, epoch); got "
                f"{type(aug).__name__}."
            )
        self.augmentation_ = aug
        return self

    def get_params(self, deep=True, **kwargs):
        """Parameters, with ``augmentation__*`` values set on the net taking precedence."""
        params = super().get_params(deep=deep, **kwargs)
        if deep:
            params.update(
                (k, v) for k, v in vars(self).items() if k.startswith("augmentation__")
            )
        return params

    @property
    def classes_(self):
        """Labels of the network's outputs, fixed by ``fit`` (scikit-learn's convention).

        skorch reads the ``classes`` parameter here, so ``set_params(classes=...)``
        after ``fit`` would relabel the trained outputs; here it takes effect at the
        next ``fit``. Before the first ``fit``, skorch's answer (``classes`` if given).
        """
        fitted = self.__dict__.get("classes_inferred_")
        if fitted is not None:
            return fitted
        return NeuralNetClassifier.classes_.fget(self)

    def set_params(self, **kwargs):
        """Set parameters; ``augmentation__*`` go to the augmentation (re-initialised).

        As in skorch, ``module``/``module__*`` and ``criterion``/``criterion__*``
        re-initialise the network or the loss at once: on a fitted classifier
        that discards the training (a warning says so) until the next ``fit``.
        """
        aug_params = {k: v for k, v in kwargs.items() if k.startswith("augmentation__")}
        rest = {k: v for k, v in kwargs.items() if k not in aug_params}
        reset = sorted(k for k in rest if k in ("module", "criterion")
                       or k.startswith(("module__", "criterion__")))
        if reset and self.initialized_ and "classes_inferred_" in self.__dict__:
            warnings.warn(
                f"set_params({', '.join(reset)}) re-initialises the fitted "
                f"{type(self).__name__}'s network or loss (skorch's behaviour): until the next "
                "fit its predictions come from untrained weights, or move the logits by the "
                "prior of a loss the network was not trained with. Call fit again, or set "
                "these parameters before fitting (target_prior can be changed after fit).",
                UserWarning,
                stacklevel=2,
            )
        # skorch's set_params has no branch for re-initialising a fitted net's augmentation
        # ("Something went wrong"): set it here and re-initialise it below
        new_augmentation = "augmentation" in rest
        augmentation = rest.pop("augmentation", None)
        super().set_params(**rest)
        if new_augmentation:
            self.augmentation = augmentation
        for key, val in aug_params.items():
            setattr(self, key, val)
            self._params_to_validate.add(key)
        if self.initialized_ and (aug_params or new_augmentation):
            self.initialize_augmentation()
        return self

    def _class_counts_tensor(self):
        counts = getattr(self.criterion_, "class_counts", None)
        if not torch.is_tensor(counts):
            counts = torch.as_tensor(self.class_counts_, dtype=torch.float32)
        return counts.to(self.device)

    def infer(self, x, **fit_params):
        """Forward pass of one batch; the sample weights (if any) are not given to the module."""
        if isinstance(x, Mapping) and _W_KEY in x and _X_KEY in x:
            x = x[_X_KEY]
        return super().infer(x, **fit_params)

    def train_step_single(self, batch, **fit_params):
        """One training step; applies the augmentation (if any) before the forward pass."""
        self._set_training(True)
        Xi, yi = self._augmented_batch(*unpack_data(batch))
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def _augmented_batch(self, Xi, yi):
        """The training batch after the augmentation (the batch itself without one).

        A subclass that replaces :meth:`train_step_single` must pass its batch
        through this method: :meth:`train_step` raises when ``augmentation`` is
        set and a step did not.
        """
        aug = getattr(self, "augmentation_", None)
        if aug is None and self.augmentation is not None:
            raise RuntimeError(
                f"augmentation={self.augmentation!r} was not initialised: the initialize() of "
                f"{type(self).__name__} does not call LongTailClassifier.initialize (skorch's "
                "AccelerateMixin replaces it). Use sklt.nn.AcceleratedLongTailClassifier for "
                "Accelerate."
            )
        if aug is not None:
            self._augmented_steps = getattr(self, "_augmented_steps", 0) + 1
            weighted = isinstance(Xi, Mapping) and _W_KEY in Xi
            X_batch = to_tensor(Xi[_X_KEY] if weighted else Xi, device=self.device)
            yi = to_tensor(yi, device=self.device)
            kwargs = {"class_counts": self._class_counts_tensor(), "epoch": len(self.history) - 1}
            if weighted:
                kwargs["sample_weight"] = to_tensor(Xi[_W_KEY], device=self.device)
            mixed = aug.mix(X_batch, yi, **kwargs)
            if mixed is not None:
                if weighted:
                    X_mixed, yi, w_mixed = mixed
                    Xi = {_X_KEY: X_mixed, _W_KEY: w_mixed}
                else:
                    Xi, yi = mixed
            else:
                Xi = {_X_KEY: X_batch, _W_KEY: kwargs["sample_weight"]} if weighted else X_batch
        return Xi, yi

    def train_step(self, batch, **fit_params):
        """skorch's training step, then a check that the loss is finite."""
        before = getattr(self, "_augmented_steps", 0)
        step = super().train_step(batch, **fit_params)
        if self.augmentation is not None and getattr(self, "_augmented_steps", 0) == before:
            raise RuntimeError(
                f"augmentation={self.augmentation!r} was not applied: the training step of "
                f"{type(self).__name__} does not pass the batch through "
                "LongTailClassifier._augmented_batch (skorch's AccelerateMixin replaces "
                "train_step_single). Use sklt.nn.AcceleratedLongTailClassifier for Accelerate, "
                "or call self._augmented_batch(Xi, yi) in your train_step_single."
            )
        loss = step["loss"]
        if torch.is_tensor(loss) and not bool(torch.isfinite(loss)):
            params = self.get_params_for("criterion")
            raise ValueError(
                f"The training loss is {loss.item()} at epoch {len(self.history)}: training "
                "diverged or the loss overflows float32. Lower lr, rescale X (e.g. "
                "sklearn.preprocessing.StandardScaler)"
                + (f", or use smaller criterion hyperparameters ({params})" if params else "")
                + "."
            )
        return step

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Criterion on the logits (first module output), or on the whole output.

        Criteria with ``requires_module_output = True`` get the module's full
        output (e.g. ``(logits, features)``); the others get the logits. With
        ``fit(..., sample_weight=w)`` the batch's weights are passed to the
        criterion as ``sample_weight``.
        """
        if isinstance(y_pred, tuple) and not getattr(
            self.criterion_, "requires_module_output", False
        ):
            y_pred = y_pred[0]
        y_true = to_tensor(y_true, device=self.device)
        if isinstance(X, Mapping) and _W_KEY in X:
            weight = to_tensor(X[_W_KEY], device=self.device)
            return self.criterion_(y_pred, y_true, sample_weight=weight)
        return self.criterion_(y_pred, y_true)

    def load_params(self, *args, **kwargs):
        """skorch's ``load_params``; ``class_counts_`` follows the loaded criterion."""
        super().load_params(*args, **kwargs)
        counts = getattr(getattr(self, "criterion_", None), "class_counts", None)
        if torch.is_tensor(counts):
            self.class_counts_ = counts.detach().cpu().numpy().astype(np.float64)
        return self

    # ------------------------------------------------------------ inference
    def _entangled_log_prior(self):
        criterion = self.criterion_
        if hasattr(criterion, "entangled_log_prior"):
            log_prior = to_numpy(criterion.entangled_log_prior()).astype(np.float64)
        else:
            counts = getattr(self, "class_counts_", None)
            if counts is None:
                raise ValueError(
                    f"Cannot tell which prior the logits of {type(criterion).__name__} are "
                    "entangled with: fit the classifier first."
                )
            with np.errstate(divide="ignore"):
                log_prior = np.log(np.asarray(counts, dtype=np.float64) / np.sum(counts))
            log_prior = np.maximum(log_prior, np.log(np.finfo(np.float32).tiny))
        return log_prior

    def _target_prior_array(self):
        if self.target_prior is None:
            return None
        return check_prior(self.target_prior, self.classes_, name="target_prior")

    @property
    def source_prior_(self):
        """Prior the posteriors of :meth:`predict_proba` are entangled with."""
        check_is_fitted(self)
        target = self._target_prior_array()
        if target is not None:
            return target
        return self._entangled_prior()

    def _entangled_prior(self):
        """Normalised entangled prior; classes whose log-prior sits at the floor are 0."""
        log_prior = self._entangled_log_prior()
        prior = np.exp(log_prior - log_prior.max())
        prior[prior <= 2 * np.finfo(np.float32).tiny] = 0.0
        return prior / prior.sum()

    def _forward_logits(self, X):
        chunks = []
        for out in self.forward_iter(X, training=False):
            out = out[0] if isinstance(out, tuple) else out
            chunks.append(to_numpy(out))
        return np.concatenate(chunks, axis=0)

    def _log_proba(self, X):
        """Float64 log-posteriors, floored at log(tiny) (see :meth:`predict_log_proba`)."""
        check_is_fitted(self)
        if not is_dataset(X):
            X = self._validate_X(X, reset=False)
        logits = self._forward_logits(X)
        finite = np.isfinite(logits).all(axis=1)
        if not finite.all():
            raise ValueError(
                f"The network returned NaN or infinite logits for {int((~finite).sum())} of "
                f"{len(logits)} rows (float32 overflow inside the network): rescale X (e.g. "
                "sklearn.preprocessing.StandardScaler) or retrain with a lower lr."
            )
        scale = float(getattr(self.criterion_, "logit_scale", 1.0))
        target = self._target_prior_array()
        source = None
        if target is not None:
            source = self._entangled_prior()
            if np.any(source == 0):
                raise ValueError(
                    f"The logits of classes {_format_classes(self.classes_[source == 0])} are "
                    "entangled with a zero prior (no training samples), so they cannot be moved "
                    "to target_prior. Use a loss entangled with the uniform prior "
                    "(balanced_softmax, lade) or set target_prior=None."
                )
        log_proba = adjust_logits(
            logits.astype(np.float64), source, target, temperature=1.0 / scale,
            output="log_proba",
        )
        return log_proba_and_proba(log_proba)

    def predict_proba(self, X):
        """Posteriors: softmax of the logits, moved to ``target_prior`` when set.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
            ``exp(predict_log_proba(X))``: probabilities below 2.2e-308 (the
            smallest normal float64) are reported as 2.2e-308, never 0.
        """
        return self._log_proba(X)[1]

    def predict_log_proba(self, X):
        """Log-posteriors (log-softmax of the, possibly adjusted, logits).

        Computed in float64 from the network's float32 logits and floored at
        ``log(2.2e-308) = -708.4``, so that they are finite and equal
        ``log(predict_proba(X))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes), float64
        """
        return self._log_proba(X)[0]

    def predict(self, X):
        """Most probable class labels (original labels, not their codes).

        The argmax of :meth:`predict_proba`, so the two agree on every row.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self._log_proba(X)[1]
        return np.asarray(self.classes_)[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags

"""``LongTailClassifier``: a skorch classifier whose long-tail loss is a hyperparameter."""

import contextlib
import inspect
import numbers

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import EpochScoring, EpochTimer, PassthroughScoring, PrintLog
from skorch.dataset import unpack_data
from skorch.utils import is_dataset, to_numpy, to_tensor

from sklt._utils import _encode
from sklt.adjust import adjust_logits
from sklt.nn.losses import _BASE_LOSSES, ClassBalancedLoss, LongTailLoss
from sklt.nn.modules import MLP
from sklt.nn.offset import CRITERIA as _OFFSET_CRITERIA
from sklt.priors import _format_classes, check_prior

__all__ = ["LongTailClassifier"]

CRITERIA = {**_BASE_LOSSES, "class_balanced": ClassBalancedLoss, **_OFFSET_CRITERIA}


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


def _encoded_accuracy(net, X, y):
    """Accuracy on the encoded labels a skorch validation dataset holds."""
    pred = net._forward_logits(X).argmax(axis=1)
    return float(np.mean(pred == to_numpy(y).astype(np.int64)))


class LongTailClassifier(NeuralNetClassifier):
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
        or ``"estimated_offset"`` (with ``module=EstimatedOffsetHead``, see
        :mod:`sklt.nn.offset`), or a class. sklt loss classes receive
        ``class_counts`` (counted from ``y`` at fit); hyperparameters go in
        ``criterion__*`` (``criterion__tau``, ``criterion__gamma``, ...) and are
        validated at fit. A hyperparameter of another sklt loss is ignored
        (so one grid can span several losses); an unknown name is an error.
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
        training steps only. Its parameters are reachable as
        ``augmentation__*`` (``set_params``, ``GridSearchCV``); a copy is used,
        as ``augmentation_``.
    optimizer : torch optimizer class, default=torch.optim.Adam
    lr : float, default=0.01
    max_epochs : int, default=20
    batch_size : int, default=128
    train_split : None or callable, default=None
        No internal validation split by default: skorch's stratified
        ``ValidSplit(5)`` fails when a class has fewer than 5 samples, which is
        common in long-tailed data. Pass e.g. ``skorch.dataset.ValidSplit(0.1)``
        to get ``valid_loss`` and ``valid_acc``.
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
        ``iterator_train__*``, ``optimizer__*``, ...). ``iterator_train__shuffle``
        defaults to True.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    class_counts_ : ndarray of shape (n_classes,)
        Training samples per class (of the ``y`` given to ``fit``).
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
    (skorch's ``predict_nonlinearity`` is not used); LDAM's logit scale is
    applied. Inputs are numeric arrays (float64 is cast to float32); ``X`` and
    ``y`` are validated with scikit-learn's helpers (NaN is an error).
    Models save and load with pickle and skorch's ``save_params`` /
    ``load_params`` (initialize the new net with ``classes`` and the module
    size arguments, e.g. ``module__input_dim``, before loading).

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
        X = validate_data(
            self, X, reset=reset, dtype=(np.float32, np.float64), allow_nd=True,
        )
        shape = getattr(self, "input_shape_", None)
        if shape is not None and tuple(X.shape[1:]) != shape:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but {type(self).__name__} was "
                f"fitted on samples of shape {shape}."
            )
        return X.astype(np.float32, copy=False)

    def _prepare_fit(self, X, y, reset, classes=None):
        X, y = validate_data(
            self, X, y, reset=reset, dtype=(np.float32, np.float64), allow_nd=True,
        )
        X = X.astype(np.float32, copy=False)
        check_classification_targets(y)
        if reset:
            if classes is None and self.classes is not None and len(self.classes):
                classes = self.classes
            classes = np.unique(y) if classes is None else np.asarray(classes)
            if len(classes) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes; got 1 class "
                    f"{_format_classes(classes)} in y."
                )
            self.classes_inferred_ = classes
            self.input_shape_ = tuple(X.shape[1:])
        elif tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but {type(self).__name__} was "
                f"fitted on samples of shape {self.input_shape_}."
            )
        y_enc = self._encode(y)
        if reset:
            self.class_counts_ = np.bincount(y_enc, minlength=len(self.classes_)).astype(
                np.float64
            )
        return X, y_enc

    def _encode(self, y):
        return _encode(y, self.classes_, name="y", classes_name="the classes").astype(np.int64)

    def check_data(self, X, y):
        """Data is validated and labels encoded in :meth:`fit` already."""

    # ------------------------------------------------------------- training
    def fit(self, X, y, **fit_params):
        """Validate ``X`` and ``y``, encode the labels, count classes, and train.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Training inputs (numeric; cast to float32).
        y : array-like of shape (n_samples,)
            Class labels of any type.
        **fit_params : dict
            Passed on to the module's ``forward`` (skorch semantics).

        Returns
        -------
        self : LongTailClassifier
        """
        X, y_enc = self._prepare_fit(X, y, reset=True)
        self._target_prior_array()  # validate target_prior before training
        with self._seeded():
            if not self.warm_start or not self.initialized_:
                self.initialize()
            NeuralNet.partial_fit(self, X, y_enc, _routing_method="fit", **fit_params)
        return self

    def partial_fit(self, X, y, classes=None, **fit_params):
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
        **fit_params : dict
            Passed on to the module's ``forward``.

        Returns
        -------
        self : LongTailClassifier
        """
        first = not self.initialized_ or not hasattr(self, "class_counts_")
        X, y_enc = self._prepare_fit(X, y, reset=first, classes=classes)
        with self._seeded(offset_by_history=not first):
            if first:
                self._target_prior_array()
                self.initialize()
            return NeuralNet.partial_fit(self, X, y_enc, **fit_params)

    def initialize(self):
        """Initialise module, criterion, optimizer, callbacks and the augmentation."""
        super().initialize()
        self.initialize_augmentation()
        return self

    def initialize_module(self):
        """Instantiate the module, inferring its size arguments from the data."""
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
        self.module_ = self.initialized_instance(module, kwargs)
        return self

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

    def set_params(self, **kwargs):
        """Set parameters; ``augmentation__*`` go to the augmentation (re-initialised)."""
        aug_params = {k: v for k, v in kwargs.items() if k.startswith("augmentation__")}
        rest = {k: v for k, v in kwargs.items() if k not in aug_params}
        super().set_params(**rest)
        for key, val in aug_params.items():
            setattr(self, key, val)
            self._params_to_validate.add(key)
        if self.initialized_ and (aug_params or "augmentation" in rest):
            self.initialize_augmentation()
        return self

    def _class_counts_tensor(self):
        counts = getattr(self.criterion_, "class_counts", None)
        if not torch.is_tensor(counts):
            counts = torch.as_tensor(self.class_counts_, dtype=torch.float32)
        return counts.to(self.device)

    def train_step_single(self, batch, **fit_params):
        """One training step; applies the augmentation (if any) before the forward pass."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        aug = getattr(self, "augmentation_", None)
        if aug is not None:
            Xi = to_tensor(Xi, device=self.device)
            yi = to_tensor(yi, device=self.device)
            mixed = aug.mix(
                Xi, yi, class_counts=self._class_counts_tensor(), epoch=len(self.history) - 1
            )
            if mixed is not None:
                Xi, yi = mixed
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Criterion on the logits (first module output), or on the whole output.

        Criteria with ``requires_module_output = True`` get the module's full
        output (e.g. ``(logits, features)``); the others get the logits.
        """
        if isinstance(y_pred, tuple) and not getattr(
            self.criterion_, "requires_module_output", False
        ):
            y_pred = y_pred[0]
        y_true = to_tensor(y_true, device=self.device)
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

    def _adjusted(self, X, output):
        check_is_fitted(self)
        if not is_dataset(X):
            X = self._validate_X(X, reset=False)
        logits = self._forward_logits(X)
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
        return adjust_logits(
            logits, source, target, temperature=1.0 / scale, output=output
        )

    def predict_proba(self, X):
        """Posteriors: softmax of the logits, moved to ``target_prior`` when set.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float32
        """
        return self._adjusted(X, "proba")

    def predict_log_proba(self, X):
        """Log-posteriors (log-softmax of the, possibly adjusted, logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes), float32
        """
        return self._adjusted(X, "log_proba")

    def predict(self, X):
        """Most probable class labels (original labels, not their codes).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        scores = self._adjusted(X, "logits")
        return np.asarray(self.classes_)[scores.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags

"""Default network modules for :class:`~sklt.nn.LongTailClassifier`.

Both return raw logits of shape ``(N, n_classes)``. Their size arguments
(``input_dim`` / ``in_channels`` and ``n_classes``) may be left to ``None``:
:class:`~sklt.nn.LongTailClassifier` fills them in from the data at fit.
"""

import math

import torch
from torch import nn

from sklt.nn._validation import MAX_SIZE, check_int, check_real, check_units

__all__ = ["CNN1d", "MLP"]


def _check_size(value, name):
    if value is None:
        raise ValueError(
            f"{name} is not set: fit the classifier (sizes come from the data) or pass "
            f"module__{name}."
        )
    return check_int(value, name, low=1, high=MAX_SIZE)


def _check_dropout(dropout):
    return check_real(dropout, "dropout", low=0.0, high=1.0, high_open=True)


def _check_input(X, module, n_features=None, name="X", owner=None):
    """A named error for an input a module cannot take (instead of torch's shape or dtype
    error from inside a layer); metadata checks only, no pass over the data."""
    owner = owner or type(module).__name__
    if not isinstance(X, torch.Tensor):
        raise TypeError(
            f"{owner} takes a torch.Tensor {name}; got "
            f"{type(X).__name__}. Convert it with torch.as_tensor({name}) (the sklt "
            "classifiers do this for you)."
        )
    if X.ndim < 2:
        raise ValueError(
            f"{owner} takes a batch {name} of shape (N, ...); got shape "
            f"{tuple(X.shape)}. Reshape a single sample with {name}.unsqueeze(0)."
        )
    if n_features is not None and math.prod(X.shape[1:]) != n_features:
        raise ValueError(
            f"{name} has {math.prod(X.shape[1:])} features per sample (shape "
            f"{tuple(X.shape)}), but {owner} was built for {n_features}."
        )
    weight = next(module.parameters(), None)
    if (weight is not None and X.dtype != weight.dtype and X.is_floating_point()
            and not torch.is_autocast_enabled()):
        raise TypeError(
            f"{name} has dtype {X.dtype} but {owner}'s parameters are "
            f"{weight.dtype}; convert {name} with {name}.to({weight.dtype}) (or the module)."
        )


class _SplitHeadMixin:
    """``_split_head()``: the network without its last linear layer, and that layer's width.

    :class:`~sklt.nn.EstimatedOffsetHead` uses it to put its own head on an sklt
    module (``criterion="estimated_offset"`` with the default module).
    """

    def _split_head(self):
        *trunk, last = self.layers
        return nn.Sequential(*trunk), last.in_features


class MLP(_SplitHeadMixin, nn.Module):
    """Multi-layer perceptron: ``[Linear -> ReLU -> Dropout] * len(hidden_units) -> Linear``.

    Inputs of any shape ``(N, ...)`` are flattened to ``(N, input_dim)``.

    Parameters
    ----------
    input_dim : int
        Number of input features (inferred at fit by the classifier).
    n_classes : int
        Number of outputs (inferred at fit by the classifier).
    hidden_units : int or sequence of int, default=(64,)
        Width of each hidden layer; ``()`` gives a linear model.
    dropout : float, default=0.0
        Dropout probability after each hidden layer, in ``[0, 1)``.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn import MLP
    >>> MLP(input_dim=4, n_classes=3, hidden_units=(8, 8))(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(self, input_dim=None, n_classes=None, hidden_units=(64,), dropout=0.0):
        super().__init__()
        input_dim = _check_size(input_dim, "input_dim")
        n_classes = _check_size(n_classes, "n_classes")
        dropout = _check_dropout(dropout)
        layers = [nn.Flatten()]
        width = input_dim
        for units in check_units(hidden_units, "hidden_units"):
            layers += [nn.Linear(width, units), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = units
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        """Logits of shape ``(N, n_classes)``."""
        _check_input(X, self, self.layers[1].in_features if len(self.layers) > 1 else None)
        return self.layers(X)


class CNN1d(_SplitHeadMixin, nn.Module):
    """Small 1-D convolutional network for signals of shape ``(N, C, L)`` or ``(N, L)``.

    ``[Conv1d(kernel_size, stride 2) -> ReLU] * len(channels)``, adaptive average
    pooling to ``pool_size`` positions, dropout, then a linear layer. Any signal
    length works (at least ``2 ** len(channels)``).

    Parameters
    ----------
    in_channels : int
        Input channels (inferred at fit: ``C`` for 3-D input, 1 for 2-D input).
    n_classes : int
        Number of outputs (inferred at fit).
    channels : int or sequence of int, default=(32, 32)
        Output channels of each convolution (at least one convolution).
    kernel_size : int, default=5
        Convolution width (odd; same padding).
    pool_size : int, default=4
        Positions kept by the final adaptive average pooling.
    dropout : float, default=0.0
        Dropout before the linear layer, in ``[0, 1)``.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn import CNN1d
    >>> CNN1d(in_channels=1, n_classes=10)(torch.zeros(2, 40)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels=None,
        n_classes=None,
        channels=(32, 32),
        kernel_size=5,
        pool_size=4,
        dropout=0.0,
    ):
        super().__init__()
        in_channels = _check_size(in_channels, "in_channels")
        n_classes = _check_size(n_classes, "n_classes")
        kernel_size = _check_size(kernel_size, "kernel_size")
        if kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size must be odd (same padding keeps the length); got {kernel_size}."
            )
        pool_size = _check_size(pool_size, "pool_size")
        dropout = _check_dropout(dropout)
        self.in_channels_ = in_channels
        layers = []
        width = in_channels
        for out in check_units(channels, "channels", allow_empty=False):
            layers += [
                nn.Conv1d(width, out, kernel_size, stride=2, padding=kernel_size // 2),
                nn.ReLU(),
            ]
            width = out
        layers += [nn.AdaptiveAvgPool1d(pool_size), nn.Flatten()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(width * pool_size, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        """Logits of shape ``(N, n_classes)``; 2-D input is read as one channel."""
        _check_input(X, self)
        shape = tuple(X.shape)
        if X.ndim == 2:
            X = X.unsqueeze(1)
        if X.ndim != 3 or X.shape[1] != self.in_channels_:
            raise ValueError(
                f"X must have shape (N, {self.in_channels_}, length) for CNN1d(in_channels="
                f"{self.in_channels_}) (a 2-D X (N, length) is one channel); got shape "
                f"{shape}."
            )
        return self.layers(X)

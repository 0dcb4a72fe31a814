"""Neural classifiers for long-tailed data, on skorch (needs ``pip install "sklt[nn]"``).

- :mod:`sklt.nn.losses`: long-tail losses, one :class:`torch.nn.Module` each;
- :mod:`sklt.nn.modules`: the default :class:`MLP` and a small :class:`CNN1d`;
- :class:`LongTailClassifier`: a skorch ``NeuralNetClassifier`` whose loss is a
  hyperparameter and which can inject a target prior at inference;
- :mod:`sklt.nn.callbacks`: :class:`DeferredReweighting` (DRW);
- :mod:`sklt.nn.augment`: :class:`Mixup`, :class:`Remix`, :class:`UniMix`;
- :mod:`sklt.nn.offset`: :class:`EstimatedOffsetHead` and its loss
  (``criterion="estimated_offset"``);
- :mod:`sklt.nn.posthoc`: :class:`TauNormalizedClassifier` (τ-normalisation);
- :mod:`sklt.nn.accelerate`: :class:`AcceleratedLongTailClassifier` (Hugging Face
  Accelerate through skorch's ``AccelerateMixin``).
"""

try:
    import skorch  # noqa: F401
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'sklt.nn needs torch and skorch; install them with: pip install "sklt[nn]"'
    ) from exc

from sklt.nn.accelerate import AcceleratedLongTailClassifier
from sklt.nn.augment import Mixup, Remix, UniMix
from sklt.nn.callbacks import DeferredReweighting
from sklt.nn.classifier import LongTailClassifier
from sklt.nn.losses import (
    BalancedSoftmaxLoss,
    BayiasLoss,
    ClassBalancedLoss,
    CrossEntropy,
    FocalLoss,
    LADELoss,
    LDAMLoss,
    LogitAdjustedLoss,
    LongTailLoss,
)
from sklt.nn.modules import MLP, CNN1d
from sklt.nn.offset import EstimatedOffsetHead, EstimatedOffsetLoss
from sklt.nn.posthoc import TauNormalizedClassifier

__all__ = [
    "AcceleratedLongTailClassifier",
    "BalancedSoftmaxLoss",
    "BayiasLoss",
    "CNN1d",
    "ClassBalancedLoss",
    "CrossEntropy",
    "DeferredReweighting",
    "EstimatedOffsetHead",
    "EstimatedOffsetLoss",
    "FocalLoss",
    "LADELoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "LongTailClassifier",
    "LongTailLoss",
    "MLP",
    "Mixup",
    "Remix",
    "TauNormalizedClassifier",
    "UniMix",
]

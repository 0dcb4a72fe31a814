"""sklt: long-tailed and label-shifted classification, native to scikit-learn.

The post-hoc meta-estimators wrap any classifier; the neural classifiers live in
:mod:`sklt.nn` (needs the ``nn`` extra: ``pip install "sklt[nn]"``). Importing
``sklt`` never imports torch.
"""

from .fusion import NoisyOrFusionClassifier
from .offsets import ClassOffsetClassifierCV
from .posthoc import LogitAdjuster, PriorShiftClassifier
from .tuning import LogitAdjusterCV, PriorShiftClassifierCV

__version__ = "0.1.0.dev0"

__all__ = [
    "ClassOffsetClassifierCV",
    "LogitAdjuster",
    "LogitAdjusterCV",
    "NoisyOrFusionClassifier",
    "PriorShiftClassifier",
    "PriorShiftClassifierCV",
    "__version__",
]

"""sklt: long-tailed and label-shifted classification, native to scikit-learn.

The post-hoc meta-estimators wrap any classifier; the neural classifiers live in
:mod:`sklt.nn` (needs the ``nn`` extra: ``pip install "sklt[nn]"``). Importing
``sklt`` never imports torch.
"""

# imbalanced-learn is a core dependency. Importing it adds ``fit_resample`` to
# scikit-learn's metadata-routing method lists, and routing requests built before that
# import break later ("'MetadataRequest' object has no attribute 'fit_resample'"). sklt
# uses it (samplers, the G-mean scorer, the datasets), so it is imported here, once, with
# sklt: every request built after ``import sklt`` is consistent.
import imblearn  # noqa: F401, I001

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

"""The private scikit-learn names sklt uses, imported in one place with guards.

scikit-learn's developer utilities (parameter validation, ``_fit_context``,
metadata-routing helpers, the heterogeneous-ensemble base) are what
scikit-learn-compatible libraries build on, but they are private and move
between releases. sklt imports them only from here. A name that moved is
looked up at each of its known homes (``_VisualBlock`` moved in scikit-learn
1.7); one that is missing raises an ``ImportError`` that says which
scikit-learn sklt needs, instead of failing deep in a module. ``make
test-min`` runs the suite on the oldest supported scikit-learn, so every name
here is exercised at both ends of the supported range.
"""

import importlib

import sklearn
from sklearn import get_config

__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "RealNotInt",
    "StrOptions",
    "_BaseHeterogeneousEnsemble",
    "_Scorer",
    "_VisualBlock",
    "_check_method_params",
    "_fit_context",
    "_num_features",
    "_num_samples",
    "_raise_for_params",
    "_safe_indexing",
    "routing_enabled",
]


def _first(name, *modules, required=True):
    """``name`` from the first of ``modules`` that defines it."""
    for module in modules:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    if not required:
        return None
    raise ImportError(
        f"sklt needs scikit-learn >= 1.7: {name} was not found in scikit-learn "
        f"{sklearn.__version__} (looked in {', '.join(modules)}). Install a supported "
        "version: pip install 'scikit-learn>=1.7'."
    )


_fit_context = _first("_fit_context", "sklearn.base")
HasMethods = _first("HasMethods", "sklearn.utils._param_validation")
Interval = _first("Interval", "sklearn.utils._param_validation")
InvalidParameterError = _first("InvalidParameterError", "sklearn.utils._param_validation")
RealNotInt = _first("RealNotInt", "sklearn.utils._param_validation")
StrOptions = _first("StrOptions", "sklearn.utils._param_validation")
_safe_indexing = _first("_safe_indexing", "sklearn.utils", "sklearn.utils._indexing")
_check_method_params = _first("_check_method_params", "sklearn.utils.validation")
_num_samples = _first("_num_samples", "sklearn.utils.validation")
_num_features = _first("_num_features", "sklearn.utils.validation")
# ClassOffsetClassifierCV sweeps the scorers it can compute exactly from a confusion matrix
_Scorer = _first("_Scorer", "sklearn.metrics._scorer")
_raise_for_params = _first(
    "_raise_for_params", "sklearn.utils.metadata_routing", "sklearn.utils._metadata_requests"
)
_BaseHeterogeneousEnsemble = _first("_BaseHeterogeneousEnsemble", "sklearn.ensemble._base")
# Only for the HTML diagram of NoisyOrFusionClassifier: optional.
_VisualBlock = _first(
    "_VisualBlock",
    "sklearn.utils._repr_html.estimator",  # scikit-learn >= 1.7
    "sklearn.utils._estimator_html_repr",  # scikit-learn 1.6
    required=False,
)


def routing_enabled():
    """Whether metadata routing is enabled (``sklearn.set_config``), from the public config."""
    return bool(get_config().get("enable_metadata_routing", False))

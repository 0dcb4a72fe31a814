"""Metadata routing in a fresh interpreter, with routing enabled before anything imports
imbalanced-learn.

Importing imbalanced-learn adds ``fit_resample`` to scikit-learn's routing method lists;
routing requests created before that import then break (``'MetadataRequest' object has no
attribute 'fit_resample'``). sklt imports imbalanced-learn with ``import sklt``, so that it
never triggers that import in the middle of a session (not in fit, not in a
scorer). The rest of the test suite imports imbalanced-learn at collection time and so
cannot see this: the script below runs in its own interpreter.
"""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    import sklearn
    sklearn.set_config(enable_metadata_routing=True)

    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score, make_scorer
    from sklearn.model_selection import GridSearchCV, cross_validate

    from sklt import LogitAdjuster, LogitAdjusterCV, PriorShiftClassifier, PriorShiftClassifierCV

    assert "imblearn" in sys.modules, "import sklt must import imbalanced-learn up front"
    from sklt.metrics import get_scorer

    X, y = make_classification(n_samples=300, n_classes=3, n_informative=4,
                               weights=[0.7, 0.2, 0.1], random_state=0)
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))

    def inner():
        return LogisticRegression().set_fit_request(sample_weight=True)

    def scorer():
        return make_scorer(balanced_accuracy_score).set_score_request(sample_weight=True)

    corrector = PriorShiftClassifier(inner()).set_fit_request(sample_weight=True)
    tuner = LogitAdjusterCV(inner(), taus=5, cv=3, scoring=scorer())
    tuner.set_fit_request(sample_weight=True)
    for _ in range(2):  # the second fit is where the crash was
        corrector.fit(X, y, sample_weight=w)
        tuner.fit(X, y, sample_weight=w)
    # the weights reached the inner fit: an unweighted refit differs
    plain = PriorShiftClassifier(LogisticRegression()).fit(X, y)
    assert not np.allclose(plain.estimator_.coef_, corrector.estimator_.coef_)

    for est, grid in [
        (LogitAdjuster(inner()).set_fit_request(sample_weight=True), {"tau": [0.0, 1.0]}),
        (PriorShiftClassifierCV(inner(), lams=5, cv=3, scoring=scorer())
         .set_fit_request(sample_weight=True), {"temperature": [1.0, 2.0]}),
    ]:
        for _ in range(2):
            search = GridSearchCV(est, grid, cv=3, scoring=scorer())
            search.fit(X, y, sample_weight=w)
            assert search.best_params_
            res = cross_validate(est, X, y, cv=3, scoring=scorer(),
                                 params={"sample_weight": w})
            assert len(res["test_score"]) == 3
            # sklt's own scorers (the G-mean uses imbalanced-learn) under routing
            gmean = get_scorer("geometric_mean").set_score_request(sample_weight=True)
            res = cross_validate(est, X, y, cv=3, scoring=gmean,
                                 params={"sample_weight": w})
            assert np.all(np.isfinite(res["test_score"]))
    print("routing ok")
    """
)


def test_metadata_routing_in_a_fresh_interpreter():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "routing ok" in result.stdout

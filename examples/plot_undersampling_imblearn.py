"""
======================================================================
Under-sampling with imbalanced-learn, then correcting the prior back
======================================================================

Random under-sampling makes training on a large imbalanced data set fast, but
the model then learns the *resampled* (balanced) class prior: its probabilities
over-predict the rare classes on data with the original frequencies
(imbalanced-learn issue #1128). :class:`sklt.PriorShiftClassifier` around the
resampling pipeline knows the prior the model was fit on (it reads it from the
sampler) and, with ``target_prior="auto"``, corrects the posteriors back to the
class frequencies of the full training labels (Tian et al. 2020, eq. 5;
``lam=1`` is the exact Bayes correction). A reliability diagram
(:class:`sklt.plotting.ReliabilityDisplay`) shows the effect.
"""

# %%
# An imbalanced problem with three classes: 88%, 10% and 2%.
import matplotlib.pyplot as plt
import numpy as np
from imblearn.pipeline import make_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, balanced_accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from sklt import PriorShiftClassifier
from sklt.metrics import expected_calibration_error
from sklt.plotting import ReliabilityDisplay

X, y = make_classification(n_samples=30_000, n_classes=3, n_features=10, n_informative=6,
                           weights=[0.88, 0.10, 0.02], class_sep=0.8, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                    random_state=0)
print("training counts:", np.bincount(y_train))

# %%
# Under-sample to the smallest class (491 samples of each class instead of 21,000)
# and train a random forest on what is left. The same pipeline, wrapped in
# ``PriorShiftClassifier(..., target_prior="auto")``, is corrected back to the
# original frequencies; with the default ``target_prior="uniform"`` it would
# predict for a balanced test set instead.
forest = RandomForestClassifier(n_estimators=100, min_samples_leaf=3, random_state=0)
undersampled = make_pipeline(RandomUnderSampler(random_state=0), forest)
corrected = PriorShiftClassifier(undersampled, target_prior="auto").fit(X_train, y_train)
resampled_model = corrected.estimator_   # the fitted under-sampled pipeline

print("prior the model was fit on:", np.round(corrected.source_prior_, 3))
print("prior corrected to:        ", np.round(corrected.target_prior_, 3))

# %%
# Reliability on test data with the original frequencies
# ------------------------------------------------------
# The under-sampled model is badly calibrated for the real class frequencies;
# after the correction its confidence matches its accuracy again.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
ReliabilityDisplay.from_estimator(resampled_model, X_test, y_test, n_bins=10,
                                  name="under-sampled", ax=axes[0], show_counts=True)
ReliabilityDisplay.from_estimator(corrected, X_test, y_test, n_bins=10,
                                  name="corrected back", ax=axes[1], color="tab:green",
                                  show_counts=True)
axes[0].set_title("RandomUnderSampler + forest")
axes[1].set_title('PriorShiftClassifier(..., target_prior="auto")')
fig.tight_layout()

# %%
# The numbers
# -----------
# The correction fixes calibration and accuracy on data with the original
# frequencies; the balanced accuracy, which weighs every class equally, is
# what the under-sampled model was implicitly built for.
for name, clf in [("under-sampled", resampled_model), ("corrected back", corrected)]:
    proba = clf.predict_proba(X_test)
    pred = clf.predict(X_test)
    print(f"{name:>15}: accuracy {accuracy_score(y_test, pred):.3f}, "
          f"balanced accuracy {balanced_accuracy_score(y_test, pred):.3f}, "
          f"log loss {log_loss(y_test, proba):.3f}, "
          f"ECE {expected_calibration_error(y_test, proba):.3f}")

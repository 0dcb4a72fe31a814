"""skorch callbacks for long-tail training."""

from skorch.callbacks import Callback

from sklt.nn._validation import check_int, check_real
from sklt.nn.losses import class_balanced_weights

__all__ = ["DeferredReweighting"]


class DeferredReweighting(Callback):
    """Deferred re-weighting (DRW, Cao et al. 2019): class-balanced weights from an epoch on.

    Before ``start_epoch`` the criterion trains unweighted; from epoch
    ``start_epoch`` (0-based) on, each sample's loss is weighted by the
    class-balanced weight ``(1 - beta) / (1 - beta^{n_y})`` of its class
    (:func:`sklt.nn.losses.class_balanced_weights`). Works with every sklt loss
    (it sets the criterion's ``class_weight`` buffer); LDAM-DRW is
    ``criterion="ldam"`` with this callback. As the weights change the
    criterion's entangled prior, ``target_prior`` injection stays correct.

    Parameters
    ----------
    start_epoch : int, default=160
        First epoch (0-based; epoch ``e`` is ``len(net.history) - 1`` while it
        runs) trained with the weights. The LDAM paper uses 160 of 200.
    beta : float, default=0.9999
        In ``[0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklt.nn import LongTailClassifier, DeferredReweighting
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3)).astype("float32"); y = np.r_[[0] * 50, [1] * 10]
    >>> net = LongTailClassifier(criterion="ldam", criterion__scale=1.0, max_epochs=3,
    ...                          callbacks=[("drw", DeferredReweighting(start_epoch=2))])
    >>> net.fit(X, y).criterion_.class_weight.round(decimals=2)
    tensor([0.3300, 1.6700])
    """

    def __init__(self, start_epoch=160, beta=0.9999):
        self.start_epoch = start_epoch
        self.beta = beta

    def initialize(self):
        """Validate the parameters."""
        check_int(self.start_epoch, "start_epoch", low=0)
        check_real(self.beta, "beta", low=0.0, high=1.0, high_open=True)
        return self

    def on_epoch_begin(self, net, **kwargs):
        """Switch the criterion's class weights on or off for this epoch."""
        criterion = net.criterion_
        if not hasattr(criterion, "set_class_weight"):
            raise TypeError(
                "DeferredReweighting needs an sklt loss (with set_class_weight); got "
                f"{type(criterion).__name__}."
            )
        epoch = len(net.history) - 1
        if epoch >= self.start_epoch:
            criterion.set_class_weight(class_balanced_weights(criterion.class_counts, self.beta))
        else:
            criterion.set_class_weight(None)

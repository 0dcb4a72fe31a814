"""``LongTailClassifier`` trained with Hugging Face Accelerate (skorch's ``AccelerateMixin``).

skorch integrates `Accelerate <https://huggingface.co/docs/accelerate>`_ (mixed
precision, several GPUs or machines) through :class:`skorch.hf.AccelerateMixin`
(experimental in skorch). Mixed into :class:`~sklt.nn.LongTailClassifier` as is,
it would

- wrap sklt's losses in ``DistributedDataParallel``, which refuses modules
  without trainable parameters (the losses hold the class counts as buffers),
  on Accelerate's multi-CPU path; and
- replace the classifier's ``initialize`` and training step, so that an
  ``augmentation`` (mixup, UniMix) would never be applied.

:class:`AcceleratedLongTailClassifier` does both right. Importing this module
does not import ``accelerate``; constructing the classifier needs an
``accelerate.Accelerator`` (``pip install "sklt[scale]"``).
"""

import torch
from skorch.dataset import unpack_data
from skorch.hf import AccelerateMixin

from sklt.nn.classifier import LongTailClassifier

__all__ = ["AcceleratedLongTailClassifier"]


class AcceleratedLongTailClassifier(AccelerateMixin, LongTailClassifier):
    """:class:`~sklt.nn.LongTailClassifier` trained with Hugging Face Accelerate.

    skorch's :class:`~skorch.hf.AccelerateMixin` on sklt's classifier: pass an
    ``accelerate.Accelerator`` (mixed precision, gradient accumulation, one
    process per device launched with ``accelerate launch`` or
    ``torch.distributed.run``) and leave ``device`` to it. Every parameter of
    :class:`~sklt.nn.LongTailClassifier` works as there, including
    ``augmentation`` (the batch is mixed on each process before the forward
    pass, inside the accelerator's autocast). Under data parallelism each
    process must pass all of ``X, y`` to ``fit``: the class counts are those
    of the whole ``y`` on every process, and Accelerate shards the batches.

    sklt's losses have buffers (the class counts) but no trainable parameters:
    they are placed on the accelerator's device without being wrapped in
    ``DistributedDataParallel`` (which refuses modules without parameters).

    Parameters
    ----------
    accelerator : accelerate.Accelerator
        The accelerator, with the desired settings (``mixed_precision``,
        ``gradient_accumulation_steps``, ``cpu=True``, ...).
    device : None, default=None
        Leave ``None``: the accelerator places module, loss and batches.
    unwrap_after_train : bool, default=True
        Restore the module and loss from before ``accelerator.prepare`` after
        training (skorch's default; needed to pickle the net).
    callbacks__print_log__sink : "auto" or callable, default="auto"
        ``"auto"`` prints through ``accelerator.print`` (once, on the main
        process).
    *args, **kwargs
        The parameters of :class:`~sklt.nn.LongTailClassifier`.

    See Also
    --------
    sklt.nn.LongTailClassifier : The classifier without Accelerate.
    skorch.hf.AccelerateMixin : skorch's integration this class builds on.

    Notes
    -----
    What does not carry over exactly from one process to several (LADE's
    batch-estimated regulariser, class-weighted losses) is listed on the
    "Scaling out" page of the documentation.

    Examples
    --------
    >>> import numpy as np
    >>> from accelerate import Accelerator
    >>> from sklt.nn import AcceleratedLongTailClassifier, Mixup
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], [60, 25, 5])
    >>> X = (rng.normal(size=(90, 4)) + y[:, None]).astype(np.float32)
    >>> net = AcceleratedLongTailClassifier(
    ...     accelerator=Accelerator(cpu=True), criterion="logit_adjusted",
    ...     augmentation=Mixup(alpha=0.2), max_epochs=3, random_state=0)
    >>> net.fit(X, y).predict_proba(X[:2]).shape
    (2, 3)
    """

    def initialize(self):
        """Initialise as :class:`~skorch.hf.AccelerateMixin` does, then the augmentation."""
        if not hasattr(self.accelerator, "prepare_model"):
            raise TypeError(
                "accelerator must be an accelerate.Accelerator instance (e.g. "
                f"Accelerator(cpu=True)); got {self.accelerator!r}."
            )
        super().initialize()
        self.initialize_augmentation()
        return self

    def _initialize_callbacks(self):
        """Callbacks; ``callbacks__print_log__sink="auto"`` prints through the accelerator.

        skorch's ``PrintLog`` prints through any sink other than ``print`` whatever
        ``verbose`` is: with ``verbose=0`` (sklt's default) the sink stays ``print``,
        so nothing is printed. The parameter keeps its value ``"auto"``.
        """
        sink = self.callbacks__print_log__sink
        if not (isinstance(sink, str) and sink == "auto"):
            return LongTailClassifier._initialize_callbacks(self)
        self.callbacks__print_log__sink = (
            getattr(self.accelerator, "print", print) if self.verbose else print
        )
        try:
            return LongTailClassifier._initialize_callbacks(self)
        finally:
            self.callbacks__print_log__sink = "auto"

    def _initialize_accelerator(self):
        """``accelerator.prepare`` the module and optimizer; the losses only go to its device."""
        if self._wrapped_with_accelerator:
            return self
        for name in self._criteria:
            criterion = getattr(self, name + "_")
            if isinstance(criterion, torch.nn.Module) and not any(
                p.requires_grad for p in criterion.parameters()
            ):
                setattr(self, name + "_",
                        self.accelerator.prepare_model(criterion, evaluation_mode=True))
        criteria, self._criteria = self._criteria, []
        try:
            return super()._initialize_accelerator()
        finally:
            self._criteria = criteria

    def train_step_single(self, batch, **fit_params):
        """One training step: augmentation, forward pass and loss in autocast, backward."""
        self._set_training(True)
        Xi, yi = self._augmented_batch(*unpack_data(batch))
        with self.accelerator.autocast():
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
            self.accelerator.backward(loss)
        return {"loss": loss, "y_pred": y_pred}

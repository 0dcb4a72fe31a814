"""One process of the data-parallel test of ``tests/test_scale.py`` (not collected by pytest).

Launched twice by ``python -m torch.distributed.run --standalone --nproc_per_node 2``:
each process trains ``LongTailClassifier`` under skorch's ``AccelerateMixin`` on
the same data (Accelerate shards the batches; gloo all-reduces the gradients)
and writes what the parent test checks to ``<out_dir>/<criterion>-rank<r>.json``.
"""

import json
import os
import sys

import numpy as np
import torch
from accelerate import Accelerator

from sklt.nn import AcceleratedLongTailClassifier, Mixup


def data():
    """96 long-tailed samples, 3 classes (64 / 24 / 8)."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [64, 24, 8])
    X = (rng.normal(size=(96, 4)) + y[:, None]).astype(np.float32)
    return X, y


NET_PARAMS = dict(max_epochs=2, iterator_train__shuffle=False, train_split=None, random_state=0,
                  module__hidden_units=(8,), optimizer=torch.optim.SGD, lr=0.1,
                  target_prior=[0.2, 0.3, 0.5])


def main(out_dir, criteria):
    torch.set_num_threads(1)
    accelerator = Accelerator(cpu=True)
    X, y = data()
    for criterion in criteria.split(","):
        extra = {}
        if criterion.endswith("+mixup"):  # the augmentation is applied on every process
            criterion = criterion.removesuffix("+mixup")
            extra = {"augmentation": Mixup(alpha=1.0)}
        net = AcceleratedLongTailClassifier(accelerator=accelerator, criterion=criterion,
                                            batch_size=16, **NET_PARAMS, **extra)
        net.fit(X, y)
        record = {
            "world_size": accelerator.num_processes,
            "distributed_type": str(accelerator.distributed_type),
            "class_counts_": net.class_counts_.tolist(),
            "criterion_class_counts": net.criterion_.class_counts.tolist(),
            "source_prior_": net.source_prior_.tolist(),
            "params": {k: v.detach().cpu().numpy().ravel().tolist()
                       for k, v in net.module_.state_dict().items()},
            "proba": net.predict_proba(X).tolist(),
        }
        name = criterion + ("+mixup" if extra else "")
        path = os.path.join(out_dir, f"{name}-rank{accelerator.process_index}.json")
        with open(path, "w") as f:
            json.dump(record, f)
    accelerator.wait_for_everyone()
    accelerator.end_training()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

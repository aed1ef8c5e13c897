"""The skorch callback that records a network's training dynamics for the cartography."""

import numpy as np
from skorch.callbacks import Callback
from torch.utils.data import Subset

__all__ = ["TrainingDynamics"]


class TrainingDynamics(Callback):
    """skorch callback storing the training rows' logits after every epoch (eval mode).

    Attributes
    ----------
    logits_ : list of ndarray (n_train, n_classes)
        One array per epoch.
    indices_ : ndarray
        Positions, in the ``X`` given to ``fit``, of the rows the logits belong to (the
        training part after skorch's internal validation split).
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.logits_ = []
        self.indices_ = None

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        if dataset_train is None:
            return
        if self.indices_ is None:
            self.indices_ = (np.asarray(dataset_train.indices) if isinstance(dataset_train, Subset)
                             else np.arange(len(dataset_train)))
        out = net.forward(dataset_train, training=False, device="cpu")
        self.logits_.append(out.detach().numpy().astype(np.float32))

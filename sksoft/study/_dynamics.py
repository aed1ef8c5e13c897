"""skorch callbacks that watch a network train, without touching how it trains.

:class:`TrainingDynamics` records the training rows' logits after every epoch (for the
cartography); :class:`HeldOutCheckpoints` the held-out fold's predictions at the checkpoint
epochs (for dynamics.csv). Both only read: they run the network's module in eval mode (no
dropout, no batch-norm updates) with no gradient, on plain tensors in chunks (skorch's data
loader, which collates row by row, costs more than the forward pass of a small network), and
inside ``torch.random.fork_rng``, so that even a module that drew random numbers in eval mode
could not change the next epoch's shuffling or dropout masks. Nothing they record is read by the training loop: no model selection, no early
stopping (the overparameterised regime stops on the training loss alone).
"""

import contextlib

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.utils.data import Subset

__all__ = ["TrainingDynamics", "HeldOutCheckpoints"]


@contextlib.contextmanager
def _rng_untouched(net):
    """Leave torch's global generators (CPU, and the net's GPU) as they were."""
    device = torch.device(str(getattr(net, "device", "cpu")))
    devices = [device] if device.type == "cuda" and torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        yield


def _logits(net, X, chunk=512):
    """The module's logits of the rows ``X`` (ndarray), float32 on the CPU, in eval mode and
    without gradients; the module's train/eval mode is restored."""
    module = net.module_
    was_training = module.training
    module.eval()
    try:
        with _rng_untouched(net), torch.no_grad():
            out = [module(torch.as_tensor(X[i:i + chunk]).to(net.device)).float().cpu()
                   for i in range(0, X.shape[0], chunk)]
    finally:
        module.train(was_training)
    return torch.cat(out).numpy()


def _rows(dataset):
    """The X rows of a skorch Dataset or a Subset of one, as an array."""
    if isinstance(dataset, Subset):
        return np.asarray(dataset.dataset.X)[np.asarray(dataset.indices)]
    return np.asarray(dataset.X)


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
        self.logits_.append(_logits(net, _rows(dataset_train)))


class HeldOutCheckpoints(Callback):
    """skorch callback predicting a held-out set after every epoch, for reporting only.

    It keeps the probabilities at the ``checkpoints`` epochs and at the last epoch trained,
    and the churn of every kept epoch: the fraction of rows whose predicted class differs from
    the epoch before (NaN at epoch 1). Predicting every epoch (not only at the checkpoints) is
    what makes the churn an epoch-to-epoch one even at the last epoch, which a stopping rule
    decides only when it comes.

    Parameters
    ----------
    X : array-like
        The held-out rows.
    checkpoints : sequence of int
        Epochs (1-based) to keep.
    preprocess : transformer, optional
        Fitted by the time the network starts training (the steps before the network in a
        Pipeline); ``X`` goes through its ``transform`` first.

    Attributes
    ----------
    proba_ : dict
        epoch -> float32 probabilities (n, K).
    churn_ : dict
        epoch -> churn at that epoch.
    """

    def __init__(self, X, checkpoints, preprocess=None):
        self.X = X
        self.checkpoints = checkpoints
        self.preprocess = preprocess

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        X_eval = self.X if self.preprocess is None else self.preprocess.transform(self.X)
        self._X = np.asarray(X_eval, dtype=np.float32)
        self.proba_ = {}
        self.churn_ = {}
        self._last = None  # (epoch, proba) of the latest epoch
        self._previous_pred = None

    def on_epoch_end(self, net, **kwargs):
        epoch = int(net.history[-1, "epoch"])
        P = torch.softmax(torch.from_numpy(_logits(net, self._X)), dim=1).numpy()
        pred = P.argmax(axis=1)
        churn = (float(np.mean(pred != self._previous_pred)) if self._previous_pred is not None
                 else float("nan"))
        self._previous_pred = pred
        self._last = (epoch, P, churn)
        if epoch in self.checkpoints:
            self._keep(epoch, P, churn)

    def on_train_end(self, net, **kwargs):
        # the last epoch (a stopping rule may end training between checkpoints)
        if self._last is not None and self._last[0] not in self.proba_:
            self._keep(*self._last)
        self._last = self._previous_pred = self._X = None

    def _keep(self, epoch, P, churn):
        self.proba_[epoch] = P.astype(np.float32)
        self.churn_[epoch] = churn

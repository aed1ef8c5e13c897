"""Torch networks trained on soft labels, wrapped through skorch as scikit-learn classifiers."""

import contextlib
import numbers

import numpy as np
import torch
from scipy.sparse import issparse
from sklearn.base import ClassifierMixin
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils.validation import validate_data
from skorch import NeuralNet
from skorch.callbacks import EpochScoring
from torch.utils.data import Subset

from ._base import SoftClassifierMixin
from ._label_source import LabelSource
from ._threads import thread_budget
from ._validation import Interval, Options, validate_params
from .metrics import cross_entropy, expected_calibration_error
from .nn import MLP

__all__ = ["SoftNeuralNetClassifier", "resolve_device"]


def resolve_device(device):
    """``"auto"`` -> ``"cuda"`` when a GPU is available, else ``"cpu"``; others unchanged."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _valid_nll(net, X, y):
    return cross_entropy(np.asarray(y), net.predict_proba(X))


def _valid_ece(net, X, y):
    return expected_calibration_error(np.asarray(y), net.predict_proba(X))


def stratified_holdout(Y, fraction, random_state):
    """Indices (train, valid) holding out ``fraction`` of the rows, stratified on argmax(Y).

    Falls back to an unstratified split when a class has fewer than two rows.
    """
    n = Y.shape[0]
    n_valid = int(round(fraction * n))
    if n_valid < 1 or n - n_valid < 1:
        return np.arange(n), np.arange(0)
    strata = np.argmax(Y, axis=1)
    counts = np.bincount(strata)
    counts = counts[counts > 0]
    if counts.min() >= 2 and n_valid >= len(counts) and n - n_valid >= len(counts):
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_valid, random_state=random_state)
    else:
        splitter = ShuffleSplit(n_splits=1, test_size=n_valid, random_state=random_state)
    train, valid = next(splitter.split(np.zeros(n), strata))
    return np.sort(train), np.sort(valid)


class SoftNeuralNetClassifier(SoftClassifierMixin, ClassifierMixin, NeuralNet):
    """A torch network trained with cross-entropy on hard or soft labels (skorch-based).

    ``fit`` takes hard labels or an (n, K) soft-label matrix (see the target contract in
    :mod:`sksoft._targets`); the loss is ``torch.nn.CrossEntropyLoss`` with probability targets
    (the soft NLL). skorch's prefix routing is kept, so ``module__hidden_units``,
    ``optimizer__weight_decay`` or ``callbacks__print_log__...`` can be grid-searched.

    Parameters
    ----------
    module : torch.nn.Module class or instance, optional
        Returns logits. Default :class:`sksoft.nn.MLP`. For module classes with an
        ``input_units`` / ``in_channels`` / ``output_units`` argument left unset, the values
        are inferred from the data at fit.
    criterion : default=torch.nn.CrossEntropyLoss
    optimizer : default=torch.optim.Adam
    lr : float, default=0.01
    max_epochs : int, default=20
    batch_size : int, default=128
    train_split : float or callable or None, default=0.2
        A float holds out that fraction of the training rows for validation, stratified on
        the argmax of the targets (seeded by ``random_state``); a callable is used as
        skorch's ``train_split``; None or 0 trains on everything.
    classes : array-like, optional
        Class labels of the soft-label columns (default ``arange(K)``).
    label_source : label source, optional
        See :mod:`sksoft.label_sources`.
    random_state : int, optional
        Seeds torch's global generator at the start of ``fit`` (weights, shuffling, dropout)
        and the validation split, making fits reproducible on CPU.
    device : {"cpu", "cuda", "auto"} or torch device string, default="cpu"
        ``"auto"`` uses CUDA when available. The parameter keeps its value; the resolved
        device is only used while fitting and predicting.
    n_threads : int, optional
        Threads for torch, BLAS and OpenMP while ``fit``, ``partial_fit`` and
        ``predict_proba`` run (``torch.set_num_threads`` and threadpoolctl), restored
        afterwards, also on an error. None leaves them as they are. Small networks are
        fastest with one thread per fit and several fits side by side (``n_jobs``), above
        all on a machine shared with other processes.
    callbacks, verbose, **kwargs
        As in ``skorch.NeuralNet``. Default callbacks log ``valid_nll`` (soft cross-entropy
        with sksoft's metric) and ``valid_ece`` each epoch.

    Attributes
    ----------
    classes_ : ndarray
    n_features_in_ : int
    input_shape_ : tuple
        Shape of one input sample.
    module_, history_ :
        As in skorch.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.neural_network import SoftNeuralNetClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4)).astype(np.float32)
    >>> y = rng.dirichlet(np.ones(3), size=200)
    >>> net = SoftNeuralNetClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> net.predict_proba(X[:2]).shape
    (2, 3)
    """

    # Checked with sksoft._validation like every sksoft estimator, but through validate_params
    # directly: skorch's NeuralNet has a _validate_params of its own (prefixes of **kwargs),
    # which ValidatedParamsMixin would shadow. Keys not listed (module__*, ...) are skorch's.
    _parameter_constraints = {
        "module": [None, type, torch.nn.Module],
        "criterion": [type, torch.nn.Module],
        "optimizer": [type, callable],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left"),
                       Options({-1}, kind=numbers.Integral)],
        "train_split": [None, Interval(numbers.Real, 0, 1, closed="left"), callable],
        "classes": ["array-like", None],
        "label_source": [None, LabelSource],
        "random_state": [None, Interval(numbers.Integral, 0, 2**32 - 1, closed="both")],
        "device": [None, str, torch.device],
        "n_threads": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "callbacks": [None, list, Options({"disable"})],
        "verbose": ["boolean", Interval(numbers.Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        module=None,
        *,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=20,
        batch_size=128,
        train_split=0.2,
        classes=None,
        label_source=None,
        random_state=None,
        device="cpu",
        n_threads=None,
        callbacks=None,
        verbose=0,
        **kwargs,
    ):
        super().__init__(
            module=module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            callbacks=callbacks,
            verbose=verbose,
            device=device,
            **kwargs,
        )
        self.classes = classes
        self.label_source = label_source
        self.random_state = random_state
        self.n_threads = n_threads

    # ------------------------------------------------------------------ device handling
    @contextlib.contextmanager
    def _device_ctx(self):
        requested = self.device
        resolved = resolve_device(requested)
        if resolved == requested:
            yield
            return
        self.device = resolved
        try:
            yield
        finally:
            self.device = requested

    def initialize(self):
        with self._device_ctx():
            return super().initialize()

    def get_default_callbacks(self):
        return list(super().get_default_callbacks()) + [
            ("valid_nll", EpochScoring(_valid_nll, name="valid_nll", lower_is_better=True)),
            ("valid_ece", EpochScoring(_valid_ece, name="valid_ece", lower_is_better=True)),
        ]

    def initialize_module(self):
        kwargs = self.get_params_for("module")
        module = self.module if self.module is not None else MLP
        if isinstance(module, type):
            import inspect

            params = inspect.signature(module).parameters
            shape = getattr(self, "input_shape_", None)
            if shape is not None:
                if "input_units" in params and kwargs.get("input_units") is None:
                    kwargs["input_units"] = int(np.prod(shape))
                if "in_channels" in params and kwargs.get("in_channels") is None:
                    kwargs["in_channels"] = int(shape[0])
            if "output_units" in params and kwargs.get("output_units") is None \
                    and hasattr(self, "classes_"):
                kwargs["output_units"] = len(self.classes_)
            module = module(**kwargs)
        elif kwargs:
            module = type(module)(**kwargs)
        self.module_ = module
        return self

    # ------------------------------------------------------------------ data
    def _validate_X(self, X, reset):
        if isinstance(X, (torch.utils.data.Dataset, dict, torch.Tensor)) and not issparse(X):
            return X
        X = validate_data(self, X, dtype=np.float32, allow_nd=True, reset=reset)
        if reset:
            self.input_shape_ = tuple(X.shape[1:])
        return X

    def get_split_datasets(self, X, y=None, **fit_params):
        split = self.train_split
        if isinstance(split, numbers.Real) and not isinstance(split, bool):
            dataset = self.get_dataset(X, y)
            if split <= 0 or y is None:
                return dataset, None
            if not 0 < split < 1:
                raise ValueError(f"train_split as a float must be in (0, 1); got {split}.")
            train, valid = stratified_holdout(np.asarray(y), float(split), self.random_state)
            if valid.shape[0] == 0:
                return dataset, None
            return Subset(dataset, train), Subset(dataset, valid)
        return super().get_split_datasets(X, y, **fit_params)

    # ------------------------------------------------------------------ sklearn API
    def fit(self, X, y=None, soft_labels=None, annotations=None, **fit_params):
        """Fit on hard labels or a soft-label matrix.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Features or images (any number of dimensions); cast to float32.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
        soft_labels : array-like of shape (n_samples, n_classes), optional
            Human label distributions for a ``label_source`` (metadata routing).
        annotations : array-like of shape (n_samples, n_annotators), optional
            Raw wide votes for :class:`~sksoft.label_sources.CrowdAggregate`.
        **fit_params
            Passed to skorch's ``partial_fit``.
        """
        validate_params(self.get_params(deep=False), self._parameter_constraints,
                        caller=type(self).__name__)
        with thread_budget(self.n_threads):
            X = self._validate_X(X, reset=True)
            Y = self._fit_targets(X, y, soft_labels=soft_labels,
                                  annotations=annotations).astype(np.float32)
            if self.random_state is not None:
                torch.manual_seed(int(self.random_state))
            with self._device_ctx():
                if not self.warm_start or not self.initialized_:
                    self.initialize()
                NeuralNet.partial_fit(self, X, Y, **fit_params)
        return self

    def partial_fit(self, X, y=None, classes=None, soft_labels=None, annotations=None,
                    **fit_params):
        """Train for one more round of ``max_epochs`` (initialising on the first call).

        Every call builds its targets the way ``fit`` does, through the ``label_source`` when
        there is one. The classes are fixed by the first call: its ``classes`` argument, else
        the ``classes`` parameter, else those of its ``y``; later calls decode ``y`` with them
        (an unknown label, or a soft ``y`` with another number of columns, is a ValueError).
        """
        first = not getattr(self, "initialized_", False) or not hasattr(self, "classes_")
        if first:
            validate_params(self.get_params(deep=False), self._parameter_constraints,
                            caller=type(self).__name__)
        with thread_budget(self.n_threads):
            X = self._validate_X(X, reset=first)
            Y = self._fit_targets(X, y, soft_labels=soft_labels, annotations=annotations,
                                  classes=classes if first else self.classes_).astype(np.float32)
            with self._device_ctx():
                if first:
                    self.initialize()
                NeuralNet.partial_fit(self, X, Y, **fit_params)
        return self

    def infer(self, x, **fit_params):
        with self._device_ctx():
            return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        with self._device_ctx():
            return super().get_loss(y_pred, y_true, X=X, training=training)

    def predict_proba(self, X):
        """Softmax of the network's logits, float64, rows summing to 1."""
        self.check_is_fitted()
        X = self._validate_X(X, reset=False)
        with self._device_ctx(), thread_budget(self.n_threads):
            proba = super().predict_proba(X)
        proba = np.asarray(proba, dtype=np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.non_deterministic = self.random_state is None
        return tags

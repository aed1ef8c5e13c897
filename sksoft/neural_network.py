"""Torch networks trained on soft labels, wrapped through skorch as scikit-learn classifiers."""

import contextlib
import numbers

import numpy as np
from scipy.sparse import issparse
from sklearn.base import ClassifierMixin
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils.validation import validate_data

from ._optional import import_optional

# the networks are the torch extra: an ImportError naming it when torch or skorch is absent
torch = import_optional("torch", extra="torch", purpose="sksoft.neural_network")
import_optional("skorch", extra="torch", purpose="sksoft.neural_network")
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochScoring
from skorch.dataset import Dataset
from torch.utils.data import DataLoader, Subset

from ._base import SoftClassifierMixin
from ._label_source import LabelSource
from ._targets import check_targets
from ._threads import thread_budget
from ._validation import Interval, Options, check_param, validate_params
from .metrics import expected_calibration_error, log_loss
from .nn import MLP

__all__ = ["SoftNeuralNetClassifier", "resolve_device"]


def resolve_device(device):
    """``"auto"`` -> ``"cuda"`` when a GPU is available, else ``"cpu"``; others unchanged.

    ``device`` is None (skorch: leave tensors where they are), ``"auto"``, a torch device
    string (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...) or a ``torch.device``; anything else is
    a ``TypeError`` / ``ValueError``.

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    >>> resolve_device("gpu")
    Traceback (most recent call last):
    ...
    ValueError: device must be "auto" or a torch device string ("cpu", "cuda:0"); got 'gpu'.
    """
    check_param(device, [None, str, torch.device], "device")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if isinstance(device, str):
        try:
            torch.device(device)
        except (RuntimeError, ValueError):
            raise ValueError('device must be "auto" or a torch device string ("cpu", '
                             f'"cuda:0"); got {device!r}.') from None
    return device


def _check_callbacks(callbacks):
    """skorch's callbacks: None, "disable" or a list of callbacks (instances or classes),
    each possibly as a ``(name, callback)`` pair."""
    if not isinstance(callbacks, list):
        return
    for i, item in enumerate(callbacks):
        cb = item[1] if isinstance(item, tuple) and len(item) == 2 and isinstance(
            item[0], str) else item
        if not (isinstance(cb, Callback) or isinstance(cb, type) and issubclass(cb, Callback)):
            raise ValueError(f"callbacks[{i}] must be a skorch Callback (or a (name, Callback) "
                             f"pair); got {item!r}.")


def _valid_nll(net, X, y):
    return log_loss(np.asarray(y), net.predict_proba(X))


def _valid_ece(net, X, y):
    return expected_calibration_error(np.asarray(y), net.predict_proba(X))


def _check_dict_X(X):
    """The cheap checks of a dict of inputs (passed to the module's ``forward`` as keyword
    arguments): every value an array or tensor with the same number of rows, floating values
    finite."""
    if not X:
        raise ValueError("X is an empty dict.")
    n = None
    for key, value in X.items():
        if isinstance(value, torch.Tensor):
            floating = value.is_floating_point() or value.is_complex()
            finite = (not floating or value.layout != torch.strided
                      or bool(torch.isfinite(value).all()))
        elif isinstance(value, np.ndarray):
            floating = value.dtype.kind in "fc"
            finite = not floating or bool(np.isfinite(value).all())
        else:
            raise TypeError(f"X[{key!r}] must be an array or a tensor; got "
                            f"{type(value).__name__}.")
        if value.ndim < 1:
            raise ValueError(f"X[{key!r}] must have one row per sample; got a scalar.")
        if n is None:
            n = value.shape[0]
        elif value.shape[0] != n:
            raise ValueError(f"the values of X have different numbers of rows ({n} and "
                             f"{value.shape[0]} in X[{key!r}]).")
        if not finite:
            raise ValueError(f"X[{key!r}] contains NaN or infinity.")


def _class_codes(labels, n, name="stratify"):
    """Class codes (n,) of ``labels`` under the target contract (:mod:`sksoft._targets`):
    hard labels of any kind, or the argmax of a soft / one-hot matrix (first class on ties)."""
    t = check_targets(labels, name=name, infer_classes=True)
    codes = np.argmax(t.proba, axis=1) if t.soft else t.codes
    if codes.shape[0] != n:
        raise ValueError(f"{name} has {codes.shape[0]} rows but X has {n}.")
    return codes


def stratified_holdout(strata, fraction, random_state):
    """Indices (train, valid) holding out ``fraction`` of the rows, stratified on ``strata``.

    ``strata`` are class codes, one per row. The split depends on ``strata``, ``fraction``
    and ``random_state`` only, so fits that share them (the label sources of one study fit)
    hold out the same rows. Falls back to an unstratified split when a class has fewer than
    two rows.
    """
    strata = np.asarray(strata)
    n = strata.shape[0]
    n_valid = int(round(fraction * n))
    if n_valid < 1 or n - n_valid < 1:
        return np.arange(n), np.arange(0)
    counts = np.unique(strata, return_counts=True)[1]
    if counts.min() >= 2 and n_valid >= len(counts) and n - n_valid >= len(counts):
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_valid, random_state=random_state)
    else:
        splitter = ShuffleSplit(n_splits=1, test_size=n_valid, random_state=random_state)
    train, valid = next(splitter.split(np.zeros(n), strata))
    return np.sort(train), np.sort(valid)


#: DataLoader options that :class:`_TensorBatches` implements exactly; an iterator with any
#: other option (workers, a sampler, a collate_fn, pinned memory, ...) is skorch's DataLoader
_FAST_OPTIONS = frozenset({"batch_size", "shuffle", "drop_last"})


def _plain(a):
    """An array or a dense tensor with rows, of a dtype that collates to itself."""
    if isinstance(a, np.ndarray):
        return a.ndim >= 1 and a.dtype.kind in "biufc" and a.dtype.isnative
    return isinstance(a, torch.Tensor) and a.layout == torch.strided and a.ndim >= 1


def _in_memory(dataset):
    """``(X, y, indices)`` of a skorch ``Dataset`` of arrays or tensors, or of a ``Subset`` of
    one (``indices`` its rows, else None); None for anything else (dicts, lists, sparse or
    pandas data, a custom dataset -- a subclass of skorch's too, it may transform rows)."""
    indices = None
    if type(dataset) is Subset:
        indices = np.asarray(dataset.indices)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            return None
        dataset = dataset.dataset
    if type(dataset) is not Dataset:
        return None
    X, y = dataset.X, dataset.y
    if not _plain(X) or y is not None and not _plain(y):
        return None
    n = X.shape[0]
    if len(dataset) != n or y is not None and y.shape[0] != n:
        return None
    if indices is not None and indices.size and (indices.min() < 0 or indices.max() >= n):
        return None  # negative or out of range: as the loader does (or raises)
    return X, y, indices


def _take(a, rows, start, stop):
    """A fresh contiguous copy of rows ``start:stop`` of ``a`` (of ``a[rows]`` when ``rows`` is
    given), as a tensor on ``a``'s device; a collated batch is a copy too, so a module that
    works in place cannot touch the caller's data."""
    if isinstance(a, np.ndarray):
        if rows is None:
            return torch.from_numpy(np.array(a[start:stop], order="C"))  # a copy
        return torch.from_numpy(np.ascontiguousarray(a.take(rows[start:stop], axis=0)))
    if rows is None:
        return a[start:stop].clone(memory_format=torch.contiguous_format)
    return a.index_select(0, rows[start:stop])


class _TensorBatches:
    """Mini-batches sliced from in-memory arrays or tensors: skorch's DataLoader without its
    per-row indexing and collation.

    A drop-in for a single-process ``torch.utils.data.DataLoader(dataset, batch_size,
    shuffle, drop_last)`` over a skorch ``Dataset`` of arrays or tensors (or a ``Subset`` of
    one): the same batches -- tensors of the same dtype and shape on the data's device, a
    ``(batch, 1)`` placeholder of zeros for a missing ``y`` -- in the same order, and the same
    draws from torch's global generator (the loader's base seed on ``iter``, then the random
    sampler's seed on the first batch when shuffling), so a seeded fit follows the loader's
    trajectory exactly (dropout masks included).
    """

    def __init__(self, X, y, indices, *, batch_size, shuffle, drop_last):
        self.X, self.y, self.indices = X, y, indices
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.n = X.shape[0] if indices is None else indices.shape[0]

    def __len__(self):
        if self.drop_last:
            return self.n // self.batch_size
        return -(-self.n // self.batch_size)

    def __iter__(self):
        torch.empty((), dtype=torch.int64).random_()  # the loader iterator's base seed
        return self._batches()

    def _batches(self):
        rows = self.indices
        if self.shuffle:  # RandomSampler: a generator seeded from the global one
            seed = int(torch.empty((), dtype=torch.int64).random_().item())
            generator = torch.Generator()
            generator.manual_seed(seed)
            order = torch.randperm(self.n, generator=generator).numpy()
            rows = order if rows is None else rows[order]
        stop = len(self) * self.batch_size
        index = {}  # the row indices as a tensor on each tensor's device, made once
        for start in range(0, min(stop, self.n), self.batch_size):
            end = min(start + self.batch_size, self.n)
            batch = []
            for a in (self.X, self.y):
                if a is None:
                    batch.append(torch.zeros((end - start, 1), dtype=torch.get_default_dtype()))
                    continue
                r = rows
                if rows is not None and isinstance(a, torch.Tensor):
                    if a.device not in index:
                        index[a.device] = torch.as_tensor(rows, device=a.device)
                    r = index[a.device]
                batch.append(_take(a, r, start, end))
            yield batch  # a list, as the loader's default_collate makes of (X, y) pairs


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
        A float holds out that fraction of the training rows for validation, stratified
        (seeded by ``random_state``) on ``fit``'s ``stratify`` labels when given, else on the
        labels ``y`` when a ``label_source`` builds the targets from them, else on the
        argmax of the targets; a callable is used as skorch's ``train_split``; None or 0
        trains on everything.
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

    Notes
    -----
    ``X`` may be an array-like, a ``torch.Tensor``, a dict or a ``torch.utils.data.Dataset``;
    each is checked as far as that is cheap:

    * arrays (numpy, pandas, lists): as every scikit-learn estimator checks them -- shape,
      NaN / inf, a numeric dtype -- and cast to float32;
    * tensors: the same checks, on the tensor's device (one pass of ``torch.isfinite``); a
      floating tensor is cast to float32, an integer, boolean, complex or sparse tensor is a
      ``TypeError``. ``input_shape_`` and ``n_features_in_`` come from its shape, so the
      default :class:`~sksoft.nn.MLP` gets its input units;
    * dicts (keyword arguments of the module's ``forward``): every value must be an array or
      a tensor with one row per sample, and floating values must be finite. The input shape
      is not inferred: set ``module__input_units`` (or pass a module instance);
    * a ``Dataset`` is passed to skorch **unchecked**: its items are produced lazily, and
      checking them would mean reading the whole dataset once more. Its values are not
      checked for NaN / inf and its input shape is not inferred (set
      ``module__input_units``); a NaN in it shows up as NaN losses in ``history_``.

    Arrays and tensors are batched straight from memory: each mini-batch is sliced from
    them (see :meth:`get_iterator`), with the batches, order and random draws of skorch's
    default ``DataLoader``, so a seeded fit gives the same model either way, while skipping
    the loader's row-by-row indexing and collation. Dicts, datasets and any other iterator
    or iterator option (``iterator_train__num_workers``, ...) use skorch's ``DataLoader``.

    Every label source fitted with the same ``X``, ``y`` (gold labels) and ``random_state``
    holds out the same validation rows: the hold-out is stratified on ``y``, not on the
    targets the source builds, so fits on different label sources are paired row by row.

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
    # the hold-out's strata are sample-aligned metadata, requested like soft_labels
    __metadata_request__fit = {"stratify": True}
    __metadata_request__partial_fit = {"stratify": True}

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

    def _check_own_params(self):
        validate_params(self.get_params(deep=False), self._parameter_constraints,
                        caller=type(self).__name__)
        resolve_device(self.device)
        _check_callbacks(self.callbacks)

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
        """Check X the way it can be checked cheaply; see the class Notes."""
        if isinstance(X, torch.Tensor):
            return self._validate_tensor(X, reset)
        if isinstance(X, dict) and not issparse(X):  # (a sparse DOK matrix is a dict)
            _check_dict_X(X)
            return X
        if isinstance(X, torch.utils.data.Dataset) and not issparse(X):
            return X
        X = validate_data(self, X, dtype=np.float32, allow_nd=True, reset=reset)
        if reset:
            self.input_shape_ = tuple(X.shape[1:])
        return X

    def _validate_tensor(self, X, reset):
        """A tensor is checked like an array -- shape, dtype, NaN / inf -- without leaving its
        device; floating tensors are cast to float32 (as arrays are), others refused."""
        if X.layout != torch.strided:
            raise TypeError(f"X is a sparse tensor ({X.layout}); pass X.to_dense().")
        if X.is_complex() or not X.is_floating_point():
            raise TypeError(f"X must be a floating-point tensor; got dtype {X.dtype}.")
        if X.ndim < 2:
            raise ValueError(f"X must have shape (n_samples, n_features, ...); got a tensor of "
                             f"shape {tuple(X.shape)}.")
        if X.shape[0] == 0:
            raise ValueError("X is an empty tensor: it has 0 samples.")
        if not bool(torch.isfinite(X).all()):
            bad = (~torch.isfinite(X.reshape(X.shape[0], -1))).any(dim=1)
            row = int(torch.nonzero(bad)[0, 0])
            raise ValueError(f"X contains NaN or infinity (first in row {row}).")
        shape = tuple(int(s) for s in X.shape[1:])
        if reset:
            self.input_shape_ = shape
            self.n_features_in_ = shape[0]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif shape != tuple(getattr(self, "input_shape_", shape)):
            raise ValueError(f"X has samples of shape {shape}, but {type(self).__name__} was "
                             f"fitted on samples of shape {self.input_shape_}.")
        return X.to(torch.float32)

    def get_iterator(self, dataset, training=False):
        """Mini-batches of ``dataset``: sliced straight from its arrays or tensors when it
        holds them in memory, else skorch's ``DataLoader``.

        The fast path (:class:`_TensorBatches`) gives the batches, order and random draws of
        the default iterator (``torch.utils.data.DataLoader`` with only ``batch_size``,
        ``shuffle`` and ``drop_last`` set through ``iterator_train__*`` /
        ``iterator_valid__*``) over a skorch ``Dataset`` of an array or tensor ``X`` and
        ``y`` (or a ``Subset`` of one, the float ``train_split``'s parts), without
        indexing and collating row by row. Any other dataset (dicts, lists, sparse, a
        custom ``Dataset``), iterator or iterator option goes to skorch's ``get_iterator``.
        """
        iterator = self.iterator_train if training else self.iterator_valid
        data = _in_memory(dataset) if iterator is DataLoader else None
        if data is not None:
            kwargs = self.get_params_for("iterator_train" if training else "iterator_valid")
            batch_size = kwargs.get("batch_size", self.batch_size)
            if batch_size == -1:
                batch_size = len(dataset)
            shuffle = kwargs.get("shuffle", False)
            drop_last = kwargs.get("drop_last", False)
            if (set(kwargs) <= _FAST_OPTIONS and isinstance(batch_size, numbers.Integral)
                    and batch_size >= 1 and shuffle in (True, False)
                    and drop_last in (True, False)):
                return _TensorBatches(*data, batch_size=int(batch_size), shuffle=bool(shuffle),
                                      drop_last=bool(drop_last))
        return super().get_iterator(dataset, training=training)

    def get_split_datasets(self, X, y=None, **fit_params):
        split = self.train_split
        if isinstance(split, numbers.Real) and not isinstance(split, bool):
            dataset = self.get_dataset(X, y)
            if split <= 0 or y is None:
                return dataset, None
            if not 0 < split < 1:
                raise ValueError(f"train_split as a float must be in (0, 1); got {split}.")
            strata = getattr(self, "_strata", None)
            if strata is None:
                strata = np.argmax(np.asarray(y), axis=1)
            train, valid = stratified_holdout(strata, float(split), self.random_state)
            if valid.shape[0] == 0:
                return dataset, None
            return Subset(dataset, train), Subset(dataset, valid)
        return super().get_split_datasets(X, y, **fit_params)

    def _holdout_strata(self, y, Y, stratify):
        """What the float ``train_split`` stratifies on: ``stratify``, else the labels ``y``
        given to ``fit`` when a label source builds the targets, else the targets' argmax."""
        split = self.train_split
        if stratify is not None:
            if callable(split) and not isinstance(split, numbers.Real):
                raise ValueError("stratify is used by a float train_split; with a callable "
                                 "train_split, stratify inside it (skorch's ValidSplit takes "
                                 "the targets).")
            return _class_codes(stratify, Y.shape[0])
        if self.label_source is not None and y is not None:
            return _class_codes(y, Y.shape[0], name="y")
        return None

    @contextlib.contextmanager
    def _train_on(self, strata):
        self._strata = strata
        try:
            yield
        finally:
            del self._strata

    # ------------------------------------------------------------------ sklearn API
    def fit(self, X, y=None, soft_labels=None, annotations=None, item_index=None,
            stratify=None, **fit_params):
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
        item_index : array-like of int, shape (n_samples,), optional
            Position of every row among all the items, for
            :class:`~sksoft.label_sources.ExternalSoftLabels` (metadata routing).
        stratify : array-like of shape (n_samples,) or (n_samples, n_classes), optional
            What the float ``train_split`` stratifies its hold-out on: labels (any kind) or
            a soft / one-hot matrix (its argmax). Default: ``y`` when a ``label_source``
            builds the targets (so every label source fitted on the same ``X``, ``y`` and
            ``random_state`` holds out the same rows), else the argmax of ``y``. Pass the
            gold labels to compare fits on different soft targets ``y`` on the same rows.
            Ignored without a hold-out (``train_split`` None or 0); a ValueError with a
            callable ``train_split``. Requested as metadata by default.
        **fit_params
            Passed to skorch's ``partial_fit``.
        """
        self._check_own_params()
        with thread_budget(self.n_threads):
            X = self._validate_X(X, reset=True)
            Y = self._fit_targets(X, y, soft_labels=soft_labels, annotations=annotations,
                                  item_index=item_index).astype(np.float32)
            strata = self._holdout_strata(y, Y, stratify)
            if self.random_state is not None:
                torch.manual_seed(int(self.random_state))
            with self._device_ctx(), self._train_on(strata):
                if not self.warm_start or not self.initialized_:
                    self.initialize()
                NeuralNet.partial_fit(self, X, Y, **fit_params)
        return self

    def partial_fit(self, X, y=None, classes=None, soft_labels=None, annotations=None,
                    item_index=None, stratify=None, **fit_params):
        """Train for one more round of ``max_epochs`` (initialising on the first call).

        Every call builds its targets the way ``fit`` does, through the ``label_source`` when
        there is one. The classes are fixed by the first call: its ``classes`` argument, else
        the ``classes`` parameter, else those of its ``y``; later calls decode ``y`` with them
        (an unknown label, or a soft ``y`` with another number of columns, is a ValueError).
        ``stratify`` as in :meth:`fit`.
        """
        first = not getattr(self, "initialized_", False) or not hasattr(self, "classes_")
        if first:
            self._check_own_params()
        with thread_budget(self.n_threads):
            X = self._validate_X(X, reset=first)
            Y = self._fit_targets(X, y, soft_labels=soft_labels, annotations=annotations,
                                  classes=classes if first else self.classes_,
                                  item_index=item_index).astype(np.float32)
            strata = self._holdout_strata(y, Y, stratify)
            with self._device_ctx(), self._train_on(strata):
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

"""SoftNeuralNetClassifier's in-memory batches: the same fit as skorch's DataLoader path.

The fast path (``_TensorBatches``) must yield the DataLoader's batches (values, dtypes,
shapes, order) and make the same draws from torch's global generator, so a seeded fit --
shuffling and dropout included -- follows the DataLoader's trajectory; anything that is not
an in-memory array or tensor must still go through the DataLoader.
"""

import numpy as np
import pytest
from scipy import sparse

torch = pytest.importorskip("torch")
from skorch import NeuralNet  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402
from skorch.dataset import Dataset  # noqa: E402
from torch.utils.data import DataLoader, Subset  # noqa: E402

from sksoft.neural_network import SoftNeuralNetClassifier, _TensorBatches  # noqa: E402

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


class LoaderNet(SoftNeuralNetClassifier):
    """The same estimator on skorch's DataLoader path, as the reference."""

    def get_iterator(self, dataset, training=False):
        return NeuralNet.get_iterator(self, dataset, training=training)


class RecordBatches(Callback):
    def initialize(self):
        self.batches_ = []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        self.batches_.append((training, [b.detach().cpu().clone() for b in batch]))


def data(n=203, d=6, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    return X, rng.dirichlet(np.ones(K), size=n)


def assert_same_batches(a, b):
    assert len(a) == len(b) > 0
    for (ta, ba), (tb, bb) in zip(a, b):
        assert ta == tb and len(ba) == len(bb) == 2
        for x, y in zip(ba, bb):
            assert x.dtype == y.dtype and x.shape == y.shape
            assert torch.equal(x, y)


def fit_both(X, Y, device="cpu", **kw):
    nets = []
    for cls in (SoftNeuralNetClassifier, LoaderNet):
        net = cls(max_epochs=3, batch_size=32, random_state=0, device=device, n_threads=1,
                  verbose=0, callbacks=[("record", RecordBatches())], **kw).fit(X, Y)
        nets.append(net)
    return nets


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("train_split", [None, 0.2])
def test_same_batches_and_trajectory_as_the_dataloader(shuffle, train_split):
    X, Y = data()
    # dropout draws from the same global generator as the shuffling: the draws must match too
    fast, ref = fit_both(X, Y, train_split=train_split, module__dropout=0.3,
                         iterator_train__shuffle=shuffle)
    assert_same_batches(dict(fast.callbacks_)["record"].batches_,
                        dict(ref.callbacks_)["record"].batches_)
    keys = ["train_loss"] + (["valid_loss", "valid_nll", "valid_ece"] if train_split else [])
    for key in keys:
        np.testing.assert_allclose(fast.history_[:, key], ref.history_[:, key], rtol=1e-6,
                                   err_msg=key)
    np.testing.assert_allclose(fast.predict_proba(X), ref.predict_proba(X), rtol=1e-5,
                               atol=1e-7)
    assert fast.history_[:, "train_batch_count"] == ref.history_[:, "train_batch_count"]


def test_the_generator_is_left_as_the_dataloader_leaves_it():
    X, Y = data()
    states = []
    for cls in (SoftNeuralNetClassifier, LoaderNet):
        cls(max_epochs=2, batch_size=16, random_state=1, iterator_train__shuffle=True,
            train_split=0.2, n_threads=1).fit(X, Y)
        states.append(torch.get_rng_state())
    assert torch.equal(*states)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("kind", ["numpy", "tensor", "subset", "no y", "hard y"])
def test_batches_equal_the_dataloaders(kind, shuffle, drop_last):
    X, Y = data(n=50)
    y = Y.astype(np.float32)
    if kind == "tensor":
        X, y = torch.from_numpy(X), torch.from_numpy(y)
    if kind == "no y":
        y = None
    if kind == "hard y":
        y = np.arange(50) % 3
    dataset = Dataset(X, y)
    if kind == "subset":
        dataset = Subset(dataset, np.random.default_rng(0).permutation(50)[:37])
    batches = []
    for make in (lambda: _TensorBatches(*_parts(dataset), batch_size=8, shuffle=shuffle,
                                        drop_last=drop_last),
                 lambda: DataLoader(dataset, batch_size=8, shuffle=shuffle,
                                    drop_last=drop_last)):
        torch.manual_seed(5)
        it = make()
        batches.append([(None, list(b)) for b in it])
        assert len(it) == len(batches[-1])
        batches[-1].append((None, [torch.rand(3), torch.rand(1)]))  # same draws afterwards
    assert_same_batches(*batches)


def _parts(dataset):
    from sksoft.neural_network import _in_memory

    parts = _in_memory(dataset)
    assert parts is not None
    return parts


def test_what_takes_the_fast_path():
    X, Y = data(n=40)
    net = SoftNeuralNetClassifier(max_epochs=1, train_split=None, n_threads=1).fit(X, Y)
    fast = [Dataset(X, Y), Dataset(torch.from_numpy(X), Y), Dataset(X), Subset(Dataset(X, Y),
                                                                             [1, 5, 7])]
    for ds in fast:
        assert isinstance(net.get_iterator(ds, training=True), _TensorBatches)
        assert isinstance(net.get_iterator(ds, training=False), _TensorBatches)

    class Custom(Dataset):
        def transform(self, X, y):
            return X * 2, y

    slow = [Dataset({"X": X}, Y), Dataset(sparse.csr_matrix(X), Y), Custom(X, Y),
            Dataset([X], Y), Subset(Subset(Dataset(X, Y), [1, 2]), [0]),
            Dataset(X.astype(object), Y), Subset(Dataset(X, Y), [-1, 2]),
            Subset(Dataset(X, Y), [0, 40])]
    for ds in slow:
        assert isinstance(net.get_iterator(ds, training=True), DataLoader)
    # batch_size=-1 is the whole set; any other loader option, or another iterator, is skorch's
    whole = SoftNeuralNetClassifier(iterator_train__batch_size=-1).get_iterator(
        Dataset(X, Y), training=True)
    assert isinstance(whole, _TensorBatches) and len(whole) == 1
    net = SoftNeuralNetClassifier(iterator_train__num_workers=0)
    assert isinstance(net.get_iterator(Dataset(X, Y), training=True), DataLoader)
    assert isinstance(net.get_iterator(Dataset(X, Y), training=False), _TensorBatches)


def test_dict_input_still_trains_through_the_dataloader():
    X, Y = data(n=60)

    class Keyed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(6, 3)

        def forward(self, a):
            return self.lin(a)

    a = SoftNeuralNetClassifier(Keyed, max_epochs=2, train_split=None, random_state=0,
                                n_threads=1).fit(
        {"a": X}, Y)
    b = SoftNeuralNetClassifier(Keyed, max_epochs=2, train_split=None, random_state=0,
                                n_threads=1).fit(
        X, Y)
    np.testing.assert_allclose(a.history_[:, "train_loss"], b.history_[:, "train_loss"],
                               rtol=1e-6)


def test_a_module_working_in_place_leaves_the_callers_data_alone():
    class InPlace(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(6, 3)

        def forward(self, X):
            X.mul_(2.0)
            return self.lin(X)

    X, Y = data(n=64)
    Y = Y.astype(np.float32)
    X0, Y0 = X.copy(), Y.copy()
    for shuffle in (False, True):
        SoftNeuralNetClassifier(InPlace, max_epochs=2, train_split=0.25, n_threads=1,
                                iterator_train__shuffle=shuffle).fit(X, Y)
        np.testing.assert_array_equal(X, X0)
        np.testing.assert_array_equal(Y, Y0)
    Xt = torch.from_numpy(X0.copy())
    SoftNeuralNetClassifier(InPlace, max_epochs=1, train_split=None, n_threads=1).fit(Xt, Y)
    assert torch.equal(Xt, torch.from_numpy(X0))


def test_read_only_and_non_contiguous_arrays():
    X, Y = data(n=80)
    ro = X.copy()
    ro.setflags(write=False)
    wide = np.asfortranarray(np.repeat(X, 2, axis=1)[:, ::2])
    kw = dict(max_epochs=2, random_state=0, train_split=0.2, n_threads=1)
    ref = SoftNeuralNetClassifier(**kw).fit(X, Y)
    for Xv in (ro, wide):
        net = SoftNeuralNetClassifier(**kw).fit(Xv, Y)
        np.testing.assert_allclose(net.predict_proba(Xv), ref.predict_proba(X), rtol=1e-5)


@cuda
@pytest.mark.parametrize("tensor", [False, True])
def test_cuda_fast_path_matches_the_dataloader(tensor):
    X, Y = data()
    if tensor:
        X = torch.from_numpy(X).cuda()
    fast, ref = fit_both(X, Y, device="cuda", train_split=0.2, module__dropout=0.0,
                         iterator_train__shuffle=True)
    assert next(fast.module_.parameters()).is_cuda
    assert_same_batches(dict(fast.callbacks_)["record"].batches_,
                        dict(ref.callbacks_)["record"].batches_)
    np.testing.assert_allclose(fast.history_[:, "train_loss"], ref.history_[:, "train_loss"],
                               rtol=1e-5)
    np.testing.assert_allclose(fast.predict_proba(X), ref.predict_proba(X), atol=1e-5)

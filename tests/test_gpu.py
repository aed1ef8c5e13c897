"""device="cuda" / "auto" paths; the cuda tests skip on machines without a GPU."""

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from sksoft.neural_network import SoftNeuralNetClassifier, resolve_device  # noqa: E402
from sksoft.nn import SmallCNN  # noqa: E402

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8)).astype(np.float32)
    Y = rng.dirichlet(np.ones(3), size=n)
    return X, Y


def test_auto_resolves_to_available_device():
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    X, Y = data()
    net = SoftNeuralNetClassifier(device="auto", max_epochs=2, random_state=0).fit(X, Y)
    assert net.device == "auto"  # the parameter is untouched
    assert next(net.module_.parameters()).device.type == resolve_device("auto")
    assert net.predict_proba(X).shape == (200, 3)


@cuda
def test_cuda_fit_predict_matches_cpu_and_pickles():
    X, Y = data()
    # no dropout: its masks come from the CUDA generator on the GPU and from the CPU generator
    # on the CPU, so only a dropout-free network follows the same path on both devices
    kw = dict(max_epochs=5, random_state=0, module__dropout=0.0)
    gpu = SoftNeuralNetClassifier(device="cuda", **kw).fit(X, Y)
    assert next(gpu.module_.parameters()).is_cuda
    cpu = SoftNeuralNetClassifier(device="cpu", **kw).fit(X, Y)
    # same seeds, same initial weights and batches; GPU kernels differ in rounding only
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), atol=2e-3)
    restored = pickle.loads(pickle.dumps(gpu))
    np.testing.assert_allclose(restored.predict_proba(X), gpu.predict_proba(X), atol=1e-6)
    assert np.isfinite(gpu.history_[-1]["valid_ece"])


@cuda
def test_cuda_cnn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3, 16, 16)).astype(np.float32)
    y = rng.integers(0, 4, 64)
    net = SoftNeuralNetClassifier(SmallCNN, module__width=8, device="cuda", max_epochs=2,
                                  random_state=0).fit(X, y)
    assert next(net.module_.parameters()).is_cuda
    assert net.predict_proba(X).shape == (64, 4)

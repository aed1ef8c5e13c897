"""Thread budgets: torch, BLAS and OpenMP thread counts are set inside and restored after."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from sksoft._threads import thread_budget, threads_per_fit

torch = pytest.importorskip("torch")


def _pools():
    """(torch intra-op threads, {library path: threads} of every BLAS/OpenMP pool)."""
    return torch.get_num_threads(), {i["filepath"]: i["num_threads"] for i in threadpool_info()}


@pytest.fixture
def three_threads():
    """Run the test with 3 threads everywhere (not the machine's default, so that a restore
    to the default would be caught), and put things back after."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    with threadpool_limits(limits=3):
        torch.set_num_threads(3)
        yield
    torch.set_num_threads(before)


def test_thread_budget_sets_and_restores(three_threads):
    outside = _pools()
    assert outside[0] == 3 and set(outside[1].values()) == {3}
    with thread_budget(1):
        inside = _pools()
        # nested budgets change nothing: the outer one holds
        with thread_budget(2):
            assert _pools() == inside
    assert inside[0] == 1 and set(inside[1].values()) == {1}
    assert _pools() == outside
    with thread_budget(None):
        assert _pools() == outside


def test_thread_budget_restores_after_an_exception(three_threads):
    outside = _pools()
    with pytest.raises(RuntimeError, match="boom"):
        with thread_budget(1):
            assert _pools()[0] == 1
            raise RuntimeError("boom")
    assert _pools() == outside
    with thread_budget(2):  # and the nesting guard was reset
        assert _pools()[0] == 2


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                      (True, TypeError), ("2", TypeError)])
def test_thread_budget_rejects_bad_counts(bad, exc, three_threads):
    with pytest.raises(exc, match="n_threads"):
        with thread_budget(bad):
            pass
    assert _pools()[0] == 3


@pytest.mark.parametrize("n_jobs, cores, expected", [
    (1, 2, 2), (2, 2, 1), (-1, 2, 1), (-1, 16, 1), (3, 16, 5), (4, 16, 4), (5, 2, 1),
    (-2, 16, 1), (-9, 16, 2), (-30, 16, 16),
])
def test_threads_per_fit(n_jobs, cores, expected):
    assert threads_per_fit(n_jobs, cores) == expected


def test_threads_per_fit_rejects_zero_jobs():
    with pytest.raises(ValueError, match="n_jobs"):
        threads_per_fit(0, 4)


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    return X, rng.dirichlet(np.ones(3), size=n)


def test_network_n_threads_is_set_during_fit_and_predict_and_restored(three_threads):
    from skorch.callbacks import Callback

    from sksoft.neural_network import SoftNeuralNetClassifier

    seen = []

    class Watch(Callback):
        def on_epoch_end(self, net, **kwargs):
            seen.append(_pools())

    X, Y = _data()
    outside = _pools()
    net = SoftNeuralNetClassifier(max_epochs=2, random_state=0, n_threads=1,
                                  callbacks=[("watch", Watch())]).fit(X, Y)
    assert len(seen) == 2 and all(s[0] == 1 and set(s[1].values()) == {1} for s in seen)
    assert _pools() == outside
    net.partial_fit(X, Y)
    assert len(seen) == 4 and seen[-1][0] == 1 and _pools() == outside

    import sksoft.neural_network as nn_module

    calls = []
    real = nn_module.NeuralNet.predict_proba

    def spy(self, X):
        calls.append(_pools())
        return real(self, X)

    nn_module.NeuralNet.predict_proba = spy
    try:
        P = net.predict_proba(X)
    finally:
        nn_module.NeuralNet.predict_proba = real
    assert calls[0][0] == 1 and set(calls[0][1].values()) == {1}
    assert _pools() == outside
    np.testing.assert_allclose(P.sum(1), 1)
    # n_threads=None leaves the caller's threads alone
    seen.clear()
    SoftNeuralNetClassifier(max_epochs=1, random_state=0,
                            callbacks=[("watch", Watch())]).fit(X, Y)
    assert seen[0] == outside


def test_network_n_threads_restored_after_an_error_inside_fit(three_threads):
    from skorch.callbacks import Callback

    from sksoft.neural_network import SoftNeuralNetClassifier

    class Fail(Callback):
        def on_epoch_end(self, net, **kwargs):
            assert torch.get_num_threads() == 2
            raise RuntimeError("inside fit")

    X, Y = _data()
    outside = _pools()
    net = SoftNeuralNetClassifier(max_epochs=3, random_state=0, n_threads=2,
                                  callbacks=[("fail", Fail())])
    with pytest.raises(RuntimeError, match="inside fit"):
        net.fit(X, Y)
    assert _pools() == outside


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError)])
def test_network_n_threads_is_validated(bad, exc):
    from sksoft.neural_network import SoftNeuralNetClassifier

    X, Y = _data()
    with pytest.raises(exc, match="n_threads"):
        SoftNeuralNetClassifier(max_epochs=1, n_threads=bad).fit(X, Y)


def test_network_results_do_not_depend_on_whether_n_threads_is_set(three_threads):
    """With one thread either way, setting it through n_threads gives the same model."""
    from sksoft.neural_network import SoftNeuralNetClassifier

    X, Y = _data()
    a = SoftNeuralNetClassifier(max_epochs=3, random_state=0, n_threads=1).fit(X, Y)
    with thread_budget(1):
        b = SoftNeuralNetClassifier(max_epochs=3, random_state=0).fit(X, Y)
        pb = b.predict_proba(X)
    np.testing.assert_array_equal(a.predict_proba(X), pb)



def test_study_fits_run_under_the_thread_budget(tmp_path, monkeypatch, three_threads):
    from sksoft.study import _fit, run

    seen = []
    real = _fit.evaluate

    def spy(*args, **kwargs):
        seen.append(_pools())
        return real(*args, **kwargs)

    monkeypatch.setattr(_fit, "evaluate", spy)
    outside = _pools()
    res = run(model="mlp", sources=("gold",), regimes=("overparameterised",), seeds=1, folds=2,
              epochs=2, n_jobs=1, threads_per_fit=1, out=str(tmp_path / "o"), progress=False,
              figures=False)
    assert res.complete and len(seen) == 2
    assert all(s[0] == 1 and set(s[1].values()) == {1} for s in seen)
    assert _pools() == outside

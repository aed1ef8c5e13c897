import json

import numpy as np
import pandas as pd
import pytest

from sksoft._threads import available_cores, thread_budget
from sksoft.cli import main
from sksoft.study import EXTENDED_METRICS, METRICS, REGIMES, run
from sksoft.study._vocabulary import DYNAMICS_METRICS, TRAINING_METRICS

pytest.importorskip("torch")


def test_study_end_to_end_mlp(tmp_path):
    out = tmp_path / "study"
    res = run(model="mlp", sources=("gold", "human"), seeds=2, folds=2, epochs=3,
              difficulty_bins=2, out=str(out), progress=False, n_jobs=1, threads_per_fit=1)
    assert res.complete
    for name in ("results.csv", "curves.csv", "dynamics.csv", "summary.md", "config.json"):
        assert (out / name).exists(), name
    for regime in REGIMES:
        for fig in ("reliability.png", "ece_by_difficulty.png", "seed_spread.png",
                    "data_maps.png", "dynamics.png", "differences.png"):
            assert (out / "figures" / regime / fig).stat().st_size > 1000, (regime, fig)
    df = pd.read_csv(out / "results.csv")
    assert list(df.columns) == ["regime", "source", "seed", "fold", "bin", "metric", "value"]
    assert set(df["regime"]) == set(REGIMES)
    assert set(df["source"]) == {"gold", "human"}
    assert set(df["seed"]) == {0, 1} and set(df["fold"]) == {0, 1}
    assert set(df["bin"].astype(str)) == {"all", "0", "1"}
    per_fit = {"fit_seconds", "carto_confidence_vs_entropy", "carto_variability_vs_entropy",
               *TRAINING_METRICS}
    assert set(METRICS) | set(EXTENDED_METRICS) | per_fit == set(df["metric"])
    assert len(df) == 2 * 2 * 2 * 2 * (3 * (len(METRICS) + len(EXTENDED_METRICS))
                                       + len(per_fit))
    finite = ~df["metric"].isin(["entropy_correlation", "converged"])
    assert np.isfinite(df[finite]["value"]).all()
    conv = df[df["metric"] == "converged"].groupby("regime")["value"]
    assert conv.apply(lambda v: v.isna().all())["regularised"]  # fixed epochs: no rule
    assert conv.apply(lambda v: v.isin([0.0, 1.0]).all())["overparameterised"]
    curves = pd.read_csv(out / "curves.csv")
    assert set(curves["epoch"]) == {1, 2, 3} and set(curves["regime"]) == set(REGIMES)
    dyn = pd.read_csv(out / "dynamics.csv")
    assert list(dyn.columns) == ["regime", "source", "seed", "fold", "epoch", "metric", "value"]
    assert set(dyn["metric"]) == set(DYNAMICS_METRICS)
    assert set(dyn["epoch"]) <= {1, 2, 3} and {1, 2, 3} <= set(dyn["epoch"])
    # every fit's last epoch is there; churn is NaN at epoch 1 only
    last = dyn.groupby(["regime", "source", "seed", "fold"])["epoch"].max()
    ep = df[df["metric"] == "epochs"].set_index(["regime", "source", "seed", "fold"])["value"]
    pd.testing.assert_series_equal(last.astype(float), ep.loc[last.index], check_names=False)
    churn = dyn[dyn["metric"] == "churn"]
    assert churn[churn["epoch"] == 1]["value"].isna().all()
    assert churn[churn["epoch"] > 1]["value"].between(0, 1).all()
    # the final held-out metrics are those of results.csv
    fin = dyn[(dyn["epoch"] == 3) & (dyn["metric"] == "gold_nll")].set_index(
        ["regime", "source", "seed", "fold"])["value"]
    ref = df[(df["metric"] == "gold_nll") & (df["bin"].astype(str) == "all")].set_index(
        ["regime", "source", "seed", "fold"])["value"]
    np.testing.assert_allclose(fin.sort_index(), ref.loc[fin.index].sort_index(), rtol=1e-5)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["config"]["seeds"] == 2 and cfg["versions"]["sksoft"]
    assert cfg["regimes"]["overparameterised"]["params"]["module__hidden_units"] == [512, 512]
    assert cfg["regimes"]["overparameterised"]["params"]["module__dropout"] == 0.0
    assert cfg["regimes"]["regularised"]["params"]["optimizer__weight_decay"] == 1e-4
    assert cfg["regimes"]["overparameterised"]["max_epochs"] == 3
    assert cfg["execution"] == {"cores": available_cores(), "parallel_fits": 1,
                                "threads_per_fit": 1, "backend": "loky"}
    summary = (out / "summary.md").read_text()
    assert "human soft" in summary and "prediction_churn" in summary and "cartography" in summary
    assert "## Training regimes" in summary and "| `module__hidden_units` | 128 | 512 x 512 |" \
        in summary
    assert "## Regime: regularised" in summary and "## Regime: overparameterised" in summary
    assert "interpolate" in summary and "Convergence dynamics on the held-out fold" in summary
    # the paired differences are made within each regime, never across
    diffs = pd.read_csv(out / "differences.csv")
    assert diffs.columns[0] == "regime" and set(diffs["regime"]) == set(REGIMES)
    assert summary.count("### Which differences hold up") == len(REGIMES)
    for regime in REGIMES:
        sub = diffs[(diffs["regime"] == regime) & (diffs["reference"] == "gold")
                    & (diffs["metric"] == "gold_nll") & (diffs["bin"].astype(str) == "all")]
        assert list(sub["source"]) == ["human"]
        mean = res.summary["mean"]
        assert sub["difference"].iloc[0] == pytest.approx(
            mean.loc[(regime, "human"), "gold_nll"] - mean.loc[(regime, "gold"), "gold_nll"],
            rel=1e-4, abs=1e-6)
    dyn_dir = out / "cartography" / "overparameterised" / "human" / "training_dynamics"
    lines = (dyn_dir / "dynamics_epoch_2.jsonl").read_text().splitlines()
    rec = json.loads(lines[0])
    assert set(rec) == {"guid", "logits_epoch_2", "gold"} and len(rec["logits_epoch_2"]) == 10
    st = res.summary["stability"]
    assert st["prediction_churn"].notna().all()
    assert set(st.index.get_level_values("regime")) == set(REGIMES)
    assert res.summary["mean"].loc[("overparameterised", "human"), "gold_nll"] == \
        pytest.approx(df[(df["regime"] == "overparameterised") & (df["source"] == "human")
                         & (df["metric"] == "gold_nll") & (df["bin"].astype(str) == "all")]
                      ["value"].mean())


def test_study_is_reproducible_and_cli(tmp_path, capsys):
    kw = dict(model="logreg", sources=("gold", "smoothing", "teacher"), seeds=2, folds=2,
              progress=False, figures=False, n_jobs=1)
    a = run(out=str(tmp_path / "a"), **kw).results
    b = run(out=str(tmp_path / "b"), **kw).results
    a = a[a["metric"] != "fit_seconds"].reset_index(drop=True)
    b = b[b["metric"] != "fit_seconds"].reset_index(drop=True)
    key = ["regime", "source", "seed", "fold", "bin", "metric"]
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True),
                                  b.sort_values(key).reset_index(drop=True))
    code = main(["study", "--model", "logreg", "--sources", "gold", "human", "--seeds", "1",
                 "--folds", "2", "--out", str(tmp_path / "cli"), "--no-progress", "--no-figures",
                 "--n-jobs", "1"])
    assert code == 0
    assert "human soft" in capsys.readouterr().out
    cfg = json.loads((tmp_path / "cli" / "config.json").read_text())
    assert cfg["regimes"]["regularised"]["params"] == {"C": 0.05}
    assert cfg["regimes"]["overparameterised"]["params"] == {"C": 1e4, "max_iter": 5000}


def test_network_study_is_reproducible(tmp_path):
    # in parallel (two loky workers, one thread per fit)
    kw = dict(model="mlp", sources=("gold", "human"), seeds=1, folds=2, epochs=2,
              progress=False, figures=False, n_jobs=2)
    a = run(out=str(tmp_path / "a"), **kw)
    b = run(out=str(tmp_path / "b"), **kw)
    assert a.config.n_jobs == 2 and a.config.threads_per_fit == max(1, available_cores() // 2)
    ck = ["regime", "source", "seed", "fold", "epoch", "metric"]
    pd.testing.assert_frame_equal(a.checkpoints.sort_values(ck).reset_index(drop=True),
                                  b.checkpoints.sort_values(ck).reset_index(drop=True))
    a, b = a.results, b.results
    key = ["regime", "source", "seed", "fold", "bin", "metric"]
    a = a[a["metric"] != "fit_seconds"].sort_values(key).reset_index(drop=True)
    b = b[b["metric"] != "fit_seconds"].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_study_interrupt_keeps_partial_results(tmp_path, monkeypatch):
    from sksoft.study import _runner

    calls = {"n": 0}
    real = _runner.fit_one

    def flaky(task, data, cfg):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(task, data, cfg)

    monkeypatch.setattr(_runner, "fit_one", flaky)
    res = run(model="logreg", sources=("gold", "human"), seeds=1, folds=3,
              out=str(tmp_path / "p"), progress=False, figures=False, n_jobs=1)
    assert not res.complete
    df = pd.read_csv(tmp_path / "p" / "results.csv")
    assert len(df[["regime", "source", "seed", "fold"]].drop_duplicates()) == 2
    assert "interrupted" in (tmp_path / "p" / "summary.md").read_text()


def test_bad_config():
    with pytest.raises(ValueError, match="unknown sources"):
        run(sources=("gold", "oracle"), progress=False)
    with pytest.raises(ValueError, match="model must be"):
        run(model="svm", progress=False)


def test_cli_reports_bad_input_cleanly(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["study", "--data", "cifar10h", "--data-path", str(tmp_path / "missing.npz"),
              "--no-progress", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert "missing.npz" in capsys.readouterr().err


def test_cnn_study_on_images(tmp_path):
    res = run(model="cnn", sources=("gold", "teacher"), seeds=1, folds=2, epochs=4,
              out=str(tmp_path / "cnn"), progress=False, figures=False, n_jobs=1,
              regimes=("regularised",))
    df = res.results
    assert set(df["source"]) == {"gold", "teacher"}
    sel = (df["metric"] == "gold_accuracy") & (df["bin"].astype(str) == "all")
    acc = df[sel].set_index(["source", "fold"])["value"]
    assert (acc["gold"] > 0.5).all()  # trained on the 8x8 digit images, far above chance (0.1)
    assert acc["teacher"].notna().all()  # distilled from a short-trained, cross-fitted CNN


def test_study_on_own_data(tmp_path):
    from sksoft.datasets import make_ambiguous_digits

    d = make_ambiguous_digits(random_state=1)
    path = tmp_path / "mine.npz"
    np.savez(path, X=d.X, y_gold=d.y_gold, counts=d.counts, annotations=d.annotations)
    res = run(data=str(path), model="logreg", sources=("gold", "human", "dawid_skene"), seeds=1,
              folds=2, out=str(tmp_path / "o"), progress=False, figures=False, n_jobs=1)
    assert res.complete and res.data_info["n_items"] == len(d.X)
    arrays = {"images": d.images[:, None], "y_gold": d.y_gold, "soft_labels": d.soft_labels}
    res = run(data=arrays, model="logreg", sources=("gold",), seeds=1, folds=2,
              out=str(tmp_path / "p"), progress=False, figures=False, n_jobs=1)
    cfg = json.loads((tmp_path / "p" / "config.json").read_text())
    assert cfg["config"]["data"] == "arrays given to sksoft.study.run"
    with pytest.raises(ValueError, match="y_gold must be"):
        run(data={"X": d.X, "y_gold": d.y_gold + 20, "counts": d.counts}, progress=False)
    with pytest.raises(ValueError, match="needs y_gold"):
        run(data={"X": d.X, "y_gold": d.y_gold}, progress=False)


def test_report_command(tmp_path, capsys):
    rng = np.random.default_rng(0)
    y = rng.dirichlet(np.ones(3), size=200)
    p = rng.dirichlet(np.ones(3), size=200)
    np.savez(tmp_path / "pred.npz", y_true=y, y_prob=p)
    assert main(["report", str(tmp_path / "pred.npz"), "--difficulty-bins", "2",
                 "--csv", str(tmp_path / "r.csv")]) == 0
    out = capsys.readouterr().out
    assert "overall" in out and "ece" in out
    table = pd.read_csv(tmp_path / "r.csv", index_col=0)
    from sksoft.metrics import expected_calibration_error

    assert table.loc["overall", "ece"] == pytest.approx(expected_calibration_error(y, p))
    assert main(["report"]) == 0  # the built-in example
    with pytest.raises(SystemExit):
        np.savez(tmp_path / "bad.npz", y=y)
        main(["report", str(tmp_path / "bad.npz")])


def _digits_task(n=400, seed=0):
    from sksoft.study._data import load_study_data
    from sksoft.study._config import StudyConfig

    data = load_study_data(StudyConfig())
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(data["y_gold"]))[:n]
    return data, idx[: n // 2], idx[n // 2:]


@pytest.mark.parametrize("regime", REGIMES)
def test_checkpoint_evaluation_never_feeds_back_into_training(regime):
    """Same seeds, with and without the held-out checkpoints: bitwise the same final model."""
    from sksoft.study._config import StudyConfig
    from sksoft.study._dynamics import HeldOutCheckpoints
    from sksoft.study._registry import make_model, make_source

    data, train, test = _digits_task(300)
    cfg = StudyConfig(model="mlp", epochs=4, n_jobs=1).resolved()
    X, gold, human = data["X"], data["y_gold"], data["human"]

    def fit(watch):
        model = make_model(cfg, make_source("human", 7, cfg), 7, regime,
                           callbacks=[] if watch is None else [("checkpoints", watch)])
        if watch is not None:
            watch.preprocess = model[:-1]
        with thread_budget(1):
            model.fit(X[train], gold[train], softneuralnetclassifier__soft_labels=human[train])
        return model

    watch = HeldOutCheckpoints(X[test], [1, 2, 5])
    plain, watched = fit(None), fit(watch)
    np.testing.assert_array_equal(plain.predict_proba(X[test]), watched.predict_proba(X[test]))
    np.testing.assert_array_equal(plain[-1].history_[:, "train_loss"],
                                  watched[-1].history_[:, "train_loss"])
    for a, b in zip(plain[-1].module_.parameters(), watched[-1].module_.parameters()):
        assert torch_equal(a, b)
    # it did record: the checkpoints and the last epoch, whose probabilities are the model's
    last = len(watched[-1].history_)
    assert sorted(watch.proba_) == sorted({1, 2, 5, last} & set(range(1, last + 1)))
    np.testing.assert_allclose(watch.proba_[last], watched.predict_proba(X[test]), atol=1e-6)
    assert np.isnan(watch.churn_[1]) and 0 <= watch.churn_[2] <= 1


def torch_equal(a, b):
    import torch

    return torch.equal(a.detach(), b.detach())


def test_held_out_checkpoints_churn_and_last_epoch():
    """Churn compares each epoch with the one before (a reference from the recorded logits)."""
    from sksoft.neural_network import SoftNeuralNetClassifier
    from sksoft.study._dynamics import HeldOutCheckpoints, TrainingDynamics

    data, train, test = _digits_task(300, seed=1)
    X = data["X"]
    both = np.concatenate([train, test])
    # the training-dynamics callback on the same rows gives every epoch's predictions
    watch = HeldOutCheckpoints(X[both], [1, 2, 5])
    net = SoftNeuralNetClassifier(max_epochs=7, random_state=0, train_split=None, lr=0.01,
                                  callbacks=[("dynamics", TrainingDynamics()),
                                             ("checkpoints", watch)])
    net.fit(X[both], data["y_gold"][both])
    logits = net.callbacks_[0][1].logits_ if net.callbacks_[0][0] == "dynamics" else \
        dict(net.callbacks_)["dynamics"].logits_
    pred = [L.argmax(1) for L in logits]
    assert sorted(watch.proba_) == [1, 2, 5, 7]
    for e in (2, 5, 7):
        assert watch.churn_[e] == pytest.approx(np.mean(pred[e - 1] != pred[e - 2]))
        np.testing.assert_array_equal(watch.proba_[e].argmax(1), pred[e - 1])


def _toy_data(n=150, K=3, seed=0):
    """Well separated Gaussian classes: a small network fits them in a few hundred epochs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    X = (rng.normal(size=(K, 5))[y] * 6 + rng.normal(size=(n, 5))).astype(np.float32)
    soft = np.full((n, K), 0.2 / (K - 1))
    soft[np.arange(n), y] = 0.8
    return {"X": X, "y_gold": y, "soft_labels": soft}


def test_overparameterised_regime_stops_on_the_training_loss(tmp_path):
    cap = 400
    res = run(data=_toy_data(), model="mlp", sources=("gold", "human"),
              regimes=("overparameterised",), seeds=1, folds=2, epochs=cap, hidden=(32,),
              n_jobs=1, threads_per_fit=1, out=str(tmp_path / "o"), progress=False,
              figures=False)
    df = res.results
    fits = df[df["metric"].isin(["epochs", "converged"])].pivot_table(
        index=["source", "fold"], columns="metric", values="value")
    # the rule stopped them before the cap, and the curves end where the fits stopped
    assert (fits["converged"] == 1).all() and (fits["epochs"] < cap).all()
    last = res.curves.groupby(["source", "fold"])["epoch"].max()
    np.testing.assert_array_equal(last.sort_index().to_numpy(),
                                  fits["epochs"].sort_index().to_numpy())
    # stopped because the training loss stopped falling: no epoch in the last 5 beat the best
    # before them by 1e-3 (the rule), while the held-out data played no part
    for _, c in res.curves.groupby(["source", "fold"]):
        loss = c.sort_values("epoch")["train_loss"].to_numpy()
        assert loss[-5:].min() > loss[:-5].min() - 1e-3
        assert np.isnan(c["valid_loss"]).all()  # no held-out split in this regime
    # a gold-trained network interpolates its training rows in this regime
    tr = df[(df["source"] == "gold") & (df["metric"] == "train_gold_accuracy")]["value"]
    assert (tr == 1).all()
    # the summary's table carries stopped fits forward: at a checkpoint after every fit of a
    # source stopped, its row is the final one and its churn 0
    ck = res.summary["checkpoints"]
    assert set(ck["regime"]) == {"overparameterised"}
    checked = 0
    for source, stop in fits["epochs"].groupby(level="source").max().items():
        sub = ck[ck["source"] == source].set_index(["epoch", "metric"])
        for e in [e for e in (10, 20, 50, 100, 200) if e > stop]:
            assert sub.loc[(e, "gold_nll"), "n_running"] == 0
            assert sub.loc[(e, "gold_nll"), "mean"] == pytest.approx(
                sub.loc[("final", "gold_nll"), "mean"])
            assert sub.loc[(e, "churn"), "mean"] == 0
            checked += 1
    assert checked
    # the cap: with 2 epochs nothing converges
    short = run(data=_toy_data(), model="mlp", sources=("gold",),
                regimes=("overparameterised",), seeds=1, folds=2, epochs=2, hidden=(16,),
                n_jobs=1, out=str(tmp_path / "s"), progress=False, figures=False).results
    assert (short[short["metric"] == "converged"]["value"] == 0).all()


def test_checkpoint_table_carries_stopped_fits_forward():
    import pandas as pd

    from sksoft.study._config import StudyConfig
    from sksoft.study._report import checkpoint_table
    from sksoft.study._results import CHECKPOINT_COLUMNS

    class View:
        settings = {"overparameterised": {"max_epochs": 20}}
        config = StudyConfig(sources=("gold",))

    rows = []
    # seed 0 stops at epoch 7, seed 1 runs to 20 (one fold each)
    for seed, epochs in ((0, (1, 2, 5, 7)), (1, (1, 2, 5, 10, 20))):
        for e in epochs:
            rows += [("overparameterised", "gold", seed, 0, e, "gold_nll", 10.0 * seed + e),
                     ("overparameterised", "gold", seed, 0, e, "churn", 0.5)]
    View.checkpoints = pd.DataFrame(rows, columns=CHECKPOINT_COLUMNS).drop(columns="regime")
    t = checkpoint_table(View).set_index(["epoch", "metric"])
    assert t.loc[(5, "gold_nll"), "mean"] == pytest.approx((5 + 15) / 2)
    assert t.loc[(5, "gold_nll"), "n_running"] == 2
    # epoch 10: seed 0 counts with its final model (epoch 7), seed 1 with its epoch 10
    assert t.loc[(10, "gold_nll"), "mean"] == pytest.approx((7 + 20) / 2)
    assert t.loc[(10, "gold_nll"), "std"] == pytest.approx(np.std([7, 20], ddof=1))
    assert t.loc[(10, "gold_nll"), "n_running"] == 1
    assert t.loc[(10, "churn"), "mean"] == pytest.approx((0.0 + 0.5) / 2)
    assert t.loc[(20, "gold_nll"), "mean"] == pytest.approx((7 + 30) / 2)
    assert t.loc[("final", "gold_nll"), "mean"] == pytest.approx((7 + 30) / 2)
    assert t.loc[("final", "churn"), "mean"] == pytest.approx(0.5)
    assert 50 not in t.index.get_level_values(0)


def test_training_fit_and_checkpoint_metrics_match_numpy():
    from sksoft.study._evaluate import checkpoint_metrics, training_fit

    rng = np.random.default_rng(3)
    n, K = 200, 4
    P = rng.dirichlet(np.ones(K) * 0.7, size=n)
    T = rng.dirichlet(np.ones(K), size=n)
    gold = rng.integers(0, K, n)
    got = {m: v for _, m, v in training_fit(P, T, gold)}
    assert got["train_own_accuracy"] == pytest.approx(np.mean(P.argmax(1) == T.argmax(1)))
    assert got["train_own_nll"] == pytest.approx(-np.mean(np.sum(T * np.log(P), 1)))
    assert got["train_own_kl"] == pytest.approx(np.mean(np.sum(T * np.log(T / P), 1)))
    assert got["train_gold_accuracy"] == pytest.approx(np.mean(P.argmax(1) == gold))
    assert got["train_gold_nll"] == pytest.approx(-np.mean(np.log(P[np.arange(n), gold])))
    rows = checkpoint_metrics({3: P.astype(np.float32)}, {3: 0.25}, gold, T, n_bins=10)
    got = {m: v for e, m, v in rows if e == 3}
    conf, pred = P.max(1), P.argmax(1)
    bins = np.minimum((conf * 10).astype(int), 9)
    ece = sum(abs(np.mean(conf[bins == b]) - np.mean(pred[bins == b] == gold[bins == b]))
              * np.mean(bins == b) for b in range(10) if np.any(bins == b))
    assert got["gold_ece"] == pytest.approx(ece, abs=1e-6)
    assert got["human_kl"] == pytest.approx(np.mean(np.sum(T * np.log(T / P), 1)), rel=1e-5)
    assert got["gold_nll"] == pytest.approx(-np.mean(np.log(P[np.arange(n), gold])), rel=1e-5)
    assert got["gold_accuracy"] == pytest.approx(np.mean(pred == gold))
    assert got["churn"] == 0.25


def test_regime_overrides_are_resolved_and_recorded(tmp_path):
    from sksoft.study._config import StudyConfig
    from sksoft.study._registry import regime_settings

    cfg = StudyConfig(model="mlp", hidden=(32, 16), dropout=0.1, weight_decay=0.0,
                      epochs=7).resolved()
    for regime in REGIMES:
        s = regime_settings(cfg, regime)
        assert s["params"]["module__hidden_units"] == (32, 16)
        assert s["params"]["module__dropout"] == 0.1
        assert s["params"]["optimizer__weight_decay"] == 0.0
        assert s["max_epochs"] == 7
    cnn = StudyConfig(model="cnn", hidden=(8,)).resolved()
    assert regime_settings(cnn, "overparameterised")["params"]["module__width"] == 8
    assert regime_settings(cnn, "overparameterised")["params"]["module__dropout"] == 0.0
    assert regime_settings(cnn, "regularised")["params"]["module__dropout"] == 0.2
    # defaults: --quick shortens the regularised regime only; the full run uses both regimes
    quick = StudyConfig(quick=True).resolved()
    assert regime_settings(quick, "regularised")["max_epochs"] == 12
    assert regime_settings(quick, "overparameterised")["max_epochs"] == 100
    assert StudyConfig().resolved().regimes == REGIMES
    code = main(["study", "--model", "mlp", "--regime", "overparameterised", "--sources", "gold",
                 "--seeds", "1", "--folds", "2", "--epochs", "2", "--hidden", "16",
                 "--dropout", "0.3", "--n-jobs", "1", "--threads-per-fit", "1", "--out",
                 str(tmp_path / "cli"), "--no-progress", "--no-figures"])
    assert code == 0
    cfg_json = json.loads((tmp_path / "cli" / "config.json").read_text())
    assert list(cfg_json["regimes"]) == ["overparameterised"]
    params = cfg_json["regimes"]["overparameterised"]["params"]
    assert params["module__hidden_units"] == [16] and params["module__dropout"] == 0.3
    assert cfg_json["execution"]["threads_per_fit"] == 1
    summary = (tmp_path / "cli" / "summary.md").read_text()
    assert "| `module__dropout` | 0.3 |" in summary and "at most 2" in summary


@pytest.mark.parametrize("kwargs, match", [
    (dict(model="logreg", hidden=(8,)), "logreg has none"),
    (dict(model="cnn", hidden=(8, 8)), "one integer"),
    (dict(hidden=(0,)), "hidden must be"),
    (dict(dropout=1.0), "dropout must be"),
    (dict(weight_decay=-1.0), "weight_decay must be"),
    (dict(epochs=0), "epochs must be"),
    (dict(regimes=("huge",)), "regimes must be"),
    (dict(n_jobs=0), "n_jobs must be"),
    (dict(threads_per_fit=0), "threads_per_fit must be"),
])
def test_bad_regime_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(progress=False, **kwargs)

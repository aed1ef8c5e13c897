import json

import numpy as np
import pandas as pd
import pytest

from sksoft.cli import main
from sksoft.study import METRICS, run

pytest.importorskip("torch")


def test_study_end_to_end_mlp(tmp_path):
    out = tmp_path / "study"
    res = run(model="mlp", sources=("gold", "human", "mode_aligned"), seeds=2, folds=2,
              epochs=3, difficulty_bins=2, out=str(out), progress=False)
    assert res.complete
    for name in ("results.csv", "curves.csv", "summary.md", "config.json"):
        assert (out / name).exists(), name
    for fig in ("reliability.png", "ece_by_difficulty.png", "seed_spread.png", "data_maps.png"):
        assert (out / "figures" / fig).stat().st_size > 1000, fig
    df = pd.read_csv(out / "results.csv")
    assert list(df.columns) == ["source", "seed", "fold", "bin", "metric", "value"]
    assert set(df["source"]) == {"gold", "human", "mode_aligned"}
    assert set(df["seed"]) == {0, 1} and set(df["fold"]) == {0, 1}
    assert set(df["bin"].astype(str)) == {"all", "0", "1"}
    assert set(METRICS) | {"fit_seconds", "carto_confidence_vs_entropy",
                           "carto_variability_vs_entropy"} == set(df["metric"])
    assert len(df) == 3 * 2 * 2 * (3 * len(METRICS) + 3)
    assert np.isfinite(df[df["metric"] != "entropy_correlation"]["value"]).all()
    curves = pd.read_csv(out / "curves.csv")
    assert set(curves["epoch"]) == {1, 2, 3}
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["config"]["seeds"] == 2 and cfg["versions"]["sksoft"]
    summary = (out / "summary.md").read_text()
    assert "human soft" in summary and "prediction_churn" in summary and "cartography" in summary
    dyn = out / "cartography" / "human" / "training_dynamics"
    lines = (dyn / "dynamics_epoch_2.jsonl").read_text().splitlines()
    rec = json.loads(lines[0])
    assert set(rec) == {"guid", "logits_epoch_2", "gold"} and len(rec["logits_epoch_2"]) == 10
    assert res.summary["stability"]["prediction_churn"].notna().all()


def test_study_is_reproducible_and_cli(tmp_path, capsys):
    kw = dict(model="logreg", sources=("gold", "smoothing", "teacher"), seeds=2, folds=2,
              progress=False, figures=False)
    a = run(out=str(tmp_path / "a"), **kw).results
    b = run(out=str(tmp_path / "b"), **kw).results
    a = a[a["metric"] != "fit_seconds"].reset_index(drop=True)
    b = b[b["metric"] != "fit_seconds"].reset_index(drop=True)
    key = ["source", "seed", "fold", "bin", "metric"]
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True),
                                  b.sort_values(key).reset_index(drop=True))
    code = main(["study", "--model", "logreg", "--sources", "gold", "human", "--seeds", "1",
                 "--folds", "2", "--out", str(tmp_path / "cli"), "--no-progress", "--no-figures"])
    assert code == 0
    assert "human soft" in capsys.readouterr().out


def test_network_study_is_reproducible(tmp_path):
    kw = dict(model="mlp", sources=("gold", "human"), seeds=1, folds=2, epochs=2,
              progress=False, figures=False)
    a = run(out=str(tmp_path / "a"), **kw).results
    b = run(out=str(tmp_path / "b"), **kw).results
    key = ["source", "seed", "fold", "bin", "metric"]
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
              out=str(tmp_path / "p"), progress=False, figures=False)
    assert not res.complete
    df = pd.read_csv(tmp_path / "p" / "results.csv")
    assert len(df[["source", "seed", "fold"]].drop_duplicates()) == 2
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
              out=str(tmp_path / "cnn"), progress=False, figures=False)
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
              folds=2, out=str(tmp_path / "o"), progress=False, figures=False)
    assert res.complete and res.data_info["n_items"] == len(d.X)
    arrays = {"images": d.images[:, None], "y_gold": d.y_gold, "soft_labels": d.soft_labels}
    res = run(data=arrays, model="logreg", sources=("gold",), seeds=1, folds=2,
              out=str(tmp_path / "p"), progress=False, figures=False)
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

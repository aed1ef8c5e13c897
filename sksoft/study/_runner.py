"""The study runner: every (label source, seed, fold) fit, evaluated against gold and humans."""

import json
import platform
import sys
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

__all__ = ["StudyConfig", "StudyResults", "run", "SOURCE_NAMES", "METRICS"]

SOURCE_NAMES = ("gold", "human", "majority", "mode_aligned", "smoothing", "teacher", "ensemble")
SOURCE_LABELS = {
    "gold": "gold (one-hot)",
    "human": "human soft",
    "majority": "human majority",
    "mode_aligned": "mode-aligned human",
    "smoothing": "label smoothing",
    "teacher": "teacher distillation",
    "ensemble": "ensemble disagreement",
    "dawid_skene": "Dawid-Skene",
}
#: metric name -> (reference, key in the calibration report); lower is better except accuracies
#: and the entropy correlation
METRICS = {
    "gold_accuracy": ("gold", "accuracy"),
    "plurality_accuracy": ("plurality", "accuracy"),
    "gold_nll": ("gold", "cross_entropy"),
    "gold_brier": ("gold", "brier"),
    "gold_ece": ("gold", "ece"),
    "gold_classwise_ece": ("gold", "classwise_ece"),
    "human_cross_entropy": ("human", "cross_entropy"),
    "human_kl": ("human", "kl_divergence"),
    "human_js": ("human", "jensen_shannon"),
    "human_ece": ("human", "ece"),
    "human_classwise_ece": ("human", "classwise_ece"),
    "entropy_correlation": ("human", "entropy_correlation"),
}
#: for the carto_* correlations, mirroring human uncertainty means low confidence and high
#: variability on items people disagree on
HIGHER_IS_BETTER = {"gold_accuracy", "plurality_accuracy", "entropy_correlation",
                    "carto_variability_vs_entropy"}


@dataclass
class StudyConfig:
    """Every setting of a study run (saved as config.json)."""

    data: str = "digits"
    data_path: str = None
    model: str = "mlp"
    sources: tuple = SOURCE_NAMES
    seeds: int = 5
    folds: int = 5
    difficulty_bins: int = 3
    n_bins: int = 15
    epochs: int = 30
    device: str = "cpu"
    n_jobs: int = 1
    backend: str = "loky"
    scheduler: str = None
    out: str = "sksoft_study"
    quick: bool = False
    figures: bool = True
    progress: bool = True
    extra: dict = field(default_factory=dict)

    def resolved(self):
        """Apply --quick and check values."""
        cfg = replace(self)  # shallow: user arrays given as data are not copied
        if cfg.quick:
            cfg.seeds = min(cfg.seeds, 2)
            cfg.folds = min(cfg.folds, 3)
            cfg.epochs = min(cfg.epochs, 12)
        unknown = set(cfg.sources) - set(SOURCE_LABELS)
        if unknown:
            raise ValueError(f"unknown sources {sorted(unknown)}; choose from {sorted(SOURCE_LABELS)}.")
        if cfg.model not in ("logreg", "mlp", "cnn"):
            raise ValueError(f"model must be logreg, mlp or cnn; got {cfg.model!r}.")
        if isinstance(cfg.data, str) and cfg.data not in ("digits", "cifar10h") \
                and not cfg.data.endswith(".npz"):
            raise ValueError(f"data must be digits, cifar10h, a path to an .npz or a dict of "
                             f"arrays; got {cfg.data!r}.")
        if cfg.backend not in ("loky", "dask", "sequential"):
            raise ValueError(f"backend must be loky, dask or sequential; got {cfg.backend!r}.")
        if cfg.seeds < 1 or cfg.folds < 2 or cfg.difficulty_bins < 1:
            raise ValueError("need seeds >= 1, folds >= 2 and difficulty_bins >= 1.")
        cfg.sources = tuple(cfg.sources)
        return cfg


# --------------------------------------------------------------------------- data
def own_data(arrays, name="user data"):
    """Validate a user's arrays for the study.

    ``arrays`` (a dict, or the arrays of an ``.npz``) holds ``X`` (n, d) features and/or
    ``images`` (n, channels, height, width), ``y_gold`` (n,) integer class codes, and the human
    labels as ``soft_labels`` (n, K) distributions or ``counts`` (n, K) votes; optionally
    ``annotations`` (n, n_annotators) wide votes with NaN for missing, ``class_names`` (K,).
    """
    from .._targets import check_probability_matrix, validate_rows
    from ..annotations import counts_to_soft

    keys = set(arrays)
    if "y_gold" not in keys or not ({"soft_labels", "counts"} & keys) \
            or not ({"X", "images"} & keys):
        raise ValueError("study data needs y_gold, soft_labels or counts, and X or images; got "
                         f"{sorted(keys)}.")
    if "soft_labels" in keys:
        human = np.asarray(check_probability_matrix(arrays["soft_labels"], name="soft_labels"),
                           dtype=np.float64)
        validate_rows(human, "soft_labels")
    else:
        human = counts_to_soft(arrays["counts"])
    n, K = human.shape
    y = np.asarray(arrays["y_gold"])
    if y.shape != (n,) or y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= K:
        raise ValueError(f"y_gold must be {n} integer class codes in [0, {K}).")
    out = {"y_gold": y.astype(np.intp), "human": human, "name": str(name),
           "annotations": np.asarray(arrays["annotations"], dtype=np.float64)
           if "annotations" in keys else None,
           "class_names": np.asarray(arrays["class_names"]) if "class_names" in keys
           else np.array([str(k) for k in range(K)])}
    for key in ("X", "images"):
        if key in keys:
            a = np.asarray(arrays[key], dtype=np.float32)
            if a.shape[0] != n:
                raise ValueError(f"{key} has {a.shape[0]} rows but the labels have {n}.")
            out[key] = a
    if "X" not in out:
        out["X"] = out["images"].reshape(n, -1)
    out.setdefault("images", None)
    return out


def load_study_data(cfg):
    """Features, gold labels, human distributions (and annotations / images when present)."""
    if not isinstance(cfg.data, str):
        return own_data(cfg.data, cfg.extra.get("name", "user data"))
    if cfg.data.endswith(".npz"):
        with np.load(cfg.data, allow_pickle=False) as z:
            return own_data({k: z[k] for k in z.files}, cfg.extra.get("name", cfg.data))
    if cfg.data == "digits":
        from ..datasets import make_ambiguous_digits

        d = make_ambiguous_digits(random_state=0)
        images = d.images[:, None, :, :].astype(np.float32)
        return {"X": d.X.astype(np.float32), "images": images, "y_gold": d.y_gold,
                "human": d.soft_labels, "annotations": d.annotations,
                "class_names": d.class_names, "name": "ambiguous digits (built-in, simulated "
                "annotators)"}
    from ..datasets import image_features, load_cifar10h

    path = cfg.data_path
    if path is None:
        from ..datasets import fetch_cifar10h

        d = fetch_cifar10h()
    elif str(path).endswith(".npz"):
        d = load_cifar10h(path)
    else:
        p = Path(path)
        d = load_cifar10h(counts_path=p / "cifar10h-counts.npy",
                          batch_path=next((q for q in (p / "cifar-10-binary.tar.gz",
                                                       p / "test_batch.bin") if q.exists()), None))
    n_items = int(cfg.extra.get("n_items") or d.counts.shape[0])
    images = d.images[:n_items]
    X = image_features(images)
    mean = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
    std = np.array([0.247, 0.243, 0.261], dtype=np.float32)
    imgs = ((images.astype(np.float32) / 255.0 - mean) / std).transpose(0, 3, 1, 2)
    return {"X": X, "images": np.ascontiguousarray(imgs), "y_gold": d.y_gold[:n_items],
            "human": d.soft_labels[:n_items], "annotations": None,
            "class_names": d.class_names, "name": "CIFAR-10H (human labels, Peterson et al. 2019)"}


# --------------------------------------------------------------------------- models
def _teacher(cfg, seed):
    """The model behind teacher distillation and ensembles: logistic regression on features,
    a short-trained CNN on images."""
    if cfg is not None and cfg.model == "cnn":
        from ..neural_network import SoftNeuralNetClassifier
        from ..nn import SmallCNN

        return SoftNeuralNetClassifier(SmallCNN, lr=2e-3, max_epochs=max(3, cfg.epochs // 3),
                                       train_split=None, device=cfg.device, random_state=seed)
    from ..linear_model import SoftLogisticRegression

    return SoftLogisticRegression(C=0.1)


def make_source(name, seed, cfg=None):
    from .. import label_sources as ls

    cheap = _teacher(cfg, seed)
    return {
        "gold": lambda: ls.GoldLabels(),
        "human": lambda: ls.HumanSoftLabels(),
        "majority": lambda: ls.HumanMajority(),
        "mode_aligned": lambda: ls.ModeAlignedHumanLabels(),
        "smoothing": lambda: ls.LabelSmoothing(0.1),
        "teacher": lambda: ls.TeacherDistillation(cheap, cv=3, random_state=seed),
        "ensemble": lambda: ls.EnsembleDisagreement(
            cheap, n_members=4, cv=3, method="bootstrap" if cfg is None or cfg.model != "cnn"
            else "seeds", random_state=seed),
        "dawid_skene": lambda: ls.CrowdAggregate("dawid_skene"),
    }[name]()


def make_model(cfg, source, seed, n_classes):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if cfg.model == "logreg":
        from ..linear_model import SoftLogisticRegression

        return make_pipeline(StandardScaler(), SoftLogisticRegression(C=0.05, label_source=source))
    from ..neural_network import SoftNeuralNetClassifier
    from ._cartography import TrainingDynamics

    common = dict(label_source=source, random_state=seed, max_epochs=cfg.epochs, device=cfg.device,
                  train_split=0.1, callbacks=[("dynamics", TrainingDynamics())],
                  optimizer__weight_decay=1e-4)
    if cfg.model == "cnn":
        from ..nn import SmallCNN

        return SoftNeuralNetClassifier(SmallCNN, lr=2e-3, batch_size=128, **common)
    return make_pipeline(StandardScaler(), SoftNeuralNetClassifier(
        lr=1e-3, batch_size=64, module__hidden_units=(128,), module__dropout=0.2, **common))


# --------------------------------------------------------------------------- one fit
def _human_mode(H):
    return np.argmax(H, axis=1)


def evaluate(P, gold, human, n_difficulty_bins, n_bins=15):
    """Metrics of test-fold predictions, overall and per difficulty bin.

    Returns a list of (bin, metric, value) with bin "all" or an integer (0 = easiest).
    """
    from ..metrics import calibration_report, difficulty_bins, difficulty_scores

    ids, _ = difficulty_bins(difficulty_scores(human), n_bins=n_difficulty_bins)
    rep = {
        "gold": calibration_report(gold, P, groups=ids, n_bins=n_bins),
        "human": calibration_report(human, P, groups=ids, n_bins=n_bins),
    }
    pred = P.argmax(axis=1)
    agree = (pred == _human_mode(human)).astype(float)
    rows = []
    for b in ["all"] + sorted(rep["gold"].groups):
        for metric, (ref, key) in METRICS.items():
            if ref == "plurality":
                val = agree.mean() if b == "all" else agree[ids == b].mean()
            else:
                r = rep[ref]
                val = (r.overall if b == "all" else r.groups[b])[key]
            rows.append((b, metric, float(val)))
    return rows


def _net_of(model):
    from sklearn.pipeline import Pipeline

    return model.steps[-1][1] if isinstance(model, Pipeline) else model


def fit_one(task, data, cfg):
    """Fit one (source, seed, fold) and evaluate it; runs in a worker process."""
    import warnings

    source_name, seed, fold, train, test = task
    if cfg.n_jobs != 1 and cfg.model != "logreg":
        import torch

        torch.set_num_threads(1)
    X = data["images"] if cfg.model == "cnn" else data["X"]
    if X is None:
        raise ValueError("the cnn model needs images (n, channels, height, width) in the data.")
    gold, human = data["y_gold"], data["human"]
    K = human.shape[1]
    model = make_model(cfg, make_source(source_name, seed * 1000 + fold, cfg), seed * 1000 + fold, K)
    params = {"soft_labels": human[train]}
    if data.get("annotations") is not None:
        params["annotations"] = data["annotations"][train]
    step = model.steps[-1][0] if hasattr(model, "steps") else None
    fit_kw = {f"{step}__{k}" if step else k: v for k, v in params.items()}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X[train], gold[train], **fit_kw)
    fit_seconds = time.perf_counter() - t0
    P = model.predict_proba(X[test])
    rows = evaluate(P, gold[test], human[test], cfg.difficulty_bins, cfg.n_bins)
    rows.append(("all", "fit_seconds", fit_seconds))
    out = {"task": (source_name, seed, fold), "test": test, "proba": P.astype(np.float32),
           "rows": rows, "curves": None, "dynamics": None}
    net = _net_of(model)
    if hasattr(net, "history_"):
        hist = net.history_
        out["curves"] = [(int(h["epoch"]), float(h["train_loss"]), float(h.get("valid_loss", np.nan)))
                         for h in hist]
        dyn = dict(net.callbacks_).get("dynamics")
        if dyn is not None and dyn.logits_:
            from ..metrics import difficulty_scores
            from ._cartography import data_map
            from scipy.stats import spearmanr

            items = train[dyn.indices_]
            dm = data_map(dyn.logits_, gold[items])
            h_ent = difficulty_scores(human[items])
            for name in ("confidence", "variability"):
                # undefined (NaN) when either side is constant, e.g. after a single epoch
                ok = np.ptp(dm[name]) > 0 and np.ptp(h_ent) > 0
                rho = float(spearmanr(dm[name], h_ent).statistic) if ok else float("nan")
                rows.append(("all", f"carto_{name}_vs_entropy", rho))
            if seed == 0 and fold == 0:
                out["dynamics"] = {"items": items, "logits": dyn.logits_, **dm}
    return out


# --------------------------------------------------------------------------- results
class StudyResults:
    """What a study run produced.

    Attributes
    ----------
    config : StudyConfig
    results : pandas.DataFrame
        Tidy: source, seed, fold, bin, metric, value.
    curves : pandas.DataFrame
        Network training curves: source, seed, fold, epoch, train_loss, valid_loss.
    oof : dict
        (source, seed) -> out-of-fold probabilities (n_items, K), NaN rows where unfinished.
    dynamics : dict
        source -> cartography data of seed 0, fold 0 (networks only).
    out : Path
    complete : bool
        False when the run was interrupted.
    """

    def __init__(self, config, data, out):
        import pandas as pd

        self.config = config
        self.out = Path(out)
        self.results = pd.DataFrame(columns=["source", "seed", "fold", "bin", "metric", "value"])
        self.curves = pd.DataFrame(columns=["source", "seed", "fold", "epoch", "train_loss",
                                            "valid_loss"])
        self.oof = {}
        self.dynamics = {}
        self.data_info = {"name": data["name"], "n_items": int(data["human"].shape[0]),
                          "n_classes": int(data["human"].shape[1])}
        self._data = data
        self.complete = False
        self.summary = None
        self.n_fits = 0

    def add(self, res):
        import pandas as pd

        source, seed, fold = res["task"]
        self.n_fits += 1
        new = pd.DataFrame([(source, seed, fold, b, m, v) for b, m, v in res["rows"]],
                           columns=self.results.columns)
        header = not (self.out / "results.csv").exists()
        new.to_csv(self.out / "results.csv", mode="a", header=header, index=False)
        self.results = new if self.results.empty else pd.concat([self.results, new],
                                                                ignore_index=True)
        key = (source, seed)
        if key not in self.oof:
            self.oof[key] = np.full(self._data["human"].shape, np.nan, dtype=np.float32)
        self.oof[key][res["test"]] = res["proba"]
        if res["curves"]:
            c = pd.DataFrame([(source, seed, fold, *row) for row in res["curves"]],
                             columns=self.curves.columns)
            self.curves = c if self.curves.empty else pd.concat([self.curves, c], ignore_index=True)
        if res["dynamics"] is not None:
            self.dynamics[source] = res["dynamics"]


def _versions():
    import importlib

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for mod in ("sksoft", "numpy", "scipy", "sklearn", "torch", "skorch", "pandas", "matplotlib"):
        try:
            out[mod] = importlib.import_module(mod).__version__
        except Exception:  # noqa: BLE001
            out[mod] = None
    return out


def _tasks(cfg, data):
    from sklearn.model_selection import StratifiedKFold

    tasks = []
    for seed in range(cfg.seeds):
        splits = list(StratifiedKFold(cfg.folds, shuffle=True, random_state=seed).split(
            data["y_gold"], data["y_gold"]))
        for source in cfg.sources:
            for fold, (train, test) in enumerate(splits):
                tasks.append((source, seed, fold, train, test))
    return tasks


def _executor(cfg, data, tasks):
    """Yield results as they complete, with the chosen backend."""
    if cfg.backend == "sequential" or cfg.n_jobs == 1 and cfg.backend == "loky":
        for t in tasks:
            yield fit_one(t, data, cfg)
        return
    from joblib import Parallel, delayed, parallel_config

    if cfg.backend == "dask":
        from ._dask import dask_client

        # the client becomes the default one that joblib's dask backend uses; large arrays go
        # to the workers once (scatter), not with every task
        with dask_client(cfg.scheduler, cfg.n_jobs), \
                parallel_config(backend="dask", scatter=[data]):
            yield from Parallel(n_jobs=-1, return_as="generator_unordered")(
                delayed(fit_one)(t, data, cfg) for t in tasks)
        return
    yield from Parallel(n_jobs=cfg.n_jobs, return_as="generator_unordered")(
        delayed(fit_one)(t, data, cfg) for t in tasks)


def run(config=None, **kwargs):
    """Run the human-vs-model uncertainty audit; also the ``sksoft study`` command.

    Parameters
    ----------
    config : StudyConfig, optional
    **kwargs
        Fields of :class:`StudyConfig` (``data``, ``model``, ``sources``, ``seeds``, ``folds``,
        ``difficulty_bins``, ``device``, ``n_jobs``, ``backend``, ``scheduler``, ``out``,
        ``quick``, ...).

    Returns
    -------
    StudyResults
        Also written to ``out``: results.csv, curves.csv, summary.md, config.json, figures/*.png
        and cartography/<source>/training_dynamics/*.jsonl (network models).
    """
    from ._report import write_outputs

    cfg = (config or StudyConfig(**kwargs)).resolved()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("results.csv", "curves.csv", "summary.md"):
        if (out / stale).exists():
            (out / stale).unlink()
    data = load_study_data(cfg)
    if "dawid_skene" in cfg.sources and data.get("annotations") is None:
        raise ValueError(f"the dawid_skene source needs annotator-level votes, which {cfg.data} "
                         "does not provide (only vote counts).")
    tasks = _tasks(cfg, data)
    settings = {f.name: getattr(cfg, f.name) for f in fields(cfg)}
    if not isinstance(settings["data"], str):
        settings["data"] = "arrays given to sksoft.study.run"
    config_json = {"config": settings, "data": {"name": data["name"],
                   "n_items": int(data["human"].shape[0])}, "versions": _versions(),
                   "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                   "seeds": {"cv_split": "StratifiedKFold(shuffle=True, random_state=seed)",
                             "model": "seed * 1000 + fold"}}
    (out / "config.json").write_text(json.dumps(config_json, indent=2, default=str))
    results = StudyResults(cfg, data, out)
    bar = None
    if cfg.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc="sksoft study", unit="fit", file=sys.stderr)
    try:
        for res in _executor(cfg, data, tasks):
            results.add(res)
            if bar is not None:
                bar.set_postfix_str(f"{res['task'][0]} seed {res['task'][1]} fold {res['task'][2]}")
                bar.update(1)
        results.complete = True
    except KeyboardInterrupt:
        print(f"\ninterrupted: {results.n_fits} of {len(tasks)} fits kept; writing partial "
              f"results to {out}", file=sys.stderr)
    finally:
        if bar is not None:
            bar.close()
    write_outputs(results)
    return results


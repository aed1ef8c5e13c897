"""What a study trains: the label source and the model of each fit, by name and regime.

The hyper-parameters of the study's models are fixed here, in one table per model and training
regime (``REGIME_PARAMS``, ``TRAINING``), so that every source is compared with the same model;
``sksoft study`` does not tune them. :func:`regime_settings` resolves a regime with the user's
explicit overrides (``--hidden``, ``--dropout``, ``--weight-decay``, ``--epochs``); the
resolved values are what config.json and summary.md report.
"""

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .. import label_sources as ls
from ..calibration import (
    DirichletCalibration,
    IsotonicCalibration,
    TemperatureScaling,
    VectorScaling,
)
from ..linear_model import SoftLogisticRegression

__all__ = ["make_source", "make_model", "make_teacher", "make_calibrator", "regime_settings",
           "SOURCE_FACTORIES", "CALIBRATOR_FACTORIES", "REGIME_PARAMS", "TRAINING",
           "CALIBRATION_SELECTION"]

#: hyper-parameters of the model trained on each source's targets, per model and regime.
#: ``regularised`` is the study's original model. ``overparameterised`` removes every
#: regulariser and widens the model so that it can fit its training targets exactly: for
#: logistic regression an all but unpenalised fit (C = 1e4, L-BFGS to convergence; a linear
#: model cannot grow, so "over-parameterised" here means "free to fit its targets"), for the
#: MLP two hidden layers of 512 units, for the CNN the same network without dropout; no
#: dropout, no weight decay, no held-out split, shuffled mini-batches.
REGIME_PARAMS = {
    "logreg": {
        "regularised": {"C": 0.05},
        "overparameterised": {"C": 1e4, "max_iter": 5000},
    },
    "mlp": {
        "regularised": {"lr": 1e-3, "batch_size": 64, "module__hidden_units": (128,),
                        "module__dropout": 0.2, "train_split": 0.1,
                        "optimizer__weight_decay": 1e-4, "iterator_train__shuffle": False},
        "overparameterised": {"lr": 1e-3, "batch_size": 64, "module__hidden_units": (512, 512),
                              "module__dropout": 0.0, "train_split": None,
                              "optimizer__weight_decay": 0.0, "iterator_train__shuffle": True},
    },
    "cnn": {
        "regularised": {"lr": 2e-3, "batch_size": 128, "module__width": 32,
                        "module__dropout": 0.2, "train_split": 0.1,
                        "optimizer__weight_decay": 1e-4, "iterator_train__shuffle": False},
        "overparameterised": {"lr": 2e-3, "batch_size": 128, "module__width": 32,
                              "module__dropout": 0.0, "train_split": None,
                              "optimizer__weight_decay": 0.0, "iterator_train__shuffle": True},
    },
}
#: how long the networks train in each regime: ``epochs`` (``quick_epochs`` under --quick),
#: and for ``overparameterised`` a cap: training stops earlier once the training loss (on the
#: fit's own targets, never on held-out data) has not fallen by ``threshold`` nats below its
#: best for ``patience`` epochs
TRAINING = {
    "regularised": {"epochs": 30, "quick_epochs": 12, "patience": None, "threshold": None},
    "overparameterised": {"epochs": 100, "quick_epochs": 100, "patience": 5, "threshold": 1e-3},
}
#: the cheap model behind teacher distillation and ensembles: logistic regression on features,
#: or (cnn studies) a CNN trained for a third of the regularised regime's epochs (at least 3);
#: the same in every regime, so that a source's targets do not change with the regime
TEACHER_PARAMS = {"features": {"C": 0.1}, "cnn": {"lr": 2e-3, "train_split": None}}
#: cross-fitting folds and ensemble size of the model-based sources (kept small: they fit
#: ``cv`` (teacher) or ``cv * n_members`` (ensemble) extra models per study fit)
CROSS_FIT = {"cv": 3, "n_members": 4}
#: the user's overrides (StudyConfig field) -> the network parameter they set
_OVERRIDES = {"hidden": {"mlp": "module__hidden_units", "cnn": "module__width"},
              "dropout": {"mlp": "module__dropout", "cnn": "module__dropout"},
              "weight_decay": {"mlp": "optimizer__weight_decay",
                               "cnn": "optimizer__weight_decay"}}


def regime_settings(cfg, regime):
    """Every resolved hyper-parameter of ``cfg.model`` in ``regime``.

    Returns
    -------
    dict
        ``params`` (the estimator's parameters), and for networks ``max_epochs``,
        ``patience`` and ``threshold`` of the stopping rule (None: fixed epochs).
    """
    params = dict(REGIME_PARAMS[cfg.model][regime])
    if cfg.model == "logreg":
        return {"params": params}
    for field, target in _OVERRIDES.items():
        value = getattr(cfg, field, None)
        if value is not None:
            if field == "hidden":
                value = tuple(int(v) for v in value)
                value = value[0] if cfg.model == "cnn" else value
            params[target[cfg.model]] = value
    train = TRAINING[regime]
    if cfg.epochs is not None:
        epochs = int(cfg.epochs)
    else:
        epochs = train["quick_epochs"] if cfg.quick else train["epochs"]
    return {"params": params, "max_epochs": epochs, "patience": train["patience"],
            "threshold": train["threshold"]}


def make_teacher(cfg, seed):
    """The model behind teacher distillation and ensembles (see ``TEACHER_PARAMS``)."""
    if cfg is not None and cfg.model == "cnn":
        from ..neural_network import SoftNeuralNetClassifier
        from ..nn import SmallCNN

        epochs = regime_settings(cfg, "regularised")["max_epochs"]
        return SoftNeuralNetClassifier(SmallCNN, max_epochs=max(3, epochs // 3),
                                       device=cfg.device, random_state=seed,
                                       **TEACHER_PARAMS["cnn"])
    return SoftLogisticRegression(**TEACHER_PARAMS["features"])


#: source name -> factory(seed, cfg) of its label source
SOURCE_FACTORIES = {
    "gold": lambda seed, cfg: ls.GoldLabels(),
    "human": lambda seed, cfg: ls.HumanSoftLabels(),
    "majority": lambda seed, cfg: ls.HumanMajority(),
    "mode_aligned": lambda seed, cfg: ls.ModeAlignedHumanLabels(),
    "smoothing": lambda seed, cfg: ls.LabelSmoothing(epsilon=0.1),
    "teacher": lambda seed, cfg: ls.TeacherDistillation(
        teacher=make_teacher(cfg, seed), cv=CROSS_FIT["cv"], random_state=seed),
    "ensemble": lambda seed, cfg: ls.EnsembleDisagreement(
        estimator=make_teacher(cfg, seed), n_members=CROSS_FIT["n_members"], cv=CROSS_FIT["cv"],
        # networks differ by their seeds; bootstrap resamples would cost a network per draw
        method="bootstrap" if cfg is None or cfg.model != "cnn" else "seeds",
        random_state=seed),
    "dawid_skene": lambda seed, cfg: ls.CrowdAggregate(method="dawid_skene"),
}


def make_source(name, seed, cfg=None):
    """The label source called ``name`` (a key of ``SOURCE_FACTORIES``), seeded with ``seed``."""
    return SOURCE_FACTORIES[name](seed, cfg)


def make_model(cfg, source, seed, regime="regularised", callbacks=()):
    """The model of one fit: ``cfg.model`` in ``regime`` with ``source`` as its label source.

    Features are standardised (logreg, mlp). The networks record their training dynamics for
    the cartography (a ``TrainingDynamics`` callback named ``"dynamics"``), get ``callbacks``
    ((name, callback) pairs) as well, and stop on the regime's training-loss rule (``"stop"``,
    an ``EarlyStopping`` on ``train_loss``, called last).
    """
    settings = regime_settings(cfg, regime)
    if cfg.model == "logreg":
        return make_pipeline(StandardScaler(),
                             SoftLogisticRegression(label_source=source, **settings["params"]))
    from skorch.callbacks import EarlyStopping

    from ..neural_network import SoftNeuralNetClassifier
    from ._dynamics import TrainingDynamics

    # the stopping rule comes last, so that the other callbacks see the epoch it stops after
    cbs = [("dynamics", TrainingDynamics()), *callbacks]
    if settings["patience"] is not None:
        cbs.append(("stop", EarlyStopping(monitor="train_loss", patience=settings["patience"],
                                          threshold=settings["threshold"],
                                          threshold_mode="abs")))
    common = dict(label_source=source, random_state=seed, max_epochs=settings["max_epochs"],
                  device=cfg.device, callbacks=cbs)
    if cfg.model == "cnn":
        from ..nn import SmallCNN

        return SoftNeuralNetClassifier(SmallCNN, **common, **settings["params"])
    return make_pipeline(StandardScaler(),
                         SoftNeuralNetClassifier(**common, **settings["params"]))


#: calibrator name -> factory of the unfitted recalibrator, in passthrough mode (fitted on a
#: fit's predicted probabilities of its calibration split); the library's defaults
CALIBRATOR_FACTORIES = {
    "temperature": lambda: TemperatureScaling("passthrough"),
    "vector": lambda: VectorScaling("passthrough"),
    "dirichlet": lambda: DirichletCalibration("passthrough"),
    "isotonic": lambda: IsotonicCalibration("passthrough"),
}
#: how the ``selected`` calibrator of a fit is chosen, on its calibration split only: the
#: candidate (``none`` and each recalibrator) with the lowest cross-entropy to the calibration
#: target, each recalibrator scored out of fold over ``cv`` folds of the calibration split
CALIBRATION_SELECTION = {"cv": 3}


def make_calibrator(name, target="gold"):
    """The unfitted recalibrator ``name`` (a key of ``CALIBRATOR_FACTORIES``), fitted to gold
    labels (``y``) or to the human labels passed as ``soft_labels`` (``target="human"``)."""
    cal = CALIBRATOR_FACTORIES[name]()
    return cal.set_params(calibrate_to="human" if target == "human" else "y")

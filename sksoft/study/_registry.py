"""What a study trains: the label source and the model of each fit, by name.

The hyper-parameters of the study's models are fixed here, in one table each, so that every
source is compared with the same model; ``sksoft study`` does not tune them.
"""

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .. import label_sources as ls
from ..linear_model import SoftLogisticRegression

__all__ = ["make_source", "make_model", "make_teacher", "SOURCE_FACTORIES", "MODEL_PARAMS"]

#: hyper-parameters of the model trained on each source's targets
MODEL_PARAMS = {
    "logreg": {"C": 0.05},
    "mlp": {"lr": 1e-3, "batch_size": 64, "module__hidden_units": (128,),
            "module__dropout": 0.2, "train_split": 0.1, "optimizer__weight_decay": 1e-4},
    "cnn": {"lr": 2e-3, "batch_size": 128, "train_split": 0.1,
            "optimizer__weight_decay": 1e-4},
}
#: the cheap model behind teacher distillation and ensembles: logistic regression on features,
#: or (cnn studies) a CNN trained for a third of the study's epochs (at least 3)
TEACHER_PARAMS = {"features": {"C": 0.1}, "cnn": {"lr": 2e-3, "train_split": None}}
#: cross-fitting folds and ensemble size of the model-based sources (kept small: they fit
#: ``cv`` (teacher) or ``cv * n_members`` (ensemble) extra models per study fit)
CROSS_FIT = {"cv": 3, "n_members": 4}


def make_teacher(cfg, seed):
    """The model behind teacher distillation and ensembles (see ``TEACHER_PARAMS``)."""
    if cfg is not None and cfg.model == "cnn":
        from ..neural_network import SoftNeuralNetClassifier
        from ..nn import SmallCNN

        return SoftNeuralNetClassifier(SmallCNN, max_epochs=max(3, cfg.epochs // 3),
                                       device=cfg.device, random_state=seed,
                                       **TEACHER_PARAMS["cnn"])
    return SoftLogisticRegression(**TEACHER_PARAMS["features"])


#: source name -> factory(seed, cfg) of its label source
SOURCE_FACTORIES = {
    "gold": lambda seed, cfg: ls.GoldLabels(),
    "human": lambda seed, cfg: ls.HumanSoftLabels(),
    "majority": lambda seed, cfg: ls.HumanMajority(),
    "mode_aligned": lambda seed, cfg: ls.ModeAlignedHumanLabels(),
    "smoothing": lambda seed, cfg: ls.LabelSmoothing(0.1),
    "teacher": lambda seed, cfg: ls.TeacherDistillation(
        make_teacher(cfg, seed), cv=CROSS_FIT["cv"], random_state=seed),
    "ensemble": lambda seed, cfg: ls.EnsembleDisagreement(
        make_teacher(cfg, seed), n_members=CROSS_FIT["n_members"], cv=CROSS_FIT["cv"],
        # networks differ by their seeds; bootstrap resamples would cost a network per draw
        method="bootstrap" if cfg is None or cfg.model != "cnn" else "seeds",
        random_state=seed),
    "dawid_skene": lambda seed, cfg: ls.CrowdAggregate("dawid_skene"),
}


def make_source(name, seed, cfg=None):
    """The label source called ``name`` (a key of ``SOURCE_FACTORIES``), seeded with ``seed``."""
    return SOURCE_FACTORIES[name](seed, cfg)


def make_model(cfg, source, seed):
    """The model of one fit: ``cfg.model`` with ``source`` as its label source.

    Features are standardised (logreg, mlp); the networks record their training dynamics for
    the cartography (a ``TrainingDynamics`` callback named ``"dynamics"``).
    """
    if cfg.model == "logreg":
        return make_pipeline(StandardScaler(),
                             SoftLogisticRegression(label_source=source, **MODEL_PARAMS["logreg"]))
    from ..neural_network import SoftNeuralNetClassifier
    from ._dynamics import TrainingDynamics

    common = dict(label_source=source, random_state=seed, max_epochs=cfg.epochs,
                  device=cfg.device, callbacks=[("dynamics", TrainingDynamics())])
    if cfg.model == "cnn":
        from ..nn import SmallCNN

        return SoftNeuralNetClassifier(SmallCNN, **common, **MODEL_PARAMS["cnn"])
    return make_pipeline(StandardScaler(),
                         SoftNeuralNetClassifier(**common, **MODEL_PARAMS["mlp"]))

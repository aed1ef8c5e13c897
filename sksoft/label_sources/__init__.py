"""Label sources: how the training targets are built, as grid-searchable hyper-parameters.

A label source is a small estimator-like object (``get_params`` / ``set_params`` / ``clone``)
passed as the ``label_source=`` parameter of every sksoft classifier. Inside ``fit`` -- and so
on the training fold only -- the classifier calls it with the gold labels ``y`` and the routed
human ``soft_labels`` of the training rows; it returns the (n, K) training targets. Sources that
fit models of their own (:class:`TeacherDistillation`, :class:`EnsembleDisagreement`) cross-fit
*within* the training rows, so no model ever predicts a row it was fitted on, and no row of a
test fold is seen at all.

Where things live: the protocol (:class:`LabelSource`, :func:`make_training_targets`, the
human-mode tie rule) is :mod:`sksoft._label_source`, below the estimators that call it;
``_simple.py`` holds the sources computed row by row, ``_crowd.py`` the aggregation of raw
annotations, ``_models.py`` the cross-fitted teacher and ensemble, which sit above the
estimators they clone.

Together they make the controlled comparison of the human-vs-model uncertainty study:

================================  =========================  ============================
source                            mode                       uncertainty
================================  =========================  ============================
:class:`GoldLabels`               gold                       none
:class:`HumanSoftLabels`          human (may correct gold)   human
:class:`HumanMajority`            human (may correct gold)   none  ("correction only")
:class:`ModeAlignedHumanLabels`   gold                       human ("uncertainty only")
:class:`LabelSmoothing`           gold                       uniform, synthetic
:class:`TeacherDistillation`      teacher                    model, synthetic
:class:`EnsembleDisagreement`     ensemble                   model, synthetic
================================  =========================  ============================
"""

from .._label_source import LabelSource, make_training_targets
from ._crowd import CrowdAggregate
from ._models import EnsembleDisagreement, TeacherDistillation
from ._simple import (
    GoldLabels,
    HumanMajority,
    HumanSoftLabels,
    LabelSmoothing,
    MixtureOfSources,
    ModeAlignedHumanLabels,
)

__all__ = [
    "LabelSource",
    "GoldLabels",
    "HumanSoftLabels",
    "HumanMajority",
    "ModeAlignedHumanLabels",
    "LabelSmoothing",
    "TeacherDistillation",
    "EnsembleDisagreement",
    "MixtureOfSources",
    "CrowdAggregate",
    "make_training_targets",
]

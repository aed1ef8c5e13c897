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
``_simple.py`` holds the sources computed row by row, ``_controls.py`` the null and dose
controls of the human labels, ``_crowd.py`` the aggregation of raw annotations,
``_external.py`` the precomputed distributions of every item (picked by the routed
``item_index``), ``_models.py`` the cross-fitted teacher and ensemble, which sit above the
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
:class:`ShuffledHumanLabels`      another same-gold item's   another same-gold item's
                                  human mode                 ("class-level null")
:class:`EntropyMatchedSmoothing`  gold                       the item's human amount,
                                                             uniform direction ("dose")
:class:`TeacherDistillation`      teacher                    model, synthetic
:class:`EnsembleDisagreement`     ensemble                   model, synthetic
:class:`ExternalSoftLabels`       external (LLM, crowd)      external
================================  =========================  ============================
"""

from .._label_source import LabelSource, make_training_targets
from ._controls import EntropyMatchedSmoothing, ShuffledHumanLabels
from ._crowd import CrowdAggregate
from ._external import ExternalSoftLabels
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
    "ShuffledHumanLabels",
    "EntropyMatchedSmoothing",
    "TeacherDistillation",
    "EnsembleDisagreement",
    "MixtureOfSources",
    "CrowdAggregate",
    "ExternalSoftLabels",
    "make_training_targets",
]

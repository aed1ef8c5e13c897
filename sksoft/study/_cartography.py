"""Dataset cartography (Swayamdipta et al., 2020) for networks trained with skorch.

:class:`._dynamics.TrainingDynamics` (a skorch callback, kept apart so that this module does
not import torch) records the network's logits on its training rows after every epoch. From
them, per training item: *confidence* (mean over epochs of the probability of the
gold class), *variability* (its standard deviation) and *correctness* (fraction of epochs whose
prediction is the gold class). :func:`write_training_dynamics` exports the logits in the jsonl
layout of allenai/cartography (``training_dynamics/dynamics_epoch_{e}.jsonl`` with ``guid``,
``logits_epoch_{e}`` and ``gold`` per line), so their plotting and filtering code reads them.
"""

import json
from pathlib import Path

import numpy as np
from scipy.special import softmax

__all__ = ["data_map", "write_training_dynamics"]


def data_map(logits, gold):
    """Confidence, variability and correctness per item from per-epoch logits.

    Parameters
    ----------
    logits : sequence of ndarray (n, K), one per epoch
    gold : ndarray (n,) of class codes

    Returns
    -------
    dict of ndarray (n,)
    """
    L = np.stack(logits)  # (E, n, K)
    P = softmax(L, axis=2)
    n = L.shape[1]
    p_gold = P[:, np.arange(n), gold]  # (E, n)
    correct = P.argmax(axis=2) == gold[None, :]
    return {"confidence": p_gold.mean(axis=0), "variability": p_gold.std(axis=0),
            "correctness": correct.mean(axis=0)}


def write_training_dynamics(folder, logits, gold, guids):
    """Write allenai/cartography's ``training_dynamics/dynamics_epoch_{e}.jsonl`` files."""
    folder = Path(folder) / "training_dynamics"
    folder.mkdir(parents=True, exist_ok=True)
    guids, gold = np.asarray(guids).tolist(), np.asarray(gold).tolist()
    for e, L in enumerate(logits):
        L = np.asarray(L, dtype=np.float64)
        with open(folder / f"dynamics_epoch_{e}.jsonl", "w") as fh:
            if not np.isfinite(L).all():  # NaN / inf: json's own spelling
                for guid, row, g in zip(guids, L, gold):
                    fh.write(json.dumps({"guid": int(guid),
                                         f"logits_epoch_{e}": [float(v) for v in row],
                                         "gold": int(g)}) + "\n")
                continue
            # finite floats: json.dumps writes repr(float); the same text, built directly
            key = json.dumps(f"logits_epoch_{e}")
            fh.writelines(f'{{"guid": {int(guid)}, {key}: [{", ".join(map(repr, row))}], '
                          f'"gold": {int(g)}}}\n' for guid, row, g in zip(guids, L.tolist(), gold))
    return folder

"""``eggesture fgd-train``: a dataset's evaluation nets, trained on its training split.

The FGD feature autoencoder (paper eq. 12) and, when the dataset has ``sem/`` annotations, the
gesture recogniser behind semantic-gesture recall, each saved as a checkpoint of its kind beside
the dataset (:mod:`eggesture.evaluation`), where ``eggesture evaluate`` finds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..data.motion import joint_indices
from ..data.windows import WindowSettings, prepare
from ..errors import ConfigError, DataError
from ..evaluation.feature_ae import (
    FeatureAEConfig,
    FeatureAETraining,
    FeatureExtractor,
    train_feature_ae,
)
from ..evaluation.recognizer import Recognizer, RecognizerTraining, train_recognizer

#: ``progress(what, done, total, value)``: a stage ("preparing", "autoencoder epoch",
#: "recogniser step") and how far it is.
Progress = Callable[[str, int, int, object], None]


@dataclass
class EvalNets:
    """What :func:`fgd_train` trained: the autoencoder, the recogniser (None when not trained)
    and, then, why not."""

    feature_ae: FeatureExtractor
    recognizer: Recognizer | None
    recognizer_skipped: str | None = None


def fgd_train(root: str | Path, settings: WindowSettings, *, train_splits: tuple[str, ...] = ("train",),
              net: FeatureAEConfig | None = None, training: FeatureAETraining | None = None,
              out: str | Path | None = None, recognizer: bool | None = None,
              recognizer_out: str | Path | None = None,
              recognizer_training: RecognizerTraining | None = None,
              progress: Progress | None = None) -> EvalNets:
    """Train the FGD autoencoder of ``root`` at ``settings`` on ``train_splits`` and, unless
    ``recognizer`` is False, the gesture recogniser when the dataset has ``sem/`` annotations
    (``recognizer=True``: an error without them). ``out`` / ``recognizer_out``: their folders
    (default beside the dataset)."""
    try:
        joint_indices(settings.joint_set)
    except ValueError as e:
        raise ConfigError(None, str(e)) from None

    def stage(what: str):
        return None if progress is None else (lambda d, t, v: progress(what, d, t, v))

    data = prepare(root, settings, train_splits=train_splits, progress=stage("preparing"))
    fx = train_feature_ae(data, out, train_splits=train_splits, net=net or FeatureAEConfig(),
                          training=training or FeatureAETraining(),
                          progress=stage("autoencoder epoch"))
    if recognizer is False:
        return EvalNets(fx, None, "not asked for")
    if not data.sem_classes:
        if recognizer:
            raise DataError(root, "no sem/ annotations: cannot train a gesture recogniser")
        return EvalNets(fx, None, "no sem/ annotations")
    rec = train_recognizer(data, recognizer_out, train_splits=train_splits,
                           training=recognizer_training or RecognizerTraining(),
                           progress=stage("recogniser step"))
    return EvalNets(fx, rec)

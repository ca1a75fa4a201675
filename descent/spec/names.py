"""The closed sets of the job spec: models, activations, losses, and the facts that group them.

Each name is written here once, as a `Literal` (what a field accepts); the tuples are read from
the literals, and the groups (which losses classify, which exhaustive search takes) are written
next to them, with the reason. The service checks requests with them, the engine's registries
(models.py, losses.py, optimizers.py) and descent.predict implement exactly them; a test holds
each registry to its set. The optimizer types are in optimizer.py: each is a model class there.
"""

from __future__ import annotations

from typing import Literal, get_args

ModelType = Literal["linear", "mlp"]
MODEL_TYPES: tuple[ModelType, ...] = get_args(ModelType)

Activation = Literal["relu", "sigmoid", "tanh", "identity"]
"""What an MLP puts between its layers; `identity` puts nothing (a deep linear map)."""
ACTIVATIONS: tuple[Activation, ...] = get_args(Activation)
DEFAULT_ACTIVATION: Activation = "relu"

Loss = Literal["mse", "mae", "huber", "bce", "cross_entropy"]
LOSSES: tuple[Loss, ...] = get_args(Loss)
CLASSIFICATION_LOSSES: tuple[Loss, ...] = ("bce", "cross_entropy")
"""Losses on class labels: the model outputs logits (one for bce, one per class for cross_entropy),
the target is never standardized, accuracy is reported, predictions are classes."""
REGRESSION_LOSSES: tuple[Loss, ...] = tuple(loss for loss in LOSSES if loss not in CLASSIFICATION_LOSSES)
"""Losses on a real-valued target (standardized with the features; r2 is reported)."""
SEARCH_LOSSES: tuple[Loss, ...] = ("mse", "mae", "huber", "bce")
"""Losses exhaustive search takes: those of a one-output linear model. Not cross_entropy: its model
has one output per class, a weight per class and feature, and the grid has one weight per feature."""

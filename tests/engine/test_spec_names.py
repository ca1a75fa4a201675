"""The engine and descent.predict implement exactly the names the job spec has: no more, no fewer."""

from __future__ import annotations

from descent import predict
from descent.spec import ACTIVATIONS, GRADIENT_TYPES, LOSSES, MODEL_TYPES, REGRESSION_LOSSES
from worker.engine import dense, losses, models, optimizers


def test_every_model_loss_and_optimizer_has_an_implementation() -> None:
    assert set(models.MODELS) == set(MODEL_TYPES)
    assert set(losses.LOSSES) == set(LOSSES)
    assert set(optimizers.METHODS) == set(GRADIENT_TYPES)


def test_which_losses_regress_is_the_engines_too() -> None:
    assert {name for name, spec in losses.LOSSES.items() if spec.regression} == set(REGRESSION_LOSSES)


def test_every_activation_has_an_implementation_in_each_place_that_applies_it() -> None:
    assert set(predict.ACTIVATION_FUNCTIONS) == set(ACTIVATIONS)
    assert set(models.ACTIVATION_MODULES) | {"identity"} == set(ACTIVATIONS)
    assert set(dense._ACTIVATIONS) == set(ACTIVATIONS)

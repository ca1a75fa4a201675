"""The service validates against its own copies of the engine's names (it never imports the engine,
which imports torch); here both are imported, and the copies must say the same."""

from __future__ import annotations

from service import schemas
from worker.engine import config
from worker.engine.losses import LOSSES


def test_the_service_knows_the_engines_models_losses_and_optimizers() -> None:
    assert set(schemas.LOSSES) == set(config.LOSS_TYPES) == set(LOSSES)
    assert set(schemas.CLASSIFICATION_LOSSES) == set(config.CLASSIFICATION_LOSSES)
    assert set(schemas.OPTIMIZER_TYPES) == set(config.SEARCH_TYPES + config.DESCENT_TYPES)


def test_the_service_knows_which_losses_exhaustive_search_takes() -> None:
    assert set(schemas.SEARCH_LOSSES) == set(config.SEARCH_LOSSES)

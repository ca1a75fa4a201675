"""The one error preprocessing raises: what is wrong, and the request field it is about."""

from __future__ import annotations


class PreprocessError(ValueError):
    """A job's features or target, or rows to predict, that cannot be encoded as asked.

    `field` is the dotted request field at fault (`target`, `positive`, `features.include`,
    `columns`, `rows[3].Age`): the API answers a 400 naming it, the worker fails the job with it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

"""Preprocessing: a dataset's typed columns (descent/table.py) as the float32 matrix a model takes.

Numpy only, one implementation for every side: the worker fits a `Pipeline` on a job's training
rows and trains on what it encodes; the API's `predict` reads the same pipeline back from the job's
config and encodes raw rows with it, so training and prediction cannot disagree.

- target.py   — the target for a loss (numbers, or classes with `positive`), and classes back
- pipeline.py — `fit_pipeline` (column choice, per-column encoders) and `Pipeline.transform`
- encoders.py — number (imputation, indicator), category (one-hot, folding), datetime (parts)
- raw.py      — JSON rows to predict, as columns
- labels.py   — how a category value is named and matched
"""

from .encoders import DATETIME_PARTS, datetime_parts
from .errors import PreprocessError
from .pipeline import Encoded, Pipeline, fit_pipeline
from .raw import columns_from_records, columns_from_rows, parse_datetime
from .target import TargetEncoding, decode, encode_target

__all__ = [
    "DATETIME_PARTS",
    "Encoded",
    "Pipeline",
    "PreprocessError",
    "TargetEncoding",
    "columns_from_records",
    "columns_from_rows",
    "datetime_parts",
    "decode",
    "encode_target",
    "fit_pipeline",
    "parse_datetime",
]

"""A trained job as one ONNX model: its fitted preprocessing, its parameters and its output function
(API.md, "Serving"), built with the `onnx` package from the standard ai.onnx and ai.onnx.ml
operators and checked with `onnx.checker`.

Why one graph for the whole pipeline: a serving stack then takes raw columns as the data has them
— one input per column the model reads — and nothing of descent is needed to serve. Each step is
the numpy code's (descent/preprocess, descent/predict.py) written again as operators, in the same
types: features are made in float32 (a number's missing cells filled with its imputed value, its
indicator; a category one-hot over its kept values with its `(other)` column, a value never seen
in training all zeros; a datetime's parts), then the model runs in float64 on them, as `predict`
does. The inputs:
- a number column: float32 (rows × 1), NaN for a missing cell;
- a category column: string (rows × 1), the value as the data had it, "" for a missing cell
  (booleans as "true"/"false");
- a datetime column: float64 (rows × 1), seconds since 1970-01-01T00:00:00Z, NaN for missing.
The outputs: regression `y` (float64, rows); classifiers `label` (the target's own values: strings,
numbers or booleans) and `probability` (P(positive class) for bce, rows × K for cross_entropy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from descent.predict import layers
from descent.preprocess import Pipeline
from descent.preprocess.encoders import CategoryEncoder, DatetimeEncoder, NumberEncoder

OPSET = 21
ML_OPSET = 3
ACTIVATIONS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "identity": "Identity"}
"""descent.predict's activations as ONNX operators (a test holds the two to the same names)."""


def export_onnx(
    pipeline: Pipeline, params: Any, model: Mapping[str, Any], loss: str, classes: list[Any] | None, name: str
) -> bytes:
    """The serialized, checked ONNX model of a job."""
    graph = _Graph()
    features = [graph.input_block(item.name, item.encoder) for item in pipeline.inputs]
    x = graph.node("Concat", features, axis=1) if len(features) > 1 else features[0]
    h = graph.node("Cast", [x], to=TensorProto.DOUBLE)
    pairs = layers(params, model)
    activation = ACTIVATIONS[model.get("activation", "relu")] if model.get("type") == "mlp" else "Identity"
    for i, (weight, bias) in enumerate(pairs):
        h = graph.node("Add", [graph.node("MatMul", [h, graph.const(weight.T)]), graph.const(bias)])
        if i < len(pairs) - 1:
            h = graph.node(activation, [h])
    graph.outputs_for(h, loss, classes)
    doc = helper.make_model(
        helper.make_graph(graph.nodes, name, graph.inputs, graph.outputs, graph.initializers),
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
        producer_name="descent",
    )
    onnx.checker.check_model(doc, full_check=True)
    return doc.SerializeToString()


class _Graph:
    """Nodes, constants, inputs and outputs, with fresh names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self.count = 0

    def fresh(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, value: Any) -> str:
        name = self.fresh("c")
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], domain: str = "", **attrs: Any) -> str:
        out = self.fresh(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], domain=domain, **attrs))
        return out

    def input_block(self, column: str, encoder: Any) -> str:
        """The float32 features one raw column makes (rows × its width)."""
        if isinstance(encoder, NumberEncoder):
            self.inputs.append(helper.make_tensor_value_info(column, TensorProto.FLOAT, [None, 1]))
            return self.number(column, encoder)
        if isinstance(encoder, CategoryEncoder):
            self.inputs.append(helper.make_tensor_value_info(column, TensorProto.STRING, [None, 1]))
            return self.category(column, encoder)
        assert isinstance(encoder, DatetimeEncoder)
        self.inputs.append(helper.make_tensor_value_info(column, TensorProto.DOUBLE, [None, 1]))
        return self.datetime(column, encoder)

    def number(self, values: str, encoder: NumberEncoder) -> str:
        """float32 values (rows × 1): missing cells filled; the indicator beside them."""
        missing = self.node("IsNaN", [values])
        fill = np.float32(0.0 if encoder.fill is None else encoder.fill)
        filled = self.node("Where", [missing, self.const(np.array([[fill]], np.float32)), values])
        if not encoder.indicator:
            return filled
        return self.node("Concat", [filled, self.node("Cast", [missing], to=TensorProto.FLOAT)], axis=1)

    def category(self, values: str, encoder: CategoryEncoder) -> str:
        """One-hot over the kept values and `(other)`: each text mapped to its slot (-1: unseen)."""
        slots: dict[str, int] = {}
        other = len(encoder.kept)
        for slot, labels in [*((k, [label]) for k, label in enumerate(encoder.kept)), (other, list(encoder.folded))]:
            for label in labels:
                for text in _texts(label):
                    slots.setdefault(text, slot)
        width = len(encoder.names)
        index = self.node(
            "LabelEncoder",
            [values],
            domain="ai.onnx.ml",
            keys_strings=list(slots),
            values_int64s=list(slots.values()),
            default_int64=-1,
        )
        hits = self.node("Equal", [index, self.const(np.arange(width, dtype=np.int64).reshape(1, -1))])
        return self.node("Cast", [hits], to=TensorProto.FLOAT)

    def datetime(self, seconds: str, encoder: DatetimeEncoder) -> str:
        """The parts of descent.preprocess.datetime_parts (a civil date from a day number: Howard
        Hinnant's algorithm in float64 floors, exact for any representable date), each a number."""
        whole = self.node("Floor", [seconds])
        days = self.node("Floor", [self.div(whole, 86400.0)])
        z = self.add(days, 719468.0)
        era = self.node("Floor", [self.div(z, 146097.0)])
        doe = self.sub(z, self.mul(era, 146097.0))
        yoe = self.node(
            "Floor",
            [self.div(self.sub(self.add(self.sub(doe, self.floor_div(doe, 1460.0)), self.floor_div(doe, 36524.0)), self.floor_div(doe, 146096.0)), 365.0)],
        )
        doy = self.sub(doe, self.add(self.sub(self.mul(yoe, 365.0), self.floor_div(yoe, 100.0)), self.floor_div(yoe, 4.0)))
        mp = self.floor_div(self.add(self.mul(doy, 5.0), 2.0), 153.0)
        day = self.add(self.sub(doy, self.floor_div(self.add(self.mul(mp, 153.0), 2.0), 5.0)), 1.0)
        early = self.node("Less", [mp, self.const(np.array([[10.0]]))])
        month = self.node("Where", [early, self.add(mp, 3.0), self.sub(mp, 9.0)])
        march = self.node("LessOrEqual", [month, self.const(np.array([[2.0]]))])
        year = self.add(self.add(yoe, self.mul(era, 400.0)), self.node("Cast", [march], to=TensorProto.DOUBLE))
        shifted = self.add(days, 3.0)
        weekday = self.sub(shifted, self.mul(self.floor_div(shifted, 7.0), 7.0))  # 1970-01-01: a Thursday
        hour = self.floor_div(self.sub(whole, self.mul(days, 86400.0)), 3600.0)
        parts = {"year": year, "month": month, "day": day, "dayofweek": weekday, "hour": hour}
        blocks = []
        for part in encoder.parts:
            value = self.node("Cast", [parts[part.name.rsplit(".", 1)[1]]], to=TensorProto.FLOAT)
            blocks.append(self.number(value, part))  # NaN seconds give NaN parts: filled as numbers
        return self.node("Concat", blocks, axis=1) if len(blocks) > 1 else blocks[0]

    def outputs_for(self, z: str, loss: str, classes: list[Any] | None) -> None:
        """`y` for regression; `label` and `probability` for classifiers (descent.predict.classify)."""
        if loss not in ("bce", "cross_entropy"):
            self.output("y", self.node("Reshape", [z, self.const(np.array([-1], np.int64))]), TensorProto.DOUBLE, [None])
            return
        if loss == "bce":
            probability = self.node("Reshape", [self.node("Sigmoid", [z]), self.const(np.array([-1], np.int64))])
            positive = self.node("GreaterOrEqual", [probability, self.const(np.array(0.5))])
            index = self.node("Cast", [positive], to=TensorProto.INT64)
            self.output("probability", probability, TensorProto.DOUBLE, [None])
        else:
            self.output("probability", self.node("Softmax", [z], axis=1), TensorProto.DOUBLE, [None, None])
            index = self.node("ArgMax", [z], axis=1, keepdims=0)
        values, kind = _labels(classes)
        self.output("label", self.node("Gather", [self.const(values), index]), kind, [None])

    def output(self, name: str, value: str, kind: int, shape: list[Any]) -> None:
        self.nodes.append(helper.make_node("Identity", [value], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, kind, shape))

    def add(self, a: str, b: str | float) -> str:
        return self.node("Add", [a, self.operand(b)])

    def sub(self, a: str, b: str | float) -> str:
        return self.node("Sub", [a, self.operand(b)])

    def operand(self, b: str | float) -> str:
        """A value's name, or a float64 constant's."""
        return b if isinstance(b, str) else self.const(np.array(float(b)))

    def mul(self, a: str, b: float) -> str:
        return self.node("Mul", [a, self.const(np.array(b))])

    def div(self, a: str, b: float) -> str:
        return self.node("Div", [a, self.const(np.array(b))])

    def floor_div(self, a: str, b: float) -> str:
        return self.node("Floor", [self.div(a, b)])


def _texts(label: Any) -> list[str]:
    """The strings a category input matches a label by: its text, "" for a missing cell, both
    spellings of a boolean."""
    if label is None:
        return [""]
    if isinstance(label, bool):
        return ["true", "True"] if label else ["false", "False"]
    return [str(label)]


def _labels(classes: list[Any] | None) -> tuple[np.ndarray, int]:
    """A classifier's classes as a constant of their own type: strings, booleans or numbers."""
    values = list(classes) if classes is not None else [0.0, 1.0]
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=bool), TensorProto.BOOL
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.float64), TensorProto.DOUBLE
    return np.array([str(v) for v in values], dtype=object), TensorProto.STRING

"""jax.lax's small public types: dimension-number aliases, gather modes, dot algorithms,
precision-likes, tolerances and RNG algorithms (irjax accepts them; its CPU math has one algorithm)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .lax_conv import ConvDimensionNumbers, Precision

__all__ = [
    "AccuracyMode",
    "ConvGeneralDilatedDimensionNumbers",
    "DotAlgorithm",
    "DotAlgorithmPreset",
    "DotDimensionNumbers",
    "GatherScatterMode",
    "PrecisionLike",
    "RaggedDotDimensionNumbers",
    "RandomAlgorithm",
    "Tolerance",
]

DotDimensionNumbers = tuple[tuple[Sequence[int], Sequence[int]], tuple[Sequence[int], Sequence[int]]]
ConvGeneralDilatedDimensionNumbers = tuple[str, str, str] | ConvDimensionNumbers | None


class GatherScatterMode(enum.Enum):
    """How gather/scatter treat out-of-bounds indices (JAX's names; from_any parses strings)."""

    CLIP = 1
    FILL_OR_DROP = 2
    PROMISE_IN_BOUNDS = 3
    ONE_HOT = 4

    @staticmethod
    def from_any(s: str | GatherScatterMode | None) -> GatherScatterMode:
        if isinstance(s, GatherScatterMode):
            return s
        if s is None:  # JAX's default
            return GatherScatterMode.FILL_OR_DROP
        names = {
            "clip": "CLIP",
            "fill": "FILL_OR_DROP",
            "drop": "FILL_OR_DROP",
            "promise_in_bounds": "PROMISE_IN_BOUNDS",
        }
        if isinstance(s, str) and s.lower() in names:
            return GatherScatterMode[names[s.lower()]]
        if isinstance(s, str) and s.upper() in GatherScatterMode.__members__:
            return GatherScatterMode[s.upper()]
        raise ValueError(f'Unknown gather mode "{s}"; expected one of clip, fill, drop, promise_in_bounds')


class AccuracyMode(enum.Enum):
    """Accuracy hint for transcendental ops (accepted; irjax has one implementation each)."""

    HIGHEST = 1
    DEFAULT = 2


class Tolerance:
    """An accuracy request (atol, rtol, ulps) for transcendental ops."""

    def __init__(self, atol: float = 0.0, rtol: float = 0.0, ulps: int = 0):
        if atol < 0 or rtol < 0 or ulps < 0:
            raise ValueError(f"Tolerance needs non-negative atol, rtol and ulps, got {atol}, {rtol}, {ulps}")
        self.atol, self.rtol, self.ulps = float(atol), float(rtol), int(ulps)

    def __repr__(self) -> str:
        return f"Tolerance(atol={self.atol}, rtol={self.rtol}, ulps={self.ulps})"


class RandomAlgorithm(enum.IntEnum):
    """rng_bit_generator's algorithm; RNG_DEFAULT is Philox on CPU, as XLA's."""

    RNG_DEFAULT = 0
    RNG_THREE_FRY = 1
    RNG_PHILOX = 2


class DotAlgorithm(NamedTuple):
    """A dot's storage and accumulation types (accepted as a precision; irjax's dots accumulate in
    the operand dtype or preferred_element_type)."""

    lhs_precision_type: Any
    rhs_precision_type: Any
    accumulation_type: Any
    lhs_component_count: int = 1
    rhs_component_count: int = 1
    num_primitive_operations: int = 1
    allow_imprecise_accumulation: bool = False


class DotAlgorithmPreset(enum.Enum):
    """Named dot algorithms (JAX's list); each names its operand and accumulation types."""

    DEFAULT = enum.auto()
    ANY_F8_ANY_F8_F32 = enum.auto()
    ANY_F8_ANY_F8_F32_FAST_ACCUM = enum.auto()
    ANY_F8_ANY_F8_ANY = enum.auto()
    ANY_F8_ANY_F8_ANY_FAST_ACCUM = enum.auto()
    F16_F16_F16 = enum.auto()
    F16_F16_F32 = enum.auto()
    BF16_BF16_BF16 = enum.auto()
    BF16_BF16_F32 = enum.auto()
    BF16_BF16_F32_X3 = enum.auto()
    BF16_BF16_F32_X6 = enum.auto()
    BF16_BF16_F32_X9 = enum.auto()
    TF32_TF32_F32 = enum.auto()
    TF32_TF32_F32_X3 = enum.auto()
    F32_F32_F32 = enum.auto()
    F64_F64_F64 = enum.auto()

    def __repr__(self) -> str:
        return f"DotAlgorithmPreset.{self.name}"

    @property
    def accumulation_type(self) -> np.dtype | None:
        acc = self.name.split("_X")[0].split("_")[-1]
        return {"F16": np.dtype(np.float16), "F32": np.dtype(np.float32), "F64": np.dtype(np.float64)}.get(acc)


PrecisionLike = (
    None | str | Precision | tuple[str, str] | tuple[Precision, Precision] | DotAlgorithm | DotAlgorithmPreset
)


class RaggedDotDimensionNumbers(NamedTuple):
    """ragged_dot_general's dims: dot_general's ((lhs_contract, rhs_contract), (lhs_batch,
    rhs_batch)), the lhs's ragged dims and the rhs's group dims."""

    dot_dimension_numbers: Any
    lhs_ragged_dimensions: Sequence[int]
    rhs_group_dimensions: Sequence[int]

"""Op records are complete when registered and never mutated after: the registry's records are
frozen, and the lowering workarounds (zero size, low precision) wrap a rule where it is applied."""

from __future__ import annotations

import dataclasses

import ml_dtypes
import numpy as np
import pytest
from irjax.dialects import registry
from irjax.dialects.func import parse_module
from irjax.dialects.mlir import tensor_type_str
from irjax.dialects.registry import Primitive, ShapedType
from irjax.passes.lower_stablehlo import lowering_rule
from irjax.passes.registry import run_pipeline

FIELDS = [f.name for f in dataclasses.fields(Primitive)]


@pytest.mark.parametrize("field", FIELDS)
def test_registered_record_cannot_be_mutated(field):
    prim = registry.get("sin")
    before = getattr(prim, field)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(prim, field, None)
    assert getattr(prim, field) is before


def test_every_registered_record_is_frozen():
    for name, prim in registry.all_primitives().items():
        with pytest.raises(dataclasses.FrozenInstanceError):
            prim.jvp = None
        assert prim.name == name


def test_register_takes_only_records():
    with pytest.raises(TypeError, match="Primitive record"):
        registry.register(object())
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(Primitive("sin", lambda x: x))


@pytest.mark.parametrize(
    "name",
    ["is_finite", "not", "popcnt", "clz", "and", "or", "xor", "shift_left", "eq", "lt", "ge"],
)
def test_nondifferentiable_ops_have_their_zero_tangent_rule_at_construction(name):
    """These used to get `jvp` assigned after registration; now the family helper builds it."""
    assert registry.get(name).jvp is not None


def test_own_lowering_is_what_the_record_holds():
    """The record keeps the family file's rule; the applied one wraps it (guard outermost)."""
    for name in ("add", "sin", "dot_general", "reduce_sum", "scatter", "sort"):
        prim = registry.get(name)
        rule = lowering_rule(prim)
        assert rule is not prim.lower, name
        assert rule._zero_size_guarded, name
        assert not getattr(prim.lower, "_zero_size_guarded", False), name
        assert lowering_rule(prim) is rule  # built once per record


def test_no_lowering_stays_none():
    prim = Primitive("_probe_no_lower", lambda x: x)
    assert lowering_rule(prim) is None


def _lower_one(name, avals, **params):
    """StableHLO text of one jx op applied to fresh arguments, through lower-stablehlo."""

    def ty(a):
        return tensor_type_str(a.shape, a.dtype)

    out = registry.infer_list(registry.get(name), avals, params)
    args = ", ".join(f"%a{i}: {ty(a)}" for i, a in enumerate(avals))
    ins = ", ".join(ty(a) for a in avals)
    outs = ", ".join(ty(a) for a in out)
    operands = ", ".join(f"%a{i}" for i in range(len(avals)))
    text = (
        f"func.func @f({args}) -> ({outs}) {{\n"
        f'  %0 = "jx.{name}"({operands}) : ({ins}) -> ({outs})\n'
        f"  return %0 : {outs}\n}}"
    )
    m = parse_module(text)
    run_pipeline(m, "lower-stablehlo{entry=f}")
    return str(m)


def test_low_precision_upcast_applied_at_lowering():
    bf16 = np.dtype(ml_dtypes.bfloat16)
    text = _lower_one("add", [ShapedType((3,), bf16)] * 2)
    assert "stablehlo.add %" in text and ": tensor<3xf32>" in text  # computed in float32
    assert "bitcast_convert" in text  # and rounded back to bfloat16 by hand
    plain = _lower_one("add", [ShapedType((3,), np.dtype(np.float32))] * 2)
    assert "bitcast_convert" not in plain and "stablehlo.add %" in plain


def test_zero_size_guard_applied_at_lowering():
    text = _lower_one("sin", [ShapedType((0, 3), np.dtype(np.float32))])
    assert "stablehlo.sine" not in text and "stablehlo.constant" in text


# ---- facts about ops are tags on their records -----------------------------------------------


def test_in_place_ops_are_tagged_on_their_records():
    from irjax import lazy

    tagged = registry.tagged(registry.IN_PLACE)
    assert tagged == {"sort", "scatter", "dynamic_update_slice"}
    # eager fusion reads the tag (it starts a new graph before these ops)
    assert set(lazy._TIED) == tagged


def test_low_float_upcast_follows_family_or_tag():
    from irjax.dialects import low_precision

    tagged = registry.tagged(registry.LOW_FLOAT_IN_F32)
    assert tagged == {"iota", "sort", "scatter"}
    for name in ("iota", "sort", "scatter", "add", "sin", "reduce_sum"):
        prim = registry.get(name)
        assert low_precision.upcast(prim, prim.lower) is not prim.lower, name
    for name in ("gather", "dynamic_update_slice", "reshape", "transpose"):
        prim = registry.get(name)
        assert low_precision.upcast(prim, prim.lower) is prim.lower, name

"""irjax.lax: the primitives, called directly (strict dtypes and shapes, as jax.lax)."""

from __future__ import annotations

import enum

import numpy as np
from irjax.dialects import registry
from irjax.runtime.lazy_names import lazy_attributes

from . import dtypes
from .api import stop_gradient as _stop_gradient
from .core import bind, jx
from .operands import asarray_any as _asarray_any
from .operands import broadcast_to as _broadcast_to
from .operands import convert as _convert
from .operands import convert_element_type  # noqa: F401  (lax.convert_element_type)
from .operands import expand_dims as _expand_dims
from .operands import full as _full
from .operands import full_like as _full_like
from .operands import squeeze as _squeeze
from .operands import with_weak as _with_weak
from .operands import zeros_like as _zeros_like

_ident = None


_arr = _asarray_any  # (no wrapper: every eager op pays each call here)


# the jnp function that promotes where lax.<op> insists on one dtype (JAX's error names it)
_JNP_TWIN = {
    "add": "add", "sub": "subtract", "mul": "multiply", "div": "divide", "max": "maximum",
    "min": "minimum", "pow": "power", "rem": "remainder", "atan2": "arctan2", "nextafter": "nextafter",
}  # fmt: skip


def _same(x, y, name=None):
    """Operands of a binary lax op: Python scalars take the other operand's dtype."""
    ax, ay = getattr(x, "aval", None), getattr(y, "aval", None)
    if ax is not None and ay is not None and ax.dtype == ay.dtype and ax.shape == ay.shape:
        return x, y  # the common case (irjax.numpy's promoted operands): nothing to convert
    xa, ya = ax is not None, ay is not None
    if xa and not ya:
        y = _arr(np.asarray(y, x.dtype))
    elif ya and not xa:
        x = _arr(np.asarray(x, y.dtype))
    else:
        x, y = _arr(x), _arr(y)
    if x.dtype != y.dtype:
        if name is None:
            raise TypeError(f"lax ops require arguments of one dtype, got {x.dtype.name} and {y.dtype.name}")
        twin = _JNP_TWIN.get(name)
        tip = f" (Tip: jnp.{twin} is a similar function that does automatic type promotion on inputs)." if twin else ""
        raise TypeError(
            f"lax.{name} requires arguments to have the same dtypes, got {x.dtype.name}, {y.dtype.name}.{tip}"
        )
    if x.shape != y.shape:
        if x.shape == ():
            x = _broadcast_to(x, y.shape)
        elif y.shape == ():
            y = _broadcast_to(y, x.shape)
        elif name is not None:
            raise TypeError(f"{name} got incompatible shapes for broadcasting: {x.shape}, {y.shape}.")
        else:
            raise TypeError(f"lax ops require arguments of one shape, got {x.shape} and {y.shape}")
    return x, y


_ORDERED = frozenset("lt le gt ge rem".split())


def _unary(name):
    def f(x):
        return bind(name, _arr(x))

    f.__name__ = name
    return f


def _binary(name):
    def f(x, y):
        x, y = _same(x, y, name)
        if name in _ORDERED and x.dtype.kind == "c":  # JAX's TypeError: complex values have no order
            raise TypeError(
                f"{name} does not accept dtype {x.dtype.name} at position 0. Accepted dtypes at position 0 "
                "are subtypes of integer, floating, bool."
            )
        return bind(name, x, y)

    f.__name__ = name
    return f


# lax's public name where it differs from the op's; round, integer_pow and not have own wrappers below
_PUBLIC = {"popcnt": "population_count", "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor"}
_OWN_WRAPPER = {"round", "integer_pow", "not", "pow"}
for _prim in registry.all_primitives().values():
    if _prim.name in _OWN_WRAPPER or _prim.family not in ("unary", "binary"):
        continue
    _f = (_unary if _prim.family == "unary" else _binary)(_prim.name)
    _f.__name__ = _PUBLIC.get(_prim.name, _prim.name)
    globals()[_f.__name__] = _f
del _prim, _f

and_, or_, xor = (globals()[n] for n in ("bitwise_and", "bitwise_or", "bitwise_xor"))


def bitwise_not(x):
    return jx.not_(_arr(x))


not_ = bitwise_not


def round(x, rounding_method=0):  # noqa: A001
    x = _arr(x)
    if rounding_method in (1, "TO_NEAREST_EVEN"):
        return jx.round(x)
    # jnp.where(x >= 0, floor(x + 0.5), ceil(x - 0.5)): one dtype and shape, so a select
    return _with_weak(select(x >= 0, jx.floor(x + 0.5), jx.ceil(x - 0.5)), x.aval.weak_type)


def _dtype_of(v):
    d = getattr(getattr(v, "aval", None), "dtype", None)
    return d if d is not None else getattr(v, "dtype", None)


def pow(x, y):  # noqa: A001  (lax.pow)
    """x ** y elementwise; as JAX's, an integer exponent array may raise a float or complex base."""
    xd, yd = _dtype_of(x), _dtype_of(y)
    if xd is not None and yd is not None and yd.kind in "iu" and xd.kind in "fc":
        y = _convert(_arr(y), xd)
    x, y = _same(x, y, "pow")
    return jx.pow(x, y)


def integer_pow(x, y):
    return jx.integer_pow(_arr(x), y=int(y))


def square(x):
    return integer_pow(x, 2)


def select(pred, on_true, on_false):
    on_true, on_false = _same(on_true, on_false)
    pred = _arr(pred)
    shape = getattr(getattr(on_true, "aval", None), "shape", ())
    if pred.ndim == 0 and shape:  # a scalar predicate picks a whole operand (as JAX's)
        pred = jx.broadcast_in_dim(pred, shape=tuple(shape), broadcast_dimensions=())
    return jx.select(pred, on_true, on_false)


def select_n(which, *cases):
    which = _arr(which)
    if len(cases) == 1:
        return cases[0]
    if which.dtype == np.bool_:
        return select(which, cases[1], cases[0])
    out = cases[-1]
    for i in range(len(cases) - 2, -1, -1):
        out = select(jx.eq(which, _arr(np.full(which.shape, i, which.dtype))), cases[i], out)
    return out


def clamp(min, x, max):  # noqa: A002
    x = _arr(x)
    lo = _arr(np.broadcast_to(np.asarray(min, x.dtype), x.shape)) if not hasattr(min, "aval") else min
    hi = _arr(np.broadcast_to(np.asarray(max, x.dtype), x.shape)) if not hasattr(max, "aval") else max
    return jx.clamp(_broadcast_to(lo, x.shape), x, _broadcast_to(hi, x.shape))


def bitcast_convert_type(operand, new_dtype):
    return jx.bitcast_convert_type(_arr(operand), new_dtype=np.dtype(new_dtype))


def broadcast_in_dim(operand, shape, broadcast_dimensions):
    return jx.broadcast_in_dim(_arr(operand), shape=tuple(shape), broadcast_dimensions=tuple(broadcast_dimensions))


def broadcast(operand, sizes):
    x = _arr(operand)
    n = len(sizes)
    return broadcast_in_dim(x, tuple(sizes) + x.shape, tuple(range(n, n + x.ndim)))


def reshape(operand, new_sizes, dimensions=None):
    x = _arr(operand)
    if dimensions is not None:
        x = transpose(x, dimensions)
    return jx.reshape(x, new_sizes=tuple(new_sizes))


def transpose(operand, permutation):
    return jx.transpose(_arr(operand), permutation=tuple(permutation))


def expand_dims(array, dimensions):
    return _expand_dims(array, tuple(dimensions))


def squeeze(array, dimensions):
    return _squeeze(array, tuple(dimensions))


def _reduce(name):
    def f(operand, axes):
        return bind(name, _arr(operand), axes=tuple(sorted(axes)))

    f.__name__ = name
    return f


reduce_sum, reduce_max, reduce_min, reduce_prod = (
    _reduce(n) for n in ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod")
)
reduce_and, reduce_or = _reduce("reduce_and"), _reduce("reduce_or")


def argmax(operand, axis, index_dtype=np.int32):
    return jx.argmax(_arr(operand), axis=int(axis), index_dtype=np.dtype(index_dtype))


def argmin(operand, axis, index_dtype=np.int32):
    return jx.argmin(_arr(operand), axis=int(axis), index_dtype=np.dtype(index_dtype))


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    return jx.dot_general(
        *_same(lhs, rhs) if _arr(lhs).shape == _arr(rhs).shape else (_arr(lhs), _arr(rhs)),
        lhs_contracting=tuple(lc),
        rhs_contracting=tuple(rc),
        lhs_batch=tuple(lb),
        rhs_batch=tuple(rb),
        preferred_element_type=None if preferred_element_type is None else np.dtype(preferred_element_type),
    )


def dot(lhs, rhs, precision=None, preferred_element_type=None):
    lhs, rhs = _arr(lhs), _arr(rhs)
    return dot_general(lhs, rhs, (((lhs.ndim - 1,), (0,)), ((), ())), preferred_element_type=preferred_element_type)


def slice(operand, start_indices, limit_indices, strides=None):  # noqa: A001
    return jx.slice(
        _arr(operand),
        start_indices=tuple(start_indices),
        limit_indices=tuple(limit_indices),
        strides=None if strides is None else tuple(strides),
    )


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
    x = _arr(operand)
    st, lim, sd = [0] * x.ndim, list(x.shape), [1] * x.ndim
    st[axis], lim[axis], sd[axis] = start_index, limit_index, stride
    return slice(x, st, lim, sd)


def _axis_of(axis, ndim: int) -> int:
    """A non-negative axis (negative ones count from the end, as in JAX)."""
    a = int(axis)
    if not -ndim <= a < ndim:
        raise ValueError(f"axis {a} is out of bounds for an array of rank {ndim}")
    return a % ndim


def index_in_dim(operand, index, axis=0, keepdims=True):
    x = _arr(operand)
    axis = _axis_of(axis, x.ndim)
    out = slice_in_dim(x, index, index + 1, 1, axis)
    return out if keepdims else reshape(out, x.shape[:axis] + x.shape[axis + 1 :])


def _index_scalars(idx, shape):
    """int32 start operands with negative starts wrapped by the axis size (as JAX does; the op
    then clamps). Python ints become int32 scalars too, never attributes: eagerly, one
    executable then serves every start."""
    if len(idx) != len(shape):
        raise TypeError(f"dynamic slicing needs {len(shape)} start indices (one per axis), got {len(idx)}")
    out = []
    for i, n in zip(idx, shape):
        if isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
            out.append(np.int32(int(i) + n if int(i) < 0 else int(i)))  # (bind takes it as an operand)
            continue
        i = _arr(i)
        if i.shape != () or i.dtype.kind not in "iu":
            raise TypeError(f"dynamic slice start indices must be integer scalars, got {i.dtype.name}{list(i.shape)}")
        i = convert_element_type(i, np.int32)
        if np.dtype(i.dtype).kind == "i":
            i = jx.select(jx.lt(i, _arr(np.int32(0))), jx.add(i, _arr(np.int32(n))), i)
        out.append(i)
    return out


def dynamic_slice(operand, start_indices, slice_sizes):
    x = _arr(operand)
    return jx.dynamic_slice(x, *_index_scalars(start_indices, x.shape), slice_sizes=tuple(int(s) for s in slice_sizes))


def dynamic_update_slice(operand, update, start_indices):
    x = _arr(operand)
    return jx.dynamic_update_slice(x, _arr(update), *_index_scalars(start_indices, x.shape))


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0):
    x = _arr(operand)
    starts = [0] * x.ndim
    starts[axis] = start_index
    sizes = list(x.shape)
    sizes[axis] = slice_size
    return dynamic_slice(x, starts, sizes)


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True):
    x = _arr(operand)
    axis = _axis_of(axis, x.ndim)
    out = dynamic_slice_in_dim(x, index, 1, axis)
    return out if keepdims else reshape(out, x.shape[:axis] + x.shape[axis + 1 :])


def dynamic_update_slice_in_dim(operand, update, start_index, axis):
    x = _arr(operand)
    starts = [0] * x.ndim
    starts[axis] = start_index
    return dynamic_update_slice(x, update, starts)


def concatenate(operands, dimension):
    return jx.concatenate(*[_arr(o) for o in operands], dimension=int(dimension))


def pad(operand, padding_value, padding_config):
    x = _arr(operand)
    return jx.pad(
        x,
        _arr(np.asarray(padding_value, x.dtype)) if not hasattr(padding_value, "aval") else padding_value,
        padding_config=tuple(tuple(int(v) for v in c) for c in padding_config),
    )


def _iota_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt == np.bool_:  # (JAX's TypeError, before the op's verifier sees it)
        raise TypeError(
            "iota does not accept dtype bool. Accepted dtypes are subtypes of integer, floating, complexfloating."
        )
    return dt


def iota(dtype, size):
    return jx.iota(dtype=_iota_dtype(dtype), shape=(int(size),), dimension=0)


def broadcasted_iota(dtype, shape, dimension):
    return jx.iota(dtype=_iota_dtype(dtype), shape=tuple(shape), dimension=int(dimension))


def rev(operand, dimensions):
    return jx.rev(_arr(operand), dimensions=tuple(dimensions))


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    if isinstance(operand, (tuple, list)):
        ops = [_arr(o) for o in operand]
        d = dimension % ops[0].ndim
        return tuple(jx.sort(*ops, dimension=d, num_keys=num_keys, is_stable=is_stable))
    x = _arr(operand)
    return jx.sort(x, dimension=dimension % (x.ndim or 1), num_keys=1, is_stable=is_stable)[0]


def _cum(name):
    def f(operand, axis=0, reverse=False):
        x = _arr(operand)
        return bind(name, x, axis=axis % x.ndim, reverse=bool(reverse))

    f.__name__ = name
    return f


cumsum, cumprod, cummax, cummin = (_cum(n) for n in ("cumsum", "cumprod", "cummax", "cummin"))


def full(shape, fill_value, dtype=None):
    return _full(shape, fill_value, dtype)


def full_like(x, fill_value, dtype=None, shape=None):
    return _full_like(x, fill_value, dtype, shape)


def zeros_like_array(x):
    return _zeros_like(x)


def stop_gradient(x):
    return _stop_gradient(x)


def gather(
    operand,
    start_indices,
    dimension_numbers,
    slice_sizes,
    *,
    indices_are_sorted=False,
    unique_indices=False,
    mode=None,
    fill_value=None,
):
    """XLA's gather. mode: "clip" (the default, as JAX's) clamps each start so its slice fits;
    "fill" returns fill_value (NaN, the dtype's lowest int, or True) for out-of-bounds slices."""
    dn = dimension_numbers
    operand, idx = _arr(operand), _index_array(start_indices)
    out = jx.gather(
        operand,
        idx,
        offset_dims=tuple(dn.offset_dims),
        collapsed_slice_dims=tuple(dn.collapsed_slice_dims),
        start_index_map=tuple(dn.start_index_map),
        slice_sizes=tuple(slice_sizes),
    )
    if _gather_mode(mode) != "fill":
        return out
    inside = _starts_in_bounds(
        _arr(idx), dn.start_index_map, [operand.shape[d] - slice_sizes[d] for d in dn.start_index_map]
    )
    batch = tuple(i for i in range(out.ndim) if i not in tuple(dn.offset_dims))
    keep = broadcast_in_dim(inside, out.shape, batch)
    return select(keep, out, _broadcast_to(_arr(np.asarray(_gather_fill(out.dtype, fill_value), out.dtype)), out.shape))


def _gather_mode(mode) -> str:
    """'clip' or 'fill' (None and promise_in_bounds act as clip for gather, as in JAX)."""
    m = GatherScatterMode.from_any(mode) if mode is not None else GatherScatterMode.CLIP
    if m is GatherScatterMode.ONE_HOT:
        raise NotImplementedError("gather/scatter mode ONE_HOT is not supported by irjax")
    return "fill" if m is GatherScatterMode.FILL_OR_DROP else "clip"


def _gather_fill(dtype, fill_value):
    if fill_value is not None:
        return fill_value
    if dtype.kind in "fc" or dtype == dtypes.bfloat16:
        return np.nan
    if dtype.kind == "b":
        return True
    return np.iinfo(dtype).min if dtype.kind == "i" else np.iinfo(dtype).max


def _starts_in_bounds(idx, index_map, highest):
    """Per index vector (the last axis of idx): every start k within [0, highest[k]]."""
    ok = None
    for k, hi in enumerate(highest):
        col = reshape(slice_in_dim(idx, k, k + 1, axis=idx.ndim - 1), idx.shape[:-1])
        zero, top = (_broadcast_to(_arr(np.asarray(v, col.dtype)), col.shape) for v in (0, hi))
        this = jx.and_(jx.ge(col, zero), jx.le(col, top))
        ok = this if ok is None else jx.and_(ok, this)
    return ok if ok is not None else _arr(np.ones(idx.shape[:-1], np.bool_))


class GatherDimensionNumbers:
    def __init__(
        self,
        offset_dims,
        collapsed_slice_dims,
        start_index_map,
        operand_batching_dims=(),
        start_indices_batching_dims=(),
    ):
        if operand_batching_dims or start_indices_batching_dims:
            raise NotImplementedError("gather batching dims")
        self.offset_dims, self.collapsed_slice_dims, self.start_index_map = (
            offset_dims,
            collapsed_slice_dims,
            start_index_map,
        )


def _scatter(kind):
    def f(
        operand,
        scatter_indices,
        updates,
        dimension_numbers,
        *,
        indices_are_sorted=False,
        unique_indices=False,
        mode=None,
    ):
        dn = dimension_numbers
        operand, idx, updates = _arr(operand), _index_array(scatter_indices), _arr(updates)
        if mode is not None and _gather_mode(mode) == "clip":  # (JAX's default drops them)
            window = iter(updates.shape[d] for d in dn.update_window_dims)
            sizes = [1 if d in tuple(dn.inserted_window_dims) else next(window) for d in range(operand.ndim)]
            idx = _clip_starts(_arr(idx), [operand.shape[d] - sizes[d] for d in dn.scatter_dims_to_operand_dims])
        return jx.scatter(
            operand,
            idx,
            updates,
            update_window_dims=tuple(dn.update_window_dims),
            inserted_window_dims=tuple(dn.inserted_window_dims),
            scatter_dims_to_operand_dims=tuple(dn.scatter_dims_to_operand_dims),
            kind=kind,
        )

    return f


def _clip_starts(idx, highest):
    """Each start k (the last axis of idx) clamped into [0, highest[k]]."""
    lo = _arr(np.zeros(len(highest), idx.dtype))
    hi = _arr(np.asarray(highest, idx.dtype))
    shape = idx.shape
    return jx.clamp(broadcast_in_dim(lo, shape, (idx.ndim - 1,)), idx, broadcast_in_dim(hi, shape, (idx.ndim - 1,)))


scatter, scatter_add, scatter_mul, scatter_min, scatter_max = (_scatter(k) for k in ("set", "add", "mul", "min", "max"))


class ScatterDimensionNumbers:
    def __init__(
        self,
        update_window_dims,
        inserted_window_dims,
        scatter_dims_to_operand_dims,
        operand_batching_dims=(),
        scatter_indices_batching_dims=(),
    ):
        if operand_batching_dims or scatter_indices_batching_dims:
            raise NotImplementedError("scatter batching dims")
        self.update_window_dims = update_window_dims
        self.inserted_window_dims = inserted_window_dims
        self.scatter_dims_to_operand_dims = scatter_dims_to_operand_dims


# ---- complex numbers ------------------------------------------------------------------------------


def _complex_operand(name, x):
    x = _arr(x)
    if x.dtype.kind != "c":
        raise TypeError(
            f"{name} does not accept dtype {x.dtype.name}. Accepted dtypes are subtypes of complexfloating."
        )
    return x


def real(x):
    return jx.real(_complex_operand("real", x))


def imag(x):
    return jx.imag(_complex_operand("imag", x))


def conj(x):
    """The complex conjugate; a real operand becomes complex first (as jax.lax.conj)."""
    x = _arr(x)
    if x.dtype.kind != "c":
        x = _convert(x, dtypes.promote_types(x.dtype, np.complex64), x.aval.weak_type)
    return jx.conj(x)


def complex(x, y):  # noqa: A001
    """x + i y from real parts of one float dtype (Python scalars are weak, as in jax.lax)."""
    x, y = _same(x, y)
    if x.dtype.kind != "f":
        raise TypeError(f"complex does not accept dtype {x.dtype.name}. Accepted dtypes are subtypes of floating.")
    return _with_weak(jx.complex(x, y), x.aval.weak_type and y.aval.weak_type)


# ---- added for irjax.numpy, which emits through lax (docs/decisions.md) ------------------------------


def _index_array(indices):
    """Gather/scatter indices: a NumPy array stays on the host, so that a trace embeds it as a
    constant (as JAX does) instead of capturing a device copy; other operands become Arrays."""
    return indices if isinstance(indices, np.ndarray) else _arr(indices)


class RoundingMethod(enum.IntEnum):
    """lax.round's rounding_method, as jax.lax.RoundingMethod."""

    AWAY_FROM_ZERO = 0
    TO_NEAREST_EVEN = 1


from .control_flow import cond, fori_loop, map, scan, switch, while_loop  # noqa: E402,F401,A004
from .lax_conv import *  # noqa: E402,F401,F403
from .lax_parallel import *  # noqa: E402,F401,F403
from .lax_types import *  # noqa: E402,F401,F403
from .lax_types import GatherScatterMode  # noqa: E402  (gather and scatter read it at call time)
from .lax_windows import *  # noqa: E402,F401,F403
from .placement import with_sharding_constraint  # noqa: E402, F401  (placement, docs/sharding.md)

# More lax names, loaded on first use: their modules import irjax.numpy (and scipy.special,
# which imports irjax.nn), which imports irjax.lax; a star import here would leave lax without
# them whenever one of those modules is imported first.
_LAZY = {
    **dict.fromkeys(
        ("bessel_i0e", "bessel_i1e", "betainc", "erfc", "igamma", "igamma_grad_a", "igammac", "polygamma", "zeta"),
        "irjax.lax_special",
    ),
    **dict.fromkeys(("FftType", "fft"), "irjax.lax_fft"),
    "random_gamma_grad": "irjax.random_igamma",
    **dict.fromkeys(
        (
            "associative_scan broadcast_shapes broadcast_to_rank collapse custom_linear_solve custom_root "
            "dynamic_update_index_in_dim index_take nextafter optimization_barrier reciprocal reduce "
            "sort_key_val split tile top_k"
        ).split(),
        "irjax.lax_extra",
    ),
    **dict.fromkeys(
        (
            "after_all approx_max_k approx_min_k batch_matmul broadcast_like composite create_token dtype "
            "empty mulhi platform_dependent reduce_xor scatter_apply scatter_sub shape_as_value stack unstack"
        ).split(),
        "irjax.lax_names",
    ),
    **dict.fromkeys(
        (
            "conv_general_dilated_local conv_general_dilated_patches conv_general_permutations "
            "conv_general_shape_tuple conv_shape_tuple conv_transpose_shape_tuple reduce_window_shape_tuple"
        ).split(),
        "irjax.lax_conv_shapes",
    ),
    **dict.fromkeys(("ragged_dot", "ragged_dot_general"), "irjax.lax_ragged"),
    "rng_bit_generator": "irjax.lax_rng",
    "linalg": "irjax.lax_linalg",
    **dict.fromkeys(("pbroadcast", "pcast", "pshuffle", "pswapaxes"), "irjax.lax_collective_names"),
}


__getattr__, __dir__ = lazy_attributes("irjax.lax", globals(), _LAZY)

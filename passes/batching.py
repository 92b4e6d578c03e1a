"""batch{func=f in-axes=0,none axis-size=N axis-name=i}: vectorize @f with each op's batching rule.

    @f(%x: tensor<3xf32>) { sin %x }   ==>   @f_batch_0_4(%x: tensor<4x3xf32>) { sin %x }

A step function per op over the generic walker (transform.py). Values that do not depend on
a batched input stay unbatched ("not mapped"), so closed-over constants are not broadcast.
Every result comes out with its batch axis first. Call-like ops batch their callees. With an
axis name, collectives over it (dialects/collectives.py) become ops over the batch dim.
"""

from __future__ import annotations

from irjax.dialects import registry
from irjax.dialects.calls import batched_aval
from irjax.dialects.collectives import is_collective, uses_axis
from irjax.dialects.func import body_ops, entry_block, op_params, reemit
from irjax.dialects.lang import Val, broadcast_in_dim, moveaxis

from .registry import REQUIRED, Example, Option, register_pass
from .transform import NATURAL, TRANSFORMS, Ctx, derive, derived_functions, source, walk_forward


def _code(dims):
    return "_".join("n" if d is None else str(d) for d in dims)


def to_front(v: Val, d, size) -> Val:
    if d is None:
        return broadcast_in_dim(v, (size,) + v.shape, tuple(range(1, v.ndim + 1)))
    return moveaxis(v, d, 0) if d != 0 else v


def _batch_step(module, op, xs, size, axis_name=None):
    """[(value, 0 or None)] of op's results; the env keeps batch dims at 0 (or None)."""
    vals = [x for x, _ in xs]
    dims = [d for _, d in xs]
    prim = registry.lookup(op.name)
    named = prim is not None and axis_name is not None and uses_axis(module, op, axis_name)
    if all(d is None for d in dims) and not named:
        return [(Val(r), None) for r in reemit(op, [v.v for v in vals])]
    prim = registry.get(op.name)
    if prim.batch is None:
        raise NotImplementedError(f"vmap of {op.name} is not implemented")
    if prim.calls or is_collective(prim):
        return prim.batch(Ctx(module, op, size, axis_name), vals, dims, **op_params(op))
    o, od = prim.batch(vals, dims, **op_params(op))
    if not isinstance(o, list):
        o, od = [o], [od]
    # rules may leave the batch axis anywhere; keep the env's invariant (0 or None)
    return [(v, d) if d in (None, 0) else (moveaxis(v, d, 0), 0) for v, d in zip(o, od)]


def batch_function(module, fname: str, in_dims, axis_size: int, out_batched=None, axis_name=None) -> str:
    """@fname batched over in_dims; results batch axis first, or, where `out_batched` is
    False (control-flow carries that stay unbatched), left unbatched. `axis_name` names the
    mapped axis for the collectives in @fname (vmap's axis_name)."""
    in_dims = tuple(in_dims)
    f, ins, _ = source(module, fname)
    if len(in_dims) != len(ins):
        raise ValueError(f"batch: {len(in_dims)} in-axes for {len(ins)} arguments of @{fname}")
    for a, d in zip(ins, in_dims):
        if d is not None and not 0 <= d <= a.ndim:
            raise ValueError(f"batch: in-axis {d} out of range for an argument of rank {a.ndim}")
    ob = None if out_batched is None or all(out_batched) else tuple(bool(m) for m in out_batched)

    def body(*args):
        # rules see batch dims at 0 (or None): move each batched argument's axis to the front
        env = {
            s: ((moveaxis(Val(a), d, 0), 0) if d else (Val(a), d))
            for s, a, d in zip(entry_block(f).arguments, args, in_dims)
        }
        rets = walk_forward(body_ops(f), env, lambda op, xs: _batch_step(module, op, xs, axis_size, axis_name))
        outs_v = []
        natural[:] = [env[v][1] is not None for v in rets]
        for v, m in zip(rets, ob or [True] * len(rets)):
            x, d = env[v]
            if not m and d is not None:
                raise ValueError(f"batch: result of @{fname} expected unbatched is batched")
            outs_v.append(to_front(x, d, axis_size) if m else x)
        return outs_v

    base = f"{fname}_batch_{_code(in_dims)}_{axis_size}"
    if ob is not None:
        base += "_o" + "".join("1" if m else "0" for m in ob)
    in_avals = [batched_aval(a, d, axis_size) for a, d in zip(ins, in_dims)]
    if axis_name is not None:
        base += "_" + "".join(ch if ch.isalnum() else "_" for ch in axis_name)
    natural: list[bool] = []
    name = derive(module, (fname, "batch", in_dims, axis_size, ob, axis_name), base, in_avals, body)
    if natural:  # which results were batched before they were moved/broadcast to axis 0
        derived_functions(module)[NATURAL, name] = tuple(natural)
    return name


TRANSFORMS["batch"] = batch_function

_EX = """func.func @f(%x: tensor<3xf32>, %y: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.add"(%0, %y) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %1 : tensor<3xf32>
}"""


@register_pass(
    "batch",
    "vectorize @f over a new axis: batch{func=f in-axes=0,none axis-size=N}",
    Example(
        "batch{func=f in-axes=0,none axis-size=4}",
        _EX,
        (
            "func.func @f_batch_0_n_4(%arg0: tensor<4x3xf32>, %arg1: tensor<3xf32>) -> tensor<4x3xf32>",
            '"jx.sin"(%arg0) : (tensor<4x3xf32>) -> tensor<4x3xf32>',
            '"jx.broadcast_in_dim"(%arg1)',
        ),
    ),
    options=(
        Option("func", "symbol", REQUIRED, "the function to vectorize"),
        Option("in-axes", "dims", (0,), "batch axis of each argument, or none"),
        Option("axis-size", "int", 1, "size of the new axis"),
        Option("axis-name", "symbol", None, "the axis name its collectives (jx.psum, ...) use"),
    ),
)
def batch_pass(module, func: str, in_axes=(0,), axis_size: int = 1, axis_name: str | None = None):
    batch_function(module, func, in_axes, axis_size, axis_name=axis_name)

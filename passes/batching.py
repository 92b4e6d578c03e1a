"""batch{func=f in-axes=0,none axis-size=N}: vectorize @f with each op's batching rule.

    @f(%x: tensor<3xf32>) { sin %x }   ==>   @f_batch_0_4(%x: tensor<4x3xf32>) { sin %x }

Values that do not depend on a batched input stay unbatched ("not mapped"), so closed-over
constants are not broadcast. Every result comes out with its batch axis first.
`jx.call` is batched through its callee.
"""

from __future__ import annotations

from irjax.dialects import registry
from irjax.dialects.control_flow import CONTROL_FLOW_OPS
from irjax.dialects.func import (
    body_ops,
    build_func,
    callee_of,
    emit_call,
    emit_custom_call,
    entry_block,
    find_func,
    op_params,
    reemit,
    signature,
)
from irjax.dialects.lang import Val, broadcast_in_dim, moveaxis, reduce_sum
from irjax.dialects.mlir import enter
from irjax.dialects.registry import ShapedType

from . import control_flow
from .registry import register_pass


def _code(dims):
    return "_".join("n" if d is None else str(d) for d in dims)


def batched_aval(a: ShapedType, d, size) -> ShapedType:
    if d is None:
        return a
    shape = list(a.shape)
    shape.insert(d, size)
    return ShapedType(tuple(shape), a.dtype)


def to_front(v: Val, d, size) -> Val:
    if d is None:
        return broadcast_in_dim(v, (size,) + v.shape, tuple(range(1, v.ndim + 1)))
    return moveaxis(v, d, 0) if d != 0 else v


def batch_function(module, fname: str, in_dims, axis_size: int, out_batched=None) -> str:
    """@fname batched over in_dims; results batch axis first, or, where `out_batched` is
    False (control-flow carries that stay unbatched), left unbatched."""
    in_dims = tuple(in_dims)
    name = f"{fname}_batch_{_code(in_dims)}_{axis_size}"
    if out_batched is not None and not all(out_batched):
        name += "_o" + "".join("1" if m else "0" for m in out_batched)
    if find_func(module, name) is not None:
        return name
    f = find_func(module, fname)
    if f is None:
        raise KeyError(f"function @{fname} not found in the module")
    ins, outs = signature(f)
    if len(in_dims) != len(ins):
        raise ValueError(f"batch: {len(in_dims)} in-axes for {len(ins)} arguments of @{fname}")
    for a, d in zip(ins, in_dims):
        if d is not None and not 0 <= d <= a.ndim:
            raise ValueError(f"batch: in-axis {d} out of range for an argument of rank {a.ndim}")
    src_args = list(entry_block(f).arguments)
    ops = body_ops(f)

    def body(*args):
        # rules see batch dims at 0 (or None): move each batched argument's axis to the front
        env = {s: ((moveaxis(Val(a), d, 0), 0) if d else (Val(a), d)) for s, a, d in zip(src_args, args, in_dims)}
        for op in ops:
            if op.name == "func.return":
                rets = list(op.operands)
                break
            xs = [env[v] for v in op.operands]
            vals = [x for x, _ in xs]
            dims = [d for _, d in xs]
            if all(d is None for d in dims):
                res = [(Val(r), None) for r in reemit(op, [v.v for v in vals])]
            elif op.name == "jx.call":
                callee = callee_of(op)
                cb = batch_function(module, callee, dims, axis_size)
                _, c_outs = signature(find_func(module, callee))
                outs_b = [batched_aval(a, 0, axis_size) for a in c_outs]
                res = [(Val(r), 0) for r in emit_call(cb, [v.v for v in vals], outs_b)]
            elif op.name in ("jx.custom_jvp_call", "jx.custom_vjp_call"):
                res = _batch_custom(module, op, vals, dims, axis_size)
            elif op.name in CONTROL_FLOW_OPS:
                res = control_flow.batch(module, op, vals, dims, axis_size)
            else:
                prim = registry.get(op.name)
                if prim.batch is None:
                    raise NotImplementedError(f"vmap of {op.name} is not implemented")
                o, od = prim.batch(vals, dims, **op_params(op))
                if not isinstance(o, list):
                    o, od = [o], [od]
                # rules may leave the batch axis anywhere; keep the env's invariant (0 or None)
                res = [(v, d) if d in (None, 0) else (moveaxis(v, d, 0), 0) for v, d in zip(o, od)]
            for r, (v, d) in zip(op.results, res):
                env[r] = (v, d)
        if out_batched is None:
            return [to_front(*env[v], axis_size).v for v in rets]
        outs_v = []
        for v, m in zip(rets, out_batched):
            x, d = env[v]
            if not m and d is not None:
                raise ValueError(f"batch: result of @{fname} expected unbatched is batched")
            outs_v.append((to_front(x, d, axis_size) if m else x).v)
        return outs_v

    with enter():
        return build_func(module, name, [batched_aval(a, d, axis_size) for a, d in zip(ins, in_dims)], body)


def _batch_custom(module, op, vals, dims, size):
    """Batch a custom-derivative call by batching its primal and its rule functions."""
    p = op_params(op)
    n = p["num_args"]
    dims = list(dims)
    arg_dims, const_dims = dims[:n], dims[n:]
    callee = str(p["callee"])
    _, c_outs = signature(find_func(module, callee))
    outs_b = [batched_aval(a, 0, size) for a in c_outs]
    cb = batch_function(module, callee, dims, size)
    if op.name == "jx.custom_jvp_call":
        # tangents are batched like their primals (jvp of a vmapped function)
        jb = batch_function(module, str(p["jvp_callee"]), dims + arg_dims, size)
        res = emit_custom_call("custom_jvp_call", [v.v for v in vals], outs_b, n, callee=cb, jvp_callee=jb)
    else:
        fwd = str(p["fwd_callee"])
        fb = batch_function(module, fwd, dims, size)
        n_res = len(signature(find_func(module, fwd))[1]) - len(c_outs)
        bb = batch_function(module, str(p["bwd_callee"]), [0] * (n_res + len(c_outs)) + const_dims, size)
        bb = _unbatch_cts(module, bb, arg_dims, size)
        res = emit_custom_call(
            "custom_vjp_call", [v.v for v in vals], outs_b, n, callee=cb, fwd_callee=fb, bwd_callee=bb
        )
    return [(Val(r), 0) for r in res]


def _unbatch_cts(module, bwd, arg_dims, size) -> str:
    """Wrap batched @bwd so unbatched arguments get their cotangents summed over the batch."""
    if all(d is not None for d in arg_dims):
        return bwd
    name = f"{bwd}_sum_{_code(arg_dims)}"
    if find_func(module, name) is not None:
        return name
    ins, outs = signature(find_func(module, bwd))

    def body(*args):
        res = emit_call(bwd, list(args), outs)
        return [reduce_sum(Val(r), (0,)).v if d is None else r for r, d in zip(res, arg_dims)]

    with enter():
        return build_func(module, name, ins, body)


def _dims(s):
    if isinstance(s, (tuple, list)):
        return tuple(s)
    out = []
    for p in str(s).strip("[]()").replace(",", " ").split():
        out.append(None if p.lower() in ("none", "n", "-1") else int(p))
    return tuple(out)


@register_pass(
    "batch",
    "vectorize @f over a new axis: batch{func=f in-axes=0,none axis-size=N}",
    '@f(%x: tensor<3xf32>) { sin %x }  ==>  @f_batch_0_4(%x: tensor<4x3xf32>) { sin %x }',
)
def batch_pass(module, func: str, in_axes: str = "0", axis_size: str = "1"):
    batch_function(module, func, _dims(in_axes), int(axis_size))

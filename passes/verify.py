"""verify: MLIR's structural verifier plus every jx op's own rules (types, attributes).

Fails with a message naming the op, e.g. `jx.add: operands of one shape ... got f32[3], f32[4]`.
"""

from __future__ import annotations

from irjax.dialects import builder, registry
from irjax.dialects.func import find_func, op_params, signature
from irjax.dialects.mlir import enter, ir
from irjax.dialects.registry import VerifyError

from .registry import register_pass


def verify_module(module) -> None:
    with enter():
        try:
            module.operation.verify()
        except Exception as e:  # noqa: BLE001
            raise VerifyError(f"MLIR verification failed: {e}") from e
        errors = []

        def cb(op):
            if op.name.startswith("jx."):
                try:
                    _verify_op(module, op)
                except (VerifyError, KeyError, TypeError, ValueError) as e:
                    msg = e.args[0] if isinstance(e, KeyError) and e.args else e
                    errors.append(f"{op.location}: '{op.name}': {msg}")
            return ir.WalkResult.ADVANCE

        module.operation.walk(cb)
        if errors:
            raise VerifyError("\n".join(errors))


def _verify_op(module, op):
    name = op.name[3:]
    in_avals = [builder.aval(v) for v in op.operands]
    out_avals = [builder.aval(v) for v in op.results]
    params = op_params(op)
    if name in ("call", "custom_jvp_call", "custom_vjp_call"):
        callee = params.get("callee")
        f = find_func(module, callee) if callee else None
        if f is None:
            raise VerifyError(f"callee @{callee} not found")
        ins, outs = signature(f)
        if ins != in_avals or outs != out_avals:
            raise VerifyError(f"call signature does not match @{callee}")
        for k in ("jvp_callee", "fwd_callee", "bwd_callee"):
            if k in params and find_func(module, params[k]) is None:
                raise VerifyError(f"{k} @{params[k]} not found")
        return
    prim = registry.get(name)
    if "calls" in prim.tags:  # control flow: result types come from the callee functions
        from irjax.dialects.control_flow import verify_op

        return verify_op(module, op, params, in_avals, out_avals)
    expected = builder.infer(name, in_avals, params)
    if expected != out_avals:
        got = ", ".join(a.str_short() for a in out_avals)
        want = ", ".join(a.str_short() for a in expected)
        raise VerifyError(f"result types ({got}) differ from the inferred ({want})")


@register_pass("verify", "check every jx op's operand/result types and attributes")
def verify(module):
    verify_module(module)

"""verify: MLIR's structural verifier plus every jx op's own rules (types, attributes).

Fails with a message naming the op, e.g. `jx.add: operands of one shape ... got f32[3], f32[4]`.
"""

from __future__ import annotations

from irjax.dialects import builder, registry
from irjax.dialects.func import op_params
from irjax.dialects.mlir import enter, ir
from irjax.dialects.registry import VerifyError

from .registry import Example, register_pass
from .transform import Ctx


def verify_module(module) -> None:
    with enter():
        try:
            module.operation.verify()
        except Exception as e:
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
    prim = registry.get(op.name)
    in_avals = [builder.aval(v) for v in op.operands]
    out_avals = [builder.aval(v) for v in op.results]
    params = op_params(op)
    # call-like ops: result types come from the callee functions, the record checks them
    if prim.calls:
        return prim.verify(Ctx(module, op), in_avals, out_avals, **params)
    expected = builder.infer(prim.name, in_avals, params)
    if expected != out_avals:
        got = ", ".join(a.str_short() for a in out_avals)
        want = ", ".join(a.str_short() for a in expected)
        raise VerifyError(f"result types ({got}) differ from the inferred ({want})")


_EX = """func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}"""


@register_pass(
    "verify",
    "check every jx op's operand/result types and attributes",
    Example("verify", _EX, ('"jx.sin"(%arg0) : (tensor<3xf32>) -> tensor<3xf32>',)),
)
def verify(module):
    verify_module(module)

"""irjax.nn.scaled_matmul (block-scaled batched matmul by its documented math) and
scaled_dot_general without configs (lax.dot_general); irjax has no fp8/fp4 dtypes to quantize to."""

from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as jnp

__all__ = ["scaled_dot_general", "scaled_matmul"]


def scaled_matmul(lhs, rhs, lhs_scales, rhs_scales, preferred_element_type=np.float32):
    """einsum('BMK,BNK->BMN', lhs * repeat(lhs_scales), rhs * repeat(rhs_scales)) in float32, each
    scale covering a block of K // K_scale entries of the contracting (last) dim."""
    a, b, sa, sb = (jnp.asarray(t) for t in (lhs, rhs, lhs_scales, rhs_scales))
    if any(t.ndim != 3 for t in (a, b, sa, sb)):
        raise ValueError("scaled_matmul requires all inputs to be 3-dimensional arrays")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[2]:
        raise ValueError(
            "scaled_matmul requires inputs a and b to have matching batch (B) and contract (K) dimensions, "
            f"but got shapes {a.shape} and {b.shape}"
        )
    if sa.shape[0] != sb.shape[0] or sa.shape[2] != sb.shape[2]:
        raise ValueError(
            "scaled_matmul requires scales to have matching batch (B) and contract (K) dimensions, "
            f"but got shapes {sa.shape} and {sb.shape}"
        )
    if sa.shape[:2] != a.shape[:2] or sb.shape[:2] != b.shape[:2]:
        raise ValueError(
            "scaled_matmul requires scales to match non-contract dimensions of inputs, but got shapes "
            f"a: {a.shape}, b: {b.shape}, a_scales: {sa.shape}, b_scales: {sb.shape}"
        )
    if a.shape[2] % sa.shape[2]:
        raise ValueError(f"scaled_matmul: K = {a.shape[2]} must be a multiple of the scales' {sa.shape[2]} blocks")
    block = a.shape[2] // sa.shape[2]
    f32 = np.float32  # the compute type is fixed to float32, as JAX documents

    def scaled(x, s):
        return x.astype(f32) * jnp.repeat(s.astype(f32), block, axis=-1)

    out = jnp.einsum("bmk,bnk->bmn", scaled(a, sa), scaled(b, sb), preferred_element_type=f32)
    return out.astype(preferred_element_type)


def scaled_dot_general(
    lhs, rhs, dimension_numbers, preferred_element_type=np.float32, configs=None, implementation=None
):
    """lax.dot_general into preferred_element_type, which is what JAX's does when configs is None.
    Block-scaled configs (mxfp8, nvfp4) quantize to fp8/fp4 dtypes irjax does not have."""
    if configs is not None:
        raise NotImplementedError(
            "scaled_dot_general with block-scale configs (mxfp8/nvfp4) needs fp8/fp4 dtypes, which irjax "
            "does not have; pass configs=None for lax.dot_general"
        )
    return lax.dot_general(lhs, rhs, dimension_numbers, preferred_element_type=preferred_element_type)

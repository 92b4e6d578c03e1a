"""irjax.ops segment reductions against JAX's jax.ops: values, dtypes, empty and out-of-range
segments, trailing dimensions, under jit, grad and vmap."""

from __future__ import annotations

import irjax
import numpy as np
import pytest

jax = pytest.importorskip("jax")

DATA = np.array([1.5, -2.0, 3.0, 0.5, 4.0, -1.0], np.float32)
IDS = np.array([0, 0, 2, 2, 5, -1], np.int32)  # segment 1 empty; 5 and -1 out of range for 4


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("name", ["segment_sum", "segment_prod", "segment_max", "segment_min"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_segments_match_jax(name, dtype):
    ours, theirs = getattr(irjax.ops, name), getattr(jax.ops, name)
    data = DATA.astype(dtype)
    _same(ours(data, IDS, num_segments=4), theirs(data, IDS, num_segments=4))
    _same(irjax.jit(lambda d, i: ours(d, i, 4))(data, IDS), theirs(data, IDS, 4))
    ids = np.array([0, 1, 1, 3, 0, 2], np.int32)  # num_segments inferred from the ids
    _same(ours(data, ids), theirs(data, ids))
    rows = np.arange(12, dtype=dtype).reshape(6, 2)
    _same(ours(rows, ids, 4, mode="clip"), theirs(rows, ids, 4, mode="clip"))


def test_segment_sum_grad_and_vmap_match_jax():
    def loss(ops):
        return lambda d: (ops.segment_sum(d * d, IDS, 4) * np.arange(1.0, 5.0, dtype=np.float32)).sum()

    _same(irjax.grad(loss(irjax.ops))(DATA), jax.grad(loss(jax.ops))(DATA))
    batch = np.stack([DATA, DATA * 2])
    _same(
        irjax.vmap(lambda d: irjax.ops.segment_max(d, IDS, 4))(batch),
        jax.vmap(lambda d: jax.ops.segment_max(d, IDS, 4))(batch),
    )


def test_traced_ids_need_num_segments():
    with pytest.raises(irjax.errors.ConcretizationTypeError, match="num_segments"):
        irjax.jit(lambda d, i: irjax.ops.segment_sum(d, i))(DATA, IDS)
    with pytest.raises(ValueError, match="leading dimensions"):
        irjax.ops.segment_sum(DATA, IDS[:3], 4)

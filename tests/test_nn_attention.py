"""irjax.nn.dot_product_attention and logmeanexp against jax.nn on the same inputs: values and
dtypes for every masking option, grouped-query heads, grads, jit, vmap and bad input."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import nn

jax = pytest.importorskip("jax")
jnn, jjnp = jax.nn, jax.numpy

RNG = np.random.default_rng(7)
B, T, S, N, K, H = 2, 5, 6, 4, 2, 8
Q = RNG.standard_normal((B, T, N, H)).astype(np.float32)
KEY = RNG.standard_normal((B, S, K, H)).astype(np.float32)
V = RNG.standard_normal((B, S, K, H)).astype(np.float32)
BIAS = RNG.standard_normal((1, N, T, S)).astype(np.float32)
MASK = RNG.random((B, 1, T, S)) > 0.3
QLEN, KVLEN = np.array([3, 5], np.int32), np.array([6, 2], np.int32)


def _same(got, want, what="", tol=2e-6):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (what, got.shape, want.shape, got.dtype, want.dtype)
    np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), rtol=tol, atol=tol, err_msg=what)


OPTIONS = [
    {},
    {"bias": BIAS},
    {"mask": MASK},
    {"is_causal": True},
    {"query_seq_lengths": QLEN, "key_value_seq_lengths": KVLEN},
    {"key_value_seq_lengths": KVLEN},
    {"local_window_size": (2, 1)},
    {"local_window_size": 1, "is_causal": True},
    {"scale": 0.3, "is_causal": True, "bias": BIAS, "mask": MASK},
    {"bias": BIAS[0], "mask": MASK[0]},
    {"bias": BIAS[:, :, :1], "mask": MASK[:, :, :1], "query_seq_lengths": QLEN},  # (1|B, N|1, 1, S)
    {"mask": np.broadcast_to(MASK, (B, N, T, S))},  # a per-query-head mask over grouped heads
]


def test_attention_matches_jax():
    # every option in one jitted function: one compile for the lot
    got = irjax.jit(lambda q, k, v: [nn.dot_product_attention(q, k, v, **kw) for kw in OPTIONS])(Q, KEY, V)
    for kw, g in zip(OPTIONS, got):
        _same(g, jnn.dot_product_attention(Q, KEY, V, **kw), str(list(kw)))


@pytest.mark.slow  # two more attention modules (f32 heads, bf16): ~6 s of CPU cold
def test_attention_heads_unbatched_residual_and_bf16():
    # multi-query (one key/value head for four query heads), multi-head (N == K), unbatched, residual
    def cases(mod, q, k, v):
        return [
            mod.dot_product_attention(q, k[:, :, :1], v[:, :, :1]),
            mod.dot_product_attention(q, k.repeat(2, 2), v.repeat(2, 2), bias=BIAS),
            mod.dot_product_attention(q[0], k[0], v[0]),
            *mod.dot_product_attention(q, k, v, is_causal=True, return_residual=True),
        ]

    got = irjax.jit(lambda q, k, v: cases(nn, q, k, v))(Q, KEY, V)
    want = cases(jnn, Q, KEY, V)
    for what, g, w in zip(("MQA", "MHA", "TNH", "out", "residual"), got, want):
        _same(g, w, what)
    bf = [jnp.asarray(a, jnp.bfloat16) for a in (Q, KEY, V)]
    jbf = [jjnp.asarray(a, jjnp.bfloat16) for a in (Q, KEY, V)]
    _same(nn.dot_product_attention(*bf, is_causal=True), jnn.dot_product_attention(*jbf, is_causal=True), "bf16", 1e-2)


def test_attention_grad_jit_vmap():
    def loss(mod):
        return lambda q, k, v, b: (mod.dot_product_attention(q, k, v, b, mask=MASK, query_seq_lengths=QLEN) ** 2).sum()

    want = jax.grad(loss(jnn), argnums=(0, 1, 2, 3))(Q, KEY, V, BIAS)
    got = irjax.jit(irjax.grad(loss(nn), argnums=(0, 1, 2, 3)))(Q, KEY, V, BIAS)
    for g, w in zip(got, want):
        _same(g, w, "grad", 2e-5)
    batched = irjax.vmap(lambda q, k, v: nn.dot_product_attention(q, k, v, is_causal=True))(Q, KEY, V)
    loop = np.stack([np.asarray(nn.dot_product_attention(Q[i], KEY[i], V[i], is_causal=True)) for i in range(B)])
    _same(batched, loop, "vmap")


def test_attention_bad_input():
    with pytest.raises(ValueError, match="multiple"):
        nn.dot_product_attention(Q[:, :, :3], KEY, V)
    with pytest.raises(ValueError, match="dtype"):
        nn.dot_product_attention(Q, KEY, V.astype(np.float16))
    with pytest.raises(ValueError, match="key and value"):
        nn.dot_product_attention(Q, KEY[..., :4], V[..., :4])
    with pytest.raises(TypeError, match="broadcast"):
        nn.dot_product_attention(Q, KEY, V, bias=np.ones((B, N, T, S + 1), np.float32))
    with pytest.raises(ValueError, match="query_seq_lengths"):
        nn.dot_product_attention(Q, KEY, V, query_seq_lengths=np.array([1, 2, 3], np.int32))
    with pytest.raises(ValueError, match="xla"):
        nn.dot_product_attention(Q, KEY, V, implementation="cudnn")
    with pytest.raises(ValueError, match="3D"):
        nn.dot_product_attention(Q[0, 0], KEY[0, 0], V[0, 0])


X = RNG.standard_normal((3, 4)).astype(np.float32)
W = RNG.random((3, 4)) > 0.3


LME = [{}, {"axis": 1}, {"axis": 0, "keepdims": True}, {"axis": (0, 1)}, {"where": W}, {"where": W, "axis": 1}]


def test_logmeanexp_matches_jax():
    got = irjax.jit(lambda x: [nn.logmeanexp(x, **kw) for kw in LME])(X)
    for kw, g in zip(LME, got):
        _same(g, jnn.logmeanexp(X, **kw), str(kw))


def test_logmeanexp_grad():
    got = irjax.grad(lambda x: nn.logmeanexp(x, axis=1).sum())(X)
    _same(got, jax.grad(lambda x: jnn.logmeanexp(x, axis=1).sum())(X), "grad")


def test_scaled_matmul_documented_math():
    """JAX lowers scaled_matmul only through cuDNN (CPU raises NotImplementedError), so the oracle
    is its documented formula; JAX's own shape checks are the oracle for bad input."""
    a, b = RNG.standard_normal((2, 3, 8)).astype(np.float32), RNG.standard_normal((2, 4, 8)).astype(np.float32)
    sa, sb = RNG.random((2, 3, 2)).astype(np.float32), RNG.random((2, 4, 2)).astype(np.float32)
    want = np.einsum("bmk,bnk->bmn", a * np.repeat(sa, 4, -1), b * np.repeat(sb, 4, -1))
    got = irjax.jit(nn.scaled_matmul)(a, b, sa, sb)
    _same(got, want.astype(np.float32), "scaled_matmul", 1e-5)
    bf = nn.scaled_matmul(a, b, sa, sb, preferred_element_type=jnp.bfloat16)
    assert bf.dtype == jnp.bfloat16
    g = irjax.grad(lambda a: nn.scaled_matmul(a, b, sa, sb).sum())(a)
    _same(g, (np.repeat(sa, 4, -1) * np.einsum("bnk->bk", b * np.repeat(sb, 4, -1))[:, None]), "grad", 1e-5)
    for bad in (
        lambda m: m.scaled_matmul(a, b, sa[..., :1], sb),
        lambda m: m.scaled_matmul(a[0], b, sa, sb),
        lambda m: m.scaled_matmul(a, b[..., :4], sa, sb),
        lambda m: m.scaled_matmul(a, b[:1], sa, sb[:1]),
        lambda m: m.scaled_matmul(a, b, sa[:, :2], sb),
    ):
        with pytest.raises(ValueError) as ours:
            bad(nn)
        with pytest.raises(ValueError) as theirs:
            bad(jnn)
        assert str(ours.value) == str(theirs.value)


def test_scaled_dot_general_without_configs_is_dot_general():
    a, b = RNG.standard_normal((2, 3, 64)).astype(np.float32), RNG.standard_normal((2, 4, 64)).astype(np.float32)
    dn = (((2,), (2,)), ((0,), (0,)))
    _same(nn.scaled_dot_general(a, b, dn), jnn.scaled_dot_general(a, b, dn), "f32", 1e-5)
    a16, b16 = jnp.asarray(a, jnp.bfloat16), jnp.asarray(b, jnp.bfloat16)
    want = jnn.scaled_dot_general(jjnp.asarray(a, jjnp.bfloat16), jjnp.asarray(b, jjnp.bfloat16), dn)
    _same(nn.scaled_dot_general(a16, b16, dn), want, "bf16 in, f32 out", 1e-4)
    with pytest.raises(NotImplementedError, match="fp8"):
        nn.scaled_dot_general(a, b, dn, configs=[object()] * 3)


@pytest.mark.parametrize("shape", [(T, S), (S,), (1, S), (N, T, S), (T, 1)], ids=str)
def test_attention_bias_and_mask_of_fewer_dims_broadcast_as_jax(shape):
    b = RNG.standard_normal(shape).astype(np.float32)
    assert np.allclose(
        nn.dot_product_attention(Q, KEY, V, bias=b), jax.nn.dot_product_attention(Q, KEY, V, bias=b), atol=1e-5
    )
    m = b > 0
    m[..., 0] = True  # (every row keeps a key)
    assert np.allclose(
        nn.dot_product_attention(Q, KEY, V, mask=m), jax.nn.dot_product_attention(Q, KEY, V, mask=m), atol=1e-5
    )

"""irjax.random: threefry known answers, typed/legacy keys, and every sampler against
jax.random (the oracle, when installed) eagerly, under jit, under vmap and under grad.

Integers, bits and keys must agree exactly; floats to float32 rounding (they agree bit for
bit on x86 CPUs with FMA, where irjax reproduces XLA:CPU's log/log1p/erf/erf_inv).
Each distinct (sampler, shape, dtype) compiles one IREE module, so the shapes are few and
reused; seeds are runtime data and cost nothing.
"""

import os
import tempfile

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import prng, random, random_math

SEEDS = [0, 1, 43, 1701, -7, 2**31 - 1, 2**40 + 5]
SHAPE = (7, 3)


def check(got, want, exact=False):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if exact or got.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), rtol=1e-6, atol=1e-7)


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax")
    # the oracle's own XLA compiles dominate warm runs: keep them in a persistent cache
    jax.config.update("jax_compilation_cache_dir", os.path.join(tempfile.gettempdir(), "irjax-test-jax-cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    assert jax.config.jax_default_prng_impl == "threefry2x32"
    assert jax.config.jax_threefry_partitionable
    assert not jax.config.jax_enable_x64
    return jax


@pytest.fixture(scope="module")
def jr(jax):
    return jax.random


# ---- threefry2x32 ----------------------------------------------------------------------------

# Known-answer vectors from the Random123 distribution (kat_vectors, threefry2x32_20).
KAT = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


def test_threefry2x32_known_answers():
    u = lambda i, j: np.array([v[i][j] for v in KAT], np.uint32)  # noqa: E731
    k1, k2, x1, x2 = u(0, 0), u(0, 1), u(1, 0), u(1, 1)
    y1, y2 = irjax.jit(prng.threefry2x32)(k1, k2, x1, x2)
    check(y1, u(2, 0), exact=True)
    check(y2, u(2, 1), exact=True)
    r1, r2 = prng.threefry2x32_np(k1, k2, x1, x2)
    check(r1, u(2, 0), exact=True)
    check(r2, u(2, 1), exact=True)


# ---- keys -------------------------------------------------------------------------------------


def test_key_repr_and_legacy_key():
    k = random.key(43)
    assert str(k) == repr(k) == "Array((), dtype=key<fry>) overlaying:\n[ 0 43]"
    assert k.shape == () and k.ndim == 0 and str(k.dtype) == "key<fry>"
    legacy = random.PRNGKey(43)
    assert isinstance(legacy, irjax.Array) and legacy.dtype == np.uint32
    check(legacy, np.array([0, 43], np.uint32))
    check(random.key_data(k), legacy)
    check(random.key_data(random.wrap_key_data(legacy)), legacy)
    assert random.key_impl(k) == "threefry2x32"


def test_key_array_shape_ops():
    ks = random.split(random.key(0), 3)
    data = np.asarray(random.key_data(ks))
    assert ks.shape == (3,) and len(ks) == 3 and data.shape == (3, 2)
    assert repr(ks).startswith("Array((3,), dtype=key<fry>) overlaying:\n[[")
    a, b, c = ks
    check(random.key_data(b), data[1])
    check(random.key_data(ks[-1]), data[2])
    check(random.key_data(ks[1:]), data[1:])
    check(random.key_data(ks.reshape(3, 1)), data.reshape(3, 1, 2))
    assert bool(a == ks[0]) and not bool(a == b)
    with pytest.raises(TypeError):
        np.asarray(a)
    with pytest.raises(TypeError):
        len(a)


def test_key_errors():
    k = random.key(0)
    with pytest.raises(TypeError):
        random.key(1.5)
    with pytest.raises(TypeError):
        random.key(np.arange(2))
    with pytest.raises(ValueError):
        random.normal(random.split(k))  # samplers take one key
    with pytest.raises(TypeError):
        random.fold_in(k, np.arange(2))
    with pytest.raises(ValueError):
        random.bits(k, dtype=np.int32)
    with pytest.raises(ValueError):
        random.uniform(k, dtype=np.int32)
    with pytest.raises(TypeError):
        random.randint(k, (2,), 0, 3, dtype=np.float32)
    with pytest.raises(TypeError):
        random.wrap_key_data(np.zeros((2,), np.int32))


def test_seeds(jr):
    for s in SEEDS + [np.int32(-3), np.uint32(7)]:
        check(random.key_data(random.key(s)), jr.key_data(jr.key(s)))
        check(random.PRNGKey(s), jr.PRNGKey(s))


def test_split_and_fold_in(jr):
    for s in SEEDS[:4]:
        ki, kj = random.key(s), jr.key(s)
        check(random.key_data(random.split(ki)), jr.key_data(jr.split(kj)))
        check(random.key_data(random.split(ki, (2, 3))), jr.key_data(jr.split(kj, (2, 3))))
        for d in (0, 7, 2**32 - 1, np.int32(-1)):
            check(random.key_data(random.fold_in(ki, d)), jr.key_data(jr.fold_in(kj, d)))
    # legacy keys in, legacy keys out
    leg = random.split(random.PRNGKey(5))
    assert isinstance(leg, irjax.Array)
    check(leg, jr.split(jr.PRNGKey(5)))
    check(random.fold_in(random.PRNGKey(5), 3), jr.fold_in(jr.PRNGKey(5), 3))
    # chained splitting: the tutorial's pattern
    ki, kj = random.key(43), jr.key(43)
    for _ in range(3):
        ki, si = random.split(ki)
        kj, sj = jr.split(kj)
        check(random.key_data(si), jr.key_data(sj))


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32"])
def test_bits(jr, dtype):
    for s in SEEDS[:3]:
        check(random.bits(random.key(s), SHAPE, dtype), jr.bits(jr.key(s), SHAPE, dtype))
    if dtype == "uint32":
        check(random.bits(random.key(1)), jr.bits(jr.key(1)))


# ---- floats -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_uniform(jr, dtype):
    for s in SEEDS[:3]:
        check(random.uniform(random.key(s), SHAPE, dtype), jr.uniform(jr.key(s), SHAPE, dtype), exact=True)


def test_uniform_bounds(jr):
    lo, hi = np.float32(-2.5), np.arange(3, dtype=np.float32) + 1
    for s in SEEDS[:3]:
        got = random.uniform(random.key(s), SHAPE, minval=lo, maxval=hi)
        check(got, jr.uniform(jr.key(s), SHAPE, minval=lo, maxval=hi))
        g = np.asarray(got)
        assert (g >= lo).all() and (g < hi).all()


def test_normal(jr):
    for s in SEEDS:
        check(random.normal(random.key(s), SHAPE), jr.normal(jr.key(s), SHAPE))
    check(random.normal(random.key(3), SHAPE, "float16"), jr.normal(jr.key(3), SHAPE, "float16"))
    x = np.asarray(random.normal(random.key(0), (150, 100)))
    assert abs(x.mean()) < 0.05 and abs(x.std() - 1) < 0.05


def test_tutorial_numbers(jr):
    """The cells of thinking_in_jax.md: printed values must be JAX's exactly."""
    key = random.key(43)
    assert str(random.normal(key)) == "0.07520543"
    assert str(random.normal(key)) == "0.07520543"
    draws = []
    for _ in range(3):
        new_key, subkey = random.split(key)
        draws.append(f"{random.normal(subkey)}")
        key = new_key
    assert draws == ["-1.9133632183074951", "-1.4749839305877686", "-0.36703771352767944"]
    key1, key2 = random.split(random.key(1701))
    j1, j2 = jr.split(jr.key(1701))
    check(random.normal(key1, (150, 100)), jr.normal(j1, (150, 100)))
    check(random.normal(key2, (10, 100)), jr.normal(j2, (10, 100)))


def test_truncated_normal(jr):
    for s in SEEDS[:3]:
        got = random.truncated_normal(random.key(s), -1.0, 2.0, SHAPE)
        check(got, jr.truncated_normal(jr.key(s), -1.0, 2.0, SHAPE))
        assert (np.asarray(got) > -1).all() and (np.asarray(got) < 2).all()
    lower = np.array([-np.inf, 0.0, 1.0], np.float32)
    check(random.truncated_normal(random.key(2), lower, np.inf), jr.truncated_normal(jr.key(2), lower, np.inf))


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("exponential", {}),
        ("laplace", {}),
        ("logistic", {}),
        ("gumbel", {}),
        ("gumbel", {"mode": "high"}),
        ("gumbel", {"mode": "highest"}),
    ],
)
def test_simple_samplers(jr, name, kwargs):
    for s in SEEDS[:3]:
        got = getattr(random, name)(random.key(s), SHAPE, **kwargs)
        check(got, getattr(jr, name)(jr.key(s), SHAPE, **kwargs))


def test_bernoulli(jr):
    p = np.linspace(0, 1, 7, dtype=np.float32)[:, None]
    for s in SEEDS[:3]:
        ki, kj = random.key(s), jr.key(s)
        check(random.bernoulli(ki, 0.3, SHAPE), jr.bernoulli(kj, 0.3, SHAPE))
        check(random.bernoulli(ki, p, SHAPE), jr.bernoulli(kj, p, SHAPE))
        check(random.bernoulli(ki, p), jr.bernoulli(kj, p))
        check(random.bernoulli(ki, 0.3, SHAPE, mode="high"), jr.bernoulli(kj, 0.3, SHAPE, mode="high"))


def test_multivariate_normal(jr):
    mean = np.array([1.0, -2.0, 3.0], np.float32)
    a = np.array([[2.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, 3.0]], np.float32)
    for s in SEEDS[:3]:
        got = random.multivariate_normal(random.key(s), mean, a, (5,))
        want = jr.multivariate_normal(jr.key(s), mean, a, (5,))
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)
        assert got.shape == (5, 3)


# ---- integers, permutations -------------------------------------------------------------------


@pytest.mark.parametrize(
    "minval, maxval, dtype",
    [
        (0, 10, None),
        (-100, 7, "int32"),
        (-(2**31), 2**31 - 1, "int32"),
        (5, 2, "int32"),  # maxval <= minval gives minval
        (0, 256, "uint8"),
        (-128, 128, "int8"),
        (0, 10, "uint32"),
        (np.array([0, 5, 10]), np.array([3, 100, 11]), None),
    ],
)
def test_randint(jr, minval, maxval, dtype):
    for s in SEEDS[:3]:
        check(
            random.randint(random.key(s), SHAPE, minval, maxval, dtype),
            jr.randint(jr.key(s), SHAPE, minval, maxval, dtype),
        )


def test_permutation(jr):
    x = np.arange(24).reshape(4, 6)
    for s in SEEDS[:3]:
        ki, kj = random.key(s), jr.key(s)
        check(random.permutation(ki, 20), jr.permutation(kj, 20))
        check(random.permutation(ki, x, axis=1), jr.permutation(kj, x, axis=1))
        check(random.permutation(ki, x, axis=1, independent=True), jr.permutation(kj, x, axis=1, independent=True))
    p = np.asarray(random.permutation(random.key(0), 3000))  # two sorting rounds
    check(p, jr.permutation(jr.key(0), 3000))
    assert sorted(p.tolist()) == list(range(3000))


def test_choice(jr):
    x = np.arange(24).reshape(4, 6)
    p = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    for s in SEEDS[:3]:
        ki, kj = random.key(s), jr.key(s)
        check(random.choice(ki, 10, (5,)), jr.choice(kj, 10, (5,)))
        check(random.choice(ki, x, (2,), axis=1), jr.choice(kj, x, (2,), axis=1))
        check(random.choice(ki, 10, (5,), replace=False), jr.choice(kj, 10, (5,), replace=False))
        check(random.choice(ki, 4, SHAPE, p=p), jr.choice(kj, 4, SHAPE, p=p))
        check(random.choice(ki, 4, (3,), replace=False, p=p), jr.choice(kj, 4, (3,), replace=False, p=p))


def test_categorical(jr):
    logits = np.log(np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.25, 0.125, 0.125]], np.float32))
    for s in SEEDS[:3]:
        ki, kj = random.key(s), jr.key(s)
        check(random.categorical(ki, logits), jr.categorical(kj, logits))
        check(random.categorical(ki, logits, shape=(7, 2)), jr.categorical(kj, logits, shape=(7, 2)))
        check(random.categorical(ki, logits, axis=0), jr.categorical(kj, logits, axis=0))
        check(
            random.categorical(ki, logits, shape=(3, 2), replace=False),
            jr.categorical(kj, logits, shape=(3, 2), replace=False),
        )


# ---- transformations --------------------------------------------------------------------------


def test_jit(jr, jax):
    ki, kj = random.key(1701), jr.key(1701)
    check(irjax.jit(lambda k: random.normal(k, SHAPE))(ki), jr.normal(kj, SHAPE))
    out = irjax.jit(random.split)(ki)
    assert isinstance(out, random.PRNGKeyArray) and out.shape == (2,)
    check(random.key_data(out), jr.key_data(jr.split(kj)))
    check(random.key_data(irjax.jit(random.key)(np.int32(-5))), jr.key_data(jr.key(-5)))
    check(random.key_data(irjax.jit(random.fold_in)(ki, np.int32(9))), jr.key_data(jr.fold_in(kj, 9)))

    def draws(k):  # unpacking and indexing key arrays inside a trace
        a, b = random.split(k)
        return random.uniform(a, SHAPE), random.randint(b, SHAPE, 0, 10)

    got = irjax.jit(draws)(ki)
    ja, jb = jr.split(kj)
    check(got[0], jr.uniform(ja, SHAPE))
    check(got[1], jr.randint(jb, SHAPE, 0, 10))


def test_vmap(jr, jax):
    ki, kj = random.split(random.key(7), 4), jr.split(jr.key(7), 4)
    vj = jax.vmap
    check(irjax.vmap(lambda k: random.normal(k, SHAPE))(ki), vj(lambda k: jr.normal(k, SHAPE))(kj))
    check(random.key_data(irjax.vmap(random.split)(ki)), jr.key_data(vj(jr.split)(kj)))
    seeds = np.arange(3, dtype=np.int32)
    check(random.key_data(irjax.vmap(random.key)(seeds)), jr.key_data(vj(jr.key)(seeds)))
    k0i, k0j = random.key(1), jr.key(1)
    data = np.arange(5, dtype=np.int32)
    check(
        random.key_data(irjax.vmap(lambda i: random.fold_in(k0i, i))(data)),
        jr.key_data(vj(lambda i: jr.fold_in(k0j, i))(data)),
    )
    lo = np.arange(4, dtype=np.float32)
    check(
        irjax.vmap(lambda k, m: random.uniform(k, SHAPE, minval=m, maxval=10.0))(ki, lo),
        vj(lambda k, m: jr.uniform(k, SHAPE, minval=m, maxval=10.0))(kj, lo),
    )
    check(irjax.vmap(lambda k: random.randint(k, SHAPE, 0, 10))(ki), vj(lambda k: jr.randint(k, SHAPE, 0, 10))(kj))
    check(irjax.vmap(lambda k: random.permutation(k, 6))(ki), vj(lambda k: jr.permutation(k, 6))(kj))
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4], np.float32))
    check(
        irjax.vmap(lambda k: random.categorical(k, logits, shape=(3,)))(ki),
        vj(lambda k: jr.categorical(k, logits, shape=(3,)))(kj),
    )
    # legacy uint32 keys batch along their leading axis too
    check(
        irjax.vmap(lambda k: random.normal(k, SHAPE))(random.key_data(ki)),
        vj(lambda k: jr.normal(k, SHAPE))(jr.key_data(kj)),
    )


def test_grad(jr, jax):
    ki, kj = random.key(0), jr.key(0)

    def fi(sigma, mu, k=ki):
        return jnp.sum(random.normal(k, SHAPE) * sigma + mu)

    def fj(sigma, mu, k=kj):
        return jax.numpy.sum(jr.normal(k, SHAPE) * sigma + mu)

    gs, gm = irjax.grad(fi, argnums=(0, 1))(2.0, 1.0)
    ws, wm = jax.grad(fj, argnums=(0, 1))(2.0, 1.0)
    check(gs, ws)
    check(gm, wm)
    assert float(gm) == SHAPE[0] * SHAPE[1]
    # the key as a (non-differentiated) argument, under jit and vmap
    check(irjax.jit(irjax.grad(fi))(2.0, 1.0, ki), jax.grad(fj)(2.0, 1.0, kj))
    ks, kjs = random.split(ki, 4), jr.split(kj, 4)
    check(
        irjax.vmap(irjax.grad(fi), in_axes=(None, None, 0))(2.0, 1.0, ks),
        jax.vmap(jax.grad(fj), in_axes=(None, None, 0))(2.0, 1.0, kjs),
    )


def test_grad_of_bounds(jr, jax):
    """Reparameterized samplers differentiate through their bounds, as in JAX."""
    ki, kj = random.key(3), jr.key(3)
    sj = jax.numpy.sum
    gi = irjax.grad(lambda lo, hi: jnp.sum(random.uniform(ki, SHAPE, minval=lo, maxval=hi)), argnums=(0, 1))(-1.0, 2.0)
    gj = jax.grad(lambda lo, hi: sj(jr.uniform(kj, SHAPE, minval=lo, maxval=hi)), argnums=(0, 1))(-1.0, 2.0)
    for a, b in zip(gi, gj):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5)
    gi = irjax.grad(lambda lo, hi: jnp.sum(random.truncated_normal(ki, lo, hi, SHAPE)), argnums=(0, 1))(-1.0, 2.0)
    gj = jax.grad(lambda lo, hi: sj(jr.truncated_normal(kj, lo, hi, SHAPE)), argnums=(0, 1))(-1.0, 2.0)
    for a, b in zip(gi, gj):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5)


def test_xla_math_emulation(jax):
    """log/log1p/erf/erf_inv match XLA:CPU's values, with the primitives' derivatives."""
    lax = jax.lax
    u = np.linspace(-1, 1, 4097, dtype=np.float32)[1:-1]
    cases = [
        ("log", jax.numpy.log, np.abs(u) * 3 + 1e-3),
        ("log1p", jax.numpy.log1p, u * 4),
        ("erf", lax.erf, u * 5),
        ("erf_inv", lax.erf_inv, u),
    ]
    f = irjax.jit(lambda x: [random_math.math_fn(n, x[i]) for i, (n, _, _) in enumerate(cases)])
    got = f(np.stack([c[2] for c in cases]))
    for (name, jf, x), g in zip(cases, got):
        np.testing.assert_allclose(np.asarray(g), np.asarray(jf(x)), rtol=2e-7, atol=0, err_msg=name)
    gi = irjax.vmap(irjax.grad(lambda x: random_math.math_fn("erf_inv", x)))(u)
    np.testing.assert_allclose(np.asarray(gi), np.asarray(jax.vmap(jax.grad(lax.erf_inv))(u)), rtol=1e-5)

"""Programs in the wild run unchanged: Array methods, dtype edge cases and error types that
differential probes found to differ from JAX, each checked against JAX on the same inputs."""

from __future__ import annotations

import functools
import gzip
import json
import operator
import re
import warnings

import irjax
import irjax.dtypes as idtypes
import irjax.numpy as jnp
import irjax.sharding as isharding
import jax
import jax.dtypes as jdtypes
import jax.numpy as jjnp
import jax.sharding as jsharding
import numpy as np
import pytest
from irjax.ad_checkpoint import checkpoint_name as icn
from irjax.experimental import checkify as ichk
from jax.ad_checkpoint import checkpoint_name as jcn
from jax.experimental import checkify as jchk

jax.config.update("jax_platforms", "cpu")


def _same(got, want, rtol=0.0):
    assert np.dtype(got.dtype) == np.dtype(want.dtype), (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=rtol)


def _raises_like(fn_irjax, fn_jax):
    """Both raise the same exception type (by name: irjax.errors mirrors jax.errors, and both
    derive from the same builtin); returns the two messages."""
    with pytest.raises(Exception) as want:
        fn_jax()
    with pytest.raises(Exception) as got:
        fn_irjax()
    assert type(got.value).__name__ == type(want.value).__name__, (got.value, want.value)
    builtin = next(c for c in type(want.value).__mro__ if c.__module__ == "builtins")
    assert isinstance(got.value, builtin)
    return str(got.value), str(want.value)


VIEWS = [
    ("int32", "uint8", (2, 3)),
    ("uint8", "int32", (2, 8)),
    ("float32", "float16", (3,)),
    ("float16", "float32", (4,)),
    ("bool", "int8", (3,)),
    ("int8", "bool", (3,)),
    ("float32", "int32", ()),
    ("bfloat16", "int16", (2,)),
]


@pytest.mark.parametrize("src,dst,shape", VIEWS)
def test_array_view(src, dst, shape):
    x = (np.arange(int(np.prod(shape))).reshape(shape) * 37 + 3) % 120
    got, want = jnp.asarray(x).astype(src).view(dst), jjnp.asarray(x).astype(src).view(dst)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.asarray(got).tobytes() == np.asarray(want).tobytes()


def test_array_view_bad_width():
    _raises_like(lambda: jnp.ones(3, jnp.uint8).view(jnp.int32), lambda: jjnp.ones(3, jnp.uint8).view(jnp.int32))


def test_array_methods_choose_compress_round():
    idx, ch = np.array([0, 1, 0]), [np.arange(3), np.arange(3) * 10]
    _same(
        jnp.asarray(idx).choose([jnp.asarray(c) for c in ch]), jjnp.asarray(idx).choose([jjnp.asarray(c) for c in ch])
    )
    a, cond = np.arange(6.0).reshape(2, 3), np.array([True, False, True])
    _same(jnp.asarray(a).compress(cond, axis=1), jjnp.asarray(a).compress(cond, axis=1))
    _same(jnp.arange(5).compress(jnp.array([1, 0, 1])), jjnp.arange(5).compress(jjnp.array([1, 0, 1])))
    for v in (2.567, -1.5, 2.5):
        _same(round(jnp.float32(v)), round(jjnp.float32(v)))
        # XLA:CPU divides by 10 as a multiply by 0.1 (one ulp off); irjax divides exactly
        _same(round(jnp.array(v), 1), round(jjnp.array(v), 1), rtol=1e-6)


def test_array_addressable_data_and_committed():
    x, y = jnp.arange(3.0), jjnp.arange(3.0)
    _same(x.addressable_data(0), y.addressable_data(0))
    assert x.committed == y.committed


def test_scalar_conversion_errors():
    for conv in (int, float, complex):
        got, want = _raises_like(lambda: conv(jnp.arange(2.0)), lambda: conv(jjnp.arange(2.0)))
        assert got == want
    got, want = _raises_like(lambda: [1, 2][jnp.array(1.0)], lambda: [1, 2][jjnp.array(1.0)])
    assert got.startswith(want.rstrip("."))
    assert operator.index(jnp.array(3)) == operator.index(jjnp.array(3)) == 3


NARROW = ["int4", "uint4", "int2", "float8_e4m3fn", "float8_e5m2", "bfloat16", "float4_e2m1fn"]
ABSTRACT = [np.generic, np.number, np.integer, np.signedinteger, np.unsignedinteger, np.inexact, np.floating]


@pytest.mark.parametrize("name", NARROW)
def test_issubdtype_narrow(name):
    for kind in ABSTRACT:
        got = idtypes.issubdtype(getattr(jnp, name), kind)
        assert got == jdtypes.issubdtype(getattr(jjnp, name), kind), (name, kind)
    assert idtypes.issubdtype(getattr(jnp, name), getattr(jnp, name))
    assert not idtypes.issubdtype(getattr(jnp, name), np.int8)


SHAPE_ERRORS = {
    "add": lambda m: m.ones(3) + m.ones(4),
    "sub": lambda m: m.ones(3) - m.ones((2, 4)),  # ranks differ: ValueError in JAX
    "sub_ranks": lambda m: m.ones((2, 1, 3)) - m.ones((2, 4)),
    "mul": lambda m: m.ones((2, 3)) * m.ones((4, 3)),
    "lt": lambda m: m.ones(3) < m.ones(4),
    "max": lambda m: m.maximum(m.ones(3), m.ones(4)),
    "pow": lambda m: m.power(m.ones(3), m.ones(4)),
    "and": lambda m: m.ones(3, "int32") & m.ones(4, "int32"),
    "reshape": lambda m: m.ones(6).reshape(4, 2),
    "reshape_infer": lambda m: m.ones(6).reshape(-1, 4),
    "concat": lambda m: m.concatenate([m.ones((2, 2)), m.ones((2, 3))]),
    "concat_axis1": lambda m: m.concatenate([m.ones((2, 2)), m.ones((3, 3))], axis=1),
    "vstack": lambda m: m.vstack([m.ones(2), m.ones(3)]),
}


@pytest.mark.parametrize("name", sorted(SHAPE_ERRORS))
def test_shape_error_types_and_messages(name):
    fn = SHAPE_ERRORS[name]
    got, want = _raises_like(lambda: fn(jnp), lambda: fn(jjnp))
    assert got == want


X64_REQUESTS = {
    "zeros": lambda m, dt: m.zeros(2, dtype=dt),
    "ones": lambda m, dt: m.ones(2, dtype=dt),
    "full": lambda m, dt: m.full(2, 1, dtype=dt),
    "asarray": lambda m, dt: m.asarray(np.ones(2), dtype=dt),
    "array": lambda m, dt: m.array([1, 2], dtype=dt),
    "arange": lambda m, dt: m.arange(3, dtype=dt),
    "eye": lambda m, dt: m.eye(2, dtype=dt),
    "astype": lambda m, dt: m.ones(2).astype(dt),
}


def _warned(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("name", sorted(X64_REQUESTS))
@pytest.mark.parametrize("dt", [np.float64, "int64", np.uint64, float, np.float32])
def test_x64_truncation_warns_as_jax(name, dt):
    got, got_w = _warned(lambda: X64_REQUESTS[name](jnp, dt))
    want, want_w = _warned(lambda: X64_REQUESTS[name](jjnp, dt))
    assert got.dtype == want.dtype
    assert got_w == want_w


TRACER_ERRORS = {
    "bool": lambda j, m: j.jit(lambda x: 1 if x > 0 else 2)(1.0),
    "int": lambda j, m: j.jit(lambda x: int(x))(1.0),
    "index": lambda j, m: j.jit(lambda i: [1, 2][i])(1),
    "array": lambda j, m: j.jit(lambda x: np.asarray(x))(m.ones(2)),
}


@pytest.mark.parametrize("name", sorted(TRACER_ERRORS))
def test_tracer_error_first_line(name):
    fn = TRACER_ERRORS[name]
    got, want = _raises_like(lambda: fn(irjax, jnp), lambda: fn(jax, jjnp))
    assert got.splitlines()[0] == want.splitlines()[0]


MORE_ERRORS = {
    "transpose_repeat": lambda j, m: m.ones((2, 3)).transpose(0, 0),
    "transpose_short": lambda j, m: m.ones((2, 3)).transpose(0),
    "split_unequal": lambda j, m: m.split(m.arange(7), 3),
    "choose_traced_raise": lambda j, m: j.jit(lambda i: i.choose([m.arange(3), m.arange(3) * 2]))(m.array([0, 1])),
    "zeros_traced": lambda j, m: j.jit(lambda n: m.zeros(n))(3),
    "ones_traced_dim": lambda j, m: j.jit(lambda n: m.ones((2, n)))(3),
    "zeros_float": lambda j, m: m.zeros(2.0),
    "matmul_scalar_rhs": lambda j, m: m.ones(3) @ 2.0,
    "matmul_scalar_lhs": lambda j, m: m.matmul(2.0, m.ones(3)),
    "too_many_indices": lambda j, m: m.ones(3)[0, 0],
    "too_many_indices_ellipsis": lambda j, m: m.ones((2, 3))[0, ..., 0, 0],
}


@pytest.mark.parametrize("name", sorted(MORE_ERRORS))
def test_error_types_more(name):
    fn = MORE_ERRORS[name]
    got, want = _raises_like(lambda: fn(irjax, jnp), lambda: fn(jax, jjnp))
    assert got.splitlines()[0] == want.splitlines()[0]


def test_reduction_of_weak_input_is_strong():
    for m in (jnp, jjnp):
        b = m.broadcast_to(m.asarray(1.0), (3,))
        assert b.weak_type
    for red in ("sum", "prod", "max", "min", "ptp"):
        for arg in (lambda m: m.asarray(1.5), lambda m: m.broadcast_to(m.asarray(1.0), (3,))):
            got, want = getattr(jnp, red)(arg(jnp)), getattr(jjnp, red)(arg(jjnp))
            assert got.weak_type == want.weak_type, red
            _same(got + jnp.ones(2, jnp.float16), want + jjnp.ones(2, jjnp.float16))
    assert jnp.sum(jnp.asarray(1.0), keepdims=True).weak_type == jjnp.sum(jjnp.asarray(1.0), keepdims=True).weak_type
    # the input keeps its weak type (a 0-d reduction must not retype its operand in place)
    for m in (jnp, jjnp):
        x = m.asarray(1.0)
        m.sum(x), m.max(x, axis=()), m.prod(x)
        assert x.weak_type and m.abs(x).weak_type
    outs = irjax.jit(lambda x: (jnp.sum(x), x * 1, jnp.abs(x)))(1.0)
    want = jax.jit(lambda x: (jjnp.sum(x), x * 1, jjnp.abs(x)))(1.0)
    assert [o.weak_type for o in outs] == [o.weak_type for o in want]


@pytest.mark.parametrize(
    "pair", [("int4", "int8"), ("float8_e4m3fn", "float32"), ("float8_e4m3fn", "bfloat16"), ("uint4", "int32")]
)
def test_narrow_dtype_promotion_error(pair):
    got, want = _raises_like(
        lambda: jnp.result_type(*(getattr(jnp, n) for n in pair)),
        lambda: jjnp.result_type(*(getattr(jjnp, n) for n in pair)),
    )
    assert isinstance(idtypes.TypePromotionError("x"), ValueError)
    # JAX lists the input dtypes in a set's order (it varies between runs); the rest is fixed
    assert got.split(") have")[1] == want.split(") have")[1]
    assert sorted(re.findall(r"'(\w+)'", got.split(") have")[0])) == sorted(pair)
    assert jnp.result_type(jnp.int4, jnp.int4) == jjnp.result_type(jjnp.int4, jjnp.int4)


@pytest.mark.parametrize("out", ["tuple", "vector", "none"])
def test_grad_of_non_scalar_output(out):
    make = {
        "tuple": lambda m: lambda x: (x, x),
        "vector": lambda m: lambda x: x * m.ones(2),
        "none": lambda m: lambda x: None,
    }[out]
    got, want = _raises_like(lambda: irjax.grad(make(jnp))(1.0), lambda: jax.grad(make(jjnp))(1.0))
    prefix = "Gradient only defined for scalar-output functions. Output "
    assert got.startswith(prefix) and want.startswith(prefix)
    if out == "vector":
        assert got == want
    else:  # JAX prints the traced values; irjax names the pytree (never a misleading shape)
        assert "shape" not in got


def test_closure_convert_returns_arrays():
    for fn, args in (
        (lambda x: x * 2.0, (3.0,)),
        (lambda x, y: (x + y, {"a": x}), (3.0, np.ones(2, np.float32))),
        (lambda x: x**2 + 1, (np.float32(0.5),)),
    ):
        got = irjax.closure_convert(fn, *args)[0](*args)
        want = jax.closure_convert(fn, *args)[0](*args)
        g, w = jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)
        assert len(g) == len(w)
        for a, b in zip(g, w):
            assert hasattr(a, "shape") == hasattr(b, "shape"), (a, b)  # Array vs passed-through input
            if hasattr(b, "shape"):
                _same(a, b, rtol=1e-6)
                assert a.weak_type == b.weak_type
            else:
                assert a == b


def test_at_apply_runs_once_per_index_as_jax():
    """x.at[idx].apply(f) applies f once per time an index names an entry (a duplicated index
    twice), eagerly and under jit; out-of-range indices are dropped."""
    x = np.arange(4.0, dtype=np.float32)
    cases = [
        (np.array([1, 3, 3, 9]), lambda v: v * 2),
        (slice(1, 3), lambda v: v + 1),
        (np.array([0, 0, 2]), lambda v: v * v + 1),
    ]
    for idx, f in cases:
        want = jjnp.asarray(x).at[idx].apply(f)
        np.testing.assert_array_equal(np.asarray(jnp.asarray(x).at[idx].apply(f)), np.asarray(want))
        got = irjax.jit(lambda a, idx=idx, f=f: a.at[idx].apply(f))(x)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    ints = np.arange(4, dtype=np.int32)
    got = jnp.asarray(ints).at[np.array([1, 1])].apply(lambda v: v * 3)
    assert got.dtype == np.int32 and np.asarray(got).tolist() == [0, 9, 2, 3]


def _piecewise():
    def f(x):
        if x < 3:  # Python control flow on the value: fine under grad of concrete inputs
            return 3.0 * x**2
        return -4 * x

    return f


@pytest.mark.parametrize("x", [2.0, 4.0])
def test_grad_of_python_control_flow(x):
    """JAX's autodiff tracers carry their primal values: `if x < 3` works under grad, jvp and vjp
    of concrete inputs (the docs' control-flow and sharp-bits pages), and still raises under jit."""
    f = _piecewise()
    for got, want in [
        (irjax.grad(f)(x), jax.grad(f)(x)),
        (irjax.value_and_grad(f)(x)[0], jax.value_and_grad(f)(x)[0]),
        (irjax.jvp(f, (x,), (1.0,))[1], jax.jvp(f, (x,), (1.0,))[1]),
        (irjax.vjp(f, x)[1](1.0)[0], jax.vjp(f, x)[1](1.0)[0]),
        (irjax.grad(irjax.grad(f))(x), jax.grad(jax.grad(f))(x)),
    ]:
        _same(got, want)
        assert got.weak_type == want.weak_type

    def loop(x):
        while x < 10:  # a Python while on a traced value, and int() (JAX's float() raises)
            x = x * 2
        return x * int(x) + x.item()

    _same(irjax.grad(loop)(3.0), jax.grad(loop)(3.0))
    _raises_like(lambda: irjax.grad(lambda x: float(x))(x), lambda: jax.grad(lambda x: float(x))(x))
    _raises_like(lambda: irjax.jit(irjax.grad(f))(x), lambda: jax.jit(jax.grad(f))(x))
    _raises_like(lambda: irjax.make_jaxpr(f)(x), lambda: jax.make_jaxpr(f)(x))


@pytest.mark.parametrize("init", [0, 0.0, np.int32(0)])
def test_fori_loop_weak_counter(init):
    """Python-int bounds give a weakly typed counter, so `fori_loop(0, 10, lambda i, x: x + i, 0)`
    ends weakly typed as in JAX (the control-flow page's example), eager and under jit."""
    got = irjax.lax.fori_loop(0, 10, lambda i, x: x + i, init)
    want = jax.lax.fori_loop(0, 10, lambda i, x: x + i, init)
    _same(got, want)
    assert got.weak_type == want.weak_type
    got = irjax.jit(lambda n: irjax.lax.fori_loop(0, n, lambda i, x: x + i, init))(10)
    want = jax.jit(lambda n: jax.lax.fori_loop(0, n, lambda i, x: x + i, init))(10)
    _same(got, want)
    assert got.weak_type == want.weak_type


def test_grad_leaves_other_arguments_untraced():
    """Arguments outside argnums reach the function as given, as in JAX: a function passed to a
    custom_vjp's nondiff argument (the custom-derivatives page) and a Python int loop count."""

    def make(lib):
        @functools.partial(lib.custom_vjp, nondiff_argnums=(0,))
        def app(f, x):
            return f(x)

        app.defvjp(lambda f, x: (f(x), x), lambda f, x, g: (5 * g,))
        return app

    _same(irjax.grad(make(irjax), 1)(lambda x: x**2, 4.0), jax.grad(make(jax), 1)(lambda x: x**2, 4.0))

    def h(x, n, d):
        for _ in range(n):
            x = x * d["s"]
        return x

    got = irjax.value_and_grad(h, (0, 2))(2.0, 3, {"s": 1.5})
    want = jax.value_and_grad(h, (0, 2))(2.0, 3, {"s": 1.5})
    for g, w in zip(irjax.tree.leaves(got), jax.tree.leaves(want)):
        _same(g, w, rtol=1e-6)
        assert g.weak_type == w.weak_type


def test_custom_vjp_bwd_arity_message():
    """A bwd rule returning too few cotangents: JAX's TypeError naming the two tree structures."""

    def make(lib):
        @lib.custom_vjp
        def g(x, y):
            return x * y

        g.defvjp(lambda x, y: (x * y, (x, y)), lambda r, ct: (ct * r[1],))
        return g

    got, want = _raises_like(lambda: irjax.grad(make(irjax))(1.0, 2.0), lambda: jax.grad(make(jax))(1.0, 2.0))
    assert got.splitlines()[0] == want.splitlines()[0]


@pytest.mark.parametrize("sampler", ["uniform", "normal", "randint", "bits"])
def test_random_64bit_dtype_warns(sampler):
    """x64 off: asking jax.random for a 64-bit dtype warns as JAX does (the sharp bits' double
    precision section), with JAX's wording, and samples the 32-bit dtype."""

    def call(lib):
        k = lib.random.key(0)
        dt = {"randint": "int64", "bits": "uint64"}.get(sampler, "float64")
        args = ((3,), 0, 5) if sampler == "randint" else ((3,),)
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            out = getattr(lib.random, sampler)(k, *args, dtype=dt)
        return out, [str(w.message) for w in ws if w.category is UserWarning]

    (got, gw), (want, ww) = call(irjax), call(jax)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert gw == ww and len(ww) == 1


def test_compiled_called_with_other_pytree():
    """AOT: calling a compiled function with more arguments than it was lowered for is JAX's
    TypeError (was the IREE runtime's ValueError)."""

    def f(x, y):
        return 2 * x + y

    got, want = _raises_like(
        lambda: irjax.jit(f, static_argnums=0).lower(7, 8).compile()(7, 8),
        lambda: jax.jit(f, static_argnums=0).lower(7, 8).compile()(7, 8),
    )
    assert got == want
    ci, cj = irjax.jit(f, static_argnums=0).lower(7, 8).compile(), jax.jit(f, static_argnums=0).lower(7, 8).compile()
    assert int(ci(5)) == int(cj(5)) == 19
    assert str(ci.in_tree) == str(cj.in_tree)


@pytest.mark.parametrize("spec", [(), ("x",), ("x", None), (None, ("x", "y"))])
def test_sharding_reprs(spec):
    """PartitionSpec and NamedSharding print as JAX's (the parallel-programming page prints them)."""
    assert repr(isharding.PartitionSpec(*spec)) == repr(jsharding.PartitionSpec(*spec))
    used = [a for p in spec for a in ((p,) if isinstance(p, str) else (p or ()))]
    if len(used) <= 1:
        mi, mj = irjax.make_mesh((1,), ("x",)), jax.make_mesh((1,), ("x",))
        si = isharding.NamedSharding(mi, isharding.PartitionSpec(*spec))
        sj = jsharding.NamedSharding(mj, jsharding.PartitionSpec(*spec))
        assert repr(si) == repr(sj) and si.memory_kind == sj.memory_kind


def test_ad_checkpoint_names():
    """jax.ad_checkpoint.checkpoint_name with a name-based policy (the gradient-checkpointing
    page): values and gradients as JAX's, named values come back unchanged."""

    def make(lib, cn):
        def f(x):
            return lib.numpy.sin(cn(lib.numpy.cos(x) * x, "a")) * x

        return lib.checkpoint(f, policy=lib.checkpoint_policies.save_only_these_names("a"))

    _same(irjax.grad(make(irjax, icn))(1.5), jax.grad(make(jax, jcn))(1.5), rtol=1e-6)
    x = np.arange(3.0, dtype=np.float32)
    _same(icn({"x": jnp.asarray(x)}, "b")["x"], jcn({"x": jjnp.asarray(x)}, "b")["x"])
    assert [float(v) for v in icn([1.0, 2], "b")] == [float(v) for v in jcn([1.0, 2], "b")]
    assert irjax.ad_checkpoint.checkpoint is irjax.checkpoint


def test_checkify_user_checks():
    """checkify.check inside checkify(f), eager, under jit and under vmap (the debugging page):
    the same messages as JAX from Error.get(), throw() and get_exception()."""

    def make(lib, chk):
        def f(x, i):
            x = lib.numpy.asarray(x)
            chk.check(i >= 0, "index needs to be non-negative, got {i}", i=i)
            chk.check(x[i] > 0, "x[{}] = {} is not positive", i, x[i])
            return lib.numpy.sin(x[i])

        return chk.checkify(f)

    x = np.array([1.0, -2.0, 3.0], np.float32)
    fi, fj = irjax.jit(make(irjax, ichk)), jax.jit(make(jax, jchk))
    for i in (-2, 0, 1):
        (ei, oi), (ej, oj) = fi(x, i), fj(x, i)
        assert ei.get() == ej.get() and str(ei) == str(ej)
        _same(oi, oj, rtol=1e-6)
        assert type(ei.get_exception()).__name__ == type(ej.get_exception()).__name__
    _raises_like(lambda: fi(x, 1)[0].throw(), lambda: fj(x, 1)[0].throw())
    ei, _ = irjax.vmap(make(irjax, ichk), in_axes=(None, 0))(x, np.array([0, 1, -1]))
    ej, _ = jax.vmap(make(jax, jchk), in_axes=(None, 0))(x, np.array([0, 1, -1]))
    assert ei.get() == ej.get()
    ei, _ = make(irjax, ichk)(jnp.asarray(x), 1)  # eager
    assert ei.get() == fj(x, 1)[0].get()
    # outside checkify: a concrete failure raises at once, a traced one is JAX's ValueError
    _raises_like(lambda: ichk.check(False, "bad {}", 3), lambda: jchk.check(False, "bad {}", 3))
    got, want = _raises_like(
        lambda: irjax.jit(lambda v: ichk.check(v > 0, "neg"))(1.0),
        lambda: jax.jit(lambda v: jchk.check(v > 0, "neg"))(1.0),
    )
    assert got == want


def test_checkify_automatic_checks():
    """errors=nan_checks / div_checks / index_checks / float_checks / all_checks (the checkify
    guide): the same Error.get() as JAX for NaNs, divisions by zero and out-of-bounds gather,
    dynamic_slice, dynamic_update_slice and scatter starts, eager, under jit and under vmap; a
    clean run gives no error; user checks and automatic ones together."""

    def cases(lib, chk):
        np_, lax_ = lib.numpy, lib.lax
        return [
            (chk.float_checks, lambda x, i: np_.log(x) * 2, (-1.0, 0)),
            (chk.float_checks, lambda x, i: np_.sin(x), (np.inf, 0)),
            (chk.nan_checks, lambda x, i: np_.sqrt(x - 2.0) + np_.log(x), (1.0, 0)),
            (chk.float_checks, lambda x, i: np_.exp(x), (1.0, 0)),  # no error
            (chk.div_checks, lambda x, i: np_.arange(3) // i, (1.0, 0)),
            (chk.div_checks, lambda x, i: x / (i * 1.0), (1.0, 0)),  # (JAX: only under jit, see below)
            (chk.index_checks, lambda x, i: np_.arange(3.0)[i], (1.0, 5)),
            (chk.index_checks, lambda x, i: np_.arange(3.0)[i], (1.0, 2)),  # no error
            (chk.index_checks, lambda x, i: np_.ones((3, 4))[1, i], (1.0, 7)),
            (chk.index_checks, lambda x, i: np_.arange(6.0)[np_.array([0, i, 1])], (1.0, 9)),
            (chk.index_checks, lambda x, i: lax_.dynamic_slice(np_.arange(8.0), (i,), (3,)), (1.0, 6)),
            (chk.index_checks, lambda x, i: lax_.dynamic_update_slice(np_.zeros(5), np_.ones(2), (i,)), (1.0, 4)),
            (chk.index_checks, lambda x, i: np_.arange(3.0).at[i].set(x), (1.0, 7)),
            (chk.index_checks, lambda x, i: np_.arange(3.0).at[i].add(x), (1.0, -9)),
            (chk.all_checks, lambda x, i: np_.log(np_.arange(3.0)[i] - x), (5.0, 1)),
            (chk.all_checks, lambda x, i: np_.log(np_.arange(3.0)[i] - x), (5.0, 4)),
        ]

    def with_user(lib, chk):
        def f(x):
            chk.check(x > 0, "x = {} is not positive", x)
            return lib.numpy.log(x - 1.0)

        return f

    for k, ((errs, fi, ai), (errs_j, fj, _)) in enumerate(zip(cases(irjax, ichk), cases(jax, jchk))):
        ai = aj = (np.float32(ai[0]), np.int32(ai[1]))
        for wrap_i, wrap_j in ((lambda f: f, lambda f: f), (irjax.jit, jax.jit)):
            if k == 5 and wrap_i is not irjax.jit:
                continue  # JAX's eager checkify computes NumPy scalars' float division without tracing it
            ei, oi = wrap_i(ichk.checkify(fi, errors=errs))(*ai)
            ej, oj = wrap_j(jchk.checkify(fj, errors=errs_j))(*aj)
            assert ei.get() == ej.get(), (k, ei.get(), ej.get())
            _same(oi, oj, rtol=1e-6)
    xs = np.array([2.0, -1.0, 3.0, 0.5], np.float32)
    ei, _ = irjax.vmap(ichk.checkify(lambda v: jnp.log(v - 1.0), errors=ichk.nan_checks))(xs)
    ej, _ = jax.vmap(jchk.checkify(lambda v: jax.numpy.log(v - 1.0), errors=jchk.nan_checks))(xs)
    assert ei.get() == ej.get() and ei.get() is not None
    for v in (-1.0, 0.5, 3.0):  # the user check fails first, then the NaN, then nothing
        ei, _ = irjax.jit(ichk.checkify(with_user(irjax, ichk), errors=ichk.all_checks))(np.float32(v))
        ej, _ = jax.jit(jchk.checkify(with_user(jax, jchk), errors=jchk.all_checks))(np.float32(v))
        assert ei.get() == ej.get(), (v, ei.get(), ej.get())
    with pytest.raises(TypeError, match="all_checks"):
        ichk.checkify(lambda v: v, errors=frozenset({ValueError}))


@pytest.mark.parametrize("flag", ["jax_debug_nans", "jax_debug_infs"])
def test_debug_nans_infs(flag):
    """jax_debug_nans / jax_debug_infs (the debugging pages): a NaN / Inf output of a jit call, an
    eager op or a gradient raises FloatingPointError as in JAX; finite results pass; off again,
    NaN flows as before. Also through the jax.debug_nans context manager."""
    bad = {"jax_debug_nans": -1.0, "jax_debug_infs": 0.0}[flag]

    def cases(lib):
        np_ = lib.numpy
        return [
            lambda: lib.jit(np_.log)(bad),
            lambda: np_.log(bad),
            lambda: lib.grad(lambda x: np_.log(x) * 2)(bad) if flag == "jax_debug_nans" else np_.log(bad),
        ]

    for lib in (irjax, jax):
        lib.config.update(flag, True)
    try:
        for fi, fj in zip(cases(irjax), cases(jax)):
            _raises_like(fi, fj)
        _same(irjax.jit(jnp.log)(2.0), jax.jit(jjnp.log)(2.0))
    finally:
        for lib in (irjax, jax):
            lib.config.update(flag, False)
    assert not np.isfinite(float(jnp.log(bad)))
    if flag == "jax_debug_nans":
        with irjax.debug_nans(True):
            with pytest.raises(FloatingPointError):
                jnp.log(bad)
        assert np.isnan(float(jnp.log(bad)))


@pytest.mark.parametrize("arg", [[1.0, 2.0], (1, 2)])
def test_result_type_of_a_sequence(arg):
    """result_type of a list/tuple is JAX's TypeError (np.dtype had read the list as a
    structured-dtype spec: 'Field elements must be 2- or 3-tuples')."""
    got, want = _raises_like(lambda: jnp.result_type(arg), lambda: jjnp.result_type(arg))
    assert got == want
    with pytest.raises(TypeError, match="Cannot determine dtype|requires ndarray"):
        jnp.abs([1.0, 2.0])


def test_profiler_trace_and_annotations(tmp_path):
    """jax.profiler (the profiling page): trace / start_trace / stop_trace with JAX's errors for a
    second start and a stop without start; annotations pass values through and land in the
    written Chrome trace."""
    _raises_like(irjax.profiler.stop_trace, jax.profiler.stop_trace)
    irjax.profiler.start_trace(tmp_path / "i")
    jax.profiler.start_trace(tmp_path / "j")
    try:
        got, want = _raises_like(
            lambda: irjax.profiler.start_trace(tmp_path / "x"), lambda: jax.profiler.start_trace(tmp_path / "y")
        )
        assert got == want
    finally:
        irjax.profiler.stop_trace()
        jax.profiler.stop_trace()
    with irjax.profiler.trace(tmp_path / "t"):
        with irjax.profiler.StepTraceAnnotation("train", step_num=3):
            y = irjax.profiler.annotate_function(lambda x: x * 2, name="double")(jnp.ones(2))
    _same(y, jjnp.ones(2) * 2)
    (trace_file,) = (tmp_path / "t").glob("plugins/profile/*/*.trace.json.gz")
    events = json.load(gzip.open(trace_file, "rt"))["traceEvents"]
    assert {e["name"] for e in events} == {"train", "double"}
    assert next(e for e in events if e["name"] == "train")["args"] == {"step_num": "3"}


def _branch_identity(x):
    return x


def _branch_to_float(x):
    return x.astype(np.float32)


def _branch_stack(x):
    return x * np.ones(2, np.int32)  # (broadcasts in either library: a shape mismatch)


@pytest.mark.parametrize(
    "call",
    [
        lambda lax: lax.cond(True, _branch_identity, _branch_to_float, np.int32(1)),
        lambda lax: lax.switch(0, [_branch_identity, _branch_identity, _branch_to_float], np.int32(1)),
        lambda lax: lax.cond(False, _branch_identity, _branch_stack, np.int32(1)),
    ],
)
def test_branch_type_mismatch_message(call):
    """cond/switch branches of different output types: JAX's whole message (the control-flow page)."""
    got, want = _raises_like(lambda: call(irjax.lax), lambda: call(jax.lax))
    assert got == want


@pytest.mark.parametrize(
    "op,args",
    [
        ("add", (1, 1.0)),
        ("mul", (np.ones(2, np.float32), np.ones(2, np.int32))),
        ("lt", (np.ones(2), np.ones(2, np.int32))),
    ],
)
def test_lax_mixed_dtype_message(op, args):
    """lax ops on two dtypes: JAX's TypeError naming lax.<op> and the promoting jnp twin."""
    got, want = _raises_like(lambda: getattr(irjax.lax, op)(*args), lambda: getattr(jax.lax, op)(*args))
    assert got == want
    got, want = _raises_like(
        lambda: irjax.lax.add(jnp.ones(2), jnp.ones(3)), lambda: jax.lax.add(jjnp.ones(2), jjnp.ones(3))
    )
    assert got == want


@pytest.mark.parametrize(
    "a,b",
    [([1, 2], [1, 2, 3]), ({"a": 1}, {"b": 1}), ((1, 2), [1, 2]), ({"x": [1, 2]}, {"x": [1]}), ([1, (2, 3)], [1, 2])],
)
def test_tree_map_structure_error(a, b):
    """tree.map over trees of different structure: JAX's 'pytree structure error' text, key path
    included (the pytrees page)."""
    got, want = _raises_like(lambda: irjax.tree.map(lambda x, y: x, a, b), lambda: jax.tree.map(lambda x, y: x, a, b))
    assert got == want


@pytest.mark.parametrize("args", [(np.arange(3), np.arange(3)), (np.float32(1), 2), (np.int32(1), np.float32(2))])
def test_compiled_argument_type_mismatch(args):
    """A Compiled called with other argument types (the AOT page): JAX's TypeError naming each
    mismatched argument; weak Python scalars of the compiled dtype pass."""

    def f(x, y):
        return 2 * x + y

    ci = irjax.jit(f).lower(irjax.ShapeDtypeStruct((), np.int32), irjax.ShapeDtypeStruct((), np.int32)).compile()
    cj = jax.jit(f).lower(jax.ShapeDtypeStruct((), np.int32), jax.ShapeDtypeStruct((), np.int32)).compile()
    got, want = _raises_like(lambda: ci(*args), lambda: cj(*args))
    assert got == want
    _same(ci(1, 2), cj(1, 2))


@pytest.mark.parametrize("holomorphic", [False, True])
def test_grad_of_python_complex_weak_type(holomorphic):
    """grad at a Python complex (the advanced-autodiff page): weakly typed only when holomorphic,
    as JAX (a real-output gradient is built from real parts)."""
    fi = (lambda z: jnp.sin(z)) if holomorphic else (lambda z: jnp.abs(z) ** 2)
    fj = (lambda z: jjnp.sin(z)) if holomorphic else (lambda z: jjnp.abs(z) ** 2)
    got, want = irjax.grad(fi, holomorphic=holomorphic)(3.0 + 4j), jax.grad(fj, holomorphic=holomorphic)(3.0 + 4j)
    _same(got, want, rtol=1e-6)
    assert got.weak_type == want.weak_type


def test_eager_grad_branching_on_a_value_prints_once(capsys):
    """Python branching under eager grad looks values up in the reference interpreter; that
    look-ahead must not run the function's debug prints (the program prints them when it runs)."""

    def make(api):
        def f(x):
            api.debug.print("x={}", x)
            y = x * 2
            return y**2 if y > 1 else y

        return f

    outs = []
    for api in (jax, irjax):
        capsys.readouterr()
        g = api.grad(make(api))(1.0)
        lines = capsys.readouterr().out.splitlines()
        outs.append((lines, float(g)))
    assert outs[1] == outs[0]


@pytest.mark.parametrize("axis", [-1, -2, 0, 1])
def test_index_in_dim_negative_axis(axis):
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    for name in ("index_in_dim", "dynamic_index_in_dim"):
        for keep in (True, False):
            want = getattr(jax.lax, name)(x, 1, axis=axis, keepdims=keep)
            got = getattr(irjax.lax, name)(x, 1, axis=axis, keepdims=keep)
            assert got.shape == want.shape and np.array_equal(np.asarray(got), np.asarray(want))

"""Host callbacks inside compiled code (dialects/host_calls.py): pure_callback, io_callback,
debug.print and debug.callback under jit, vmap, grad and scan, against JAX."""

from __future__ import annotations

import re
import threading

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import lax
from irjax.experimental import io_callback
from irjax.passes.registry import run_pipeline

jax = pytest.importorskip("jax")
jjnp = jax.numpy
pytestmark = pytest.mark.portable  # CI runs it again on Vulkan

X = np.linspace(-1.0, 2.0, 6, dtype=np.float32)


def _same(got, want, tol=1e-6):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


class Recorder:
    """A host function that records the shapes it was called with."""

    def __init__(self, fn):
        self.fn, self.shapes = fn, []

    def __call__(self, *xs):
        self.shapes.append([np.shape(x) for x in xs])
        return self.fn(*xs)


def _printed(api, fn, *args, capsys):
    capsys.readouterr()
    out = fn(*args)
    for leaf in api.tree_util.tree_leaves(out):
        np.asarray(leaf)  # (wait for the computation)
    if api is jax:
        jax.effects_barrier()
    return capsys.readouterr().out.splitlines(), out


def test_pure_callback_under_jit_matches_jax():
    def f(api, np_):
        spec = api.ShapeDtypeStruct((6,), np.float32)
        return api.jit(lambda x: api.pure_callback(lambda a: np.cumsum(a).astype(np.float32), spec, x * 2) + 1)

    _same(f(irjax, jnp)(X), f(jax, jjnp)(X))


def test_pure_callback_pytrees_and_dtypes():
    def host(a, scale):
        return {"i": (a * scale).astype(np.int32), "b": a > 0}

    def f(api):
        spec = {"i": api.ShapeDtypeStruct((6,), np.int32), "b": api.ShapeDtypeStruct((6,), np.bool_)}
        return api.jit(lambda x: api.pure_callback(host, spec, x, scale=3.0))

    got, want = f(irjax)(X), f(jax)(X)
    for k in ("i", "b"):
        _same(got[k], want[k])


@pytest.mark.parametrize("method", ["sequential", "expand_dims", "broadcast_all"])
def test_pure_callback_vmap_methods(method):
    xs = np.stack([X, X * 2, -X])
    c = np.full((6,), 0.5, np.float32)
    results = {}
    for api in (irjax, jax):
        rec = Recorder(lambda a, b: (np.sin(a) * b).astype(np.float32))
        spec = api.ShapeDtypeStruct((6,), np.float32)
        g = api.vmap(lambda x: api.pure_callback(rec, spec, x, c, vmap_method=method))
        results[api.__name__] = (np.asarray(api.jit(g)(xs)), rec.shapes)
    (got, got_shapes), (want, want_shapes) = results["irjax"], results["jax"]
    _same(got, want)
    assert got_shapes == want_shapes, (got_shapes, want_shapes)


def test_pure_callback_vmap_needs_a_method():
    spec = irjax.ShapeDtypeStruct((6,), np.float32)
    with pytest.raises(NotImplementedError, match="vmap_method"):
        irjax.vmap(lambda x: irjax.pure_callback(np.sin, spec, x))(np.stack([X, X]))


def test_pure_callback_is_not_differentiable_but_custom_jvp_is():
    with pytest.raises(ValueError, match="Pure callbacks do not support JVP"):
        irjax.grad(lambda x: irjax.pure_callback(np.sin, x, x).sum())(X)

    def make(api, np_):
        @api.custom_jvp
        def f(x):
            return api.pure_callback(lambda a: np.sin(a).astype(np.float32), x, x)

        @f.defjvp
        def f_jvp(primals, tangents):
            return f(primals[0]), np_.cos(primals[0]) * tangents[0]

        return api.jit(api.grad(lambda x: (f(x) * x).sum()))

    _same(make(irjax, jnp)(X), make(jax, jjnp)(X), 1e-6)


def test_callback_errors_surface_and_the_program_stays_usable():
    def host(a):
        if a[0] < 0:
            raise KeyError("negative first element")
        return a * 2

    f = irjax.jit(lambda x: irjax.pure_callback(host, x, x))
    with pytest.raises(KeyError, match="negative first element"):
        f(X)
    _same(f(np.abs(X)), np.abs(X) * 2)
    g = irjax.jit(lambda x: irjax.pure_callback(lambda a: np.ones(3, np.float32), x, x))
    with pytest.raises(TypeError, match=r"callback returned float32\[3\], result_shape_dtypes declares float32\[6\]"):
        g(X)


def test_debug_print_matches_jax_under_jit_vmap_grad_and_scan(capsys):
    # values whose sums are exact in float32 in any order: the printed text is compared with JAX's,
    # and a reduction's order is each compiler's own (irjax's CPU reductions reassociate)
    xs = np.array([-1.0, -0.375, 0.25, 0.75, 1.5, 2.0], np.float32)

    def make(api, np_, lax_):
        def g(x):
            api.debug.print("x={x} s={}", np_.sum(x), x=x)
            return x * 2

        def body(c, x):
            api.debug.print("step c={c}", c=c)
            return c + x, c

        def loss(w):
            c, _ = lax_.scan(body, w, np_.arange(3.0, dtype=np.float32))
            return c * c

        return [
            (api.jit(g), (xs[:3],)),
            (api.vmap(g), (np.stack([xs[:3], xs[3:]]),)),
            (api.grad(lambda x: g(x).sum()), (xs[:3],)),
            (api.jit(lambda xs: lax_.scan(body, np.float32(0.5), xs)), (xs[:4],)),
            (api.grad(loss), (np.float32(1.5),)),
            (api.jit(api.grad(loss)), (np.float32(1.5),)),
        ]

    for (fi, args), (fj, _) in zip(make(irjax, jnp, lax), make(jax, jjnp, jax.lax)):
        got, got_out = _printed(irjax, fi, *args, capsys=capsys)
        want, want_out = _printed(jax, fj, *args, capsys=capsys)
        assert got == want, (got, want)
        for a, b in zip(irjax.tree_util.tree_leaves(got_out), jax.tree_util.tree_leaves(want_out)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


def test_debug_callback_and_user_vjp_run_once(capsys):
    seen = []
    f = lambda x: (irjax.debug.callback(lambda a: seen.append(np.array(a)), x), jnp.sin(x))[1]  # noqa: E731
    irjax.jit(f)(X)
    assert len(seen) == 1 and np.array_equal(seen[0], X)
    seen.clear()
    out, pullback = irjax.vjp(f, X)
    pullback(np.ones_like(X))
    assert len(seen) == 1  # the forward; the pullback does not print again (as in JAX)


def test_io_callback_matches_jax(capsys):
    def make(api, io):
        spec = api.ShapeDtypeStruct((3,), np.float32)
        f = api.jit(lambda x: io(lambda a: print("io", a) or a * 2, spec, x))
        unused = api.jit(lambda x: (io(lambda a: print("unused", a), None, x), x + 1)[1])
        v = api.vmap(lambda x: io(lambda a: print("row", a) or a * 2, spec, x))
        return f, unused, v

    for fi, fj, args in zip(
        make(irjax, io_callback), make(jax, jax.experimental.io_callback), [(X[:3],), (X[:3],), (X.reshape(2, 3),)]
    ):
        got, got_out = _printed(irjax, fi, *args, capsys=capsys)
        want, want_out = _printed(jax, fj, *args, capsys=capsys)
        assert got == want, (got, want)
        _same(got_out, want_out)
    spec = irjax.ShapeDtypeStruct((3,), np.float32)
    with pytest.raises(ValueError, match="Cannot `vmap` ordered IO callback"):
        irjax.vmap(lambda x: io_callback(lambda a: a, spec, x, ordered=True))(X.reshape(2, 3))
    with pytest.raises(ValueError, match="IO callbacks do not support JVP"):
        irjax.grad(lambda x: io_callback(lambda a: a, spec, x).sum())(X[:3])


def test_callbacks_from_threads():
    f = irjax.jit(lambda x: irjax.pure_callback(lambda a: a * 2, x, x) + 1)
    got = [None] * 8

    def work(i):
        got[i] = np.asarray(f(np.full((4,), float(i), np.float32)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, g in enumerate(got):
        _same(g, np.full((4,), 2.0 * i + 1, np.float32))


def test_retracing_gives_the_same_module():
    def f(x):
        irjax.debug.print("v={}", x)  # a new formatting closure each trace
        return irjax.pure_callback(np.negative, x, x)

    a = irjax.jit(f).lower(X).as_text()
    b = irjax.jit(lambda x: f(x)).lower(X).as_text()
    numbers = [re.findall(r"callback = (\d+)", t) for t in (a, b)]
    assert len(numbers[0]) == 2 and numbers[0] == numbers[1], numbers


def test_export_refuses_host_callbacks():
    from irjax import export

    f = irjax.jit(lambda x: irjax.pure_callback(np.sin, x, x))
    with pytest.raises(ValueError, match="host callbacks"):
        export.export(f)(X)


_TWO_PRINTS = """
func.func private @g(%x: tensor<3xf32>) -> tensor<3xf32> {
  "jx.debug_callback"(%x) {callback = 0 : i64} : (tensor<3xf32>) -> ()
  return %x : tensor<3xf32>
}
func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  "jx.debug_callback"(%x) {callback = 0 : i64} : (tensor<3xf32>) -> ()
  "jx.debug_callback"(%x) {callback = 0 : i64} : (tensor<3xf32>) -> ()
  %0 = "jx.call"(%x) {callee = @g} : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.call"(%x) {callee = @g} : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %x : tensor<3xf32>
}"""


def test_cse_and_dce_keep_effects():
    from irjax.dialects.func import parse_module

    module = parse_module(_TWO_PRINTS)
    run_pipeline(module, "cse,dce")
    text = str(module)
    assert text.count('"jx.debug_callback"') == 3  # merged nowhere, removed nowhere
    assert text.count('"jx.call"') == 2  # unused calls of a printing function stay
    assert '"jx.sin"' not in text  # while plain unused ops go


def test_callbacks_without_traced_arguments_run_with_the_program():
    """Staged under jit even when no argument is traced (no arguments, or constants): they run on
    every call of the compiled program, not once at trace time."""
    spec = irjax.ShapeDtypeStruct((), np.int32)
    counter = iter(range(100))
    f = irjax.jit(lambda x: x + io_callback(lambda: np.int32(next(counter)), spec))
    assert [int(f(np.int32(10))) for _ in range(3)] == [10, 11, 12]
    counter2 = iter(range(100))
    g = irjax.jit(lambda x: x + io_callback(lambda c: np.int32(next(counter2) * c), spec, np.int32(2)))
    assert [int(g(np.int32(10))) for _ in range(3)] == [10, 12, 14]


def test_callback_results_in_64_bits_are_canonicalized_as_jax():
    # a Python float (float64) declared float32 was a TypeError; JAX canonicalizes and casts
    f = irjax.jit(lambda x: irjax.pure_callback(lambda v: float(v) * 2, irjax.ShapeDtypeStruct((), np.float32), x))
    out = f(np.float32(3.0))
    assert out.dtype == np.float32 and float(out) == 6.0
    ints = irjax.pure_callback(lambda v: np.arange(3), irjax.ShapeDtypeStruct((3,), np.int32), np.float32(1.0))
    assert ints.dtype == np.int32 and ints.tolist() == [0, 1, 2]
    with pytest.raises(TypeError, match="declares float32"):
        irjax.pure_callback(lambda v: np.int64(7), irjax.ShapeDtypeStruct((), np.float32), np.float32(1.0))

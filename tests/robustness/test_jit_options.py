"""jit's options behave as JAX's: unknown keywords are a TypeError, donated arrays are deleted,
vmap's axis_name is refused until collectives exist, and tracer errors name the function and
the argument the value depends on. JAX is the oracle for messages and types."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import jax
import jax.numpy as jjnp
import numpy as np
import pytest


@pytest.mark.parametrize("lib", [jax, irjax], ids=["jax", "irjax"])
def test_unknown_jit_keyword_is_a_type_error(lib):
    with pytest.raises(TypeError, match=r"^jit\(\) got an unexpected keyword argument 'foo'"):
        lib.jit(lambda x: x, foo=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'static_argnum'"):
        lib.jit(static_argnum=0)


def test_known_jit_keywords_are_accepted():
    f = irjax.jit(
        lambda x: x + 1, keep_unused=True, inline=False, compiler_options={}, in_shardings=None, out_shardings=None
    )
    np.testing.assert_array_equal(np.asarray(f(jnp.arange(3.0))), [1.0, 2.0, 3.0])


def _donation(lib, np_mod, by_name: bool):
    if by_name:
        f = lib.jit(lambda x, y: x * 2 + y, donate_argnames="x")
    else:
        f = lib.jit(lambda x, y: x * 2 + y, donate_argnums=0)
    x, y = np_mod.arange(3.0), np_mod.ones(3)
    out = f(x, y)
    res = {"out": np.asarray(out).tolist(), "x_deleted": x.is_deleted(), "y_deleted": y.is_deleted()}
    try:
        str(x)
        res["use"] = None
    except Exception as e:  # noqa: BLE001
        res["use"] = (type(e).__name__, str(e))
    res["y_after"] = np.asarray(y).tolist()
    return res


@pytest.mark.parametrize("by_name", [False, True])
def test_donated_arguments_are_deleted_like_jax(by_name):
    want = _donation(jax, jjnp, by_name)
    got = _donation(irjax, jnp, by_name)
    assert got == want
    assert want["use"] == ("RuntimeError", "Array has been deleted with shape=float32[3].")


def test_donated_array_cannot_be_passed_again():
    f = irjax.jit(lambda x: x + 1, donate_argnums=0)
    x = jnp.ones(3)
    f(x)
    with pytest.raises(RuntimeError, match="Array has been deleted"):
        f(x)  # (JAX raises ValueError 'Buffer has been deleted or donated' here)
    with pytest.raises(RuntimeError, match="Array has been deleted"):
        jnp.sin(x)


def test_eager_ops_recorded_before_donation_still_see_the_value():
    """JAX had already dispatched them; irjax's pending eager ops must not read a deleted buffer."""
    f = irjax.jit(lambda x: x * 0, donate_argnums=0)
    x = jnp.arange(4.0)
    z = jnp.sin(x) * 3  # pending (eager fusion)
    f(x)
    np.testing.assert_allclose(np.asarray(z), np.sin(np.arange(4.0)) * 3, rtol=1e-6)


def test_donation_of_pytree_and_inside_trace():
    f = irjax.jit(lambda p: p["a"] + p["b"], donate_argnums=0)
    p = {"a": jnp.ones(2), "b": jnp.ones(2)}
    np.testing.assert_array_equal(np.asarray(f(p)), [2.0, 2.0])
    assert p["a"].is_deleted() and p["b"].is_deleted()
    # inside an outer jit the inner donation means nothing: the outer argument survives
    outer = irjax.jit(lambda x: f({"a": x, "b": x}) + x)
    x = jnp.ones(2)
    np.testing.assert_array_equal(np.asarray(outer(x)), [3.0, 3.0])
    assert not x.is_deleted()


def test_vmap_axis_name_binds_collectives_and_unbound_names_raise():
    x = np.arange(4.0, dtype=np.float32)
    out = irjax.vmap(lambda v: irjax.lax.psum(v, "i"), axis_name="i")(x)
    np.testing.assert_array_equal(np.asarray(out), np.full(4, x.sum(), np.float32))
    with pytest.raises(NameError, match="unbound axis name: j"):
        irjax.vmap(lambda v: irjax.lax.psum(v, "j"), axis_name="i")(x)


def _error(lib, fun, *args, **kwargs):
    with pytest.raises(Exception) as e:
        lib.jit(fun)(*args, **kwargs)
    return e


def _context(msg: str) -> str:
    """The sentence JAX adds: which function, for which transformation, which argument(s)."""
    start = msg.index("The error occurred while tracing")
    line = msg[start:].splitlines()[0]
    return line.split(" at ")[0] + " for " + line.split(" for ", 1)[1]


def branchy(x, n):
    if x > 0:
        return x
    return -x


def sizes(x, n):
    return jnp.zeros(int(n * 2))


def jsizes(x, n):
    return jjnp.zeros(int(n * 2))


def structured(p, y):
    return (jnp if isinstance(y, irjax.Array) or "irjax" in type(y).__module__ else jjnp).zeros(int(p["a"] + y))


@pytest.mark.parametrize("case", ["bool", "int", "pytree"])
def test_tracer_errors_name_function_and_argument(case):
    if case == "bool":
        want = _error(jax, branchy, 1.0, 2)
        got = _error(irjax, branchy, 1.0, 2)
    elif case == "int":
        want = _error(jax, jsizes, 1.0, 2)
        got = _error(irjax, sizes, 1.0, 2)
    else:
        want = _error(jax, structured, {"a": 1.0, "b": 2.0}, y=3.0)
        got = _error(irjax, structured, {"a": 1.0, "b": 2.0}, y=3.0)
    assert type(got.value).__name__ == type(want.value).__name__
    assert isinstance(got.value, TypeError) and isinstance(want.value, TypeError)
    w, g = _context(str(want.value)), _context(str(got.value))
    if case == "int":
        w = w.replace("jsizes", "sizes")
    assert g == w, (g, w)


def test_tracer_error_without_argument_dependency():
    """A value traced from a constant names the function but no argument (nor a wrong one)."""

    def f(x):
        if jnp.ones(()) > 0:  # staged: a tracer that depends on no argument
            return x
        return x

    with pytest.raises(irjax.errors.TracerBoolConversionError) as e:
        irjax.jit(f)(1.0)
    msg = str(e.value)
    assert (
        "while tracing the function f at " in msg and "for jit." in msg and "argument" not in msg.split("for jit.")[1]
    )


@pytest.mark.parametrize("name", ["grad", "value_and_grad", "jacfwd", "jacrev", "hessian"])
def test_holomorphic_needs_complex_inputs_as_in_jax(name):
    """holomorphic=True with a real input is JAX's TypeError, not a silent real derivative."""
    import irjax
    import jax as jax_ref

    def message(mod):
        with pytest.raises(TypeError) as e:
            getattr(mod, name)(mod.numpy.sin, holomorphic=True)(1.0)
        return str(e.value)

    assert message(irjax) == message(jax_ref)


def test_reduce_axes_is_refused_as_in_jax():
    import irjax

    with pytest.raises(NotImplementedError, match="reduce_axes argument to grad is deprecated"):
        irjax.grad(irjax.numpy.sin, reduce_axes=("i",))

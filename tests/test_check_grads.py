"""irjax.test_util.check_grads: passes where JAX's passes, fails on a wrong derivative."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.test_util import check_grads

jax = pytest.importorskip("jax")
from jax.test_util import check_grads as jax_check_grads  # noqa: E402

x = np.array([0.3, -1.2, 2.0], np.float32)
m = np.array([[1.0, 0.5], [-0.3, 2.0]], np.float32)


@pytest.mark.parametrize("order,modes", [(1, ("fwd", "rev")), (2, ("fwd", "rev")), (2, ("rev",)), (1, ("lin",))])
def test_correct_derivatives_pass(order, modes):
    check_grads(lambda a: jnp.sin(a) * a**2, (x,), order, modes=modes)
    jax_check_grads(lambda a: jax.numpy.sin(a) * a**2, (x,), order, modes=modes)
    check_grads(lambda a, b: (jnp.tanh(a @ b), {"s": jnp.sum(b)}), (m, m), 1, modes=modes)


def test_float32_second_order_noise_fails_as_in_jax():
    # float32 central differences at eps=1e-4 are too noisy here for JAX's default
    # tolerance at order 2: JAX reports -4.7160 vs -4.7392, and so must we
    f = lambda np_: lambda a, b: (np_.tanh(a @ b), {"s": np_.sum(b)})
    with pytest.raises(AssertionError, match="VJP of JVP cotangent projection"):
        jax_check_grads(f(jax.numpy), (m, m), 2)
    with pytest.raises(AssertionError, match="VJP of JVP cotangent projection"):
        check_grads(f(jnp), (m, m), 2)


def test_wrong_derivative_fails_like_jax():
    def bad(np_, cj):
        @cj
        def f(a):
            return np_.sin(a)

        f.defjvps(lambda g, ans, a: 2.0 * g * np_.cos(a))  # twice the true derivative
        return f

    for modes in (("fwd",), ("rev",)):
        with pytest.raises(AssertionError):
            check_grads(bad(jnp, irjax.custom_jvp), (x,), 1, modes=modes)
        with pytest.raises(AssertionError):
            jax_check_grads(bad(jax.numpy, jax.custom_jvp), (x,), 1, modes=modes)


def test_tolerances_eps_and_errors():
    f = lambda a: jnp.exp(a)
    check_grads(f, (x,), 1, atol=1e-2, rtol=1e-2, eps=1e-3)
    check_grads(f, (x.astype(np.float64) if irjax.numpy.zeros(1, "float64").dtype == np.float64 else x,), 1)
    with pytest.raises(AssertionError):  # a huge step makes the central difference wrong
        check_grads(f, (x,), 1, modes=("fwd",), eps=0.9, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="modes"):
        check_grads(f, (x,), 1, modes=("sideways",))
    with pytest.raises(ValueError, match="order"):
        check_grads(f, (x,), 0)

"""The "How to think in JAX" quickstart (../shared/seed/thinking_in_jax.md) as a script.

Every code cell runs in order with irjax in place of jax. `--jax` runs the same script
with real JAX instead (the benchmarks compare the two). A plot goes to a PNG file when
matplotlib is installed (Agg backend, no display needed).
"""

import argparse
import os
import sys
import tempfile
import time

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--jax", action="store_true", help="run with real JAX instead of irjax")
parser.add_argument(
    "--plot",
    default=os.path.join(tempfile.gettempdir(), "thinking_in_jax.png"),
    help="where the sin*cos plot goes (needs matplotlib)",
)
parser.add_argument("--repeat", type=int, default=20, help="calls per timing")
args = parser.parse_args()

if args.jax:
    import jax
    import jax.numpy as jnp
else:
    import irjax as jax
    import irjax.numpy as jnp

jit, grad, jacobian, jacfwd, jacrev, vmap = jax.jit, jax.grad, jax.jacobian, jax.jacfwd, jax.jacrev, jax.vmap


def timeit(label, fn, repeat=None):
    """A small stand-in for IPython's %timeit: one warm-up call, then the best of `repeat`."""
    repeat = repeat or args.repeat
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    print(f"{label}: {best * 1e6:.1f} us per loop (best of {repeat})")


def expect_error(fn):
    """The tutorial's raises-exception cells: the error is the point, so show it and go on."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - any error class is what the cell demonstrates
        print(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    else:
        print("error: expected an exception, none was raised")
        sys.exit(1)


# ## JAX vs. NumPy

x_jnp = jnp.linspace(0, 10, 1000)
y_jnp = 2 * jnp.sin(x_jnp) * jnp.cos(x_jnp)
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib not installed: skipping the plot")
else:
    plt.plot(x_jnp, y_jnp)
    plt.savefig(args.plot)
    print(f"plot written to {args.plot}")

import numpy as np  # noqa: E402

x_np = np.linspace(0, 10, 1000)
x_jnp = jnp.linspace(0, 10, 1000)
print(type(x_np))
print(type(x_jnp))

# NumPy: mutable arrays
x = np.arange(10)
x[0] = 10
print(x)

# JAX: immutable arrays (raises)
x = jnp.arange(10)


def _mutate():
    x[0] = 10


expect_error(_mutate)

y = x.at[0].set(10)
print(x)
print(y)

# ## JAX arrays (jax.Array)

x = jnp.arange(5)
print(isinstance(x, jax.Array))
print(x.devices())
print(x.sharding)

# ## Just-in-time compilation with jax.jit


def norm(X):
    X = X - X.mean(0)
    return X / X.std(0)


norm_compiled = jit(norm)

np.random.seed(1701)
X = jnp.array(np.random.rand(10000, 10))
print(np.allclose(norm(X), norm_compiled(X), atol=1e-6))

timeit("norm (op by op)", lambda: norm(X).block_until_ready())
timeit("norm (jit)", lambda: norm_compiled(X).block_until_ready())


def get_negatives(x):
    return x[x < 0]


x = jnp.array(np.random.randn(10))
print(get_negatives(x))

expect_error(lambda: jit(get_negatives)(x))

# ## Taking derivatives with jax.grad


def sum_logistic(x):
    return jnp.sum(1.0 / (1.0 + jnp.exp(-x)))


x_small = jnp.arange(3.0)
derivative_fn = grad(sum_logistic)
print(derivative_fn(x_small))


def first_finite_differences(f, x, eps=1e-3):
    return jnp.array([(f(x + eps * v) - f(x - eps * v)) / (2 * eps) for v in jnp.eye(len(x))])


print(first_finite_differences(sum_logistic, x_small))

print(grad(jit(grad(jit(grad(sum_logistic)))))(1.0))

print(jacobian(jnp.exp)(x_small))


def hessian(fun):
    return jit(jacfwd(jacrev(fun)))


print(hessian(sum_logistic)(x_small))

# ## Auto-vectorization with jax.vmap

random = jax.random

key = random.key(1701)
key1, key2 = random.split(key)
mat = random.normal(key1, (150, 100))
batched_x = random.normal(key2, (10, 100))


def apply_matrix(x):
    return jnp.dot(mat, x)


def naively_batched_apply_matrix(v_batched):
    return jnp.stack([apply_matrix(v) for v in v_batched])


print("Naively batched")
timeit("naively batched", lambda: naively_batched_apply_matrix(batched_x).block_until_ready())


@jit
def batched_apply_matrix(batched_x):
    return jnp.dot(batched_x, mat.T)


np.testing.assert_allclose(
    naively_batched_apply_matrix(batched_x), batched_apply_matrix(batched_x), atol=1e-4, rtol=1e-4
)
print("Manually batched")
timeit("manually batched", lambda: batched_apply_matrix(batched_x).block_until_ready())


@jit
def vmap_batched_apply_matrix(batched_x):
    return vmap(apply_matrix)(batched_x)


np.testing.assert_allclose(
    naively_batched_apply_matrix(batched_x), vmap_batched_apply_matrix(batched_x), atol=1e-4, rtol=1e-4
)
print("Auto-vectorized with vmap")
timeit("jit(vmap)", lambda: vmap_batched_apply_matrix(batched_x).block_until_ready())

# ## Pseudorandom numbers

key = random.key(43)
print(key)

print(random.normal(key))
print(random.normal(key))

for i in range(3):
    new_key, subkey = random.split(key)
    del key  # The old key is consumed by split() -- we must never use it again.

    val = random.normal(subkey)
    del subkey  # The subkey is consumed by normal().

    print(f"draw {i}: {val}")
    key = new_key  # new_key is safe to use in the next iteration.

print("done: every cell ran")

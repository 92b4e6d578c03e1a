"""A 1,000-step RNN over lax.scan: compile time and step time of jit(value_and_grad(loss)),
irjax beside JAX (the scan stays a loop in the IR, so compile time does not grow with steps).

    python benchmarks/scan_rnn.py [--steps 1000] [--hidden 64] [--batch 8] [--iters 20]

irjax compiles with the disk cache off (IRJAX_DISABLE_CACHE=1), so the first call is a cold
trace + passes + IREE compile; JAX's first call is its trace + XLA compile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("IRJAX_DISABLE_CACHE", "1")

import numpy as np  # noqa: E402


def make_loss(jnp, lax):
    def loss(params, xs, target):
        w_h, w_x, b, w_o = params

        def step(h, x):
            h = jnp.tanh(h @ w_h + x @ w_x + b)
            return h, h @ w_o

        h0 = jnp.zeros((xs.shape[1], w_h.shape[0]), jnp.float32)
        _, ys = lax.scan(step, h0, xs)
        return jnp.mean((ys - target) ** 2)

    return loss


def bench(name, jax_mod, jnp, lax, args, iters):
    f = jax_mod.jit(jax_mod.value_and_grad(make_loss(jnp, lax)))
    t0 = time.perf_counter()
    v, g = f(*args)
    jax_mod.block_until_ready(g)
    first = time.perf_counter() - t0
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        v, g = f(*args)
        jax_mod.block_until_ready(g)
        times.append(time.perf_counter() - t0)
    step = statistics.median(times)
    print(f"{name:6s} first call (trace+compile+run) {first:7.3f} s   step {step * 1e3:8.3f} ms   loss {float(v):.6f}")
    return first - step, step, float(v), g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--inputs", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--iters", type=int, default=20)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    params = (
        (rng.standard_normal((a.hidden, a.hidden)) / np.sqrt(a.hidden)).astype(np.float32),
        (rng.standard_normal((a.inputs, a.hidden)) / np.sqrt(a.inputs)).astype(np.float32),
        np.zeros(a.hidden, np.float32),
        (rng.standard_normal((a.hidden, 1)) / np.sqrt(a.hidden)).astype(np.float32),
    )
    xs = rng.standard_normal((a.steps, a.batch, a.inputs)).astype(np.float32)
    target = rng.standard_normal((a.steps, a.batch, 1)).astype(np.float32)
    print(f"RNN: {a.steps} steps, batch {a.batch}, hidden {a.hidden}, inputs {a.inputs}; jit(value_and_grad(loss))")
    print("load average at start (1/5/15 min): {:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg()))

    import irjax
    import irjax.numpy as inp
    from irjax import lax as ilax

    ic, istep, iv, ig = bench("irjax", irjax, inp, ilax, (params, xs, target), a.iters)
    import jax
    import jax.numpy as jnp

    jc, jstep, jv, jg = bench("jax", jax, jnp, jax.lax, (params, xs, target), a.iters)
    err = max(
        float(np.max(np.abs(np.asarray(x) - np.asarray(y)) / (np.abs(np.asarray(y)).max() + 1e-12)))
        for x, y in zip(ig, jg)
    )
    print(f"compile time (first call - step): irjax {ic:.3f} s, jax {jc:.3f} s, ratio irjax/jax {ic / jc:.2f}")
    print(f"step time: irjax {istep * 1e3:.3f} ms, jax {jstep * 1e3:.3f} ms, ratio irjax/jax {istep / jstep:.2f}")
    print(f"agreement: |loss diff| {abs(iv - jv):.2e}, max relative grad diff {err:.2e}")
    print("load average at end (1/5/15 min): {:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()

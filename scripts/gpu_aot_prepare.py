"""Build the CUDA check for a lent GPU machine that has no IREE compiler: export artifacts here.

    python scripts/gpu_aot_prepare.py build/gpu_aot      # here: artifacts (cuda + llvm-cpu) + inputs/expected
    python scripts/gpu_aot_run.py build/gpu_aot          # there: runtime only (iree.runtime + numpy)

The expected outputs come from running the same functions with irjax on this CPU.
"""

import os
import sys

import numpy as np

import irjax
import irjax.numpy as jnp
from irjax import random


def mlp_loss(params, x, y):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = jnp.maximum(h, 0.0)
    logits = h - jnp.max(h, axis=1, keepdims=True)
    logp = logits - jnp.log(jnp.sum(jnp.exp(logits), axis=1, keepdims=True))
    return -jnp.mean(jnp.sum(logp * y, axis=1))


def norm(X):
    X = X - X.mean(0)
    return X / X.std(0)


def sum_logistic(x):
    return jnp.sum(1.0 / (1.0 + jnp.exp(-x)))


def ops_sample(x, idx, v):
    s = jnp.sort(x, axis=1)
    g = x[idx]
    sc = x.at[idx].add(v)
    c = jnp.cumsum(x, axis=0)
    am = jnp.argmax(x, axis=1)
    bd = jnp.einsum("bij,bjk->bik", x.reshape(2, 4, 8), x.reshape(2, 8, 4))
    return s, g, sc, c, am, bd


def main(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    sizes = [784, 512, 512, 10]
    params = [(rng.standard_normal((a, b)).astype(np.float32) * np.float32(1 / np.sqrt(a)), np.zeros(b, np.float32))
              for a, b in zip(sizes[:-1], sizes[1:])]
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
    mat = rng.standard_normal((150, 100)).astype(np.float32)
    cases = {
        "mlp_step": (irjax.jit(irjax.value_and_grad(mlp_loss)), (params, x, y)),
        "norm": (irjax.jit(norm), (rng.random((10000, 10)).astype(np.float32),)),
        "grad3": (irjax.jit(irjax.grad(irjax.grad(irjax.grad(sum_logistic)))), (np.float32(1.0),)),
        "hessian": (irjax.jit(irjax.jacfwd(irjax.jacrev(sum_logistic))), (np.arange(3.0, dtype=np.float32),)),
        "vmap_matvec": (irjax.jit(irjax.vmap(lambda v: jnp.dot(jnp.asarray(mat), v))), (rng.standard_normal((10, 100)).astype(np.float32),)),
        "ops": (irjax.jit(ops_sample), (rng.standard_normal((8, 8)).astype(np.float32), np.array([1, 3, 3, 6], np.int32), np.ones((4, 8), np.float32))),
        "normal": (irjax.jit(lambda k: random.normal(k, (1000,))), (np.asarray(random.key_data(random.key(1701))),)),
    }
    # random.normal above takes raw key data: wrap inside
    cases["normal"] = (irjax.jit(lambda kd: random.normal(random.wrap_key_data(kd), (1000,))), cases["normal"][1])
    entries = {}
    expected = {}
    for name, (f, args) in cases.items():
        e = irjax.export(f, targets=["cuda", "llvm-cpu"])(*args)
        entries[name] = e
        out_leaves = irjax.tree_util.tree_leaves(f(*args))
        for i, leaf in enumerate(irjax.tree_util.tree_leaves(args)):
            expected[f"{name}/in{i}"] = np.asarray(leaf)
        for i, leaf in enumerate(out_leaves):
            expected[f"{name}/out{i}"] = np.asarray(leaf)
        print("exported", name, flush=True)
    irjax.export.save(os.path.join(out, "check.irjax"), entries)
    np.savez(os.path.join(out, "expected.npz"), **expected)
    print("wrote", out, os.path.getsize(os.path.join(out, "check.irjax")), "bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/gpu_aot")

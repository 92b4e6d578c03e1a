"""Build the CUDA check for a lent GPU machine that has no IREE compiler: export artifacts here.

    python scripts/gpu_aot_prepare.py build/gpu_aot [--no-op-table]   # here: cuda + llvm-cpu artifact, inputs, expected
    python scripts/gpu_aot_run.py build/gpu_aot                       # there: runtime only (iree.runtime + numpy)

Three groups of entry points:
- programs (MLP step, norm, third derivative, hessian, vmap, sort/gather/scatter/..., random):
  expected outputs from running the same functions with irjax on this CPU;
- the op table (tests/op_table.py, every row and dtype of the compiled-vs-reference tests):
  expected outputs from each primitive's NumPy reference, with the row's tolerance;
- copies (concatenate of arguments, slices returned as is, ...): a second input set, run while
  the first call's result is still alive (the memoized-command-buffer bug seen on Vulkan).
"""

import functools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import irjax
import irjax.numpy as jnp
from gpu_check_mlp import mlp_loss
from irjax import random


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
    params = [
        (rng.standard_normal((a, b)).astype(np.float32) * np.float32(1 / np.sqrt(a)), np.zeros(b, np.float32))
        for a, b in zip(sizes[:-1], sizes[1:])
    ]
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
    mat = rng.standard_normal((150, 100)).astype(np.float32)
    cases = {
        "mlp_step": (irjax.jit(irjax.value_and_grad(functools.partial(mlp_loss, jnp))), (params, x, y)),
        "norm": (irjax.jit(norm), (rng.random((10000, 10)).astype(np.float32),)),
        "grad3": (irjax.jit(irjax.grad(irjax.grad(irjax.grad(sum_logistic)))), (np.float32(1.0),)),
        "hessian": (irjax.jit(irjax.jacfwd(irjax.jacrev(sum_logistic))), (np.arange(3.0, dtype=np.float32),)),
        "vmap_matvec": (
            irjax.jit(irjax.vmap(lambda v: jnp.dot(jnp.asarray(mat), v))),
            (rng.standard_normal((10, 100)).astype(np.float32),),
        ),
        "ops": (
            irjax.jit(ops_sample),
            (
                rng.standard_normal((8, 8)).astype(np.float32),
                np.array([1, 3, 3, 6], np.int32),
                np.ones((4, 8), np.float32),
            ),
        ),
        "normal": (irjax.jit(lambda k: random.normal(k, (1000,))), (np.asarray(random.key_data(random.key(1701))),)),
    }
    # random.normal above takes raw key data: wrap inside
    cases["normal"] = (irjax.jit(lambda kd: random.normal(random.wrap_key_data(kd), (1000,))), cases["normal"][1])
    entries = {}
    expected = {}

    def add(name, f, args, outs=None, rtol=2e-3):
        entries[name] = irjax.export(f, targets=["cuda", "llvm-cpu"])(*args)
        out_leaves = irjax.tree_util.tree_leaves(f(*args) if outs is None else outs)
        for i, leaf in enumerate(irjax.tree_util.tree_leaves(args)):
            expected[f"{name}/in{i}"] = np.asarray(leaf)
        for i, leaf in enumerate(out_leaves):
            expected[f"{name}/out{i}"] = np.asarray(leaf)
        expected[f"{name}/rtol"] = np.float64(rtol)
        print("exported", name, flush=True)

    for name, (f, args) in cases.items():
        add(name, f, args)
    # copies, each with a second input set run while the first result is alive
    copies = {
        "copy_concat": lambda x, y: jnp.concatenate([x, y]),
        "copy_stack": lambda x, y: jnp.stack([x, y]),
        "copy_slices": lambda x, y: (x[2:5], y[1:]),
        "copy_update": lambda x, y: irjax.lax.dynamic_update_slice(x, y[:2] * 3, (1, 0)),
    }
    for name, fn in copies.items():
        a = [rng.standard_normal((10, 10)).astype(np.float32) for _ in range(2)]
        b = [rng.standard_normal((10, 10)).astype(np.float32) for _ in range(2)]
        add(name, irjax.jit(fn), a)
        for i, leaf in enumerate(b):
            expected[f"{name}/alt_in{i}"] = leaf
        for i, leaf in enumerate(irjax.tree_util.tree_leaves(fn(*b))):
            expected[f"{name}/alt_out{i}"] = np.asarray(leaf)
    if "--no-op-table" not in sys.argv:
        _add_op_table(add)
    irjax.export.save(os.path.join(out, "check.irjax"), entries)
    np.savez(os.path.join(out, "expected.npz"), **expected)
    print("wrote", out, os.path.getsize(os.path.join(out, "check.irjax")), "bytes")


def _add_op_table(add):
    """Every row x dtype of the op table's compiled-vs-reference tests, against NumPy."""
    from irjax.core import bind
    from irjax.dialects.registry import get
    from op_table import ROWS

    for row in ROWS:
        for dt in row.dtypes:
            dt = np.dtype(dt)
            args, params = row.make(dt), row.params_for(dt)
            want = get(row.name).impl(*args, **params)
            f = irjax.jit(lambda *a, _n=row.name, _p=params: bind(_n, *a, **_p))
            add(f"op_{row.id}_{dt.name}", f, list(args), outs=want, rtol=max(row.rtol, 1e-5))


if __name__ == "__main__":
    main(next((a for a in sys.argv[1:] if not a.startswith("--")), "build/gpu_aot"))

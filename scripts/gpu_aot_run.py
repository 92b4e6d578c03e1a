"""Run the exported CUDA check (see gpu_aot_prepare.py) with only iree.runtime + numpy.

Prints, per entry point: max abs/rel error against the CPU results computed by irjax here,
then the MLP value_and_grad step time on CUDA beside JAX's CUDA time (if JAX has a GPU).
"""

import os
import sys
import time

import numpy as np


def main(d):
    import irjax.runtime as rt
    from irjax.runtime import artifact as art

    assert "iree.compiler" not in sys.modules
    exp = np.load(os.path.join(d, "expected.npz"))
    t0 = time.perf_counter()
    a = rt.load(os.path.join(d, "check.irjax"), device="cuda")
    print(f"loaded for {a.target} on {a.device} in {time.perf_counter() - t0:.3f}s", flush=True)
    ok = True
    for name, e in a.entry_points.items():
        n_in = art.tree_num_leaves(e.spec["in_tree"])
        leaves = [exp[f"{name}/in{i}"] for i in range(n_in)]
        args, kwargs = art.tree_unflatten(e.spec["in_tree"], leaves)
        t0 = time.perf_counter()
        out = e(*args, **kwargs)
        first = time.perf_counter() - t0
        got = []
        art.tree_flatten_as(e.spec["out_tree"], out, "out", got)
        worst = 0.0
        for i, (_, g) in enumerate(got):
            want = exp[f"{name}/out{i}"]
            g = np.asarray(g)
            if g.dtype.kind in "iub":
                bad = int(np.sum(g != want))
                worst = max(worst, float(bad))
            else:
                err = np.max(np.abs(g - want) / (np.abs(want) + 1e-3)) if want.size else 0.0
                worst = max(worst, float(err))
        good = worst < 2e-3
        ok &= good
        print(f"{name:12s} {'ok ' if good else 'BAD'} worst rel err {worst:.2e}  first call {first * 1e3:.1f} ms", flush=True)
    # MLP step timing on CUDA (outputs read back to host each step, as the JAX side does)
    e = a["mlp_step"]
    n_in = art.tree_num_leaves(e.spec["in_tree"])
    leaves = [exp[f"mlp_step/in{i}"] for i in range(n_in)]
    args, _ = art.tree_unflatten(e.spec["in_tree"], leaves)
    for _ in range(5):
        e(*args)
    reps = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(20):
            e(*args)
        reps.append((time.perf_counter() - t0) / 20)
    t_irjax = float(np.median(reps))
    print(f"irjax cuda MLP value_and_grad step (incl. host copies): {t_irjax * 1e3:.3f} ms", flush=True)
    try:
        import jax
        import jax.numpy as jnp

        def loss(params, x, y):
            h = x
            for i, (w, b) in enumerate(params):
                h = h @ w + b
                if i < len(params) - 1:
                    h = jnp.maximum(h, 0.0)
            logits = h - jnp.max(h, axis=1, keepdims=True)
            logp = logits - jnp.log(jnp.sum(jnp.exp(logits), axis=1, keepdims=True))
            return -jnp.mean(jnp.sum(logp * y, axis=1))

        step = jax.jit(jax.value_and_grad(loss))
        dev = jax.devices()[0]
        jargs = jax.device_put(args, dev)
        v, g = step(*jargs)
        np.testing.assert_allclose(float(v), float(exp["mlp_step/out0"]), rtol=1e-3)
        for _ in range(5):
            jax.device_get(step(*jargs))
        reps = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(20):
                jax.device_get(step(*jargs))
            reps.append((time.perf_counter() - t0) / 20)
        t_jax = float(np.median(reps))
        print(f"jax {jax.__version__} on {dev} MLP step (incl. host copies): {t_jax * 1e3:.3f} ms; irjax/jax = {t_irjax / t_jax:.2f}x")
        # inputs resident on the GPU for JAX, outputs kept there: its best case
        reps = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(20):
                r = step(*jargs)
            jax.block_until_ready(r)
            reps.append((time.perf_counter() - t0) / 20)
        print(f"jax device-resident step: {float(np.median(reps)) * 1e3:.3f} ms")
    except Exception as ex:  # noqa: BLE001
        print("jax comparison unavailable:", type(ex).__name__, ex)
    print("ALL OK" if ok else "SOME ENTRIES DIFFER")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/gpu_aot")

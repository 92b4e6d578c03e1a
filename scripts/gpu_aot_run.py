"""Run the exported CUDA check (see gpu_aot_prepare.py) with only iree.runtime + numpy.

Prints, per entry point: max abs/rel error against the CPU results computed by irjax here
(op-table entries against NumPy; only failures are listed), then the MLP value_and_grad step
time on CUDA beside JAX's CUDA time (if JAX has a GPU). `--device cpu` dry-runs it here.
"""

import functools
import os
import sys
import time

import numpy as np


def main(d, device="cuda"):
    import irjax.runtime as rt
    from irjax.runtime import artifact as art

    assert "iree.compiler" not in sys.modules
    exp = np.load(os.path.join(d, "expected.npz"))
    t0 = time.perf_counter()
    a = rt.load(os.path.join(d, "check.irjax"), device=device)
    print(f"loaded for {a.target} on {a.device} in {time.perf_counter() - t0:.3f}s", flush=True)
    ok, n_ok, bad_names = True, 0, []
    for name, e in a.entry_points.items():
        n_in = art.tree_num_leaves(e.spec["in_tree"])
        rtol = float(exp[f"{name}/rtol"]) if f"{name}/rtol" in exp else 2e-3

        def run(prefix):
            leaves = [exp[f"{name}/{prefix}in{i}"] for i in range(n_in)]
            args, kwargs = art.tree_unflatten(e.spec["in_tree"], leaves)
            got = []
            art.tree_flatten_as(e.spec["out_tree"], e(*args, **kwargs), "out", got)
            return [g for _, g in got]

        t0 = time.perf_counter()
        first_out = run("")
        first = time.perf_counter() - t0
        checks = [(first_out, "")]
        if f"{name}/alt_in0" in exp:  # a second input set while the first result lives
            checks.append((run("alt_"), "alt_"))
        worst = 0.0
        for outs, prefix in checks:
            for i, g in enumerate(outs):
                worst = max(worst, _err(np.asarray(g), exp[f"{name}/{prefix}out{i}"]))
        good = worst <= max(rtol, 1e-5) * 10
        ok &= good
        n_ok += good
        if not good:
            bad_names.append(name)
        if not name.startswith("op_") or not good:
            print(
                f"{name:12s} {'ok ' if good else 'BAD'} worst rel err {worst:.2e}  first call {first * 1e3:.1f} ms",
                flush=True,
            )
    print(
        f"{n_ok} of {len(a.entry_points)} entry points match the CPU / NumPy results; differing: {bad_names}",
        flush=True,
    )
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
    print(f"irjax {a.target} MLP value_and_grad step (incl. host copies): {t_irjax * 1e3:.3f} ms", flush=True)
    try:
        import jax
        import jax.numpy as jnp
        from gpu_check_mlp import mlp_loss

        step = jax.jit(jax.value_and_grad(functools.partial(mlp_loss, jnp)))
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
        print(
            f"jax {jax.__version__} on {dev} MLP step (incl. host copies): {t_jax * 1e3:.3f} ms; irjax/jax = {t_irjax / t_jax:.2f}x"
        )
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


def _err(g: np.ndarray, want: np.ndarray) -> float:
    """Max relative error (floats) or count of differing elements (ints, bools); inf on a
    shape or dtype mismatch."""
    if g.shape != want.shape or g.dtype != want.dtype:
        return float("inf")
    if not want.size:
        return 0.0
    if g.dtype.kind in "iub":
        return float(np.sum(g != want))
    both_nan = np.isnan(g) & np.isnan(want)
    same_inf = np.isinf(want) & (g == want)
    with np.errstate(invalid="ignore"):  # (inf - inf where both are the same inf: masked below)
        err = np.abs(g.astype(np.float64) - want) / (np.abs(want.astype(np.float64)) + 1e-3)
    return float(np.max(np.where(both_nan | same_inf, 0.0, err)))


if __name__ == "__main__":
    # --device cpu: a dry run of the same checks on the llvm-cpu code in the artifact
    argv = sys.argv[1:]
    dev = argv[argv.index("--device") + 1] if "--device" in argv else "cuda"
    rest = [x for i, x in enumerate(argv) if x != "--device" and (i == 0 or argv[i - 1] != "--device")]
    main(rest[0] if rest else "build/gpu_aot", dev)

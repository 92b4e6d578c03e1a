"""Where the MLP value_and_grad first call spends its time: trace, jx passes, StableHLO, IREE phases.

    python benchmarks/first_call_phases.py            # prints a markdown table (wall and CPU seconds)

irjax's phases run in this process from an empty cache; IREE's own phases come from
`iree-compile --compile-from=A --compile-to=B` over the same StableHLO (single-threaded, each
step starting from the previous step's output), so their sum is near the in-process compile.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time

os.environ["IRJAX_CACHE_DIR"] = tempfile.mkdtemp(prefix="irjax-phases-")  # before irjax compiles anything

import irjax  # noqa: E402
import irjax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from irjax import dispatch  # noqa: E402
from irjax.runtime import compiler  # noqa: E402
from irjax.runtime.device import default_device  # noqa: E402

# IREE's pipeline phases in order (iree-compile --compile-to)
PHASES = [
    "input",
    "abi",
    "preprocessing",
    "global-optimization",
    "dispatch-creation",
    "flow",
    "stream",
    "executable-sources",
    "executable-configurations",
    "executable-targets",
    "hal",
    "vm",
    "end",
]


def mlp_case():
    rng = np.random.default_rng(0)
    sizes = [784, 512, 512, 10]
    params = [
        (jnp.array(rng.standard_normal((m, n), dtype=np.float32) * np.float32(np.sqrt(2.0 / m))), jnp.zeros(n))
        for m, n in zip(sizes[:-1], sizes[1:])
    ]
    x = jnp.array(rng.standard_normal((128, 784), dtype=np.float32))
    y = jnp.array(np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)])

    def loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = jnp.maximum(jnp.dot(h, w) + b, 0.0)
        w, b = params[-1]
        logits = jnp.dot(h, w) + b
        m = jnp.max(logits, axis=1, keepdims=True)
        logp = logits - m - jnp.log(jnp.sum(jnp.exp(logits - m), axis=1, keepdims=True))
        return -jnp.mean(jnp.sum(logp * y, axis=1))

    return irjax.jit(irjax.value_and_grad(loss)), (params, x, y)


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def iree_phases(hlo: str, flags: list[str]) -> list[tuple[str, float, float]]:
    """(phase, wall s, CPU s) of each `iree-compile --compile-from=prev --compile-to=phase` step."""
    from iree.compiler.tools.binaries import find_tool

    tool = find_tool("iree-compile")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "input.mlir")
        with open(src, "w") as f:
            f.write(hlo)
        prev, prev_file = None, src
        for phase in PHASES:
            out = os.path.join(d, f"{phase}.{'vmfb' if phase == 'end' else 'mlirbc'}")
            cmd = [tool, "--iree-hal-target-backends=llvm-cpu", "--iree-input-type=stablehlo", *flags]
            cmd += ["--mlir-disable-threading", f"--compile-to={phase}", prev_file, "-o", out]
            if prev is not None:
                cmd.append(f"--compile-from={prev}")
            if phase != "end":
                cmd.append("--emit-mlir-bytecode")
            c0, w0 = children_cpu(), time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            rows.append((phase, time.perf_counter() - w0, children_cpu() - c0))
            prev, prev_file = phase, out
    return rows


def executable_counts(hlo: str, flags: list[str]) -> dict:
    """How many executables IREE generates code for, by kind: the module's dispatches, the
    data-tiling encodings (operand packing) and initializer dispatches (hoisted constants)."""
    from iree.compiler.tools.binaries import find_tool

    with tempfile.TemporaryDirectory() as d:
        src, dump = os.path.join(d, "input.mlir"), os.path.join(d, "sources")
        with open(src, "w") as f:
            f.write(hlo)
        cmd = [find_tool("iree-compile"), "--iree-hal-target-backends=llvm-cpu", "--iree-input-type=stablehlo", *flags]
        cmd += [
            f"--iree-hal-dump-executable-sources-to={dump}",
            "--compile-to=executable-sources",
            src,
            "-o",
            os.devnull,
        ]
        subprocess.run(cmd, check=True, capture_output=True)
        names = os.listdir(dump)
    counts = {"dispatch": 0, "encoding": 0, "initializer": 0}
    for n in names:
        kind = "encoding" if "_encoding_" in n else "initializer" if "_initializer_" in n else "dispatch"
        counts[kind] += 1
    return counts


def main() -> None:
    load = os.getloadavg()
    f, args = mlp_case()
    irjax.block_until_ready(args)
    dev = default_device()
    tr, t_wall, t_cpu = timed(lambda: f._trace(args, {})[0])
    text = str(tr.module)
    hlo, l_wall, l_cpu = timed(lambda: dispatch._lower_text(text, tr.fname, dev))
    vmfb, c_wall, c_cpu = timed(lambda: compiler.compile_stablehlo(hlo, dev.target, list(dev.compile_flags)))
    _, r_wall, r_cpu = timed(lambda: irjax.block_until_ready(f(*args)))  # load the .vmfb + first run
    flags = list(compiler.compile_job(hlo, dev.target, list(dev.compile_flags)).flags)  # as irjax compiles it
    phases = iree_phases(hlo, flags)
    counts = executable_counts(hlo, flags)
    total = t_wall + l_wall + c_wall + r_wall
    n_jx = text.count('"jx.')
    n_hlo = hlo.count("= stablehlo.") + hlo.count('"stablehlo.')
    print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; {n_jx} jx ops, {n_hlo} StableHLO ops")
    print(f"flags: {' '.join(flags)}")
    print(
        f"IREE executables: {sum(counts.values())} ({counts['dispatch']} dispatches, "
        f"{counts['encoding']} data-tiling encodings, {counts['initializer']} initializer dispatches)\n"
    )
    print("| phase | wall | CPU | share of wall |")
    print("|---|---|---|---|")
    for name, w, c in [
        ("trace (incl. the grad pass)", t_wall, t_cpu),
        ("jx passes + StableHLO emission (cse, dce, lower-stablehlo, print)", l_wall, l_cpu),
        ("IREE compile, in process", c_wall, c_cpu),
        ("load .vmfb + first run", r_wall, r_cpu),
    ]:
        print(f"| {name} | {w * 1e3:.0f} ms | {c * 1e3:.0f} ms | {w / total:.0%} |")
    print(f"| total | {total * 1e3:.0f} ms | {(t_cpu + l_cpu + c_cpu + r_cpu) * 1e3:.0f} ms | |")
    iree_total = sum(w for _, w, _ in phases)
    print(
        f"\nIREE phases (iree-compile, one step per phase; step startup ~parse included), total {iree_total:.2f} s:\n"
    )
    print("| IREE phase | wall | CPU |")
    print("|---|---|---|")
    for name, w, c in phases:
        print(f"| {name} | {w * 1e3:.0f} ms | {c * 1e3:.0f} ms |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Compile an MLP's forward pass and its gradient step into one artifact, then train and predict
with it from a fresh process that has only iree.runtime and numpy (no compiler, no tracer).

    python examples/aot_mlp.py [out.irjax]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap

import irjax
import irjax.numpy as jnp
import numpy as np

SIZES = [2, 32, 32, 1]
BATCH = 64
LR = 0.1


def init(key_seed=0):
    rng = np.random.default_rng(key_seed)
    return [
        {"w": (rng.standard_normal((m, n)) / np.sqrt(m)).astype(np.float32), "b": np.zeros(n, np.float32)}
        for m, n in zip(SIZES[:-1], SIZES[1:])
    ]


def forward(params, x):
    for layer in params[:-1]:
        x = jnp.tanh(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def loss(params, x, y):
    return jnp.mean((forward(params, x) - y) ** 2)


def train_step(params, x, y):
    value, grads = irjax.value_and_grad(loss)(params, x, y)
    new = irjax.tree_util.tree_map(lambda p, g: p - LR * g, params, grads)
    return new, value


RUNTIME_ONLY = """
import sys, numpy as np
import irjax.runtime

model = irjax.runtime.load(sys.argv[1])
print(model)
params = [dict(w=w, b=b) for w, b in zip(*[iter(np.load(sys.argv[2]).values())] * 2)]
rng = np.random.default_rng(1)
for step in range(301):
    x = rng.uniform(-2, 2, (64, 2)).astype(np.float32)
    y = (np.sin(x[:, :1]) * np.cos(x[:, 1:])).astype(np.float32)
    params, value = model["train_step"](params, x, y)
    if step % 100 == 0:
        print(f"step {step:3d}  loss {float(value):.4f}")
x = np.array([[0.5, -1.0]] * 64, np.float32)
print("prediction", float(model["forward"](params, x)[0, 0]), "target", float(np.sin(0.5) * np.cos(-1.0)))
heavy = [m for m in sys.modules if m.startswith(("iree.compiler", "irjax.core", "irjax.api", "irjax.numpy"))]
assert not heavy, heavy
print("runtime-only process: no compiler, no tracer imported")
"""


def main(out: str | None = None) -> None:
    params = init()
    x = irjax.ShapeDtypeStruct((BATCH, SIZES[0]), np.float32)
    y = irjax.ShapeDtypeStruct((BATCH, SIZES[-1]), np.float32)
    p_avals = irjax.tree_util.tree_map(lambda a: irjax.ShapeDtypeStruct(a.shape, a.dtype), params)
    log = lambda m: print("  " + m)  # noqa: E731
    print("exporting forward...")
    fwd = irjax.export(irjax.jit(forward), progress=log)(p_avals, x)
    print("exporting train_step...")
    step = irjax.export(irjax.jit(train_step), progress=log)(p_avals, x, y)
    with tempfile.TemporaryDirectory() as d:
        out = out or os.path.join(d, "mlp.irjax")
        irjax.export.save(out, {"forward": fwd, "train_step": step})
        print(f"wrote {out} ({os.path.getsize(out) / 1024:.0f} KiB)")
        init_path = os.path.join(d, "init.npz")
        np.savez(init_path, *[a for layer in params for a in (layer["w"], layer["b"])])
        subprocess.run([sys.executable, "-c", textwrap.dedent(RUNTIME_ONLY), out, init_path], check=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)

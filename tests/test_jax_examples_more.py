"""More of JAX's own example programs (differentially_private_sgd, kernel_lsq) run unchanged
through examples/jax_examples/run.py on irjax and on JAX, shortened and on the same synthetic
data: the printed numbers must agree within float (and print-rounding) tolerance."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "examples" / "jax_examples" / "run.py"
_NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_TIMING = re.compile(r"in \d+\.\d+ sec")

pytest.importorskip("jax")


def run(example, backend, *, sets=(), flags=(), env=None, timeout=900):
    cmd = [sys.executable, str(RUNNER), example, "--backend", backend]
    for s in sets:
        cmd += ["--set", s]
    if flags:
        cmd += ["--", *flags]
    full_env = {**os.environ, "IRJAX_MNIST_TRAIN": "64", "IRJAX_MNIST_TEST": "32", **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=ROOT)


def numeric_lines(stdout, keep=lambda line: True):
    """[(line skeleton, [numbers])] of the kept lines, wall-clock timings removed."""
    out = []
    for line in stdout.splitlines():
        line = _TIMING.sub("in <t> sec", line).strip()
        if line and keep(line):
            out.append((_NUM.sub("#", line), [float(x) for x in _NUM.findall(line)]))
    return out


def assert_same_numbers(ours, theirs, keep=lambda line: True, rtol=1e-4, atol=1e-5):
    assert ours.returncode == 0, ours.stderr[-3000:]
    assert theirs.returncode == 0, theirs.stderr[-3000:]
    a, b = numeric_lines(ours.stdout, keep), numeric_lines(theirs.stdout, keep)
    assert [s for s, _ in a] == [s for s, _ in b], (ours.stdout, theirs.stdout)
    nums_a = [x for _, xs in a for x in xs]
    nums_b = [x for _, xs in b for x in xs]
    assert len(nums_a) == len(nums_b) and nums_a, (ours.stdout, theirs.stdout)
    for x, y in zip(nums_a, nums_b):
        assert abs(x - y) <= atol + rtol * abs(y), (x, y, ours.stdout, theirs.stdout)


# the program prints 2 decimals: one unit in the last place covers a rounding flip
DPSGD_ATOL = 0.011


def test_dpsgd_vanilla_sgd_conv_net():
    """stax Conv/Relu/MaxPool/Flatten/Dense net, grad + optimizers.sgd under jit (--dpsgd=False)."""
    flags = ("--dpsgd=False", "--epochs=2", "--batch_size=32", "--learning_rate=0.5")
    ours, theirs = (
        run("differentially_private_sgd", "irjax", flags=flags),
        run("differentially_private_sgd", "jax", flags=flags),
    )
    assert_same_numbers(ours, theirs, atol=DPSGD_ATOL)
    assert ours.stdout.count("Test set loss, accuracy") == 2
    assert ours.stdout.count("Trained with vanilla non-private SGD optimizer") == 2


@pytest.mark.slow
def test_dpsgd_private_per_example_clipped_grads():
    """DP-SGD: vmap(grad) per-example conv grads clipped by their global norm, tree_flatten,
    random.fold_in/split/normal noise, dp_accounting's epsilon from jnp.linspace orders."""
    flags = (
        "--dpsgd=True",
        "--epochs=2",
        "--batch_size=32",
        "--learning_rate=0.5",
        "--noise_multiplier=1.3",
        "--l2_norm_clip=1.5",
    )
    ours, theirs = (
        run("differentially_private_sgd", "irjax", flags=flags),
        run("differentially_private_sgd", "jax", flags=flags),
    )
    assert_same_numbers(ours, theirs, atol=DPSGD_ATOL)
    assert ours.stdout.count("the current epsilon is") == 2


KLSQ_SETS = ("minimize.num_steps=50",)


def test_kernel_lsq_runs_and_prints_jaxprs():
    """jit(vmap(vmap(kernel))) Gram matrix, lax.Precision.HIGH, momentum under jit, make_jaxpr.
    Its jaxpr printout is irjax's own IR, so only the program's structure is compared here."""
    ours = run("kernel_lsq", "irjax", sets=KLSQ_SETS)
    assert ours.returncode == 0, ours.stderr[-3000:]
    lines = ours.stdout.splitlines()
    assert lines[0].startswith("MSE: ")
    for header in ("jaxpr of gram(linear_kernel):", "jaxpr of gram(rbf_kernel):"):
        assert header in lines
    assert "dot_general" in ours.stdout and "exp" in ours.stdout


def test_kernel_lsq_mse_matches_jax():
    ours = run("kernel_lsq", "irjax", sets=KLSQ_SETS)
    theirs = run("kernel_lsq", "jax", sets=KLSQ_SETS)
    assert_same_numbers(ours, theirs, keep=lambda line: line.startswith("MSE:"), rtol=1e-4)


# minutes of compiles on 2 cores: run with -m slow (.ci/run runs the slow set after the default one)
pytestmark = pytest.mark.slow

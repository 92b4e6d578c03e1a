"""JAX's own example programs (../shared/peer/jax-examples), run unchanged through
examples/jax_examples/run.py on irjax and on JAX with the same synthetic data and
shortened epochs: the printed numbers must agree within float tolerance."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "examples" / "jax_examples" / "run.py"
_NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_TIMING = re.compile(r"in \d+\.\d+ sec|\(\d+\.\d+ sec\)")


def run(example, backend, *sets, env=None, timeout=900):
    cmd = [sys.executable, str(RUNNER), example, "--backend", backend]
    for s in sets:
        cmd += ["--set", s]
    full_env = {**os.environ, "IRJAX_MNIST_TRAIN": "256", "IRJAX_MNIST_TEST": "128", **(env or {})}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=ROOT)
    return proc


def numbers_by_line(stdout):
    """[(line skeleton, [numbers])] with wall-clock timings removed."""
    out = []
    for line in stdout.splitlines():
        line = _TIMING.sub("in <t> sec", line).strip()
        if line:
            out.append((_NUM.sub("#", line), [float(x) for x in _NUM.findall(line)]))
    return out


def assert_same_output(ours, theirs, rtol=1e-4, atol=1e-5):
    assert ours.returncode == 0, ours.stderr[-3000:]
    assert theirs.returncode == 0, theirs.stderr[-3000:]
    a, b = numbers_by_line(ours.stdout), numbers_by_line(theirs.stdout)
    assert [s for s, _ in a] == [s for s, _ in b], (ours.stdout, theirs.stdout)
    nums_a = [x for _, xs in a for x in xs]
    nums_b = [x for _, xs in b for x in xs]
    assert len(nums_a) == len(nums_b) and nums_a, (ours.stdout, theirs.stdout)
    for x, y in zip(nums_a, nums_b):
        assert abs(x - y) <= atol + rtol * abs(y), (x, y, ours.stdout, theirs.stdout)


def test_mnist_classifier_stax_optimizers():
    """stax.serial(Dense, Relu, ..., LogSoftmax) trained with optimizers.momentum under jit."""
    sets = ("num_epochs=2", "batch_size=64")
    ours, theirs = run("mnist_classifier", "irjax", *sets), run("mnist_classifier", "jax", *sets)
    assert_same_output(ours, theirs)
    assert ours.stdout.count("Training set accuracy") == 2


@pytest.mark.slow
def test_mnist_vae(tmp_path):
    """VAE with stax parallel/FanOut/Softplus, lax.fori_loop over dynamic_slice batches,
    random.bernoulli/normal/fold_in, momentum; writes sample images to $TMPDIR."""
    env = {"TMPDIR": str(tmp_path)}
    ours = run("mnist_vae", "irjax", "num_epochs=2", env=env)
    theirs = run("mnist_vae", "jax", "num_epochs=2", env=env)
    assert_same_output(ours, theirs)
    assert (tmp_path / "mnist_vae_001.png").is_file()


def test_runner_alias_patching_and_errors(tmp_path):
    prog = tmp_path / "probe.py"
    prog.write_text(
        "import jax, jax.numpy as jnp\n"
        "from jax.example_libraries import optimizers\n"
        "from examples import datasets\n"
        "steps = 1000\n"
        "def f(n=5):\n    return n\n"
        "if __name__ == '__main__':\n"
        "    print(jax.__name__, jnp.__name__, optimizers.__name__, steps, f())\n"
        "    print(datasets.mnist()[0].shape, datasets.mnist()[1].shape)\n"
        "    import jax.no_such_module\n")
    env = {"IRJAX_JAX_EXAMPLES": str(tmp_path)}
    proc = run("probe", "irjax", "steps=3", "f.n=7", env=env, timeout=300)
    assert proc.stdout.splitlines()[0] == "irjax irjax.numpy irjax.example_libraries.optimizers 3 7"
    assert proc.stdout.splitlines()[1] == "(256, 784) (256, 10)"
    assert "No module named 'jax.no_such_module'" in proc.stderr and proc.returncode != 0
    bad = run("probe", "irjax", "nope=1", env=env, timeout=300)
    assert bad.returncode != 0 and "--set names not found in probe.py: ['nope']" in bad.stderr
    jax_run = run("probe", "jax", env=env, timeout=300)
    assert jax_run.stdout.splitlines()[0].startswith("jax jax.numpy jax.example_libraries.optimizers 1000 5")

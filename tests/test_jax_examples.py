"""JAX's own example programs (../shared/peer/jax-examples), run unchanged through
examples/jax_examples/run.py on irjax and on JAX with the same synthetic data and
shortened epochs: the printed numbers must agree within float tolerance."""

import math
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
        if math.isnan(y):  # a NaN JAX prints must be a NaN here too
            assert math.isnan(x), (x, y, ours.stdout, theirs.stdout)
            continue
        assert abs(x - y) <= atol + rtol * abs(y), (x, y, ours.stdout, theirs.stdout)


def test_mnist_classifier_stax_optimizers():
    """stax.serial(Dense, Relu, ..., LogSoftmax) trained with optimizers.momentum under jit."""
    sets = ("num_epochs=2", "batch_size=64")
    ours, theirs = run("mnist_classifier", "irjax", *sets), run("mnist_classifier", "jax", *sets)
    assert_same_output(ours, theirs)
    assert ours.stdout.count("Training set accuracy") == 2


def _both(example, *sets, env=None):
    return run(example, "irjax", *sets, env=env), run(example, "jax", *sets, env=env)


def test_mnist_classifier_fromscratch():
    """Hand-written MLP with jax.scipy.special.logsumexp, grad of a list-of-tuples pytree under jit."""
    ours, theirs = _both("mnist_classifier_fromscratch", "num_epochs=2", "batch_size=64")
    assert_same_output(ours, theirs)
    assert ours.stdout.count("Test set accuracy") == 2


def test_spmd_mnist_classifier_fromscratch():
    """The same MLP data-parallel over 4 CPU devices: make_mesh with AxisType.Explicit, batches
    device_put with NamedSharding(mesh, P("batch")), replicated params, jit(donate_argnums=0)
    under set_mesh, reshard of NumPy arrays; 2 shortened epochs."""
    env = {"IRJAX_NUM_CPU_DEVICES": "4", "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    ours, theirs = _both("spmd_mnist_classifier_fromscratch", "num_epochs=2", "batch_size=64", env=env)
    assert_same_output(ours, theirs)
    assert ours.stdout.splitlines()[0] == "Using 4 devices"
    assert ours.stdout.count("Test set accuracy") == 2


def test_advi_short():
    """ADVI with jax.scipy.stats.norm.logpdf under vmap, random.key(t) with a traced t,
    grad through an jitted objective, optimizers.momentum; 4 of its 100 iterations."""
    ours, theirs = _both("advi", "range(100)=4")
    assert_same_output(ours, theirs)
    assert ours.stdout.count("lower bound") == 4


@pytest.mark.slow
def test_advi_full():
    """All 100 iterations: the objective is a 40-sample Monte Carlo estimate driven by momentum,
    so float32 rounding drifts to ~2e-4 relative before JAX's own run turns to NaN at step 30."""
    ours, theirs = _both("advi")
    assert_same_output(ours, theirs, rtol=1e-3)
    assert ours.stdout.count("lower bound nan") == theirs.stdout.count("lower bound nan") > 0


def test_gaussian_process_regression_short():
    """GP hyperparameter fit: jax.scipy.linalg.cholesky(lower=True) and solve_triangular
    (incl. of a transpose) inside jit(grad(...)), nested vmap covariances, dict pytrees,
    config.config_with_absl() and absl's app.run; 51 of its 1000 steps."""
    ours, theirs = _both("gaussian_process_regression", "range(1000)=51")
    assert_same_output(ours, theirs)
    assert ours.stdout.count("neg marginal likelihood") == 2


@pytest.mark.slow
def test_gaussian_process_regression_full():
    """All 1000 steps: the learned noise falls to softplus(-10.7) ~ 2e-5 against an amplitude of 7.5,
    so the float32 Cholesky is ill-conditioned (~1e6) and the late steps drift ~1e-3 relative."""
    ours, theirs = _both("gaussian_process_regression")
    assert_same_output(ours, theirs, rtol=5e-3, atol=1e-4)


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
        "n = sum(1 for _ in range(10))\n"
        "from jax.example_libraries import optimizers\n"
        "from examples import datasets\n"
        "steps = 1000\n"
        "def f(n=5):\n    return n\n"
        "if __name__ == '__main__':\n"
        "    print(jax.__name__, jnp.__name__, optimizers.__name__, steps, f(), n)\n"
        "    print(datasets.mnist()[0].shape, datasets.mnist()[1].shape)\n"
        "    import jax.no_such_module\n"
    )
    env = {"IRJAX_JAX_EXAMPLES": str(tmp_path)}
    proc = run("probe", "irjax", "steps=3", "f.n=7", "range(10)=2", env=env, timeout=300)
    assert proc.stdout.splitlines()[0] == "irjax irjax.numpy irjax.example_libraries.optimizers 3 7 2"
    assert proc.stdout.splitlines()[1] == "(256, 784) (256, 10)"
    assert "No module named 'jax.no_such_module'" in proc.stderr and proc.returncode != 0
    bad = run("probe", "irjax", "nope=1", env=env, timeout=300)
    assert bad.returncode != 0 and "--set names not found in probe.py: ['nope']" in bad.stderr
    jax_run = run("probe", "jax", env=env, timeout=300)
    assert jax_run.stdout.splitlines()[0].startswith("jax jax.numpy jax.example_libraries.optimizers 1000 5 10")


# minutes of compiles on 2 cores: run with -m slow (.ci/run runs the slow set after the default one)
pytestmark = pytest.mark.slow

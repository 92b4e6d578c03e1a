"""Devices, placement and transfers; CUDA/ROCm compile tests; Vulkan runs under `-m vulkan`.

Vulkan needs a Vulkan ICD: without a GPU, Mesa's lavapipe (see docs/devices.md for the apt line).
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.runtime import compiler
from irjax.runtime import device as rtdev

sys.path.insert(0, os.path.dirname(__file__))


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _run(code: str, **env) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, timeout=300)


# ---- the device model (CPU only) ---------------------------------------------------------------


def test_cpu_devices_and_repr():
    cpu = irjax.devices("cpu")[0]
    assert repr(cpu) == "CpuDevice(id=0)"
    assert cpu.platform == "cpu" and cpu.id == 0 and cpu.target == "llvm-cpu"
    assert irjax.devices("cpu") == [cpu]
    assert irjax.local_devices(backend="cpu") == [cpu]
    assert irjax.devices("cpu")[0] is cpu  # devices are created once
    assert irjax.device_count("cpu") == 1


def test_default_backend_follows_env():
    code = "import irjax; print(irjax.default_backend(), irjax.devices(), irjax.local_devices())"
    r = _run(code, IRJAX_PLATFORMS="cpu")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "cpu" and "CpuDevice(id=0)" in r.stdout
    # the first available platform of the list wins; rocm is absent on CI machines
    if not rtdev.available_platforms(["rocm"]):
        r = _run(code, IRJAX_PLATFORMS="rocm,cpu")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split()[0] == "cpu"
        r = _run(code, IRJAX_PLATFORMS="rocm")
        assert r.returncode != 0 and "IRJAX_PLATFORMS" in r.stderr and "rocm" in r.stderr
    r = _run(code, IRJAX_PLATFORMS="tpu")
    assert r.returncode != 0 and "Unknown backend" in r.stderr


def test_unknown_or_missing_backend_raises():
    with pytest.raises(RuntimeError, match="Unknown backend"):
        irjax.devices("tpu")
    for p in ("cuda", "rocm"):
        if not rtdev.available_platforms([p]):
            with pytest.raises(RuntimeError, match=p):
                irjax.devices(p)


def test_device_put_and_array_devices():
    cpu = irjax.devices("cpu")[0]
    x = irjax.device_put(np.arange(6.0).reshape(2, 3), cpu)
    assert x.devices() == {cpu} and x.device == cpu and x._committed
    np.testing.assert_array_equal(np.asarray(x), np.arange(6.0, dtype=np.float32).reshape(2, 3))
    tree = irjax.device_put({"a": np.ones(2), "b": [np.zeros(3, np.int32)]}, cpu)
    assert tree["a"].devices() == {cpu} and tree["b"][0].dtype == np.int32
    y = jnp.arange(3.0)
    assert not y._committed and irjax.device_put(y) is y
    assert (x + 1)._committed  # computed from a committed array
    assert irjax.device_put(x, "cpu").devices() == {cpu}
    # a weak-type change keeps the placement (numpy/_util._copy_with_weak)
    from irjax.numpy._util import convert

    w = irjax.device_put(jnp.broadcast_to(1.5, (2,)), cpu)
    strong = convert(w, w.dtype, False)
    assert w.weak_type and not strong.weak_type and strong._committed and strong.devices() == {cpu}


def test_default_device_context_manager():
    cpu = irjax.devices("cpu")[0]
    before = rtdev.default_device()
    with irjax.default_device(cpu) as d:
        assert d is cpu and rtdev.default_device() is cpu
        with irjax.default_device("cpu"):
            assert (jnp.ones(2) * 2).devices() == {cpu}
    assert rtdev.default_device() is before


def test_jit_device_argument():
    cpu = irjax.devices("cpu")[0]
    f = irjax.jit(lambda a: a * 2 + 1, device=cpu)
    np.testing.assert_allclose(np.asarray(f(np.arange(3.0))), [1, 3, 5])
    assert f(np.arange(3.0)).devices() == {cpu}
    g = irjax.jit(lambda a: a.sum(), backend="cpu")
    assert float(g(jnp.arange(4.0))) == 6.0


# ---- CUDA / ROCm: target choice and compile tests (no GPU needed) ------------------------------


def test_cuda_target_choice():
    assert rtdev.cuda_target_for(90, 12080) == "sm_89"  # Hopper: IREE 3.13 rejects sm_90
    assert rtdev.cuda_target_for(90, 12020) == "sm_87"  # sm_89 PTX (ISA 8.4) needs a 12.4 driver
    assert rtdev.cuda_target_for(100, 12080) == "sm_89"  # sm_100 is rejected too
    assert rtdev.cuda_target_for(80, None) == "sm_80"
    assert rtdev.cuda_target_for(86, 12000) == "sm_86"
    assert rtdev.cuda_target_for(120, 12080) == "sm_120"
    assert rtdev.cuda_target_for(None) == "sm_80"
    assert compiler.target_flags("cuda")[0].startswith("--iree-cuda-target=")
    assert compiler.target_flags("rocm")[0].startswith("--iree-rocm-target=")
    for t in ("cuda", "rocm", "vulkan-spirv"):  # (memoized copies replayed into stale buffers)
        assert "--iree-hal-memoization=false" in compiler.target_flags(t)
    assert "--iree-hal-memoization=false" not in compiler.target_flags("llvm-cpu")


def _hlo_modules():
    def mlp(w, b, x):
        return jnp.sum(jnp.tanh(x @ w + b) ** 2)

    w, b, x = np.ones((8, 4), np.float32), np.ones(4, np.float32), np.ones((2, 8), np.float32)
    fns = {
        "elementwise": (lambda a: jnp.sin(a) * 2 + jnp.exp(a), (np.ones(5, np.float32),)),
        "reduce_dot": (lambda a, c: (a @ c).sum(axis=0), (np.ones((3, 4), np.float32), np.ones((4, 2), np.float32))),
        "mlp_grad": (irjax.grad(mlp), (w, b, x)),
        "sort_gather": (lambda a: jnp.sort(a)[jnp.array([2, 0])], (np.arange(4.0, dtype=np.float32),)),
    }
    out = {}
    for name, (f, args) in fns.items():
        out[name] = irjax.jit(f).lower(*args).as_text("stablehlo")
    return out


@pytest.fixture(scope="module")
def hlo_modules():
    return _hlo_modules()


@pytest.mark.parametrize("arch", ["sm_80", "sm_89"])
def test_cuda_compiles(hlo_modules, arch):
    for name, text in hlo_modules.items():
        vmfb = compiler.compile_stablehlo(text, "cuda", [f"--iree-cuda-target={arch}"])
        assert len(vmfb) > 1000, name
        assert f".target {arch}".encode() in vmfb, f"{name}: no PTX for {arch} in the vmfb"


def test_cuda_sm90_is_rejected_by_this_iree(hlo_modules):
    """DESIGN.md's fact: IREE 3.13 cannot compile sm_90. If this starts passing, prefer sm_90."""
    with pytest.raises(compiler.CompileError):
        compiler.compile_stablehlo(hlo_modules["elementwise"], "cuda", ["--iree-cuda-target=sm_90"])


@pytest.mark.parametrize("arch", ["gfx942", "gfx90a", "gfx1100"])
def test_rocm_compiles(hlo_modules, arch):
    for name in ("elementwise", "mlp_grad"):
        vmfb = compiler.compile_stablehlo(hlo_modules[name], "rocm", [f"--iree-rocm-target={arch}"])
        assert len(vmfb) > 1000 and arch.encode() in vmfb, name


def test_vulkan_spirv_compiles_without_a_device(hlo_modules):
    vmfb = compiler.compile_stablehlo(hlo_modules["reduce_dot"], "vulkan-spirv")
    assert len(vmfb) > 1000


# ---- buffers are freed --------------------------------------------------------------------------


def _leak_check(device, n=300, mb_per_iter=1.0):
    k = int(mb_per_iter * 2**20 / 4)
    host = np.ones(k, np.float32)
    f = irjax.jit(lambda a: a * 2.0 + 1.0)

    def step():
        x = irjax.device_put(host, device)
        y = f(x)
        z = y + x
        return float(np.asarray(z)[0])

    for _ in range(20):  # warm up: compiles, caches, allocator pools
        step()
    gc.collect()
    start = _rss_mb()
    for _ in range(n):
        assert step() == 4.0
    gc.collect()
    grown = _rss_mb() - start
    # n iterations allocate ~4 * n MB; anything kept alive would show up many times over
    assert grown < 0.1 * 4 * n * mb_per_iter, f"RSS grew {grown:.0f} MB over {n} iterations"


def test_buffers_freed_cpu():
    _leak_check(irjax.devices("cpu")[0])


# ---- Vulkan (lavapipe without a GPU): -m vulkan ----------------------------------------------------

vulkan = pytest.mark.vulkan

# A representative slice of tests/op_table.py: elementwise, reductions, dot_general, gather,
# scatter, sort, shape ops, bools (8-bit storage), conversions.
VULKAN_ROWS = {
    "add",
    "mul",
    "div",
    "max",
    "sin",
    "exp",
    "tanh",
    "log",
    "pow",
    "eq",
    "lt",
    "select",
    "and",
    "convert_element_type",
    "integer_pow",
    "broadcast_in_dim",
    "transpose",
    "concatenate",
    "pad",
    "slice",
    "dynamic_slice",
    "dynamic_update_slice",
    "reduce_sum",
    "reduce_max",
    "reduce_and",
    "argmax",
    "cumsum",
    "dot_general",
    "gather",
    "scatter",
    "sort",
    "iota",
}
# Known Vulkan-only problems, each with its reason (xfail, strict).
# (row id, dtype name or None): reason. Empty now: out-of-range gathers are clamped in the
# lowering, and uint32 cumsum compiles.
VULKAN_XFAIL: dict = {}


def _vulkan_cases():
    try:
        from op_table import ROWS
    except Exception:  # noqa: BLE001
        return []
    cases = []
    for r in ROWS:
        if r.name not in VULKAN_ROWS:
            continue
        for dt in r.dtypes:
            dt = np.dtype(dt)
            why = VULKAN_XFAIL.get((r.id, None)) or VULKAN_XFAIL.get((r.id, dt.name))
            marks = [pytest.mark.xfail(reason=why, strict=True)] if why else []
            cases.append(pytest.param(r, dt, id=f"{r.id}-{dt.name}", marks=marks))
    return cases


@pytest.fixture(scope="module")
def vk():
    try:
        return irjax.devices("vulkan")[0]
    except RuntimeError as e:
        pytest.skip(f"no Vulkan device ({e}); install mesa-vulkan-drivers libvulkan1 (docs/devices.md)")


@vulkan
def test_vulkan_device(vk):
    assert repr(vk) == "VulkanDevice(id=0)" and vk.target == "vulkan-spirv"
    assert irjax.devices("vulkan")[0] is vk


@vulkan
@pytest.mark.parametrize("row,dt", _vulkan_cases())
def test_vulkan_op_table(vk, row, dt):
    from irjax.core import bind
    from irjax.dialects.registry import get
    from test_ops import _as_list, assert_same

    args, params = row.make(dt), row.params_for(dt)
    want = _as_list(get(row.name).impl(*args, **params))
    with irjax.default_device(vk):
        got = _as_list(bind(row.name, *args, **params))
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.devices() == {vk}
        assert_same(np.asarray(g), np.asarray(w), rtol=max(row.rtol, 1e-5), atol=1e-5, what=f"result {i}: ")


def _close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


@vulkan
def test_vulkan_transfers_round_trip(vk):
    cpu = irjax.devices("cpu")[0]
    rng = np.random.default_rng(0)
    for v in (
        rng.standard_normal((3, 5)).astype(np.float32),
        rng.integers(-9, 9, (7,)).astype(np.int32),
        rng.integers(0, 9, (2, 2, 3)).astype(np.uint8),
        rng.random((4, 3)) < 0.5,
        np.float32(2.5),
        np.zeros((0, 3), np.float32),
        rng.standard_normal(100_003).astype(np.float32),  # not a multiple of 4096 bytes
    ):
        x = irjax.device_put(v, vk)
        assert x.devices() == {vk} and x.dtype == np.asarray(v).dtype and x.shape == np.shape(v)
        np.testing.assert_array_equal(np.asarray(x), v)
        y = irjax.device_put(x, cpu)
        assert y.devices() == {cpu}
        np.testing.assert_array_equal(np.asarray(y), v)
        z = irjax.device_put(y, vk)
        np.testing.assert_array_equal(np.asarray(z), v)
    np.testing.assert_array_equal(irjax.device_get(irjax.device_put({"a": np.arange(3)}, vk))["a"], np.arange(3))


@vulkan
def test_vulkan_mixed_devices_raise(vk):
    cpu = irjax.devices("cpu")[0]
    a = irjax.device_put(np.ones(3, np.float32), vk)
    b = irjax.device_put(np.ones(3, np.float32), cpu)
    with pytest.raises(ValueError, match="incompatible devices.*VULKAN.*CPU"):
        a + b
    with pytest.raises(ValueError, match="incompatible devices"):
        irjax.jit(lambda x, y: x * y)(a, b)
    # uncommitted arrays follow the committed one
    c = a + jnp.ones(3)
    assert c.devices() == {vk}
    _close(c, [2, 2, 2])


@vulkan
def test_vulkan_jit_grad_vmap_match_cpu(vk):
    def loss(w, b, x, y):
        pred = jnp.tanh(x @ w + b)
        return jnp.mean((pred - y) ** 2)

    rng = np.random.default_rng(1)
    w, b = rng.standard_normal((5, 3)).astype(np.float32), np.zeros(3, np.float32)
    x, y = rng.standard_normal((8, 5)).astype(np.float32), rng.standard_normal((8, 3)).astype(np.float32)
    step = irjax.jit(irjax.value_and_grad(loss, argnums=(0, 1)))
    want_v, want_g = step(w, b, x, y)
    args = irjax.device_put((w, b, x, y), vk)
    got_v, got_g = step(*args)
    assert got_v.devices() == {vk} and got_g[0].devices() == {vk}
    _close(got_v, want_v)
    for g, h in zip(got_g, want_g):
        _close(g, h)
    per_ex = irjax.vmap(irjax.grad(lambda w, x: jnp.sum(jnp.sin(x @ w))), in_axes=(None, 0))
    _close(per_ex(args[0], args[2]), per_ex(w, x))
    # an argsort-style sort (values dropped) crashed iree-compile before keep-sort-results
    with irjax.default_device(vk):
        order = irjax.jit(lambda a: jnp.argsort(a) * 2)(x[0])
    np.testing.assert_array_equal(np.asarray(order), np.argsort(x[0], kind="stable") * 2)
    with irjax.default_device(vk):
        r = irjax.jit(lambda a: jnp.cumsum(jnp.max(a) - a))(x[0])
    assert r.devices() == {vk}
    _close(r, np.cumsum(np.max(x[0]) - x[0]))
    f = irjax.jit(lambda a: jnp.sum(a * a), device=vk)
    out = f(x)
    assert out.devices() == {vk}
    _close(out, np.sum(x * x), 1e-4)


# Each of these fuses a column reduction (or a matvec) with its consumer. Without
# passes/target_fixups.py, IREE 3.13's vulkan-spirv code computed only the first 8 columns of
# the reduction and read the rest from stale memory; 11 of 14 such cases were wrong. Fresh inputs
# each call, as a stale buffer can hold the right answer by accident.
VULKAN_FUSED = {
    "sum0": lambda x: x - x.sum(0),
    "max0": lambda x: x - x.max(0),
    "min0": lambda x: x * x.min(0),
    "prod0": lambda x: x + jnp.prod(x[:5], 0),
    "argmax0": lambda x: x + jnp.argmax(x, 0),
    "cumsum0": lambda x: jnp.cumsum(x, 0) * 2,
    "mean1_3d": lambda x: x.reshape(10, 10, -1) - x.reshape(10, 10, -1).mean(1, keepdims=True),
    "sum1": lambda x: x - x.sum(1, keepdims=True),
    "matvec": lambda x: x - jnp.ones(x.shape[0]) @ x / 100,
    "gram": lambda x: (x.T @ x) + 1.0,
    "stackdot": lambda x: jnp.stack([x[:10] @ x[0], x[:10] @ x[1]]),
    "concat_sums": lambda x: jnp.concatenate([x.sum(0), x.max(0)]) * 2,
    "stack_colsums": lambda x: jnp.stack([jnp.ones(100) @ x, jnp.ones(100) @ (x * x)]),
    "softmax0": lambda x: irjax.nn.softmax(x, axis=0),
    "logsumexp0": lambda x: x - irjax.nn.logsumexp(x, axis=0),
    "std0": lambda x: x / x.std(0),
    "sort0": lambda x: jnp.sort(x, 0) + x.sum(0),
}


def _vk_matches_cpu_with_results_kept(vk, f, input_sets, same):
    """f on Vulkan against f on the CPU, one call per input set, every earlier result kept
    alive and checked again at the end (a kept buffer changed later results once)."""
    on_cpu, on_vk = irjax.jit(f, device=irjax.devices("cpu")[0]), irjax.jit(f, device=vk)
    kept = []
    for args in input_sets:
        got, want = on_vk(*irjax.device_put(args, vk)), on_cpu(*args)
        pairs = list(zip(irjax.tree_util.tree_leaves(got), irjax.tree_util.tree_leaves(want)))
        for g, w in pairs:
            assert g.devices() == {vk}
            same(np.asarray(g), np.asarray(w))
        kept.append(pairs)
    for pairs in kept:
        for g, w in pairs:
            same(np.asarray(g), np.asarray(w))


def _close_scaled(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * (1 + np.abs(want).max()))


@vulkan
@pytest.mark.parametrize("name", sorted(VULKAN_FUSED))
def test_vulkan_fused_reductions_fresh_inputs(vk, name):
    rng = np.random.default_rng(0)
    inputs = [(rng.standard_normal((100, 10)).astype(np.float32) + t,) for t in range(3)]
    _vk_matches_cpu_with_results_kept(vk, VULKAN_FUSED[name], inputs, _close_scaled)


# Modules whose results are (partly) buffer copies. With IREE's command-buffer memoization on,
# Vulkan replayed the copies into the first call's output buffer: while that result was alive
# every later call returned zeros (runtime/compiler.py turns memoization off for GPU targets).
VULKAN_COPIES = {
    "concat_args": lambda x, y: jnp.concatenate([x, y]),
    "stack_args": lambda x, y: jnp.stack([x, y]),
    "slices_out": lambda x, y: (x[2:5], y[1:]),
    "pad": lambda x, y: jnp.pad(x, ((1, 2), (0, 3))),
    "update_slice": lambda x, y: irjax.lax.dynamic_update_slice(x, y[:2] * 3, (1, 0)),
    "at_set": lambda x, y: x.at[3].set(y[0]),
    "identity": lambda x, y: (x, y),
}


@vulkan
@pytest.mark.parametrize("name", sorted(VULKAN_COPIES))
def test_vulkan_copies_with_earlier_results_alive(vk, name):
    rng = np.random.default_rng(1)
    inputs = [tuple(rng.standard_normal((10, 10)).astype(np.float32) for _ in range(2)) for _ in range(3)]
    _vk_matches_cpu_with_results_kept(vk, VULKAN_COPIES[name], inputs, np.testing.assert_array_equal)


@vulkan
def test_vulkan_buffers_freed(vk):
    _leak_check(vk, n=150)


@vulkan
def test_vulkan_platform_env():
    r = _run(
        "import irjax, irjax.numpy as jnp; x = jnp.arange(4.0) * 2; print(irjax.default_backend(), x.devices(), x)",
        IRJAX_PLATFORMS="vulkan,cpu",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "vulkan" and "VulkanDevice(id=0)" in r.stdout and "[0. 2. 4. 6.]" in r.stdout


# ---- residency and asynchronous dispatch (shared by -m vulkan here and -m cuda on a GPU) ---------

NO_TRANSFERS = {"to_device": 0, "to_host": 0, "on_device": 0}


def _np_step(a, b):
    return np.tanh(a @ b) + a


def check_resident_calls(dev) -> None:
    """jit results feed the next call, and eager ops run on them, with no host copy; only the
    final read copies to the host, once."""
    host = np.linspace(-1, 1, 48 * 48, dtype=np.float32).reshape(48, 48)
    x = irjax.device_put(host, dev)
    f = irjax.jit(lambda a, b: jnp.tanh(a @ b) + a)
    np.asarray(f(x, x))  # compile and warm up
    np.asarray(jnp.sin(x) * x - jnp.cos(x))
    rtdev.reset_transfer_counts()
    y = x
    for _ in range(4):
        y = f(y, x)
    z = jnp.sin(y) * y - jnp.cos(x)  # eager (fused) ops on resident arrays
    z.block_until_ready()
    assert rtdev.transfers == NO_TRANSFERS, rtdev.transfers
    assert z.devices() == {dev} and y.devices() == {dev}
    want = host.astype(np.float64)
    for _ in range(4):
        want = _np_step(want, host)
    want = np.sin(want) * want - np.cos(host)
    np.testing.assert_allclose(np.asarray(z), want, rtol=2e-4, atol=2e-4)
    str(z)
    np.asarray(z)  # read once, then the host copy is reused
    assert rtdev.transfers == {"to_device": 0, "to_host": 1, "on_device": 0}, rtdev.transfers


def check_put_and_get_copy_once(dev) -> None:
    host = np.arange(12, dtype=np.float32).reshape(3, 4)
    rtdev.reset_transfer_counts()
    a = irjax.device_put(host, dev)
    b = irjax.device_put(a, dev)  # already there: no copy
    assert rtdev.transfers == {"to_device": 1, "to_host": 0, "on_device": 0}, rtdev.transfers
    assert irjax.device_get(b) is not None and rtdev.transfers["to_host"] == 0  # device_put kept its host copy
    got = irjax.device_get({"c": b + b})["c"]
    np.testing.assert_array_equal(got, 2 * host)
    assert rtdev.transfers == {"to_device": 1, "to_host": 1, "on_device": 0}, rtdev.transfers


def check_resident_artifact(dev) -> None:
    """An artifact's entry point takes device arrays and returns device buffers (to_host=False)
    without host copies; they chain into the next call and into jit."""
    from irjax.runtime import artifact

    a = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    exp = irjax.export(irjax.jit(lambda p, q: jnp.tanh(p @ q) * 0.5), targets=[dev.target])(a, a)
    ep = artifact.loads(exp.serialize(), device=dev).default_entry
    x = irjax.device_put(a, dev)
    ep.call_flat([x, x], to_host=False)  # load and warm up
    rtdev.reset_transfer_counts()
    (b,) = ep.call_flat([x, x], to_host=False)
    (c,) = ep.call_flat([b, x], to_host=False)
    assert rtdev.transfers == NO_TRANSFERS, rtdev.transfers
    (got,) = ep.call_flat([c, x])  # numpy out: one read
    assert rtdev.transfers == {"to_device": 0, "to_host": 1, "on_device": 0}, rtdev.transfers
    want = a.astype(np.float64)
    for _ in range(3):
        want = np.tanh(want @ a) * 0.5
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    with pytest.raises(TypeError, match=r"expected f32\[8,8\], got a device buffer f32\[8\]"):
        ep.call_flat([irjax.device_put(np.ones(8, np.float32), dev)._bv, x])


def check_async_dispatch(dev, n: int) -> None:
    """A call returns while its work is still queued on the device; block_until_ready waits."""
    assert dev.asynchronous
    x = irjax.device_put(np.full((n, n), 1.0 / n, np.float32), dev)
    f = irjax.jit(lambda a: jnp.tanh(a @ a) + 0.5)
    f(x).block_until_ready()
    y = x
    for _ in range(8):
        y = f(y)
    pending = dev._sem.query() < dev._tick  # (checked right after the calls return)
    y.block_until_ready()
    assert dev._sem.query() == dev._tick
    assert pending, f"all 8 calls of a {n}x{n} matmul had finished when the last one returned"
    want = np.full((n, n), 1.0 / n)
    for _ in range(8):
        want = np.tanh(want @ want) + 0.5
    np.testing.assert_allclose(np.asarray(y), want, rtol=1e-4)


_FAIL_CODE = """
import irjax, numpy as np
dev = irjax.devices({platform!r})[0]
y = irjax.device_put(np.ones(4, np.float32), dev) + 1.0
y.block_until_ready()
z = y * 3.0
z._bv  # queued
dev._sem.fail("injected device failure")  # what a faulting kernel does to the timeline
try:
    {action}
except RuntimeError as e:
    print("RAISED", e)
"""


def check_error_surfaces(platform: str) -> None:
    """A failure of queued work is raised at the next wait: a read, or the next call. In a child
    process: after a failed queue submission lavapipe reports the Vulkan device lost."""
    for action in ("np.asarray(z)", "irjax.jit(lambda a: a - 1.0)(y)"):
        r = _run(_FAIL_CODE.format(platform=platform, action=action), IRJAX_ASYNC_DISPATCH="1")
        assert r.returncode == 0, r.stderr[-2000:]
        assert "RAISED" in r.stdout and "queued on the device failed" in r.stdout, (action, r.stdout)
        if action.startswith("np.asarray"):  # (at a new module's first call lavapipe reports a lost device)
            assert "injected device failure" in r.stdout, r.stdout


def test_cpu_resident_and_synchronous():
    cpu = irjax.devices("cpu")[0]
    assert not cpu.asynchronous
    check_resident_calls(cpu)
    check_put_and_get_copy_once(cpu)
    check_resident_artifact(cpu)


def test_gpu_targets_compile_async_and_keep_lowering_facts(monkeypatch):
    from irjax.runtime import targets

    monkeypatch.delenv("IRJAX_ASYNC_DISPATCH", raising=False)
    for t in ("cuda", "rocm"):
        assert targets.ASYNC_EXTERNAL in targets.target_flags(t) and targets.is_gpu_target(t)
    assert targets.ASYNC_EXTERNAL not in targets.target_flags("vulkan-spirv")  # (lavapipe: see docs)
    assert targets.ASYNC_EXTERNAL not in targets.target_flags("llvm-cpu")
    monkeypatch.setenv("IRJAX_ASYNC_DISPATCH", "1")
    assert targets.ASYNC_EXTERNAL in targets.target_flags("vulkan-spirv")
    assert targets.ASYNC_EXTERNAL not in targets.target_flags("llvm-cpu")
    monkeypatch.setenv("IRJAX_ASYNC_DISPATCH", "0")
    assert targets.ASYNC_EXTERNAL not in targets.target_flags("cuda")
    assert (
        targets.lowering_options(False)
        == "chunk-scans=true place-stacks=true split-conv-groups=false fft-as-dft=false channels-last-convs=true "
        "split-f64-batched-dots=true"
    )
    assert targets.lowering_options(True) == "chunk-scans=false split-conv-groups=true fft-as-dft=true wide-math=false"
    assert compiler.target_flags is targets.target_flags and rtdev.BACKENDS is targets.BACKENDS


@vulkan
def test_vulkan_resident_calls(vk):
    check_resident_calls(vk)


@vulkan
def test_vulkan_put_and_get_copy_once(vk):
    check_put_and_get_copy_once(vk)


@vulkan
def test_vulkan_resident_artifact(vk):
    check_resident_artifact(vk)


@vulkan
def test_vulkan_async_dispatch(vk):
    """Vulkan is synchronous by default (docs/devices.md); IRJAX_ASYNC_DISPATCH=1 turns the
    asynchronous path on, and residency holds there too (in a child process)."""
    assert not vk.asynchronous
    r = _run(
        f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); import irjax, test_devices as t;"
        "d = irjax.devices('vulkan')[0]; t.check_async_dispatch(d, 192); t.check_resident_calls(d);"
        "t.check_resident_artifact(d); print('OK')",
        IRJAX_ASYNC_DISPATCH="1",
    )
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr[-3000:]


@vulkan
def test_vulkan_error_surfaces_at_the_next_wait(vk):
    check_error_surfaces("vulkan")


@vulkan
def test_vulkan_synchronous_when_asked():
    r = _run(
        "import irjax, numpy as np; d = irjax.devices('vulkan')[0]; x = irjax.device_put(np.ones(3, np.float32), d);"
        "print(d.asynchronous, np.asarray(irjax.jit(lambda a: a * 2)(x)))",
        IRJAX_ASYNC_DISPATCH="0",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "False" and "[2. 2. 2.]" in r.stdout


def test_cpu_task_workers_are_iree_s_default_unless_asked(monkeypatch):
    # IREE's local-task driver keeps its own count (one pinned worker per core) unless
    # $IRJAX_CPU_WORKERS says otherwise
    monkeypatch.delenv("IRJAX_CPU_WORKERS", raising=False)
    assert rtdev.task_workers() == 0
    for value, want in (("0", 0), ("2", 2), (" 5 ", 5)):
        monkeypatch.setenv("IRJAX_CPU_WORKERS", value)
        assert rtdev.task_workers() == want
    monkeypatch.setenv("IRJAX_CPU_WORKERS", "two")
    with pytest.raises(ValueError, match="IRJAX_CPU_WORKERS must be a non-negative integer, got 'two'"):
        rtdev.task_workers()


@pytest.mark.parametrize("workers", ["1", "3"])
def test_matmul_heavy_modules_run_with_any_worker_count(workers):
    # the multi-threaded driver (2048x512 @ 512x256: matmul-heavy) with one worker and with three
    code = (
        "import numpy as np, irjax, irjax.numpy as jnp\n"
        "rng = np.random.default_rng(0)\n"
        "a, b = rng.standard_normal((2048, 512), dtype=np.float32), rng.standard_normal((512, 256), dtype=np.float32)\n"
        "got = np.asarray(irjax.jit(lambda a, b: a @ b)(jnp.asarray(a), jnp.asarray(b)))\n"
        "np.testing.assert_allclose(got, a.astype(np.float64) @ b, rtol=0, atol=1e-3)\n"
        "print('ok')\n"
    )
    env = dict(os.environ, IRJAX_CPU_WORKERS=workers)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]

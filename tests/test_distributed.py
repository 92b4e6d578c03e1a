"""irjax.distributed, the host collective engine and multihost_utils: one-process behaviour and
argument errors here; several processes under mpiexec in the tests marked `mpi`
(pip install -e '.[mpi]'; pytest -p no:xdist -m mpi tests/test_distributed.py)."""

import importlib.util
import os
import signal
import subprocess
import sys

import irjax
import irjax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from conftest import REPO
from irjax import distributed, lax, spmd_processes
from irjax.axis_env import ProcessMesh, process_mesh_frame
from irjax.dialects.registry import lookup
from irjax.experimental import multihost_utils as mh
from irjax.runtime import host_collectives as hc

PROGRAMS = REPO / "tests" / "mpi_programs"


@pytest.fixture
def initialized():
    distributed.initialize()
    try:
        yield
    finally:
        distributed.shutdown()


# ---- one process ------------------------------------------------------------------------------


def test_without_initialize_one_process():
    assert not distributed.is_initialized()
    assert irjax.process_index() == 0 and irjax.process_count() == 1
    assert irjax.devices() == irjax.local_devices()
    assert irjax.device_count() == irjax.local_device_count() == len(irjax.devices())
    assert all(d.process_index == 0 for d in irjax.devices())
    assert isinstance(hc.world(), hc.LocalCollectives)


def test_initialize_alone_then_shutdown():
    before = irjax.devices()
    distributed.initialize()
    try:
        assert distributed.is_initialized()
        assert irjax.process_index() == 0 and irjax.process_count() == 1
        assert irjax.devices() == before and [d.id for d in before] == list(range(len(before)))
        with pytest.raises(RuntimeError, match="should only be called once"):
            distributed.initialize()
    finally:
        distributed.shutdown()
    assert not distributed.is_initialized()
    distributed.shutdown()  # a second shutdown does nothing
    distributed.initialize(num_processes=1, process_id=0, local_device_ids=list(range(len(before))))
    distributed.shutdown()


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"num_processes": 0}, ValueError, "positive integer"),
        ({"process_id": -1}, ValueError, "non-negative"),
        ({"num_processes": 2, "process_id": 2}, ValueError, "less than num_processes"),
        ({"process_id": 1}, ValueError, "not started by an MPI launcher"),
        ({"num_processes": 4}, RuntimeError, "mpiexec -n 4"),
        ({"cluster_detection_method": "slurm"}, ValueError, "mpi4py"),
        ({"local_device_ids": [99]}, ValueError, "local_device_ids"),
    ],
)
def test_initialize_argument_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        distributed.initialize(**kwargs)
    assert not distributed.is_initialized() and irjax.process_count() == 1


def test_mpiexec_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"irjax\[mpi\]"):
        distributed.mpiexec_path()
    with pytest.raises(RuntimeError, match=r"mpiexec -n 2 python script.py`, but no mpiexec"):
        distributed.initialize(num_processes=2)


def _python(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


def test_irjax_imports_and_runs_without_mpi4py():
    # mpi4py blocked: irjax, one-process initialize and multihost_utils work; a process started
    # by a launcher gets an ImportError that says what to install
    block = "import sys; sys.modules['mpi4py'] = None\n"
    ok = _python(
        block + "import irjax, irjax.numpy as jnp\nfrom irjax.experimental import multihost_utils as mh\n"
        "irjax.distributed.initialize()\nprint(float(jnp.ones(3).sum()), mh.process_allgather(jnp.ones(2)).shape)\n"
        "assert 'mpi4py' not in sys.modules or sys.modules['mpi4py'] is None\n"
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split() == ["3.0", "(1,", "2)"]
    launched = _python(block + "import irjax\nirjax.distributed.initialize()\n", env={"PMI_RANK": "0", "PMI_SIZE": "1"})
    assert launched.returncode != 0
    assert "ImportError" in launched.stderr and "pip install 'irjax[mpi]'" in launched.stderr


# the one-process engine: the definitions with a group of one
def test_local_engine():
    w = hc.LocalCollectives()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    for op in hc.REDUCE_OPS:
        got = w.allreduce(x, op)
        assert got.dtype == x.dtype and got is not x
        np.testing.assert_array_equal(got, x)
    assert w.allreduce(np.float32(2), "sum").shape == ()
    np.testing.assert_array_equal(w.allgather(x), x[None])
    np.testing.assert_array_equal(w.broadcast(x), x)
    np.testing.assert_array_equal(w.alltoall(x[None]), x[None])
    np.testing.assert_array_equal(w.permute(x, [(0, 0)]), x)
    np.testing.assert_array_equal(w.permute(x, []), np.zeros_like(x))
    w.send(x, dest=0, tag=3)
    np.testing.assert_array_equal(w.recv((2, 3), np.float32, source=0, tag=3), x)
    w.barrier()
    assert w.allgather_object({"a": 1}) == [{"a": 1}] and w.broadcast_object("s") == "s"


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda w: w.allreduce(np.ones(2), "prod"), ValueError, "sum"),
        (lambda w: w.allreduce(np.ones(2, np.complex64), "max"), TypeError, "complex"),
        (lambda w: w.alltoall(np.ones((2, 3))), ValueError, "leading axis of size 1"),
        (lambda w: w.permute(np.ones(2), [(0, 1)]), ValueError, r"ranks in \[0, 1\)"),
        (lambda w: w.broadcast(np.ones(2), root=1), ValueError, "root"),
        (lambda w: w.recv((2,), np.float32, source=0), RuntimeError, "nothing was sent"),
        (lambda w: w.send(np.ones(2), dest=0, tag=1 << 20), ValueError, "tag"),
    ],
)
def test_local_engine_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call(hc.LocalCollectives())


def test_permute_pairs_checked():
    with pytest.raises(ValueError, match="repeat"):
        hc._check_pairs([(0, 1), (0, 2)], 4)
    with pytest.raises(ValueError, match="repeat"):
        hc._check_pairs([(0, 1), (2, 1)], 4)
    assert hc._check_pairs([(0, 1), (1, 0)], 2) == [(0, 1), (1, 0)]


# multihost_utils in one process, against JAX's own in one process (values and dtypes)
TREES = [
    lambda m: {"a": m.asarray(np.arange(6.0, dtype=np.float32).reshape(2, 3)), "b": [np.arange(3, dtype=np.int32)]},
    lambda m: (m.asarray(np.arange(4, dtype=np.int32)), np.ones((0, 2), np.float32), np.float32(2.5)),
    lambda m: np.array([1.5, 2.5], dtype=ml_dtypes.bfloat16),
]


def _same_leaves(got, want):
    import jax

    g_leaves, w_leaves = irjax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)
    assert len(g_leaves) == len(w_leaves)
    for g, w in zip(g_leaves, w_leaves):
        assert isinstance(g, np.ndarray) and g.dtype == w.dtype and g.shape == w.shape, (g, w)
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("tiled", [False, True])
@pytest.mark.parametrize("make", TREES)
def test_process_allgather_matches_jax(make, tiled):
    import jax.numpy as jjnp
    from jax.experimental import multihost_utils as jmh

    mine, theirs = make(jnp), make(jjnp)
    if tiled:  # JAX's one-process shortcut returns a tiled scalar unstacked; its several-process path stacks it
        mine = irjax.tree_util.tree_map(lambda a: a if np.ndim(a) else np.reshape(a, (1,)), mine)
        theirs = irjax.tree_util.tree_map(lambda a: a if np.ndim(a) else np.reshape(a, (1,)), theirs)
    _same_leaves(mh.process_allgather(mine, tiled=tiled), jmh.process_allgather(theirs, tiled=tiled))


@pytest.mark.parametrize("make", TREES)
def test_broadcast_one_to_all_matches_jax(make):
    import jax.numpy as jjnp
    from jax.experimental import multihost_utils as jmh

    _same_leaves(mh.broadcast_one_to_all(make(jnp)), jmh.broadcast_one_to_all(make(jjnp)))


def test_python_scalars_take_canonical_dtypes():
    # as JAX's several-process path (device_put canonicalizes); its one-process shortcut keeps float64
    g = mh.process_allgather({"f": 2.5, "i": 3, "s": np.float32(1)}, tiled=True)
    assert (g["f"].dtype, g["i"].dtype, g["s"].dtype) == (np.float32, np.int32, np.float32)
    assert g["f"].shape == g["i"].shape == g["s"].shape == (1,)  # scalars stack, tiled or not
    assert mh.broadcast_one_to_all(2.5).dtype == np.float32


def test_multihost_utils_one_process_rules(initialized):
    with pytest.raises(ValueError, match="exactly one process"):
        mh.broadcast_one_to_all(np.ones(2), is_source=False)
    mh.sync_global_devices("one process")
    mh.assert_equal({"x": np.arange(3)})
    np.testing.assert_array_equal(mh.process_allgather(np.float32(2), tiled=True), [2.0])  # scalars stack


# ---- several processes (mpiexec) ------------------------------------------------------------------


def run_mpi(n: int, program: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """`mpiexec -n n python tests/mpi_programs/<program> args...`; a hang fails the test (the whole
    process group is killed), it does not stall the suite."""
    cmd = [distributed.mpiexec_path(), "-n", str(n), sys.executable, str(PROGRAMS / program), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} did not finish in {timeout} s (a process hung)\n{out}\n{err}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _need_mpi():
    """-m mpi runs these; without the mpi extra they fail and say what to install (never skip)."""
    if importlib.util.find_spec("mpi4py") is None:
        pytest.fail("the mpi tests need mpi4py and an MPI: pip install -e '.[mpi]'")
    distributed.mpiexec_path()


@pytest.mark.mpi
@pytest.mark.parametrize("n", [2, 3])
def test_collectives_and_multihost_utils_under_mpiexec(n):
    _need_mpi()
    r = run_mpi(n, "checks.py", str(n))
    assert r.returncode == 0, r.stdout + r.stderr
    # (the processes share one stdout pipe: their lines may interleave, so count, don't split)
    assert r.stdout.count("all checks passed") == n, r.stdout
    assert all(r.stdout.count(f"rank {p} of {n}: all checks passed") == 1 for p in range(n)), r.stdout


@pytest.mark.mpi
def test_under_mpiexec_without_initialize():
    _need_mpi()
    r = run_mpi(2, "no_initialize.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("no-initialize checks passed") == 2


@pytest.mark.mpi
@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_dying_process_ends_the_job(how):
    _need_mpi()
    r = run_mpi(3, "rank_dies.py", how, timeout=120)
    assert r.returncode != 0
    if how == "raise":
        assert "deliberate failure in the last process" in r.stderr and "MPI_Abort" in r.stderr
    assert "unreachable" not in r.stdout


def _train(tmp_path, n: int | None) -> dict:
    out = tmp_path / f"n{n or 1}"
    out.mkdir()
    if n is None:
        r = subprocess.run(
            [sys.executable, str(PROGRAMS / "train_mlp.py"), str(out)], capture_output=True, text=True, timeout=240
        )
    else:
        r = run_mpi(n, "train_mlp.py", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    results = {}
    for mode in ("allgather", "allreduce"):
        for rank in range(n or 1):
            with np.load(out / f"params_{mode}_{rank}.npz") as f:
                results[mode, rank] = {k: f[k] for k in f.files}
    return results


def _train_module():
    spec = importlib.util.spec_from_file_location("train_mlp", PROGRAMS / "train_mlp.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    return train


def _jax_reference(steps: int = 5) -> dict:
    """The same training on the full batch with JAX (the oracle)."""
    import jax
    import jax.numpy as jjnp

    train = _train_module()
    x, y, params = train.make_problem()
    grad_fn = jax.jit(jax.value_and_grad(lambda p, a, b: train.loss(p, a, b, jjnp)))
    losses = []
    for _ in range(steps):
        value, grads = grad_fn(params, x, y)
        losses.append(float(value))
        params = jax.tree_util.tree_map(lambda p, g: p - train.LR * g, params, grads)
    return {"losses": np.array(losses), **{k: np.asarray(v) for k, v in params.items()}}


@pytest.mark.mpi
@pytest.mark.parametrize("n", [2, 4])
def test_data_parallel_mlp_under_mpiexec(tmp_path, n):
    _need_mpi()
    one = _train(tmp_path, None)
    ref = _jax_reference()
    for mode in ("allgather", "allreduce"):
        for k in ref:
            np.testing.assert_allclose(one[mode, 0][k], ref[k], rtol=2e-5, atol=1e-6, err_msg=f"1 process vs JAX: {k}")
    many = _train(tmp_path, n)
    for mode in ("allgather", "allreduce"):
        for rank in range(1, n):  # every process ends with the same bits
            for k, v in many[mode, 0].items():
                assert np.array_equal(v, many[mode, rank][k]), (mode, rank, k)
                assert v.dtype == (np.float64 if k == "losses" else np.float32)
        for k, v in many[mode, 0].items():  # and with the one-process full-batch training
            np.testing.assert_allclose(v, one[mode, 0][k], rtol=2e-5, atol=1e-6, err_msg=f"{n} vs 1 process: {k}")
        start = _train_module().make_problem()[2]["w1"]
        assert np.abs(many[mode, 0]["w1"] - start).max() > 1e-3, "training did not move the parameters"


def _shard_map_run(tmp_path, n: int | None) -> dict:
    out = tmp_path / f"smap{n or 1}"
    out.mkdir()
    if n is None:
        cmd = [sys.executable, str(PROGRAMS / "shard_map_processes.py"), str(out)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    else:
        r = run_mpi(n, "shard_map_processes.py", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("shard_map over processes ok") == (n or 1), r.stdout
    params = {}
    for f in sorted(out.glob("params_*.npz")):
        with np.load(f) as z:
            params[int(f.stem.split("_")[1])] = {k: z[k] for k in z.files}
    return params


@pytest.mark.mpi
@pytest.mark.parametrize("n", [2, 3])
def test_shard_map_over_processes(tmp_path, n):
    """shard_map over a mesh of one device per process: psum/pmean/pmax/pmin, all_gather,
    ppermute, psum_scatter, all_to_all and axis_index over the process axis against their
    definitions (tests/mpi_programs/shard_map_processes.py), global arrays over processes; at
    n=2 a data-parallel MLP step through shard_map (batch split, pmean'd gradients): parameters
    bit-for-bit equal across ranks, equal to one process within float tolerance, and the one
    process equal to JAX's full-batch training."""
    _need_mpi()
    many = _shard_map_run(tmp_path, n)
    if n == 3:  # the batch of 32 does not split over 3: collectives only
        assert many == {}
        return
    one = _shard_map_run(tmp_path, None)[0]
    ref = _jax_reference()
    for k in ref:
        np.testing.assert_allclose(one[k], ref[k], rtol=2e-5, atol=1e-6, err_msg=f"1 process vs JAX: {k}")
    assert sorted(many) == list(range(n))
    for rank in range(1, n):
        for k, v in many[0].items():
            assert np.array_equal(v, many[rank][k]), (rank, k)
    for k, v in many[0].items():
        np.testing.assert_allclose(v, one[k], rtol=2e-5, atol=1e-6, err_msg=f"{n} vs 1 process: {k}")
    assert np.abs(many[0]["w1"] - _train_module().make_problem()[2]["w1"]).max() > 1e-3


def test_process_mesh_member_order():
    """JAX's member order along named axes (row-major over the names as given) mapped to the ranks
    that hold them; the cross-process collectives send and gather in this order."""
    ranks = np.array([[5, 4, 3], [2, 1, 0]])  # a 2x3 mesh whose devices belong to ranks 5..0
    pm = ProcessMesh(("a", "b"), ranks, coords=(1, 2))  # this process: rank 0 at a=1, b=2
    assert pm.sizes == {"a": 2, "b": 3}
    assert list(pm.member_ranks(("a", "b"))) == [5, 4, 3, 2, 1, 0]
    assert list(pm.member_ranks(("b", "a"))) == [5, 2, 4, 1, 3, 0]
    assert list(pm.member_ranks(("b",))) == [2, 1, 0]  # along b at a=1
    assert list(pm.member_ranks(("a",))) == [3, 0]  # along a at b=2


def test_process_axis_collectives_in_jit_are_host_calls():
    """A collective over a process mesh's axis inside jit is the jx record over `p@<mesh>` and
    lowers to a host call that the engine serves (here the one-process engine: one member);
    grad goes through the records' rules. The MPI versions: tests/test_mpi_traced.py."""
    assert spmd_processes  # (imported: it installs the host lowering)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    with process_mesh_frame(ProcessMesh(("p",), np.array([0]), (0,))):
        f = irjax.jit(lambda v: (lax.psum(v, "p"), lax.all_gather(v, "p"), lax.axis_index("p")))
        text = f.lower(x).as_text("stablehlo")
        assert "irjax_host.cb" in text and "stablehlo.all_reduce" not in text
        s, g, i = f(x)
        np.testing.assert_array_equal(np.asarray(s), x)
        np.testing.assert_array_equal(np.asarray(g), x[None])
        assert int(i) == 0 and i.dtype == np.int32
        dx = irjax.jit(irjax.grad(lambda v: (lax.psum(v, "p") ** 2).sum()))(x)
        np.testing.assert_allclose(np.asarray(dx), 2 * x)
        jx_text = irjax.jit(lambda v: lax.pmean(v, "p")).lower(x).as_text()
        assert '"jx.psum"' in jx_text and '"p@' in jx_text
        # the records' impl (the reference interpreter) calls the same host functions
        names = ("p@" + jx_text.split('"p@')[1].split('"')[0],)  # the traced axis name
        assert int(lookup("jx.axis_index").impl(axis_name=names)) == 0
        np.testing.assert_array_equal(lookup("jx.pmax").impl(x, axis_name=names), x)
    with pytest.raises(NameError, match="unbound axis name: q"):
        lookup("jx.psum").impl(x, axis_name=("q",))


def test_traced_shard_map_over_members_against_in_process(monkeypatch):
    """jit, grad and vmap of the shard_map path for meshes over processes (spmd_processes._run_traced:
    this process's members batched, collectives through host calls, arguments sliced and outputs
    assembled with their transposes), run here as one process holding all 4 members of a (2, 2)
    mesh on the one-process engine, against the in-process shard_map (a vmap per mesh axis) on the
    same mesh; under mpiexec the same code spans processes (tests/test_mpi_traced.py)."""
    from conftest import num_cpu_devices
    from irjax import spmd
    from irjax.sharding import PartitionSpec as P

    x = (np.arange(32, dtype=np.float32).reshape(8, 4) / 7 - 2).astype(np.float32)
    w = np.linspace(-1, 1, 4, dtype=np.float32)

    def body(b, v):  # every collective kind, mapped and unmapped inputs and outputs
        s = lax.psum(jnp.sin(b) * v, "a")  # (4, 2), replicated over 'a'
        g = lax.all_gather(b, "b", axis=1, tiled=True)  # (4, 4), replicated over 'b'
        r = lax.ppermute(b, "a", [(0, 1), (1, 0)]) + lax.axis_index(("a", "b")).astype(jnp.float32)
        return s, g * lax.pmean(v.sum(), ("a", "b")), r, lax.psum(b.sum(), ("a", "b"))  # (a 0-d output too)

    outs = (P(None, "b"), P("a"), P("a", "b"), P())
    specs = dict(in_specs=(P("a", "b"), P("b")), out_specs=outs, check_vma=False)

    def loss(sm):
        return lambda a, v: sum((o**2).sum() for o in sm(a, v))

    with num_cpu_devices(4):
        mesh = irjax.make_mesh((2, 2), ("a", "b"))
        sm = irjax.shard_map(body, mesh=mesh, **specs)
        want = irjax.jit(sm)(x, w), irjax.grad(loss(sm), argnums=(0, 1))(x, w), irjax.vmap(sm, (0, None))(x[None], w)
        monkeypatch.setattr(spmd, "is_local", lambda d: False)  # the path for meshes over processes
        sm = irjax.shard_map(body, mesh=mesh, **specs)
        text = irjax.jit(sm).lower(x, w).as_text("stablehlo")
        assert "irjax_host.cb" in text and "stablehlo.all_reduce" not in text
        got = irjax.jit(sm)(x, w), irjax.grad(loss(sm), argnums=(0, 1))(x, w), irjax.vmap(sm, (0, None))(x[None], w)
    for g, v in zip(irjax.tree_util.tree_leaves(got), irjax.tree_util.tree_leaves(want)):
        assert g.shape == v.shape and g.dtype == v.dtype
        np.testing.assert_allclose(np.asarray(g), np.asarray(v), rtol=1e-6, atol=1e-6)

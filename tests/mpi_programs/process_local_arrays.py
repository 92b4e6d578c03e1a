"""Process-local data <-> global arrays under mpiexec -n N, with L = IRJAX_NUM_CPU_DEVICES devices
per process: host_local_array_to_global_array, global_array_to_host_local_array,
make_array_from_process_local_data, make_array_from_callback, make_array_from_single_device_arrays,
each against its definition (every process's local data is a known function of its rank, so
every process knows the global value); with L = 1 a global array made so goes into a shard_map
over the processes.

usage: IRJAX_NUM_CPU_DEVICES=L mpiexec -n N python process_local_arrays.py"""

import irjax
import numpy as np
from irjax import lax
from irjax.experimental import multihost_utils as mh
from irjax.sharding import Mesh, NamedSharding
from irjax.sharding import PartitionSpec as P

irjax.distributed.initialize()
n, r, L = irjax.process_count(), irjax.process_index(), irjax.local_device_count()
devs = irjax.devices()
assert len(devs) == n * L


def local(p, shape, scale=1):
    """Process p's local data: its rank in the hundreds, so the blocks are told apart."""
    return (np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 100 * p) * scale


def check_shards(g, want_global):
    """Every addressable shard is want_global at its index, and the global value is want_global."""
    assert g.shape == want_global.shape and g.dtype == want_global.dtype, (g.shape, g.dtype)
    assert not g.is_fully_addressable
    assert len(g.addressable_shards) == sum(1 for d in g.sharding.mesh.devices.flat if d.process_index == r)
    for s in g.addressable_shards:
        assert s.device.process_index == r
        np.testing.assert_array_equal(np.asarray(s.data), want_global[s.index])
    np.testing.assert_array_equal(mh.process_allgather(g), want_global)


# a 1-d mesh over every device, process-major (as make_mesh over devices() builds it)
mesh1 = irjax.make_mesh((n * L,), ("x",))
x = local(r, (2 * L, 3))
g = mh.host_local_array_to_global_array(x, mesh1, P("x"))
want = np.concatenate([local(p, (2 * L, 3)) for p in range(n)])  # the processes' rows, in order
check_shards(g, want)
assert g.sharding == NamedSharding(mesh1, P("x"))
back = mh.global_array_to_host_local_array(g, mesh1, P("x"))
assert back.is_fully_addressable and back.sharding.mesh == mesh1.local_mesh
assert list(back.sharding.mesh.devices.flat) == irjax.local_devices()
np.testing.assert_array_equal(np.asarray(back), x)
assert back.addressable_shards[0].data is g.addressable_shards[0].data  # no copy

# a (process, device) mesh: split over processes only (each process's data replicated on its devices),
# over both axes, and over the device axis in one dimension and the process axis in another
mesh2 = Mesh(np.array(devs, dtype=object).reshape(n, L), ("host", "dev"))
assert mesh2.local_mesh.devices.shape == (1, L)
v = local(r, (4,))
check_shards(
    mh.host_local_array_to_global_array(v, mesh2, P("host")), np.concatenate([local(p, (4,)) for p in range(n)])
)
m = local(r, (2 * L, 2))
both = mh.host_local_array_to_global_array(m, mesh2, P(("host", "dev")))
check_shards(both, np.concatenate([local(p, (2 * L, 2)) for p in range(n)]))
cross = mh.host_local_array_to_global_array(m, mesh2, P("dev", "host"))
check_shards(cross, np.concatenate([local(p, (2 * L, 2)) for p in range(n)], axis=1))
tree = mh.global_array_to_host_local_array(
    {"both": both, "cross": cross}, mesh2, {"both": P(("host", "dev")), "cross": P("dev", "host")}
)
np.testing.assert_array_equal(np.asarray(tree["both"]), m)
np.testing.assert_array_equal(np.asarray(tree["cross"]), m)
rep = mh.host_local_array_to_global_array(local(0, (3,)), mesh2, P())  # replicated: the same everywhere
assert rep.shape == (3,) and rep.is_fully_replicated
np.testing.assert_array_equal(np.asarray(rep), local(0, (3,)))
try:  # pspecs None is refused, as JAX
    mh.host_local_array_to_global_array(v, mesh2, None)
except ValueError as e:
    assert "PartitionSpec()" in str(e)
else:
    raise AssertionError("pspecs=None did not raise")

# make_array_from_process_local_data: inferred global shape, an explicit one with a full dimension,
# a mesh whose processes' devices interleave (not a sub-cube), and the errors
s1 = NamedSharding(mesh1, P("x"))
check_shards(irjax.make_array_from_process_local_data(s1, x), want)
full = irjax.make_array_from_process_local_data(s1, want, want.shape)  # every process passes the whole value
check_shards(full, want)
check_shards(
    irjax.make_array_from_process_local_data(NamedSharding(mesh2, P(None, "host")), m),
    np.concatenate([local(p, (2 * L, 2)) for p in range(n)], axis=1),
)
inter = Mesh(np.array([devs[p * L + k] for k in range(L) for p in range(n)], dtype=object), ("x",))
gi = irjax.make_array_from_process_local_data(NamedSharding(inter, P("x")), x)
# mesh position j = k*n + p holds process p's k-th block of rows
want_i = np.concatenate([local(p, (2 * L, 3))[2 * k : 2 * k + 2] for k in range(L) for p in range(n)])
check_shards(gi, want_i)
if L > 1:
    try:
        mh.host_local_array_to_global_array(x, inter, P("x"))
    except ValueError as e:
        assert "contiguous subcube" in str(e), e
    else:
        raise AssertionError("a mesh whose processes' devices interleave did not raise")
try:
    irjax.make_array_from_process_local_data(s1, x, (want.shape[0] + 2 * n * L, 3))
except ValueError as e:
    assert "Invalid host data" in str(e), e
else:
    raise AssertionError("local data of the wrong size did not raise")

# make_array_from_callback and make_array_from_single_device_arrays over processes
cb = irjax.make_array_from_callback(want.shape, s1, lambda idx: want[idx])
check_shards(cb, want)
arrays = [irjax.device_put(want[i], d) for d, i in s1.devices_indices_map(want.shape).items() if d.process_index == r]
check_shards(irjax.make_array_from_single_device_arrays(want.shape, s1, arrays), want)

# with one device per process, a global array made from local data goes into a shard_map over the processes
if L == 1:
    body = irjax.shard_map(lambda b: lax.psum(b, "x"), mesh=mesh1, in_specs=P("x"), out_specs=P())
    np.testing.assert_allclose(np.asarray(body(g)), want.reshape(n, 2, 3).sum(0), rtol=1e-6)

mh.sync_global_devices("done")
print(f"rank {r} of {n} with {L} devices: process-local arrays ok", flush=True)

"""Run under mpiexec -n N: every host collective and multihost_utils helper against its definition
(each rank's contribution is a known function of its rank), the device numbering, and the
argument checks of initialize. Any failure raises, which aborts the whole job (nonzero exit)."""

import sys

import irjax
import numpy as np
from irjax.experimental import multihost_utils as mh
from irjax.runtime import host_collectives as hc

if len(sys.argv) > 1:
    n_expected = int(sys.argv[1])
    for bad in ({"num_processes": n_expected + 1}, {"process_id": n_expected + 5}):
        try:
            irjax.distributed.initialize(**bad)
        except ValueError as e:
            assert "MPI" in str(e), e
        else:
            raise AssertionError(f"initialize({bad}) did not raise")
    assert not irjax.distributed.is_initialized()

irjax.distributed.initialize()
try:
    irjax.distributed.initialize()
except RuntimeError as e:
    assert "only be called once" in str(e)
else:
    raise AssertionError("a second initialize() did not raise")

r, n = irjax.process_index(), irjax.process_count()
w = hc.world()
assert (w.rank, w.size) == (r, n) and n > 1, (w, r, n)

# devices: process p's local device k has global id p * L + k
L = irjax.local_device_count()
devs = irjax.devices()
assert irjax.device_count() == n * L == len(devs)
assert [d.id for d in devs] == list(range(n * L))
assert [d.process_index for d in devs] == [p for p in range(n) for _ in range(L)]
assert irjax.local_devices() == [d for d in devs if d.process_index == r]
assert [d.id for d in irjax.local_devices(process_index=(r + 1) % n)] == [((r + 1) % n) * L + k for k in range(L)]
x = irjax.numpy.arange(4.0) * 2  # computes on this process's device
assert x.devices() == {irjax.local_devices()[0]}
np.testing.assert_array_equal(np.asarray(x), [0, 2, 4, 6])
other = next(d for d in devs if d.process_index != r)
try:
    irjax.device_put(np.ones(2), other)
except RuntimeError as e:
    assert "belongs to process" in str(e), e
else:
    raise AssertionError("device_put to another process's device did not raise")


def mine(p, shape=(3, 2), dtype=np.float32):
    return (np.arange(np.prod(shape)).reshape(shape) + 10 * p).astype(dtype)


# engine: allreduce (MPI's path and the gather-and-reduce path), allgather, broadcast, alltoall, permute
for dt in (np.float32, np.float64, np.int32, np.int64, np.uint8, np.float16, "bfloat16", np.complex64):
    dt = np.dtype(dt) if dt != "bfloat16" else np.dtype(__import__("ml_dtypes").bfloat16)
    rows = [mine(p, dtype=dt) for p in range(n)]
    got = w.allreduce(rows[r], "sum")
    assert got.dtype == dt and got.shape == rows[r].shape
    want = rows[0].copy()
    for row in rows[1:]:
        want = want + row
    np.testing.assert_array_equal(got, want)
    if dt.kind != "c":
        np.testing.assert_array_equal(w.allreduce(rows[r], "max"), np.max(np.stack(rows), 0))
        np.testing.assert_array_equal(w.allreduce(rows[r], "min"), np.min(np.stack(rows), 0))
    g = w.allgather(rows[r])
    assert g.dtype == dt and g.shape == (n, 3, 2)
    np.testing.assert_array_equal(g, np.stack(rows))
np.testing.assert_array_equal(w.allreduce(np.array(r > 0), "max"), np.array(True))  # bool: or
zero_d = w.allreduce(np.float32(r), "sum")
assert zero_d.shape == () and zero_d.dtype == np.float32 and zero_d == sum(range(n)), zero_d
assert w.allgather(np.float32(r)).shape == (n,) and w.broadcast(np.float32(r)).shape == ()
for root in range(n):
    np.testing.assert_array_equal(w.broadcast(mine(r), root=root), mine(root))
# alltoall: row j of rank i's input is (i, j); rank r gets row r of every rank
a2a_in = np.array([[r, j] for j in range(n)], np.int32)
np.testing.assert_array_equal(w.alltoall(a2a_in), np.array([[i, r] for i in range(n)], np.int32))
# permute: a ring shift, and a partial permutation (ranks nobody sends to get zeros)
ring = [(p, (p + 1) % n) for p in range(n)]
np.testing.assert_array_equal(w.permute(mine(r), ring), mine((r - 1) % n))
partial = [(0, n - 1)]
np.testing.assert_array_equal(w.permute(mine(r), partial), mine(0) if r == n - 1 else np.zeros((3, 2), np.float32))
# point to point: 0 sends to n-1
if r == 0:
    w.send(mine(0, (5,), np.int64), dest=n - 1, tag=7)
if r == n - 1:
    np.testing.assert_array_equal(w.recv((5,), np.int64, source=0, tag=7), mine(0, (5,), np.int64))
w.barrier()
assert w.allgather_object({"r": r}) == [{"r": p} for p in range(n)]
assert w.broadcast_object(("x", r), root=n - 1) == ("x", n - 1)

# multihost_utils
tree = {"a": irjax.numpy.asarray(mine(r)), "b": [np.int32(r), 2.5 * r], "c": np.zeros((0, 3), np.float32)}
g = mh.process_allgather(tree)
np.testing.assert_array_equal(g["a"], np.stack([mine(p) for p in range(n)]))
assert g["a"].dtype == np.float32 and isinstance(g["a"], np.ndarray)
np.testing.assert_array_equal(g["b"][0], np.arange(n, dtype=np.int32))
assert g["b"][1].dtype == np.float32 and g["b"][1].shape == (n,)
np.testing.assert_array_equal(g["b"][1], 2.5 * np.arange(n))
assert g["c"].shape == (n, 0, 3)
t = mh.process_allgather(tree, tiled=True)
np.testing.assert_array_equal(t["a"], np.concatenate([mine(p) for p in range(n)]))
assert t["b"][0].shape == (n,) and t["c"].shape == (0, 3)
b = mh.broadcast_one_to_all({"w": mine(r), "s": np.float32(r)})
assert isinstance(b["w"], np.ndarray) and b["w"].dtype == np.float32 and b["s"].shape == ()
np.testing.assert_array_equal(np.asarray(b["w"]), mine(0))
b = mh.broadcast_one_to_all(mine(r), is_source=(r == n - 1))
np.testing.assert_array_equal(np.asarray(b), mine(n - 1))
for bad_source in (True, False):
    try:
        mh.broadcast_one_to_all(mine(r), is_source=bad_source)
    except ValueError as e:
        assert "exactly one process" in str(e)
    else:
        raise AssertionError("broadcast_one_to_all with no or several sources did not raise")
try:  # shapes that differ between processes: a clear error on every process, no hang
    mh.process_allgather(np.zeros(r + 1))
except ValueError as e:
    assert "same tree of shapes" in str(e)
else:
    raise AssertionError("process_allgather of different shapes did not raise")
mh.sync_global_devices("step 1")
try:
    mh.sync_global_devices(f"rank {r}")
except AssertionError as e:
    assert "name mismatch" in str(e)
else:
    raise AssertionError("sync_global_devices with different names did not raise")
mh.assert_equal({"x": np.arange(3)})
try:
    mh.assert_equal(np.float32(r), "values differ")
except AssertionError as e:
    assert "values differ" in str(e)
else:
    raise AssertionError("assert_equal of different values did not raise")

irjax.distributed.shutdown()
assert not irjax.distributed.is_initialized() and irjax.process_count() == 1
assert [d.id for d in irjax.devices()] == list(range(L))
try:  # computations have run: the devices cannot take global ids again
    irjax.distributed.initialize()
except RuntimeError as e:
    assert "before any irjax computations" in str(e), e
else:
    raise AssertionError("initialize() after shutdown and computations did not raise")
assert not irjax.distributed.is_initialized() and irjax.process_count() == 1
print(f"rank {r} of {n}: all checks passed", flush=True)

"""The member-thread collectives of a shard_map with several devices per process
(process_collectives.MemberGroup / MemberMesh), run in one process on the one-process engine: four
members of a (2, 2) mesh in four threads, every collective over 'a', 'b' and both against its
definition. Under mpiexec the same code spans processes (tests/test_mpi_arrays.py)."""

import threading

import numpy as np
import pytest
from irjax import process_collectives as pc

SHAPE, NAMES = (2, 2), ("a", "b")


def run_members(body):
    """body(pm, k) in one thread per member of the (2, 2) mesh; the results in flat mesh order."""
    group = pc.MemberGroup(np.zeros(4, int), np.arange(4), 4)
    out, errors = [None] * 4, []

    def member(k):
        try:
            coords = tuple(int(c) for c in np.unravel_index(k, SHAPE))
            out[k] = body(pc.MemberMesh(NAMES, SHAPE, coords, group, k), k)
        except BaseException as e:
            errors.append(e)
            group.barrier.abort()

    threads = [threading.Thread(target=member, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0])
    return out


def block(k):
    return (np.arange(6, dtype=np.float32).reshape(3, 2) + 10 * k) * (1 if k % 2 else -1)


B = np.stack([block(k) for k in range(4)]).reshape(2, 2, 3, 2)  # B[i, j]: member (i, j)'s value


@pytest.mark.parametrize("op", ["sum", "max", "min"])
def test_reductions_over_each_group(op):
    red = {"sum": np.sum, "max": np.max, "min": np.min}[op]
    for names, axes in [(("a",), (0,)), (("b",), (1,)), (("a", "b"), (0, 1))]:
        got = run_members(lambda pm, k, names=names: pc.reduce(op, [block(k), np.int32(k)], pm, names))
        want = red(B, axis=axes, keepdims=True)
        want_i = red(np.arange(4, dtype=np.int32).reshape(2, 2), axis=axes, keepdims=True)
        for k in range(4):
            i, j = np.unravel_index(k, SHAPE)
            wi, wj = (0 if 0 in axes else i), (0 if 1 in axes else j)
            np.testing.assert_allclose(np.asarray(got[k][0]), want[wi, wj], rtol=1e-6)
            assert got[k][0].dtype == np.float32 and got[k][1].dtype == np.int32
            assert int(np.asarray(got[k][1])) == want_i[wi, wj]


def test_gather_permute_scatter_all_to_all():
    def body(pm, k):
        i, j = np.unravel_index(k, SHAPE)
        x = block(k)
        y = np.arange(4, dtype=np.float32).reshape(2, 2) + 10 * k  # split over 'b' (2 members)
        return (
            pc.all_gather(x, pm, "a", 0, False),
            pc.all_gather(x, pm, "b", 1, True),
            pc.ppermute(x, pm, "b", ((0, 1),)),
            pc.psum_scatter(y, pm, "b", 0, True),
            pc.all_to_all(y, pm, "a", 0, 0, True),
            int(np.asarray(pc.axis_index(pm, ("a", "b")))),
            (i, j),
        )

    got = run_members(body)
    ys = np.stack([np.arange(4, dtype=np.float32).reshape(2, 2) + 10 * k for k in range(4)]).reshape(2, 2, 2, 2)
    for k in range(4):
        ag_a, ag_b, perm, ps, a2a, idx, (i, j) = got[k]
        np.testing.assert_array_equal(np.asarray(ag_a), B[:, j])
        np.testing.assert_array_equal(np.asarray(ag_b), np.concatenate([B[i, 0], B[i, 1]], axis=1))
        np.testing.assert_array_equal(np.asarray(perm), B[i, 0] if j == 1 else np.zeros((3, 2), np.float32))
        np.testing.assert_array_equal(np.asarray(ps), (ys[i, 0] + ys[i, 1])[j : j + 1])
        np.testing.assert_array_equal(np.asarray(a2a), np.concatenate([ys[0, j][i : i + 1], ys[1, j][i : i + 1]]))
        assert idx == k


def test_a_failing_member_releases_the_others():
    def body(pm, k):
        if k == 2:
            raise ArithmeticError("member 2 gives up")
        return pc.reduce("sum", [block(k)], pm, ("a", "b"))

    with pytest.raises(ArithmeticError, match="member 2 gives up"):
        run_members(body)

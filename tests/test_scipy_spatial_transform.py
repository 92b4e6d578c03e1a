"""irjax.scipy.spatial.transform (Rotation, Slerp) against jax.scipy.spatial.transform: values,
dtypes, batches, jit, vmap and gradients."""

import irjax
import irjax.scipy.spatial.transform as it
import jax
import jax.scipy.spatial.transform as jt
import numpy as np
import pytest

# many compiles (or worker processes): run in the -m slow set (CI runs it too)
pytestmark = pytest.mark.slow

rng = np.random.default_rng(0)
Q = rng.standard_normal((5, 4)).astype(np.float32)
Q1 = Q[0]
V = rng.standard_normal((5, 3)).astype(np.float32)
SEQS = ["xyz", "ZYX", "zxz", "XYX", "yzx", "ZXY"]


def close(a, b, tol=2e-5):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


CONVERSIONS = {
    "quat": lambda R, S: R.from_quat(Q).as_quat(),
    "canonical": lambda R, S: R.from_quat(Q).as_quat(canonical=True, scalar_first=True),
    "matrix": lambda R, S: R.from_quat(Q).as_matrix(),
    "from_matrix": lambda R, S: R.from_matrix(R.from_quat(Q).as_matrix()).as_quat(canonical=True),
    "rotvec": lambda R, S: R.from_quat(Q).as_rotvec(),
    "rotvec_deg": lambda R, S: R.from_quat(Q1).as_rotvec(degrees=True),
    "from_rotvec": lambda R, S: R.from_rotvec(V).as_quat(),
    "from_rotvec_small": lambda R, S: R.from_rotvec(V * 1e-4, degrees=True).as_quat(),
    "mrp": lambda R, S: R.from_quat(Q).as_mrp(),
    "from_mrp": lambda R, S: R.from_mrp(V).as_quat(),
    "apply": lambda R, S: R.from_quat(Q).apply(V),
    "apply_inv_single": lambda R, S: R.from_quat(Q1).apply(V, inverse=True),
    "compose": lambda R, S: (R.from_quat(Q) * R.from_quat(Q1)).as_quat(),
    "inv": lambda R, S: R.from_quat(Q).inv().as_quat(),
    "magnitude": lambda R, S: R.from_quat(Q).magnitude(),
    "getitem": lambda R, S: R.from_quat(Q)[1:3].as_quat(),
    "identity": lambda R, S: R.identity().as_matrix(),
    "concat": lambda R, S: R.concatenate([R.from_quat(Q), R.from_quat(Q[:2])]).as_quat(),
    "slerp": lambda R, S: S.init(np.array([0.0, 1, 3, 4, 6], np.float32), R.from_quat(Q))(
        np.array([0.0, 0.5, 2.0, 3.9, 6.0], np.float32)
    ).as_quat(),
    "slerp_scalar": lambda R, S: S.init(np.array([0.0, 1], np.float32), R.from_quat(Q[:2]))(0.25).as_quat(),
    **{f"euler_{s}": (lambda s: lambda R, S: R.from_quat(Q).as_euler(s))(s) for s in SEQS},
    **{f"from_euler_{s}": (lambda s: lambda R, S: R.from_euler(s, V).as_quat())(s) for s in SEQS},
    "from_euler_deg": lambda R, S: R.from_euler("xy", np.array([10.0, 20.0], np.float32), degrees=True).as_quat(),
    "euler_deg": lambda R, S: R.from_quat(Q1).as_euler("zyx", degrees=True),
    "euler_gimbal": lambda R, S: R.from_euler("xyz", np.array([0.3, np.pi / 2, 0.2], np.float32)).as_euler("xyz"),
}


def _all(R, S, q, q1, v):
    global Q, Q1, V  # the table reads them: under jit they are the traced arguments
    saved = Q, Q1, V
    Q, Q1, V = q, q1, v
    try:
        return {name: f(R, S) for name, f in CONVERSIONS.items()}
    finally:
        Q, Q1, V = saved


@pytest.mark.slow  # one program of ~60 conversions: 1-2 min of IREE compile on 2 busy cores
def test_conversions_match_jax():
    # one jitted program for the whole table (one compile instead of one per eager graph)
    got = irjax.jit(lambda q, q1, v: _all(it.Rotation, it.Slerp, q, q1, v))(Q, Q1, V)
    want = _all(jt.Rotation, jt.Slerp, Q, Q1, V)
    for name in CONVERSIONS:
        close(got[name], want[name], 2e-4 if "gimbal" in name else 2e-5)


def test_mean_matches_jax_up_to_sign():
    w = np.arange(1.0, 6.0, dtype=np.float32)
    got = irjax.jit(lambda q: it.Rotation.from_quat(q).mean(w).as_quat(canonical=True))(Q)
    close(got, jt.Rotation.from_quat(Q).mean(w).as_quat(canonical=True))


@pytest.mark.slow  # ~35 s of compiles on 2 busy cores
def test_roundtrips_jit_vmap_grad():
    to_mat = irjax.jit(lambda q: it.Rotation.from_quat(q).as_matrix())
    close(to_mat(Q), jt.Rotation.from_quat(Q).as_matrix())
    per_row = irjax.jit(irjax.vmap(lambda q, v: it.Rotation.from_quat(q).apply(v)))(Q, V)
    close(per_row, np.stack([np.asarray(jt.Rotation.from_quat(q).apply(v)) for q, v in zip(Q, V)]))

    def loss(R, q):
        return (R.from_quat(q).apply(V) ** 2 * np.arange(3)).sum() + R.from_quat(q).as_rotvec().sum()

    close(irjax.jit(irjax.grad(lambda q: loss(it.Rotation, q)))(Q), jax.grad(lambda q: loss(jt.Rotation, q))(Q), 1e-4)
    assert len(irjax.tree_util.tree_leaves(it.Rotation.from_quat(Q))) == 1  # a pytree over quat


def test_random_is_unit_and_bad_input():
    r = it.Rotation.random(irjax.random.key(0), 3)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(r.quat), axis=-1), 1, rtol=1e-6)
    single = it.Rotation.from_quat(Q1)
    with pytest.raises(TypeError, match="no len"):
        len(single)
    with pytest.raises(TypeError, match="not subscriptable"):
        single[0]
    with pytest.raises(ValueError, match="consecutive"):
        it.Rotation.from_euler("xxy", V)
    with pytest.raises(ValueError, match="3 characters"):
        it.Rotation.from_quat(Q).as_euler("xy")
    with pytest.raises(ValueError, match="from \\['x'"):
        it.Rotation.from_euler("xYz", V)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        it.Rotation.from_quat(V)
    with pytest.raises(ValueError, match="at least 2"):
        it.Slerp.init(np.zeros(1), it.Rotation.from_quat(Q[:1]))

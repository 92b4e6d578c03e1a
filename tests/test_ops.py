"""Table-driven checks of every jx primitive (rows in op_table.py).

(a) NumPy reference (`prim.impl`) vs NumPy; (b) compiled (IREE) vs reference; (c) jvp vs
central finite differences of the reference in float64; (d) vjp vs jvp
(<ct, J t> = <J^T ct, t>); (e) second order (jvp of grad) for a few ops; (f) vmap over each
operand position (axis 0 and 1) vs a loop over the reference + np.stack.
"""

from __future__ import annotations

import irjax
import irjax.dispatch  # noqa: F401  (registers eager execution for core.bind / core.jx)
import numpy as np
import pytest
from irjax.core import bind
from irjax.dialects.registry import all_primitives, get
from op_table import F32, ROWS

B = 7  # vmap batch size: a size no operand axis has
# call-like ops name other functions; they are tested through jit/grad/vmap composition
CALL_OPS = {p.name for p in all_primitives().values() if p.calls}
# collectives exist only under a binding vmap / shard_map / pmap: tests/test_collectives.py
COLLECTIVE_OPS = {p.name for p in all_primitives().values() if "collective" in p.tags}
# host callbacks call a registered Python function by number: tests/test_host_callbacks.py
HOST_OPS = {p.name for p in all_primitives().values() if p.family == "host_calls"}


def _dtypes_cases(pred=lambda r: True):
    return [pytest.param(r, np.dtype(dt), id=f"{r.id}-{np.dtype(dt).name}") for r in ROWS if pred(r) for dt in r.dtypes]


def _rows(pred):
    return [pytest.param(r, id=r.id) for r in ROWS if pred(r)]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def assert_same(got, want, rtol=1e-5, atol=1e-6, what=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}dtype {got.dtype} != {want.dtype}"
    if want.dtype.kind in "fc":  # (complex: FFT rounds differently from NumPy's pocketfft)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def _float_dt(row):
    """The dtype used for differentiation / vmap checks: float32 where the row allows it."""
    return F32 if F32 in row.dtypes else np.dtype(row.dtypes[0])


def _fn(row, params):
    return lambda *a: bind(row.name, *a, **params)


# ---- coverage ----------------------------------------------------------------------------------


def test_every_primitive_has_a_row():
    names = {r.name for r in ROWS}
    missing = set(all_primitives()) - CALL_OPS - COLLECTIVE_OPS - HOST_OPS - names
    assert not missing, f"primitives without an op_table row: {sorted(missing)}"
    unknown = names - set(all_primitives())
    assert not unknown, f"rows for unknown primitives: {sorted(unknown)}"


# ---- (a) reference vs numpy ----------------------------------------------------------------------


@pytest.mark.parametrize("row,dt", _dtypes_cases(lambda r: r.np_fn is not None))
def test_reference_vs_numpy(row, dt):
    args, params = row.make(dt), row.params_for(dt)
    want = row.np_fn(*args, **params)
    if want is None:  # np_fn declines this dtype (e.g. integer division has no numpy twin)
        assert dt.kind != "f"
        return
    got = get(row.name).impl(*args, **params)
    for g, w in zip(_as_list(got), _as_list(want)):
        w = np.asarray(w)
        assert_same(
            g,
            w.astype(np.asarray(g).dtype)
            if w.dtype != np.asarray(g).dtype and w.dtype.kind == np.asarray(g).dtype.kind
            else w,
        )


# ---- (b) compiled vs reference -------------------------------------------------------------------


@pytest.mark.portable  # CI runs these on Vulkan too
@pytest.mark.parametrize("row,dt", _dtypes_cases())
def test_compiled_vs_reference(row, dt):
    args, params = row.make(dt), row.params_for(dt)
    want = get(row.name).impl(*args, **params)
    got = bind(row.name, *args, **params)
    got, want = _as_list(got), _as_list(want)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_same(np.asarray(g), np.asarray(w), rtol=row.rtol, what=f"result {i}: ")


# ---- (c) jvp vs finite differences -----------------------------------------------------------------


def _float_positions(args):
    return [i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]


def _tangents(args, seed=7):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(a)).astype(a.dtype) if a.dtype.kind == "f" else np.zeros_like(a) for a in args]


def _ref64(row, params, args):
    return [np.asarray(o, np.float64) for o in _as_list(get(row.name).impl(*args, **params))]


def _fd(row, params, args, tangents, eps=1e-5):
    def shifted(s):
        return [
            a.astype(np.float64) + s * t.astype(np.float64) if a.dtype.kind == "f" else a
            for a, t in zip(args, tangents)
        ]

    hi, lo = _ref64(row, params, shifted(eps)), _ref64(row, params, shifted(-eps))
    return [(h - l) / (2 * eps) for h, l in zip(hi, lo)]


@pytest.mark.parametrize("row", _rows(lambda r: r.diff in ("yes", "jvp-only")))
def test_jvp_vs_finite_differences(row):
    dt = _float_dt(row)
    args, params = row.make(dt), row.params_for(dt)
    assert _float_positions(args), "a differentiable row needs a float operand"
    tans = _tangents(args)
    out, tout = irjax.jvp(_fn(row, params), tuple(args), tuple(tans))
    for o, w in zip(_as_list(out), _as_list(get(row.name).impl(*args, **params))):
        assert_same(np.asarray(o), np.asarray(w), rtol=row.rtol)
    fd = _fd(row, params, args, tans)
    tout = _as_list(tout)
    assert len(tout) == len(fd)
    for t, f in zip(tout, fd):
        t = np.asarray(t)
        if t.dtype.kind != "f":
            continue
        scale = max(1.0, float(np.max(np.abs(f)))) if f.size else 1.0
        np.testing.assert_allclose(t, f, rtol=row.fd_tol, atol=row.fd_tol * scale)


@pytest.mark.parametrize("row", _rows(lambda r: r.diff == "zero"))
def test_jvp_is_zero(row):
    dt = _float_dt(row)
    args, params = row.make(dt), row.params_for(dt)
    tans = _tangents(args)
    out, tout = irjax.jvp(_fn(row, params), tuple(args), tuple(tans))
    for o, w in zip(_as_list(out), _as_list(get(row.name).impl(*args, **params))):
        assert_same(np.asarray(o), np.asarray(w))
    for t, o in zip(_as_list(tout), _as_list(out)):
        t = np.asarray(t)
        assert t.shape == np.shape(o)
        assert not np.any(t), f"expected a zero tangent, got {t}"


def _assert_not_implemented(fn, name):
    with pytest.raises(NotImplementedError) as e:
        fn()
    msg = str(e.value)
    assert name in msg and len(msg) > len(name) + 10, f"unclear NotImplementedError message: {msg!r}"


@pytest.mark.parametrize("row", _rows(lambda r: r.diff == "raises"))
def test_jvp_raises(row):
    dt = _float_dt(row)
    args, params = row.make(dt), row.params_for(dt)
    _assert_not_implemented(lambda: irjax.jvp(_fn(row, params), tuple(args), tuple(_tangents(args))), row.name)


@pytest.mark.parametrize("row", _rows(lambda r: r.diff in ("raises", "jvp-only")))
def test_vjp_raises(row):
    dt = _float_dt(row)
    args, params = row.make(dt), row.params_for(dt)

    def go():
        out, f_vjp = irjax.vjp(_fn(row, params), *args)
        f_vjp(out)

    _assert_not_implemented(go, row.name)


# ---- (d) vjp vs jvp -----------------------------------------------------------------------------------


@pytest.mark.parametrize("row", _rows(lambda r: r.diff == "yes"))
def test_vjp_matches_jvp(row):
    dt = _float_dt(row)
    args, params = row.make(dt), row.params_for(dt)
    tans = _tangents(args)
    f = _fn(row, params)
    _, tout = irjax.jvp(f, tuple(args), tuple(tans))
    out, f_vjp = irjax.vjp(f, *args)
    rng = np.random.default_rng(11)
    outs = _as_list(out)
    cts = [rng.standard_normal(np.shape(o)).astype(np.asarray(o).dtype) for o in outs]
    grads = f_vjp(cts if isinstance(out, (list, tuple)) else cts[0])
    assert len(grads) == len(args)
    lhs = terms = 0.0
    for c, t in zip(cts, _as_list(tout)):
        if c.dtype.kind == "f":
            lhs += float(np.vdot(c.astype(np.float64), np.asarray(t, np.float64)))
            terms += float(np.sum(np.abs(c) * np.abs(np.asarray(t))))
    rhs = 0.0
    for i in _float_positions(args):
        g = np.asarray(grads[i])
        assert g.shape == args[i].shape and g.dtype == args[i].dtype, f"cotangent {i}: {g.dtype}{g.shape}"
        rhs += float(np.vdot(g.astype(np.float64), tans[i].astype(np.float64)))
        terms += float(np.sum(np.abs(g) * np.abs(tans[i])))
    assert abs(lhs - rhs) <= 1e-4 * max(terms, 1.0), f"<ct, J t> = {lhs} but <J^T ct, t> = {rhs}"


# ---- (e) second order -------------------------------------------------------------------------------

SECOND_ORDER = [
    "sin",
    "exp",
    "tanh",
    "logistic",
    "log",
    "sqrt",
    "erf",
    "mul",
    "div",
    "pow",
    "atan2",
    "integer_pow[3]",
    "dot_general[matmul]",
    "reduce_prod",
    "cumprod",
    "cummax",
    "sort",
]


@pytest.mark.parametrize("rid", SECOND_ORDER)
def test_jvp_of_grad(rid):
    import irjax.numpy as jnp

    (row,) = [r for r in ROWS if r.id == rid]
    args, params = row.make(F32), row.params_for(F32)
    rng = np.random.default_rng(3)
    outs = _as_list(get(row.name).impl(*args, **params))
    ws = [rng.standard_normal(np.shape(o)).astype(np.float32) for o in outs]

    def h(x0):
        ys = _as_list(bind(row.name, x0, *args[1:], **params))
        return sum(jnp.sum(w * y) for w, y in zip(ws, ys))

    g = irjax.grad(h)
    t = rng.standard_normal(args[0].shape).astype(np.float32)
    _, hvp = irjax.jvp(g, (args[0],), (t,))
    eps = 1e-3
    fd = (np.asarray(g(args[0] + eps * t), np.float64) - np.asarray(g(args[0] - eps * t), np.float64)) / (2 * eps)
    scale = max(1.0, float(np.max(np.abs(fd))))
    np.testing.assert_allclose(np.asarray(hvp), fd, rtol=1e-2, atol=1e-2 * scale)


# ---- (f) vmap ------------------------------------------------------------------------------------------


def _vmap_specs(row):
    n = len(row.args)
    ex = row.make(_float_dt(row))
    specs = [tuple(0 if j == i else None for j in range(n)) for i in range(n)]
    if n > 1:
        specs.append((0,) * n)
    for i in range(n):
        if np.ndim(ex[i]) >= 1:
            specs.append(tuple(1 if j == i else None for j in range(n)))
            break
    if n > 1 and all(np.ndim(a) >= 1 for a in ex):
        specs.append(tuple(-1 if j % 2 == 0 else 0 for j in range(n)))
    return specs


def _vmap_cases():
    out = []
    for r in ROWS:
        if r.vmap == "na":
            continue
        for spec in _vmap_specs(r):
            out.append(pytest.param(r, spec, id=f"{r.id}-in_axes={','.join(map(str, spec))}"))
    return out


@pytest.mark.parametrize("row,spec", _vmap_cases())
def test_vmap_vs_loop(row, spec):
    dt = _float_dt(row)
    params = row.params_for(dt)
    examples = [row.make(dt, seed=k) for k in range(B)]
    batched = []
    for i, ax in enumerate(spec):
        if ax is None:
            batched.append(examples[0][i])
        else:
            batched.append(np.stack([np.asarray(ex[i]) for ex in examples], axis=ax))
    f = irjax.vmap(_fn(row, params), in_axes=spec)
    if any(spec[i] is not None for i in row.vmap_raises):
        _assert_not_implemented(lambda: f(*batched), row.name)
        return
    got = _as_list(f(*batched))
    per = [
        _as_list(
            get(row.name).impl(*[ex[i] if ax is not None else examples[0][i] for i, ax in enumerate(spec)], **params)
        )
        for ex in examples
    ]
    want = [np.stack([p[j] for p in per]) for j in range(len(per[0]))]
    assert len(got) == len(want)
    for j, (g, w) in enumerate(zip(got, want)):
        assert_same(np.asarray(g), w, rtol=row.rtol, what=f"result {j}: ")

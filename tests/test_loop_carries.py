"""Scans on the CPU stack their outputs in place (lower-stablehlo{place-stacks=true}: a
flow.tensor.transfer of each stacking buffer at the top of the loop body, each buffer filled
with a value of its own; dialects/control_flow.py). IREE then updates them in place instead of
copying them whole on every iteration. The value tests are the aliasing hazards of updating
in place: buffers IREE could merge (same shape, same loop, same function called twice) or hoist
out of an enclosing loop while a previous result is still alive."""

from __future__ import annotations

import re
import subprocess

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import dispatch, lax
from irjax.dialects.mlir import enter, ir
from irjax.runtime.device import default_device

pytest.importorskip("jax")  # tree_compare flattens the expected trees with JAX
from tree_compare import tree_close  # noqa: E402

RNG = np.random.default_rng(7)


def _stablehlo(f, *args) -> str:
    tr = irjax.jit(f)._trace(args, {})[0]
    return dispatch._lower_text(str(tr.module), tr.fname, default_device())


def _scan2(xs):
    """Two stacked outputs of one shape and dtype (IREE would merge two zero-filled buffers)."""

    def step(h, x):
        h = jnp.tanh(h * 0.5 + x)
        return h, (h * 2.0, h - x)

    return lax.scan(step, jnp.zeros(xs.shape[1:], xs.dtype), xs, unroll=1)


def _scan2_ref(xs):
    h, a, b = np.zeros(xs.shape[1:], np.float32), [], []
    for x in xs:
        h = np.tanh(h * np.float32(0.5) + x)
        a.append(h * np.float32(2.0))
        b.append(h - x)
    return h, (np.stack(a), np.stack(b))


def close(got, want):
    tree_close(got, want, rtol=3e-6, atol=3e-6, dtype=True)


def test_cpu_scans_place_their_stacking_buffers():
    xs = RNG.standard_normal((40, 3)).astype(np.float32)
    text = _stablehlo(_scan2, xs)
    assert text.count("stablehlo.while") == 1  # one loop (no chunks)
    transfers = re.findall(
        r"flow\.tensor\.transfer %(\w+) : tensor<40x3xf32> to #hal\.device\.promise<@__device_0>", text
    )
    assert len(transfers) == 2 and len(set(transfers)) == 2  # both buffers, carried values
    # ... and their initial values are two different buffers
    inits = dict(re.findall(r"(%iterArg\w*) = (%\w+)", text.split("stablehlo.while(", 1)[1].split(")", 1)[0]))
    assert inits[f"%{transfers[0]}"] != inits[f"%{transfers[1]}"]


def _without_transfers(text: str) -> str:
    with enter() as ctx:
        m = ir.Module.parse(text, ctx)
        found = []
        m.operation.walk(
            lambda op: (found.append(op) if op.name == "flow.tensor.transfer" else None) or ir.WalkResult.ADVANCE
        )
        for op in found:
            op.results[0].replace_all_uses_with(op.operands[0])
            op.erase()
        return str(m)


def _loop_copies(text: str, nbytes: int) -> int:
    """`stream.cmd.copy`s of `nbytes` (a whole carried buffer) in IREE's stream IR of `text`."""
    from iree.compiler.tools.binaries import find_tool

    cmd = [find_tool("iree-compile"), "-", "--iree-hal-target-backends=llvm-cpu", "--iree-input-type=stablehlo"]
    out = subprocess.run([*cmd, "--compile-to=stream"], input=text, capture_output=True, text=True, check=True).stdout
    return re.findall(r"stream\.cmd\.copy [^,]+, [^,]+, (%c\d+) :", out).count(f"%c{nbytes}")


def test_iree_updates_placed_buffers_in_place():
    """Documents the IREE 3.13 behavior place-stacks works around: without the transfers the
    stream IR copies the whole stacking buffer (inside the loop: on every iteration); with
    them, never. If IREE stops copying on its own, the first assertion fails and the
    workaround can go."""
    xs = RNG.standard_normal((200, 16)).astype(np.float32)
    placed = _stablehlo(lambda xs: _scan2(xs)[1][0], xs)
    unplaced = _without_transfers(placed)
    assert "flow.tensor" not in unplaced
    assert _loop_copies(unplaced, 200 * 16 * 4) >= 1
    assert _loop_copies(placed, 200 * 16 * 4) == 0


def test_two_buffers_of_one_shape_and_their_gradient():
    xs = RNG.standard_normal((50, 4)).astype(np.float32)
    close(irjax.jit(_scan2)(xs), _scan2_ref(xs))
    g = irjax.jit(irjax.grad(lambda xs: sum(y.sum() * (i + 1) for i, y in enumerate(_scan2(xs)[1]))))(xs)
    eps, want = 1e-2, np.zeros_like(xs)
    f = lambda v: sum(float(y.sum()) * (i + 1) for i, y in enumerate(_scan2_ref(v)[1]))  # noqa: E731
    for idx in [(0, 0), (10, 2), (49, 3)]:
        d = np.zeros_like(xs)
        d[idx] = eps
        want[idx] = (f(xs + d) - f(xs - d)) / (2 * eps)
        np.testing.assert_allclose(np.asarray(g)[idx], want[idx], rtol=2e-2, atol=2e-3)


def test_one_function_called_twice_keeps_both_results():
    def g(xs):
        return _scan2(xs)[1][0]

    def f(a, b):
        ya, yb = g(a), g(b)  # both alive: one shared buffer would hold only the second
        return ya, yb, ya + yb

    a = RNG.standard_normal((30, 2)).astype(np.float32)
    b = RNG.standard_normal((30, 2)).astype(np.float32)
    ya, yb = _scan2_ref(a)[1][0], _scan2_ref(b)[1][0]
    close(irjax.jit(f)(a, b), (ya, yb, ya + yb))


def test_inner_scan_outputs_carried_by_an_outer_loop():
    """The inner scan's stacked ys become the outer carry and the next inner scan's input:
    a buffer hoisted out of the outer loop would be overwritten while it is being read."""

    def f(xs):
        def outer(c, _):
            ys = _scan2(c)[1][0]
            return ys, ys.sum()

        return lax.scan(outer, xs, None, length=5, unroll=1)

    xs = RNG.standard_normal((20, 3)).astype(np.float32)
    c, sums = xs, []
    for _ in range(5):
        c = _scan2_ref(c)[1][0]
        sums.append(c.sum())
    got_c, got_sums = irjax.jit(f)(xs)
    close((got_c, got_sums), (c, np.array(sums, np.float32)))


def test_scan_in_a_fori_loop_with_loop_invariant_inputs():
    def f(xs):
        def body(i, acc):
            return acc + _scan2(xs)[1][1] * i  # the scan's inputs do not change in the loop

        return lax.fori_loop(0, 4, body, jnp.zeros_like(xs))

    xs = RNG.standard_normal((25, 3)).astype(np.float32)
    close(irjax.jit(f)(xs), _scan2_ref(xs)[1][1] * 6)


@pytest.mark.parametrize("unroll", [1, 3, 8])
@pytest.mark.parametrize("reverse", [False, True])
def test_stacked_values_match_a_python_loop(unroll, reverse):
    xs = RNG.standard_normal((70, 2, 3)).astype(np.float32)
    w = RNG.standard_normal((3, 3)).astype(np.float32) * 0.5

    def step(h, x):
        h = jnp.tanh(h @ w + x)
        return h, (h, (h > 0).astype(jnp.int32), h.sum())

    got = irjax.jit(lambda xs: lax.scan(step, jnp.zeros((2, 3), jnp.float32), xs, reverse=reverse, unroll=unroll))(xs)
    h, outs = np.zeros((2, 3), np.float32), [[], [], []]
    order = range(69, -1, -1) if reverse else range(70)
    for t in order:
        h = np.tanh(h @ w + xs[t])
        for o, v in zip(outs, (h, (h > 0).astype(np.int32), h.sum())):
            o.append(v)
    if reverse:
        outs = [o[::-1] for o in outs]
    close(got, (h, tuple(np.stack(o) for o in outs)))

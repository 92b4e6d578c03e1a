"""lax convolutions against jax.lax: values, dtypes, grads, vmap and jit, over strides,
paddings, dilations, layouts and feature / batch groups."""

from __future__ import annotations

import irjax
import numpy as np
import pytest
from irjax import dispatch, lax
from irjax.dialects.registry import get
from irjax.runtime import compiler
from irjax.runtime.device import default_device

jax = pytest.importorskip("jax")
jlax = jax.lax

# (name, lhs shape, rhs shape, kwargs): shapes in the layout dimension_numbers names
CASES = [
    ("valid", (2, 3, 7, 6), (4, 3, 3, 2), dict(window_strides=(1, 1), padding="VALID")),
    ("same_stride", (2, 3, 7, 6), (4, 3, 3, 2), dict(window_strides=(2, 1), padding="SAME")),
    ("same_lower", (1, 2, 6, 5), (3, 2, 2, 3), dict(window_strides=(2, 2), padding="SAME_LOWER")),
    (
        "dilated",
        (2, 3, 9, 8),
        (4, 3, 3, 2),
        dict(window_strides=(2, 2), padding=[(1, 2), (0, 1)], lhs_dilation=(1, 2), rhs_dilation=(2, 1)),
    ),
    ("neg_pad", (1, 2, 8, 7), (2, 2, 2, 2), dict(window_strides=(3, 1), padding=[(-1, 2), (1, -2)])),
    (
        "nhwc",
        (2, 7, 6, 3),
        (3, 2, 3, 4),
        dict(window_strides=(1, 2), padding="SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")),
    ),
    (
        "mixed_layout",
        (7, 2, 3, 6),
        (2, 4, 3, 3),
        dict(
            window_strides=(2, 1),
            padding=[(1, 1), (2, 0)],
            rhs_dilation=(1, 2),
            dimension_numbers=("HNCW", "WOIH", "CWNH"),
        ),
    ),
    ("groups", (2, 6, 7, 5), (6, 2, 3, 2), dict(window_strides=(2, 1), padding="SAME", feature_group_count=3)),
    (
        "depthwise",
        (2, 4, 6, 6),
        (8, 1, 3, 3),
        dict(window_strides=(1, 1), padding="VALID", feature_group_count=4, rhs_dilation=(2, 1)),
    ),
    (
        "batch_groups",
        (4, 3, 6, 5),
        (6, 3, 2, 2),
        dict(window_strides=(1, 2), padding=[(0, 1), (1, 0)], batch_group_count=2),
    ),
    ("conv1d", (3, 2, 10), (4, 2, 3), dict(window_strides=(3,), padding=[(2, 1)], lhs_dilation=(2,))),
    ("conv3d", (1, 2, 5, 4, 4), (2, 2, 2, 3, 2), dict(window_strides=(1, 2, 1), padding="SAME")),
    ("conv0d", (3, 4), (5, 4), dict(window_strides=(), padding=())),
    # one input feature: the CPU lowers these as a matmul of the kernel taps
    (
        "one_feature",
        (2, 1, 9, 8),
        (3, 1, 3, 2),
        dict(window_strides=(2, 1), padding=[(1, 2), (0, -1)], lhs_dilation=(1, 2), rhs_dilation=(2, 1)),
    ),
    (
        "one_feature_nhwc",
        (2, 7, 6, 1),
        (3, 2, 1, 4),
        dict(window_strides=(1, 2), padding="SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")),
    ),
    ("one_feature_1d", (3, 1, 12), (2, 1, 5), dict(window_strides=(2,), padding="SAME")),
]
IDS = [c[0] for c in CASES]


def _operands(case, dtype=np.float32, seed=0):
    _, ls, rs, _ = case
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(ls).astype(dtype), rng.standard_normal(rs).astype(dtype)
    return rng.integers(-4, 5, ls).astype(dtype), rng.integers(-4, 5, rs).astype(dtype)


def _close(got, want, tol=1e-4):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, f"{got.dtype}{got.shape} vs {want.dtype}{want.shape}"
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_and_jit_match_jax(case):
    x, w = _operands(case)
    kw = case[3]
    want = jlax.conv_general_dilated(x, w, **kw)
    _close(lax.conv_general_dilated(x, w, **kw), want)
    _close(irjax.jit(lambda a, b: lax.conv_general_dilated(a, b, **kw))(x, w), want)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c[0] in ("valid", "dilated", "groups", "batch_groups")], ids=lambda c: c[0]
)
def test_reference_matches_jax(case):
    x, w = _operands(case)
    kw = dict(case[3])
    want = np.asarray(jlax.conv_general_dilated(x, w, **kw))
    dn = lax.conv_dimension_numbers(x.shape, w.shape, kw.pop("dimension_numbers", None))
    pads = kw["padding"]
    if isinstance(pads, str):
        pads = lax.padtype_to_pads(
            np.take(x.shape, dn.lhs_spec[2:]), np.take(w.shape, dn.rhs_spec[2:]), kw["window_strides"], pads
        )
    n = x.ndim - 2
    got = get("conv_general_dilated").impl(
        x,
        w,
        window_strides=kw["window_strides"],
        padding=tuple(map(tuple, pads)),
        lhs_dilation=kw.get("lhs_dilation", (1,) * n),
        rhs_dilation=kw.get("rhs_dilation", (1,) * n),
        dimension_numbers=tuple(dn),
        feature_group_count=kw.get("feature_group_count", 1),
        batch_group_count=kw.get("batch_group_count", 1),
    )
    _close(got, want, 1e-5)


@pytest.mark.parametrize("dtype", [np.int32, np.float16])
def test_other_dtypes(dtype):
    case = CASES[3]
    x, w = _operands(case, dtype)
    want = jlax.conv_general_dilated(x, w, **case[3])
    got = lax.conv_general_dilated(x, w, **case[3])
    _close(got, want, 1e-2 if dtype == np.float16 else 0)


def test_preferred_element_type():
    x, w = _operands(CASES[0], np.int32)
    kw = dict(CASES[0][3], preferred_element_type=np.float32)
    _close(
        lax.conv_general_dilated(x.astype(np.float32), w.astype(np.float32), **kw),
        jlax.conv_general_dilated(x.astype(np.float32), w.astype(np.float32), **kw),
    )
    got = lax.conv_general_dilated(
        x.astype(np.int16), w.astype(np.int16), **dict(CASES[0][3], preferred_element_type=np.int32)
    )
    want = jlax.conv_general_dilated(
        x.astype(np.int16), w.astype(np.int16), **dict(CASES[0][3], preferred_element_type=np.int32)
    )
    _close(got, want, 0)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_grad_matches_jax(case):
    x, w = _operands(case)
    kw = case[3]
    rng = np.random.default_rng(5)
    ct = rng.standard_normal(np.shape(jlax.conv_general_dilated(x, w, **kw))).astype(np.float32)

    def loss(a, b):
        return irjax.numpy.sum(lax.conv_general_dilated(a, b, **kw) * ct)

    def jloss(a, b):
        return (jlax.conv_general_dilated(a, b, **kw) * ct).sum()

    want = jax.grad(jloss, argnums=(0, 1))(x, w)
    got = irjax.grad(loss, argnums=(0, 1))(x, w)
    _close(got[0], want[0])
    _close(got[1], want[1])
    got_jit = irjax.jit(irjax.grad(loss, argnums=(0, 1)))(x, w)
    _close(got_jit[0], want[0])
    _close(got_jit[1], want[1])


@pytest.mark.parametrize(
    "case", [c for c in CASES if c[0] in ("dilated", "groups", "batch_groups", "neg_pad")], ids=lambda c: c[0]
)
def test_jvp_vs_finite_differences(case):
    x, w = _operands(case)
    kw = case[3]
    rng = np.random.default_rng(9)
    tx, tw = rng.standard_normal(x.shape).astype(np.float32), rng.standard_normal(w.shape).astype(np.float32)
    f = lambda a, b: lax.conv_general_dilated(a, b, **kw)
    _, t = irjax.jvp(f, (x, w), (tx, tw))
    eps = 1e-2
    x64 = lambda a, b: np.asarray(jlax.conv_general_dilated(a, b, **kw), np.float64)
    fd = (x64(x + eps * tx, w + eps * tw) - x64(x - eps * tx, w - eps * tw)) / (2 * eps)
    np.testing.assert_allclose(np.asarray(t), fd, rtol=2e-2, atol=2e-2 * max(1.0, np.abs(fd).max()))


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c[0] in ("same_stride", "mixed_layout", "groups", "batch_groups", "depthwise", "conv1d")],
    ids=lambda c: c[0],
)
@pytest.mark.parametrize("axes", [(0, None), (None, 0), (1, 2)], ids=["lhs", "rhs", "both"])
def test_vmap_vs_loop(case, axes):
    V = 3
    xs, ws = zip(*[_operands(case, seed=s) for s in range(V)])
    kw = case[3]
    ax_l, ax_r = axes
    bx = np.stack(xs, ax_l) if ax_l is not None else xs[0]
    bw = np.stack(ws, ax_r) if ax_r is not None else ws[0]
    got = irjax.vmap(lambda a, b: lax.conv_general_dilated(a, b, **kw), in_axes=axes)(bx, bw)
    want = np.stack(
        [
            np.asarray(
                jlax.conv_general_dilated(
                    xs[i] if ax_l is not None else xs[0], ws[i] if ax_r is not None else ws[0], **kw
                )
            )
            for i in range(V)
        ]
    )
    _close(got, want)


def test_vmap_of_grad():
    case = CASES[7]  # feature groups
    kw = case[3]
    xs, ws = zip(*[_operands(case, seed=s) for s in range(2)])
    got = irjax.vmap(irjax.grad(lambda a, b: irjax.numpy.sum(lax.conv_general_dilated(a, b, **kw) ** 2), argnums=1))(
        np.stack(xs), np.stack(ws)
    )
    jgrad = jax.grad(lambda a, b: (jlax.conv_general_dilated(a, b, **kw) ** 2).sum(), argnums=1)
    _close(got, np.stack([np.asarray(jgrad(x, w)) for x, w in zip(xs, ws)]))


def test_second_order_matches_jax():
    case = CASES[3]  # strides, padding, both dilations
    kw = case[3]
    x, w = _operands(case)

    def hvp(mod, summ):
        g = (jax if mod is jlax else irjax).grad(
            lambda a, b: summ(mod.conv_general_dilated(a, b, **kw) ** 2), argnums=1
        )
        return (jax if mod is jlax else irjax).jvp(lambda a: g(a, w), (x,), (np.ones_like(x),))[1]

    # forward-over-reverse, and reverse-over-reverse under jit
    want = hvp(jlax, lambda y: y.sum())
    _close(hvp(lax, irjax.numpy.sum), want, 1e-3)
    _close(
        irjax.jit(
            lambda a: irjax.grad(
                lambda b: irjax.numpy.sum(
                    irjax.grad(lambda c: irjax.numpy.sum(lax.conv_general_dilated(c, b, **kw) ** 2))(a)
                )
            )(w)
        )(x),
        jax.grad(lambda b: jax.grad(lambda c: (jlax.conv_general_dilated(c, b, **kw) ** 2).sum())(x).sum())(w),
        1e-3,
    )


def test_empty_output_grad():
    x, w = np.ones((2, 3, 2), np.float32), np.ones((4, 3, 3), np.float32)  # window longer than the input
    kw = dict(window_strides=(1,), padding="VALID")
    assert lax.conv_general_dilated(x, w, **kw).shape == (2, 4, 0)
    gx, gw = irjax.grad(lambda a, b: irjax.numpy.sum(lax.conv_general_dilated(a, b, **kw)), argnums=(0, 1))(x, w)
    _close(gx, np.zeros_like(x))
    _close(gw, np.zeros_like(w))


def test_precision_is_accepted():
    x, w = _operands(CASES[0])
    for prec in (None, lax.Precision.HIGHEST, "highest"):
        _close(
            lax.conv_general_dilated(x, w, (1, 1), "VALID", precision=prec),
            jlax.conv_general_dilated(x, w, (1, 1), "VALID"),
        )


# ---- wrappers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["SAME", "VALID", "SAME_LOWER"])
def test_padtype_to_pads(padding):
    for shape, win, st in (((7, 6), (3, 2), (2, 1)), ((5,), (4,), (3,)), ((4, 4), (1, 5), (1, 2))):
        assert lax.padtype_to_pads(shape, win, st, padding) == [
            tuple(p) for p in jlax.padtype_to_pads(shape, win, st, padding)
        ]


def test_conv_dimension_numbers():
    for spec in (None, ("NHWC", "HWIO", "NHWC"), ("NCHW", "OIHW", "NCHW"), ("HNCW", "WOIH", "CWNH")):
        want = jlax.conv_dimension_numbers((1, 2, 3, 4), (1, 2, 3, 4), spec)
        got = lax.conv_dimension_numbers((1, 2, 3, 4), (1, 2, 3, 4), spec)
        assert isinstance(got, lax.ConvDimensionNumbers)
        assert tuple(map(tuple, got)) == tuple(map(tuple, want))
    with pytest.raises(TypeError, match="'N' and 'C'"):
        lax.conv_dimension_numbers((1, 2, 3, 4), (1, 2, 3, 4), ("NHWW", "HWIO", "NHWC"))


def test_conv_and_conv_with_general_padding():
    x, w = _operands(CASES[0])
    _close(lax.conv(x, w, (2, 1), "SAME"), jlax.conv(x, w, (2, 1), "SAME"))
    kw = dict(window_strides=(1, 2), padding=[(1, 0), (2, 1)], lhs_dilation=(2, 1), rhs_dilation=(1, 2))
    _close(lax.conv_with_general_padding(x, w, **kw), jlax.conv_with_general_padding(x, w, **kw))


@pytest.mark.parametrize("padding", ["SAME", "VALID", [(1, 2), (0, 1)]], ids=["same", "valid", "explicit"])
@pytest.mark.parametrize("transpose_kernel", [False, True])
def test_conv_transpose(padding, transpose_kernel):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 4, 3)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3 if not transpose_kernel else 4, 4 if not transpose_kernel else 3)).astype(
        np.float32
    )
    kw = dict(strides=(2, 3), padding=padding, rhs_dilation=(1, 2), transpose_kernel=transpose_kernel)
    want = jlax.conv_transpose(x, w, **kw)
    _close(lax.conv_transpose(x, w, **kw), want)
    g = irjax.grad(lambda a: irjax.numpy.sum(lax.conv_transpose(a, w, **kw) ** 2))(x)
    _close(g, jax.grad(lambda a: (jlax.conv_transpose(a, w, **kw) ** 2).sum())(x))


def test_conv_transpose_1d_nchw():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 6)).astype(np.float32), rng.standard_normal((4, 3, 3)).astype(np.float32)
    kw = dict(strides=(2,), padding="SAME", dimension_numbers=("NCH", "OIH", "NCH"))
    _close(lax.conv_transpose(x, w, **kw), jlax.conv_transpose(x, w, **kw))


# ---- bad input ---------------------------------------------------------------------------------


def test_bad_inputs_raise_clearly():
    x, w = _operands(CASES[0])
    with pytest.raises(TypeError, match="same dtypes"):
        lax.conv_general_dilated(x, w.astype(np.int32), (1, 1), "VALID")
    with pytest.raises(ValueError, match="Unknown padding"):
        lax.conv_general_dilated(x, w, (1, 1), "FULL")
    with pytest.raises(ValueError, match="window_strides needs 2"):
        lax.conv_general_dilated(x, w, (1,), "VALID")
    with pytest.raises(ValueError, match="feature_group_count"):
        lax.conv_general_dilated(x, w, (1, 1), "VALID", feature_group_count=2)
    with pytest.raises(TypeError, match="ndim to be equal"):
        lax.conv_general_dilated(x, w[0], (1, 1), "VALID")


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c[0] in ("groups", "depthwise", "batch_groups")],
    ids=["groups", "depthwise", "batch_groups"],
)
def test_split_groups_lowering_matches_jax(case):
    """GPU targets lower a grouped convolution as one convolution per group (IREE's vulkan-spirv
    returned zeros for grouped ones): the split lowering, compiled for the CPU, matches JAX."""
    import iree.runtime as rt
    from irjax.dialects.func import parse_module
    from irjax.passes.registry import run_pipeline
    from irjax.runtime.compiler import compile_stablehlo

    lhs, rhs = _operands(case)
    kw = case[3]
    jm = irjax.jit(lambda a, b: lax.conv_general_dilated(a, b, **kw)).lower(lhs, rhs)
    module = parse_module(jm.as_text())
    entry = jm.as_text().split("func.func @", 1)[1].split("(", 1)[0]
    run_pipeline(module, f"lower-stablehlo{{entry={entry} chunk-scans=false split-conv-groups=true}}")
    text = str(module)
    groups = max(kw.get("feature_group_count", 1), kw.get("batch_group_count", 1))
    assert text.count("stablehlo.convolution") == groups and "stablehlo.concatenate" in text
    assert "feature_group_count = 1" in text and "batch_group_count = 1" in text
    ctx = rt.SystemContext(config=rt.Config("local-sync"))
    ctx.add_vm_module(rt.VmModule.copy_buffer(ctx.instance, compile_stablehlo(text)))
    got = getattr(ctx.modules.module, entry)(lhs, rhs)
    _close(np.asarray(got), jlax.conv_general_dilated(lhs, rhs, **kw))


def test_cpu_lowers_other_layouts_channels_last():
    """On the CPU a convolution in NCHW / OIHW (or any layout but NHWC / HWIO / NHWC) runs as a
    channels-last one between transposes, fenced by optimization barriers; the module no longer
    asks IREE for im2col (which only channels-first modules take). A channels-last convolution
    lowers as it is. Values and gradients against JAX."""
    dev = default_device()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 2)).astype(np.float32)
    kw = dict(window_strides=(2, 1), padding=[(1, 0), (0, 2)], rhs_dilation=(1, 2))
    cl = "[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]"
    for dn, xs, ws, channels_last in (
        (None, x, w, False),
        (("NHWC", "HWIO", "NHWC"), x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0), True),
    ):

        def loss(a, b, dn=dn):
            return (lax.conv_general_dilated(a, b, dimension_numbers=dn, **kw) ** 2).sum()

        def jloss(a, b, dn=dn):
            return (jlax.conv_general_dilated(a, b, dimension_numbers=dn, **kw) ** 2).sum()

        def hlo_of(f):
            tr = f._trace((xs, ws), {})[0]
            return dispatch._lower_text(str(tr.module), tr.fname, dev)

        fwd = hlo_of(irjax.jit(lambda a, b, dn=dn: lax.conv_general_dilated(a, b, dimension_numbers=dn, **kw)))
        assert fwd.count(cl) == 1
        assert fwd.count("stablehlo.transpose") == (0 if channels_last else 3)
        assert fwd.count("stablehlo.optimization_barrier") == (0 if channels_last else 2)
        f = irjax.jit(irjax.value_and_grad(loss, argnums=(0, 1)))
        hlo = hlo_of(f)
        # the forward convolution and the input gradient's (the kernel gradient is a matmul)
        assert hlo.count("stablehlo.convolution") == 2 and hlo.count(cl) == 2, hlo
        assert compiler.IM2COL not in compiler.compile_job(hlo, dev.target, list(dev.compile_flags)).flags
        (v, (gx, gw)), (jv, (jgx, jgw)) = f(xs, ws), jax.value_and_grad(jloss, argnums=(0, 1))(xs, ws)
        _close(v, jv, 1e-5)
        _close(gx, jgx)
        _close(gw, jgw)


@pytest.mark.parametrize("name", ["one_feature", "one_feature_nhwc", "one_feature_1d"])
def test_cpu_lowers_one_input_feature_as_taps_matmul(name):
    """On the CPU a convolution with one input feature is a matmul of its kernel taps (strided
    slices of the padded input, concatenated) instead of a stablehlo.convolution; values
    against JAX, for each tap count (the 3x2 kernel's 6 taps, 5 in 1-D)."""
    case = next(c for c in CASES if c[0] == name)
    lhs, rhs = _operands(case, seed=5)
    kw = case[3]
    f = irjax.jit(lambda a, b: lax.conv_general_dilated(a, b, **kw))
    tr = f._trace((lhs, rhs), {})[0]
    hlo = dispatch._lower_text(str(tr.module), tr.fname, default_device())
    taps = int(np.prod(case[2][:-2] if name.endswith("nhwc") else case[2][2:]))
    assert "stablehlo.convolution" not in hlo and hlo.count("stablehlo.dot_general") == 1
    assert hlo.count("stablehlo.slice") == taps, hlo
    _close(f(lhs, rhs), jlax.conv_general_dilated(lhs, rhs, **kw), 1e-5)


@pytest.mark.parametrize(
    "h, pad, dilation, groups",
    [(5, (1, 0), 2, 2), (7, (1, 0), 3, 2), (5, (1, 0), 2, 1), (7, (2, 2), 3, 2), (6, (1, -1), 2, 2)],
)
def test_single_window_convolutions_match_jax(h, pad, dilation, groups):
    """One output row along a strided, dilated axis with padded rows no window reads: IREE 3.13
    miscompiled the grouped case (an invalid linalg.generic from FoldUnitExtentDims; unverified it
    read uninitialized memory), so the lowering trims the unread rows. Values and gradients vs JAX."""
    rng = np.random.default_rng(h * 10 + dilation)
    x = rng.standard_normal((2, h, 6, 4)).astype(np.float32)
    w = rng.standard_normal((3, 3, 4 // groups, 6)).astype(np.float32)
    kw = dict(
        window_strides=(2, 1),
        padding=(pad, (2, 2)),
        rhs_dilation=(dilation, 1),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        feature_group_count=groups,
    )

    def loss(lax_, x, w):
        return (lax_.conv_general_dilated(x, w, **kw) ** 2).sum()

    want = jax.lax.conv_general_dilated(x, w, **kw)
    got = irjax.jit(lambda x, w: lax.conv_general_dilated(x, w, **kw))(x, w)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-4)
    for g, gw in zip(
        irjax.grad(lambda x, w: loss(lax, x, w), argnums=(0, 1))(x, w),
        jax.grad(lambda x, w: loss(jax.lax, x, w), argnums=(0, 1))(x, w),
    ):
        np.testing.assert_allclose(np.asarray(g), np.asarray(gw), rtol=1e-3, atol=1e-3)

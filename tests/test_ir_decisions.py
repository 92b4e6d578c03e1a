"""The compiler's decisions about a module (float64 kept, data tiling / multi-threading for big
matmuls, input copies for tied ops, dispatch splitting, shape generalization) are read from the
parsed IR: each is checked on small modules, including text that fooled the old regexes."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.dialects.mlir import enter, ir
from irjax.passes.generalize_shapes import generalize
from irjax.passes.limit_bindings import MAX_SOURCES, may_exceed
from irjax.passes.module_facts import dot_dimension_numbers, facts_of_text
from irjax.runtime import compiler


def _fn(args: str, body: str, ret: str, attrs: str = "") -> str:
    return f"func.func @main({args}) -> {ret} {attrs}{{\n{body}\n}}"


ADD_F32 = _fn(
    "%a: tensor<3xf32>",
    "  %0 = stablehlo.add %a, %a : tensor<3xf32>\n  return %0 : tensor<3xf32>",
    "tensor<3xf32>",
)


# ---- float64 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, want",
    [
        (ADD_F32, False),
        # an unused f64 argument still changes the calling convention if IREE demotes it
        (_fn("%a: tensor<3xf32>, %b: tensor<2xf64>", "  return %a : tensor<3xf32>", "tensor<3xf32>"), True),
        (
            _fn(
                "%a: tensor<3xf32>",
                "  %0 = stablehlo.convert %a : (tensor<3xf32>) -> tensor<3xf64>\n"
                "  %1 = stablehlo.convert %0 : (tensor<3xf64>) -> tensor<3xf32>\n  return %1 : tensor<3xf32>",
                "tensor<3xf32>",
            ),
            True,
        ),
        (_fn("%a: tensor<complex<f64>>", "  return %a : tensor<complex<f64>>", "tensor<complex<f64>>"), True),
        # the text names f64 but the program holds none (the old regex said yes)
        (
            _fn(
                "%a: tensor<3xf32>",
                "  %0 = stablehlo.add %a, %a : tensor<3xf32>\n  return %0 : tensor<3xf32>",
                "tensor<3xf32>",
                'attributes {note = "tensor<3xf64>"} ',
            ),
            False,
        ),
    ],
)
def test_has_f64(text, want):
    assert compiler.has_f64(text) is want


def test_f64_flag_follows_the_ir(monkeypatch):
    seen = []
    monkeypatch.setattr(compiler, "_compile", lambda text, target, flags, *rest: seen.append(list(flags)) or b"vmfb")
    monkeypatch.setenv("IRJAX_DISABLE_CACHE", "1")
    compiler.forget_memory_cache()
    f64 = _fn("%a: tensor<2xf64>", "  return %a : tensor<2xf64>", "tensor<2xf64>")
    compiler.compile_stablehlo(f64)
    compiler.compile_stablehlo(ADD_F32)
    compiler.forget_memory_cache()
    assert compiler.NO_F64_DEMOTION in seen[0]
    assert compiler.NO_F64_DEMOTION not in seen[1]


# ---- matmul size --------------------------------------------------------------------------


def _dot(lhs: str, rhs: str, out: str, dims: str) -> str:
    return _fn(
        f"%a: {lhs}, %b: {rhs}",
        f"  %0 = stablehlo.dot_general %a, %b, {dims} : ({lhs}, {rhs}) -> {out}\n  return %0 : {out}",
        out,
    )


def test_matmul_flops_plain():
    text = _dot("tensor<128x784xf32>", "tensor<784x512xf32>", "tensor<128x512xf32>", "contracting_dims = [1] x [0]")
    assert compiler.matmul_flops(text) == 2.0 * 128 * 512 * 784
    assert compiler.matmul_heavy(text)  # 103 MFLOP


def test_matmul_flops_batched_is_exact():
    # batch 4 of (8x16) . (16x32): the old type-only estimate said sqrt(4) times more
    text = _dot(
        "tensor<4x8x16xf32>",
        "tensor<4x16x32xf32>",
        "tensor<4x8x32xf32>",
        "batching_dims = [0] x [0], contracting_dims = [2] x [1]",
    )
    assert compiler.matmul_flops(text) == 2.0 * 4 * 8 * 32 * 16
    assert not compiler.matmul_heavy(text)


def test_matmul_flops_small_and_dynamic():
    small = _dot("tensor<10x10xf32>", "tensor<10x10xf32>", "tensor<10x10xf32>", "contracting_dims = [1] x [0]")
    assert compiler.matmul_flops(small) == 2000.0 and not compiler.matmul_heavy(small)
    dyn = _dot("tensor<?x784xf32>", "tensor<784x512xf32>", "tensor<?x512xf32>", "contracting_dims = [1] x [0]")
    assert compiler.matmul_flops(dyn) == 0.0
    assert compiler.matmul_flops(ADD_F32) == 0.0


def test_data_tiling_flag_follows_the_ir(monkeypatch):
    seen = []
    monkeypatch.setattr(compiler, "_compile", lambda text, target, flags, *rest: seen.append(list(flags)) or b"vmfb")
    monkeypatch.setenv("IRJAX_DISABLE_CACHE", "1")
    compiler.forget_memory_cache()
    big = _dot(
        "tensor<1024x1024xf32>", "tensor<1024x1024xf32>", "tensor<1024x1024xf32>", "contracting_dims = [1] x [0]"
    )
    compiler.compile_stablehlo(big)
    compiler.compile_stablehlo(ADD_F32)
    compiler.compile_stablehlo(big.replace("f32", "bf16"))
    compiler.forget_memory_cache()
    tiling = (compiler.DATA_TILING, compiler.EARLY_DATA_TILING)
    assert compiler.DATA_TILING in seen[0] and not any(f in seen[1] for f in tiling)
    # f32 matmuls use IREE's generated mmt4d code; bf16 keeps the ukernel (2.3x faster here)
    assert compiler.NO_UKERNELS in seen[0] and compiler.NO_UKERNELS not in seen[1]
    # below inner_tiled's size the early data-tiling path
    assert compiler.EARLY_DATA_TILING in seen[2] and compiler.NO_UKERNELS not in seen[2]
    assert compiler.DATA_TILING not in seen[2]


def test_inner_tiled_only_where_iree_lowers_it(intel_host_cpu):
    """IREE 3.13's inner_tiled matmul lowering (1.3-1.5x faster big f32 matmuls here, 3-8x f64):
    batched dot_generals keep the default; matmuls fused with an array broadcast (x @ w + b) or a
    reduction take the early data-tiling path, where the bias add compiles."""
    late, early = [compiler.DATA_TILING, compiler.INNER_TILED], [compiler.EARLY_DATA_TILING, compiler.INNER_TILED]
    big = _dot(
        "tensor<1024x1024xf32>", "tensor<1024x1024xf32>", "tensor<1024x1024xf32>", "contracting_dims = [1] x [0]"
    )
    assert compiler.inner_tiled_flags(big) == late
    mid = _dot("tensor<512x512xf32>", "tensor<512x512xf32>", "tensor<512x512xf32>", "contracting_dims = [1] x [0]")
    assert compiler.wants_data_tiling(mid) and compiler.inner_tiled_flags(mid) is None  # f32, 268 MFLOP
    assert compiler.inner_tiled_flags(mid.replace("f32", "f64")) == late  # f64: 2.6x faster at 512^2
    assert compiler.inner_tiled_flags(big.replace("f32", "bf16")) is None  # bf16 keeps the ukernels
    batched = _dot(
        "tensor<8x1024x512xf32>",
        "tensor<8x512x512xf32>",
        "tensor<8x1024x512xf32>",
        "batching_dims = [0] x [0], contracting_dims = [2] x [1]",
    )
    assert compiler.wants_data_tiling(batched) and facts_of_text(batched).batched_dots
    assert compiler.inner_tiled_flags(batched) is None
    assert compiler.inner_tiled_flags(batched.replace("f32", "f64")) is None
    t = "tensor<1024x1024xf32>"
    biased = _fn(
        f"%a: {t}, %b: {t}, %c: tensor<1024xf32>",
        f"  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : ({t}, {t}) -> {t}\n"
        f"  %1 = stablehlo.broadcast_in_dim %c, dims = [1] : (tensor<1024xf32>) -> {t}\n"
        f"  %2 = stablehlo.add %0, %1 : {t}\n  return %2 : {t}",
        t,
    )
    assert facts_of_text(biased).dot_epilogues and compiler.inner_tiled_flags(biased) == early
    scaled = _fn(  # a scalar broadcast fuses fine
        f"%a: {t}, %b: {t}, %c: tensor<f32>",
        f"  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : ({t}, {t}) -> {t}\n"
        f"  %1 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<f32>) -> {t}\n"
        f"  %2 = stablehlo.multiply %0, %1 : {t}\n  return %2 : {t}",
        t,
    )
    assert not facts_of_text(scaled).dot_epilogues and compiler.inner_tiled_flags(scaled) == late
    column_sum = _fn(  # fails to compile inner_tiled with late data tiling at 1024^2
        f"%a: {t}, %b: {t}",
        f"  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : ({t}, {t}) -> {t}\n"
        "  %z = stablehlo.constant dense<0.0> : tensor<f32>\n"
        "  %1 = stablehlo.reduce(%0 init: %z) applies stablehlo.add across dimensions = [0] :"
        f" ({t}, tensor<f32>) -> tensor<1024xf32>\n  return %1 : tensor<1024xf32>",
        "tensor<1024xf32>",
    )
    assert facts_of_text(column_sum).dot_epilogues and compiler.inner_tiled_flags(column_sum) == early
    # a dot in a called function: its epilogue is in the caller (IREE inlines the call)
    called = (
        f"func.func @main(%a: {t}, %c: tensor<1024xf32>) -> {t} {{\n"
        f"  %0 = call @mm(%a) : ({t}) -> {t}\n"
        f"  %1 = stablehlo.broadcast_in_dim %c, dims = [1] : (tensor<1024xf32>) -> {t}\n"
        f"  %2 = stablehlo.add %0, %1 : {t}\n  return %2 : {t}\n}}\n"
        f"func.func private @mm(%a: {t}) -> {t} {{\n"
        f"  %0 = stablehlo.dot_general %a, %a, contracting_dims = [1] x [0] : ({t}, {t}) -> {t}\n"
        f"  return %0 : {t}\n}}"
    )
    assert facts_of_text(called).dot_epilogues
    assert not facts_of_text(called.replace("stablehlo.add %0, %1", "stablehlo.add %0, %0")).dot_epilogues


def test_inner_tiled_flag_follows_the_ir(monkeypatch, intel_host_cpu):
    seen = []
    monkeypatch.setattr(compiler, "_compile", lambda text, target, flags, *rest: seen.append(list(flags)) or b"vmfb")
    monkeypatch.setenv("IRJAX_DISABLE_CACHE", "1")
    compiler.forget_memory_cache()
    compiler.compile_stablehlo(
        _dot("tensor<1024x1024xf32>", "tensor<1024x1024xf32>", "tensor<1024x1024xf32>", "contracting_dims = [1] x [0]")
    )
    compiler.compile_stablehlo(
        _dot("tensor<128x784xf32>", "tensor<784x512xf32>", "tensor<128x512xf32>", "contracting_dims = [1] x [0]")
    )
    compiler.forget_memory_cache()
    assert compiler.INNER_TILED in seen[0] and compiler.DATA_TILING in seen[0]
    assert compiler.INNER_TILED not in seen[1] and compiler.EARLY_DATA_TILING in seen[1]
    assert compiler.DATA_TILING not in seen[1]
    assert compiler.NO_UKERNELS in seen[0] and compiler.NO_UKERNELS in seen[1]


def _conv(lhs: str, rhs: str, out: str, layout: str) -> str:
    body = (
        f"  %0 = stablehlo.convolution(%a, %b) dim_numbers = {layout}, window = {{stride = [1, 1]}} "
        f"{{batch_group_count = 1 : i64, feature_group_count = 1 : i64}} : ({lhs}, {rhs}) -> {out}\n"
        f"  return %0 : {out}"
    )
    return _fn(f"%a: {lhs}, %b: {rhs}", body, out)


def test_skinny_matmuls_run_parallel_without_data_tiling(intel_host_cpu):
    skinny = _dot("tensor<32x36864xf32>", "tensor<36864x10xf32>", "tensor<32x10xf32>", "contracting_dims = [1] x [0]")
    assert compiler.matmul_heavy(skinny)  # 23.6 MFLOP: the multi-threaded driver
    assert not compiler.wants_data_tiling(skinny)  # N = 10: data tiling ran it 1.7x slower
    big = _dot("tensor<128x784xf32>", "tensor<784x512xf32>", "tensor<128x512xf32>", "contracting_dims = [1] x [0]")
    assert compiler.wants_data_tiling(big)


def test_small_f32_matmuls_compile_untiled_on_amd_avx512(monkeypatch):
    """AMD AVX-512 CPUs (Zen 4): f32 modules under inner_tiled's size whose contractions are at
    most 1024 long compile without data tiling (the MLP step 15% faster there); longer
    contractions, f64 and big modules keep their data-tiling path."""
    from irjax.runtime import host_cpu

    amd = host_cpu.HostCPU("AuthenticAMD", "AMD EPYC", frozenset({"avx2", "avx512f"}), "x86_64")
    monkeypatch.setattr(host_cpu, "host_cpu", lambda: amd)
    mlp_layer = _dot(
        "tensor<128x784xf32>", "tensor<784x512xf32>", "tensor<128x512xf32>", "contracting_dims = [1] x [0]"
    )
    assert facts_of_text(mlp_layer).max_tileable_k == 784
    assert not compiler.wants_data_tiling(mlp_layer)
    assert "data-tiling" not in " ".join(compiler.compile_job(mlp_layer).flags)
    long_k = _dot("tensor<128x2048xf32>", "tensor<2048x512xf32>", "tensor<128x512xf32>", "contracting_dims = [1] x [0]")
    assert compiler.wants_data_tiling(long_k)  # K = 2048: 1.72 ms tiled vs 2.78 untiled
    assert compiler.wants_data_tiling(mlp_layer.replace("f32", "f64"))  # f64 takes inner_tiled
    big = _dot(
        "tensor<1024x1024xf32>", "tensor<1024x1024xf32>", "tensor<1024x1024xf32>", "contracting_dims = [1] x [0]"
    )
    assert compiler.wants_data_tiling(big) and compiler.inner_tiled_flags(big) is not None

    # batched matmuls (no inner_tiled for them) count per batch element
    def bmm(b, n):
        t = f"tensor<{b}x{n}x{n}xf32>"
        return _dot(t, t, t, "batching_dims = [0] x [0], contracting_dims = [2] x [1]")

    assert facts_of_text(bmm(8, 512)).max_tileable_mnk == 2.0 * 512**3
    assert not compiler.wants_data_tiling(bmm(8, 512)) and not compiler.wants_data_tiling(bmm(8, 768))
    assert compiler.wants_data_tiling(bmm(4, 1024))  # 45 ms tiled vs 59-62 untiled
    # an AMD CPU without AVX-512 and Intel ones keep data tiling from 20 MFLOP on
    zen3 = host_cpu.HostCPU("AuthenticAMD", "AMD EPYC", frozenset({"avx2"}), "x86_64")
    monkeypatch.setattr(host_cpu, "host_cpu", lambda: zen3)
    assert compiler.wants_data_tiling(mlp_layer)


def test_convolutions_count_as_heavy_and_channels_first_ones_use_im2col():
    nchw = _conv(
        "tensor<8x64x32x32xf32>",
        "tensor<64x64x3x3xf32>",
        "tensor<8x64x30x30xf32>",
        "[b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]",
    )
    nhwc = _conv(
        "tensor<8x32x32x64xf32>",
        "tensor<3x3x64x64xf32>",
        "tensor<8x30x30x64xf32>",
        "[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]",
    )
    f = compiler.facts_of_text(nchw)
    assert f.parsed and f.conv_flops == 2.0 * 8 * 64 * 30 * 30 * 64 * 9 and f.conv_channels_first
    assert compiler.matmul_heavy(nchw) and compiler.matmul_heavy(nhwc)
    assert compiler.IM2COL in compiler.compile_job(nchw).flags
    assert compiler.IM2COL not in compiler.compile_job(nhwc).flags  # channels-last trains faster direct
    ints = nchw.replace("xf32>", "xi32>")  # im2col breaks integer convolutions in IREE 3.13
    assert compiler.IM2COL not in compiler.compile_job(ints).flags


def test_dot_dimension_numbers():
    text = _dot(
        "tensor<4x8x16xf32>",
        "tensor<4x16x32xf32>",
        "tensor<4x8x32xf32>",
        "batching_dims = [0] x [0], contracting_dims = [2] x [1]",
    )
    with enter():
        m = ir.Module.parse(text)
        found = []
        m.operation.walk(lambda op: found.append(op) or ir.WalkResult.ADVANCE)
        dot = next(op for op in found if op.name == "stablehlo.dot_general")
        dims = dot_dimension_numbers(dot)
    assert dims["lhs_batching_dimensions"] == [0] and dims["rhs_batching_dimensions"] == [0]
    assert dims["lhs_contracting_dimensions"] == [2] and dims["rhs_contracting_dimensions"] == [1]


# ---- tied (in-place) ops ------------------------------------------------------------------

DUS = _fn(
    "%a: tensor<4xf32>, %u: tensor<1xf32>, %i: tensor<i32>",
    "  %0 = stablehlo.dynamic_update_slice %a, %u, %i : (tensor<4xf32>, tensor<1xf32>, tensor<i32>) -> tensor<4xf32>\n"
    "  return %0 : tensor<4xf32>",
    "tensor<4xf32>",
)


def test_needs_input_copies():
    assert compiler.needs_input_copies(DUS)
    assert not compiler.needs_input_copies(ADD_F32)
    # names in symbols or strings are not ops (the old substring test said yes)
    named = ADD_F32.replace("@main(", "@stablehlo.sort_free(").replace(
        "{\n", 'attributes {why = "no stablehlo.scatter here"} {\n', 1
    )
    assert facts_of_text(named).parsed
    assert not compiler.needs_input_copies(named)


# ---- dispatch bindings --------------------------------------------------------------------


def _chain(n: int, splat_consts: int = 0, dense_consts: int = 0) -> str:
    args = ", ".join(f"%a{i}: tensor<4xf32>" for i in range(n))
    body, acc = [], "%a0"
    for i in range(1, n):
        body.append(f"  %s{i} = stablehlo.add {acc}, %a{i} : tensor<4xf32>")
        acc = f"%s{i}"
    for j in range(splat_consts):
        body.append(f"  %c{j} = stablehlo.constant dense<{j}.0> : tensor<4xf32>")
    for j in range(dense_consts):
        body.append(f"  %d{j} = stablehlo.constant dense<[{j}.0, 1.0, 2.0, 3.0]> : tensor<4xf32>")
    body.append(f"  return {acc} : tensor<4xf32>")
    return _fn(args, "\n".join(body), "tensor<4xf32>")


def test_may_exceed_counts_arguments_and_dense_constants_only():
    assert not may_exceed(_chain(3))
    assert may_exceed(_chain(MAX_SOURCES + 1))
    assert not may_exceed(_chain(MAX_SOURCES, splat_consts=10))  # splats are folded into the code
    assert may_exceed(_chain(MAX_SOURCES, dense_consts=1))  # a dense constant is a buffer


# ---- shape generalization -----------------------------------------------------------------


def test_generalize_refuses_complex_values_not_complex_words():
    mul = lambda t: _fn(  # noqa: E731
        f"%a: tensor<5x3x{t}>",
        f"  %0 = stablehlo.multiply %a, %a : tensor<5x3x{t}>\n  return %0 : tensor<5x3x{t}>",
        f"tensor<5x3x{t}>",
    )
    assert generalize(mul("complex<f32>")) is None
    plain = generalize(mul("f32"))
    assert plain is not None and "tensor<?x?xf32>" in plain
    worded = mul("f32").replace("{\n", 'attributes {note = "complex<f32>"} {\n', 1)
    assert generalize(worded) is not None


def test_unparseable_text_decides_nothing():
    f = facts_of_text("this is not MLIR")
    assert not f.parsed and not f.has_f64 and f.dot_flops == 0.0 and f.count("stablehlo.sort") == 0
    with pytest.raises(compiler.CompileError):
        compiler.compile_stablehlo("func.func @main( {", fresh=True)


# ---- floating-point reductions ----------------------------------------------------------------


def _sum_of(n: int, dtype: str = "f32") -> str:
    body = (
        f"  %z = stablehlo.constant dense<0.0> : tensor<{dtype}>\n"
        f"  %0 = stablehlo.reduce(%a init: %z) applies stablehlo.add across dimensions = [0] : "
        f"(tensor<{n}x{dtype}>, tensor<{dtype}>) -> tensor<{dtype}>\n  return %0 : tensor<{dtype}>"
    )
    return _fn(f"%a: tensor<{n}x{dtype}>", body, f"tensor<{dtype}>")


def _dot_of(k: int) -> str:
    body = (
        f"  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : "
        f"(tensor<4x{k}xf32>, tensor<{k}x4xf32>) -> tensor<4x4xf32>\n  return %0 : tensor<4x4xf32>"
    )
    return _fn(f"%a: tensor<4x{k}xf32>, %b: tensor<{k}x4xf32>", body, "tensor<4x4xf32>")


@pytest.mark.parametrize(
    "text, extent",
    [(ADD_F32, 0), (_sum_of(3), 3), (_sum_of(4096), 4096), (_dot_of(100), 100), (_dot_of(512), 512)],
)
def test_long_reductions_are_reassociated_short_ones_kept_in_order(text, extent):
    assert facts_of_text(text).max_reduction == extent
    flags = compiler.compile_job(text).flags
    assert (compiler.REASSOCIATE in flags) == (extent >= compiler.REASSOCIATE_MIN), flags


def test_cpu_reductions_reassociated_keep_small_terms_short_ones_sum_in_order():
    # IREE's CPU code otherwise adds a reduction's floats in order, one chain: 2^24 + 1 rounds back
    # to 2^24 in float32, so every 1.0 after a leading 2^24 was lost (sum = 2^24, off by 4095).
    # Reassociated into vector lanes only the lane holding 2^24 loses its ones (and a long sum runs
    # ~14x faster: compiler.REASSOCIATE).
    x = np.ones(4096, np.float32)
    x[0] = 2.0**24
    exact = 2.0**24 + 4095
    for total in (irjax.jit(jnp.sum)(jnp.asarray(x)), jnp.sum(jnp.asarray(x)), jnp.asarray(x) @ jnp.ones(4096)):
        assert abs(float(total) - exact) < 1024, float(total)
    # a short sum keeps the in-order result (JAX's too): -1 - 0.4 + 0.2 in float32
    v = np.array([-1.0, -0.4, 0.2], np.float32)
    assert float(irjax.jit(jnp.sum)(jnp.asarray(v))) == float((v[0] + v[1]) + v[2])


@pytest.mark.parametrize("n", [1 << 20, 1_000_003])
def test_long_sums_run_in_two_levels(n):
    # dialects/hlo.py TWO_LEVEL_MIN: blocks of ~sqrt(n), then the block sums (a remainder apart).
    # 1M normal floats: one chain per vector lane was off by 2.2e-3 from the float64 sum (in order
    # 8.1e-3); two levels 1.3e-4 (NumPy's pairwise sum 4.9e-5)
    x = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    exact = float(np.sum(x.astype(np.float64)))
    for total in (irjax.jit(jnp.sum)(x), jnp.sum(jnp.asarray(x)), jnp.mean(jnp.asarray(x)) * n):
        assert abs(float(total) - exact) < 5e-4, (float(total), exact)
    # trailing axes of a batch, and float64
    y = np.random.default_rng(2).standard_normal((3, 4, 20000))
    with irjax.enable_x64(True):
        got = np.asarray(irjax.jit(lambda y: jnp.sum(y, axis=(1, 2)))(jnp.asarray(y)))
    np.testing.assert_allclose(got, y.sum(axis=(1, 2)), rtol=0, atol=1e-10)


def test_long_sums_of_products_and_negations_keep_their_values():
    # dialects/hlo.py PLUS_ZERO_MIN: long float sums add +0.0 to each element so that IREE keeps
    # them in vector lanes (sum(x * x) 483 -> 88 us at 1M); t + 0.0 differs from t only for -0.0,
    # which a sum from +0.0 absorbs alike
    x = np.random.default_rng(3).standard_normal(1 << 16).astype(np.float32)
    x64 = x.astype(np.float64)
    cases = {
        "x * x": (lambda v: jnp.sum(v * v), np.sum(x64 * x64)),
        "2 * x": (lambda v: jnp.sum(2 * v), 2 * np.sum(x64)),
        "-x": (lambda v: jnp.sum(-v), -np.sum(x64)),
        "norm": (jnp.linalg.norm, np.sqrt(np.sum(x64 * x64))),
        "rows of x * x": (lambda v: jnp.sum((v * v).reshape(128, 512), axis=1), (x64 * x64).reshape(128, 512).sum(1)),
    }
    for name, (fn, want) in cases.items():
        np.testing.assert_allclose(np.asarray(irjax.jit(fn)(x)), want, rtol=2e-6, atol=1e-3, err_msg=name)
    negzero = np.full(4096, -0.0, np.float32)
    for total in (irjax.jit(jnp.sum)(negzero), irjax.jit(lambda v: jnp.sum(v * 1.0))(negzero)):
        assert float(total) == 0.0 and not np.signbit(float(total))  # as JAX's: the sum starts at +0.0
    special = x.copy()
    special[7] = np.inf
    assert np.isinf(float(irjax.jit(lambda v: jnp.sum(v * v))(special)))
    special[9] = np.nan
    assert np.isnan(float(irjax.jit(lambda v: jnp.sum(-v))(special)))


def test_var_centers_as_mean_minus_x_so_a_callers_x_minus_mean_stays_its_own():
    # jnp.var squares (mean - x): bit for bit (x - mean)^2, but a different op from the caller's
    # x - mean, which IREE would otherwise merge with it and write out for both uses
    rng = np.random.default_rng(3)
    x = rng.standard_normal(4097).astype(np.float32) * 3 + 1
    f = irjax.jit(lambda x: (x - x.mean()) / x.std())
    text = f.lower(x).as_text()
    subs = [line.split("=", 1)[1].strip() for line in text.splitlines() if '"jx.sub"' in line]
    assert any(s.startswith('"jx.sub"(%arg0,') for s in subs), subs  # the caller's x - mean
    assert any(s.startswith('"jx.sub"(%') and not s.startswith('"jx.sub"(%arg0,') for s in subs), subs
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(np.asarray(f(x)), (x64 - x64.mean()) / x64.std(), rtol=2e-5, atol=2e-5)
    for ddof in (0, 1):
        np.testing.assert_allclose(float(jnp.var(x, ddof=ddof)), np.var(x64, ddof=ddof), rtol=1e-5)
    z = (rng.standard_normal(64) + 1j * rng.standard_normal(64)).astype(np.complex64)
    np.testing.assert_allclose(float(jnp.var(z)), np.var(z.astype(np.complex128)), rtol=1e-5)


# ---- transcendental math on the multi-threaded driver ------------------------------------------


def _unary_chain(t: str, *ops: str) -> str:
    body, v = [], "%a"
    for i, op in enumerate(ops):
        body.append(f"  %{i} = stablehlo.{op} {v} : {t}")
        v = f"%{i}"
    return _fn(f"%a: {t}", "\n".join(body) + f"\n  return {v} : {t}", t)


def test_big_transcendental_modules_run_multithreaded():
    big, small = f"tensor<{1 << 19}xf32>", f"tensor<{1 << 18}xf32>"
    assert compiler.multithreaded(_unary_chain(big, "exponential"))
    assert not compiler.multithreaded(_unary_chain(small, "exponential"))
    assert compiler.multithreaded(_unary_chain(small, "tanh", "sine"))  # 2^18 elements twice
    assert not compiler.multithreaded(_unary_chain(big, "negate", "sqrt", "abs"))  # cheap math
    assert facts_of_text(_unary_chain(small, "tanh", "sine")).transcendental_elements == 1 << 19


def test_modules_with_big_results_run_multithreaded():
    # from 8 MiB of results (local-sync maps fresh pages for each big result, every call)
    assert compiler.multithreaded(_unary_chain(f"tensor<{1 << 21}xf32>", "negate"))
    assert not compiler.multithreaded(_unary_chain(f"tensor<{1 << 20}xf32>", "negate"))
    assert compiler.multithreaded(_unary_chain(f"tensor<{1 << 20}xf64>", "negate"))
    t = f"tensor<{1 << 20}xf32>"
    two = _fn(f"%a: {t}", f"  %0 = stablehlo.negate %a : {t}\n  return %0, %a : {t}, {t}", f"({t}, {t})")
    f = facts_of_text(two)
    assert f.parsed and f.result_bytes == 8 << 20 and f.result_itemsizes == 8
    assert compiler.multithreaded(two)
    # a big input reduced to a scalar writes little: it stays on the calling thread
    total = _fn(
        f"%a: tensor<{1 << 22}xf32>",
        "  %z = stablehlo.constant dense<0.0> : tensor<f32>\n"
        "  %0 = stablehlo.reduce(%a init: %z) applies stablehlo.add across dimensions = [0]"
        f" : (tensor<{1 << 22}xf32>, tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>",
        "tensor<f32>",
    )
    assert not compiler.multithreaded(total)


def test_shape_generic_modules_choose_their_driver_by_input_size():
    # a dynamic shape counts by the ops that see whole inputs: exp(x), not the log of its sum
    assert compiler.parallel_from_elements(_unary_chain("tensor<?xf32>", "exponential")) == 1 << 19
    assert compiler.parallel_from_elements(_unary_chain("tensor<?x?xf32>", "tanh", "logistic")) == 1 << 18
    # (cheap math: by the bytes of its results, 8 MiB)
    assert compiler.parallel_from_elements(_unary_chain("tensor<?xf32>", "negate")) == 1 << 21
    assert compiler.parallel_from_elements(_unary_chain("tensor<?xf64>", "negate")) == 1 << 20
    lse = _fn(
        "%a: tensor<?xf32>",
        "  %0 = stablehlo.exponential %a : tensor<?xf32>\n"
        "  %z = stablehlo.constant dense<0.0> : tensor<f32>\n"
        "  %1 = stablehlo.reduce(%0 init: %z) applies stablehlo.add across dimensions = [0]"
        " : (tensor<?xf32>, tensor<f32>) -> tensor<f32>\n"
        "  %2 = stablehlo.log %1 : tensor<f32>\n  return %2 : tensor<f32>",
        "tensor<f32>",
    )
    assert compiler.parallel_from_elements(lse) == 1 << 19
    # a generic sum writes a scalar, and a static module is decided once, by multithreaded()
    assert compiler.parallel_from_elements(lse.replace("stablehlo.exponential", "stablehlo.negate")) == 0
    assert compiler.parallel_from_elements(_unary_chain(f"tensor<{1 << 22}xf32>", "exponential")) == 0


def test_a_shape_generic_call_takes_the_multithreaded_driver_from_its_size(monkeypatch):
    from irjax.runtime import cpu_wait

    calls = []
    real = cpu_wait.call_batched
    monkeypatch.setattr(cpu_wait, "call_batched", lambda fn, *a: calls.append(fn) or real(fn, *a))
    rng = np.random.default_rng(5)
    f = irjax.jit(lambda x: jnp.tanh(x) * 0.5)
    for n, parallel in ((1000, False), (2000, False), (1 << 19, True), (3000, False), ((1 << 19) + 3, True)):
        x = rng.standard_normal(n).astype(np.float32)
        before = len(calls)
        np.testing.assert_allclose(np.asarray(f(x)), np.tanh(x) * 0.5, rtol=2e-6, atol=1e-6)
        assert len(calls) - before == parallel, n


@pytest.mark.parametrize(
    "shape, axis, reverse",
    [((1 << 18,), 0, False), ((1 << 18,), 0, True), ((3, 50021), 1, False), ((50021, 2), 0, True)],
)
def test_long_float_cumsums_scan_in_two_levels(shape, axis, reverse):
    # a sequential float32 scan (NumPy's, and this lowering's before) drifts ~sqrt(n) ulps of the
    # running sum; blocks of ~sqrt(n) and then their totals keep it several times closer
    x = np.random.default_rng(11).standard_normal(shape).astype(np.float32)

    def scan(v):
        return np.flip(np.cumsum(np.flip(v, axis), axis), axis) if reverse else np.cumsum(v, axis)

    exact = scan(x.astype(np.float64))
    got = np.asarray(irjax.jit(lambda v: irjax.lax.cumsum(v, axis=axis, reverse=reverse))(x))
    assert got.dtype == np.float32 and got.shape == shape
    assert np.abs(got - exact).max() <= np.abs(scan(x) - exact).max() / 4
    np.testing.assert_allclose(got, exact, rtol=1e-5, atol=2e-3)


@pytest.mark.parametrize("shape", [(4096, 1024), (4100, 512), (10, 410, 600), (4100, 256), (4099, 256), (64, 32, 300)])
def test_wide_column_sums_keep_their_values(shape):
    # slabs (>= 512 columns) or blocks of rows for wide rows, the matvec where no divisor fits
    x = np.random.default_rng(13).standard_normal(shape).astype(np.float32)
    axes = (0,) if len(shape) == 2 else (0, 1)
    got = np.asarray(irjax.jit(lambda v: v.sum(axes))(x))
    exact = x.astype(np.float64).sum(axes)
    np.testing.assert_allclose(got, exact, rtol=1e-5, atol=2e-4)
    np.testing.assert_allclose(
        np.asarray(irjax.jit(lambda v: v.mean(0))(x)), x.astype(np.float64).mean(0), rtol=1e-5, atol=1e-6
    )


def _sum(shape: tuple, dims: tuple) -> str:
    t = "x".join(map(str, shape))
    kept = "x".join(str(d) for i, d in enumerate(shape) if i not in dims)
    out = f"tensor<{kept}xf32>" if kept else "tensor<f32>"
    return _fn(
        f"%a: tensor<{t}xf32>",
        "  %z = stablehlo.constant dense<0.0> : tensor<f32>\n"
        f"  %0 = stablehlo.reduce(%a init: %z) applies stablehlo.add across dimensions = [{', '.join(map(str, dims))}]"
        f" : (tensor<{t}xf32>, tensor<f32>) -> {out}\n  return %0 : {out}",
        out,
    )


def test_big_sums_run_multithreaded():
    assert facts_of_text(_sum((128, 32, 1024), (1,))).reduces == ((1 << 22, 1 << 17, False),)
    assert facts_of_text(_sum((16, 256, 1024), (0,))).reduces == ((1 << 22, 1 << 18, True),)
    assert not compiler.multithreaded(_sum((16, 1024, 1024), (0,)))  # a slab stage of a column sum
    assert compiler.multithreaded(_sum((1 << 23,), (0,)))  # a big full sum
    assert not compiler.multithreaded(_sum((1 << 22,), (0,)))
    assert compiler.multithreaded(_sum((64, 32, 1024), (1,)))  # a wide column sum's first stage
    assert not compiler.multithreaded(_sum((2048, 1024), (1,)))  # row sums: 2048 results
    assert not compiler.multithreaded(_sum((32, 32, 1024), (1,)))  # 2^20 elements


def test_wide_column_sums_of_products_and_negations_keep_their_values():
    x = np.random.default_rng(17).standard_normal((2048, 512)).astype(np.float32)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(np.asarray(irjax.jit(lambda v: (v * v).sum(0))(x)), (x64 * x64).sum(0), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(irjax.jit(lambda v: (-v).sum(0))(x)), -x64.sum(0), rtol=1e-5, atol=2e-4)
    z = np.zeros((2048, 512), np.float32)
    assert not np.signbit(np.asarray(irjax.jit(lambda v: (-v).sum(0))(z))).any()  # -0.0 sums to +0.0


@pytest.mark.parametrize("cols", [300, 520])  # blocks, slabs
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_wide_column_max_and_min_in_blocks_and_slabs_are_exact(dtype, cols):
    rng = np.random.default_rng(19)
    x = (rng.standard_normal((4096, cols)) * 1000).astype(dtype)
    if dtype == np.float32:
        x[1234, 7] = np.nan  # NaN wins a max and a min, whichever block it is in
        x[17, 8] = np.inf
    for op in ("max", "min"):
        got = np.asarray(irjax.jit(lambda v, op=op: getattr(v, op)(0))(x))
        np.testing.assert_array_equal(got, getattr(np, op)(x, 0))


@pytest.mark.parametrize("reverse", [False, True])
def test_long_complex_cumsums_scan_in_two_levels_too(reverse):
    # complex sums take the same blocks, padded (100003 is no multiple of the block)
    rng = np.random.default_rng(23)
    z = (rng.standard_normal(100003) + 1j * rng.standard_normal(100003)).astype(np.complex64)

    def scan(v):
        return np.flip(np.cumsum(np.flip(v))) if reverse else np.cumsum(v)

    exact = scan(z.astype(np.complex128))
    got = np.asarray(irjax.jit(lambda v: irjax.lax.cumsum(v, axis=0, reverse=reverse))(z))
    assert got.dtype == np.complex64
    assert np.abs(got - exact).max() <= np.abs(scan(z) - exact).max() / 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,axes",
    [((1 << 15,), None), ((256, 300), (1,)), ((4096, 520), (0,)), ((4096, 300), (0,)), ((64, 32, 16), (0, 2))],
)
def test_float_max_min_as_ordered_integers_keep_ieee_semantics(dtype, shape, axes):
    """Max and min of >= 2^14 floats reduce integer keys (dialects/hlo.py ORDERED_MIN): NaN wins
    wherever it is, -0.0 orders below +0.0 (stablehlo.maximum), infinities and subnormals keep
    their places: NumPy's values, and IEEE's zero signs (which NumPy leaves to the order)."""
    with irjax.enable_x64(dtype == np.float64):
        _check_ordered_max_min(dtype, shape, axes)


def _check_ordered_max_min(dtype, shape, axes):
    rng = np.random.default_rng(23)
    x = rng.standard_normal(shape).astype(dtype) * dtype(1e3)
    flat = x.reshape(-1)
    tiny = np.finfo(dtype).smallest_subnormal
    flat[rng.integers(0, flat.size, 64)] = np.array([-0.0, 0.0, np.inf, -np.inf, tiny, -tiny, 0.0, -0.0] * 8, dtype)
    nan_at = rng.integers(0, flat.size, 3)
    for op in ("max", "min"):
        f = irjax.jit(lambda v, op=op: getattr(v, op)(axes))
        np.testing.assert_array_equal(np.asarray(f(x)), getattr(np, op)(x, axes))
        zeros = np.where(rng.random(shape) < 0.5, dtype(-0.0), dtype(0.0)).astype(dtype)
        got = np.asarray(f(zeros))
        want_neg = op == "min"  # IEEE maximum/minimum: +0.0 is the max of the two zeros, -0.0 the min
        assert (np.signbit(got) == want_neg).all()
        y = x.copy()
        y.reshape(-1)[nan_at] = np.nan
        np.testing.assert_array_equal(np.isnan(np.asarray(f(y))), np.isnan(getattr(np, op)(y, axes)))

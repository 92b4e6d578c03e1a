"""Big f32 matmuls compile with IREE's inner_tiled lowering (runtime/compiler.py INNER_TILED): the
values match NumPy, and a module that lowering cannot take still compiles (retried without it)."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.runtime import compiler


@pytest.fixture
def compiles(tmp_path, monkeypatch, intel_host_cpu):
    """Empty caches, the data-tiling decisions of an Intel CPU (conftest); yields the list of flag lists each IREE attempt got (failed ones included)."""
    monkeypatch.setenv("IRJAX_CACHE_DIR", str(tmp_path / "cache"))
    irjax.clear_caches()
    seen: list[list[str]] = []
    worker, in_process = compiler._compile_in_worker, compiler._compile_in_process

    def record_worker(text, target, flags, what, **kw):
        seen.append(list(flags))
        return worker(text, target, flags, what, **kw)

    def record_in_process(text, target, flags):
        seen.append(list(flags))
        return in_process(text, target, flags)

    monkeypatch.setattr(compiler, "_compile_in_worker", record_worker)
    monkeypatch.setattr(compiler, "_compile_in_process", record_in_process)
    yield seen
    irjax.clear_caches()


rng = np.random.default_rng(0)
A = rng.standard_normal((1024, 1024), dtype=np.float32)
B = rng.standard_normal((1024, 512), dtype=np.float32)
C = rng.standard_normal((512, 256), dtype=np.float32)
AT = np.ascontiguousarray(A.T)

FORMS = {
    "a @ b": (lambda a, b: a @ b, lambda a, b: a @ b, (A, B)),
    "a.T @ b": (lambda a, b: a.T @ b, lambda a, b: a.T @ b, (AT, B)),
    "relu(a @ b)": (lambda a, b: jnp.maximum(a @ b, 0.0), lambda a, b: np.maximum(a @ b, 0.0), (A, B)),
    "2 * (a @ b) - 1": (lambda a, b: 2 * (a @ b) - 1, lambda a, b: 2 * (a @ b) - 1, (A, B)),
    "(a @ b) @ c": (lambda a, b, c: (a @ b) @ c, lambda a, b, c: (a @ b) @ c, (A, B, C)),
}
# dot results that reach a reduction or an array broadcast: the early data-tiling path
# (late data tiling fails to lower these inner_tiled in IREE 3.13)
BIAS = rng.standard_normal(512, dtype=np.float32)
FORMS_EARLY = {
    "a @ b + c": (lambda a, b, c: a @ b + c, lambda a, b, c: a @ b + c, (A, B, BIAS)),
    "relu(a @ b + c)": (
        lambda a, b, c: jnp.maximum(a @ b + c, 0.0),
        lambda a, b, c: np.maximum(a @ b + c, 0.0),
        (A, B, BIAS),
    ),
}


def _check(got, want):
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.max(np.abs(want)))  # f32 sums over K = 1024


@pytest.mark.parametrize("name", [*FORMS, *FORMS_EARLY])
def test_big_matmuls_match_numpy(compiles, name):
    f, ref, args = FORMS[name] if name in FORMS else FORMS_EARLY[name]
    got = np.asarray(irjax.jit(f)(*[jnp.asarray(a) for a in args]))
    assert len(compiles) == 1, compiles  # compiled at the first try, inner_tiled (1.07 GFLOP)
    assert compiler.INNER_TILED in compiles[0]
    tiling = compiler.DATA_TILING if name in FORMS else compiler.EARLY_DATA_TILING
    assert tiling in compiles[0]
    _check(got, ref(*[a.astype(np.float64) for a in args]))


def test_f64_matmuls_use_inner_tiled_from_data_tiling_on(compiles):
    # IREE's default f64 lowering ran 2048^2 in 1.4 s (JAX 0.18 s); inner_tiled 0.19 s
    a = rng.standard_normal((256, 512))
    b = rng.standard_normal((512, 256))
    c = rng.standard_normal(256)
    with irjax.enable_x64(True):
        got = np.asarray(irjax.jit(lambda a, b, c: jnp.tanh(a @ b + c))(jnp.asarray(a), jnp.asarray(b), jnp.asarray(c)))
    assert got.dtype == np.float64
    assert len(compiles) == 1 and compiler.INNER_TILED in compiles[0], compiles  # 67 MFLOP, f64
    np.testing.assert_allclose(got, np.tanh(a @ b + c), rtol=1e-12, atol=1e-12)


def test_a_module_inner_tiled_cannot_lower_is_retried_without_it(compiles, monkeypatch, capfd):
    # x @ w + b with late data tiling: IREE 3.13 fails to lower the fused bias add inner_tiled;
    # forced that way, the compile must still succeed (second try, default lowering), right values
    monkeypatch.setattr(compiler, "inner_tiled_flags", lambda text: [compiler.DATA_TILING, compiler.INNER_TILED])
    got = np.asarray(irjax.jit(lambda a, b, c: a @ b + c)(jnp.asarray(A), jnp.asarray(B), jnp.asarray(BIAS)))
    assert len(compiles) == 2, compiles
    assert compiler.INNER_TILED in compiles[0] and compiler.INNER_TILED not in compiles[1]
    assert compiler.DATA_TILING in compiles[1]  # only the inner_tiled flags are dropped
    _check(got, A.astype(np.float64) @ B + BIAS)
    if compiler.use_worker():  # the rejected attempt's diagnostics are not shown (the retry worked)
        assert "error:" not in capfd.readouterr().err


def test_a_column_sum_of_a_big_product_compiles(compiles):
    # IREE 3.13 fails ones . (a @ b) inner_tiled at 1024^2 (either data-tiling path); a narrow
    # column sum is still that matvec, compiled without inner_tiled (at most a retry)
    narrow = B[:, :64]
    got = np.asarray(irjax.jit(lambda a, b: jnp.sum(a @ b, axis=0))(jnp.asarray(A), jnp.asarray(narrow)))
    assert compiler.INNER_TILED not in compiles[-1] and len(compiles) <= 2, compiles
    _check(got, np.sum(A.astype(np.float64) @ narrow, axis=0))
    # wide rows sum in blocks (dialects/hlo.py BLOCKED_SUM_MIN_COLS): no matvec, one compile
    compiles.clear()
    got = np.asarray(irjax.jit(lambda a, b: jnp.sum(a @ b, axis=0))(jnp.asarray(A), jnp.asarray(B)))
    assert len(compiles) == 1, compiles
    _check(got, np.sum(A.astype(np.float64) @ B, axis=0))


# A weight gradient fused with a momentum update that returns two arrays (v and the parameter):
# IREE 3.13's late data tiling fails on it ("large vector sizes"), the early path compiles it.
G_A = rng.standard_normal((32, 512), dtype=np.float32)
G_B = rng.standard_normal((32, 784), dtype=np.float32)
V = rng.standard_normal((512, 784), dtype=np.float32)
PARAM = rng.standard_normal((512, 784), dtype=np.float32)


def _momentum(a, b, v, p):
    v2 = 0.9 * v + a.T @ b
    return v2, p - 1e-3 * v2


def _momentum_want():
    v2 = 0.9 * V.astype(np.float64) + G_A.T.astype(np.float64) @ G_B
    return v2, PARAM - 1e-3 * v2


def test_matmuls_below_inner_tiled_size_take_the_early_data_tiling_path(compiles):
    got = irjax.jit(lambda *xs: _momentum(*xs))(G_A, G_B, V, PARAM)
    assert len(compiles) == 1, compiles  # no failed compile before it
    assert compiler.EARLY_DATA_TILING in compiles[0] and compiler.DATA_TILING not in compiles[0]
    for g, w in zip(got, _momentum_want()):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-5, atol=1e-4)


def test_a_module_early_data_tiling_cannot_lower_is_retried_late_then_without(compiles, monkeypatch):
    # forced through the late path, which IREE 3.13 fails on this module: the retries still give
    # the right values (early -> late -> no data tiling is the order for a real early failure)
    monkeypatch.setattr(compiler, "inner_tiled_flags", lambda text: [compiler.DATA_TILING])
    got = irjax.jit(lambda *xs: _momentum(*xs))(G_A, G_B, V, PARAM)
    assert len(compiles) == 2, compiles
    assert compiler.DATA_TILING in compiles[0]
    assert not {compiler.DATA_TILING, compiler.EARLY_DATA_TILING} & set(compiles[1])
    for g, w in zip(got, _momentum_want()):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-5, atol=1e-4)


def test_early_data_tiling_failure_retries_with_late_data_tiling(monkeypatch):
    seen = []

    def once(text, target, flags, what=None, verify=True):
        seen.append(list(flags))
        if compiler.EARLY_DATA_TILING in flags:
            raise compiler._InProcessFailed("early path failed")
        return b"vmfb"

    monkeypatch.setattr(compiler, "_compile_in_worker", once)
    monkeypatch.setattr(compiler, "_compile_in_process", once)
    flags = ["--iree-llvmcpu-target-cpu=host", compiler.EARLY_DATA_TILING, compiler.NO_UKERNELS]
    assert compiler._compile("module {}", "llvm-cpu", flags) == b"vmfb"
    assert seen == [flags, ["--iree-llvmcpu-target-cpu=host", compiler.NO_UKERNELS, compiler.DATA_TILING]]


@pytest.mark.parametrize("path", ["early", "late"])
def test_a_bool_operand_converted_for_a_matmul_compiles_once(compiles, monkeypatch, path):
    # bool -> f32 feeding a matmul: IREE 3.13's late data tiling (the inner_tiled path's) folds
    # the conversion into an i1 x f32 matmul it cannot lower; the lowering fences the conversion
    # (reductions._fence_bool_conversion), so neither path needs a second compile
    if path == "late":
        monkeypatch.setattr(compiler, "inner_tiled_flags", lambda text: [compiler.DATA_TILING])
    mask = rng.random((32, 784)) > 0.5
    w = rng.standard_normal((784, 512), dtype=np.float32)
    got = irjax.jit(lambda m, w: jnp.tanh(m.astype(jnp.float32) @ w))(mask, w)
    assert len(compiles) == 1, compiles
    assert (compiler.DATA_TILING if path == "late" else compiler.EARLY_DATA_TILING) in compiles[0]
    np.testing.assert_allclose(np.asarray(got), np.tanh(mask.astype(np.float64) @ w), rtol=0, atol=1e-4)


# Large f64 batched matmuls on the CPU are one 2-D dot per batch element (dialects/reductions.py
# split_f64_batches), so they compile inner_tiled too; batch dims anywhere, several of them, and
# their gradients (batched dots as well) match NumPy.
BATCHED_F64 = {
    "bij,bjk->bik": ((3, 256, 256), (3, 256, 256)),
    "ibj,jbk->bik": ((256, 2, 256), (256, 2, 256)),
    "abij,abjk->abik": ((2, 2, 256, 256), (2, 2, 256, 256)),
}


@pytest.fixture
def sources(compiles, monkeypatch):
    """The StableHLO text of each IREE attempt (with `compiles`, its flags)."""
    texts: list[str] = []
    worker, in_process = compiler._compile_in_worker, compiler._compile_in_process

    def record_worker(text, target, flags, what, **kw):
        texts.append(text)
        return worker(text, target, flags, what, **kw)

    def record_in_process(text, target, flags):
        texts.append(text)
        return in_process(text, target, flags)

    monkeypatch.setattr(compiler, "_compile_in_worker", record_worker)
    monkeypatch.setattr(compiler, "_compile_in_process", record_in_process)
    return texts


@pytest.mark.parametrize("spec", BATCHED_F64)
def test_f64_batched_matmuls_split_into_2d_dots(compiles, sources, spec):
    sa, sb = BATCHED_F64[spec]
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    with irjax.enable_x64(True):
        got = np.asarray(irjax.jit(lambda a, b: jnp.einsum(spec, a, b))(jnp.asarray(a), jnp.asarray(b)))
        loss = irjax.jit(irjax.grad(lambda a, b: jnp.sum(jnp.sin(jnp.einsum(spec, a, b))), argnums=(0, 1)))
        ga, gb = (np.asarray(g) for g in loss(jnp.asarray(a), jnp.asarray(b)))
    batches = int(np.prod(sa) // 256**2)
    for text in (sources[0], sources[-1]):  # the product, then its gradient (three of them)
        assert "batching_dims" not in text, text
    assert sources[0].count("stablehlo.dot_general") == batches
    assert sources[-1].count("stablehlo.dot_general") == 3 * batches
    assert compiler.INNER_TILED in compiles[0] and compiler.INNER_TILED in compiles[-1], compiles
    want = np.einsum(spec, a, b)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # d/da sum(sin(einsum(a, b))) = einsum of cos(...) with b, and likewise for b
    c = np.cos(want)
    ins, out = spec.split("->")
    la, lb = ins.split(",")
    np.testing.assert_allclose(ga, np.einsum(f"{out},{lb}->{la}", c, b), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gb, np.einsum(f"{la},{out}->{lb}", a, c), rtol=1e-10, atol=1e-10)


def test_small_f64_batched_matmuls_stay_batched(sources):
    a, b = rng.standard_normal((4, 32, 16)), rng.standard_normal((4, 16, 8))
    with irjax.enable_x64(True):
        got = np.asarray(irjax.jit(lambda a, b: a @ b)(jnp.asarray(a), jnp.asarray(b)))
    assert sources[0].count("stablehlo.dot_general") == 1 and "batching_dims = [0] x [0]" in sources[0]
    np.testing.assert_allclose(got, a @ b, rtol=1e-12, atol=1e-12)

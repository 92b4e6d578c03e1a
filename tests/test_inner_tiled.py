"""Big f32 matmuls compile with IREE's inner_tiled lowering (runtime/compiler.py INNER_TILED): the
values match NumPy, and a module that lowering cannot take still compiles (retried without it)."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.runtime import compiler


@pytest.fixture
def compiles(tmp_path, monkeypatch):
    """Empty caches; yields the list of flag lists each IREE attempt got (failed ones included)."""
    monkeypatch.setenv("IRJAX_CACHE_DIR", str(tmp_path / "cache"))
    irjax.clear_caches()
    seen: list[list[str]] = []
    worker, in_process = compiler._compile_in_worker, compiler._compile_in_process

    def record_worker(text, target, flags, what):
        seen.append(list(flags))
        return worker(text, target, flags, what)

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
# dot results that reach a reduction or an array broadcast: the default lowering (inner_tiled
# fails to compile these in IREE 3.13)
BIAS = rng.standard_normal(512, dtype=np.float32)
FORMS_DEFAULT = {
    "a @ b + c": (lambda a, b, c: a @ b + c, lambda a, b, c: a @ b + c, (A, B, BIAS)),
    "sum(a @ b, axis=0)": (lambda a, b: jnp.sum(a @ b, axis=0), lambda a, b: np.sum(a @ b, axis=0), (A, B)),
}


@pytest.mark.parametrize("name", [*FORMS, *FORMS_DEFAULT])
def test_big_matmuls_match_numpy(compiles, name):
    f, ref, args = FORMS[name] if name in FORMS else FORMS_DEFAULT[name]
    got = np.asarray(irjax.jit(f)(*[jnp.asarray(a) for a in args]))
    want = ref(*[a.astype(np.float64) for a in args])
    assert len(compiles) == 1, compiles  # compiled at the first try
    assert compiler.DATA_TILING in compiles[0]
    assert (compiler.INNER_TILED in compiles[0]) == (name in FORMS)  # 1.07 GFLOP
    scale = np.max(np.abs(want))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale)  # f32 sums over K = 1024


def test_a_module_inner_tiled_cannot_lower_is_retried_without_it(compiles, monkeypatch):
    # x @ w + b: IREE 3.13 fails to lower the fused bias add that way, so the rule keeps it off;
    # forced on, the compile must still succeed (second try, without the flag) with right values
    monkeypatch.setattr(compiler, "wants_inner_tiled", lambda text: True)
    got = np.asarray(irjax.jit(lambda a, b, c: a @ b + c)(jnp.asarray(A), jnp.asarray(B), jnp.asarray(BIAS)))
    want = A.astype(np.float64) @ B + BIAS
    assert len(compiles) == 2, compiles
    assert compiler.INNER_TILED in compiles[0] and compiler.INNER_TILED not in compiles[1]
    assert compiler.DATA_TILING in compiles[1]  # only the failing flag is dropped
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.max(np.abs(want)))

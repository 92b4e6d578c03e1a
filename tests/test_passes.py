"""The pass registry and the transformation machinery: every pass's example runs, options are
typed and checked, derived functions are memoized per module (never found by name), call-like
ops come from the op registry, and inline is linear on call chains."""

import subprocess
import sys

import numpy as np
import pytest
from irjax.dialects import registry
from irjax.dialects.func import (
    body_ops,
    callees_of,
    find_func,
    func_names,
    parse_module,
)
from irjax.dialects.interpret import evaluate
from irjax.dialects.mlir import enter
from irjax.passes.autodiff import grad_function, jvp_function, vjp_function
from irjax.passes.batching import batch_function
from irjax.passes.cleanup import inline
from irjax.passes.registry import PipelineError, passes, run_pipeline
from irjax.passes.transform import derived_functions

# ---- every registered pass has a runnable before/after example ----------------------------


@pytest.mark.parametrize("name", sorted(passes()))
def test_pass_example_runs(name):
    p = passes()[name]
    assert p.example is not None, f"pass {name} has no example"
    m = parse_module(p.example.before)
    run_pipeline(
        m,
        p.example.pipeline,
        verify_each=name not in ("isolate-column-reductions", "keep-sort-results"),
    )
    with enter():
        text = str(m)
    at = 0
    for line in p.example.after:  # in order, as FileCheck's CHECK lines
        i = text.find(line, at)
        assert i >= 0, f"{name}: {line!r} not found after position {at} in\n{text}"
        at = i + len(line)


# ---- options: declared, typed, checked before anything runs --------------------------------

F = """func.func @f(%x: tensor<3xf32>) -> tensor<f32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.reduce_sum"(%0) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  return %1 : tensor<f32>
}"""


@pytest.mark.parametrize(
    "pipeline,match",
    [
        ("grad{func=f bogus=1}", "pass 'grad' has no option 'bogus'"),
        ("grad{func=f,bogus=1}", "pass 'grad' has no option 'bogus'"),
        (
            "grad{func=f argnums=x}",
            "option 'argnums' expects a comma-separated list of integers",
        ),
        ("grad", "pass 'grad' needs option 'func'"),
        ("batch{func=f axis-size=four}", "option 'axis-size' expects an integer"),
        (
            "batch{func=f in-axes=zero}",
            "option 'in-axes' expects a comma-separated list of axes",
        ),
        (
            "lower-stablehlo{chunk-scans=maybe}",
            "option 'chunk-scans' expects true or false",
        ),
        ("cse{func=a+b}", "option 'func' expects a function name"),
        ("cse,dce{nope=1}", "pass 'dce' has no option 'nope'"),
        ("lower-stablehlo{entry=nope}", "entry function @nope not found"),
        ("jvp{func=nope}", "function @nope not found"),
    ],
)
def test_bad_options_are_rejected(pipeline, match):
    m = parse_module(F)
    with enter():
        before = str(m)
    with pytest.raises((PipelineError, KeyError, ValueError), match=match):
        run_pipeline(m, pipeline)
    if isinstance(match, str) and "has no option" in match:
        with enter():
            assert str(m) == before, "a rejected pipeline must not run any pass"


def test_good_options_parse_to_typed_values():
    m = parse_module(F)
    run_pipeline(
        m,
        "grad{func=f,argnums=0},batch{func=f in-axes=0 axis-size=2},lower-stablehlo{entry=f chunk-scans=false}",
    )
    names = func_names(m)
    assert "f_grad_0" in names and "f_batch_0_2" in names


@pytest.mark.parametrize("pipeline", ["grad{func=f,bogus=1}", "lower-stablehlo{entry=nope}"])
def test_irjax_opt_fails_cleanly_on_bad_options(pipeline):
    proc = subprocess.run(
        [sys.executable, "-m", "irjax.tools.opt", "-p", pipeline],
        input=F.encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert "Traceback" not in err and ("bogus" in err or "@nope" in err), err


# ---- derived functions: memoized per module by key, never found by name ---------------------

USER = (
    F
    + """
func.func @f_jvp(%x: tensor<3xf32>, %t: tensor<3xf32>) -> (tensor<f32>, tensor<f32>) {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  return %0, %0 : tensor<f32>, tensor<f32>
}
func.func @f_batch_0_4(%x: tensor<4x3xf32>) -> tensor<4xf32> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 1>} : (tensor<4x3xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
func.func @f_vjp(%x: tensor<3xf32>, %c: tensor<f32>) -> (tensor<f32>, tensor<3xf32>) {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  return %0, %x : tensor<f32>, tensor<3xf32>
}
"""
)
X = np.array([0.1, 0.5, -0.3], np.float32)


def test_user_functions_named_like_derivatives_are_not_mistaken_for_them():
    m = parse_module(USER)
    j = jvp_function(m, "f")
    b = batch_function(m, "f", (0,), 4)
    v = vjp_function(m, "f")
    g = grad_function(m, "f")
    assert (j, b, v) == ("f_jvp_0", "f_batch_0_4_0", "f_vjp_0")
    t = np.array([1.0, 2.0, 3.0], np.float32)
    _, tan = evaluate(m, j, [X, t])
    np.testing.assert_allclose(tan, np.sum(np.cos(X) * t), rtol=1e-6)
    xs = np.stack([X, 2 * X, -X, X + 1]).astype(np.float32)
    np.testing.assert_allclose(evaluate(m, b, [xs])[0], np.sin(xs).sum(1), rtol=1e-6)
    np.testing.assert_allclose(evaluate(m, g, [X])[1], np.cos(X), rtol=1e-6)
    # the user's functions are untouched and still mean what they meant
    np.testing.assert_allclose(evaluate(m, "f_vjp", [X, np.float32(1)])[1], X)
    assert len(body_ops(find_func(m, "f_jvp"))) == 2


def test_memo_returns_the_same_function_and_is_per_module():
    m = parse_module(F)
    a = jvp_function(m, "f")
    assert jvp_function(m, "f") == a == "f_jvp"
    assert vjp_function(m, "f", (True,)) == vjp_function(m, "f") == "f_vjp"
    n = len(func_names(m))
    jvp_function(m, "f"), vjp_function(m, "f")
    assert len(func_names(m)) == n  # nothing rebuilt
    memo = derived_functions(m)
    assert memo[("f", "jvp")] == "f_jvp" and memo[("f", "vjp", (True,))] == "f_vjp"
    # a module parsed from the printed IR has its own (empty) memo: f_jvp there is a user function
    with enter():
        m2 = parse_module(str(m))
    assert jvp_function(m2, "f") == "f_jvp_0"


# ---- call-like ops are derived from the registry ---------------------------------------------


def test_call_like_ops_come_from_the_records():
    calls = registry.call_like()
    assert {
        "jx.call",
        "jx.cond",
        "jx.while",
        "jx.scan",
        "jx.custom_jvp_call",
        "jx.custom_vjp_call",
        "jx.remat",
    } <= set(calls)
    for name, prim in calls.items():
        assert prim.callee_attrs and prim.verify and prim.impl and prim.lower, name
    m = parse_module("""
func.func @g(%x: tensor<f32>) -> tensor<f32> { return %x : tensor<f32> }
func.func @f(%p: tensor<i1>, %x: tensor<f32>) -> tensor<f32> {
  %0 = "jx.cond"(%p, %x) {branches = [@g, @g]} : (tensor<i1>, tensor<f32>) -> tensor<f32>
  %1 = "jx.remat"(%0) {callee = @g, prevent_cse = true} : (tensor<f32>) -> tensor<f32>
  return %1 : tensor<f32>
}""")
    ops = body_ops(find_func(m, "f"))
    assert [callees_of(op) for op in ops] == [["g", "g"], ["g"], []]


# ---- inline: one listing per function body; a chain of 800 calls inlines in one pass ---------


def _chain(n):
    fs = []
    for i in range(n):
        call = f'%1 = "jx.call"(%0) {{callee = @f{i + 1}}} : (tensor<3xf32>) -> tensor<3xf32>\n  ' if i < n - 1 else ""
        ret = "%1" if i < n - 1 else "%0"
        fs.append(
            f"func.func @f{i}(%x: tensor<3xf32>) -> tensor<3xf32> {{\n"
            f'  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>\n  {call}return {ret} : tensor<3xf32>\n}}'
        )
    return "\n".join(fs)


def test_inline_chain_of_800_is_linear():
    n = 800
    m = parse_module(_chain(n))
    inl = inline(m, "f0")
    assert inl.body_walks == n  # each function's body listed once (the old pass: ~n^2 / 2 copies)
    ops = body_ops(find_func(m, "f0"))
    assert len(ops) == n + 1 and all(op.name == "jx.sin" for op in ops[:-1])
    want = X.copy()
    for _ in range(n):
        want = np.sin(want)
    np.testing.assert_allclose(evaluate(m, "f0", [X])[0], want, rtol=1e-5)
    assert len(body_ops(find_func(m, "f1"))) == 3  # inline{func=f0} leaves the others alone


def test_inline_all_lists_each_body_at_most_twice():
    n = 120
    m = parse_module(_chain(n))
    inl = inline(m)
    assert inl.body_walks <= 2 * n  # before and after its own calls are spliced
    for i in (0, 60, 119):
        assert len(body_ops(find_func(m, f"f{i}"))) == n - i + 1


def test_inline_rejects_recursion():
    m = parse_module("""
func.func @f(%x: tensor<f32>) -> tensor<f32> {
  %0 = "jx.call"(%x) {callee = @g} : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @g(%x: tensor<f32>) -> tensor<f32> {
  %0 = "jx.call"(%x) {callee = @f} : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}""")
    with pytest.raises(RecursionError, match="recursive"):
        inline(m)

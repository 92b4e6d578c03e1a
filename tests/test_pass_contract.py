"""Every pass is registered complete (a runnable example, options declared exactly as its
keywords), and irjax-opt rejects unknown or malformed options before it reads any IR."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from irjax.passes import registry
from irjax.passes.registry import Example, Option, register_pass
from irjax.tools import opt

EX = Example("x", "module {}", ())


@pytest.mark.parametrize("name", sorted(registry.passes()))
def test_pass_declares_its_keywords(name):
    p = registry.passes()[name]
    assert isinstance(p.example, Example)
    params = list(inspect.signature(p.fn).parameters)[1:]
    assert sorted(params) == sorted(o.name.replace("-", "_") for o in p.options)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.options = ()


def _register(name, fn, example=EX, options=()):
    try:
        register_pass(name, "probe", example, options)(fn)
    finally:
        registry._PASSES.pop(name, None)


def test_register_rejects_a_pass_without_example():
    with pytest.raises(ValueError, match="needs an Example"):
        _register("probe-no-example", lambda module: None, example=None)


def test_register_rejects_undeclared_keyword():
    with pytest.raises(ValueError, match="differ from the function's keywords"):
        _register("probe-undeclared", lambda module, depth=1: None)


def test_register_rejects_declared_option_the_function_lacks():
    with pytest.raises(ValueError, match="differ from the function's keywords"):
        _register("probe-extra", lambda module: None, options=(Option("depth", "int", 1),))


def test_register_rejects_unknown_option_kind():
    with pytest.raises(ValueError, match="must be an Option of kind"):
        _register("probe-kind", lambda module, depth=1: None, options=(Option("depth", "float", 1.0),))


def test_register_accepts_a_complete_pass():
    _register("probe-ok", lambda module, max_depth=1: None, options=(Option("max-depth", "int", 1),))
    assert "probe-ok" not in registry.passes()  # (removed again by _register)


@pytest.mark.parametrize(
    "pipeline, message",
    [
        ("grad{func=f bogus=1}", "pass 'grad' has no option 'bogus' (usage: grad{func=<symbol> argnums=<ints>})"),
        ("cse,batch{func=f axis-size=four}", "pass 'batch': option 'axis-size' expects an integer, got 'four'"),
        ("grad", "pass 'grad' needs option 'func'"),
        ("limit-dispatch-bindings{limit=many}", "option 'limit' expects an integer, got 'many'"),
    ],
)
def test_opt_rejects_bad_options_before_reading_input(pipeline, message, tmp_path, capsys):
    # the input is not MLIR: the option error must come first, as one line, no traceback
    src = tmp_path / "bad.mlir"
    src.write_text("this is not MLIR")
    assert opt.main([str(src), "-p", pipeline]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "parse" not in err
    assert message in err and len(err.strip().splitlines()) == 1

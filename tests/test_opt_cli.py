"""The irjax-opt command line: input/output, pass listing, bytecode and clean errors."""

import os
import shutil
import subprocess
import sys

from irjax.dialects.mlir import enter, ir
from irjax.tools import opt

F = """\
func.func @f(%x: tensor<3xf32>) -> tensor<f32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "jx.add"(%0, %1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %3 = "jx.reduce_sum"(%2) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  return %3 : tensor<f32>
}
"""
PASSES = ["lower-stablehlo", "cse", "dce", "inline", "verify", "jvp", "vjp", "grad", "batch"]


def run_opt(*args, stdin=F, binary=False):
    return subprocess.run(
        [sys.executable, "-m", "irjax.tools.opt", *args],
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        capture_output=True,
        timeout=120,
    )


def err(proc) -> str:
    return proc.stderr.decode()


def assert_clean_failure(proc):
    assert proc.returncode == 1, (proc.returncode, err(proc))
    assert "Traceback" not in err(proc)
    assert err(proc).strip(), "no message"


def test_list_passes():
    proc = run_opt("--list-passes")
    assert proc.returncode == 0
    out = proc.stdout.decode()
    for name in PASSES:
        assert f"  {name} " in out
    assert "forward mode" in out  # one-line docs are shown


def test_stdin_to_stdout():
    proc = run_opt("-p", "cse")
    assert proc.returncode == 0, err(proc)
    out = proc.stdout.decode()
    assert out.count('"jx.sin"') == 1
    assert '"jx.add"(%0, %0)' in out
    assert "func.func @f(%arg0: tensor<3xf32>) -> tensor<f32>" in out


def test_file_in_file_out(tmp_path):
    src, dst = tmp_path / "in.mlir", tmp_path / "out.mlir"
    src.write_text(F)
    proc = run_opt(str(src), "-p", "grad{func=f},cse,dce,lower-stablehlo", "-o", str(dst), stdin=b"")
    assert proc.returncode == 0, err(proc)
    assert proc.stdout == b""
    text = dst.read_text()
    assert "func.func @f_grad_0(%arg0: tensor<3xf32>) -> (tensor<f32>, tensor<3xf32>)" in text
    assert "stablehlo.multiply" in text and '"jx.' not in text  # (cos: fdlibm's kernel, no stablehlo.cosine)


def test_unknown_pass_fails_with_message():
    proc = run_opt("-p", "cse,no-such-pass")
    assert_clean_failure(proc)
    assert err(proc).strip() == "<stdin>: error: unknown pass 'no-such-pass' (see irjax-opt --list-passes)"
    assert proc.stdout == b""


def test_malformed_ir_fails_without_traceback(tmp_path):
    bad = tmp_path / "bad.mlir"
    bad.write_text("func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {\n  return %y : tensor<3xf32>\n}\n")
    proc = run_opt(str(bad))
    assert_clean_failure(proc)
    assert err(proc).strip() == f"{bad}:2:10: error: use of undeclared SSA value name"
    proc = run_opt(stdin="this is not MLIR")
    assert_clean_failure(proc)
    assert err(proc).startswith("<stdin>:1:")
    assert len(err(proc).strip().splitlines()) == 1


def test_pass_and_verify_failures_are_clean():
    assert_clean_failure(run_opt("-p", "grad{func=nope}"))
    assert_clean_failure(run_opt("-p", "batch{func=f axis-size=four}"))
    bad = F.replace(
        "tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>", "tensor<3xf32>, tensor<3xf32>) -> tensor<4xf32>", 1
    )
    bad = bad.replace("(%2) {axes = array<i64: 0>} : (tensor<3xf32>)", "(%2) {axes = array<i64: 0>} : (tensor<4xf32>)")
    proc = run_opt("-p", "verify", stdin=bad)
    assert_clean_failure(proc)
    assert err(proc).startswith("<stdin>:4:8: error: 'jx.add'")
    assert_clean_failure(run_opt("--verify-each", "-p", "cse", stdin=bad))
    assert_clean_failure(run_opt("-p", "cse", stdin=b"\xff\xfe\x00"))
    assert_clean_failure(run_opt("/no/such/file.mlir"))


def test_bytecode_round_trip(tmp_path):
    bc = tmp_path / "f.mlirbc"
    proc = run_opt("-p", "cse", "--emit-bytecode", "-o", str(bc))
    assert proc.returncode == 0, err(proc)
    data = bc.read_bytes()
    assert data.startswith(b"ML\xefR")
    with enter():
        m = ir.Module.parse(data)
        assert str(m).count('"jx.sin"') == 1
    back = run_opt(str(bc), stdin=b"")  # the tool reads bytecode as well as text
    assert back.returncode == 0, err(back)
    assert '"jx.add"(%0, %0)' in back.stdout.decode()
    piped = run_opt("--emit-bytecode")  # to stdout
    assert piped.stdout.startswith(b"ML\xefR")


def test_split_input_file_and_verify_diagnostics():
    text = (
        F
        + "\n// -----\n"
        + (
            "func.func @g(%a: tensor<3xf32>, %b: tensor<4xf32>) -> tensor<3xf32> {\n"
            "  // expected-error @+1 {{needs operands of one shape}}\n"
            '  %0 = "jx.add"(%a, %b) : (tensor<3xf32>, tensor<4xf32>) -> tensor<3xf32>\n'
            "  return %0 : tensor<3xf32>\n}\n"
        )
    )
    ok = run_opt("--split-input-file", "--verify-diagnostics", "-p", "verify", stdin=text)
    assert ok.returncode == 0, err(ok)
    plain = run_opt("--split-input-file", "-p", "verify", stdin=text)
    assert_clean_failure(plain)
    assert err(plain).startswith("<stdin>:12:8: error:")  # a line of the whole input
    both = run_opt("--split-input-file", stdin=text)
    assert both.returncode == 0 and both.stdout.decode().count("// -----\n") == 1


def test_print_ir_after_all_goes_to_stderr():
    proc = run_opt("-p", "cse,dce", "--print-ir-after-all")
    assert proc.returncode == 0
    assert "// -----// IR Dump After cse //----- //" in err(proc)
    assert "// -----// IR Dump After dce //----- //" in err(proc)
    assert "IR Dump" not in proc.stdout.decode()


def test_main_in_process(tmp_path, capsys):
    src = tmp_path / "f.mlir"
    src.write_text(F)
    assert opt.main([str(src), "-p", "dce"]) == 0
    assert "func.func @f" in capsys.readouterr().out
    assert opt.main([str(src), "-p", "bogus"]) == 1
    assert "unknown pass 'bogus'" in capsys.readouterr().err


def test_console_script():
    # the installed entry point: beside this interpreter (a venv's bin/, not always on PATH)
    script = os.path.join(os.path.dirname(sys.executable), "irjax-opt")
    if not os.path.exists(script):
        script = shutil.which("irjax-opt")
    assert script, "irjax-opt is not installed (pip install -e . installs it next to python)"
    proc = subprocess.run([script, "--list-passes"], capture_output=True, timeout=120, env=os.environ)
    assert proc.returncode == 0 and b"lower-stablehlo" in proc.stdout

"""irjax-run and irjax-opt: outputs written atomically (a failed write keeps the old file),
and irjax-run refuses input values its dtype cannot hold instead of wrapping them."""

from __future__ import annotations

import irjax
import numpy as np
import pytest
from child_process import run_tool, run_tool_limited
from irjax.tools.run import SpecError, parse_input

IR = """func.func @f(%a: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.sin"(%a) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
"""


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    path = tmp_path_factory.mktemp("art") / "twice.irjax"
    irjax.export(irjax.jit(lambda x: x * 2))(np.zeros(4096, np.float32)).save(str(path))
    return path


def _run_limited(tool: str, *args):
    """The tool with every file write capped at 4 KiB (a write past it fails, like a full disk)."""
    return run_tool_limited(tool, *args, max_file_bytes=4096)


def test_run_output_failed_write_keeps_old_file(artifact, tmp_path):
    out = tmp_path / "y.npy"
    old = np.arange(5, dtype=np.int32)
    np.save(out, old)
    before = out.read_bytes()
    p = _run_limited("run", str(artifact), "--input", "f32[4096]=1", "--output", str(out), "-q")
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stderr.startswith(f"irjax-run: error: cannot write output '{out}': "), p.stderr
    assert "Traceback" not in p.stderr
    assert out.read_bytes() == before  # intact, not truncated
    assert [f.name for f in tmp_path.iterdir()] == ["y.npy"]  # no temp file left behind


def test_run_output_succeeds_and_replaces(artifact, tmp_path):
    out = tmp_path / "y.npy"
    np.save(out, np.arange(5))
    p = run_tool("run", str(artifact), "--input", "f32[4096]=1.5", "--output", str(out), "-q")
    assert p.returncode == 0, p.stderr
    np.testing.assert_array_equal(np.load(out), np.full(4096, 3.0, np.float32))


def test_run_output_into_missing_directory(artifact, tmp_path):
    out = tmp_path / "nodir" / "y.npy"
    p = run_tool("run", str(artifact), "--input", "f32[4096]=1", "--output", str(out), "-q")
    err = p.stderr.decode()
    assert p.returncode == 1 and f"irjax-run: error: cannot write output '{out}': No such file or directory" in err, err


def _long_ir(n: int) -> str:
    body = "".join(f'  %{i + 1} = "jx.sin"(%{i}) : (tensor<3xf32>) -> tensor<3xf32>\n' for i in range(n))
    return f"func.func @f(%0: tensor<3xf32>) -> tensor<3xf32> {{\n{body}  return %{n} : tensor<3xf32>\n}}\n"


def test_opt_output_failed_write_keeps_old_file(tmp_path):
    src = tmp_path / "in.mlir"
    src.write_text(_long_ir(200))  # ~14 KiB of lowered IR
    out = tmp_path / "out.mlir"
    out.write_text("// precious\n" * 10)
    # the lowered module is larger than the 4 KiB cap: its write fails
    p = _run_limited("opt", str(src), "-p", "lower-stablehlo", "--mlir-print-op-generic", "-o", str(out))
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"irjax-opt: error: cannot write '{out}': File too large" in p.stderr and "Traceback" not in p.stderr
    assert out.read_text() == "// precious\n" * 10
    assert sorted(f.name for f in tmp_path.iterdir()) == ["in.mlir", "out.mlir"]


def test_opt_output_succeeds(tmp_path):
    src = tmp_path / "in.mlir"
    src.write_text(IR)
    out = tmp_path / "out.mlir"
    out.write_text("old")
    p = run_tool("opt", str(src), "-p", "lower-stablehlo", "-o", str(out))
    assert p.returncode == 0, p.stderr
    text = out.read_text()  # (sin lowers to fdlibm's kernel in float64, no stablehlo.sine)
    assert "stablehlo." in text and '"jx.' not in text


@pytest.mark.parametrize(
    "spec, msg",
    [
        ("i8[3]=300 1 2", "300 is out of range for int8 [-128, 127]"),
        ("i8[1]=-129", "-129 is out of range for int8"),
        ("u8[2]=-1 3", "-1 is out of range for uint8 [0, 255]"),
        ("u32[1]=4294967296", "4294967296 is out of range for uint32"),
        ("i64[1]=9223372036854775808", "out of range for int64"),
        ("f16[1]=70000", "70000 is out of range for float16"),
        ("f32[1]=1e39", "1e39 is out of range for float32"),
        ("i32[1]=1.5", "'1.5' is not an integer"),
        ("bool[2]=1 2", "'2' is not a bool"),
    ],
)
def test_run_refuses_values_out_of_dtype_range(spec, msg):
    with pytest.raises(SpecError, match="cannot read the values") as e:
        parse_input(spec)
    assert msg in str(e.value)


@pytest.mark.parametrize(
    "spec, want",
    [
        ("i8[3]=-128 127 0", np.array([-128, 127, 0], np.int8)),
        ("u8[2]=255 0", np.array([255, 0], np.uint8)),
        ("u64[1]=18446744073709551615", np.array([2**64 - 1], np.uint64)),
        ("f16[2]=65504 -65504", np.array([65504, -65504], np.float16)),
        ("f32[2]=inf -inf", np.array([np.inf, -np.inf], np.float32)),
        ("bool[3]=1 false true", np.array([True, False, True])),
    ],
)
def test_run_reads_values_at_dtype_limits(spec, want):
    got = parse_input(spec)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_run_cli_out_of_range_is_a_clean_error(artifact):
    p = run_tool("run", str(artifact), "--input", "i8[3]=300 1 2")
    err = p.stderr.decode()
    assert p.returncode == 1 and "300 is out of range for int8" in err and "Traceback" not in err, err

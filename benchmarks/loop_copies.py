"""When IREE copies a loop-carried buffer on every iteration: the cost floor of irjax's scans.

    python benchmarks/loop_copies.py            # prints a markdown table

Each variant is a stablehlo.while of 25 iterations writing a 40x64 f32 block into a carried
1000x64 buffer with dynamic_update_slice (the way a scan stacks its outputs); they differ in
what else the loop body holds. Compiled with iree-compile for llvm-cpu (irjax's CPU flags) and
timed with iree-benchmark-module on local-sync. Every variant copies the whole buffer (256 KB)
on every iteration: the stream IR (`--compile-to=stream`) shows a `stream.cmd.copy` of it
inside the loop, first variant included (checked 2026-12-06; an earlier note here called that
one in place), except the second: a flow.tensor.transfer of the carried buffer to the device at
the top of the body gives it the affinity IREE's analysis missed, and IREE updates it in place
(dialects/control_flow.py, place_stacks). The others add a host read-back or a nested loop's
copies on top.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

from iree.compiler.tools.binaries import find_tool

T, L, W = 1000, 40, 64  # buffer rows, block rows, row width
BUF, BLK = f"tensor<{T}x{W}xf32>", f"tensor<{L}x{W}xf32>"
I32 = "tensor<i32>"


def _loop(body: str, extra_args: str = "") -> str:
    return f"""func.func @main(%x: {BUF}{extra_args}) -> {BUF} {{
  %c0 = stablehlo.constant dense<0> : {I32}
  %r:2 = stablehlo.while(%i = %c0, %acc = %x) : {I32}, {BUF}
  cond {{
    %n = stablehlo.constant dense<{T // L}> : {I32}
    %p = stablehlo.compare LT, %i, %n, SIGNED : ({I32}, {I32}) -> tensor<i1>
    stablehlo.return %p : tensor<i1>
  }} do {{
    %z = stablehlo.constant dense<0> : {I32}
    %cL = stablehlo.constant dense<{L}> : {I32}
    %off = stablehlo.multiply %i, %cL : {I32}
{body}
    %u = stablehlo.dynamic_update_slice %acc, %blk, %off, %z : ({BUF}, {BLK}, {I32}, {I32}) -> {BUF}
    %one = stablehlo.constant dense<1> : {I32}
    %j = stablehlo.add %i, %one : {I32}
    stablehlo.return %j, %u : {I32}, {BUF}
  }}
  return %r#1 : {BUF}
}}
"""


# the block written: computed in the loop body (a dispatch)
_COMPUTED = f"""    %f = stablehlo.convert %i : ({I32}) -> tensor<f32>
    %blk = stablehlo.broadcast_in_dim %f, dims = [] : (tensor<f32>) -> {BLK}"""

# ... read from an input at an offset the host must read back from the device (irjax's unrolled
# scan steps use such optimization_barrier'd offsets so that IREE does not specialize each copy)
_READ_BACK = f"""    %k = stablehlo.constant dense<3> : {I32}
    %kb = stablehlo.optimization_barrier %k : {I32}
    %ofs = stablehlo.add %off, %kb : {I32}
    %src_blk = stablehlo.dynamic_slice %src, %ofs, %z, sizes = [{L}, {W}] : ({BUF}, {I32}, {I32}) -> {BLK}
    %blk = stablehlo.exponential %src_blk : {BLK}"""

# ... built by an inner loop of 5 iterations writing 8 rows each (irjax's chunked scans)
_NESTED = f"""    %c00 = stablehlo.constant dense<0> : {I32}
    %chunk0 = stablehlo.constant dense<0.0> : {BLK}
    %q:2 = stablehlo.while(%t = %c00, %ch = %chunk0) : {I32}, {BLK}
    cond {{
      %nn = stablehlo.constant dense<{L}> : {I32}
      %pp = stablehlo.compare LT, %t, %nn, SIGNED : ({I32}, {I32}) -> tensor<i1>
      stablehlo.return %pp : tensor<i1>
    }} do {{
      %f = stablehlo.convert %t : ({I32}) -> tensor<f32>
      %rows = stablehlo.broadcast_in_dim %f, dims = [] : (tensor<f32>) -> tensor<8x{W}xf32>
      %zz = stablehlo.constant dense<0> : {I32}
      %w = stablehlo.dynamic_update_slice %ch, %rows, %t, %zz : ({BLK}, tensor<8x{W}xf32>, {I32}, {I32}) -> {BLK}
      %c8 = stablehlo.constant dense<8> : {I32}
      %t2 = stablehlo.add %t, %c8 : {I32}
      stablehlo.return %t2, %w : {I32}, {BLK}
    }}
    %blk = stablehlo.exponential %q#1 : {BLK}"""

# ... as the first, from a buffer of its own (not the caller's argument, which IREE must not
# write) placed on the device at the top of the body: how irjax's CPU scans stack their outputs
# (lower-stablehlo{place-stacks}); IREE updates it in place
_PLACED = (
    _loop(_COMPUTED)
    .replace(
        "  } do {\n",
        f"  }} do {{\n    %acc_d = flow.tensor.transfer %acc : {BUF} to #hal.device.promise<@__device_0>\n",
    )
    .replace("dynamic_update_slice %acc,", "dynamic_update_slice %acc_d,")
    .replace("%acc = %x)", "%acc = %own)")
    .replace(
        f"  %c0 = stablehlo.constant dense<0> : {I32}\n",
        f"  %c0 = stablehlo.constant dense<0> : {I32}\n  %own = stablehlo.exponential %x : {BUF}\n",
    )
)

VARIANTS = {
    "block computed in the body": (_loop(_COMPUTED), 1),
    "block computed in the body, buffer placed (irjax's scans)": (_PLACED, 1),
    "block read at a read-back offset": (_loop(_READ_BACK, f", %src: {BUF}"), 2),
    "block from a nested loop": (_loop(_NESTED), 1),
}
FLAGS = ["--iree-hal-target-backends=llvm-cpu", "--iree-input-type=stablehlo", "--iree-llvmcpu-target-cpu=host"]
FLAGS.append("--iree-opt-const-eval=false")


def measure(text: str, n_inputs: int, d: str, name: str) -> float:
    src, vmfb = os.path.join(d, f"{name}.mlir"), os.path.join(d, f"{name}.vmfb")
    with open(src, "w") as f:
        f.write(text)
    subprocess.run([find_tool("iree-compile"), *FLAGS, src, "-o", vmfb], check=True)
    # (installed by iree-base-runtime beside the interpreter's scripts)
    bench = shutil.which("iree-benchmark-module") or os.path.join(
        os.path.dirname(sys.executable), "iree-benchmark-module"
    )
    inputs = [f"--input={T}x{W}xf32"] * n_inputs
    cmd = [bench, f"--module={vmfb}", "--device=local-sync", "--function=main", *inputs]
    out = subprocess.run([*cmd, "--benchmark_min_time=0.5"], check=True, capture_output=True, text=True).stdout
    ms = re.search(r"BM_main/process_time/real_time\s+([\d.]+) (ms|us)", out)
    return float(ms.group(1)) * (1 if ms.group(2) == "ms" else 1e-3)


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f}\n")
    print("| loop body | ms a call |")
    print("|---|---|")
    with tempfile.TemporaryDirectory() as d:
        for i, (what, (text, n_inputs)) in enumerate(VARIANTS.items()):
            print(f"| {what} | {measure(text, n_inputs, d, f'v{i}'):.2f} |")


if __name__ == "__main__":
    main()

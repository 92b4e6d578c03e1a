"""StableHLO collectives for IREE's CUDA target: each op as a one-function module over n
participants (module()), compiled by tests/test_sharding_cuda_collectives.py without a GPU.
Run on a GPU (scripts/gpu_check.sh, stage cuda_collectives), it compiles them for one
participant and runs each on the cuda driver, printing what IREE does (NCCL channel or error).

usage: cuda_collectives.py [--target sm_80]"""

import sys

import numpy as np

OPS = ("all_reduce", "all_gather", "reduce_scatter", "all_to_all", "collective_permute")
_SUM = """({
  ^bb0(%a: tensor<f32>, %b: tensor<f32>):
    %s = stablehlo.add %a, %b : tensor<f32>
    stablehlo.return %s : tensor<f32>
  })"""


def module(op: str, n: int) -> tuple[str, tuple, tuple]:
    """(MLIR text of @main, input shape, result shape) for `op` over participants 0..n-1."""
    groups = f"replica_groups = dense<[[{', '.join(map(str, range(n)))}]]> : tensor<1x{n}xi64>"
    chan = "channel_handle = #stablehlo.channel_handle<handle = 1, type = 1>"
    if op == "all_reduce":
        i, o = (4,), (4,)
        body = f'"stablehlo.all_reduce"(%x) {_SUM} {{{groups}, {chan}, use_global_device_ids}}'
    elif op == "all_gather":
        i, o = (2, 4), (2 * n, 4)
        body = f'"stablehlo.all_gather"(%x) {{all_gather_dim = 0 : i64, {groups}, {chan}, use_global_device_ids}}'
    elif op == "reduce_scatter":
        i, o = (2 * n, 4), (2, 4)
        body = f'"stablehlo.reduce_scatter"(%x) {_SUM} {{scatter_dimension = 0 : i64, {groups}, {chan}, use_global_device_ids}}'
    elif op == "all_to_all":
        i, o = (2 * n, 4), (2 * n, 4)
        body = (
            f'"stablehlo.all_to_all"(%x) {{split_dimension = 0 : i64, concat_dimension = 0 : i64, '
            f"split_count = {n} : i64, {groups}, {chan}}}"
        )
    elif op == "collective_permute":
        i, o = (4,), (4,)
        pairs = ", ".join(f"[{k}, {(k + 1) % n}]" for k in range(n))
        body = (
            f'"stablehlo.collective_permute"(%x) {{source_target_pairs = dense<[{pairs}]> : tensor<{n}x2xi64>, {chan}}}'
        )
    else:
        raise ValueError(f"unknown collective {op!r}")

    def t(shape):
        return f"tensor<{'x'.join(map(str, shape))}xf32>"

    text = f"func.func @main(%x: {t(i)}) -> {t(o)} {{\n  %r = {body} : ({t(i)}) -> {t(o)}\n  return %r : {t(o)}\n}}\n"
    return text, i, o


def compile_for_cuda(op: str, n: int, target: str = "sm_80") -> bytes:
    import iree.compiler as ic

    text, _, _ = module(op, n)
    return ic.compile_str(
        text, target_backends=["cuda"], input_type="stablehlo", extra_args=[f"--iree-cuda-target={target}"]
    )


def main(target: str) -> int:
    """One participant on this process's GPU: each collective is the identity there."""
    import iree.runtime as rt

    bad = 0
    for op in OPS:
        _, i, _ = module(op, 1)
        x = np.arange(np.prod(i), dtype=np.float32).reshape(i)
        try:
            vmfb = compile_for_cuda(op, 1, target)
            config = rt.Config("cuda")
            ctx = rt.SystemContext(config=config)
            ctx.add_vm_module(rt.VmModule.copy_buffer(config.vm_instance, vmfb))
            got = np.asarray(ctx.modules.module["main"](x))
            ok = np.array_equal(got, x)
            print(f"{op}: ran, {'equal to' if ok else 'DIFFERENT from'} the identity", flush=True)
            bad += not ok
        except Exception as e:  # the finding is what IREE says: print it, then go on to the next op
            text = f"{e} <- {e.__cause__ or e.__context__}" if (e.__cause__ or e.__context__) else str(e)
            said = " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())
            print(f"{op}: {type(e).__name__}: {said[:600]}", flush=True)
            bad += 1
    print(f"{len(OPS) - bad} of {len(OPS)} collectives ran on CUDA with one participant", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(args[args.index("--target") + 1] if "--target" in args else "sm_80"))

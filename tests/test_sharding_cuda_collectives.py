"""IREE 3.13 compiles StableHLO's collectives for the CUDA target without a GPU: each op over 2
participants (tests/mpi_programs/cuda_collectives.py) becomes a module that creates a HAL
channel (NCCL on the cuda driver) and records a collective command. Running them needs a GPU:
scripts/gpu_check.sh's cuda_collectives stage (docs/distributed.md)."""

import importlib.util

import pytest
from conftest import REPO

spec = importlib.util.spec_from_file_location(
    "cuda_collectives", REPO / "tests" / "mpi_programs" / "cuda_collectives.py"
)
cc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cc)


@pytest.mark.parametrize("op", cc.OPS)
def test_collective_compiles_for_cuda(op):
    vmfb = cc.compile_for_cuda(op, 2)
    assert vmfb[:2] == b"PK" and b"module.fb" in vmfb  # a .vmfb (a zip around the VM flatbuffer)
    for name in (b"cuda-nvptx-fb", b"hal.channel.create", b"hal.command_buffer.collective"):
        assert name in vmfb, (op, name)


def test_an_ill_formed_collective_is_a_compile_error():
    """The compiler checks what it is given: an all_gather whose result shape disagrees fails."""
    import iree.compiler as ic

    text, _, _ = cc.module("all_gather", 2)
    with pytest.raises(ic.CompilerToolError):
        ic.compile_str(
            text.replace("tensor<4x4xf32>", "tensor<5x4xf32>"),
            target_backends=["cuda"],
            input_type="stablehlo",
            extra_args=["--iree-cuda-target=sm_80"],
        )

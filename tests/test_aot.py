"""Ahead-of-time artifacts: export/save/load round trips, runtime-only loading, bad files and
inputs, and the irjax-compile / irjax-run command lines."""

import json
import os
import struct
import subprocess
import sys
import textwrap

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.runtime import artifact as art

RNG = np.random.default_rng(0)


def _params():
    return {"w": RNG.standard_normal((4, 3)).astype(np.float32), "b": RNG.standard_normal(3).astype(np.float32)}


BIAS = None


def model(params, x):
    """A pytree in (dict + array), a pytree out (dict of tuple + None), and a captured constant."""
    h = jnp.tanh(x @ params["w"] + params["b"]) * BIAS
    return {"y": h, "stats": (h.sum(), jnp.max(h)), "none": None}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    global BIAS
    BIAS = jnp.asarray(np.array([1.5, -2.0, 0.5], np.float32))
    p, x = _params(), RNG.standard_normal((5, 4)).astype(np.float32)
    e = irjax.export(irjax.jit(model))(
        {"w": irjax.ShapeDtypeStruct((4, 3), np.float32), "b": irjax.ShapeDtypeStruct((3,), np.float32)},
        irjax.ShapeDtypeStruct((5, 4), np.float32),
    )
    path = tmp_path_factory.mktemp("aot") / "model.irjax"
    e.save(path)
    expect = irjax.jit(model)(p, x)
    return e, str(path), p, x, expect


def _close(got, want):
    gl, wl = irjax.tree_util.tree_leaves(got), irjax.tree_util.tree_leaves(want)
    assert len(gl) == len(wl)
    for g, w in zip(gl, wl):
        assert isinstance(g, np.ndarray)
        np.testing.assert_allclose(g, np.asarray(w), rtol=1e-6, atol=1e-6)


def run_py(code: str, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True, timeout=timeout
    )


def cli(tool: str, *args, cwd=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", f"irjax.tools.{tool}", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def clean_failure(proc, *words):
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr


# ---- export and the manifest -------------------------------------------------------------------


def test_exported_avals_and_manifest(exported):
    e, path, *_ = exported
    assert [(a.shape, a.dtype) for a in e.in_avals] == [((3,), np.float32), ((4, 3), np.float32), ((5, 4), np.float32)]
    assert [a.shape for a in e.out_avals] == [(), (), (5, 3)]
    m = e.manifest
    assert m["format_version"] == art.FORMAT_VERSION and m["targets"] == ["llvm-cpu"]
    assert m["iree_runtime_version"] not in ("", None)
    ep = m["entry_points"]["main"]
    assert ep["in_tree"]["t"] == "tuple" and ep["copy_inputs"] is False
    assert ep["in_avals"][0] == {"shape": [3], "dtype": "float32"}
    assert len(ep["consts"]) == 1  # the captured BIAS
    assert all(len(s["sha256"]) == 64 for s in m["sections"].values())
    with open(path, "rb") as f:
        assert f.read(len(art.MAGIC)) == art.MAGIC
    assert art.load(path).manifest["entry_points"].keys() == {"main"}


def test_in_process_call_matches_jit(exported):
    e, path, p, x, expect = exported
    _close(e.call(p, x), expect)
    loaded = irjax.runtime.load(path)
    got = loaded(p, x)
    assert got["none"] is None and isinstance(got["stats"], tuple)
    _close(got, expect)
    _close(loaded.entry("main")(p, x), expect)
    # irjax Arrays go in through __array__
    _close(loaded(irjax.tree_util.tree_map(jnp.asarray, p), jnp.asarray(x)), expect)


def test_fresh_runtime_only_process(exported, tmp_path):
    e, path, p, x, expect = exported
    np.savez(tmp_path / "in.npz", w=p["w"], b=p["b"], x=x)
    code = """
        import sys, numpy as np
        import irjax.runtime
        a = np.load(sys.argv[2])
        loaded = irjax.runtime.load(sys.argv[1])
        out = loaded({"w": a["w"], "b": a["b"]}, a["x"])
        assert out["none"] is None
        np.savez(sys.argv[3], y=out["y"], s0=out["stats"][0], s1=out["stats"][1])
        bad = [m for m in sys.modules if m.startswith(("iree.compiler", "irjax.core", "irjax.api", "irjax.numpy",
               "irjax.tracing", "irjax.passes", "irjax.dialects", "jax"))]
        assert not bad, bad
        print("ok", sorted(loaded.entry_points))
    """
    r = run_py(code, path, str(tmp_path / "in.npz"), str(tmp_path / "out.npz"))
    assert r.returncode == 0, r.stderr
    assert "ok ['main']" in r.stdout
    out = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(out["y"], np.asarray(expect["y"]), rtol=1e-6)
    np.testing.assert_allclose(out["s0"], np.asarray(expect["stats"][0]), rtol=1e-6)
    np.testing.assert_allclose(out["s1"], np.asarray(expect["stats"][1]), rtol=1e-6)


def test_tied_ops_record_copy_inputs(tmp_path):
    const = jnp.asarray(np.array([3.0, 1.0, 2.0], np.float32))

    def f(x):
        return jnp.sort(x), const.at[0].set(x[0]), jnp.sort(const)

    x = np.array([9.0, 7.0, 8.0], np.float32)
    e = irjax.export(irjax.jit(f))(x)
    assert e.manifest["entry_points"]["main"]["copy_inputs"] is True
    e.save(tmp_path / "t.irjax")
    loaded = art.load(tmp_path / "t.irjax")
    for _ in range(3):  # the constant must not be overwritten in place between calls
        _close(loaded(x), f(x))
    assert x.tolist() == [9.0, 7.0, 8.0]


def test_matmul_heavy_entry_points_run_multithreaded(tmp_path):
    # >= 20 MFLOP of matmul: recorded in the manifest, run on the CPU's local-task driver as
    # jit does (an MLP step 9.6 -> 5.5 ms through an artifact here)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((256, 256)).astype(np.float32), rng.standard_normal((256, 256)).astype(np.float32)
    big = irjax.export(irjax.jit(lambda a, b: jnp.tanh(a @ b)))(a, b)
    small = irjax.export(irjax.jit(lambda a: a + 1))(a)
    assert big.manifest["entry_points"]["main"]["parallel"] is True
    assert small.manifest["entry_points"]["main"]["parallel"] is False
    big.save(tmp_path / "big.irjax")
    loaded = art.load(tmp_path / "big.irjax")
    np.testing.assert_allclose(loaded(a, b), np.tanh(a @ b), rtol=1e-4, atol=1e-4)
    assert loaded.main._exe.parallel
    small.save(tmp_path / "small.irjax")
    tiny = art.load(tmp_path / "small.irjax")
    np.testing.assert_array_equal(tiny(a), a + 1)
    assert not tiny.main._exe.parallel


def test_several_entry_points_and_targets(tmp_path):
    def loss(w, x):
        return jnp.sum(jnp.sin(x @ w) ** 2)

    w, x = np.ones((3, 2), np.float32), RNG.standard_normal((4, 3)).astype(np.float32)
    fwd = irjax.export(irjax.jit(loss), targets=["llvm-cpu", "vulkan-spirv"])(w, x)
    step = irjax.export(irjax.jit(lambda w, x: w - 0.1 * irjax.grad(loss)(w, x)), targets=["llvm-cpu", "vulkan-spirv"])(
        w, x
    )
    irjax.export.save(tmp_path / "two.irjax", {"forward": fwd, "step": step})
    loaded = art.load(tmp_path / "two.irjax", device="cpu")
    assert loaded.manifest["targets"] == ["llvm-cpu", "vulkan-spirv"] and loaded.target == "llvm-cpu"
    assert set(loaded.entry_points) == {"forward", "step"}
    np.testing.assert_allclose(loaded["forward"](w, x), loss(w, x), rtol=1e-5)
    np.testing.assert_allclose(loaded.step(w, x), w - 0.1 * np.asarray(irjax.grad(loss)(w, x)), rtol=1e-5)
    with pytest.raises(art.EntryPointError, match="several entry points"):
        loaded(w, x)


def test_gpu_exports_lower_as_jit_does_for_gpus():
    """An export for a GPU target gets the GPUs' lowering options (runtime.targets), as jit on
    that GPU would: an FFT becomes DFT matmuls (IREE's GPU code generators take no
    stablehlo.fft); a CPU-only export keeps stablehlo.fft. Both artifacts agree with NumPy."""
    x = RNG.standard_normal((4, 8)).astype(np.float32)
    want = np.abs(np.fft.rfft(x, axis=-1))

    def spectrum(x):
        return jnp.abs(jnp.fft.rfft(x, axis=-1))

    cpu = irjax.export(irjax.jit(spectrum), targets=["llvm-cpu"])(x)
    both = irjax.export(irjax.jit(spectrum), targets=["llvm-cpu", "vulkan-spirv"])(x)
    assert "stablehlo.fft" in cpu.mlir_module()
    assert "stablehlo.fft" not in both.mlir_module() and "stablehlo.dot_general" in both.mlir_module()
    for e in (cpu, both):
        np.testing.assert_allclose(e.call(x), want, rtol=1e-4, atol=1e-4)


def test_jax_style_namespace(exported):
    e = irjax.export.export(irjax.jit(lambda x: x + 1))(irjax.ShapeDtypeStruct((2,), np.int32))
    np.testing.assert_array_equal(e.call(np.array([1, 2], np.int32)), [2, 3])
    np.testing.assert_array_equal(irjax.export.deserialize(e.serialize())(np.array([5, 6], np.int32)), [6, 7])
    assert "stablehlo.add" in e.mlir_module()


def test_lowered_and_compiled_stages():
    f = irjax.jit(lambda x: jnp.cos(x) * 2)
    lo = f.lower(irjax.ShapeDtypeStruct((3,), np.float32))
    hlo = lo.as_text(dialect="stablehlo")  # (cos lowers to fdlibm's kernel in float64)
    assert '"jx.cos"' in lo.as_text() and "stablehlo.multiply" in hlo and '"jx.' not in hlo
    c = lo.compile()
    assert c.target == "llvm-cpu" and "stablehlo.multiply" in c.as_text()
    x = np.arange(3, dtype=np.float32)
    np.testing.assert_allclose(c(x), np.cos(x) * 2, rtol=1e-6)


def test_unexportable_pytree_node():
    class P:
        pass

    irjax.tree_util.register_pytree_node(P, lambda p: ((), None), lambda a, c: P())
    with pytest.raises(TypeError, match="custom type P"):
        irjax.export(irjax.jit(lambda x: (x, P())))(np.ones(2, np.float32))


# ---- bad files and bad inputs ------------------------------------------------------------------


def _expect_artifact_error(data: bytes, tmp_path, match: str):
    p = tmp_path / "bad.irjax"
    p.write_bytes(data)
    with pytest.raises(art.ArtifactError, match=match):
        loaded = art.load(p)
        loaded.default_entry.call_flat([np.zeros(s, d) for s, d in loaded.default_entry.in_avals])


@pytest.mark.parametrize("cut", [0, 4, 30, 100, -1000, -10])
def test_truncated(exported, tmp_path, cut):
    data = open(exported[1], "rb").read()
    _expect_artifact_error(data[:cut], tmp_path, "truncated|not an irjax artifact")


def test_wrong_magic(exported, tmp_path):
    data = open(exported[1], "rb").read()
    _expect_artifact_error(b"PK\x03\x04" + data[4:], tmp_path, "not an irjax artifact.*magic")
    _expect_artifact_error(b"hello world, not an artifact at all" * 3, tmp_path, "not an irjax artifact")


def test_unsupported_version(exported, tmp_path):
    data = bytearray(open(exported[1], "rb").read())
    struct.pack_into("<I", data, len(art.MAGIC), art.FORMAT_VERSION + 1)
    _expect_artifact_error(
        bytes(data),
        tmp_path,
        f"unsupported artifact format version {art.FORMAT_VERSION + 1}.*reads version {art.FORMAT_VERSION}",
    )


def test_checksum_mismatch(exported, tmp_path):
    data = bytearray(open(exported[1], "rb").read())
    f = art.ArtifactFile(bytes(data))
    vm = f.manifest["sections"]["vmfb/main/llvm-cpu"]
    bad = bytearray(data)
    bad[f.base + vm["offset"] + vm["size"] // 2] ^= 0xFF
    _expect_artifact_error(bytes(bad), tmp_path, "checksum mismatch in section 'vmfb/main/llvm-cpu'")
    bad = bytearray(data)
    bad[art._HEADER.size + 20] ^= 0x01  # inside the manifest
    _expect_artifact_error(bytes(bad), tmp_path, "checksum mismatch in the manifest")
    _expect_artifact_error(bytes(data) + b"\0" * 8, tmp_path, "8 unexpected bytes after the last section")


def test_garbage_module_with_valid_checksums_is_an_error_not_a_crash(tmp_path):
    """A section whose checksum matches but whose bytes IREE rejects: run in a subprocess so a
    runtime crash would show as a failed test rather than a dead test session."""
    manifest = {
        "targets": ["llvm-cpu"],
        "iree_runtime_version": "3.13.0",
        "entry_points": {
            "main": {
                "function": "main",
                "in_avals": [{"shape": [2], "dtype": "float32"}],
                "out_avals": [{"shape": [2], "dtype": "float32"}],
                "in_tree": art.flat_in_tree(1),
                "out_tree": art.flat_out_tree(1),
                "copy_inputs": False,
                "consts": [],
                "modules": {"llvm-cpu": "vmfb/main/llvm-cpu"},
            }
        },
    }
    path = tmp_path / "g.irjax"
    art.write(str(path), manifest, {"vmfb/main/llvm-cpu": os.urandom(4096)})
    r = run_py(
        """
        import sys, numpy as np
        from irjax.runtime import artifact as art
        try:
            art.load(sys.argv[1])(np.zeros(2, np.float32))
        except art.ArtifactError as e:
            print("ArtifactError:", e)
    """,
        str(path),
    )
    assert r.returncode == 0, r.stderr
    assert "ArtifactError:" in r.stdout and "cannot load compiled module" in r.stdout


def test_bad_inputs(exported):
    e, path, p, x, _ = exported
    loaded = art.load(path)
    with pytest.raises(TypeError, match=r"takes 2 positional argument\(s\).*got 1"):
        loaded(p)
    with pytest.raises(TypeError, match=r"takes 2 positional argument\(s\).*got 3"):
        loaded(p, x, x)
    with pytest.raises(TypeError, match=r"args\[1\].*expected f32\[5,4\], got f32\[5,5\]"):
        loaded(p, np.zeros((5, 5), np.float32))
    with pytest.raises(TypeError, match=r"args\[0\]\['w'\].*expected f32\[4,3\], got f64\[4,3\]"):
        loaded({"w": p["w"].astype(np.float64), "b": p["b"]}, x)
    with pytest.raises(TypeError, match=r"expected a dict with keys \['b', 'w'\]"):
        loaded({"w": p["w"]}, x)
    with pytest.raises(TypeError, match=r"expected an array f32\[5,4\], got str"):
        loaded(p, "hello")
    with pytest.raises(TypeError, match=r"takes 3 input array\(s\)"):
        loaded.default_entry.call_flat([x])
    with pytest.raises(art.EntryPointError, match=r"no entry point 'predict'; it has \['main'\]"):
        loaded["predict"]
    with pytest.raises(AttributeError, match="entry points"):
        _ = loaded.predict
    with pytest.raises(FileNotFoundError, match="no artifact at"):
        art.load(path + ".missing")
    with pytest.raises(art.ArtifactError, match="no 'rocm' module|holds code for"):
        art.load(path, device="rocm")


def test_python_scalars_are_weakly_typed(tmp_path):
    f = irjax.jit(lambda x, s: x * s)
    e = irjax.export(f)(np.ones(3, np.float32), 2.0)
    e.save(tmp_path / "s.irjax")
    loaded = art.load(tmp_path / "s.irjax")
    np.testing.assert_allclose(loaded(np.ones(3, np.float32), 3.0), [3, 3, 3])
    e = irjax.export(irjax.jit(lambda n: n + 1))(np.int32(1))
    with pytest.raises(TypeError, match=r"expected i32\[\], got f64\[\]"):
        e.call(1.5)


# ---- the command lines -------------------------------------------------------------------------


MODEL_PY = """
import irjax.numpy as jnp

def predict(w, x):
    return jnp.tanh(x @ w).sum()
"""


def test_cli_compile_function_and_run(tmp_path):
    (tmp_path / "mymodel.py").write_text(MODEL_PY)
    w, x = RNG.standard_normal((4, 3)).astype(np.float32), RNG.standard_normal((6, 4)).astype(np.float32)
    np.save(tmp_path / "w.npy", w)
    np.save(tmp_path / "x.npy", x)
    r = cli("compile", "mymodel:predict", "--shapes", "f32[4,3]", "f32[6,4]", "-o", "m.irjax", "--grad", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "compiling for llvm-cpu..." in r.stderr and "done in" in r.stderr
    r = cli("run", "m.irjax", "--input", "w.npy", "--input", "x.npy", "--output", "y.npy", "--time", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("EXEC @main\nresult[0]: hal.buffer_view\nf32=")
    assert "first call" in r.stderr and "mean of" in r.stderr
    import irjax.numpy as jnp_

    want = float(jnp_.tanh(x @ w).sum())
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), want, rtol=1e-5)
    r = cli("run", "m.irjax", "--entry", "grad", "-i", "w.npy", "-i", "x.npy", "-o", "g.npy", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    g = irjax.grad(lambda w, x: jnp_.tanh(x @ w).sum())(w, x)
    np.testing.assert_allclose(np.load(tmp_path / "g.npy"), np.asarray(g), rtol=1e-5)
    # inline inputs, like iree-run-module
    r = cli("run", "m.irjax", "-i", "f32[4,3]=" + " ".join(["0.5"] * 12), "-i", "6x4xf32=1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(float(r.stdout.split("f32=")[1]), 6 * 3 * np.tanh(2.0), rtol=1e-5)


def test_cli_file_py_reference(tmp_path):
    (tmp_path / "m2.py").write_text(MODEL_PY)
    r = cli(
        "compile",
        str(tmp_path / "m2.py") + ":predict",
        "-s",
        "f32[2,2]",
        "-s",
        "f32[1,2]",
        "-o",
        tmp_path / "a.irjax",
        "-q",
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert art.load(tmp_path / "a.irjax").default_entry.signature() == "main(f32[2,2], f32[1,2]) -> f32[]"


def test_lower_as_text_through_opt_and_compile(tmp_path):
    """jit(f).lower(...).as_text() -> irjax-opt -> irjax-compile gives jit's results."""

    def f(x, y):
        return jnp.sin(x) * y + jnp.exp(y).sum(), jnp.sort(x.ravel())

    x, y = RNG.standard_normal((2, 3)).astype(np.float32), RNG.standard_normal((2, 3)).astype(np.float32)
    (tmp_path / "f.mlir").write_text(irjax.jit(f).lower(x, y).as_text())
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    r = cli("opt", "f.mlir", "-p", "cse,dce", "-o", "f_opt.mlir", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = cli("opt", "f.mlir", "-p", "lower-stablehlo", "-o", "f_hlo.mlir", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    want = [np.asarray(v) for v in irjax.jit(f)(x, y)]
    for src in ("f_opt.mlir", "f_hlo.mlir"):
        r = cli("compile", src, "-o", src + ".irjax", "--name", "f", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        loaded = art.load(tmp_path / (src + ".irjax"))
        assert list(loaded.entry_points) == ["f"] and loaded.f.spec["copy_inputs"] is True
        for got, w in zip(loaded(x, y), want):
            np.testing.assert_allclose(got, w, rtol=1e-6)
        r = cli("run", src + ".irjax", "-i", "x.npy", "-i", "y.npy", "-o", "out.npz", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        out = np.load(tmp_path / "out.npz")
        np.testing.assert_allclose(out["arr_0"], want[0], rtol=1e-6)
        np.testing.assert_allclose(out["arr_1"], want[1], rtol=1e-6)


def test_cli_errors(tmp_path, exported):
    (tmp_path / "mymodel.py").write_text(MODEL_PY)
    clean_failure(cli("compile", "mymodel:nope", "-s", "f32[2]", "-o", "z.irjax", cwd=tmp_path), "no attribute 'nope'")
    clean_failure(
        cli("compile", "nosuchmod:f", "-s", "f32[2]", "-o", "z.irjax", cwd=tmp_path), "cannot import module 'nosuchmod'"
    )
    clean_failure(
        cli("compile", "mymodel:predict", "-s", "f33[2]", "-o", "z.irjax", cwd=tmp_path), "unknown dtype 'f33'"
    )
    clean_failure(
        cli("compile", "mymodel:predict", "-s", "f32[2", "-o", "z.irjax", cwd=tmp_path), "cannot read the shape"
    )
    clean_failure(cli("compile", "mymodel:predict", "-o", "z.irjax", cwd=tmp_path), "--shapes")
    clean_failure(
        cli("compile", "mymodel:predict", "-s", "f32[3,2]", "f32[4,4]", "-o", "z.irjax", cwd=tmp_path), "dot_general"
    )
    (tmp_path / "bad.mlir").write_text("func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> { return %y : tensor<3xf32> }")
    clean_failure(cli("compile", "bad.mlir", "-o", "z.irjax", cwd=tmp_path), "cannot parse bad.mlir")
    (tmp_path / "ok.mlir").write_text("func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> { return %x : tensor<3xf32> }")
    clean_failure(cli("compile", "ok.mlir", "--entry", "g", "-o", "z.irjax", cwd=tmp_path), "no function @g", "@f")
    clean_failure(cli("compile", "ok.mlir", "--target", "tpu", "-o", "z.irjax", cwd=tmp_path), "unknown target 'tpu'")
    assert not (tmp_path / "z.irjax").exists()
    path = exported[1]
    clean_failure(cli("run", path, "-i", "f32[3]=1 2 3"), "takes 3 input array(s)")
    clean_failure(cli("run", path, "-i", "f32[3]=1 2", "-i", "f32[4,3]", "-i", "f32[5,4]"), "needs 3 values, got 2")
    clean_failure(cli("run", path, "-i", "f32[4,3]", "-i", "f32[3]", "-i", "f32[5,4]"), "expected f32[3], got f32[4,3]")
    clean_failure(cli("run", path, "--entry", "nope"), "no entry point 'nope'")
    clean_failure(cli("run", path, "-i", "missing.npy"), "no such input file")
    clean_failure(cli("run", str(tmp_path / "none.irjax")), "no artifact at")
    (tmp_path / "t.irjax").write_bytes(open(path, "rb").read()[:200])
    clean_failure(cli("run", str(tmp_path / "t.irjax")), "truncated")


def test_cli_lists_entry_points(exported):
    r = cli("run", exported[1], "--list")
    assert (
        r.returncode == 0
        and r.stdout.strip()
        == "main({'b': f32[3], 'w': f32[4,3]}, f32[5,4]) -> {'none': None, 'stats': (f32[], f32[]), 'y': f32[5,3]}"
    )
    r = cli("run", exported[1], "--print-manifest")
    assert json.loads(r.stdout)["format_version"] == art.FORMAT_VERSION


def test_spec_parsing():
    from irjax.tools.run import parse_input, parse_spec

    assert parse_spec("f32[10000,10]") == ((10000, 10), np.float32)
    assert parse_spec("i32[]") == ((), np.int32)
    assert parse_spec("3x4xbf16")[0] == (3, 4)
    assert parse_spec("ui8") == ((), np.uint8)
    assert parse_input("f32[2,2]=1 2 3 4").tolist() == [[1, 2], [3, 4]]
    assert parse_input("2x2xi32=[1 2][3 4]").tolist() == [[1, 2], [3, 4]]
    assert parse_input("f32[3]=7").tolist() == [7, 7, 7]
    assert parse_input("bool[2]=1 0").tolist() == [True, False]


def test_installed_console_scripts(tmp_path):
    """The console scripts from pyproject.toml exist and work end to end (a pip install puts them
    beside the interpreter)."""
    import shutil

    bindir = os.path.dirname(sys.executable)
    exes = {
        n: shutil.which(n, path=bindir + os.pathsep + os.environ.get("PATH", ""))
        for n in ("irjax-compile", "irjax-run", "irjax-opt")
    }
    assert all(exes.values()), f"console scripts missing: {exes}"
    (tmp_path / "cs_model.py").write_text(MODEL_PY)
    r = subprocess.run(
        [exes["irjax-compile"], "cs_model:predict", "-s", "f32[2,2]", "-s", "f32[1,2]", "-o", "c.irjax", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [exes["irjax-run"], "c.irjax", "-i", "f32[2,2]=1", "-i", "f32[1,2]=1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(float(r.stdout.split("f32=")[1]), 2 * np.tanh(2.0), rtol=1e-5)
    r = subprocess.run([exes["irjax-opt"], "--list-passes"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "lower-stablehlo" in r.stdout

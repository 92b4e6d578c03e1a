"""DLPack and host memory: a NumPy buffer less aligned than IREE's 64-byte HAL buffers, imported
as-is, made the compiled code's aligned vector loads kill the process (SIGSEGV), so it must be
copied; and a zero-copy view alive at exit must not make nanobind print leaked IREE objects."""

from __future__ import annotations

from child_process import assert_clean_exit, run_python


def test_misaligned_numpy_buffers_are_copied_not_aliased():
    p = run_python(
        """
        import numpy as np, irjax, irjax.numpy as inp
        f = irjax.jit(lambda v: v * 2 + 1)
        for offset in (4, 16, 32, 48, 0):
            for n in (8, 1000, 1001):
                raw = np.zeros(4 * n + 128, np.uint8)
                start = (-raw.ctypes.data) % 64 + offset
                host = raw[start : start + 4 * n].view(np.float32)
                host[:] = np.arange(n)
                a = inp.from_dlpack(host)
                np.testing.assert_array_equal(np.asarray(f(a)), host * 2 + 1)
                np.testing.assert_allclose(np.asarray(inp.sin(a)), np.sin(host), rtol=1e-6)
                host[0] = 7.0  # an aligned import aliases NumPy's memory, a misaligned one is a copy
                assert float(a[0]) == (7.0 if offset == 0 else 0.0), (offset, n, float(a[0]))
        print("ok")
        """
    )
    assert_clean_exit(p)
    assert "ok" in p.stdout


def test_a_dlpack_view_alive_at_exit_prints_nothing():
    # NumPy's DLPack deleter does nothing while the interpreter finalizes: the view's IREE
    # mapping outlives nanobind, which printed ~70 lines of "leaked instance" before
    p = run_python(
        """
        import numpy as np, irjax.numpy as inp
        x = inp.ones(3, inp.float32) * 3
        h = np.from_dlpack(x)
        h[0] = 5.0
        print(float(x[0]))
        """
    )
    assert_clean_exit(p)
    assert p.stdout.strip() == "5.0"
    assert "leaked" not in p.stderr, p.stderr[-2000:]

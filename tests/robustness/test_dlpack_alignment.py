"""from_dlpack of host memory less aligned than IREE's 64-byte HAL buffers: imported as-is, the
compiled code's aligned vector loads killed the process (SIGSEGV); such a buffer must be copied."""

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

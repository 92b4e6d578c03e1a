"""A loaded IREE module and its low-overhead call path (VmContext.invoke on buffer views)."""

from __future__ import annotations

import threading

import iree.runtime as rt

from .device import Device

_BufferView = rt.HalBufferView
_List = rt.VmVariantList


class LoadError(ValueError):
    """A .vmfb that the runtime cannot load (corrupt, truncated, wrong target)."""


class Executable:
    def __init__(self, vmfb: bytes, device: Device, copy_inputs: bool = False, parallel: bool = False):
        self.device = device
        # IREE may write in place into an input buffer that feeds a tied op (scatter,
        # dynamic_update_slice, sort: iree-org/iree#16168); such modules get private copies.
        self.copy_inputs = copy_inputs
        try:
            self.module = rt.VmModule.copy_buffer(device.instance, vmfb)
        except Exception as e:  # noqa: BLE001  (the runtime raises plain errors)
            raise LoadError(f"cannot load compiled module: {e}") from None
        # parallel: run on the CPU's multi-threaded local-task driver (same host memory, so
        # buffers pass freely between the two); worth its ~100 us wake-up for big matmuls only
        self.parallel = parallel
        hal = device.parallel_hal_module() if parallel else device.hal_module
        self.context = rt.VmContext(device.instance, [hal, self.module])
        self._fns: dict = {}
        # an IREE VM context is thread-compatible, not thread-safe: one invocation at a time
        self._invoke_lock = threading.Lock()

    def function(self, name: str):
        fn = self._fns.get(name)
        if fn is None:
            fn = self.module.lookup_function(name)
            if fn is None:
                raise KeyError(f"the compiled module has no entry point '{name}'")
            self._fns[name] = fn
        return fn

    def call(self, name: str, buffers, n_results: int) -> list:
        return self.invoke(self._fns.get(name) or self.function(name), buffers, n_results)

    def invoke(self, fn, buffers, n_results: int) -> list:
        """call() with the entry function already looked up (jit's per-call path)."""
        args = _List(len(buffers))
        if self.copy_inputs:
            buffers = [self.device.copy(b) for b in buffers]
        push = args.push_ref
        for b in buffers:
            push(b)
        rets = _List(n_results)
        with self._invoke_lock:
            self.context.invoke(fn, args, rets)
        get = rets.get_as_object
        if n_results == 1:
            return [get(0, _BufferView)]
        return [get(i, _BufferView) for i in range(n_results)]

"""A loaded IREE module and its low-overhead call path (VmContext.invoke on buffer views)."""

from __future__ import annotations

import threading

import iree.runtime as rt

from . import cpu_wait
from .device import Device

_BufferView = rt.HalBufferView
_List = rt.VmVariantList


class LoadError(ValueError):
    """A .vmfb that the runtime cannot load (corrupt, truncated, wrong target)."""


class BindingLimitError(LoadError):
    """A dispatch of the module binds more buffers than the runtime allows."""


class Executable:
    def __init__(
        self,
        vmfb: bytes,
        device: Device,
        copy_inputs: bool = False,
        parallel: bool = False,
        imports: tuple[str, dict] | None = None,
        parallel_from: int = 0,
    ):
        """parallel_from: for a module whose shapes are known only at the call (shape-generic),
        the elements of its largest input from which a call runs on the multi-threaded driver
        (0: by `parallel` alone).

        imports: (module name, {function: (IREE calling convention, Python callable)}), the
        functions the compiled module imports from Python (host callbacks): buffer views in, a
        list of buffer views out. A callable's exception fails the call; invoke() raises it."""
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
        modules = [hal, self.module]
        self._host_error = threading.local()
        if imports is not None:
            modules.insert(1, self._host_module(*imports))
        try:
            self.context = rt.VmContext(device.instance, modules)
        except Exception as e:  # noqa: BLE001  (the runtime raises plain errors)
            if "binding" in str(e) or "storage buffers" in str(e):
                raise BindingLimitError(f"the runtime refused the compiled module: {e}") from None
            raise
        self.parallel_from = 0 if parallel or imports is not None else parallel_from
        self._parallel_context = None  # (made at the first call that wants it: same module, local-task)
        self._fns: dict = {}
        # an IREE VM context is thread-compatible, not thread-safe: one invocation at a time
        self._invoke_lock = threading.Lock()

    def _wants_parallel(self, buffers) -> bool:
        n = self.parallel_from
        for b in buffers:
            size = 1
            for d in b.shape:
                size *= d
            if size >= n:
                return True
        return False

    def _parallel_ctx(self):
        """The module in a second context, on the local-task driver (held under _invoke_lock)."""
        if self._parallel_context is None:
            self._parallel_context = rt.VmContext(
                self.device.instance, [self.device.parallel_hal_module(), self.module]
            )
        return self._parallel_context

    def _host_module(self, module_name: str, functions: dict):
        failed = self._host_error

        def export(fn):
            def run(_state, *refs):
                try:
                    outs = fn(*[r.deref(_BufferView) for r in refs])
                    return None if not outs else outs[0].ref if len(outs) == 1 else tuple(o.ref for o in outs)
                except BaseException as e:
                    failed.value = e  # the VM reports only a status; invoke() raises this
                    raise

            return run

        iface = rt.PyModuleInterface(module_name, lambda _iface: None)
        for name, (cconv, fn) in functions.items():
            iface.export(name, cconv, export(fn))
        return iface.create()

    def function(self, name: str):
        return (self._fns.get(name) or self._lookup(name))[0]

    def _lookup(self, name: str):
        """(function, takes fences): a coarse-fences function (compiled with IREE's async-external
        execution model, as GPU targets are) takes a wait and a signal fence after its arguments
        and returns as soon as its work is queued."""
        fn = self.module.lookup_function(name)
        if fn is None:
            raise KeyError(f"the compiled module has no entry point '{name}'")
        fenced = (fn.reflection or {}).get("iree.abi.model") == "coarse-fences"
        entry = self._fns[name] = (fn, fenced)
        return entry

    def call(self, name: str, buffers, n_results: int) -> list:
        return self.invoke(self._fns.get(name) or self._lookup(name), buffers, n_results)

    def lookup_entry(self, name: str) -> tuple:
        """(function, takes fences) of entry point `name`, for invoke()."""
        return self._fns.get(name) or self._lookup(name)

    def invoke(self, entry: tuple, buffers, n_results: int) -> list:
        """call() with the entry point already looked up (jit's per-call path)."""
        fn, fenced = entry
        if self.copy_inputs:
            buffers = [self.device.copy(b) for b in buffers]
        args = _List(len(buffers) + 2 if fenced else len(buffers))
        push = args.push_ref
        for b in buffers:
            push(b)
        if fenced:
            wait, signal, point = self.device.fences()
            push(wait)
            push(signal)
        elif self.device.timeline:
            # a synchronous module (an older artifact, IRJAX_ASYNC_DISPATCH=0) knows nothing of
            # the device's timeline: let the work queued before it (copies too) finish first
            self.device.synchronize()
        rets = _List(n_results)
        with self._invoke_lock:
            try:
                if self.parallel:  # the local-task driver's workers run it while this thread waits
                    cpu_wait.call_batched(self.context.invoke, fn, args, rets)
                elif self.parallel_from and self._wants_parallel(buffers):
                    cpu_wait.call_batched(self._parallel_ctx().invoke, fn, args, rets)
                else:
                    self.context.invoke(fn, args, rets)
            except Exception as e:
                host = getattr(self._host_error, "value", None)
                if host is not None:  # a host callback raised: that is the error to report
                    self._host_error.value = None
                    raise host from None
                if fenced:  # the failure of earlier queued work surfaces at this call
                    self.device.raise_if_failed(e)
                raise
        get = rets.get_as_object
        out = [get(0, _BufferView)] if n_results == 1 else [get(i, _BufferView) for i in range(n_results)]
        if fenced:
            self.device.keep_alive(point, (buffers, out))
        return out

"""The Python side of host callbacks in compiled programs: a module's `irjax_host.cb<n>` imports
(dialects/host_calls.py) become callables that the runtime serves (runtime/executable.py)."""

from __future__ import annotations

from irjax.dialects.host_calls import IMPORT_MODULE, call_host, number_of_import
from irjax.passes.module_facts import facts_of_text


class HostImportError(ValueError):
    """A module imports a function irjax does not provide."""


def host_imports(hlo_text: str, device) -> tuple[str, dict] | None:
    """(module name, {function: (calling convention, callable)}) for Executable, or None when
    the module imports nothing."""
    imports = facts_of_text(hlo_text).imports
    if not imports:
        return None
    functions = {}
    for name, ins, outs in imports:
        n = number_of_import(name)
        if n is None:
            raise HostImportError(
                f"the module imports @{name}; irjax serves only @{IMPORT_MODULE}.cb<n> host callbacks"
            )
        cconv = "0" + ("r" * len(ins) or "v") + "_" + ("r" * len(outs) or "v")
        functions[name.split(".", 1)[1]] = (cconv, _serve(n, ins, device))
    return IMPORT_MODULE, functions


def _serve(n: int, ins: tuple, device):
    def run(*views):
        arrays = [device.get(v, a.dtype) for v, a in zip(views, ins)]
        return [device.put(r) for r in call_host(n, arrays)]

    return run

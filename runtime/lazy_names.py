"""Module attributes loaded on first use (PEP 562): irjax, irjax.lax and irjax.runtime name more
than they import, so `import irjax` stays light."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_attributes(module_name: str, namespace: dict, table: dict[str, str]) -> tuple[Callable, Callable]:
    """`__getattr__` and `__dir__` for a module whose attribute `name` lives in module `table[name]`
    (or is that module itself when it is called `<parent>.<name>`); a loaded value is kept in
    `namespace` (the module's globals), so later lookups do not come back here."""

    def __getattr__(name: str):
        mod = table.get(name)
        if mod is None:
            raise AttributeError(f"module '{module_name}' has no attribute '{name}'")
        m = importlib.import_module(mod)
        value = m if mod.endswith("." + name) else getattr(m, name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(list(namespace) + list(table))

    return __getattr__, __dir__

"""`jx.<op>(...)`: one callable per registered op record, generated from the registry on first use.

Code applies an op through a namespace instead of spelling its name in a string: rule code uses
`lang.jx` (emits strict ops on `Val`s), the frontend `irjax.core.jx` (traces or runs eagerly).
An op whose name is a Python keyword takes a trailing underscore: `jx.and_`, `jx.while_`.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable

from .registry import all_primitives, get


def op_name(attr: str) -> str:
    """The op an attribute names (`and_` -> `and`)."""
    base = attr[:-1]
    return base if attr.endswith("_") and keyword.iskeyword(base) else attr


def attr_name(name: str) -> str:
    """The attribute that names op `name` (`and` -> `and_`)."""
    return name + "_" if keyword.iskeyword(name) else name


class OpNamespace:
    """Attribute `x` is `lambda *args, **params: bind(op_name(x), *args, **params)` for a registered
    op; an unknown name raises AttributeError. Each callable is made once and kept."""

    def __init__(self, bind: Callable, where: str):
        self._bind = bind
        self._where = where

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            raise AttributeError(attr)
        name = op_name(attr)
        try:
            prim = get(name)
        except KeyError:
            raise AttributeError(f"{self._where} has no op {attr!r}: no jx op named {name!r} is registered") from None
        bind = self._bind

        def apply(*args, **params):
            return bind(name, *args, **params)

        apply.__name__ = apply.__qualname__ = attr
        apply.__doc__ = prim.doc or f"Apply jx.{name}."
        self.__dict__[attr] = apply  # later lookups skip __getattr__
        return apply

    def __dir__(self):
        return sorted(attr_name(n) for n in all_primitives())

    def __repr__(self):
        return f"<{self._where}: one callable per jx op>"

"""JAX-compatible pytrees for irjax (`jax.tree_util`): mapping, key paths, registration.

Containers are tuple, list, dict (sorted keys), None (no children), namedtuples,
OrderedDict (insertion order), defaultdict (sorted keys) and registered custom types.
Everything else is a leaf. Treedefs are hashable and comparable (jit cache keys).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar, Union

from .pytree import (  # noqa: F401  (re-exported)
    # node kinds, read by export.py's treedef-to-JSON
    _CUSTOM,
    _DEFAULTDICT,
    _DICT,
    _LEAF,
    _LIST,
    _NAMEDTUPLE,
    _NONE,
    _ORDEREDDICT,
    _TUPLE,
    DictKey,
    FlattenedIndexKey,
    GetAttrKey,
    PyTreeDef,
    SequenceKey,
    children_and_data,
    is_leaf_kind,
    keyed_children,
    node_kind,
    register,
    tree_flatten,
    tree_flatten_with_path,
    tree_structure,
    tree_unflatten,
    treedef_tuple,
)

__all__ = [
    "PyTreeDef",
    "tree_flatten",
    "tree_unflatten",
    "tree_map",
    "tree_leaves",
    "tree_structure",
    "tree_reduce",
    "tree_reduce_associative",
    "tree_all",
    "tree_transpose",
    "tree_broadcast",
    "register_pytree_node",
    "register_pytree_node_class",
    "register_pytree_with_keys",
    "register_pytree_with_keys_class",
    "register_dataclass",
    "register_static",
    "treedef_children",
    "treedef_tuple",
    "treedef_is_leaf",
    "treedef_is_strict_leaf",
    "all_leaves",
    "Partial",
    "tree_flatten_with_path",
    "tree_leaves_with_path",
    "tree_map_with_path",
    "keystr",
    "SequenceKey",
    "DictKey",
    "GetAttrKey",
    "FlattenedIndexKey",
    "KeyEntry",
    "KeyPath",
    "flatten_one_level",
    "flatten_one_level_with_keys",
    "is_tree_node",
]

T = TypeVar("T")
KeyEntry = Union[SequenceKey, DictKey, GetAttrKey, FlattenedIndexKey, Any]
KeyPath = tuple  # tuple[KeyEntry, ...]


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
    return tree_flatten(tree, is_leaf)[0]


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Maps `f` over leaves of `tree` (and corresponding leaves/subtrees of `rest`)."""
    leaves, treedef = tree_flatten(tree, is_leaf)
    try:
        all_leaves = [leaves] + [treedef.flatten_up_to(r) for r in rest]
    except ValueError:
        for r in rest if is_leaf is None else ():
            msg = _prefix_error(tree, r)
            if msg is not None:
                raise ValueError(msg) from None
        raise
    return treedef.unflatten(f(*xs) for xs in zip(*all_leaves))


def _prefix_error(prefix: Any, full: Any, path: str = "") -> str | None:
    """JAX's 'pytree structure error' text for where `full` first fails to extend `prefix`
    (built-in containers; None where the difference lies elsewhere)."""
    where = (
        f"key path\n    tree_map tree{path}\nAt that key path, the prefix pytree tree_map tree has a subtree of type"
    )
    if prefix is not None and type(prefix) not in (list, tuple, dict):
        return None  # a leaf (or a custom node: the generic message stands)
    if type(prefix) is not type(full):
        return (
            f"pytree structure error: different types at {where}\n    {type(prefix)}\nbut at the same key "
            f"path the full pytree has a subtree of different type\n    {type(full)}."
        )
    if isinstance(prefix, (list, tuple)):
        if len(prefix) != len(full):
            t = type(prefix).__name__
            return (
                f"pytree structure error: different lengths of {t} at {where} {t} of length {len(prefix)}, "
                f"but the full pytree has a subtree of the same type but of length {len(full)}."
            )
        pairs = [(f"[{i}]", p, q) for i, (p, q) in enumerate(zip(prefix, full))]
    elif isinstance(prefix, dict):
        ka, kb = tuple(sorted(prefix)), tuple(sorted(full))
        if ka != kb:
            diff = "\n".join("    " + ln for ln in difflib.ndiff([repr(ka)], [repr(kb)]))
            return (
                f"pytree structure error: different pytree metadata at {where}\n    {type(prefix)}\nwith "
                f"metadata\n    {ka!r}\nbut at the same key path the full pytree has a subtree of the same "
                f"type but with metadata\n    {kb!r}\nso the diff in the metadata at these pytree nodes is\n{diff}"
            )
        pairs = [(f"[{k!r}]", prefix[k], full[k]) for k in ka]
    else:
        return None
    for key, p, q in pairs:
        msg = _prefix_error(p, q, path + key)
        if msg is not None:
            return msg
    return None


def tree_leaves_with_path(
    tree: Any, is_leaf: Callable[..., bool] | None = None, is_leaf_takes_path: bool = False
) -> list[tuple[KeyPath, Any]]:
    return tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)[0]


def tree_map_with_path(
    f: Callable[..., Any],
    tree: Any,
    *rest: Any,
    is_leaf: Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> Any:
    """Like tree_map, but `f(path, leaf, *rest_leaves)` also receives each leaf's key path."""
    pairs, treedef = tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)
    others = [treedef.flatten_up_to(r) for r in rest]
    return treedef.unflatten(f(p, x, *xs) for (p, x), *xs in zip(pairs, *others))


def keystr(keys: KeyPath, *, simple: bool = False, separator: str = "") -> str:
    """`"['a'][0].x"` for a key path; with simple=True, the bare keys joined by separator."""
    if not simple:
        return separator.join(str(k) for k in keys)

    def bare(k: Any) -> str:
        if isinstance(k, (SequenceKey, DictKey, GetAttrKey, FlattenedIndexKey)):
            return str(k[0])
        return str(k)

    return separator.join(bare(k) for k in keys)


_NO_INIT = object()


def tree_reduce(
    function: Callable[[T, Any], T],
    tree: Any,
    initializer: Any = _NO_INIT,
    is_leaf: Callable[[Any], bool] | None = None,
) -> T:
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _NO_INIT:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_reduce_associative(
    operation: Callable[[T, T], T], tree: Any, *, identity: Any = _NO_INIT, is_leaf: Callable[[Any], bool] | None = None
) -> T:
    """Reduces leaves pairwise as a balanced tree (fewer sequential steps than a fold)."""
    items = tree_leaves(tree, is_leaf)
    if not items:
        if identity is _NO_INIT:
            raise TypeError("tree_reduce_associative: the tree has no leaves and no identity was given.")
        return identity
    while len(items) > 1:
        paired = [operation(a, b) for a, b in zip(items[::2], items[1::2])]
        items = paired + ([items[-1]] if len(items) % 2 else [])
    return items[0]


def tree_all(tree: Any, *, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    return all(tree_leaves(tree, is_leaf))


def tree_transpose(outer_treedef: PyTreeDef, inner_treedef: PyTreeDef | None, pytree_to_transpose: Any) -> Any:
    """Turns an outer tree of inner trees into an inner tree of outer trees."""
    flat, treedef = tree_flatten(pytree_to_transpose)
    if inner_treedef is None:
        inner_treedef = tree_structure(outer_treedef.flatten_up_to(pytree_to_transpose)[0])
    inner_size, outer_size = inner_treedef.num_leaves, outer_treedef.num_leaves
    if treedef != outer_treedef.compose(inner_treedef):
        raise TypeError(f"Mismatch\n{treedef}\n != \n{outer_treedef.compose(inner_treedef)}")
    rows = [flat[i * inner_size : (i + 1) * inner_size] for i in range(outer_size)]
    cols = [[row[j] for row in rows] for j in range(inner_size)]
    return inner_treedef.unflatten(outer_treedef.unflatten(c) for c in cols)


def tree_broadcast(prefix_tree: Any, full_tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Repeats each leaf of `prefix_tree` over the matching subtree of `full_tree`."""
    leaves, treedef = tree_flatten(prefix_tree, is_leaf)
    subtrees = treedef.flatten_up_to(full_tree)
    return treedef.unflatten(tree_map(lambda _: x, sub) for x, sub in zip(leaves, subtrees))


def all_leaves(iterable: Iterable[Any], is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """True if every element of `iterable` is itself a leaf."""
    items = list(iterable)
    if is_leaf is None:
        return all(node_kind(x) == _LEAF for x in items)
    flat = tree_leaves(items, is_leaf)
    return len(flat) == len(items) and all(a is b for a, b in zip(flat, items))


def flatten_one_level(tree: Any) -> tuple[list, Any]:
    """(children, node data) of a container; raises ValueError for a leaf."""
    kind = node_kind(tree)
    if kind == _LEAF:
        raise ValueError(f"can't tree-flatten type: {type(tree)}")
    children, data = children_and_data(tree, kind)
    return children, (data[1] if kind == _CUSTOM else data)


def flatten_one_level_with_keys(tree: Any) -> tuple[list[tuple[Any, Any]], Any]:
    kind = node_kind(tree)
    if kind == _LEAF:
        raise ValueError(f"can't tree-flatten type: {type(tree)}")
    keys, children, data = keyed_children(tree, kind)
    return list(zip(keys, children)), data


def is_tree_node(x: Any) -> bool:
    return node_kind(x) != _LEAF


# ------------------------------------------------------------------ registration
def register_pytree_node(
    nodetype: type[T],
    flatten_func: Callable[[T], tuple[Iterable, Hashable]],
    unflatten_func: Callable[[Any, Iterable], T],
    flatten_with_keys_func: Callable[[T], tuple[Iterable, Any]] | None = None,
) -> None:
    """Registers `nodetype` as a pytree container; without flatten_with_keys_func its
    children get FlattenedIndexKey paths."""
    register(nodetype, flatten_func, unflatten_func, flatten_with_keys_func)


def register_pytree_with_keys(
    nodetype: type[T],
    flatten_with_keys: Callable[[T], tuple[Iterable, Any]],
    unflatten_func: Callable[[Any, Iterable], T],
    flatten_func: Callable[[T], tuple[Iterable, Any]] | None = None,
) -> None:
    """Registers `nodetype` with a flatten that returns ((key, child), ...) pairs and aux data."""
    if flatten_func is None:

        def flatten_func(x):
            pairs, aux = flatten_with_keys(x)
            return [c for _, c in pairs], aux

    register(nodetype, flatten_func, unflatten_func, flatten_with_keys)


def register_pytree_node_class(cls: type[T]) -> type[T]:
    """Class decorator using `cls.tree_flatten()` and `cls.tree_unflatten(aux, children)`."""
    register(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)
    return cls


def register_pytree_with_keys_class(cls: type[T]) -> type[T]:
    """Class decorator using `tree_flatten_with_keys()` (and `tree_flatten()` if defined)."""
    flat = (lambda x: x.tree_flatten()) if hasattr(cls, "tree_flatten") else None
    register_pytree_with_keys(cls, lambda x: x.tree_flatten_with_keys(), cls.tree_unflatten, flat)
    return cls


def register_dataclass(
    nodetype: type[T],
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] | None = None,
    drop_fields: Sequence[str] = (),
) -> type[T]:
    """Registers a dataclass: data fields are children, meta fields are static aux data.

    Without explicit field lists, fields with `metadata=dict(static=True)` are meta fields.
    """
    if data_fields is None or meta_fields is None:
        if (data_fields is None) != (meta_fields is None):
            raise TypeError(
                "register_dataclass: data_fields and meta_fields must both be given, "
                f"or neither; got data_fields={data_fields}, meta_fields={meta_fields}."
            )
        if not dataclasses.is_dataclass(nodetype):
            raise TypeError(
                f"register_dataclass: {nodetype} is not a dataclass, so data_fields and meta_fields must be given."
            )
        fields = [f for f in dataclasses.fields(nodetype) if f.init and f.name not in drop_fields]
        meta_fields = [f.name for f in fields if f.metadata.get("static", False)]
        data_fields = [f.name for f in fields if not f.metadata.get("static", False)]
    data_fields, meta_fields = tuple(data_fields), tuple(meta_fields)
    if dataclasses.is_dataclass(nodetype):
        init_names = {f.name for f in dataclasses.fields(nodetype) if f.init} - set(drop_fields)
        given = set(data_fields) | set(meta_fields)
        if given != init_names:
            raise ValueError(
                f"register_dataclass: data_fields and meta_fields must cover the init "
                f"fields of {nodetype.__name__} exactly; missing {sorted(init_names - given)}, "
                f"extra {sorted(given - init_names)}."
            )

    def flatten(x):
        return [getattr(x, n) for n in data_fields], tuple(getattr(x, n) for n in meta_fields)

    def flatten_with_keys(x):
        return [(GetAttrKey(n), getattr(x, n)) for n in data_fields], tuple(getattr(x, n) for n in meta_fields)

    def unflatten(meta, children):
        return nodetype(**dict(zip(meta_fields, meta)), **dict(zip(data_fields, children)))

    register(nodetype, flatten, unflatten, flatten_with_keys)
    return nodetype


def register_static(cls: type[T]) -> type[T]:
    """Registers `cls` as a node with no children: instances become static aux data."""
    register(cls, lambda x: ((), x), lambda aux, _: aux)
    return cls


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
    return treedef.children()


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    """True for single-node treedefs (a leaf, None, or an empty container), as in JAX."""
    return treedef.num_nodes == 1


def treedef_is_strict_leaf(treedef: PyTreeDef) -> bool:
    """True only for the treedef of a leaf."""
    return is_leaf_kind(treedef)


class Partial(functools.partial):
    """A functools.partial that is a pytree: its args and keywords are children, the
    function is static, so it can be passed through jit, grad and vmap."""

    def __new__(klass, func: Callable, *args: Any, **kw: Any) -> Partial:
        if isinstance(func, functools.partial):
            # functools.partial would merge an inner partial's arguments into ours (making
            # them leaves); JAX keeps the inner partial whole, as static aux data
            shim = _CallableShim(func)
            out = super().__new__(klass, shim, *args, **kw)
            shim.func, shim.args, shim.keywords = func.func, func.args, func.keywords
            return out
        return super().__new__(klass, func, *args, **kw)


class _CallableShim:
    """Wraps a callable so functools.partial does not unpack it; compares by the callable."""

    def __init__(self, fun: Callable):
        self.fun = fun

    def __call__(self, *args: Any, **kw: Any) -> Any:
        return self.fun(*args, **kw)

    def __hash__(self) -> int:
        return hash(self.fun)

    def __eq__(self, other: object) -> bool:
        return self.fun == (other.fun if isinstance(other, _CallableShim) else other)

    def __repr__(self) -> str:
        return f"_HashableCallableShim({self.fun!r})"


register_pytree_node(
    Partial,
    lambda p: ((p.args, p.keywords), p.func),
    lambda func, xs: Partial(func, *xs[0], **xs[1]),
)

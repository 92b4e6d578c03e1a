"""JAX-compatible pytrees for irjax: flatten/unflatten, tree_map and registration.

Containers are tuple, list, dict (sorted keys), None (no children), namedtuples,
OrderedDict (insertion order), defaultdict (sorted keys) and registered custom types.
Everything else is a leaf. Treedefs are hashable and comparable (jit cache keys).
"""
from __future__ import annotations

import collections
import functools
from typing import Any, Callable, Hashable, Iterable

__all__ = [
    "PyTreeDef", "tree_flatten", "tree_unflatten", "tree_map", "tree_leaves",
    "tree_structure", "tree_reduce", "tree_all", "register_pytree_node",
    "register_pytree_node_class", "treedef_children", "treedef_tuple", "treedef_is_leaf",
]

# Node kinds.
_LEAF, _NONE, _TUPLE, _LIST, _DICT, _NAMEDTUPLE, _ORDEREDDICT, _DEFAULTDICT, _CUSTOM = range(9)

# type -> (flatten_fn(x) -> (children, aux), unflatten_fn(aux, children) -> x)
_registry: dict[type, tuple[Callable, Callable]] = {}


def _sorted_keys(d: dict) -> tuple:
    try:
        return tuple(sorted(d))
    except TypeError:  # mixed, unorderable key types: order by type name, then key
        return tuple(sorted(d, key=lambda k: (type(k).__qualname__, repr(k))))


def _node_kind(x: Any) -> int:
    t = type(x)
    if t in _registry:
        return _CUSTOM
    if x is None:
        return _NONE
    if t is tuple:
        return _TUPLE
    if t is list:
        return _LIST
    if t is dict:
        return _DICT
    if t is collections.OrderedDict:
        return _ORDEREDDICT
    if t is collections.defaultdict:
        return _DEFAULTDICT
    if isinstance(x, tuple) and hasattr(t, "_fields"):
        return _NAMEDTUPLE
    return _LEAF


def _children_and_data(x: Any, kind: int) -> tuple[list, Any]:
    """Children of a container node and its (hashable) node data."""
    if kind == _NONE:
        return [], None
    if kind in (_TUPLE, _LIST):
        return list(x), None
    if kind == _DICT:
        keys = _sorted_keys(x)
        return [x[k] for k in keys], keys
    if kind == _ORDEREDDICT:
        keys = tuple(x)
        return [x[k] for k in keys], keys
    if kind == _DEFAULTDICT:
        keys = _sorted_keys(x)
        return [x[k] for k in keys], (x.default_factory, keys)
    if kind == _NAMEDTUPLE:
        return list(x), type(x)
    children, aux = _registry[type(x)][0](x)
    return list(children), (type(x), aux)


class PyTreeDef:
    """The structure of a pytree: a node kind, node data and child treedefs."""

    __slots__ = ("_kind", "_data", "_children", "num_leaves", "num_nodes", "_hash")

    def __init__(self, kind: int, data: Any, children: tuple[PyTreeDef, ...]):
        self._kind = kind
        self._data = data
        self._children = children
        self.num_leaves = 1 if kind == _LEAF else sum(c.num_leaves for c in children)
        self.num_nodes = 1 + sum(c.num_nodes for c in children)
        self._hash = None

    def children(self) -> list[PyTreeDef]:
        return list(self._children)

    def node_data(self) -> Any:
        return self._data

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        return tree_unflatten(self, leaves)

    def flatten_up_to(self, tree: Any) -> list[Any]:
        """Leaves of `tree` at this treedef's leaf positions (subtrees allowed there)."""
        out: list[Any] = []
        _flatten_up_to(self, tree, out, self, tree)
        return out

    def _build(self, it: Any) -> Any:
        k, data = self._kind, self._data
        if k == _LEAF:
            return next(it)
        if k == _NONE:
            return None
        kids = [c._build(it) for c in self._children]
        if k == _TUPLE:
            return tuple(kids)
        if k == _LIST:
            return kids
        if k == _DICT:
            return dict(zip(data, kids))
        if k == _ORDEREDDICT:
            return collections.OrderedDict(zip(data, kids))
        if k == _DEFAULTDICT:
            return collections.defaultdict(data[0], zip(data[1], kids))
        if k == _NAMEDTUPLE:
            return data(*kids)
        return _registry[data[0]][1](data[1], tuple(kids))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        if self is other:
            return True
        return (self._kind == other._kind and self.num_leaves == other.num_leaves
                and self._data == other._data and self._children == other._children)

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self._kind, self._data, self._children))
        return self._hash

    def _str(self) -> str:
        k, data = self._kind, self._data
        kids = [c._str() for c in self._children]
        if k == _LEAF:
            return "*"
        if k == _NONE:
            return "None"
        if k == _TUPLE:
            return "(" + kids[0] + ",)" if len(kids) == 1 else "(" + ", ".join(kids) + ")"
        if k == _LIST:
            return "[" + ", ".join(kids) + "]"
        if k == _DICT:
            return "{" + ", ".join(f"{key!r}: {v}" for key, v in zip(data, kids)) + "}"
        if k == _NAMEDTUPLE:
            name = f"namedtuple[{data.__name__}]"
        elif k == _ORDEREDDICT:
            name = f"OrderedDict[{data!r}]"
        elif k == _DEFAULTDICT:
            name = f"defaultdict[{data!r}]"
        else:
            name = f"{data[0].__name__}[{data[1]}]"
        return f"CustomNode({name}, [{', '.join(kids)}])"

    def __repr__(self) -> str:
        return f"PyTreeDef({self._str()})"


_LEAF_DEF = PyTreeDef(_LEAF, None, ())


def _flatten(x: Any, is_leaf: Callable[[Any], bool] | None, leaves: list) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF_DEF
    kind = _node_kind(x)
    if kind == _LEAF:
        leaves.append(x)
        return _LEAF_DEF
    children, data = _children_and_data(x, kind)
    return PyTreeDef(kind, data, tuple(_flatten(c, is_leaf, leaves) for c in children))


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, PyTreeDef]:
    """Flattens a pytree into (leaves, treedef)."""
    leaves: list = []
    treedef = _flatten(tree, is_leaf, leaves)
    return leaves, treedef


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """Rebuilds a pytree of structure `treedef` from `leaves`."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"Too {'few' if len(leaves) < treedef.num_leaves else 'many'} leaves "
                         f"for PyTreeDef; expected {treedef.num_leaves}, got {len(leaves)}: {treedef}")
    return treedef._build(iter(leaves))


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> PyTreeDef:
    return tree_flatten(tree, is_leaf)[1]


def _mismatch(full_def: PyTreeDef, full_tree: Any, why: str) -> ValueError:
    other = tree_structure(full_tree)
    return ValueError(f"Tree structures do not match ({why}): {full_def} vs {other}")


def _flatten_up_to(td: PyTreeDef, x: Any, out: list, full_def: PyTreeDef, full_tree: Any) -> None:
    if td._kind == _LEAF:
        out.append(x)
        return
    kind = _node_kind(x)
    if kind != td._kind:
        raise _mismatch(full_def, full_tree, f"expected {td._str()}, got {type(x).__name__}")
    children, data = _children_and_data(x, kind)
    if kind == _CUSTOM and data[0] is not td._data[0]:
        raise _mismatch(full_def, full_tree, f"expected {td._data[0].__name__}, got {type(x).__name__}")
    if data != td._data:
        raise _mismatch(full_def, full_tree, f"node data {td._data!r} != {data!r}")
    if len(children) != len(td._children):
        raise _mismatch(full_def, full_tree, f"arity {len(td._children)} != {len(children)}")
    for c_def, c in zip(td._children, children):
        _flatten_up_to(c_def, c, out, full_def, full_tree)


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any,
             is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Maps `f` over leaves of `tree` (and corresponding leaves/subtrees of `rest`)."""
    leaves, treedef = tree_flatten(tree, is_leaf)
    all_leaves = [leaves] + [treedef.flatten_up_to(r) for r in rest]
    return treedef.unflatten(f(*xs) for xs in zip(*all_leaves))


_NO_INIT = object()


def tree_reduce(function: Callable[[Any, Any], Any], tree: Any, initializer: Any = _NO_INIT,
                is_leaf: Callable[[Any], bool] | None = None) -> Any:
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _NO_INIT:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_all(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    return all(tree_leaves(tree, is_leaf))


def register_pytree_node(nodetype: type, flatten_func: Callable[[Any], tuple[Iterable, Hashable]],
                         unflatten_func: Callable[[Any, Iterable], Any]) -> None:
    """Registers `nodetype` as a pytree container (aux data must be hashable)."""
    builtin = (tuple, list, dict, type(None), collections.OrderedDict, collections.defaultdict)
    if nodetype in _registry or nodetype in builtin:
        raise ValueError(f"Duplicate custom PyTreeDef type registration for {nodetype}.")
    _registry[nodetype] = (flatten_func, unflatten_func)


def register_pytree_node_class(cls: type) -> type:
    """Class decorator using `cls.tree_flatten()` and `cls.tree_unflatten(aux, children)`."""
    register_pytree_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)
    return cls


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
    return treedef.children()


def treedef_tuple(treedefs: Iterable[PyTreeDef]) -> PyTreeDef:
    """The treedef of a tuple whose children have the given treedefs."""
    return PyTreeDef(_TUPLE, None, tuple(treedefs))


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    """True for single-node treedefs (a leaf, None, or an empty container), as in JAX."""
    return treedef.num_nodes == 1

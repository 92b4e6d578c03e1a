"""The pytree core: node registry, PyTreeDef, flatten/unflatten, key paths.

`irjax.tree_util` and `irjax.tree` are the public faces; this module owns the data model.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Hashable, Iterable
from typing import Any, NamedTuple

# Node kinds.
_LEAF, _NONE, _TUPLE, _LIST, _DICT, _NAMEDTUPLE, _ORDEREDDICT, _DEFAULTDICT, _CUSTOM = range(9)


# ------------------------------------------------------------------ key path entries
class SequenceKey(NamedTuple):
    """Position in a tuple or list: prints as `[0]`."""

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"


class DictKey(NamedTuple):
    """Key of a dict-like node: prints as `['a']`."""

    key: Hashable

    def __str__(self) -> str:
        return f"[{self.key!r}]"


class GetAttrKey(NamedTuple):
    """Attribute of a namedtuple or dataclass: prints as `.name`."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


class FlattenedIndexKey(NamedTuple):
    """Child index of a custom node registered without keys."""

    key: int

    def __str__(self) -> str:
        return f"[<flat index {self.key}>]"


class _NodeType(NamedTuple):
    flatten: Callable[[Any], tuple[Iterable, Any]]
    unflatten: Callable[[Any, Iterable], Any]
    flatten_with_keys: Callable[[Any], tuple[Iterable, Any]] | None


# type -> _NodeType for registered custom containers
_registry: dict[type, _NodeType] = {}
_BUILTIN = (tuple, list, dict, type(None), collections.OrderedDict, collections.defaultdict)


def register(nodetype: type, flatten: Callable, unflatten: Callable, flatten_with_keys: Callable | None = None) -> None:
    if nodetype in _registry or nodetype in _BUILTIN:
        raise ValueError(f"Duplicate custom PyTreeDef type registration for {nodetype}.")
    _registry[nodetype] = _NodeType(flatten, unflatten, flatten_with_keys)


def _sorted_keys(d: dict) -> tuple:
    try:
        return tuple(sorted(d))
    except TypeError:  # mixed, unorderable key types: order by type name, then key
        return tuple(sorted(d, key=lambda k: (type(k).__qualname__, repr(k))))


def node_kind(x: Any) -> int:
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


def children_and_data(x: Any, kind: int) -> tuple[list, Any]:
    """Children of a container node and its node data."""
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
    children, aux = _registry[type(x)].flatten(x)
    return list(children), (type(x), aux)


def keyed_children(x: Any, kind: int) -> tuple[list, list, Any]:
    """(keys, children, node data) of a container node."""
    if kind == _NAMEDTUPLE:
        return [GetAttrKey(f) for f in type(x)._fields], list(x), type(x)
    if kind == _CUSTOM:
        node = _registry[type(x)]
        if node.flatten_with_keys is not None:
            pairs, aux = node.flatten_with_keys(x)
            pairs = list(pairs)
            return [k for k, _ in pairs], [c for _, c in pairs], (type(x), aux)
        children, data = children_and_data(x, kind)
        return [FlattenedIndexKey(i) for i in range(len(children))], children, data
    children, data = children_and_data(x, kind)
    if kind in (_TUPLE, _LIST):
        return [SequenceKey(i) for i in range(len(children))], children, data
    if kind == _NONE:
        return [], children, data
    keys = data[1] if kind == _DEFAULTDICT else data
    return [DictKey(k) for k in keys], children, data


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
        """(type, aux data) for a custom node, as in JAX; None for a leaf."""
        k, data = self._kind, self._data
        if k == _LEAF:
            return None
        if k == _CUSTOM:
            return data
        if k == _NAMEDTUPLE:
            return (data, None)
        types = {
            _NONE: type(None),
            _TUPLE: tuple,
            _LIST: list,
            _DICT: dict,
            _ORDEREDDICT: collections.OrderedDict,
            _DEFAULTDICT: collections.defaultdict,
        }
        return (types[k], data)

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        return tree_unflatten(self, leaves)

    def flatten_up_to(self, tree: Any) -> list[Any]:
        """Leaves of `tree` at this treedef's leaf positions (subtrees allowed there)."""
        out: list[Any] = []
        _flatten_up_to(self, tree, out, self, tree)
        return out

    def compose(self, inner: PyTreeDef) -> PyTreeDef:
        """The treedef of this structure with every leaf replaced by `inner`."""
        if self._kind == _LEAF:
            return inner
        return PyTreeDef(self._kind, self._data, tuple(c.compose(inner) for c in self._children))

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
        return _registry[data[0]].unflatten(data[1], tuple(kids))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        if self is other:
            return True
        if self._kind != other._kind or self.num_leaves != other.num_leaves or self._children != other._children:
            return False
        if self._kind == _CUSTOM:  # aux data may be anything with ==, as in JAX
            return self._data[0] is other._data[0] and bool(self._data[1] == other._data[1])
        return self._data == other._data

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        # custom aux data need not be hashable (JAX hashes only the node type too)
        if self._hash is None:
            data = self._data[0] if self._kind == _CUSTOM else self._data
            self._hash = hash((self._kind, data, self._children))
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


LEAF_DEF = PyTreeDef(_LEAF, None, ())


def _flatten(x: Any, is_leaf: Callable[[Any], bool] | None, leaves: list) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return LEAF_DEF
    kind = node_kind(x)
    if kind == _LEAF:
        leaves.append(x)
        return LEAF_DEF
    children, data = children_and_data(x, kind)
    return PyTreeDef(kind, data, tuple(_flatten(c, is_leaf, leaves) for c in children))


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, PyTreeDef]:
    """Flattens a pytree into (leaves, treedef)."""
    leaves: list = []
    treedef = _flatten(tree, is_leaf, leaves)
    return leaves, treedef


def _flatten_keyed(x: Any, path: tuple, is_leaf: Callable | None, takes_path: bool, out: list) -> PyTreeDef:
    if is_leaf is not None and (is_leaf(path, x) if takes_path else is_leaf(x)):
        out.append((path, x))
        return LEAF_DEF
    kind = node_kind(x)
    if kind == _LEAF:
        out.append((path, x))
        return LEAF_DEF
    keys, children, data = keyed_children(x, kind)
    return PyTreeDef(
        kind, data, tuple(_flatten_keyed(c, path + (k,), is_leaf, takes_path, out) for k, c in zip(keys, children))
    )


def tree_flatten_with_path(
    tree: Any, is_leaf: Callable[..., bool] | None = None, is_leaf_takes_path: bool = False
) -> tuple[list[tuple[tuple, Any]], PyTreeDef]:
    """Flattens a pytree into ([(key path, leaf), ...], treedef)."""
    out: list = []
    treedef = _flatten_keyed(tree, (), is_leaf, is_leaf_takes_path, out)
    return out, treedef


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """Rebuilds a pytree of structure `treedef` from `leaves`."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"Too {'few' if len(leaves) < treedef.num_leaves else 'many'} leaves "
            f"for PyTreeDef; expected {treedef.num_leaves}, got {len(leaves)}: {treedef}"
        )
    return treedef._build(iter(leaves))


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> PyTreeDef:
    return tree_flatten(tree, is_leaf)[1]


def _mismatch(full_def: PyTreeDef, full_tree: Any, why: str) -> ValueError:
    other = tree_structure(full_tree)
    return ValueError(f"Tree structures do not match ({why}): {full_def} vs {other}")


def _flatten_up_to(td: PyTreeDef, x: Any, out: list, full_def: PyTreeDef, full_tree: Any) -> None:
    if td._kind == _LEAF:
        out.append(x)
        return
    kind = node_kind(x)
    if kind != td._kind:
        raise _mismatch(full_def, full_tree, f"expected {td._str()}, got {type(x).__name__}")
    children, data = children_and_data(x, kind)
    if kind == _CUSTOM and data[0] is not td._data[0]:
        raise _mismatch(full_def, full_tree, f"expected {td._data[0].__name__}, got {type(x).__name__}")
    if not (data == td._data):
        raise _mismatch(full_def, full_tree, f"node data {td._data!r} != {data!r}")
    if len(children) != len(td._children):
        raise _mismatch(full_def, full_tree, f"arity {len(td._children)} != {len(children)}")
    for c_def, c in zip(td._children, children):
        _flatten_up_to(c_def, c, out, full_def, full_tree)


def treedef_tuple(treedefs: Iterable[PyTreeDef]) -> PyTreeDef:
    """The treedef of a tuple whose children have the given treedefs."""
    return PyTreeDef(_TUPLE, None, tuple(treedefs))


def is_leaf_kind(treedef: PyTreeDef) -> bool:
    return treedef._kind == _LEAF

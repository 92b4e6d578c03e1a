"""Tests for irjax.tree_util: JAX-compatible pytrees."""
import collections
import operator

import numpy as np
import pytest

from irjax import tree_util as tu

Point = collections.namedtuple("Point", ["x", "y"])


class Box:
    """A custom container registered with register_pytree_node."""

    def __init__(self, a, b, tag="t"):
        self.a, self.b, self.tag = a, b, tag

    def __eq__(self, other):
        return (type(other) is Box and self.a == other.a and self.b == other.b
                and self.tag == other.tag)

    def __repr__(self):
        return f"Box({self.a!r}, {self.b!r}, tag={self.tag!r})"


tu.register_pytree_node(Box, lambda x: ((x.a, x.b), x.tag),
                        lambda tag, children: Box(*children, tag=tag))


@tu.register_pytree_node_class
class Pair:
    def __init__(self, first, second):
        self.first, self.second = first, second

    def tree_flatten(self):
        return (self.first, self.second), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)

    def __eq__(self, other):
        return type(other) is Pair and (self.first, self.second) == (other.first, other.second)

    def __repr__(self):
        return f"Pair({self.first!r}, {self.second!r})"


def _make_trees():
    """Trees built fresh each call (custom classes are re-created for JAX registration)."""
    return [
        1, None, (), [], {}, (1,), [1, 2], (1, (2, 3), [4, [5]]),
        {"b": 1, "a": 2, "c": [3, 4]},
        (1, {"a": 2, "b": [3, 4]}),
        [None, (1,), ()],
        {"x": None, "y": (None, 1)},
        Point(1, (2, 3)),
        collections.OrderedDict([("b", 1), ("a", 2)]),
        collections.defaultdict(list, {"b": 1, "a": [2, 3]}),
        {1: "a", 0: "b"},
        [np.float32(1.0), np.arange(3)],
    ]


TREES = _make_trees()


@pytest.mark.parametrize("tree", TREES, ids=repr)
def test_round_trip(tree):
    leaves, treedef = tu.tree_flatten(tree)
    rebuilt = tu.tree_unflatten(treedef, leaves)
    assert type(rebuilt) is type(tree)
    if not any(isinstance(x, np.ndarray) for x in leaves):
        assert rebuilt == tree
    assert all(a is b for a, b in zip(tu.tree_leaves(rebuilt), leaves))
    assert treedef.unflatten(leaves).__class__ is tree.__class__
    assert treedef.num_leaves == len(leaves)
    assert tu.tree_structure(rebuilt) == treedef
    assert hash(tu.tree_structure(rebuilt)) == hash(treedef)


def test_leaf_order_and_repr():
    leaves, td = tu.tree_flatten((1, {"b": [3, 4], "a": 2}))
    assert leaves == [1, 2, 3, 4]
    assert repr(td) == "PyTreeDef((*, {'a': *, 'b': [*, *]}))"
    assert repr(tu.tree_structure([None, (1,), ()])) == "PyTreeDef([None, (*,), ()])"
    assert repr(tu.tree_structure(1)) == "PyTreeDef(*)"
    assert repr(tu.tree_structure(None)) == "PyTreeDef(None)"
    assert repr(tu.tree_structure(Point(1, 2))) == "PyTreeDef(CustomNode(namedtuple[Point], [*, *]))"
    assert repr(tu.tree_structure(Box(1, [2]))) == "PyTreeDef(CustomNode(Box[t], [*, [*]]))"


def test_none_is_a_node_not_a_leaf():
    leaves, td = tu.tree_flatten([None, 1, None])
    assert leaves == [1]
    assert td.num_leaves == 1
    assert tu.tree_leaves(None) == []
    assert tu.tree_leaves(None, is_leaf=lambda x: x is None) == [None]


def test_container_ordering():
    assert tu.tree_leaves({"b": 1, "a": 2}) == [2, 1]
    assert tu.tree_leaves(collections.OrderedDict([("b", 1), ("a", 2)])) == [1, 2]
    assert tu.tree_leaves(collections.defaultdict(int, {"b": 1, "a": 2})) == [2, 1]
    assert tu.tree_leaves(Point(x=1, y=2)) == [1, 2]
    # dicts with equal keys in different insertion order have equal structure
    assert tu.tree_structure({"a": 1, "b": 2}) == tu.tree_structure({"b": 1, "a": 2})
    # OrderedDicts keep order, so differently-ordered ones differ
    assert (tu.tree_structure(collections.OrderedDict(a=1, b=2))
            != tu.tree_structure(collections.OrderedDict(b=1, a=2)))


def test_defaultdict_factory_preserved():
    tree = collections.defaultdict(list, {"a": 1})
    out = tu.tree_map(lambda x: x + 1, tree)
    assert type(out) is collections.defaultdict and out.default_factory is list
    assert out["a"] == 2


def test_unknown_containers_are_leaves():
    class MyDict(dict):
        pass

    d = MyDict(a=1)
    assert tu.tree_leaves(d) == [d]
    assert tu.tree_leaves("abc") == ["abc"]
    arr = np.ones(3)
    assert tu.tree_leaves([arr])[0] is arr


def test_custom_nodes():
    tree = [Box(1, (2, 3), tag="q"), Pair(4, 5)]
    leaves, td = tu.tree_flatten(tree)
    assert leaves == [1, 2, 3, 4, 5]
    assert tu.tree_unflatten(td, leaves) == tree
    assert tu.tree_map(lambda x: x * 10, tree) == [Box(10, (20, 30), tag="q"), Pair(40, 50)]
    # aux data is part of the structure
    assert tu.tree_structure(Box(1, 2, tag="a")) != tu.tree_structure(Box(1, 2, tag="b"))
    assert tu.tree_structure(Box(1, 2)) != tu.tree_structure(Pair(1, 2))
    with pytest.raises(ValueError):
        tu.register_pytree_node(Box, lambda x: ((), None), lambda a, c: Box(0, 0))


def test_treedef_equality_and_hash():
    a = tu.tree_structure((1, [2, {"k": 3}]))
    b = tu.tree_structure(("x", ["y", {"k": None, }]))
    assert a != b  # None is a node, not a leaf
    c = tu.tree_structure(("x", ["y", {"k": "z"}]))
    assert a == c and hash(a) == hash(c)
    assert tu.tree_structure((1, 2)) != tu.tree_structure([1, 2])
    assert tu.tree_structure(Point(1, 2)) != tu.tree_structure((1, 2))
    assert tu.tree_structure({"a": 1}) != tu.tree_structure({"b": 1})
    cache = {a: "hit"}
    assert cache[c] == "hit"
    assert a != 3


def test_treedef_children_and_helpers():
    td = tu.tree_structure((1, [2, 3], None))
    kids = td.children()
    assert [k.num_leaves for k in kids] == [1, 2, 0]
    assert tu.treedef_is_leaf(kids[0]) and not tu.treedef_is_leaf(kids[1])
    assert tu.treedef_tuple(kids) == td
    assert tu.treedef_children(td) == kids
    assert td.num_nodes == 6


def test_unflatten_wrong_count():
    td = tu.tree_structure([1, 2])
    with pytest.raises(ValueError):
        tu.tree_unflatten(td, [1])
    with pytest.raises(ValueError):
        tu.tree_unflatten(td, [1, 2, 3])


def test_tree_map_multi_and_prefix():
    assert tu.tree_map(operator.add, (1, [2, 3]), (10, [20, 30])) == (11, [22, 33])
    # rest trees may have subtrees where the first tree has leaves
    assert tu.tree_map(lambda x, y: (x, y), [1, 2], [(3, 4), {"a": 5}]) == [(1, (3, 4)), (2, {"a": 5})]
    assert tu.tree_map(lambda x: x, None) is None
    out = tu.tree_map(lambda x: x is None, [None, 1], is_leaf=lambda x: x is None)
    assert out == [True, False]


@pytest.mark.parametrize("a,b", [
    ((1, 2), [1, 2]),
    ((1, 2), (1, 2, 3)),
    ({"a": 1}, {"b": 1}),
    ([1, None], [1, 2]),
    (Point(1, 2), (1, 2)),
    (Box(1, 2, tag="a"), Box(1, 2, tag="b")),
    ([1, [2]], [1, 2]),
])
def test_tree_map_mismatch_raises(a, b):
    with pytest.raises(ValueError) as info:
        tu.tree_map(lambda x, y: x, a, b)
    msg = str(info.value)
    assert repr(tu.tree_structure(a)) in msg and repr(tu.tree_structure(b)) in msg


def test_reduce_and_all():
    assert tu.tree_reduce(operator.add, (1, [2, 3])) == 6
    assert tu.tree_reduce(operator.add, [], 7) == 7
    assert tu.tree_all([True, (True, {"a": True})])
    assert not tu.tree_all([True, (False,)])
    assert tu.tree_all([])


def test_is_leaf():
    tree = [(1, 2), (3, 4)]
    leaves, td = tu.tree_flatten(tree, is_leaf=lambda x: isinstance(x, tuple))
    assert leaves == [(1, 2), (3, 4)]
    assert td.num_leaves == 2
    assert tu.tree_unflatten(td, leaves) == tree


# ------------------------------------------------------------ differential vs JAX
def test_matches_jax():
    jtu = pytest.importorskip("jax.tree_util")
    try:
        jtu.register_pytree_node(Box, lambda x: ((x.a, x.b), x.tag),
                                 lambda tag, children: Box(*children, tag=tag))
        jtu.register_pytree_node(Pair, lambda x: x.tree_flatten(), Pair.tree_unflatten)
    except ValueError:
        pass  # already registered with JAX
    trees = _make_trees() + [[Box(1, (2, 3)), Pair({"z": 1, "a": 2}, None)]]
    for tree in trees:
        ours_leaves, ours_td = tu.tree_flatten(tree)
        jax_leaves, jax_td = jtu.tree_flatten(tree)
        assert len(ours_leaves) == len(jax_leaves)
        assert all(a is b for a, b in zip(ours_leaves, jax_leaves)), tree
        assert ours_td.num_leaves == jax_td.num_leaves
        assert repr(ours_td) == repr(jax_td)
        ours = tu.tree_unflatten(ours_td, list(range(ours_td.num_leaves)))
        theirs = jtu.tree_unflatten(jax_td, list(range(jax_td.num_leaves)))
        assert type(ours) is type(theirs) and repr(ours) == repr(theirs)
    sel = lambda x: isinstance(x, list)
    tree = {"a": [1, 2], "b": (3, [4])}
    assert tu.tree_leaves(tree, is_leaf=sel) == jtu.tree_leaves(tree, is_leaf=sel)

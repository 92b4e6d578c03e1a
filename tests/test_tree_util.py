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
        return type(other) is Box and self.a == other.a and self.b == other.b and self.tag == other.tag

    def __repr__(self):
        return f"Box({self.a!r}, {self.b!r}, tag={self.tag!r})"


tu.register_pytree_node(Box, lambda x: ((x.a, x.b), x.tag), lambda tag, children: Box(*children, tag=tag))


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
        1,
        None,
        (),
        [],
        {},
        (1,),
        [1, 2],
        (1, (2, 3), [4, [5]]),
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
    assert tu.tree_structure(collections.OrderedDict(a=1, b=2)) != tu.tree_structure(collections.OrderedDict(b=1, a=2))


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
    b = tu.tree_structure(
        (
            "x",
            [
                "y",
                {
                    "k": None,
                },
            ],
        )
    )
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


@pytest.mark.parametrize(
    "a,b",
    [
        ((1, 2), [1, 2]),
        ((1, 2), (1, 2, 3)),
        ({"a": 1}, {"b": 1}),
        ([1, None], [1, 2]),
        (Point(1, 2), (1, 2)),
        (Box(1, 2, tag="a"), Box(1, 2, tag="b")),
        ([1, [2]], [1, 2]),
    ],
)
def test_tree_map_mismatch_raises(a, b):
    with pytest.raises(ValueError) as info:
        tu.tree_map(lambda x, y: x, a, b)
    msg = str(info.value)
    # built-in containers get JAX's key-path message (compared with JAX in test_jax_fidelity.py)
    assert msg.startswith("pytree structure error: ") or (
        repr(tu.tree_structure(a)) in msg and repr(tu.tree_structure(b)) in msg
    )


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
        jtu.register_pytree_node(Box, lambda x: ((x.a, x.b), x.tag), lambda tag, children: Box(*children, tag=tag))
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


# ------------------------------------------------------------ key paths, registration, jax.tree
import dataclasses  # noqa: E402

import irjax  # noqa: E402
import irjax.numpy as jnp  # noqa: E402

jax = pytest.importorskip("jax")
jtu = jax.tree_util


def _path_trees(mod):
    P = collections.namedtuple("P", ["x", "y"])
    return [
        {"a": [1, (2, None)], "b": P(3, 4), "c": collections.OrderedDict(z=1, a=2)},
        [collections.defaultdict(int, {"q": 5}), (), 6],
        mod.Partial(operator.add, 7, 8),
    ]


def _to_jax_path(path):
    conv = {
        tu.SequenceKey: jtu.SequenceKey,
        tu.DictKey: jtu.DictKey,
        tu.GetAttrKey: jtu.GetAttrKey,
        tu.FlattenedIndexKey: jtu.FlattenedIndexKey,
    }
    return tuple(conv[type(k)](k[0]) for k in path)


def test_flatten_with_path_matches_jax():
    for ours_tree, jax_tree in zip(_path_trees(tu), _path_trees(jtu)):
        ours, ours_td = tu.tree_flatten_with_path(ours_tree)
        theirs, jax_td = jtu.tree_flatten_with_path(jax_tree)
        assert [_to_jax_path(p) for p, _ in ours] == [p for p, _ in theirs]
        assert [x for _, x in ours] == [x for _, x in theirs]
        assert [tu.keystr(p) for p, _ in ours] == [jtu.keystr(p) for p, _ in theirs]
        assert [tu.keystr(p, simple=True, separator="/") for p, _ in ours] == [
            jtu.keystr(p, simple=True, separator="/") for p, _ in theirs
        ]
        assert [str(k) for p, _ in ours for k in p] == [str(k) for p, _ in theirs for k in p]
        assert [repr(k) for p, _ in ours for k in p] == [repr(k) for p, _ in theirs for k in p]
        assert ours_td.num_leaves == jax_td.num_leaves
    assert [_to_jax_path(p) for p, _ in tu.tree_leaves_with_path(_path_trees(tu)[0])] == [
        p for p, _ in jtu.tree_leaves_with_path(_path_trees(jtu)[0])
    ]


def test_map_with_path_and_is_leaf_takes_path():
    tree = {"a": [1, 2], "b": (3, {"c": 4})}
    f = lambda p, x, y: f"{len(p)}:{x + y}"
    ours = tu.tree_map_with_path(f, tree, tree)
    assert ours == jtu.tree_map_with_path(f, tree, tree)
    stop = lambda p, x: len(p) == 2
    assert [tu.keystr(p) for p, _ in tu.tree_leaves_with_path(tree, stop, is_leaf_takes_path=True)] == [
        jtu.keystr(p) for p, _ in jtu.tree_leaves_with_path(tree, stop, is_leaf_takes_path=True)
    ]
    assert irjax.tree.map_with_path(lambda p, x: tu.keystr(p), tree) == jax.tree.map_with_path(
        lambda p, x: jtu.keystr(p), tree
    )


def test_jax_tree_namespace_matches_jax():
    tree = {"w": [1.0, 2.0], "b": (3.0,), "n": None}
    for name, args in [
        ("leaves", (tree,)),
        ("map", (lambda x: x * 2, tree)),
        ("reduce", (operator.add, tree)),
        ("reduce", (operator.add, tree, 10.0)),
        ("reduce_associative", (operator.add, tree)),
        ("all", (tree,)),
        ("all", ([1, 0],)),
        ("broadcast", ([1, 2], [(0, 0), {"a": 0}])),
    ]:
        assert getattr(irjax.tree, name)(*args) == getattr(jax.tree, name)(*args), name
    leaves, td = irjax.tree.flatten(tree)
    assert repr(td) == repr(jax.tree.structure(tree))
    assert irjax.tree.unflatten(td, leaves) == tree
    assert repr(irjax.tree.structure(tree)) == repr(jax.tree.flatten(tree)[1])


def test_transpose_matches_jax():
    outer = [{"a": 1, "b": 2}, {"a": 3, "b": 4}, {"a": 5, "b": 6}]
    ours = irjax.tree.transpose(tu.tree_structure([0, 0, 0]), tu.tree_structure({"a": 0, "b": 0}), outer)
    theirs = jax.tree.transpose(jtu.tree_structure([0, 0, 0]), jtu.tree_structure({"a": 0, "b": 0}), outer)
    assert ours == theirs == {"a": [1, 3, 5], "b": [2, 4, 6]}
    assert irjax.tree.transpose(tu.tree_structure([0, 0, 0]), None, outer) == theirs
    with pytest.raises(TypeError):
        tu.tree_transpose(tu.tree_structure([0, 0]), tu.tree_structure({"a": 0, "b": 0}), outer)


def test_all_leaves_and_treedef_predicates():
    for items in ([1, 2], [1, [2]], [None], [], [np.ones(2), "s"]):
        assert tu.all_leaves(items) == jtu.all_leaves(items), items
    sel = lambda x: isinstance(x, tuple)
    assert tu.all_leaves([(1, 2), (3,)], is_leaf=sel) == jtu.all_leaves([(1, 2), (3,)], is_leaf=sel)
    for t in (1, None, [], (1, 2), {"a": 1}):
        assert tu.treedef_is_leaf(tu.tree_structure(t)) == jtu.treedef_is_leaf(jtu.tree_structure(t))
    assert tu.treedef_is_strict_leaf(tu.tree_structure(1))
    assert not tu.treedef_is_strict_leaf(tu.tree_structure(None))
    assert tu.flatten_one_level({"b": 1, "a": 2}) == ([2, 1], ("a", "b"))
    with pytest.raises(ValueError, match="can't tree-flatten"):
        tu.flatten_one_level(3)


@dataclasses.dataclass
class Params:
    w: object
    b: object
    name: str = dataclasses.field(default="p", metadata=dict(static=True))


tu.register_dataclass(Params)


def test_register_dataclass_paths_and_jit():
    p = Params(jnp.ones(3), jnp.float32(2.0), name="layer")
    pairs, td = tu.tree_flatten_with_path(p)
    assert [tu.keystr(k) for k, _ in pairs] == [".w", ".b"]
    assert td == tu.tree_structure(Params(1, 2, name="layer"))
    assert td != tu.tree_structure(Params(1, 2, name="other"))
    out = irjax.jit(lambda q: Params(q.w * q.b, q.b + 1, name=q.name + "!"))(p)
    assert type(out) is Params and out.name == "layer!"
    np.testing.assert_allclose(np.asarray(out.w), [2.0, 2.0, 2.0])
    g = irjax.grad(lambda q: jnp.sum(q.w * q.b))(p)
    np.testing.assert_allclose(np.asarray(g.w), [2.0] * 3)
    np.testing.assert_allclose(np.asarray(g.b), 3.0)
    with pytest.raises(ValueError, match="missing"):

        @dataclasses.dataclass
        class Bad:
            a: int
            b: int

        tu.register_dataclass(Bad, data_fields=["a"], meta_fields=[])


class WithDictAux:
    """A node whose aux data is a dict (unhashable): JAX allows it, comparing with ==."""

    def __init__(self, x, cfg):
        self.x, self.cfg = x, cfg


tu.register_pytree_with_keys(
    WithDictAux, lambda n: (((tu.GetAttrKey("x"), n.x),), n.cfg), lambda cfg, kids: WithDictAux(kids[0], cfg)
)


def test_unhashable_aux_under_jit():
    calls = []

    @irjax.jit
    def f(node):
        calls.append(1)
        return node.x * node.cfg["scale"]

    a = WithDictAux(jnp.arange(3.0), {"scale": 2.0})
    np.testing.assert_allclose(np.asarray(f(a)), [0.0, 2.0, 4.0])
    np.testing.assert_allclose(np.asarray(f(WithDictAux(jnp.ones(3), {"scale": 2.0}))), [2.0] * 3)
    assert len(calls) == 1  # equal aux data: cache hit
    np.testing.assert_allclose(np.asarray(f(WithDictAux(jnp.ones(3), {"scale": 3.0}))), [3.0] * 3)
    assert len(calls) == 2  # different aux data: retrace
    assert [tu.keystr(p) for p, _ in tu.tree_leaves_with_path(a)] == [".x"]
    hash(tu.tree_structure(a))


def test_register_pytree_node_keys_and_class_decorators():
    pairs = tu.tree_leaves_with_path([Box(1, 2)])
    assert [tu.keystr(p) for p, _ in pairs] == ["[0][<flat index 0>]", "[0][<flat index 1>]"]

    @tu.register_pytree_with_keys_class
    class KV:
        def __init__(self, k, v):
            self.k, self.v = k, v

        def tree_flatten_with_keys(self):
            return ((tu.DictKey("k"), self.k), (tu.DictKey("v"), self.v)), None

        @classmethod
        def tree_unflatten(cls, aux, kids):
            return cls(*kids)

    out = tu.tree_map(lambda x: x + 1, KV(1, 2))
    assert (out.k, out.v) == (2, 3)
    assert [tu.keystr(p) for p, _ in tu.tree_leaves_with_path(KV(1, 2))] == ["['k']", "['v']"]

    @tu.register_static
    class Tag:
        def __init__(self, s):
            self.s = s

        def __eq__(self, o):
            return isinstance(o, Tag) and o.s == self.s

        def __hash__(self):
            return hash(self.s)

    assert tu.tree_leaves([Tag("a"), 1]) == [1]
    assert tu.tree_structure(Tag("a")) != tu.tree_structure(Tag("b"))


def test_partial_is_a_pytree_through_jit():
    def scale(a, x):
        return a * x

    p = tu.Partial(scale, jnp.float32(3.0))
    assert len(tu.tree_leaves(p)) == 1
    out = irjax.jit(lambda fn, x: fn(x))(p, jnp.arange(3.0))
    np.testing.assert_allclose(np.asarray(out), [0.0, 3.0, 6.0])
    q = tu.tree_map(lambda v: v * 2, p)
    assert isinstance(q, tu.Partial) and q.func is scale and float(q(1.0)) == 6.0
    # a Partial of a Partial keeps the inner one static, as in JAX
    nested, jnested = tu.Partial(tu.Partial(operator.add, 1), 2), jtu.Partial(jtu.Partial(operator.add, 1), 2)
    assert tu.tree_leaves(nested) == jtu.tree_leaves(jnested) == [2]
    assert nested() == jnested() == 3
    assert repr(tu.tree_structure(nested)).replace("irjax", "jax") == repr(jtu.tree_structure(jnested))


def test_jax_tree_module_import():
    assert hasattr(irjax, "tree") and "tree" in dir(irjax)
    import irjax.tree as t

    assert t.leaves([1, [2]]) == [1, 2]


def test_register_pytree_node_with_keys_func_matches_jax():
    class Two:
        def __init__(self, a, b):
            self.a, self.b = a, b

    for mod in (tu, jtu):
        mod.register_pytree_node(
            Two,
            lambda t: ((t.a, t.b), None),
            lambda _, kids: Two(*kids),
            lambda t: (((mod.GetAttrKey("a"), t.a), (mod.DictKey("b"), t.b)), None),
        )
    ours = [tu.keystr(p) for p, _ in tu.tree_leaves_with_path({"t": Two(1, [2])})]
    theirs = [jtu.keystr(p) for p, _ in jtu.tree_leaves_with_path({"t": Two(1, [2])})]
    assert ours == theirs == ["['t'].a", "['t']['b'][0]"]

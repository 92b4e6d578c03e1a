"""Structured control flow: jx.cond, jx.while, jx.scan. Their bodies are functions named by
symbol (as jx.call's callee), so every pass transforms them as functions.

    %r = "jx.cond"(%i, %x) {branches = [@f, @g]} : (tensor<i1>, tensor<3xf32>) -> tensor<3xf32>
    %c = "jx.while"(%k, %x) {cond_fn = @c, body_fn = @b, cond_nconsts = 1, body_nconsts = 0}
    %c, %ys = "jx.scan"(%w, %h, %xs) {body = @f, length = 5, reverse = false, num_consts = 1,
                                      num_carry = 1} : (...) -> (tensor<4xf32>, tensor<5x4xf32>)

cond: a bool predicate picks branches [false, true]; an int index is clamped into range.
while: cond_fn(cconsts..., carry...) -> i1, body_fn(bconsts..., carry...) -> carry.
scan: body(consts..., carry..., x slices...) -> (carry..., y slices...); ys stacked on axis 0.
  Optional `unroll = k`: k steps per loop iteration when lowered (absent: the lowering picks,
  see auto_unroll); it changes no value.
Result types come from the callees, so emit these ops with result_types (like jx.call).
"""

from __future__ import annotations

import contextvars

import numpy as np

from . import control_flow_rules as R
from . import hlo
from .builder import aval
from .calls import func_call as _call
from .func import callees_of, find_func
from .mlir import ir
from .registry import Primitive, ShapedType, VerifyError, register

_I32 = np.dtype(np.int32)
_BOOL = np.dtype(np.bool_)


def _infer(*avals, **params):
    raise VerifyError("control-flow result types come from the callee functions; emit with result_types")


# ---- NumPy reference: `_call(fname, args) -> list` evaluates a callee (see interpret.py) ----------


def _branch_index(index, n) -> int:
    i = np.asarray(index)
    return int(bool(i)) if i.dtype == _BOOL else int(np.clip(int(i), 0, n - 1))


def _cond_impl(index, *ops, branches, _call):
    return _call(branches[_branch_index(index, len(branches))], list(ops))


def _while_impl(*args, cond_fn, body_fn, cond_nconsts, body_nconsts, _call):
    cc, bc = list(args[:cond_nconsts]), list(args[cond_nconsts : cond_nconsts + body_nconsts])
    carry = list(args[cond_nconsts + body_nconsts :])
    while bool(_call(cond_fn, cc + carry)[0]):
        carry = _call(body_fn, bc + carry)
    return carry


def _scan_impl(*args, body, length, reverse, num_consts, num_carry, _call, unroll=None):
    consts = list(args[:num_consts])
    carry = list(args[num_consts : num_consts + num_carry])
    xs = list(args[num_consts + num_carry :])
    ys = None
    for k in range(length):
        i = length - 1 - k if reverse else k
        outs = _call(body, consts + carry + [x[i] for x in xs])
        carry, y = outs[:num_carry], outs[num_carry:]
        if ys is None:
            ys = [np.zeros((length,) + np.shape(v), np.asarray(v).dtype) for v in y]
        for buf, v in zip(ys, y):
            buf[i] = v
    return carry + (ys or [])


# ---- StableHLO lowering: regions that func.call the bodies -------------------------------------


def _region_op(name, operands, results, attrs, regions) -> list:
    """`name` with one single-block region per (arg_types, body) in `regions`."""
    operands = list(operands)
    top_loop = name == "stablehlo.while" and ir.InsertionPoint.current.block.owner.operation.name == "func.func"
    if top_loop:
        operands = _apart_from_arguments(operands)
    o = ir.Operation.create(
        name,
        results=[hlo._type(t) for t in results],
        operands=operands,
        attributes=attrs or {},
        regions=len(regions),
    )
    for r, (arg_types, body) in zip(o.regions, regions):
        block = r.blocks.append(*[hlo._type(t) for t in arg_types])
        with ir.InsertionPoint(block):
            ir.Operation.create("stablehlo.return", operands=list(body(*block.arguments)))
    if top_loop:
        # IREE 3.13's stream partitioning can put a value the loop reads (a capture once its
        # canonicalizer drops the pass-through carries) in one partition with a consumer of the
        # loop's results, and then fails: "failed to schedule execution partitions without
        # cyclic dependencies" (cho_solve(cho_factor(a), b) next to another use of b). A barrier
        # over the results keeps their consumers out of that partition. (Not for loops nested in
        # another region: the chunked scan's inner loop writes its chunk straight into ys.)
        return list(hlo.op("stablehlo.optimization_barrier", list(o.results), list(results)))
    return list(o.results)


def _apart_from_arguments(operands: list) -> list:
    """`operands` (the list, updated) with a top-level loop's initial values that are the
    function's own arguments passed through an optimization barrier. IREE 3.13 otherwise
    miscompiles some such loops: a call fails at run time with "ref is null ...
    hal.buffer.subspan" (an eager L-BFGS loop, 35 carries taken straight from the arguments,
    whose body holds limit-dispatch-bindings' barriers); the same module with the barrier runs,
    and its jitted form, whose carries are computed, always did."""
    idx = [i for i, v in enumerate(operands) if isinstance(v, ir.BlockArgument)]
    if not idx:
        return operands
    kept = hlo.op("stablehlo.optimization_barrier", [operands[i] for i in idx], [operands[i].type for i in idx])
    for i, v in zip(idx, kept):
        operands[i] = v
    return operands


def _scalar(v, dtype):
    return hlo.constant(np.array(v, dtype))


def _cond_lower(ctx, index, *ops, branches):
    n = len(branches)
    s32 = ShapedType((), _I32)
    ia = aval(index)
    if ia.dtype != _I32:
        index = hlo.op1("stablehlo.convert", [index], s32)
    if ia.dtype != _BOOL:  # stablehlo.case runs the last branch for any out-of-range index
        index = hlo.op1("stablehlo.clamp", [_scalar(0, _I32), index, _scalar(n - 1, _I32)], s32)
    outs = ctx.out_avals
    regions = [([], (lambda b=b: _call(b, ops, outs))) for b in branches]
    return _region_op("stablehlo.case", [index], outs, {}, regions)


def _unread_args(op, fname: str, skip: int) -> list[int]:
    """Indices j of the carries (@fname's arguments after the first `skip`) that its body never
    reads: an argument with no use, or one only passed on to calls that do not read it (the
    closure wrappers of while bodies)."""
    module = op
    while module.name != "builtin.module":
        module = module.parent
    memo: dict = {}

    def read(name, i):
        if (name, i) not in memo:
            memo[name, i] = True  # (a recursive call reads it)
            f = find_func(module, name)
            args = [] if f is None else f.regions[0].blocks[0].arguments
            memo[name, i] = i >= len(args) or any(_use_reads(u, read) for u in args[i].uses)
        return memo[name, i]

    f = find_func(module, fname)
    n = 0 if f is None else len(f.regions[0].blocks[0].arguments)
    return [j for j in range(n - skip) if not read(fname, skip + j)]


def _use_reads(use, read) -> bool:
    owner = use.owner
    if owner.name in ("jx.call", "func.call") and "callee" in owner.attributes:
        return read(ir.FlatSymbolRefAttr(owner.attributes["callee"]).value, use.operand_number)
    return True


def _while_lower(ctx, *args, cond_fn, body_fn, cond_nconsts, body_nconsts):
    types = [aval(a) for a in args]
    nc, nb = cond_nconsts, body_nconsts

    def cond(*xs):
        return _call(cond_fn, list(xs[:nc]) + list(xs[nc + nb :]), [ShapedType((), _BOOL)])

    unread = _unread_args(ctx.op, body_fn, nb)

    def body(*xs):
        new = _call(body_fn, list(xs[nc:]), types[nc + nb :])
        if unread:
            # IREE 3.13 turns the loop into a do-while, drops a carry the body never reads from
            # the loop's arguments but still forwards it to the after-region, and then its
            # scf.while conversion crashes (SIGSEGV/SIGABRT) or leaves a null buffer at run time.
            # Reading the old value beside the new one in a barrier keeps the carry an argument.
            olds = [xs[nc + nb + j] for j in unread]
            kept = hlo.op(
                "stablehlo.optimization_barrier",
                [new[j] for j in unread] + olds,
                [types[nc + nb + j] for j in unread] * 2,
            )
            for j, v in zip(unread, kept):
                new[j] = v
        return list(xs[: nc + nb]) + new

    res = _region_op("stablehlo.while", args, types, {}, [(types, cond), (types, body)])
    return res[nc + nb :]


def _scan_lower(ctx, *args, body, length, reverse, num_consts, num_carry, unroll=None):
    """A stablehlo.while over blocks of `unroll` steps (JAX's unroll; the remaining steps, or
    all of them when unroll >= length, run as straight-line code after it). A block reads its
    x rows with one dynamic_slice and writes its y rows with one dynamic_update_slice; consts
    and xs are read from above, not loop-carried (IREE would copy them every iteration).

    IREE 3.13 runs every while iteration on its host VM (a command buffer each: ~3-5 us plus
    ~1 us a dispatch), so without an unroll attribute small bodies are unrolled (auto_unroll).
    It also copies a loop-carried buffer whole on every iteration that updates it (even an
    update it could do in place: benchmarks/loop_copies.py), so stacking straight into the
    (length, ...) buffers costs O(length^2): a 1000-step RNN scan spent 70 ms copying. CPU
    modules (place_stacks) place the stacking buffers on the device, which IREE then updates
    in place (_place, _ScanParts.fresh_ys): one loop, no copies. Otherwise, from CHUNK_FROM
    steps on, the scan runs as chunks of K ~ 4 sqrt(length) steps: an inner loop stacks into
    (K, ...) buffers, the outer loop writes each chunk into the full buffers once,
    O(length^1.5) copying (see _scan_chunked).
    """
    nk = num_carry
    y_avals = [ShapedType(a.shape[1:], a.dtype) for a in ctx.out_avals[nk:]]
    sc = _ScanParts(ctx, args, body, length, reverse, num_consts, nk, y_avals)
    u = auto_unroll(ctx, body, length) if unroll is None else max(1, min(int(unroll), length))
    placed = bool(y_avals) and place_stacks.get() is not None and _loop_blocks(length, u)[0] > 0
    if y_avals and length >= CHUNK_FROM and u < length and chunk_scans.get() and not placed:
        return _scan_chunked(sc, u)
    s32 = ShapedType((), _I32)
    state = [_scalar(0, _I32)] + sc.carry0 + (sc.fresh_ys(length) if placed else sc.zero_ys(length))
    st_types = [s32] + sc.carry_types + sc.ys_types(length)

    def block(size, g, *xs):
        carry, ys = sc.run_block(list(xs[:nk]), g, list(xs[nk:]), g, length, size)
        return [sc.inc(g, size)] + carry + ys

    return _blocks(length, u, state, st_types, block, placed=range(1 + nk, len(state)) if placed else ())[1:]


CHUNK_FROM = 64  # scans this long (with stacked outputs) run as chunks of ~4 sqrt(length) steps
# Chunks of ~4 sqrt(length) steps, not sqrt(length): IREE copies the carried buffers on every
# iteration of both loops, and the outer loop's (length, ...) buffers cost more per row than an
# inner loop's chunk, which stays in cache. The RNN benchmark's value_and_grad (1000 steps,
# 8x64 state, interleaved A/B in one process): K = 40 21.2-22.3 ms, 96 18.1-18.7, 128 17.7,
# 200 18.0-18.9, 256 18.3, 336 19.8; compile time unchanged.
CHUNK_SCALE = 4
# lower-stablehlo{chunk-scans=false} turns chunking off: the nested loops lost the Vulkan device
# (lavapipe) after a few such modules ran in one process, so only CPU modules are chunked.
chunk_scans = contextvars.ContextVar("irjax_chunk_scans", default=True)
# lower-stablehlo{place-stacks=true} (CPU modules for IREE): a scan stacks its outputs in place,
# in one loop (see _ScanParts.fresh_ys); the StableHLO then holds flow.tensor.transfer ops. The
# value is the module's counter of stacking buffers while on (None: off).
place_stacks = contextvars.ContextVar("irjax_place_stacks", default=None)
# IREE names the one device of a module compiled for one target this
DEVICE_PROMISE = "#hal.device.promise<@__device_0>"
AUTO_UNROLL_OPS = 64  # bodies of at most this many ops (callees included) are unrolled by default
AUTO_UNROLL = 8  # ... this many steps per loop iteration (RNN value_and_grad: 37 -> 26 ms, see decisions.md)


AUTO_UNROLL_FROM = 64  # ... in scans of at least this many steps


def auto_unroll(ctx, body, length) -> int:
    """The default unroll of a long scan whose body is small: per-iteration loop overhead
    dominates it, and unrolling adds only a few dispatches to compile. Short loops stay rolled:
    the library's small fori_loops (linalg over n = 4), unrolled, trip IREE 3.13's stream
    partitioning ("circular dependency: input operation uses partition output")."""
    if AUTO_UNROLL <= 1 or length < AUTO_UNROLL_FROM or AUTO_UNROLL_OPS <= 0:
        return 1
    return AUTO_UNROLL if _body_size(ctx, body) <= AUTO_UNROLL_OPS else 1


def _body_size(ctx, fname) -> int:
    """Ops in @fname and the functions it calls (nested regions included; stops counting
    past AUTO_UNROLL_OPS)."""
    module = ctx.op
    while module.name != "builtin.module":
        module = module.parent
    count, seen, todo = 0, set(), [fname]
    while todo and count <= AUTO_UNROLL_OPS:
        name = todo.pop()
        f = find_func(module, name) if name not in seen else None
        seen.add(name)
        if f is None:
            continue
        ops = []
        f.operation.walk(lambda op: ops.append(op) or ir.WalkResult.ADVANCE, ir.WalkOrder.PRE_ORDER)
        for op in ops[1:]:
            if op.name in _FREE_OPS:
                continue
            count += 1
            if op.name == "func.call":
                todo.append(ir.FlatSymbolRefAttr(op.attributes["callee"]).value)
            else:
                todo += callees_of(op)
    return count


# ops that compile to no dispatch of their own
_FREE_OPS = frozenset(("func.return", "stablehlo.return", "stablehlo.constant", "jx.constant", "jx.return"))


def _loop_blocks(n: int, u: int) -> tuple[int, int]:
    """(blocks of u steps the loop runs, steps run inline after it): no loop for one block."""
    blocks, rem = divmod(n, u)
    return (0, n) if blocks == 1 else (blocks, rem)


def _blocks(n, u, state, types, block, placed=()):
    """`state` after n steps, taken by block(size, *state) -> state (state[0] is the step
    counter, block advances it by size): a stablehlo.while of (n // u) blocks of u steps, then
    one block of the remaining n % u steps inline (all n inline when n // u is 1). The state
    values at indices `placed` are placed on the device at the top of the loop body (_place)."""
    blocks, rem = _loop_blocks(n, u)
    if blocks:
        bound = blocks * u

        def cond(i, *_):
            return [hlo.compare(i, _scalar(bound, _I32), "LT")]

        def body(*xs):
            xs = [_place(x) if i in placed else x for i, x in enumerate(xs)]
            return block(u, *xs)

        state = _region_op("stablehlo.while", state, types, {}, [(types, cond), (types, body)])
    if rem:
        state = block(rem, *state)
    return list(state)


def _place(x):
    """`flow.tensor.transfer` of a loop-carried stacking buffer to the module's device. IREE 3.13's
    affinity analysis leaves the values a loop carries without a device, so it converts every
    dynamic_update_slice into one with a transfer of unknown source in front: a copy of the whole
    buffer on every iteration (benchmarks/loop_copies.py). With the transfer the carried value
    has the device's affinity, IREE elides both and updates the buffer in place (500 iterations
    stacking 2 rows of a 1000x64 buffer: 6.6 -> 1.3 ms). IREE then takes the loop's buffer as
    its own, so its initial value must be one no other value shares (_ScanParts.fresh_ys).
    Unsigned buffers are not placed: IREE's input conversion makes StableHLO's unsigned types
    signless but not the transfer's ("failed to legalize flow.tensor.transfer"), so they keep the
    copy."""
    if aval(x).dtype.kind == "u":
        return x
    return hlo.op1("flow.tensor.transfer", [x], aval(x), {"target": DEVICE_PROMISE})


class _ScanParts:
    """What both scan lowerings share: a block of body calls, its x rows and its y rows."""

    def __init__(self, ctx, args, body, length, reverse, nc, nk, y_avals):
        self.body, self.length, self.reverse = body, length, reverse
        self.nc, self.nk, self.y_avals = nc, nk, y_avals
        self.types = [aval(a) for a in args]
        self.x_avals = self.types[nc + nk :]
        # consts and xs are read from above (not loop-carried: IREE would copy them every iteration)
        self.consts = list(args[:nc])
        self.carry0 = list(args[nc : nc + nk])
        self.carry_types = self.types[nc : nc + nk]
        self.xs = list(args[nc + nk :])

    def zero_ys(self, n):
        return [hlo.constant(np.zeros((), a.dtype), shape=(n,) + a.shape) for a in self.y_avals]

    def fresh_ys(self, n):
        """Stacking buffers that a placed loop (_place) updates in place: every row gets
        written, so their contents do not matter, but each must be a buffer of its own.
        IREE merges identical ops (two zero-filled buffers of one shape would be one buffer,
        and both loops' or carries' updates would land in it: a wrong gradient, found by the
        tests) and hoists ops whose operands do not change out of enclosing loops. So each
        buffer is filled with its own constant plus a probe of the scan's inputs: a scalar
        that reads every input (the first element, kept only when it is NaN: never folded
        away) and so is computed anew wherever any input is. Where no input changes, the
        scan recomputes the very values already in a shared buffer."""
        f32 = np.dtype(np.float32)
        s = ShapedType((), f32)
        probe = _scalar(0.0, f32)
        for x in self.consts + self.carry0 + self.xs:
            a = aval(x)
            if 0 in a.shape:
                continue
            v = x
            if a.shape:
                v = hlo.op1(
                    "stablehlo.slice",
                    [v],
                    ShapedType((1,) * len(a.shape), a.dtype),
                    {
                        "start_indices": hlo.i64s([0] * len(a.shape)),
                        "limit_indices": hlo.i64s([1] * len(a.shape)),
                        "strides": hlo.i64s([1] * len(a.shape)),
                    },
                )
                v = hlo.op1("stablehlo.reshape", [v], ShapedType((), a.dtype))
            if a.dtype.kind == "c":
                v = hlo.op1("stablehlo.real", [v], ShapedType((), np.finfo(a.dtype).dtype))
            if aval(v).dtype != f32:
                v = hlo.op1("stablehlo.convert", [v], s)
            nan = hlo.compare(v, v, "NE")
            probe = hlo.op1("stablehlo.add", [probe, hlo.op1("stablehlo.select", [nan, v, _scalar(0.0, f32)], s)], s)
        out, ids = [], place_stacks.get()
        for a in self.y_avals:
            fill = hlo.op1("stablehlo.add", [probe, _scalar(float(next(ids)), f32)], s)
            if a.dtype != f32:
                fill = hlo.op1("stablehlo.convert", [fill], ShapedType((), a.dtype))
            out.append(hlo.broadcast(fill, (n,) + a.shape, ()))
        return out

    def ys_types(self, n):
        return [ShapedType((n,) + a.shape, a.dtype) for a in self.y_avals]

    @staticmethod
    def inc(i, by=1):
        return hlo.op1("stablehlo.add", [i, _scalar(by, _I32)], ShapedType((), _I32))

    def _start(self, first, n, size):
        """The first row of the `size` rows that steps first .. first+size-1 touch in n rows
        (reversed: step g touches row n-1-g, so the block starts at n - size - first)."""
        if not self.reverse:
            return first
        return hlo.op1("stablehlo.subtract", [_scalar(n - size, _I32), first], ShapedType((), _I32))

    def run_block(self, carry, g, bufs, row, n_rows, size):
        """`size` steps from global step g: x rows from xs, y rows into bufs (n_rows each)
        from step `row` of theirs on (one dynamic_update_slice a block). Returns (carry, bufs).

        Step t's rows are g + off[t] with off = optimization_barrier(0 .. size-1): with plain
        constants IREE folds t into each dispatch's static offsets, so every unrolled copy of
        the body compiled as executables of its own (76 instead of 20 for the RNN at unroll 8,
        3x the compile time); opaque offsets leave the copies identical and deduplicated."""
        s32 = ShapedType((), _I32)
        zero = _scalar(0, _I32)
        offs = [zero]
        if size > 1:
            offs = hlo.op("stablehlo.optimization_barrier", [_scalar(t, _I32) for t in range(size)], [s32] * size)
        y_rows = [[None] * size for _ in self.y_avals]
        for t in range(size):
            gt = g if size == 1 else hlo.op1("stablehlo.add", [g, offs[t]], s32)
            idx = self._start(gt, self.length, 1)
            slices = []
            for x, a in zip(self.xs, self.x_avals):
                sl = hlo.op1(
                    "stablehlo.dynamic_slice",
                    [x, idx] + [zero] * (a.ndim - 1),
                    ShapedType((1,) + a.shape[1:], a.dtype),
                    {"slice_sizes": hlo.i64s((1,) + a.shape[1:])},
                )
                slices.append(hlo.op1("stablehlo.reshape", [sl], ShapedType(a.shape[1:], a.dtype)))
            outs = _call(self.body, self.consts + list(carry) + slices, self.carry_types + self.y_avals)
            carry = outs[: self.nk]
            r = size - 1 - t if self.reverse else t  # the block row of step g + t
            for rows, y, a in zip(y_rows, outs[self.nk :], self.y_avals):
                rows[r] = hlo.op1("stablehlo.reshape", [y], ShapedType((1,) + a.shape, a.dtype))
        y_start = self._start(row, n_rows, size)
        new = []
        for buf, rows, a in zip(bufs, y_rows, self.y_avals):
            yb = rows[0]
            if size > 1:
                yb = hlo.op1(
                    "stablehlo.concatenate",
                    rows,
                    ShapedType((size,) + a.shape, a.dtype),
                    {"dimension": hlo.attr("0 : i64")},
                )
            new.append(hlo.op1("stablehlo.dynamic_update_slice", [buf, yb, y_start] + [zero] * a.ndim, aval(buf)))
        return list(carry), new


def _chunk_size(n: int, u: int) -> int:
    """A multiple of u near CHUNK_SCALE * sqrt(n), one that divides n if there is one within a
    factor of 2 (no tail chunk: its body copies would only add compile time)."""
    root = CHUNK_SCALE * float(np.sqrt(n))
    k0 = -(-int(np.ceil(root)) // u) * u
    fits = [k for k in range(u, 2 * int(root) + u, u) if n % k == 0 and root / 2 <= k <= 2 * root]
    return min(fits, key=lambda k: (abs(k - root), k)) if fits else k0


def _scan_chunked(sc: _ScanParts, u: int):
    """The scan as length // K chunks of K steps (K ~ 4 sqrt(length) rounded up to a
    multiple of the unroll u), then a tail chunk of the remaining length % K steps.

    Chunk steps g = base + j (j < its size L) write their y into row j of (L, ...) chunk
    buffers (reversed: row L-1-j); each chunk then goes into the full buffers once, at base
    (reversed: length - base - L), so step g's y lands in row g (reversed: length-1-g).
    Every loop bound is a constant: a bound computed in the outer loop lost the (lavapipe)
    Vulkan device.

        %r:N = stablehlo.while(%c = 0, carry, ys (length, ...))   c < length // K
          %s:M = stablehlo.while(%j = 0, c*K, carry, chunk ys (K, ...))   j < K, u steps each
            u x body(consts, carry, xs[g]) ; chunk ys[j:j+u] = their ys
          ys[c*K] = chunk ys
        tail: the same inner loop over length % K steps from base (length // K) * K
    """
    n, nk = sc.length, sc.nk
    k = _chunk_size(n, u)
    full, rem = divmod(n, k)
    s32 = ShapedType((), _I32)
    outer_types = [s32] + sc.carry_types + sc.ys_types(n)

    def chunk(base, carry, ys, size):
        """Run `size` steps from global step `base`; returns (carry, ys with the chunk in)."""
        inner_types = [s32, s32] + sc.carry_types + sc.ys_types(size)

        def block(m, j, b, *xs):
            g = hlo.op1("stablehlo.add", [b, j], s32)
            carry, bufs = sc.run_block(list(xs[:nk]), g, list(xs[nk:]), j, size, m)
            return [sc.inc(j, m), b] + carry + bufs

        state = [_scalar(0, _I32), base] + list(carry) + sc.zero_ys(size)
        res = _blocks(size, u, state, inner_types, block)
        carry, bufs = res[2 : 2 + nk], res[2 + nk :]
        at = sc._start(base, n, size)
        zero = _scalar(0, _I32)
        ys = [
            hlo.op1("stablehlo.dynamic_update_slice", [y, bb] + [at] + [zero] * (len(aval(y).shape) - 1), aval(y))
            for y, bb in zip(ys, bufs)
        ]
        return carry, ys

    def outer_cond(c, *_):
        return [hlo.compare(c, _scalar(full, _I32), "LT")]

    def outer_step(c, *xs):
        carry, ys = list(xs[:nk]), list(xs[nk:])
        base = hlo.op1("stablehlo.multiply", [c, _scalar(k, _I32)], s32)
        new_carry, new_ys = chunk(base, carry, ys, k)
        return [sc.inc(c)] + new_carry + new_ys

    state = [_scalar(0, _I32)] + sc.carry0 + sc.zero_ys(n)
    res = _region_op("stablehlo.while", state, outer_types, {}, [(outer_types, outer_cond), (outer_types, outer_step)])
    carry, ys = res[1 : 1 + nk], res[1 + nk :]
    if rem:
        carry, ys = chunk(_scalar(full * k, _I32), carry, ys, rem)
    return carry + ys


# ---- verification against the callees' signatures (ctx.signature: calls.TransformCtx) ----------


def _cond_verify(ctx, in_avals, out_avals, *, branches):
    idx = in_avals[0]
    if idx.shape != () or idx.dtype.kind not in "biu":
        raise VerifyError(f"index must be a bool or integer scalar, got {idx.str_short()}")
    for b in branches:
        if ctx.signature(b) != (in_avals[1:], out_avals):
            raise VerifyError(f"branch @{b} signature does not match the op")


def _while_verify(ctx, in_avals, out_avals, *, cond_fn, body_fn, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    carry = in_avals[nc + nb :]
    if ctx.signature(cond_fn) != (in_avals[:nc] + carry, [ShapedType((), _BOOL)]):
        raise VerifyError(f"cond_fn @{cond_fn} must map (cconsts, carry) to a bool scalar")
    if ctx.signature(body_fn) != (in_avals[nc:], carry) or out_avals != carry:
        raise VerifyError(f"body_fn @{body_fn} must map (bconsts, carry) to the carry")


def _scan_verify(ctx, in_avals, out_avals, *, body, length, reverse, num_consts, num_carry, unroll=None):
    nc, nk, n = num_consts, num_carry, length
    if unroll is not None and (isinstance(unroll, bool) or not isinstance(unroll, int) or unroll < 1):
        raise VerifyError(f"unroll must be a positive integer, got {unroll!r}")
    xs = in_avals[nc + nk :]
    if any(x.shape[:1] != (n,) for x in xs):
        raise VerifyError(f"scanned operands must have leading axis {n}")
    slices = [ShapedType(x.shape[1:], x.dtype) for x in xs]
    ins, outs = ctx.signature(body)
    carry = in_avals[nc : nc + nk]
    ys = [ShapedType((n,) + y.shape, y.dtype) for y in outs[nk:]]
    if ins != in_avals[: nc + nk] + slices or outs[:nk] != carry or out_avals != carry + ys:
        raise VerifyError(f"body @{body} signature does not match the scan")


_CF = dict(multiple_results=True, family="control_flow")
register(
    Primitive(
        "cond",
        _infer,
        impl=_cond_impl,
        lower=_cond_lower,
        verify=_cond_verify,
        jvp=R.cond_jvp,
        vjp=R.cond_vjp,
        batch=R.cond_batch,
        callee_attrs=("branches",),
        **_CF,
        doc="run branches[index](operands) (bool index: [false, true]; int clamped)",
    )
)
register(
    Primitive(
        "while",
        _infer,
        impl=_while_impl,
        lower=_while_lower,
        verify=_while_verify,
        jvp=R.while_jvp,
        vjp=R.while_vjp,
        batch=R.while_batch,
        callee_attrs=("cond_fn", "body_fn"),
        **_CF,
        doc="carry = body_fn(carry) while cond_fn(carry)",
    )
)
register(
    Primitive(
        "scan",
        _infer,
        impl=_scan_impl,
        lower=_scan_lower,
        verify=_scan_verify,
        jvp=R.scan_jvp,
        vjp=R.scan_vjp,
        vjp_fwd=R.scan_vjp_fwd,
        batch=R.scan_batch,
        callee_attrs=("body",),
        **_CF,
        doc="carry, y[i] = body(consts, carry, x[i]) for i in range(length)",
    )
)

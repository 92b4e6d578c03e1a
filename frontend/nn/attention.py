"""irjax.nn.dot_product_attention (JAX's implementation='xla' semantics: bias, masks, causal and
local windows, sequence lengths, grouped-query heads) and logmeanexp."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import numpy as jnp
from .functions import logsumexp, softmax

__all__ = ["dot_product_attention", "logmeanexp"]


def logmeanexp(x, axis: int | Sequence[int] | None = None, where=None, keepdims: bool = False):
    """log(mean(exp(x))) over axis: logsumexp(x) - log(n), n counting only where's True entries."""
    x = jnp.asarray(x)
    lse = logsumexp(x, axis=axis, keepdims=keepdims, where=where)
    if where is None:
        axes = range(x.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
        n = math.prod(x.shape[a] for a in axes)
        return lse - jnp.log(jnp.asarray(n, lse.dtype))
    count = jnp.sum(jnp.broadcast_to(jnp.asarray(where), x.shape), axis=axis, keepdims=keepdims, dtype=lse.dtype)
    return lse - jnp.log(count)


def _as_4d(t, name: str):
    t = jnp.asarray(t)
    if t.ndim == 3:
        return t[None], True
    if t.ndim != 4:
        raise ValueError(f"dot_product_attention: {name} must be 3D (TNH) or 4D (BTNH), got shape {t.shape}")
    return t, False


def _grouped(t, name: str, b: int, n: int, k: int, g: int, tq: int, s: int):
    """A bias or mask broadcastable to (B, N, T, S) as (B|1, K, G, T|1, S|1), the logits' grouped layout."""
    if t is None:
        return None
    t = jnp.asarray(t)
    if t.ndim < 4:  # (NTS, TS, S: broadcast against BNTS from the right, as JAX)
        t = jnp.reshape(t, (1,) * (4 - t.ndim) + t.shape)
    if t.ndim != 4:
        raise ValueError(f"dot_product_attention: {name} must have at most 4 dims (BNTS), got shape {t.shape}")
    want = (b, n, tq, s)
    if any(d not in (1, w) for d, w in zip(t.shape, want)):
        raise TypeError(f"dot_product_attention: {name} of shape {t.shape} does not broadcast to {want} (BNTS)")
    tb, tn, tt, ts = t.shape
    if tn == 1:
        return t[:, :, None]
    return jnp.reshape(t, (tb, k, g, tt, ts))


def _seq_lengths(lengths, name: str, b: int):
    if lengths is None:
        return None
    lengths = jnp.asarray(lengths)
    if lengths.dtype != np.int32:
        raise ValueError(f"dot_product_attention: {name} must be int32, got {lengths.dtype}")
    if lengths.shape != (b,):
        raise ValueError(f"dot_product_attention: {name} must have shape (B,) = ({b},), got {lengths.shape}")
    return lengths


def _mask(mask, is_causal, q_len, kv_len, window, tq: int, s: int):
    """The boolean (.., T, S) mask of the logits that take part, or None when all do."""
    keep = None if mask is None else jnp.asarray(mask, bool)

    def both(m):
        return m if keep is None else jnp.logical_and(keep, m)

    q_pos, k_pos = jnp.arange(tq)[:, None], jnp.arange(s)[None, :]
    if is_causal:
        keep = both(q_pos >= k_pos)
    if window is not None:
        left, right = (window, window) if isinstance(window, int) else window
        keep = both((q_pos <= k_pos + left) & (q_pos >= k_pos - right))
    if q_len is not None or kv_len is not None:
        rows = jnp.ones((1, tq), bool) if q_len is None else jnp.arange(tq)[None, :] < q_len[:, None]
        cols = jnp.ones((1, s), bool) if kv_len is None else jnp.arange(s)[None, :] < kv_len[:, None]
        keep = both((rows[:, :, None] & cols[:, None, :])[:, None, None])
    return keep


def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    *,
    scale: float | None = None,
    is_causal: bool = False,
    query_seq_lengths=None,
    key_value_seq_lengths=None,
    local_window_size: int | tuple[int, int] | None = None,
    implementation: str | None = None,
    return_residual: bool = False,
):
    """softmax(Q Kᵀ · scale + bias, masked) V per head, as jax.nn.dot_product_attention with
    implementation='xla': logits and softmax in float32 (or wider), the probabilities in the
    key's dtype; query (B)TNH, key/value (B)SKH with N a multiple of K (grouped-query heads)."""
    if implementation not in (None, "xla"):
        raise ValueError(f"dot_product_attention: irjax implements implementation='xla' only, got {implementation!r}")
    q, unbatched = _as_4d(query, "query")
    k, _ = _as_4d(key, "key")
    v, _ = _as_4d(value, "value")
    if not (q.dtype == k.dtype == v.dtype):
        raise ValueError(
            f"dot_product_attention: query, key and value must have one dtype, got {q.dtype}, {k.dtype}, {v.dtype}"
        )
    b, tq, n, h = q.shape
    if k.shape != v.shape or k.ndim != 4 or k.shape[0] != b or k.shape[3] != h:
        raise ValueError(
            f"dot_product_attention: key and value must be (B, S, K, H) = ({b}, S, K, {h}) alike, "
            f"got {k.shape} and {v.shape}"
        )
    s, kh = k.shape[1], k.shape[2]
    if n % kh:
        raise ValueError(f"dot_product_attention: the query's {n} heads must be a multiple of the key's {kh} heads")
    g = n // kh
    scale = 1.0 / math.sqrt(h) if scale is None else scale
    q_len = _seq_lengths(query_seq_lengths, "query_seq_lengths", b)
    kv_len = _seq_lengths(key_value_seq_lengths, "key_value_seq_lengths", b)
    bias = _grouped(bias, "bias", b, n, kh, g, tq, s)
    mask = _grouped(mask, "mask", b, n, kh, g, tq, s)

    logits_dtype = jnp.promote_types(q.dtype, np.float32)
    qg = jnp.reshape(q, (b, tq, kh, g, h))
    logits = jnp.einsum("btkgh,bskh->bkgts", qg, k, preferred_element_type=logits_dtype)
    logits = logits * jnp.asarray(scale, logits.dtype)
    if bias is not None:
        logits = (logits + bias).astype(logits.dtype)
    keep = _mask(mask, is_causal, q_len, kv_len, local_window_size, tq, s)
    if keep is not None:  # a large finite negative, not -inf: fully masked rows stay finite
        logits = jnp.where(keep, logits, jnp.asarray(-0.7 * np.finfo(logits.dtype).max, logits.dtype))
    logits = logits.astype(np.float32)
    probs = softmax(logits, axis=-1).astype(k.dtype)
    out = jnp.einsum("bkgts,bskh->btkgh", probs, v)
    if q_len is not None:  # query rows past their length come out zero
        out = out * (jnp.arange(tq)[None, :] < q_len[:, None]).astype(out.dtype)[:, :, None, None, None]
    out = jnp.reshape(out, (b, tq, n, h))
    if unbatched:
        out = out[0]
    if not return_residual:
        return out
    lse = jnp.reshape(jnp.transpose(logsumexp(logits, axis=-1), (0, 3, 1, 2)), (b, tq, n))
    return out, (lse[0] if unbatched else lse)

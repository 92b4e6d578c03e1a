"""The MLP loss both GPU check scripts use: irjax exports it, JAX times it (np_ is the numpy
module of either: irjax.numpy or jax.numpy)."""


def mlp_loss(np_, params, x, y):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = np_.maximum(h, 0.0)
    logits = h - np_.max(h, axis=1, keepdims=True)
    logp = logits - np_.log(np_.sum(np_.exp(logits), axis=1, keepdims=True))
    return -np_.mean(np_.sum(logp * y, axis=1))

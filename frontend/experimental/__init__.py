"""irjax.experimental: APIs that JAX keeps under jax.experimental (multihost_utils, io_callback,
and the older path irjax.experimental.shard_map.shard_map)."""

from irjax.callbacks import io_callback

__all__ = ["io_callback"]

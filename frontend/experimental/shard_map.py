"""JAX's older path to shard_map (jax.experimental.shard_map.shard_map)."""

from irjax.spmd import shard_map

__all__ = ["shard_map"]

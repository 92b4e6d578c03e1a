"""irjax.experimental: JAX's older import paths (irjax.experimental.shard_map.shard_map)."""

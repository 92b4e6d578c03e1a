"""irjax.experimental: APIs that JAX keeps under jax.experimental (multihost_utils, and the older
path irjax.experimental.shard_map.shard_map)."""

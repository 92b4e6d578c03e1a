"""irjax.experimental: APIs that JAX keeps under jax.experimental (multihost_utils, ...)."""

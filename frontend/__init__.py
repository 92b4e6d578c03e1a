"""irjax: JAX's programming model on MLIR and IREE."""

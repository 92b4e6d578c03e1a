"""`irjax.example_libraries`: JAX's mini-libraries `stax` (layers) and `optimizers`."""

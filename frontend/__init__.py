"""irjax: JAX's programming model on MLIR and IREE.

`import irjax as jax; import irjax.numpy as jnp`. Heavy parts load on first use, so
`import irjax.runtime` alone stays light (no tracer, no compiler).
"""

from __future__ import annotations

from irjax.runtime.lazy_names import lazy_attributes

__version__ = "0.1.0"

_LAZY = {
    # transformations
    "jit": "irjax.api",
    "grad": "irjax.api",
    "value_and_grad": "irjax.api",
    "jvp": "irjax.api",
    "vjp": "irjax.api",
    "linearize": "irjax.api",
    "vmap": "irjax.api",
    "jacfwd": "irjax.api",
    "jacrev": "irjax.api",
    "jacobian": "irjax.api",
    "hessian": "irjax.api",
    "make_jaxpr": "irjax.api",
    "eval_shape": "irjax.api",
    "block_until_ready": "irjax.api",
    "stop_gradient": "irjax.api",
    "custom_jvp": "irjax.custom_derivatives",
    "custom_vjp": "irjax.custom_derivatives",
    "checkpoint": "irjax.rematerialize",
    "remat": "irjax.rematerialize",
    # arrays and devices
    "Array": "irjax.array",
    "ShapeDtypeStruct": "irjax.stages",
    # ahead-of-time export (callable module: irjax.export(jit(f))(...), irjax.export.save)
    "export": "irjax.export",
    "devices": "irjax.device_api",
    "local_devices": "irjax.device_api",
    "device_count": "irjax.device_api",
    "default_backend": "irjax.device_api",
    "device_put": "irjax.device_api",
    "device_get": "irjax.device_api",
    "default_device": "irjax.device_api",
    "local_device_count": "irjax.device_api",
    "process_index": "irjax.device_api",
    "process_count": "irjax.device_api",
    "make_array_from_callback": "irjax.sharded",
    "make_array_from_single_device_arrays": "irjax.sharded",
    "make_array_from_process_local_data": "irjax.sharded",
    # submodules
    "numpy": "irjax.numpy",
    "random": "irjax.random",
    "lax": "irjax.lax",
    "tree_util": "irjax.tree_util",
    "dtypes": "irjax.dtypes",
    "errors": "irjax.errors",
    "nn": "irjax.nn",
    "debug": "irjax.debug",
    "tree": "irjax.tree",
    "test_util": "irjax.test_util",
    "example_libraries": "irjax.example_libraries",
    "scipy": "irjax.scipy",
    "config": "irjax.config",
    "enable_x64": "irjax.config",
    "sharding": "irjax.sharding",
    "make_mesh": "irjax.sharding",
    "set_mesh": "irjax.sharding",
    "NamedSharding": "irjax.sharding",
    "P": "irjax.sharding",
    "reshard": "irjax.placement",
    "disable_jit": "irjax.config",
    "shard_map": "irjax.spmd",
    "pmap": "irjax.spmd",
    "distributed": "irjax.distributed",
    "experimental": "irjax.experimental",
    # more of JAX's top-level names (issue 14)
    "named_scope": "irjax.trace_context",
    "named_call": "irjax.trace_context",
    "typeof": "irjax.trace_context",
    "ensure_compile_time_eval": "irjax.trace_context",
    "pure_callback": "irjax.callbacks",
    "custom_gradient": "irjax.transform_extras",
    "linear_transpose": "irjax.transform_extras",
    "closure_convert": "irjax.transform_extras",
    "clear_caches": "irjax.environment",
    "print_environment_info": "irjax.environment",
    "checkpoint_policies": "irjax.checkpoint_policies",
    "default_matmul_precision": "irjax.config_contexts",
    "numpy_rank_promotion": "irjax.config_contexts",
    "numpy_dtype_promotion": "irjax.config_contexts",
    "debug_nans": "irjax.config_contexts",
    "debug_infs": "irjax.config_contexts",
    "transfer_guard": "irjax.config_contexts",
    "transfer_guard_host_to_device": "irjax.config_contexts",
    "transfer_guard_device_to_device": "irjax.config_contexts",
    "transfer_guard_device_to_host": "irjax.config_contexts",
}


__getattr__, __dir__ = lazy_attributes("irjax", globals(), _LAZY)

// RUN: irjax-opt %s -p 'grad{func=f}' --verify-each | FileCheck %s
// RUN: irjax-opt %s -p 'grad{func=g argnums=0,1}' --verify-each | FileCheck %s --check-prefix=TWO
// RUN: not irjax-opt %s -p 'grad{func=nonscalar}' 2>&1 | FileCheck %s --check-prefix=ERR
// RUN: not irjax-opt %s -p 'grad{func=missing}' 2>&1 | FileCheck %s --check-prefix=NOFUNC
// grad: @f_grad_<argnums>(args) -> (outs..., grads...) calls @f_vjp (masked to output 0)
// with a cotangent of 1.

func.func @f(%x: tensor<3xf32>) -> tensor<f32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.reduce_sum"(%0) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  return %1 : tensor<f32>
}

// CHECK-LABEL: func.func @f_vjp(%arg0: tensor<3xf32>, %arg1: tensor<f32>) -> (tensor<f32>, tensor<3xf32>)
// CHECK:         %[[CT:.*]] = "jx.broadcast_in_dim"(%arg1) {broadcast_dimensions = array<i64>, shape = array<i64: 3>}
// CHECK-NEXT:    %[[COS:.*]] = "jx.cos"(%arg0)
// CHECK-NEXT:    %[[G:.*]] = "jx.mul"(%[[CT]], %[[COS]])
// CHECK-NEXT:    return %{{.*}}, %[[G]] : tensor<f32>, tensor<3xf32>
// CHECK-LABEL: func.func @f_grad_0(%arg0: tensor<3xf32>) -> (tensor<f32>, tensor<3xf32>)
// CHECK-NEXT:    %[[ONE:.*]] = "jx.constant"() {value = dense<1.000000e+00> : tensor<f32>} : () -> tensor<f32>
// CHECK-NEXT:    %[[R:.*]]:2 = "jx.call"(%arg0, %[[ONE]]) {callee = @f_vjp} : (tensor<3xf32>, tensor<f32>) -> (tensor<f32>, tensor<3xf32>)
// CHECK-NEXT:    return %[[R]]#0, %[[R]]#1 : tensor<f32>, tensor<3xf32>

// Two outputs (only the first is differentiated), two differentiated arguments.
func.func @g(%x: tensor<3xf32>, %y: tensor<f32>) -> (tensor<f32>, tensor<3xf32>) {
  %0 = "jx.mul"(%x, %x) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.reduce_sum"(%0) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  %2 = "jx.mul"(%1, %y) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %2, %0 : tensor<f32>, tensor<3xf32>
}

// TWO-LABEL: func.func @g_vjp_10(%arg0: tensor<3xf32>, %arg1: tensor<f32>, %arg2: tensor<f32>)
// TWO-SAME:    -> (tensor<f32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>)
// TWO-LABEL: func.func @g_grad_0_1(%arg0: tensor<3xf32>, %arg1: tensor<f32>) -> (tensor<f32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>)
// TWO-NEXT:    %[[ONE:.*]] = "jx.constant"() {value = dense<1.000000e+00> : tensor<f32>}
// TWO-NEXT:    %[[R:.*]]:4 = "jx.call"(%arg0, %arg1, %[[ONE]]) {callee = @g_vjp_10}
// TWO-NEXT:    return %[[R]]#0, %[[R]]#1, %[[R]]#2, %[[R]]#3 : tensor<f32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>

func.func @nonscalar(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
// ERR: grad.mlir: error: pass 'grad' failed: Gradient only defined for scalar-output functions. Output had shape: float32[3]
// ERR-NOT: Traceback
// NOFUNC: grad.mlir: error: pass 'grad' failed: function @missing not found in the module

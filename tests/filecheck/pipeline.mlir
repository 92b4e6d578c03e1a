// RUN: irjax-opt %s --verify-each -p 'grad{func=loss},batch{func=loss_grad_0 in-axes=none,0 axis-size=8},inline,cse,dce,lower-stablehlo{entry=loss_grad_0_batch_n_0_8}' | FileCheck %s
// RUN: irjax-opt %s -p 'grad{func=loss},batch{func=loss_grad_0 in-axes=none,0 axis-size=8},inline,cse,dce,lower-stablehlo,canonicalize' | FileCheck %s --check-prefix=CANON
// A composed pipeline, as `vmap(grad(loss), in_axes=(None, 0))` + jit would run it:
// per-example gradients of sum(tanh(w * x)) w.r.t. w, inlined, cleaned and lowered.
// MLIR's own passes (canonicalize) mix in after lowering.

func.func @loss(%w: tensor<3xf32>, %x: tensor<3xf32>) -> tensor<f32> {
  %0 = "jx.mul"(%w, %x) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.tanh"(%0) : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "jx.reduce_sum"(%1) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  return %2 : tensor<f32>
}

// CHECK-NOT: "jx.
// CHECK-LABEL: func.func @loss_grad_0_batch_n_0_8(%arg0: tensor<3xf32>, %arg1: tensor<8x3xf32>) -> (tensor<8xf32>, tensor<8x3xf32>)
// CHECK-NOT:     call
// forward: tanh(w * x) per example, the unbatched w broadcast once
// CHECK:         %[[ONE:.*]] = stablehlo.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[W:.*]] = stablehlo.broadcast_in_dim %arg0, dims = [1] : (tensor<3xf32>) -> tensor<8x3xf32>
// CHECK-NEXT:    %[[WX:.*]] = stablehlo.multiply %[[W]], %arg1 : tensor<8x3xf32>
// CHECK-NEXT:    %[[Y:.*]] = stablehlo.tanh %[[WX]] : tensor<8x3xf32>
// CHECK-NEXT:    %[[ZERO:.*]] = stablehlo.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[L:.*]] = stablehlo.reduce(%[[Y]] init: %[[ZERO]]) applies stablehlo.add across dimensions = [1] : (tensor<8x3xf32>, tensor<f32>) -> tensor<8xf32>
// backward: (1 - y*y) * x; cse merged the seed 1 with tanh's 1
// CHECK-NEXT:    %[[ONES:.*]] = stablehlo.broadcast_in_dim %[[ONE]], dims = [] : (tensor<f32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[YY:.*]] = stablehlo.multiply %[[Y]], %[[Y]] : tensor<8x3xf32>
// CHECK-NEXT:    %[[ONESB:.*]] = stablehlo.broadcast_in_dim %[[ONES]], dims = [1] : (tensor<3xf32>) -> tensor<8x3xf32>
// CHECK-NEXT:    %[[D:.*]] = stablehlo.subtract %[[ONESB]], %[[YY]] : tensor<8x3xf32>
// CHECK-NEXT:    %[[CT:.*]] = stablehlo.multiply %[[ONESB]], %[[D]] : tensor<8x3xf32>
// CHECK-NEXT:    %[[G:.*]] = stablehlo.multiply %[[CT]], %arg1 : tensor<8x3xf32>
// CHECK-NEXT:    return %[[L]], %[[G]] : tensor<8xf32>, tensor<8x3xf32>
// CHECK-NEXT:  }

// CANON-NOT: "jx.
// CANON-LABEL: func.func @loss_grad_0_batch_n_0_8(%arg0: tensor<3xf32>, %arg1: tensor<8x3xf32>) -> (tensor<8xf32>, tensor<8x3xf32>)
// CANON:         stablehlo.tanh
// CANON:         stablehlo.reduce
// CANON:         return %{{.*}}, %{{.*}} : tensor<8xf32>, tensor<8x3xf32>

// RUN: irjax-opt %s -p 'batch{func=f in-axes=1 axis-size=4}' --verify-each | FileCheck %s
// Known bug: passes/batching.py hands in-axes other than 0 straight to the per-op rules,
// which expect batch dims of 0 or None, so @f_batch_1_4 returns tensor<3xf32> (reducing

func.func @f(%x: tensor<3xf32>) -> tensor<f32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.reduce_sum"(%0) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  return %1 : tensor<f32>
}

// CHECK-LABEL: func.func @f_batch_1_4(%arg0: tensor<3x4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %[[T:.*]] = "jx.transpose"(%arg0) {{.*}} : (tensor<3x4xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    %[[S:.*]] = "jx.sin"(%[[T]]) : (tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    %[[R:.*]] = "jx.reduce_sum"(%[[S]]) {axes = array<i64: 1>} : (tensor<4x3xf32>) -> tensor<4xf32>
// CHECK-NEXT:    return %[[R]] : tensor<4xf32>

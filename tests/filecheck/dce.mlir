// RUN: irjax-opt %s -p dce | FileCheck %s
// Unused jx ops go, including chains that only feed unused ops; used ones stay in order.

// CHECK-LABEL: func.func @f(%arg0: tensor<3xf32>) -> tensor<f32>
// CHECK-NEXT:    %[[S:.*]] = "jx.sin"(%arg0) : (tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[R:.*]] = "jx.reduce_sum"(%[[S]]) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
// CHECK-NEXT:    return %[[R]] : tensor<f32>
// CHECK-NEXT:  }
// CHECK-NOT:   jx.cos
// CHECK-NOT:   jx.exp
func.func @f(%x: tensor<3xf32>) -> tensor<f32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.cos"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "jx.exp"(%1) : (tensor<3xf32>) -> tensor<3xf32>
  %3 = "jx.mul"(%2, %0) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %4 = "jx.reduce_sum"(%0) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  %5 = "jx.constant"() {value = dense<1.0> : tensor<f32>} : () -> tensor<f32>
  return %4 : tensor<f32>
}

// A multi-result jx.call stays while any of its results is used.
// CHECK-LABEL: func.func @g(%arg0: tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[C:.*]]:2 = "jx.call"(%arg0) {callee = @pair} : (tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT:    return %[[C]]#1 : tensor<3xf32>
func.func @g(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0:2 = "jx.call"(%x) {callee = @pair} : (tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  %1:2 = "jx.call"(%x) {callee = @pair} : (tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  return %0#1 : tensor<3xf32>
}

// CHECK-LABEL: func.func @pair
func.func @pair(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  return %x, %x : tensor<3xf32>, tensor<3xf32>
}

// RUN: irjax-opt %s -p 'batch{func=f in-axes=0,none axis-size=4}' --verify-each | FileCheck %s
// batch: @f_batch_<in-axes>_<size> takes batched arguments (batch axis first) and
// returns every result with its batch axis first. Unbatched values stay unbatched until
// they meet a batched one; jx.call batches its callee.

func.func @scale(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.exp"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

func.func @f(%x: tensor<3xf32>, %w: tensor<3x2xf32>) -> (tensor<2xf32>, tensor<3xf32>, tensor<f32>) {
  %0 = "jx.call"(%x) {callee = @scale} : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.dot_general"(%0, %w) {lhs_contracting = array<i64: 0>, rhs_contracting = array<i64: 0>, lhs_batch = array<i64>, rhs_batch = array<i64>} : (tensor<3xf32>, tensor<3x2xf32>) -> tensor<2xf32>
  %c = "jx.constant"() {value = dense<1.0> : tensor<3xf32>} : () -> tensor<3xf32>
  %2 = "jx.add"(%x, %c) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %3 = "jx.reduce_sum"(%2) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  return %1, %c, %3 : tensor<2xf32>, tensor<3xf32>, tensor<f32>
}

// CHECK-LABEL: func.func @f_batch_0_n_4(%arg0: tensor<4x3xf32>, %arg1: tensor<3x2xf32>)
// CHECK-SAME:    -> (tensor<4x2xf32>, tensor<4x3xf32>, tensor<4xf32>)
// CHECK-NEXT:    %[[E:.*]] = "jx.call"(%arg0) {callee = @scale_batch_0_4} : (tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    %[[D:.*]] = "jx.dot_general"(%[[E]], %arg1) {lhs_batch = array<i64>, lhs_contracting = array<i64: 1>, rhs_batch = array<i64>, rhs_contracting = array<i64: 0>} : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
// the constant stays unbatched and is broadcast where it meets %x
// CHECK-NEXT:    %[[C:.*]] = "jx.constant"() {value = dense<1.000000e+00> : tensor<3xf32>} : () -> tensor<3xf32>
// CHECK-NEXT:    %[[CB:.*]] = "jx.broadcast_in_dim"(%[[C]]) {broadcast_dimensions = array<i64: 1>, shape = array<i64: 4, 3>} : (tensor<3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    %[[A:.*]] = "jx.add"(%arg0, %[[CB]]) : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
// reduction axes shift past the batch axis
// CHECK-NEXT:    %[[S:.*]] = "jx.reduce_sum"(%[[A]]) {axes = array<i64: 1>} : (tensor<4x3xf32>) -> tensor<4xf32>
// an unbatched result is broadcast along the batch axis
// CHECK-NEXT:    %[[CO:.*]] = "jx.broadcast_in_dim"(%[[C]]) {broadcast_dimensions = array<i64: 1>, shape = array<i64: 4, 3>}
// CHECK-NEXT:    return %[[D]], %[[CO]], %[[S]] : tensor<4x2xf32>, tensor<4x3xf32>, tensor<4xf32>

// CHECK-LABEL: func.func @scale_batch_0_4(%arg0: tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    %[[E:.*]] = "jx.exp"(%arg0) : (tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    return %[[E]] : tensor<4x3xf32>

// RUN: irjax-opt %s -p cse | FileCheck %s
// Identical jx ops (name, operands, attributes, result types) merge; different ones stay.

// CHECK-LABEL: func.func @f(%arg0: tensor<3xf32>) -> (tensor<3xf32>, tensor<f32>)
// CHECK-NEXT:    %[[S:.*]] = "jx.sin"(%arg0) : (tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[C:.*]] = "jx.cos"(%arg0) : (tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[A:.*]] = "jx.add"(%[[S]], %[[S]]) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[R:.*]] = "jx.reduce_sum"(%[[C]]) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
// CHECK-NEXT:    %[[TWO:.*]] = "jx.constant"() {value = dense<2.000000e+00> : tensor<3xf32>} : () -> tensor<3xf32>
// CHECK-NEXT:    %[[THREE:.*]] = "jx.constant"() {value = dense<3.000000e+00> : tensor<3xf32>} : () -> tensor<3xf32>
// CHECK-NEXT:    %[[M1:.*]] = "jx.mul"(%[[A]], %[[TWO]])
// CHECK-NEXT:    %[[M2:.*]] = "jx.mul"(%[[M1]], %[[TWO]])
// CHECK-NEXT:    %[[M3:.*]] = "jx.mul"(%[[M2]], %[[THREE]])
// CHECK-NEXT:    %[[R2:.*]] = "jx.reduce_sum"(%[[M3]]) {axes = array<i64: 0>}
// CHECK-NEXT:    %[[R3:.*]] = "jx.add"(%[[R]], %[[R2]]) : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:    return %[[M3]], %[[R3]] : tensor<3xf32>, tensor<f32>
func.func @f(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<f32>) {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "jx.cos"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %3 = "jx.add"(%0, %1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %4 = "jx.reduce_sum"(%2) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  %5 = "jx.reduce_sum"(%2) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  %6 = "jx.constant"() {value = dense<2.0> : tensor<3xf32>} : () -> tensor<3xf32>
  %7 = "jx.constant"() {value = dense<3.0> : tensor<3xf32>} : () -> tensor<3xf32>
  %8 = "jx.constant"() {value = dense<2.0> : tensor<3xf32>} : () -> tensor<3xf32>
  %9 = "jx.mul"(%3, %6) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %10 = "jx.mul"(%9, %8) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %11 = "jx.mul"(%10, %7) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %12 = "jx.reduce_sum"(%11) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  %13 = "jx.add"(%5, %12) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %11, %13 : tensor<3xf32>, tensor<f32>
}

// Same op on different operand types or attributes is not merged.
// CHECK-LABEL: func.func @g(%arg0: tensor<2x3xf32>) -> (tensor<3xf32>, tensor<2xf32>)
// CHECK-NEXT:    "jx.reduce_sum"(%arg0) {axes = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    "jx.reduce_sum"(%arg0) {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
// CHECK-NEXT:    return
func.func @g(%x: tensor<2x3xf32>) -> (tensor<3xf32>, tensor<2xf32>) {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf32>
  %1 = "jx.reduce_sum"(%x) {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0, %1 : tensor<3xf32>, tensor<2xf32>
}

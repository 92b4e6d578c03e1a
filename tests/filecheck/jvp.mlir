// RUN: irjax-opt %s -p 'jvp{func=f}' --verify-each | FileCheck %s
// Forward mode: @f_jvp(primals..., tangents...) -> (outs..., out_tangents...).
// A jx.call is differentiated by transforming its callee (@sq -> @sq_jvp);
// integer values carry zero tangents.

// CHECK-LABEL: func.func @sq(%arg0: tensor<3xf32>) -> tensor<3xf32>
func.func @sq(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.mul"(%x, %x) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// The original function is left as it was.
// CHECK-LABEL: func.func @f(%arg0: tensor<3xf32>, %arg1: tensor<3xi32>) -> (tensor<f32>, tensor<3xi32>)
// CHECK-NEXT:    "jx.sin"(%arg0)
// CHECK-NEXT:    "jx.call"({{.*}}) {callee = @sq}
func.func @f(%x: tensor<3xf32>, %n: tensor<3xi32>) -> (tensor<f32>, tensor<3xi32>) {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.call"(%0) {callee = @sq} : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "jx.reduce_sum"(%1) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  %3 = "jx.add"(%n, %n) : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  return %2, %3 : tensor<f32>, tensor<3xi32>
}

// d sin(x) = t * cos(x); the tangent flows through @sq_jvp and reduce_sum.
// CHECK-LABEL: func.func @f_jvp(%arg0: tensor<3xf32>, %arg1: tensor<3xi32>, %arg2: tensor<3xf32>, %arg3: tensor<3xi32>)
// CHECK-SAME:    -> (tensor<f32>, tensor<3xi32>, tensor<f32>, tensor<3xi32>)
// CHECK-NEXT:    %[[SIN:.*]] = "jx.sin"(%arg0) : (tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[COS:.*]] = "jx.cos"(%arg0) : (tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[T:.*]] = "jx.mul"(%arg2, %[[COS]]) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[C:.*]]:2 = "jx.call"(%[[SIN]], %[[T]]) {callee = @sq_jvp} : (tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT:    %[[P:.*]] = "jx.reduce_sum"(%[[C]]#0) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
// CHECK-NEXT:    %[[TP:.*]] = "jx.reduce_sum"(%[[C]]#1) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
// CHECK-NEXT:    %[[N:.*]] = "jx.add"(%arg1, %arg1) : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
// CHECK-NEXT:    %[[Z:.*]] = "jx.constant"() {value = dense<0> : tensor<i32>} : () -> tensor<i32>
// CHECK-NEXT:    %[[ZN:.*]] = "jx.broadcast_in_dim"(%[[Z]]) {broadcast_dimensions = array<i64>, shape = array<i64: 3>} : (tensor<i32>) -> tensor<3xi32>
// CHECK-NEXT:    return %[[P]], %[[N]], %[[TP]], %[[ZN]] : tensor<f32>, tensor<3xi32>, tensor<f32>, tensor<3xi32>

// d (x * x) = t * x + t * x
// CHECK-LABEL: func.func @sq_jvp(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT:    %[[Y:.*]] = "jx.mul"(%arg0, %arg0)
// CHECK-NEXT:    %[[A:.*]] = "jx.mul"(%arg1, %arg0)
// CHECK-NEXT:    %[[B:.*]] = "jx.mul"(%arg1, %arg0)
// CHECK-NEXT:    %[[S:.*]] = "jx.add"(%[[A]], %[[B]])
// CHECK-NEXT:    return %[[Y]], %[[S]] : tensor<3xf32>, tensor<3xf32>

// RUN: irjax-opt %s -p 'vjp{func=f}' --verify-each | FileCheck %s
// Reverse mode: @f_vjp(primals..., out_cts...) -> (outs..., in_cts...). The forward sweep
// is re-run inside @f_vjp; a jx.call's cotangents come from its callee's vjp (@sq_vjp).

func.func @sq(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.mul"(%x, %x) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

func.func @f(%x: tensor<3xf32>, %n: tensor<3xi32>) -> (tensor<f32>, tensor<3xi32>) {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.call"(%0) {callee = @sq} : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "jx.reduce_sum"(%1) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  %3 = "jx.add"(%n, %n) : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  return %2, %3 : tensor<f32>, tensor<3xi32>
}

// CHECK-LABEL: func.func @f_vjp(%arg0: tensor<3xf32>, %arg1: tensor<3xi32>, %arg2: tensor<f32>, %arg3: tensor<3xi32>)
// CHECK-SAME:    -> (tensor<f32>, tensor<3xi32>, tensor<3xf32>, tensor<3xi32>)
// forward sweep
// CHECK-NEXT:    %[[SIN:.*]] = "jx.sin"(%arg0)
// CHECK-NEXT:    %[[SQ:.*]] = "jx.call"(%[[SIN]]) {callee = @sq} : (tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[OUT:.*]] = "jx.reduce_sum"(%[[SQ]]) {axes = array<i64: 0>}
// CHECK-NEXT:    %[[N:.*]] = "jx.add"(%arg1, %arg1)
// reverse sweep: reduce_sum's transpose broadcasts, sin's multiplies by cos
// CHECK-NEXT:    %[[CT:.*]] = "jx.broadcast_in_dim"(%arg2) {broadcast_dimensions = array<i64>, shape = array<i64: 3>} : (tensor<f32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[V:.*]]:2 = "jx.call"(%[[SIN]], %[[CT]]) {callee = @sq_vjp} : (tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT:    %[[COS:.*]] = "jx.cos"(%arg0)
// CHECK-NEXT:    %[[DX:.*]] = "jx.mul"(%[[V]]#1, %[[COS]]) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// the integer argument gets a zero cotangent
// CHECK-NEXT:    %[[Z:.*]] = "jx.constant"() {value = dense<0> : tensor<i32>}
// CHECK-NEXT:    %[[ZN:.*]] = "jx.broadcast_in_dim"(%[[Z]])
// CHECK-NEXT:    return %[[OUT]], %[[N]], %[[DX]], %[[ZN]] : tensor<f32>, tensor<3xi32>, tensor<3xf32>, tensor<3xi32>

// CHECK-LABEL: func.func @sq_vjp(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT:    %[[Y:.*]] = "jx.mul"(%arg0, %arg0)
// CHECK-NEXT:    %[[A:.*]] = "jx.mul"(%arg1, %arg0)
// CHECK-NEXT:    %[[B:.*]] = "jx.mul"(%arg1, %arg0)
// CHECK-NEXT:    %[[S:.*]] = "jx.add"(%[[A]], %[[B]])
// CHECK-NEXT:    return %[[Y]], %[[S]] : tensor<3xf32>, tensor<3xf32>

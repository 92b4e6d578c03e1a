// RUN: irjax-opt %s -p 'vjp{func=f},grad{func=s argnums=0,1,2}' --verify-each | FileCheck %s
// RUN: not irjax-opt %s -p 'vjp{func=w}' 2>&1 | FileCheck %s --check-prefix=WHILE
// vjp of jx.cond: a cond over the branches' vjps (residuals: the branch inputs, the forward
// re-run inside). vjp of jx.scan: a forward scan that also stacks each iteration's carry,
// then a reverse scan over the body's vjp accumulating the consts' cotangents.
// Reverse mode through jx.while is JAX's error.

func.func @neg(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.neg"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
func.func @sin(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
func.func @f(%p: tensor<i1>, %x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.cond"(%p, %x) {branches = [@neg, @sin]} : (tensor<i1>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
func.func @lt(%n: tensor<f32>, %x: tensor<f32>) -> tensor<i1> {
  %0 = "jx.lt"(%x, %n) : (tensor<f32>, tensor<f32>) -> tensor<i1>
  return %0 : tensor<i1>
}
func.func @dbl(%x: tensor<f32>) -> tensor<f32> {
  %0 = "jx.add"(%x, %x) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @w(%n: tensor<f32>, %x: tensor<f32>) -> tensor<f32> {
  %0 = "jx.while"(%n, %x) {cond_fn = @lt, body_fn = @dbl, cond_nconsts = 1, body_nconsts = 0} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @step(%w: tensor<f32>, %c: tensor<f32>, %x: tensor<2xf32>) -> (tensor<f32>, tensor<2xf32>) {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<2xf32>) -> tensor<f32>
  %1 = "jx.mul"(%c, %w) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %2 = "jx.add"(%1, %0) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %3 = "jx.broadcast_in_dim"(%2) {broadcast_dimensions = array<i64>, shape = array<i64: 2>} : (tensor<f32>) -> tensor<2xf32>
  %4 = "jx.add"(%3, %x) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %2, %4 : tensor<f32>, tensor<2xf32>
}
func.func @s(%w: tensor<f32>, %c: tensor<f32>, %xs: tensor<5x2xf32>) -> (tensor<f32>, tensor<5x2xf32>) {
  %0:2 = "jx.scan"(%w, %c, %xs) {body = @step, length = 5, reverse = false, num_consts = 1, num_carry = 1} : (tensor<f32>, tensor<f32>, tensor<5x2xf32>) -> (tensor<f32>, tensor<5x2xf32>)
  return %0#0, %0#1 : tensor<f32>, tensor<5x2xf32>
}

// CHECK-LABEL: func.func @f_vjp(%arg0: tensor<i1>, %arg1: tensor<3xf32>, %arg2: tensor<3xf32>) -> (tensor<3xf32>, tensor<i1>, tensor<3xf32>)
// CHECK-NEXT:    %[[O:.*]] = "jx.cond"(%arg0, %arg1) {branches = [@neg, @sin]}
// CHECK-NEXT:    %[[V:.*]]:2 = "jx.cond"(%arg0, %arg1, %arg2) {branches = [@neg_vjp, @sin_vjp]} : (tensor<i1>, tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK:         return %[[O]], %{{.*}}, %[[V]]#1
// CHECK:       func.func @neg_vjp(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK:       func.func @sin_vjp(

// CHECK-LABEL: func.func @s_vjp_10(%arg0: tensor<f32>, %arg1: tensor<f32>, %arg2: tensor<5x2xf32>, %arg3: tensor<f32>)
// CHECK-NEXT:    %[[F:.*]]:3 = "jx.scan"(%arg0, %arg1, %arg2) {body = @step_fwdres, length = 5 : i64, num_carry = 1 : i64, num_consts = 1 : i64, reverse = false} : (tensor<f32>, tensor<f32>, tensor<5x2xf32>) -> (tensor<f32>, tensor<5x2xf32>, tensor<5xf32>)
// CHECK-NEXT:    %[[Z:.*]] = "jx.constant"() {value = dense<0.000000e+00> : tensor<f32>}
// reverse scan: consts; carry = (const cotangent accumulator, carry cotangent); xs = (stacked carries, xs)
// CHECK-NEXT:    %[[B:.*]]:3 = "jx.scan"(%arg0, %[[Z]], %arg3, %[[F]]#2, %arg2) {body = @step_vjp_10_bwdscan, length = 5 : i64, num_carry = 2 : i64, num_consts = 1 : i64, reverse = true} : (tensor<f32>, tensor<f32>, tensor<f32>, tensor<5xf32>, tensor<5x2xf32>) -> (tensor<f32>, tensor<f32>, tensor<5x2xf32>)
// CHECK-NEXT:    return %[[F]]#0, %[[F]]#1, %[[B]]#0, %[[B]]#1, %[[B]]#2
// CHECK:       func.func @step_fwdres(%arg0: tensor<f32>, %arg1: tensor<f32>, %arg2: tensor<2xf32>) -> (tensor<f32>, tensor<2xf32>, tensor<f32>)
// CHECK-NEXT:    %[[S:.*]]:2 = "jx.call"(%arg0, %arg1, %arg2) {callee = @step}
// CHECK-NEXT:    return %[[S]]#0, %[[S]]#1, %arg1
// CHECK:       func.func @step_vjp_10_bwdscan(%arg0: tensor<f32>, %arg1: tensor<f32>, %arg2: tensor<f32>, %arg3: tensor<f32>, %arg4: tensor<2xf32>)
// CHECK-NEXT:    %[[V:.*]]:5 = "jx.call"(%arg0, %arg3, %arg4, %arg2) {callee = @step_vjp_10}
// CHECK-NEXT:    %[[A:.*]] = "jx.add"(%arg1, %[[V]]#2)
// CHECK-NEXT:    return %[[A]], %[[V]]#3, %[[V]]#4
// CHECK-LABEL: func.func @s_grad_0_1_2(

// WHILE: error: pass 'vjp' failed: Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop with dynamic start/stop values. Try using lax.scan, or using fori_loop with static start/stop.

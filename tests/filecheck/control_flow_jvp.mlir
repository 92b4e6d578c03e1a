// RUN: irjax-opt %s -p 'jvp{func=f},jvp{func=w},jvp{func=s}' --verify-each | FileCheck %s
// jvp of a control-flow op is the same op over the jvp of its bodies, with primal and
// tangent carries side by side; tangents of non-float values are dropped (the cond's
// predicate), and a scan's consts and xs get tangent operands only where they have them.

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

// CHECK-LABEL: func.func @f_jvp(%arg0: tensor<i1>, %arg1: tensor<3xf32>, %arg2: tensor<i1>, %arg3: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT:    %[[R:.*]]:2 = "jx.cond"(%arg0, %arg1, %arg3) {branches = [@[[B0:neg_jvpw[_0-9]*]], @[[B1:sin_jvpw[_0-9]*]]]} : (tensor<i1>, tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT:    return %[[R]]#0, %[[R]]#1
// CHECK:       func.func @[[B0]](%arg0: tensor<3xf32>, %arg1: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT:    "jx.call"(%arg0, %arg1) {callee = @neg_jvp}
// CHECK:       func.func @neg_jvp(
// CHECK:         "jx.neg"
// CHECK:       func.func @[[B1]](

// CHECK-LABEL: func.func @w_jvp(%arg0: tensor<f32>, %arg1: tensor<f32>, %arg2: tensor<f32>, %arg3: tensor<f32>) -> (tensor<f32>, tensor<f32>)
// the bound %arg0 has a tangent (%arg2) but only the condition reads it: no tangent rides along
// CHECK-NEXT:    %[[R:.*]]:2 = "jx.while"(%arg0, %arg1, %arg3) {body_fn = @[[BODY:dbl_jvpw[_0-9]*]], body_nconsts = 0 : i64, cond_fn = @[[COND:lt_jvpc[_0-9]*]], cond_nconsts = 1 : i64} : (tensor<f32>, tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>)
// CHECK-NEXT:    return %[[R]]#0, %[[R]]#1
// CHECK:       func.func @[[BODY]](%arg0: tensor<f32>, %arg1: tensor<f32>) -> (tensor<f32>, tensor<f32>)
// CHECK-NEXT:    "jx.call"(%arg0, %arg1) {callee = @dbl_jvp}
// CHECK:       func.func @[[COND]](%arg0: tensor<f32>, %arg1: tensor<f32>, %arg2: tensor<f32>) -> tensor<i1>
// CHECK-NEXT:    "jx.call"(%arg0, %arg1) {callee = @lt}

// CHECK-LABEL: func.func @s_jvp(%arg0: tensor<f32>, %arg1: tensor<f32>, %arg2: tensor<5x2xf32>, %arg3: tensor<f32>, %arg4: tensor<f32>, %arg5: tensor<5x2xf32>)
// operands: (consts, const tangents), (carry, carry tangents), (xs, xs tangents)
// CHECK-NEXT:    %[[R:.*]]:4 = "jx.scan"(%arg0, %arg3, %arg1, %arg4, %arg2, %arg5) {body = @[[BODY:step_jvpw[_0-9]*]], length = 5 : i64, num_carry = 2 : i64, num_consts = 2 : i64, reverse = false}
// CHECK-SAME:      -> (tensor<f32>, tensor<f32>, tensor<5x2xf32>, tensor<5x2xf32>)
// CHECK-NEXT:    return %[[R]]#0, %[[R]]#2, %[[R]]#1, %[[R]]#3
// CHECK:       func.func @[[BODY]](%arg0: tensor<f32>, %arg1: tensor<f32>, %arg2: tensor<f32>, %arg3: tensor<f32>, %arg4: tensor<2xf32>, %arg5: tensor<2xf32>)
// CHECK-NEXT:    %[[J:.*]]:4 = "jx.call"(%arg0, %arg2, %arg4, %arg1, %arg3, %arg5) {callee = @step_jvp}
// CHECK-NEXT:    return %[[J]]#0, %[[J]]#2, %[[J]]#1, %[[J]]#3

// RUN: irjax-opt %s -p 'batch{func=f in-axes=0,0 axis-size=4},batch{func=f in-axes=none,0 axis-size=4},batch{func=w in-axes=0,none axis-size=4},batch{func=w2 in-axes=none,0 axis-size=4},batch{func=s in-axes=none,none,0 axis-size=4}' --verify-each | FileCheck %s
// batch of control flow, as JAX: a cond with an unbatched predicate is a cond over batched
// branches; with a batched predicate every branch runs and a select picks per lane. A while
// whose condition stays unbatched keeps unbatched carries; a batched condition runs while any
// lane runs and freezes finished lanes with a select. A scan batches its body, its xs/ys
// carrying the batch axis second (the scan axis stays first).

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
func.func @below3(%c: tensor<f32>, %x: tensor<f32>) -> tensor<i1> {
  %k = "jx.constant"() {value = dense<3.0> : tensor<f32>} : () -> tensor<f32>
  %0 = "jx.lt"(%c, %k) : (tensor<f32>, tensor<f32>) -> tensor<i1>
  return %0 : tensor<i1>
}
func.func @step2(%c: tensor<f32>, %x: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
  %one = "jx.constant"() {value = dense<1.0> : tensor<f32>} : () -> tensor<f32>
  %0 = "jx.add"(%c, %one) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %1 = "jx.add"(%x, %x) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0, %1 : tensor<f32>, tensor<f32>
}
func.func @w2(%c: tensor<f32>, %x: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
  %0:2 = "jx.while"(%c, %x) {cond_fn = @below3, body_fn = @step2, cond_nconsts = 0, body_nconsts = 0} : (tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>)
  return %0#0, %0#1 : tensor<f32>, tensor<f32>
}

// CHECK-LABEL: func.func @f_batch_0_0_4(%arg0: tensor<4xi1>, %arg1: tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    %[[F:.*]] = "jx.call"(%arg1) {callee = @neg_batch_0_4}
// CHECK-NEXT:    %[[T:.*]] = "jx.call"(%arg1) {callee = @sin_batch_0_4}
// CHECK-NEXT:    %[[P:.*]] = "jx.broadcast_in_dim"(%arg0) {broadcast_dimensions = array<i64: 0>, shape = array<i64: 4, 3>}
// CHECK-NEXT:    %[[S:.*]] = "jx.select"(%[[P]], %[[T]], %[[F]])
// CHECK-NEXT:    return %[[S]]

// CHECK-LABEL: func.func @f_batch_n_0_4(%arg0: tensor<i1>, %arg1: tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    %[[R:.*]] = "jx.cond"(%arg0, %arg1) {branches = [@neg_batch_0_4, @sin_batch_0_4]} : (tensor<i1>, tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    return %[[R]]

// CHECK-LABEL: func.func @w_batch_0_n_4(%arg0: tensor<4xf32>, %arg1: tensor<f32>) -> tensor<4xf32>
// CHECK-NEXT:    %[[X:.*]] = "jx.broadcast_in_dim"(%arg1) {broadcast_dimensions = array<i64>, shape = array<i64: 4>}
// the body reads the cond consts too, to freeze finished lanes
// CHECK-NEXT:    %[[W:.*]] = "jx.while"(%arg0, %arg0, %[[X]]) {body_fn = @[[BODY:dbl_batch_0_4_sel[_0-9]*]], body_nconsts = 1 : i64, cond_fn = @[[COND:lt_batch_0_0_4_any[_0-9]*]], cond_nconsts = 1 : i64}
// CHECK:       func.func @[[COND]](%arg0: tensor<4xf32>, %arg1: tensor<4xf32>) -> tensor<i1>
// CHECK-NEXT:    %[[P:.*]] = "jx.call"(%arg0, %arg1) {callee = @lt_batch_0_0_4} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
// CHECK-NEXT:    %[[A:.*]] = "jx.reduce_or"(%[[P]]) {axes = array<i64: 0>} : (tensor<4xi1>) -> tensor<i1>
// CHECK-NEXT:    return %[[A]]
// CHECK:       func.func @[[BODY]](%arg0: tensor<4xf32>, %arg1: tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %[[P:.*]] = "jx.call"(%arg0, %arg1) {callee = @lt_batch_0_0_4}
// CHECK-NEXT:    %[[N:.*]] = "jx.call"(%arg1) {callee = @dbl_batch_0_4}
// CHECK-NEXT:    %[[S:.*]] = "jx.select"(%[[P]], %[[N]], %arg1)
// CHECK-NEXT:    return %[[S]]

// an unbatched counter keeps the condition unbatched: a plain while over the batched body
// CHECK-LABEL: func.func @w2_batch_n_0_4(%arg0: tensor<f32>, %arg1: tensor<4xf32>)
// CHECK-NEXT:    %[[W:.*]]:2 = "jx.while"(%arg0, %arg1) {body_fn = @step2_batch_n_0_4_o01, body_nconsts = 0 : i64, cond_fn = @below3_batch_n_0_4_o0, cond_nconsts = 0 : i64} : (tensor<f32>, tensor<4xf32>) -> (tensor<f32>, tensor<4xf32>)
// CHECK:       func.func @below3_batch_n_0_4_o0(%arg0: tensor<f32>, %arg1: tensor<4xf32>) -> tensor<i1>
// CHECK:       func.func @step2_batch_n_0_4_o01(%arg0: tensor<f32>, %arg1: tensor<4xf32>) -> (tensor<f32>, tensor<4xf32>)

// CHECK-LABEL: func.func @s_batch_n_n_0_4(%arg0: tensor<f32>, %arg1: tensor<f32>, %arg2: tensor<4x5x2xf32>) -> (tensor<4xf32>, tensor<4x5x2xf32>)
// CHECK-NEXT:    %[[C:.*]] = "jx.broadcast_in_dim"(%arg1)
// CHECK-NEXT:    %[[XS:.*]] = "jx.transpose"(%arg2) {permutation = array<i64: 1, 0, 2>} : (tensor<4x5x2xf32>) -> tensor<5x4x2xf32>
// CHECK-NEXT:    %[[R:.*]]:2 = "jx.scan"(%arg0, %[[C]], %[[XS]]) {body = @step_batch_n_0_0_4, length = 5 : i64, num_carry = 1 : i64, num_consts = 1 : i64, reverse = false} : (tensor<f32>, tensor<4xf32>, tensor<5x4x2xf32>) -> (tensor<4xf32>, tensor<5x4x2xf32>)
// CHECK-NEXT:    %[[YS:.*]] = "jx.transpose"(%[[R]]#1) {permutation = array<i64: 1, 0, 2>} : (tensor<5x4x2xf32>) -> tensor<4x5x2xf32>
// CHECK-NEXT:    return %[[R]]#0, %[[YS]]

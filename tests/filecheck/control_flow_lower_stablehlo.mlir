// RUN: irjax-opt %s -p 'verify,lower-stablehlo' | FileCheck %s
// Control-flow ops name their bodies by symbol; lowering wraps a func.call of each body in
// a StableHLO region: jx.cond -> stablehlo.case, jx.while and jx.scan -> stablehlo.while
// (a scan slices xs and writes ys with dynamic_slice / dynamic_update_slice per step).

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
func.func @lt2(%x: tensor<f32>, %d: tensor<i1>) -> tensor<i1> {
  %0 = "jx.not"(%d) : (tensor<i1>) -> tensor<i1>
  return %0 : tensor<i1>
}
func.func @flag(%x: tensor<f32>, %d: tensor<i1>) -> (tensor<f32>, tensor<i1>) {
  %0 = "jx.add"(%x, %x) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %1 = "jx.gt"(%x, %x) : (tensor<f32>, tensor<f32>) -> tensor<i1>
  return %0, %1 : tensor<f32>, tensor<i1>
}
func.func @wf(%x: tensor<f32>, %d: tensor<i1>) -> tensor<f32> {
  %0:2 = "jx.while"(%x, %d) {cond_fn = @lt2, body_fn = @flag, cond_nconsts = 0, body_nconsts = 0} : (tensor<f32>, tensor<i1>) -> (tensor<f32>, tensor<i1>)
  return %0#0 : tensor<f32>
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
  %0:2 = "jx.scan"(%w, %c, %xs) {body = @step, length = 5, reverse = false, num_consts = 1, num_carry = 1, unroll = 1} : (tensor<f32>, tensor<f32>, tensor<5x2xf32>) -> (tensor<f32>, tensor<5x2xf32>)
  return %0#0, %0#1 : tensor<f32>, tensor<5x2xf32>
}

// the bodies become private (IREE inlines and drops them)
// CHECK: func.func private @neg
// CHECK-LABEL: func.func @f(%arg0: tensor<i1>, %arg1: tensor<3xf32>)
// CHECK-NEXT:    %[[I:.*]] = stablehlo.convert %arg0 : (tensor<i1>) -> tensor<i32>
// CHECK-NEXT:    %[[R:.*]] = "stablehlo.case"(%[[I]]) ({
// CHECK-NEXT:      %[[A:.*]] = func.call @neg(%arg1) : (tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:      stablehlo.return %[[A]] : tensor<3xf32>
// CHECK-NEXT:    }, {
// CHECK-NEXT:      %[[B:.*]] = func.call @sin(%arg1) : (tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:      stablehlo.return %[[B]] : tensor<3xf32>
// CHECK-NEXT:    }) : (tensor<i32>) -> tensor<3xf32>
// CHECK-NEXT:    return %[[R]] : tensor<3xf32>

// CHECK-LABEL: func.func @w(
// initial values that are the function's arguments pass a barrier (IREE 3.13 miscompiled such a
// loop: "ref is null" at run time); the cond consts ride along as carries the body returns unchanged
// CHECK:         %[[A:.*]]:2 = stablehlo.optimization_barrier %arg0, %arg1 : tensor<f32>, tensor<f32>
// CHECK-NEXT:    %[[W:.*]]:2 = stablehlo.while(%[[N:.*]] = %[[A]]#0, %[[X:.*]] = %[[A]]#1)
// CHECK-NEXT:    cond {
// CHECK-NEXT:      %[[P:.*]] = func.call @lt(%[[N]], %[[X]]) : (tensor<f32>, tensor<f32>) -> tensor<i1>
// CHECK-NEXT:      stablehlo.return %[[P]] : tensor<i1>
// CHECK-NEXT:    } do {
// CHECK-NEXT:      %[[D:.*]] = func.call @dbl(%[[X]]) : (tensor<f32>) -> tensor<f32>
// CHECK-NEXT:      stablehlo.return %[[N]], %[[D]] : tensor<f32>, tensor<f32>
// the results pass a barrier (IREE 3.13's partitioning otherwise can fail with "cyclic dependencies")
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[K:.*]]:2 = stablehlo.optimization_barrier %[[W]]#0, %[[W]]#1 : tensor<f32>, tensor<f32>
// CHECK-NEXT:    return %[[K]]#1 : tensor<f32>

// CHECK-LABEL: func.func @wf(
// a carry the body never reads (only the cond does) is read beside its new value in a barrier:
// IREE 3.13 otherwise drops it from the do-while it makes and then crashes or leaves a null buffer
// CHECK:         stablehlo.while(%[[X:.*]] = %{{.*}}#0, %[[D:.*]] = %{{.*}}#1)
// CHECK:         } do {
// CHECK-NEXT:      %[[B:.*]]:2 = func.call @flag(%[[X]], %[[D]])
// CHECK-NEXT:      %[[KEPT:.*]]:2 = stablehlo.optimization_barrier %[[B]]#1, %[[D]] : tensor<i1>, tensor<i1>
// CHECK-NEXT:      stablehlo.return %[[B]]#0, %[[KEPT]]#0 : tensor<f32>, tensor<i1>

// CHECK-LABEL: func.func @s(
// state: counter, carry, ys buffer; consts and xs are read from above (carrying them would copy)
// CHECK:         %[[A1:.*]] = stablehlo.optimization_barrier %arg1 : tensor<f32>
// CHECK:         stablehlo.while(%[[K:.*]] = %{{.*}}, %[[H:.*]] = %[[A1]], %[[YS:.*]] = %{{.*}}) : tensor<i32>, tensor<f32>, tensor<5x2xf32>
// CHECK:           stablehlo.compare LT, %[[K]], %{{.*}}, SIGNED
// CHECK:         } do {
// CHECK:           %[[SL:.*]] = stablehlo.dynamic_slice %arg2, %[[K]], %{{.*}}, sizes = [1, 2]
// CHECK:           %[[X1:.*]] = stablehlo.reshape %[[SL]] : (tensor<1x2xf32>) -> tensor<2xf32>
// CHECK:           %[[O:.*]]:2 = func.call @step(%arg0, %[[H]], %[[X1]])
// CHECK:           stablehlo.dynamic_update_slice %[[YS]], %{{.*}}, %[[K]], %{{.*}}
// CHECK:           stablehlo.add %[[K]], %{{.*}} : tensor<i32>


// RUN: irjax-opt %s -p 'verify,lower-stablehlo' | FileCheck %s
// RUN: irjax-opt %s -p 'verify,lower-stablehlo{chunk-scans=false}' | FileCheck %s --check-prefix=ONE
// RUN: irjax-opt %s -p 'verify,lower-stablehlo{place-stacks=true}' | FileCheck %s --check-prefix=PLACED
// A scan of 64 or more steps with stacked outputs lowers to chunks of K ~ 4 sqrt(length) steps
// (IREE copies a loop-carried buffer on every update, so stacking straight into the full
// buffer costs O(length^2)); K divides the length when a divisor lies near 4 sqrt(length).
// 70 steps, reversed, unroll = 1: K = 35, 2 chunks of 35 in an outer loop, no tail; every loop
// bound is a constant; consts and xs are read from above. chunk-scans=false (GPU targets)
// keeps one loop over all 70 steps. Without an unroll attribute this small body is unrolled:
// 8 steps a block, their rows at opaque offsets (an optimization_barrier), ys written once.

func.func @step(%w: tensor<f32>, %c: tensor<f32>, %x: tensor<2xf32>) -> (tensor<f32>, tensor<2xf32>) {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<2xf32>) -> tensor<f32>
  %1 = "jx.mul"(%c, %w) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %2 = "jx.add"(%1, %0) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %3 = "jx.broadcast_in_dim"(%2) {broadcast_dimensions = array<i64>, shape = array<i64: 2>} : (tensor<f32>) -> tensor<2xf32>
  return %2, %3 : tensor<f32>, tensor<2xf32>
}
func.func @long(%w: tensor<f32>, %c: tensor<f32>, %xs: tensor<70x2xf32>) -> (tensor<f32>, tensor<70x2xf32>) {
  %0:2 = "jx.scan"(%w, %c, %xs) {body = @step, length = 70, reverse = true, num_consts = 1, num_carry = 1, unroll = 1} : (tensor<f32>, tensor<f32>, tensor<70x2xf32>) -> (tensor<f32>, tensor<70x2xf32>)
  return %0#0, %0#1 : tensor<f32>, tensor<70x2xf32>
}
func.func @auto(%w: tensor<f32>, %c: tensor<f32>, %xs: tensor<70x2xf32>) -> (tensor<f32>, tensor<70x2xf32>) {
  %0:2 = "jx.scan"(%w, %c, %xs) {body = @step, length = 70, reverse = false, num_consts = 1, num_carry = 1} : (tensor<f32>, tensor<f32>, tensor<70x2xf32>) -> (tensor<f32>, tensor<70x2xf32>)
  return %0#0, %0#1 : tensor<f32>, tensor<70x2xf32>
}

// CHECK-LABEL: func.func @long(
// CHECK:         %[[YS0:.*]] = stablehlo.constant dense<0.000000e+00> : tensor<70x2xf32>
// CHECK:         %[[H0:.*]] = stablehlo.optimization_barrier %arg1 : tensor<f32>
// CHECK:         %[[OUT:.*]]:3 = stablehlo.while(%[[C:.*]] = %{{.*}}, %[[H:.*]] = %[[H0]], %[[YS:.*]] = %[[YS0]])
// outer loop: 2 full chunks
// CHECK:           stablehlo.constant dense<2>
// CHECK:         } do {
// CHECK:           %[[BASE:.*]] = stablehlo.multiply %[[C]], %{{.*}} : tensor<i32>
// CHECK:           %[[SMALL0:.*]] = stablehlo.constant dense<0.000000e+00> : tensor<35x2xf32>
// CHECK:           %[[IN:.*]]:4 = stablehlo.while(%[[J:.*]] = %{{.*}}, %[[B:.*]] = %[[BASE]], %{{.*}} = %[[H]], %[[SMALL:.*]] = %[[SMALL0]])
// inner loop: j < 35, one compare
// CHECK-NEXT:      cond {
// CHECK-NEXT:        stablehlo.constant dense<35>
// CHECK-NEXT:        stablehlo.compare LT, %[[J]]
// CHECK-NEXT:        stablehlo.return
// CHECK-NEXT:      } do {
// reversed: step g = base + j reads row 69 - g and writes chunk row 34 - j
// CHECK:             %[[G:.*]] = stablehlo.add %[[B]], %[[J]]
// CHECK:             %[[ROW:.*]] = stablehlo.subtract %{{.*}}, %[[G]]
// CHECK:             stablehlo.dynamic_slice %arg2, %[[ROW]]
// CHECK:             func.call @step(%arg0,
// CHECK:             stablehlo.dynamic_update_slice %[[SMALL]]
// CHECK:           }
// the chunk goes in once per outer step, at 35 - base
// CHECK:           stablehlo.constant dense<35>
// CHECK-NEXT:      %[[AT:.*]] = stablehlo.subtract %{{.*}}, %[[BASE]]
// CHECK:           stablehlo.dynamic_update_slice %[[YS]], %[[IN]]#3, %[[AT]]
// CHECK-NOT:     stablehlo.while
// CHECK:         %[[KEPT:.*]]:3 = stablehlo.optimization_barrier %[[OUT]]#0, %[[OUT]]#1, %[[OUT]]#2
// CHECK:         return %[[KEPT]]#1, %[[KEPT]]#2

// CHECK-LABEL: func.func @auto(
// CHECK:         stablehlo.while
// CHECK:         stablehlo.while
// CHECK:           %[[OFF:.*]]:8 = stablehlo.optimization_barrier
// CHECK:           stablehlo.add %{{.*}}, %[[OFF]]#0
// CHECK-COUNT-8:   func.call @step(
// CHECK:           stablehlo.concatenate {{.*}} -> tensor<8x2xf32>

// ONE-LABEL: func.func @long(
// ONE:         stablehlo.while({{.*}}) : tensor<i32>, tensor<f32>, tensor<70x2xf32>
// ONE:           stablehlo.constant dense<70>
// ONE-NOT:     stablehlo.while
// ONE:         return

// place-stacks=true (CPU modules for IREE): one loop, the stacking buffer placed on the device
// at the top of the body (IREE then updates it in place), and filled first with a constant of
// its own plus a probe of every scan input (the first element of each, kept only if NaN)
// PLACED-LABEL: func.func @long(
// PLACED:         stablehlo.compare NE, %arg0, %arg0
// PLACED:         stablehlo.compare NE, %arg1, %arg1
// PLACED:         %[[X0:.*]] = stablehlo.slice %arg2 [0:1, 0:1]
// PLACED:         stablehlo.compare NE, %[[X0R:.*]], %[[X0R]]
// PLACED:         stablehlo.select
// PLACED:         %[[PROBE:.*]] = stablehlo.add
// PLACED-NEXT:    %[[C:.*]] = stablehlo.constant dense<1.000000e+00> : tensor<f32>
// PLACED-NEXT:    %[[FILL:.*]] = stablehlo.add %[[PROBE]], %[[C]] : tensor<f32>
// PLACED:         %[[YS0:.*]] = stablehlo.broadcast_in_dim %[[FILL]], dims = [] : (tensor<f32>) -> tensor<70x2xf32>
// PLACED:         stablehlo.while({{.*}}, %[[YS:.*]] = %[[YS0]])
// PLACED:         } do {
// PLACED-NEXT:      %[[PLACED:.*]] = flow.tensor.transfer %[[YS]] : tensor<70x2xf32> to #hal.device.promise<@__device_0>
// PLACED:           stablehlo.dynamic_update_slice %[[PLACED]]
// PLACED-NOT:     stablehlo.while
// PLACED:         return

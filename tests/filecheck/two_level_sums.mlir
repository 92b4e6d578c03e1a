// RUN: irjax-opt %s -p 'verify,lower-stablehlo' | FileCheck %s
// Long floating-point sums (dialects/hlo.py reduce):
// - each element plus +0.0 from 128 summed elements on (PLUS_ZERO_MIN): IREE 3.13 scalarizes a
//   sum whose fused body is a product or a negation; a plain add keeps its vector lanes. Exact,
//   since a sum starts from +0.0. Matrix-vector products (x * broadcast(v)) keep IREE's matvec.
// - from 2^14 trailing elements on (TWO_LEVEL_MIN), two levels: blocks of b ~ sqrt(n) elements,
//   then the block sums; a remainder of n % b elements is summed apart and added.
// Integer sums, max and shorter sums are one plain stablehlo.reduce.

func.func @full(%x: tensor<1048576xf32>) -> tensor<f32> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<1048576xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

func.func @remainder(%x: tensor<3x20000xf64>) -> tensor<3xf64> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 1>} : (tensor<3x20000xf64>) -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

func.func @trailing(%x: tensor<2x128x256xf32>) -> tensor<2xf32> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 1, 2>} : (tensor<2x128x256xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

func.func @squares(%x: tensor<64x512xf32>) -> tensor<64xf32> {
  %0 = "jx.mul"(%x, %x) : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
  %1 = "jx.reduce_sum"(%0) {axes = array<i64: 1>} : (tensor<64x512xf32>) -> tensor<64xf32>
  return %1 : tensor<64xf32>
}

func.func @matvec(%x: tensor<64x512xf32>, %v: tensor<512xf32>) -> tensor<64xf32> {
  %0 = "jx.broadcast_in_dim"(%v) {shape = array<i64: 64, 512>, broadcast_dimensions = array<i64: 1>} : (tensor<512xf32>) -> tensor<64x512xf32>
  %1 = "jx.mul"(%x, %0) : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
  %2 = "jx.reduce_sum"(%1) {axes = array<i64: 1>} : (tensor<64x512xf32>) -> tensor<64xf32>
  return %2 : tensor<64xf32>
}

func.func @short(%x: tensor<4x100xf32>) -> tensor<4xf32> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 1>} : (tensor<4x100xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

func.func @ints(%x: tensor<1048576xi32>) -> tensor<i32> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<1048576xi32>) -> tensor<i32>
  return %0 : tensor<i32>
}

func.func @scalar(%x: tensor<f32>) -> tensor<f32> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64>} : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

func.func @max(%x: tensor<1048576xf32>) -> tensor<f32> {
  %0 = "jx.reduce_max"(%x) {axes = array<i64: 0>} : (tensor<1048576xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// CHECK-LABEL: func.func @full(
// CHECK: %[[Z:.*]] = stablehlo.broadcast_in_dim %{{.*}}, dims = [] : (tensor<f32>) -> tensor<1048576xf32>
// CHECK: %[[X:.*]] = stablehlo.add %arg0, %[[Z]] : tensor<1048576xf32>
// CHECK: %[[B:.*]] = stablehlo.reshape %[[X]] : (tensor<1048576xf32>) -> tensor<1024x1024xf32>
// CHECK: %[[P:.*]] = stablehlo.reduce(%[[B]] init: %{{.*}}) applies stablehlo.add across dimensions = [1] : (tensor<1024x1024xf32>, tensor<f32>) -> tensor<1024xf32>
// CHECK: stablehlo.reduce(%[[P]] init: %{{.*}}) applies stablehlo.add across dimensions = [0] : (tensor<1024xf32>, tensor<f32>) -> tensor<f32>

// 20000 = 156 blocks of 128 + 32
// CHECK-LABEL: func.func @remainder(
// CHECK: %[[X2:.*]] = stablehlo.add %arg0, %{{.*}} : tensor<3x20000xf64>
// CHECK: %[[H:.*]] = stablehlo.slice %[[X2]] [0:3, 0:19968]
// CHECK: %[[B2:.*]] = stablehlo.reshape %[[H]] : (tensor<3x19968xf64>) -> tensor<3x156x128xf64>
// CHECK: %[[P2:.*]] = stablehlo.reduce(%[[B2]] init: %{{.*}}) applies stablehlo.add across dimensions = [2] : (tensor<3x156x128xf64>, tensor<f64>) -> tensor<3x156xf64>
// CHECK: %[[S2:.*]] = stablehlo.reduce(%[[P2]] init: %{{.*}}) applies stablehlo.add across dimensions = [1] : (tensor<3x156xf64>, tensor<f64>) -> tensor<3xf64>
// CHECK: %[[T:.*]] = stablehlo.slice %[[X2]] [0:3, 19968:20000]
// CHECK: %[[R:.*]] = stablehlo.reduce(%[[T]] init: %{{.*}}) applies stablehlo.add across dimensions = [1] : (tensor<3x32xf64>, tensor<f64>) -> tensor<3xf64>
// CHECK: stablehlo.add %[[S2]], %[[R]] : tensor<3xf64>

// the blocks are the two trailing axes themselves: no reshape
// CHECK-LABEL: func.func @trailing(
// CHECK-NOT: stablehlo.reshape
// CHECK: dimensions = [2] : (tensor<2x128x256xf32>, tensor<f32>) -> tensor<2x128xf32>
// CHECK: dimensions = [1] : (tensor<2x128xf32>, tensor<f32>) -> tensor<2xf32>

// CHECK-LABEL: func.func @squares(
// CHECK: %[[SQ:.*]] = stablehlo.multiply %arg0, %arg0
// CHECK: %[[SQZ:.*]] = stablehlo.add %[[SQ]], %{{.*}} : tensor<64x512xf32>
// CHECK: stablehlo.reduce(%[[SQZ]] init: %{{.*}}) applies stablehlo.add across dimensions = [1]

// CHECK-LABEL: func.func @matvec(
// CHECK: %[[MV:.*]] = stablehlo.multiply
// CHECK-NOT: stablehlo.add %[[MV]]
// CHECK: stablehlo.reduce(%[[MV]] init: %{{.*}}) applies stablehlo.add across dimensions = [1]

// CHECK-LABEL: func.func @short(
// CHECK-NOT: stablehlo.add %arg0
// CHECK: stablehlo.reduce(%arg0 init: %{{.*}}) applies stablehlo.add across dimensions = [1] : (tensor<4x100xf32>, tensor<f32>) -> tensor<4xf32>

// CHECK-LABEL: func.func @ints(
// CHECK-NOT: stablehlo.reshape
// CHECK: stablehlo.reduce(%arg0 init: %{{.*}}) applies stablehlo.add across dimensions = [0] : (tensor<1048576xi32>, tensor<i32>) -> tensor<i32>

// a rank-0 sum over no axes
// CHECK-LABEL: func.func @scalar(
// CHECK: stablehlo.reduce(%arg0 init: %{{.*}}) applies stablehlo.add across dimensions = [] : (tensor<f32>, tensor<f32>) -> tensor<f32>

// a float max of >= 2^14 elements reduces integer keys that order as the floats do (dialects/hlo.py
// ORDERED_MIN): bits ^ ((bits >> 31) & INT_MAX), NaN -> INT_MAX; back the same way, INT_MAX -> NaN
// CHECK-LABEL: func.func @max(
// CHECK-NOT: stablehlo.reshape
// CHECK: %[[I:.*]] = stablehlo.bitcast_convert %arg0 : (tensor<1048576xf32>) -> tensor<1048576xi32>
// CHECK: %[[S:.*]] = stablehlo.shift_right_arithmetic %[[I]], %{{.*}} : tensor<1048576xi32>
// CHECK: %[[L:.*]] = stablehlo.and %[[S]], %{{.*}} : tensor<1048576xi32>
// CHECK: %[[K:.*]] = stablehlo.xor %[[I]], %[[L]] : tensor<1048576xi32>
// CHECK: %[[N:.*]] = stablehlo.compare NE, %arg0, %arg0, FLOAT
// CHECK: %[[KN:.*]] = stablehlo.select %[[N]], %{{.*}}, %[[K]] : tensor<1048576xi1>, tensor<1048576xi32>
// CHECK: %[[R:.*]] = stablehlo.reduce(%[[KN]] init: %{{.*}}) applies stablehlo.maximum across dimensions = [0] : (tensor<1048576xi32>, tensor<i32>) -> tensor<i32>
// CHECK: %[[F:.*]] = stablehlo.bitcast_convert %{{.*}} : (tensor<i32>) -> tensor<f32>
// CHECK: %[[ISN:.*]] = stablehlo.compare EQ, %[[R]], %{{.*}}, SIGNED
// CHECK: stablehlo.constant dense<0x7FC00000> : tensor<f32>
// CHECK: stablehlo.select %[[ISN]], %{{.*}}, %[[F]] : tensor<i1>, tensor<f32>

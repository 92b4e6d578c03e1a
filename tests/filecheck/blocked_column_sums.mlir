// RUN: irjax-opt %s -p 'verify,lower-stablehlo' | FileCheck %s
// Float sums (and max, min of any type) over the leading axes of >= 1024 rows (dialects/hlo.py
// reduce). Rows of >= 512 columns go in slabs: the rows reshaped to (k, R / k, C) and reduced over
// the first axis, k the largest divisor <= 16 of the rows left, until <= 64 rows are left for a
// plain reduce. Rows of 128..511 columns go in blocks of b rows, b the divisor of the row count in
// 8..64 nearest 32 (a reduce over the blocks' rows, then over the block results). IREE runs both
// several times faster than a plain column reduce or the ones . x matvec; sums add +0.0 to each
// element first (as long sums: IREE scalarized the blocks' sums of products and negations).
// Narrow rows, and row counts with no such divisors, keep the matvec (sums) or one reduce.

// CHECK-LABEL: func.func @wide
// CHECK:         %[[Z:.*]] = stablehlo.add %arg0, %{{.*}} : tensor<4096x1024xf32>
// CHECK:         %[[R1:.*]] = stablehlo.reshape %[[Z]] : (tensor<4096x1024xf32>) -> tensor<16x256x1024xf32>
// CHECK:         %[[S1:.*]] = stablehlo.reduce(%[[R1]] init: %{{.*}}) applies stablehlo.add across dimensions = [0] : (tensor<16x256x1024xf32>, tensor<f32>) -> tensor<256x1024xf32>
// CHECK:         %[[R2:.*]] = stablehlo.reshape %[[S1]] : (tensor<256x1024xf32>) -> tensor<16x16x1024xf32>
// CHECK:         %[[S2:.*]] = stablehlo.reduce(%[[R2]] init: %{{.*}}) applies stablehlo.add across dimensions = [0] : (tensor<16x16x1024xf32>, tensor<f32>) -> tensor<16x1024xf32>
// CHECK:         stablehlo.reduce(%[[S2]] init: %{{.*}}) applies stablehlo.add across dimensions = [0] : (tensor<16x1024xf32>, tensor<f32>) -> tensor<1024xf32>
// CHECK-NOT:     stablehlo.dot_general
func.func @wide(%x: tensor<4096x1024xf32>) -> tensor<1024xf32> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<4096x1024xf32>) -> tensor<1024xf32>
  return %0 : tensor<1024xf32>
}

// Two leading axes of 4100 rows (slabs of 10, then of 10, 41 rows left), a float max: no +0.0; the
// slabs reduce the max's integer keys (dialects/hlo.py ORDERED_MIN); the kept axes flattened and
// restored.
// CHECK-LABEL: func.func @slabmax
// CHECK-NOT:     stablehlo.add
// CHECK:         stablehlo.bitcast_convert %arg0 : (tensor<10x410x2x512xf32>) -> tensor<10x410x2x512xi32>
// CHECK:         stablehlo.reshape %{{.*}} : (tensor<10x410x2x512xi32>) -> tensor<10x410x1024xi32>
// CHECK:         stablehlo.reduce(%{{.*}} init: %{{.*}}) applies stablehlo.maximum across dimensions = [0] : (tensor<10x410x1024xi32>, tensor<i32>) -> tensor<410x1024xi32>
// CHECK:         stablehlo.reshape %{{.*}} : (tensor<410x1024xi32>) -> tensor<10x41x1024xi32>
// CHECK:         stablehlo.reduce(%{{.*}} init: %{{.*}}) applies stablehlo.maximum across dimensions = [0] : (tensor<10x41x1024xi32>, tensor<i32>) -> tensor<41x1024xi32>
// CHECK:         %[[Y:.*]] = stablehlo.reduce(%{{.*}} init: %{{.*}}) applies stablehlo.maximum across dimensions = [0] : (tensor<41x1024xi32>, tensor<i32>) -> tensor<1024xi32>
// CHECK:         stablehlo.reshape %[[Y]] : (tensor<1024xi32>) -> tensor<2x512xi32>
// CHECK:         stablehlo.bitcast_convert %{{.*}} : (tensor<2x512xi32>) -> tensor<2x512xf32>
func.func @slabmax(%x: tensor<10x410x2x512xf32>) -> tensor<2x512xf32> {
  %0 = "jx.reduce_max"(%x) {axes = array<i64: 0, 1>} : (tensor<10x410x2x512xf32>) -> tensor<2x512xf32>
  return %0 : tensor<2x512xf32>
}

// Rows of 128..511 columns: blocks.
// CHECK-LABEL: func.func @blocks
// CHECK:         %[[B:.*]] = stablehlo.reshape %{{.*}} : (tensor<4096x256xf32>) -> tensor<128x32x256xf32>
// CHECK:         %[[S:.*]] = stablehlo.reduce(%[[B]] init: %{{.*}}) applies stablehlo.add across dimensions = [1] : (tensor<128x32x256xf32>, tensor<f32>) -> tensor<128x256xf32>
// CHECK:         stablehlo.reduce(%[[S]] init: %{{.*}}) applies stablehlo.add across dimensions = [0] : (tensor<128x256xf32>, tensor<f32>) -> tensor<256xf32>
func.func @blocks(%x: tensor<4096x256xf32>) -> tensor<256xf32> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<4096x256xf32>) -> tensor<256xf32>
  return %0 : tensor<256xf32>
}

// Two leading axes (4100 rows: blocks of 25), the kept axes flattened and restored.
// CHECK-LABEL: func.func @lead2
// CHECK:         stablehlo.reshape %{{.*}} : (tensor<50x82x4x64xf32>) -> tensor<164x25x256xf32>
// CHECK:         %[[Y:.*]] = stablehlo.reduce(%{{.*}} init: %{{.*}}) applies stablehlo.add across dimensions = [0] : (tensor<164x256xf32>, tensor<f32>) -> tensor<256xf32>
// CHECK:         stablehlo.reshape %[[Y]] : (tensor<256xf32>) -> tensor<4x64xf32>
func.func @lead2(%x: tensor<50x82x4x64xf32>) -> tensor<4x64xf32> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0, 1>} : (tensor<50x82x4x64xf32>) -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// Max and min alike (exact in any order), any element type, without the +0.0.
// CHECK-LABEL: func.func @colmax
// CHECK-NOT:     stablehlo.add
// CHECK:         %[[B:.*]] = stablehlo.reshape %arg0 : (tensor<2048x256xi32>) -> tensor<64x32x256xi32>
// CHECK:         %[[M:.*]] = stablehlo.reduce(%[[B]] init: %{{.*}}) applies stablehlo.maximum across dimensions = [1] : (tensor<64x32x256xi32>, tensor<i32>) -> tensor<64x256xi32>
// CHECK:         stablehlo.reduce(%[[M]] init: %{{.*}}) applies stablehlo.maximum across dimensions = [0] : (tensor<64x256xi32>, tensor<i32>) -> tensor<256xi32>
func.func @colmax(%x: tensor<2048x256xi32>) -> tensor<256xi32> {
  %0 = "jx.reduce_max"(%x) {axes = array<i64: 0>} : (tensor<2048x256xi32>) -> tensor<256xi32>
  return %0 : tensor<256xi32>
}

// CHECK-LABEL: func.func @prime
// CHECK:         stablehlo.dot_general %{{.*}}, %arg0, contracting_dims = [0] x [0] : (tensor<4099xf32>, tensor<4099x256xf32>) -> tensor<256xf32>
func.func @prime(%x: tensor<4099x256xf32>) -> tensor<256xf32> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<4099x256xf32>) -> tensor<256xf32>
  return %0 : tensor<256xf32>
}

// CHECK-LABEL: func.func @narrow
// CHECK:         stablehlo.dot_general %{{.*}}, %arg0, contracting_dims = [0] x [0] : (tensor<10000xf32>, tensor<10000x10xf32>) -> tensor<10xf32>
func.func @narrow(%x: tensor<10000x10xf32>) -> tensor<10xf32> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<10000x10xf32>) -> tensor<10xf32>
  return %0 : tensor<10xf32>
}

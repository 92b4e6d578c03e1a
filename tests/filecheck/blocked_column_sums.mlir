// RUN: irjax-opt %s -p 'verify,lower-stablehlo' | FileCheck %s
// Float sums over the leading axes of >= 1024 rows (dialects/hlo.py reduce): rows of >= 128
// columns go in blocks of b rows, b the divisor of the row count in 8..64 nearest 32 (a reduce over
// the blocks' rows, then over the block sums), which IREE runs several times faster than either a
// plain column reduce or the ones . x matvec; each element plus +0.0 first (as long sums: IREE
// scalarized the blocks' sums of products and negations). Narrow rows, and row counts with no
// such divisor, keep the matvec.

// CHECK-LABEL: func.func @wide
// CHECK:         %[[Z:.*]] = stablehlo.add %arg0, %{{.*}} : tensor<4096x1024xf32>
// CHECK:         %[[B:.*]] = stablehlo.reshape %[[Z]] : (tensor<4096x1024xf32>) -> tensor<128x32x1024xf32>
// CHECK:         %[[S:.*]] = stablehlo.reduce(%[[B]] init: %{{.*}}) applies stablehlo.add across dimensions = [1] : (tensor<128x32x1024xf32>, tensor<f32>) -> tensor<128x1024xf32>
// CHECK:         stablehlo.reduce(%[[S]] init: %{{.*}}) applies stablehlo.add across dimensions = [0] : (tensor<128x1024xf32>, tensor<f32>) -> tensor<1024xf32>
// CHECK-NOT:     stablehlo.dot_general
func.func @wide(%x: tensor<4096x1024xf32>) -> tensor<1024xf32> {
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 0>} : (tensor<4096x1024xf32>) -> tensor<1024xf32>
  return %0 : tensor<1024xf32>
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

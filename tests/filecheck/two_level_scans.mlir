// RUN: irjax-opt %s -p 'verify,lower-stablehlo' | FileCheck %s
// Float cumulative sums along an axis of 2^14 elements or more (dialects/reductions.py
// SCAN_TWO_LEVEL_MIN) scan in two levels: pad to whole blocks of m ~ sqrt(n), scan within each
// block, scan the block totals, add each block the totals before it (after it, reversed), cut
// back to n. Shorter, integer and max/min scans stay one reduce_window over the whole axis.

// CHECK-LABEL: func.func @long
// CHECK: %[[P:.*]] = stablehlo.pad %arg0, %{{.*}}, low = [0, 0], high = [0, 96]
// CHECK: %[[B:.*]] = stablehlo.reshape %[[P]] : (tensor<3x20096xf32>) -> tensor<3x157x128xf32>
// CHECK: %[[IN:.*]] = "stablehlo.reduce_window"(%[[B]], %{{.*}}) <{padding = dense<{{\[\[}}0, 0], [0, 0], [127, 0]]>
// CHECK-SAME: window_dimensions = array<i64: 1, 1, 128>
// CHECK: stablehlo.slice %[[IN]] [0:3, 0:157, 127:128]
// CHECK: %[[T:.*]] = "stablehlo.reduce_window"(%{{.*}}, %{{.*}}) <{padding = dense<{{\[\[}}0, 0], [156, 0]]>
// CHECK-SAME: window_dimensions = array<i64: 1, 157>
// CHECK: stablehlo.pad %[[T]], %{{.*}}, low = [0, 1], high = [0, 0]
// CHECK: %[[S:.*]] = stablehlo.add %[[IN]], %{{.*}} : tensor<3x157x128xf32>
// CHECK: stablehlo.reshape %[[S]] : (tensor<3x157x128xf32>) -> tensor<3x20096xf32>
// CHECK: stablehlo.slice %{{.*}} [0:3, 0:20000]
func.func @long(%x: tensor<3x20000xf32>) -> tensor<3x20000xf32> {
  %0 = "jx.cumsum"(%x) {axis = 1 : i64, reverse = false} : (tensor<3x20000xf32>) -> tensor<3x20000xf32>
  return %0 : tensor<3x20000xf32>
}

// Reversed, a whole number of blocks: each block's total is its first element, the offsets are
// the totals after it (padded at the end), and nothing is padded or cut.
// CHECK-LABEL: func.func @reversed
// CHECK-NOT: stablehlo.pad %arg0
// CHECK: %[[B:.*]] = stablehlo.reshape %arg0 : (tensor<16384xf32>) -> tensor<128x128xf32>
// CHECK: %[[IN:.*]] = "stablehlo.reduce_window"(%[[B]], %{{.*}}) <{padding = dense<{{\[\[}}0, 0], [0, 127]]>
// CHECK: stablehlo.slice %[[IN]] [0:128, 0:1]
// CHECK: stablehlo.pad %{{.*}}, %{{.*}}, low = [0], high = [1]
// CHECK: stablehlo.slice %{{.*}} [1:129]
// CHECK: stablehlo.add %[[IN]]
// CHECK-NOT: stablehlo.slice
// CHECK: return
func.func @reversed(%x: tensor<16384xf32>) -> tensor<16384xf32> {
  %0 = "jx.cumsum"(%x) {axis = 0 : i64, reverse = true} : (tensor<16384xf32>) -> tensor<16384xf32>
  return %0 : tensor<16384xf32>
}

// CHECK-LABEL: func.func @short
// CHECK-NOT: stablehlo.pad
// CHECK: "stablehlo.reduce_window"(%arg0, %{{.*}}) <{padding = dense<{{\[\[}}16383, 0]]>
// CHECK-SAME: window_dimensions = array<i64: 16384>
func.func @short(%x: tensor<16384xi32>) -> tensor<16384xi32> {
  %0 = "jx.cumsum"(%x) {axis = 0 : i64, reverse = false} : (tensor<16384xi32>) -> tensor<16384xi32>
  return %0 : tensor<16384xi32>
}

// RUN: irjax-opt %s -p 'verify,lower-stablehlo{channels-last-convs=true}' | FileCheck %s
// RUN: irjax-opt %s -p 'verify,lower-stablehlo' | FileCheck %s --check-prefix=AS-IS
// channels-last-convs=true (CPU targets): a convolution in any layout but NHWC / HWIO / NHWC
// runs as one in that layout, its operands and result transposed to and from it, with
// optimization barriers between (IREE 3.13 folds the transposes into the convolution's
// dispatch otherwise). A channels-last convolution is left as it is. Without the option the
// convolution keeps its own layout.

func.func @nchw(%x: tensor<1x2x5x5xf32>, %w: tensor<3x2x2x2xf32>) -> tensor<1x3x4x4xf32> {
  %0 = "jx.conv_general_dilated"(%x, %w) {batch_group_count = 1 : i64, dimension_numbers = [array<i64: 0, 1, 2, 3>, array<i64: 0, 1, 2, 3>, array<i64: 0, 1, 2, 3>], feature_group_count = 1 : i64, lhs_dilation = array<i64: 1, 1>, padding = [array<i64: 0, 0>, array<i64: 0, 0>], rhs_dilation = array<i64: 1, 1>, window_strides = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>, tensor<3x2x2x2xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

func.func @nhwc(%x: tensor<1x5x5x2xf32>, %w: tensor<2x2x2x3xf32>) -> tensor<1x4x4x3xf32> {
  %0 = "jx.conv_general_dilated"(%x, %w) {batch_group_count = 1 : i64, dimension_numbers = [array<i64: 0, 3, 1, 2>, array<i64: 3, 2, 0, 1>, array<i64: 0, 3, 1, 2>], feature_group_count = 1 : i64, lhs_dilation = array<i64: 1, 1>, padding = [array<i64: 0, 0>, array<i64: 0, 0>], rhs_dilation = array<i64: 1, 1>, window_strides = array<i64: 1, 1>} : (tensor<1x5x5x2xf32>, tensor<2x2x2x3xf32>) -> tensor<1x4x4x3xf32>
  return %0 : tensor<1x4x4x3xf32>
}

// CHECK-LABEL: func.func @nchw(
// CHECK-NEXT:    %[[X:.*]] = stablehlo.transpose %arg0, dims = [0, 2, 3, 1] : (tensor<1x2x5x5xf32>) -> tensor<1x5x5x2xf32>
// CHECK-NEXT:    %[[W:.*]] = stablehlo.transpose %arg1, dims = [2, 3, 1, 0] : (tensor<3x2x2x2xf32>) -> tensor<2x2x2x3xf32>
// CHECK-NEXT:    %[[B:.*]]:2 = stablehlo.optimization_barrier %[[X]], %[[W]]
// CHECK-NEXT:    %[[C:.*]] = stablehlo.convolution(%[[B]]#0, %[[B]]#1) dim_numbers = [b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]
// CHECK-SAME:      -> tensor<1x4x4x3xf32>
// CHECK-NEXT:    %[[Y:.*]] = stablehlo.optimization_barrier %[[C]] : tensor<1x4x4x3xf32>
// CHECK-NEXT:    %[[R:.*]] = stablehlo.transpose %[[Y]], dims = [0, 3, 1, 2] : (tensor<1x4x4x3xf32>) -> tensor<1x3x4x4xf32>
// CHECK-NEXT:    return %[[R]]

// CHECK-LABEL: func.func @nhwc(
// CHECK-NOT:     stablehlo.transpose
// CHECK-NOT:     stablehlo.optimization_barrier
// CHECK:         stablehlo.convolution(%arg0, %arg1) dim_numbers = [b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]
// CHECK-NOT:     stablehlo.transpose
// CHECK:         return

// AS-IS-LABEL: func.func @nchw(
// AS-IS-NOT:     stablehlo.transpose
// AS-IS:         stablehlo.convolution(%arg0, %arg1) dim_numbers = [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]
// AS-IS-NOT:     stablehlo.transpose
// AS-IS:         return

// RUN: irjax-opt %s -p 'verify,lower-stablehlo{split-f64-batched-dots=true}' | FileCheck %s
// RUN: irjax-opt %s -p 'verify,lower-stablehlo' | FileCheck %s --check-prefix=AS-IS
// split-f64-batched-dots=true (CPU targets): a float64 dot_general with 2-16 batch elements of
// at least 256^3 multiply-adds each is one 2-D dot_general per batch element (IREE 3.13 lowers
// f64 matmuls well only through inner_tiled, which takes no batched matmul). The batch dims may
// sit anywhere in the operands; the pieces are concatenated in batch order (and reshaped to the
// batch dims where there are several). Small matrices, other dtypes and more batches stay one
// batched dot_general, as does every one without the option.

func.func @split(%a: tensor<256x2x256xf64>, %b: tensor<2x256x256xf64>) -> tensor<2x256x256xf64> {
  %0 = "jx.dot_general"(%a, %b) {lhs_contracting = array<i64: 2>, rhs_contracting = array<i64: 1>, lhs_batch = array<i64: 1>, rhs_batch = array<i64: 0>} : (tensor<256x2x256xf64>, tensor<2x256x256xf64>) -> tensor<2x256x256xf64>
  return %0 : tensor<2x256x256xf64>
}

func.func @small(%a: tensor<2x64x64xf64>, %b: tensor<2x64x64xf64>) -> tensor<2x64x64xf64> {
  %0 = "jx.dot_general"(%a, %b) {lhs_contracting = array<i64: 2>, rhs_contracting = array<i64: 1>, lhs_batch = array<i64: 0>, rhs_batch = array<i64: 0>} : (tensor<2x64x64xf64>, tensor<2x64x64xf64>) -> tensor<2x64x64xf64>
  return %0 : tensor<2x64x64xf64>
}

func.func @f32(%a: tensor<2x256x256xf32>, %b: tensor<2x256x256xf32>) -> tensor<2x256x256xf32> {
  %0 = "jx.dot_general"(%a, %b) {lhs_contracting = array<i64: 2>, rhs_contracting = array<i64: 1>, lhs_batch = array<i64: 0>, rhs_batch = array<i64: 0>} : (tensor<2x256x256xf32>, tensor<2x256x256xf32>) -> tensor<2x256x256xf32>
  return %0 : tensor<2x256x256xf32>
}

func.func @many(%a: tensor<17x256x256xf64>, %b: tensor<17x256x256xf64>) -> tensor<17x256x256xf64> {
  %0 = "jx.dot_general"(%a, %b) {lhs_contracting = array<i64: 2>, rhs_contracting = array<i64: 1>, lhs_batch = array<i64: 0>, rhs_batch = array<i64: 0>} : (tensor<17x256x256xf64>, tensor<17x256x256xf64>) -> tensor<17x256x256xf64>
  return %0 : tensor<17x256x256xf64>
}

// CHECK-LABEL: func.func @split(
// CHECK:         %[[A0:.*]] = stablehlo.slice %arg0 [0:256, 0:1, 0:256]
// CHECK-NEXT:    %[[A0R:.*]] = stablehlo.reshape %[[A0]] : (tensor<256x1x256xf64>) -> tensor<256x256xf64>
// CHECK-NEXT:    %[[B0:.*]] = stablehlo.slice %arg1 [0:1, 0:256, 0:256]
// CHECK-NEXT:    %[[B0R:.*]] = stablehlo.reshape %[[B0]] : (tensor<1x256x256xf64>) -> tensor<256x256xf64>
// CHECK-NEXT:    %[[D0:.*]] = stablehlo.dot_general %[[A0R]], %[[B0R]], contracting_dims = [1] x [0] : (tensor<256x256xf64>, tensor<256x256xf64>) -> tensor<256x256xf64>
// CHECK-NEXT:    %[[E0:.*]] = stablehlo.reshape %[[D0]] : (tensor<256x256xf64>) -> tensor<1x256x256xf64>
// CHECK-NEXT:    %[[A1:.*]] = stablehlo.slice %arg0 [0:256, 1:2, 0:256]
// CHECK:         %[[B1:.*]] = stablehlo.slice %arg1 [1:2, 0:256, 0:256]
// CHECK:         %[[D1:.*]] = stablehlo.dot_general {{.*}} contracting_dims = [1] x [0]
// CHECK-NEXT:    %[[E1:.*]] = stablehlo.reshape %[[D1]]
// CHECK-NEXT:    %[[C:.*]] = stablehlo.concatenate %[[E0]], %[[E1]], dim = 0 : (tensor<1x256x256xf64>, tensor<1x256x256xf64>) -> tensor<2x256x256xf64>
// CHECK-NEXT:    return %[[C]]

// CHECK-LABEL: func.func @small(
// CHECK-NOT:     stablehlo.slice
// CHECK:         stablehlo.dot_general %arg0, %arg1, batching_dims = [0] x [0]
// CHECK-LABEL: func.func @f32(
// CHECK-NOT:     stablehlo.slice
// CHECK:         stablehlo.dot_general %arg0, %arg1, batching_dims = [0] x [0]
// CHECK-LABEL: func.func @many(
// CHECK-NOT:     stablehlo.slice
// CHECK:         stablehlo.dot_general %arg0, %arg1, batching_dims = [0] x [0]

// AS-IS-LABEL: func.func @split(
// AS-IS-NOT:     stablehlo.slice
// AS-IS:         stablehlo.dot_general %arg0, %arg1, batching_dims = [1] x [0], contracting_dims = [2] x [1]

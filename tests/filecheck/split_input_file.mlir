// RUN: irjax-opt %s --split-input-file -p cse | FileCheck %s
// RUN: not irjax-opt %s --split-input-file -p verify 2>&1 | FileCheck %s --check-prefix=ERR
// Each chunk between `// -----` lines is its own module; outputs are joined by `// -----`.
// Errors name the line in the whole file, and one bad chunk does not stop the others.

// CHECK-LABEL: func.func @first(%arg0: tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[S:.*]] = "jx.sin"(%arg0)
// CHECK-NEXT:    "jx.add"(%[[S]], %[[S]])
func.func @first(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "jx.add"(%0, %1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %2 : tensor<3xf32>
}

// CHECK:       // -----
// CHECK-NEXT:  module {
// CHECK-NEXT:    func.func @second(%arg0: tensor<2xf32>, %arg1: tensor<3xf32>) -> tensor<2xf32>
// CHECK-NEXT:      "jx.add"(%arg0, %arg1) : (tensor<2xf32>, tensor<3xf32>) -> tensor<2xf32>
// -----

// Same name as in another chunk: fine, the chunks are separate modules.
func.func @second(%x: tensor<2xf32>, %y: tensor<3xf32>) -> tensor<2xf32> {
  %0 = "jx.add"(%x, %y) : (tensor<2xf32>, tensor<3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK:       // -----
// CHECK-NEXT:  module {
// CHECK-NEXT:    func.func @first(%arg0: tensor<f32>) -> tensor<f32>
// CHECK-NEXT:      "jx.exp"(%arg0)
func.func @first(%x: tensor<f32>) -> tensor<f32> {
  %0 = "jx.exp"(%x) : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// ERR: split_input_file.mlir:24:8: error: 'jx.add': jx.add needs operands of one shape, got float32[2], float32[3]
// ERR-NOT: error

// RUN: irjax-opt %s -p verify --split-input-file --verify-diagnostics | FileCheck %s
// The verify pass checks each jx op against its record: shapes, dtypes, attributes, callees.
// Chunks with an expected-error produce no output; the valid chunk is printed unchanged.

func.func @mismatched_add(%a: tensor<3xf32>, %b: tensor<4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{jx.add needs operands of one shape, got float32[3], float32[4]}}
  %0 = "jx.add"(%a, %b) : (tensor<3xf32>, tensor<4xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @wrong_result(%a: tensor<3xf32>) -> tensor<4xf32> {
  %0 = "jx.sin"(%a) : (tensor<3xf32>) -> tensor<4xf32> // expected-error {{result types (float32[4]) differ from the inferred (float32[3])}}
  return %0 : tensor<4xf32>
}

// -----

func.func @bad_axes(%x: tensor<3xf32>) -> tensor<f32> {
  // expected-error @+1 {{bad reduction axes (2,) for float32[3]}}
  %0 = "jx.reduce_sum"(%x) {axes = array<i64: 2>} : (tensor<3xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @bad_dtype(%x: tensor<3xi32>) -> tensor<3xi32> {
  // expected-error @+1 {{jx.sin does not accept dtype int32}}
  %0 = "jx.sin"(%x) : (tensor<3xi32>) -> tensor<3xi32>
  return %0 : tensor<3xi32>
}

// -----

func.func @missing_callee(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{callee @nope not found}}
  %0 = "jx.call"(%x) {callee = @nope} : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Two bad ops in one function: both are reported.
func.func @two_errors(%x: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{cannot broadcast float32[3] to (2, 3) with dims (0,)}}
  %0 = "jx.broadcast_in_dim"(%x) {shape = array<i64: 2, 3>, broadcast_dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<2x3xf32>
  // expected-error @+1 {{unknown jx op 'jx.frobnicate'}}
  %1 = "jx.frobnicate"(%0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// MLIR's own structural errors are diagnosed at parse time, on their line.
func.func @undeclared(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{use of undeclared SSA value name}}
  return %y : tensor<3xf32>
}

// -----

// CHECK-NOT:   func.func @mismatched_add
// CHECK-NOT:   func.func @wrong_result
// CHECK-LABEL: func.func @ok(%arg0: tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[S:.*]] = "jx.sin"(%arg0) : (tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    return %[[S]] : tensor<3xf32>
func.func @ok(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

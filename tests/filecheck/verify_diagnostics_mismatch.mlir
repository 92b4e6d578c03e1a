// RUN: not irjax-opt %s -p verify --verify-diagnostics 2>&1 | FileCheck %s
// --verify-diagnostics fails when an expected error is missing or lands on another line,
// and when an error nobody expected is produced.

func.func @f(%a: tensor<3xf32>, %b: tensor<4xf32>) -> tensor<3xf32> {
  // expected-error @+2 {{needs operands of one shape}}
  %0 = "jx.add"(%a, %b) : (tensor<3xf32>, tensor<4xf32>) -> tensor<3xf32>
  %1 = "jx.sin"(%0) : (tensor<3xf32>) -> tensor<3xf32>
  // expected-error @+1 {{this error is never produced}}
  %2 = "jx.cos"(%1) : (tensor<3xf32>) -> tensor<3xf32>
  return %2 : tensor<3xf32>
}

// CHECK-DAG: verify_diagnostics_mismatch.mlir:7:8: error: unexpected error: 'jx.add': jx.add needs operands of one shape, got float32[3], float32[4]
// CHECK-DAG: verify_diagnostics_mismatch.mlir:8: error: expected error "needs operands of one shape" was not produced
// CHECK-DAG: verify_diagnostics_mismatch.mlir:10: error: expected error "this error is never produced" was not produced
// CHECK-NOT: Traceback

// RUN: not irjax-opt %s --split-input-file 2>&1 | FileCheck %s
// RUN: not irjax-opt %s -p no-such-pass 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not irjax-opt %s -p 'cse{' 2>&1 | FileCheck %s --check-prefix=BRACES
// RUN: not irjax-opt %s -p 'canonicalize{no-such-option=1}' 2>&1 | FileCheck %s --check-prefix=MLIROPT
// RUN: not irjax-opt %t.does-not-exist.mlir 2>&1 | FileCheck %s --check-prefix=NOFILE
// Bad input never gives a Python traceback: each error is one line naming the input
// (and the line, where there is one), and the exit status is 1.

// CHECK: errors.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: expected non-function type
func.func @syntax(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xbogus>
  return %0 : tensor<3xf32>
}

// -----

// CHECK: errors.mlir:[[# @LINE + 2]]:10: error: use of undeclared SSA value name
func.func @undeclared(%x: tensor<3xf32>) -> tensor<3xf32> {
  return %y : tensor<3xf32>
}

// -----

// CHECK: errors.mlir:[[# @LINE + 2]]:3: error: type of return operand 0 ('tensor<3xf32>') doesn't match function result type ('tensor<4xf32>')
func.func @bad_return(%x: tensor<3xf32>) -> tensor<4xf32> {
  return %x : tensor<3xf32>
}

// -----

// The missing `}` is noticed at the end of the file.
// CHECK: errors.mlir:{{[0-9]+}}:{{[0-9]+}}: error: expected operation name in quotes
func.func @unterminated(%x: tensor<3xf32>) -> tensor<3xf32> {

// CHECK-NOT: Traceback
// CHECK-NOT: File "

// UNKNOWN: errors.mlir: error: unknown pass 'no-such-pass' (see irjax-opt --list-passes)
// UNKNOWN-NOT: Traceback
// BRACES: errors.mlir: error: unbalanced braces in 'cse{'
// MLIROPT: errors.mlir: error: bad options for MLIR pass 'canonicalize': {{.*}}no such option no-such-option
// NOFILE: irjax-opt: error: cannot read input file '{{.*}}does-not-exist.mlir': No such file or directory

// RUN: irjax-opt %s -p cse,dce --print-ir-before-all --print-ir-after-all 2>&1 >/dev/null | FileCheck %s --check-prefix=DUMP
// RUN: irjax-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC
// RUN: irjax-opt %s -p cse --emit-bytecode -o %t.mlirbc
// RUN: irjax-opt %t.mlirbc | FileCheck %s --check-prefix=BYTECODE
// RUN: irjax-opt - -p 'builtin.module(dce)' < %s | FileCheck %s --check-prefix=STDIN
// Driver options: IR dumps around each pass (stderr, mlir-opt's headers), generic printing,
// bytecode out and back in, stdin input and a builtin.module(...) pipeline.

func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "jx.add"(%0, %1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %3 = "jx.cos"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %2 : tensor<3xf32>
}

// DUMP:      // -----// IR Dump Before cse //----- //
// DUMP:        "jx.add"(%0, %1)
// DUMP:      // -----// IR Dump After cse //----- //
// DUMP:        "jx.add"(%0, %0)
// DUMP:        "jx.cos"
// DUMP:      // -----// IR Dump Before dce //----- //
// DUMP:        "jx.cos"
// DUMP:      // -----// IR Dump After dce //----- //
// DUMP-NOT:    "jx.cos"

// GENERIC:      "builtin.module"() ({
// GENERIC-NEXT:   "func.func"() <{function_type = (tensor<3xf32>) -> tensor<3xf32>, sym_name = "f"}> ({
// GENERIC-NEXT:   ^bb0(%arg0: tensor<3xf32>):
// GENERIC:          "func.return"(%{{.*}}) : (tensor<3xf32>) -> ()

// BYTECODE-LABEL: func.func @f(%arg0: tensor<3xf32>) -> tensor<3xf32>
// BYTECODE-NEXT:    %[[S:.*]] = "jx.sin"(%arg0)
// BYTECODE-NEXT:    "jx.add"(%[[S]], %[[S]])
// BYTECODE-NEXT:    "jx.cos"(%arg0)

// STDIN-LABEL: func.func @f(%arg0: tensor<3xf32>) -> tensor<3xf32>
// STDIN-NEXT:    "jx.sin"
// STDIN-NEXT:    "jx.sin"
// STDIN-NEXT:    "jx.add"
// STDIN-NEXT:    return

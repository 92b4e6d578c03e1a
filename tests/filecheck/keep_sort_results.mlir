// RUN: irjax-opt %s -p keep-sort-results | FileCheck %s
// vulkan-spirv workaround (passes/target_fixups.py): every multi-operand sort gets a barrier
// over all of its results, used or not; single-operand sorts are left alone.

func.func @argsort(%x: tensor<6xf32>) -> (tensor<6xi32>, tensor<6xf32>) {
  %i = stablehlo.iota dim = 0 : tensor<6xi32>
  %s:2 = "stablehlo.sort"(%x, %i) <{dimension = 0 : i64, is_stable = true}> ({
  ^bb0(%a: tensor<f32>, %b: tensor<f32>, %c: tensor<i32>, %d: tensor<i32>):
    %lt = stablehlo.compare LT, %a, %b, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
    stablehlo.return %lt : tensor<i1>
  }) : (tensor<6xf32>, tensor<6xi32>) -> (tensor<6xf32>, tensor<6xi32>)
  %t:2 = "stablehlo.sort"(%x, %i) <{dimension = 0 : i64, is_stable = true}> ({
  ^bb0(%a: tensor<f32>, %b: tensor<f32>, %c: tensor<i32>, %d: tensor<i32>):
    %lt = stablehlo.compare LT, %a, %b, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
    stablehlo.return %lt : tensor<i1>
  }) : (tensor<6xf32>, tensor<6xi32>) -> (tensor<6xf32>, tensor<6xi32>)
  %u = stablehlo.add %t#0, %t#0 : tensor<6xf32>
  %v = stablehlo.convert %t#1 : (tensor<6xi32>) -> tensor<6xf32>
  %w = stablehlo.add %u, %v : tensor<6xf32>
  %one = "stablehlo.sort"(%x) <{dimension = 0 : i64, is_stable = true}> ({
  ^bb0(%a: tensor<f32>, %b: tensor<f32>):
    %lt = stablehlo.compare LT, %a, %b, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
    stablehlo.return %lt : tensor<i1>
  }) : (tensor<6xf32>) -> tensor<6xf32>
  %y = stablehlo.add %w, %one : tensor<6xf32>
  return %s#1, %y : tensor<6xi32>, tensor<6xf32>
}

// CHECK-LABEL: func.func @argsort
// CHECK:         %[[S:.*]]:2 = "stablehlo.sort"
// CHECK:         %[[K:.*]]:2 = stablehlo.optimization_barrier %[[S]]#0, %[[S]]#1 : tensor<6xf32>, tensor<6xi32>
// CHECK-NEXT:    %[[T:.*]]:2 = "stablehlo.sort"
// CHECK:         }) : (tensor<6xf32>, tensor<6xi32>) -> (tensor<6xf32>, tensor<6xi32>)
// CHECK-NEXT:    %[[L:.*]]:2 = stablehlo.optimization_barrier %[[T]]#0, %[[T]]#1
// CHECK-NEXT:    stablehlo.add %[[L]]#0, %[[L]]#0
// CHECK-NEXT:    stablehlo.convert %[[L]]#1
// CHECK:         %[[ONE:.*]] = "stablehlo.sort"(%arg0)
// CHECK:         }) : (tensor<6xf32>) -> tensor<6xf32>
// CHECK-NOT:     optimization_barrier
// CHECK:         return %[[K]]#1

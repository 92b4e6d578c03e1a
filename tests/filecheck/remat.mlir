// RUN: irjax-opt %s -p 'vjp{func=f}' --verify-each | FileCheck %s
// RUN: irjax-opt %s -p 'vjp{func=f},lower-stablehlo{entry=f_vjp}' | FileCheck %s --check-prefix=LOWER
// jx.remat (checkpoint): under vjp the forward is a remat of @g and the backward a remat of
// @g's vjp, which recomputes @g from the primals; lowering with prevent_cse puts an
// optimization barrier on the operands of each call so the recomputation is not merged away.

func.func @g(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.remat"(%x) {callee = @g, prevent_cse = true} : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.mul"(%0, %0) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %1 : tensor<3xf32>
}

// CHECK-LABEL: func.func @f_vjp(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT:    %[[Y:.*]] = "jx.remat"(%arg0) {callee = @g, prevent_cse = true}
// CHECK-NEXT:    "jx.mul"(%[[Y]], %[[Y]])
// CHECK:         %[[B:.*]]:2 = "jx.remat"(%arg0, %{{.*}}) {callee = @g_vjp, prevent_cse = true} : (tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT:    return %{{.*}}, %[[B]]#1
// CHECK-LABEL: func.func @g_vjp(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>)
// CHECK-NEXT:    "jx.sin"(%arg0)

// LOWER-LABEL: func.func @f_vjp(
// LOWER-NEXT:    %[[X:.*]] = stablehlo.optimization_barrier %arg0 : tensor<3xf32>
// LOWER-NEXT:    %[[Y:.*]] = call @g(%[[X]])
// LOWER:         %[[XS:.*]]:2 = stablehlo.optimization_barrier %arg0, %{{.*}} : tensor<3xf32>, tensor<3xf32>
// LOWER-NEXT:    %{{.*}}:2 = call @g_vjp(%[[XS]]#0, %[[XS]]#1)
// LOWER:       func.func private @g_vjp(

// RUN: irjax-opt %s -p inline | FileCheck %s
// RUN: irjax-opt %s -p 'inline{func=f}' | FileCheck %s --check-prefix=ONLYF
// Every jx.call is replaced by its callee's body, recursively (f -> g -> h).

// CHECK-LABEL: func.func @h(%arg0: tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    "jx.exp"(%arg0)
func.func @h(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.exp"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// CHECK-LABEL: func.func @g(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT:    %[[M:.*]] = "jx.mul"(%arg0, %arg1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[E:.*]] = "jx.exp"(%[[M]]) : (tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    return %[[E]], %arg0 : tensor<3xf32>, tensor<3xf32>
// ONLYF-LABEL: func.func @g(
// ONLYF:         "jx.call"(%{{.*}}) {callee = @h}
func.func @g(%x: tensor<3xf32>, %y: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %0 = "jx.mul"(%x, %y) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.call"(%0) {callee = @h} : (tensor<3xf32>) -> tensor<3xf32>
  return %1, %x : tensor<3xf32>, tensor<3xf32>
}

// CHECK-LABEL: func.func @f(%arg0: tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[M:.*]] = "jx.mul"(%arg0, %arg0) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[E:.*]] = "jx.exp"(%[[M]]) : (tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[A:.*]] = "jx.add"(%[[E]], %arg0) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    return %[[A]] : tensor<3xf32>
// CHECK-NOT:     jx.call
// ONLYF-LABEL: func.func @f(
// ONLYF-NOT:     jx.call
// ONLYF:         "jx.exp"
// ONLYF-NOT:     jx.call
func.func @f(%a: tensor<3xf32>) -> tensor<3xf32> {
  %0:2 = "jx.call"(%a, %a) {callee = @g} : (tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  %1 = "jx.add"(%0#0, %0#1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %1 : tensor<3xf32>
}

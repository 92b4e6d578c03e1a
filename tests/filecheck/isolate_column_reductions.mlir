// RUN: irjax-opt %s -p isolate-column-reductions | FileCheck %s
// vulkan-spirv workaround (passes/target_fixups.py): an optimization barrier goes between a
// column reduction (a reduce that keeps the innermost axis, or a dot_general like ones . x),
// or anything computed from one, and the broadcast_in_dim that spreads it out again. Row
// reductions, mat . v, and reductions that only reach a concatenate are left alone.

func.func @main(%x: tensor<100x10xf32>, %v: tensor<100xf32>, %w: tensor<10x1xf32>) -> (tensor<100x10xf32>, tensor<100x10xf32>, tensor<2x10xf32>, tensor<100x10xf32>) {
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %n = stablehlo.constant dense<100.0> : tensor<10xf32>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (tensor<100x10xf32>, tensor<f32>) -> tensor<10xf32>
  %m = stablehlo.divide %s, %n : tensor<10xf32>
  %b = stablehlo.broadcast_in_dim %m, dims = [1] : (tensor<10xf32>) -> tensor<100x10xf32>
  %r = stablehlo.subtract %x, %b : tensor<100x10xf32>
  %row = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [1] : (tensor<100x10xf32>, tensor<f32>) -> tensor<100xf32>
  %rb = stablehlo.broadcast_in_dim %row, dims = [0] : (tensor<100xf32>) -> tensor<100x10xf32>
  %d = stablehlo.dot_general %v, %x, contracting_dims = [0] x [0] : (tensor<100xf32>, tensor<100x10xf32>) -> tensor<10xf32>
  %d2 = stablehlo.reshape %d : (tensor<10xf32>) -> tensor<1x10xf32>
  %s2 = stablehlo.reshape %s : (tensor<10xf32>) -> tensor<1x10xf32>
  %c = stablehlo.concatenate %d2, %s2, dim = 0 : (tensor<1x10xf32>, tensor<1x10xf32>) -> tensor<2x10xf32>
  %mv = stablehlo.dot_general %x, %w, contracting_dims = [1] x [0] : (tensor<100x10xf32>, tensor<10x1xf32>) -> tensor<100x1xf32>
  %mvb = stablehlo.broadcast_in_dim %mv, dims = [0, 1] : (tensor<100x1xf32>) -> tensor<100x10xf32>
  return %r, %rb, %c, %mvb : tensor<100x10xf32>, tensor<100x10xf32>, tensor<2x10xf32>, tensor<100x10xf32>
}

// CHECK-LABEL: func.func @main
// CHECK:         %[[S:.*]] = stablehlo.reduce(%arg0 init: %{{.*}}) applies stablehlo.add across dimensions = [0]
// CHECK-NEXT:    %[[M:.*]] = stablehlo.divide %[[S]], %{{.*}} : tensor<10xf32>
// CHECK-NEXT:    %[[MB:.*]] = stablehlo.optimization_barrier %[[M]] : tensor<10xf32>
// CHECK-NEXT:    %[[B:.*]] = stablehlo.broadcast_in_dim %[[MB]], dims = [1]
// CHECK-NEXT:    stablehlo.subtract %arg0, %[[B]]
// CHECK-NEXT:    %[[ROW:.*]] = stablehlo.reduce(%arg0 init: %{{.*}}) applies stablehlo.add across dimensions = [1]
// CHECK-NEXT:    stablehlo.broadcast_in_dim %[[ROW]], dims = [0]
// CHECK-NEXT:    %[[D:.*]] = stablehlo.dot_general %arg1, %arg0
// CHECK-NEXT:    stablehlo.reshape %[[D]]
// CHECK-NEXT:    stablehlo.reshape %[[S]]
// CHECK-NEXT:    stablehlo.concatenate
// CHECK-NEXT:    %[[MV:.*]] = stablehlo.dot_general %arg0, %arg2
// CHECK-NEXT:    stablehlo.broadcast_in_dim %[[MV]], dims = [0, 1]
// CHECK-NOT:     optimization_barrier

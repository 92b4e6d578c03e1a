// RUN: irjax-opt %s -p verify,lower-stablehlo | FileCheck %s
// One op of each family: elementwise, comparison/select, reduce, dot_general,
// broadcast, convert, constant, and jx.call -> func.call (whose callee turns private).

// CHECK-LABEL: func.func private @g(%arg0: tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[E:.*]] = stablehlo.exponential %arg0 : tensor<3xf32>
// CHECK-NEXT:    return %[[E]] : tensor<3xf32>
func.func @g(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.exp"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// CHECK-LABEL: func.func @f(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>, %arg2: tensor<2x3xf32>, %arg3: tensor<3x4xf32>)
// CHECK-SAME:    -> (tensor<f32>, tensor<2x4xf32>, tensor<2x3xf32>, tensor<3xi1>, tensor<3xf32>, tensor<3xi32>, tensor<2xf32>)
// CHECK-NOT:     jx.
// CHECK:         %[[SIN:.*]] = stablehlo.tanh %arg0 : tensor<3xf32>
// CHECK-NEXT:    %[[ADD:.*]] = stablehlo.add %[[SIN]], %arg1 : tensor<3xf32>
// CHECK-NEXT:    %[[MUL:.*]] = stablehlo.multiply %[[ADD]], %arg0 : tensor<3xf32>
// CHECK-NEXT:    %[[ZERO:.*]] = stablehlo.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[SUM:.*]] = stablehlo.reduce(%[[MUL]] init: %[[ZERO]]) applies stablehlo.add across dimensions = [0] : (tensor<3xf32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:    %[[DOT:.*]] = stablehlo.dot_general %arg2, %arg3, contracting_dims = [1] x [0] : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT:    %[[BC:.*]] = stablehlo.broadcast_in_dim %arg0, dims = [1] : (tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %[[LT:.*]] = stablehlo.compare LT, %arg0, %arg1, FLOAT : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
// CHECK-NEXT:    %[[CALL:.*]] = call @g(%arg0) : (tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[SEL:.*]] = stablehlo.select %[[LT]], %[[CALL]], %arg1 : tensor<3xi1>, tensor<3xf32>
// float -> int saturates as XLA's convert: >= 2^31 -> INT_MAX, < -2^31 -> INT_MIN, NaN -> 0
// CHECK-NEXT:    %[[RAW:.*]] = stablehlo.convert %[[SEL]] : (tensor<3xf32>) -> tensor<3xi32>
// CHECK:         %[[HI:.*]] = stablehlo.compare GE, %[[SEL]]
// CHECK:         %[[S1:.*]] = stablehlo.select %[[HI]], %{{.*}}, %[[RAW]]
// CHECK:         %[[LO:.*]] = stablehlo.compare LT, %[[SEL]]
// CHECK:         %[[S2:.*]] = stablehlo.select %[[LO]], %{{.*}}, %[[S1]]
// CHECK-NEXT:    %[[NAN:.*]] = stablehlo.compare NE, %[[SEL]], %[[SEL]]
// CHECK-NEXT:    %{{.*}} = stablehlo.constant dense<0> : tensor<3xi32>
// CHECK-NEXT:    %[[CVT:.*]] = stablehlo.select %[[NAN]], %{{.*}}, %[[S2]]
// CHECK-NEXT:    %[[NEGINF:.*]] = stablehlo.constant dense<0xFF800000> : tensor<f32>
// CHECK-NEXT:    %[[MAX:.*]] = stablehlo.reduce(%arg2 init: %[[NEGINF]]) applies stablehlo.maximum across dimensions = [1] : (tensor<2x3xf32>, tensor<f32>) -> tensor<2xf32>
// CHECK-NEXT:    %[[TWO:.*]] = stablehlo.constant dense<2.000000e+00> : tensor<3xf32>
// CHECK-NEXT:    %[[DIV:.*]] = stablehlo.divide %[[SEL]], %[[TWO]] : tensor<3xf32>
// CHECK-NEXT:    return %[[SUM]], %[[DOT]], %[[BC]], %[[LT]], %[[DIV]], %[[CVT]], %[[MAX]]
func.func @f(%x: tensor<3xf32>, %y: tensor<3xf32>, %a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> (tensor<f32>, tensor<2x4xf32>, tensor<2x3xf32>, tensor<3xi1>, tensor<3xf32>, tensor<3xi32>, tensor<2xf32>) {
  %0 = "jx.tanh"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.add"(%0, %y) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %2 = "jx.mul"(%1, %x) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %3 = "jx.reduce_sum"(%2) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  %4 = "jx.dot_general"(%a, %b) {lhs_contracting = array<i64: 1>, rhs_contracting = array<i64: 0>, lhs_batch = array<i64>, rhs_batch = array<i64>} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %5 = "jx.broadcast_in_dim"(%x) {shape = array<i64: 2, 3>, broadcast_dimensions = array<i64: 1>} : (tensor<3xf32>) -> tensor<2x3xf32>
  %6 = "jx.lt"(%x, %y) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  %7 = "jx.call"(%x) {callee = @g} : (tensor<3xf32>) -> tensor<3xf32>
  %8 = "jx.select"(%6, %7, %y) : (tensor<3xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %9 = "jx.convert_element_type"(%8) {new_dtype = i32} : (tensor<3xf32>) -> tensor<3xi32>
  %10 = "jx.reduce_max"(%a) {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  %c = "jx.constant"() {value = dense<2.0> : tensor<3xf32>} : () -> tensor<3xf32>
  %11 = "jx.div"(%8, %c) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %3, %4, %5, %6, %11, %9, %10 : tensor<f32>, tensor<2x4xf32>, tensor<2x3xf32>, tensor<3xi1>, tensor<3xf32>, tensor<3xi32>, tensor<2xf32>
}

// A batched matmul keeps its batch dimensions.
// CHECK-LABEL: func.func @bmm(%arg0: tensor<5x2x3xf32>, %arg1: tensor<5x3x4xf32>) -> tensor<5x2x4xf32>
// CHECK-NEXT:    stablehlo.dot_general %arg0, %arg1, batching_dims = [0] x [0], contracting_dims = [2] x [1] : (tensor<5x2x3xf32>, tensor<5x3x4xf32>) -> tensor<5x2x4xf32>
func.func @bmm(%a: tensor<5x2x3xf32>, %b: tensor<5x3x4xf32>) -> tensor<5x2x4xf32> {
  %0 = "jx.dot_general"(%a, %b) {lhs_contracting = array<i64: 2>, rhs_contracting = array<i64: 1>, lhs_batch = array<i64: 0>, rhs_batch = array<i64: 0>} : (tensor<5x2x3xf32>, tensor<5x3x4xf32>) -> tensor<5x2x4xf32>
  return %0 : tensor<5x2x4xf32>
}

// A transpose that swaps a dot_general's free dims (reverse mode's weight cotangent) becomes
// the dot_general of the swapped operands: no transpose left for IREE to fuse.
// CHECK-LABEL: func.func @dot_t(%arg0: tensor<6x2xf32>, %arg1: tensor<6x4xf32>) -> tensor<4x2xf32>
// CHECK-NEXT:    %[[D:.*]] = stablehlo.dot_general %arg1, %arg0, contracting_dims = [0] x [0] : (tensor<6x4xf32>, tensor<6x2xf32>) -> tensor<4x2xf32>
// CHECK-NEXT:    return %[[D]] : tensor<4x2xf32>
func.func @dot_t(%g: tensor<6x2xf32>, %x: tensor<6x4xf32>) -> tensor<4x2xf32> {
  %0 = "jx.dot_general"(%g, %x) {lhs_contracting = array<i64: 0>, rhs_contracting = array<i64: 0>, lhs_batch = array<i64>, rhs_batch = array<i64>} : (tensor<6x2xf32>, tensor<6x4xf32>) -> tensor<2x4xf32>
  %1 = "jx.transpose"(%0) {permutation = array<i64: 1, 0>} : (tensor<2x4xf32>) -> tensor<4x2xf32>
  return %1 : tensor<4x2xf32>
}

// Batch dims stay in front.
// CHECK-LABEL: func.func @bdot_t(
// CHECK-NEXT:    %[[D:.*]] = stablehlo.dot_general %arg1, %arg0, batching_dims = [0] x [0], contracting_dims = [1] x [2] : (tensor<5x3x4xf32>, tensor<5x2x3xf32>) -> tensor<5x4x2xf32>
// CHECK-NEXT:    return %[[D]]
func.func @bdot_t(%a: tensor<5x2x3xf32>, %b: tensor<5x3x4xf32>) -> tensor<5x4x2xf32> {
  %0 = "jx.dot_general"(%a, %b) {lhs_contracting = array<i64: 2>, rhs_contracting = array<i64: 1>, lhs_batch = array<i64: 0>, rhs_batch = array<i64: 0>} : (tensor<5x2x3xf32>, tensor<5x3x4xf32>) -> tensor<5x2x4xf32>
  %1 = "jx.transpose"(%0) {permutation = array<i64: 0, 2, 1>} : (tensor<5x2x4xf32>) -> tensor<5x4x2xf32>
  return %1 : tensor<5x4x2xf32>
}

// Kept as they are: a dot_general used besides its transpose (folding would compute it twice),
// and a transpose that moves a batch dim.
// CHECK-LABEL: func.func @dot_t_kept(
// CHECK:         %[[D:.*]] = stablehlo.dot_general %arg0, %arg1, contracting_dims = [0] x [0]
// CHECK-NEXT:    %[[T:.*]] = stablehlo.transpose %[[D]], dims = [1, 0]
// CHECK:         %[[B:.*]] = stablehlo.dot_general %arg2, %arg3, batching_dims = [0] x [0]
// CHECK-NEXT:    %[[BT:.*]] = stablehlo.transpose %[[B]], dims = [1, 0, 2]
// CHECK-NEXT:    return %[[D]], %[[T]], %[[BT]]
func.func @dot_t_kept(%g: tensor<6x2xf32>, %x: tensor<6x4xf32>, %a: tensor<5x2x3xf32>, %b: tensor<5x3x4xf32>) -> (tensor<2x4xf32>, tensor<4x2xf32>, tensor<2x5x4xf32>) {
  %0 = "jx.dot_general"(%g, %x) {lhs_contracting = array<i64: 0>, rhs_contracting = array<i64: 0>, lhs_batch = array<i64>, rhs_batch = array<i64>} : (tensor<6x2xf32>, tensor<6x4xf32>) -> tensor<2x4xf32>
  %1 = "jx.transpose"(%0) {permutation = array<i64: 1, 0>} : (tensor<2x4xf32>) -> tensor<4x2xf32>
  %2 = "jx.dot_general"(%a, %b) {lhs_contracting = array<i64: 2>, rhs_contracting = array<i64: 1>, lhs_batch = array<i64: 0>, rhs_batch = array<i64: 0>} : (tensor<5x2x3xf32>, tensor<5x3x4xf32>) -> tensor<5x2x4xf32>
  %3 = "jx.transpose"(%2) {permutation = array<i64: 1, 0, 2>} : (tensor<5x2x4xf32>) -> tensor<2x5x4xf32>
  return %0, %1, %3 : tensor<2x4xf32>, tensor<4x2xf32>, tensor<2x5x4xf32>
}

// A sum over leading axes of >= 1024 rows is ones . x (IREE vectorizes that matvec better than
// its column reduce); over fewer rows (a batch's bias cotangent) it stays a reduce, of x + 0.0
// from 128 rows on (two_level_sums.mlir).
// CHECK-LABEL: func.func @colsums(
// CHECK:         %[[ONES:.*]] = stablehlo.constant dense<1.000000e+00> : tensor<2048xf32>
// CHECK-NEXT:    stablehlo.dot_general %[[ONES]], %arg0, contracting_dims = [0] x [0] : (tensor<2048xf32>, tensor<2048x3xf32>) -> tensor<3xf32>
// CHECK:         %[[BZ:.*]] = stablehlo.add %arg1, %{{.*}} : tensor<128x3xf32>
// CHECK:         stablehlo.reduce(%[[BZ]] init: %{{.*}}) applies stablehlo.add across dimensions = [0] : (tensor<128x3xf32>, tensor<f32>) -> tensor<3xf32>
func.func @colsums(%a: tensor<2048x3xf32>, %b: tensor<128x3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %0 = "jx.reduce_sum"(%a) {axes = array<i64: 0>} : (tensor<2048x3xf32>) -> tensor<3xf32>
  %1 = "jx.reduce_sum"(%b) {axes = array<i64: 0>} : (tensor<128x3xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<3xf32>, tensor<3xf32>
}

// Scalar float arithmetic on constants folds, also through the argument of reverse mode's
// function called once with a constant (its seed); a value that is not a scalar constant stays.
// CHECK-LABEL: func.func private @seeded(
// CHECK-NOT:     stablehlo.multiply
// CHECK-NOT:     stablehlo.divide
// CHECK:         %[[K:.*]] = stablehlo.constant dense<-7.812500e-03> : tensor<f32>
// CHECK-NOT:     stablehlo.multiply
// CHECK:         %[[B:.*]] = stablehlo.broadcast_in_dim %[[K]], dims = [] : (tensor<f32>) -> tensor<4xf32>
// CHECK-NEXT:    %[[M:.*]] = stablehlo.multiply %[[B]], %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[SQ:.*]] = stablehlo.constant dense<2.500000e-01> : tensor<f32>
// CHECK-NEXT:    return %[[M]], %[[SQ]]
func.func @seeded(%x: tensor<4xf32>, %ct: tensor<f32>) -> (tensor<4xf32>, tensor<f32>) attributes {jx.reverse_mode} {
  %m1 = "jx.constant"() {value = dense<-1.0> : tensor<f32>} : () -> tensor<f32>
  %0 = "jx.mul"(%ct, %m1) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %one = "jx.constant"() {value = dense<1.0> : tensor<f32>} : () -> tensor<f32>
  %n = "jx.constant"() {value = dense<128.0> : tensor<f32>} : () -> tensor<f32>
  %1 = "jx.div"(%one, %n) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %2 = "jx.mul"(%0, %1) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %3 = "jx.broadcast_in_dim"(%2) {shape = array<i64: 4>, broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<4xf32>
  %4 = "jx.mul"(%3, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %h = "jx.constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %5 = "jx.mul"(%h, %h) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %4, %5 : tensor<4xf32>, tensor<f32>
}

// CHECK-LABEL: func.func @seeds(
// CHECK:         call @seeded(%arg0, %{{.*}})
// CHECK:         call @scaled(%arg1, %{{.*}})
// CHECK:         %[[D:.*]] = stablehlo.divide %arg1, %{{.*}} : tensor<f32>
// CHECK:         %[[I:.*]] = stablehlo.add %{{.*}}, %{{.*}} : tensor<i32>
func.func @seeds(%x: tensor<4xf32>, %y: tensor<f32>) -> (tensor<4xf32>, tensor<f32>, tensor<f32>, tensor<i32>) {
  %one = "jx.constant"() {value = dense<1.0> : tensor<f32>} : () -> tensor<f32>
  %0:2 = "jx.call"(%x, %one) {callee = @seeded} : (tensor<4xf32>, tensor<f32>) -> (tensor<4xf32>, tensor<f32>)
  %s = "jx.call"(%y, %one) {callee = @scaled} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %two = "jx.constant"() {value = dense<2.0> : tensor<f32>} : () -> tensor<f32>
  %1 = "jx.div"(%y, %two) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %i = "jx.constant"() {value = dense<3> : tensor<i32>} : () -> tensor<i32>
  %2 = "jx.add"(%i, %i) : (tensor<i32>, tensor<i32>) -> tensor<i32>
  return %0#0, %0#1, %1, %2 : tensor<4xf32>, tensor<f32>, tensor<f32>, tensor<i32>
}

// A public function that is not reverse mode's own keeps its argument (others may call it).
// CHECK-LABEL: func.func private @scaled(%arg0: tensor<f32>, %arg1: tensor<f32>) -> tensor<f32>
// CHECK-NEXT:    %[[P:.*]] = stablehlo.multiply %arg0, %arg1 : tensor<f32>
// CHECK-NEXT:    return %[[P]]
func.func @scaled(%a: tensor<f32>, %k: tensor<f32>) -> tensor<f32> {
  %0 = "jx.mul"(%a, %k) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// RUN: irjax-opt %s -p 'jvp{func=s}' --verify-each | FileCheck %s --check-prefix=JVP
// RUN: irjax-opt %s -p 'grad{func=s}' --verify-each | FileCheck %s --check-prefix=GRAD
// Activity through a scan: the int counter %i and the carry %z (from a constant, fed by the
// constant xs through digamma) depend on no argument, so they
// get no tangent (jvp: 3 carries + 1 tangent, for %h) and no cotangent (grad: the reverse scan
// carries the cotangent accumulator of %w and the cotangent of %h only, and no xs cotangents).

func.func @step(%w: tensor<f32>, %i: tensor<i32>, %h: tensor<f32>, %z: tensor<f32>, %x: tensor<f32>) -> (tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  %one = "jx.constant"() {value = dense<1> : tensor<i32>} : () -> tensor<i32>
  %i1 = "jx.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
  %0 = "jx.mul"(%h, %w) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %h1 = "jx.sin"(%0) : (tensor<f32>) -> tensor<f32>
  %1 = "jx.digamma"(%x) : (tensor<f32>) -> tensor<f32>
  %z1 = "jx.add"(%z, %1) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = "jx.mul"(%h1, %z1) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %i1, %h1, %z1, %y : tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>
}
func.func @s(%w: tensor<f32>, %h0: tensor<f32>) -> (tensor<f32>, tensor<5xf32>) {
  %i0 = "jx.constant"() {value = dense<0> : tensor<i32>} : () -> tensor<i32>
  %z0 = "jx.constant"() {value = dense<0.0> : tensor<f32>} : () -> tensor<f32>
  %xs = "jx.constant"() {value = dense<[1.0, 2.0, 3.0, 4.0, 5.0]> : tensor<5xf32>} : () -> tensor<5xf32>
  %r:4 = "jx.scan"(%w, %i0, %h0, %z0, %xs) {body = @step, length = 5, reverse = false, num_consts = 1, num_carry = 3} : (tensor<f32>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<5xf32>) -> (tensor<i32>, tensor<f32>, tensor<f32>, tensor<5xf32>)
  return %r#1, %r#3 : tensor<f32>, tensor<5xf32>
}

// JVP-LABEL: func.func @s_jvp(
// operands: (w, its tangent), (i, h, z, the tangent of h), xs without a tangent
// JVP:         "jx.scan"(%arg0, %arg2, %{{.*}}, %arg1, %{{.*}}, %arg3, %{{.*}}) {body = @[[BODY:step_jvpw[_0-9]*]], length = 5 : i64, num_carry = 4 : i64, num_consts = 2 : i64, reverse = false}
// JVP-SAME:      -> (tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<5xf32>, tensor<5xf32>)
// JVP:       func.func @[[BODY]](
// JVP-NEXT:    "jx.call"({{.*}}) {callee = @[[J:step_jvp[_0-9]*]]}
// JVP:       func.func @[[J]](%arg0: tensor<f32>, %arg1: tensor<i32>, %arg2: tensor<f32>, %arg3: tensor<f32>, %arg4: tensor<f32>, %arg5: tensor<f32>, %arg6: tensor<f32>)
// JVP-NOT:     func.func
// JVP:         "jx.digamma"
// JVP-NOT:     "jx.polygamma"

// GRAD-LABEL: func.func @s_vjp_10(
// GRAD:         "jx.scan"({{.*}}) {body = @step_fwdres
// the reverse scan: carries (w's cotangent accumulator, h's cotangent), results those two only
// GRAD:         "jx.scan"({{.*}}) {body = @{{.*}}bwdscan, length = 5 : i64, num_carry = 2 : i64, num_consts = 1 : i64, reverse = true}
// GRAD-SAME:      -> (tensor<f32>, tensor<f32>)
// GRAD-NOT:     "jx.scan"

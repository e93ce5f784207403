// Folds and canonicalization patterns of mm ops.
// RUN: mm-opt %s -split-input-file -canonicalize | FileCheck %s

// CHECK-LABEL: func @add_zero
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK-NEXT: return %[[X]], %[[X]]
func.func @add_zero(%x: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %z = arith.constant dense<0.0> : tensor<8xf32>
  %nz = arith.constant dense<-0.0> : tensor<f32>
  %0 = mm.add %x, %z : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %1 = mm.add %nz, %x : (tensor<f32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0, %1 : tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// Adding zero that broadcasts the operand to a larger shape is not an identity.
// CHECK-LABEL: func @add_zero_broadcasting
// CHECK: mm.add
func.func @add_zero_broadcasting(%x: tensor<8xf32>) -> tensor<4x8xf32> {
  %z = arith.constant dense<0.0> : tensor<4x8xf32>
  %0 = mm.add %x, %z : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func @mul_one_div_one_sub_zero
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %[[I:.*]]: tensor<4xi64>)
// CHECK-NEXT: return %[[X]], %[[X]], %[[X]], %[[I]]
func.func @mul_one_div_one_sub_zero(%x: tensor<?x8xf32>, %i: tensor<4xi64>)
    -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<4xi64>) {
  %one = arith.constant dense<1.0> : tensor<f32>
  %zero = arith.constant dense<0.0> : tensor<f32>
  %ione = arith.constant dense<1> : tensor<4xi64>
  %0 = mm.mul %one, %x : (tensor<f32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %1 = mm.div %x, %one : (tensor<?x8xf32>, tensor<f32>) -> tensor<?x8xf32>
  %2 = mm.sub %x, %zero : (tensor<?x8xf32>, tensor<f32>) -> tensor<?x8xf32>
  %3 = mm.mul %i, %ione : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  return %0, %1, %2, %3 : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<4xi64>
}

// -----

// Zero minus x and x times two are not identities.
// CHECK-LABEL: func @not_identities
// CHECK: mm.sub
// CHECK: mm.mul
func.func @not_identities(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %zero = arith.constant dense<0.0> : tensor<f32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %0 = mm.sub %zero, %x : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %1 = mm.mul %x, %two : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  return %0, %1 : tensor<8xf32>, tensor<8xf32>
}

// -----

// CHECK-LABEL: func @neg_neg
// CHECK-SAME: (%[[X:.*]]: tensor<8xf32>)
// CHECK-NEXT: return %[[X]]
func.func @neg_neg(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = mm.neg %x : tensor<8xf32>
  %1 = mm.neg %0 : tensor<8xf32>
  return %1 : tensor<8xf32>
}

// -----

// CHECK-LABEL: func @cast_same_type
// CHECK-SAME: (%[[X:.*]]: tensor<8xf32>)
// CHECK-NEXT: return %[[X]]
func.func @cast_same_type(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = mm.cast %x : tensor<8xf32> to tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// CHECK-LABEL: func @reshape_identity
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x512xf32>)
// CHECK-NEXT: return %[[X]]
func.func @reshape_identity(%x: tensor<?x?x512xf32>) -> tensor<?x?x512xf32> {
  %0 = mm.reshape %x [0, -1, 512] : (tensor<?x?x512xf32>) -> tensor<?x?x512xf32>
  return %0 : tensor<?x?x512xf32>
}

// -----

// CHECK-LABEL: func @reshape_of_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x512xf32>)
// CHECK-NEXT: %[[R:.*]] = mm.reshape %[[X]] [0, 0, 8, 64] : (tensor<?x?x512xf32>) -> tensor<?x?x8x64xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_of_reshape(%x: tensor<?x?x512xf32>) -> tensor<?x?x8x64xf32> {
  %0 = mm.reshape %x [0, 0, 4, 128] : (tensor<?x?x512xf32>) -> tensor<?x?x4x128xf32>
  %1 = mm.reshape %0 [0, 0, 8, 64] : (tensor<?x?x4x128xf32>) -> tensor<?x?x8x64xf32>
  return %1 : tensor<?x?x8x64xf32>
}

// -----

// Split then merge heads is the identity.
// CHECK-LABEL: func @reshape_round_trip
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x512xf32>)
// CHECK-NEXT: return %[[X]]
func.func @reshape_round_trip(%x: tensor<?x?x512xf32>) -> tensor<?x?x512xf32> {
  %0 = mm.reshape %x [0, 0, 4, 128] : (tensor<?x?x512xf32>) -> tensor<?x?x4x128xf32>
  %1 = mm.reshape %0 [0, 0, 512] : (tensor<?x?x4x128xf32>) -> tensor<?x?x512xf32>
  return %1 : tensor<?x?x512xf32>
}

// -----

// CHECK-LABEL: func @transpose_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[X]]
func.func @transpose_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = mm.transpose %x [0, 1] : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @transpose_of_transpose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[T:.*]] = mm.transpose %[[X]] [2, 0, 1] : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_of_transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = mm.transpose %x [1, 2, 0] : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = mm.transpose %0 [1, 2, 0] : (tensor<3x4x2xf32>) -> tensor<4x2x3xf32>
  return %1 : tensor<4x2x3xf32>
}

// -----

// CHECK-LABEL: func @transpose_inverse
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x4x8xf32>)
// CHECK-NEXT: return %[[X]]
func.func @transpose_inverse(%x: tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32> {
  %0 = mm.transpose %x [0, 2, 1, 3] : (tensor<?x?x4x8xf32>) -> tensor<?x4x?x8xf32>
  %1 = mm.transpose %0 [0, 2, 1, 3] : (tensor<?x4x?x8xf32>) -> tensor<?x?x4x8xf32>
  return %1 : tensor<?x?x4x8xf32>
}

// -----

// CHECK-LABEL: func @identity_slice_and_concat
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK-NEXT: return %[[X]], %[[X]]
func.func @identity_slice_and_concat(%x: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %0 = mm.slice %x dim 0 [0 :] : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %1 = mm.concat %x dim 1 : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0, %1 : tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// CHECK-LABEL: func @partial_slice
// CHECK: mm.slice
func.func @partial_slice(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = mm.slice %x dim 0 [1 :] : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// CHECK-LABEL: func @constant_choice
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK-NEXT: %[[T:.*]] = mm.tanh %[[X]]
// CHECK-NEXT: return %[[T]]
func.func @constant_choice(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %sel = arith.constant dense<1> : tensor<i64>
  %y = mm.choice "act" %sel : tensor<i64> -> (tensor<?x8xf32>) {
    %a = mm.relu %x : tensor<?x8xf32>
    mm.yield %a : tensor<?x8xf32>
  }, {
    %b = mm.tanh %x : tensor<?x8xf32>
    mm.yield %b : tensor<?x8xf32>
  }
  return %y : tensor<?x8xf32>
}

// -----

// CHECK-LABEL: func @dynamic_choice
// CHECK: mm.choice
func.func @dynamic_choice(%x: tensor<?x8xf32>, %sel: tensor<i64>) -> tensor<?x8xf32> {
  %y = mm.choice "act" %sel : tensor<i64> -> (tensor<?x8xf32>) {
    %a = mm.relu %x : tensor<?x8xf32>
    mm.yield %a : tensor<?x8xf32>
  }, {
    mm.yield %x : tensor<?x8xf32>
  }
  return %y : tensor<?x8xf32>
}

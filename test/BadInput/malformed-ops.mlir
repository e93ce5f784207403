// Generic-form ops built to get past the custom parser still fail with a
// located diagnostic.
// RUN: mm-opt %s -split-input-file -verify-diagnostics

func.func @unknown(%x: tensor<4xf32>) {
  // expected-error @+1 {{custom op 'mm.frobnicate' is unknown}}
  %0 = mm.frobnicate %x : tensor<4xf32>
  return
}

// -----

func.func @operand_count(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'mm.reshape' op requires a single operand}}
  %0 = "mm.reshape"(%x, %x) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<32xf32>
  return
}

// -----

func.func @missing_attribute(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'mm.reshape' op requires attribute 'shape'}}
  %0 = "mm.reshape"(%x) : (tensor<4x8xf32>) -> tensor<32xf32>
  return
}

// -----

func.func @wrong_attribute_type(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{invalid properties}}
  %0 = "mm.reshape"(%x) <{shape = "32"}> : (tensor<4x8xf32>) -> tensor<32xf32>
  return
}

// -----

func.func @segments(%q: tensor<1x1x4x8xf32>) {
  // expected-error @+1 {{operand count (3) does not match with the total size (18) specified in attribute 'operandSegmentSizes'}}
  %0 = "mm.attention"(%q, %q, %q) <{operandSegmentSizes = array<i32: 1, 1, 1, 5, 5, 5, 0, 0>}> : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  return
}

// -----

func.func @result_count(%q: tensor<1x4x4x8xf32>) {
  // expected-error @+1 {{'mm.lightning_attention' op expected 2 results}}
  %0 = "mm.lightning_attention"(%q, %q, %q) <{layer_index = 0 : i64, num_layers = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0>}> : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  return
}

// -----

func.func @unranked(%x: tensor<*xf32>) {
  // expected-error @+1 {{invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xf32>'}}
  %0 = mm.silu %x : tensor<*xf32>
  return
}

// -----

func.func @huge_static_dims(%x: tensor<4611686018427387904x4611686018427387904xf32>) {
  // expected-error @+1 {{'mm.reshape' op element count overflows}}
  %0 = mm.reshape %x [3, -1] : (tensor<4611686018427387904x4611686018427387904xf32>) -> tensor<3x?xf32>
  return
}

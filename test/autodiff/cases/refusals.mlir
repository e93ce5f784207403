// Functions whose gradient -mm-autodiff must refuse, at the op.

func.func @argmax(%x: tensor<3x5xf32>, %t: tensor<5x4xf32>) -> tensor<f32> {
  %i = mm.argmax %x {dim = -1 : i64} : (tensor<3x5xf32>) -> tensor<3xi64>
  %e = mm.embedding %t, %i : (tensor<5x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  %l = mm.reduce sum %e dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @float_to_int(%x: tensor<3xf32>, %t: tensor<5x4xf32>) -> tensor<f32> {
  %i = mm.cast %x : tensor<3xf32> to tensor<3xi64>
  %e = mm.embedding %t, %i : (tensor<5x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  %l = mm.reduce sum %e dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @cached_attention(%q: tensor<1x1x2x4xf32>, %k: tensor<1x1x2x4xf32>, %v: tensor<1x1x2x4xf32>, %kc: tensor<1x8x2x4xf32>, %vc: tensor<1x8x2x4xf32>, %p: tensor<1xi64>) -> tensor<f32> {
  %o, %kc2, %vc2 = mm.attention %q, %k, %v cache(%kc, %vc) at %p {causal} : (tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1xi64>) -> (tensor<1x1x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>)
  %l = mm.reduce sum %o dims [0, 1, 2, 3] : (tensor<1x1x2x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @reduce_prod(%x: tensor<4xf32>) -> tensor<f32> {
  %l = mm.reduce prod %x dims [0] : (tensor<4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// A backward op has no rule of its own (no second derivatives).
func.func @no_rule(%x: tensor<3x5xf32>, %y: tensor<3xi64>, %g: tensor<f32>) -> tensor<f32> {
  %d = mm.cross_entropy_grad mean %x, %y, %g : (tensor<3x5xf32>, tensor<3xi64>, tensor<f32>) -> tensor<3x5xf32>
  %l = mm.reduce sum %d dims [0, 1] : (tensor<3x5xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @not_scalar(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = mm.tanh %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

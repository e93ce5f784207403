// Training objectives.

func.func @cross_entropy_mean(%logits: tensor<2x3x5xf32>, %labels: tensor<2x3xi64>) -> tensor<f32> {
  %l = mm.cross_entropy mean %logits, %labels : (tensor<2x3x5xf32>, tensor<2x3xi64>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @cross_entropy_sum(%logits: tensor<4x5xf32>, %labels: tensor<4xi64>) -> tensor<f32> {
  %l = mm.cross_entropy sum %logits, %labels : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @cross_entropy_none(%logits: tensor<4x5xf32>, %labels: tensor<4xi64>, %c: tensor<4xf32>) -> tensor<f32> {
  %p = mm.cross_entropy none %logits, %labels : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<4xf32>
  %wc = mm.mul %p, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %l = mm.reduce sum %wc dims [0] : (tensor<4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @sigmoid_bce_mean(%x: tensor<2x5xf32>, %y: tensor<2x5xf32>) -> tensor<f32> {
  %l = mm.sigmoid_bce mean %x, %y : (tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @sigmoid_bce_sum(%x: tensor<6xf32>, %y: tensor<6xf32>) -> tensor<f32> {
  %l = mm.sigmoid_bce sum %x, %y : (tensor<6xf32>, tensor<6xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// Every ratio above 1 + eps_high: the clipped weight is constant there, so
// the stop-gradient objective equals the finite difference.
func.func @policy_cispo(%lp: tensor<2x4xf32>, %old: tensor<2x4xf32>, %adv: tensor<2xf32>, %mask: tensor<2x4xf32>) -> tensor<f32> {
  %l = mm.policy_loss cispo %lp, %old, %adv, %mask {eps_low = 10.0 : f64, eps_high = 0.2 : f64} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2xf32>, tensor<2x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @policy_ppo(%lp: tensor<2x4xf32>, %old: tensor<2x4xf32>, %adv: tensor<2x4xf32>, %mask: tensor<2x4xf32>) -> tensor<f32> {
  %l = mm.policy_loss ppo_clip %lp, %old, %adv, %mask {eps_low = 0.2 : f64, eps_high = 0.2 : f64} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// CISPO with the absolute cap min(r, 2) and no log-ratio clamp (library 2's
// convention); every ratio is above the cap, so the weight is constant.
func.func @policy_cispo_cap(%lp: tensor<2x4xf32>, %old: tensor<2x4xf32>, %adv: tensor<2xf32>, %mask: tensor<2x4xf32>) -> tensor<f32> {
  %l = mm.policy_loss cispo %lp, %old, %adv, %mask {ratio_cap = 2.0 : f64, log_ratio_clamp = 700.0 : f64} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2xf32>, tensor<2x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// DAPO: clip-higher, dual clip for negative advantages, divided by a global
// token count %n (no gradient).
func.func @policy_ppo_dual(%lp: tensor<2x4xf32>, %old: tensor<2x4xf32>, %adv: tensor<2xf32>, %mask: tensor<2x4xf32>, %n: tensor<f32>) -> tensor<f32> {
  %l = mm.policy_loss ppo_clip %lp, %old, %adv, %mask normalized_by %n {eps_low = 0.2 : f64, eps_high = 0.28 : f64, dual_clip = 3.0 : f64} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2xf32>, tensor<2x4xf32>, tensor<f32>) -> tensor<f32>
  return %l : tensor<f32>
}

// GRPO: each row's mean over its tokens, then the mean over the rows.
func.func @policy_ppo_seq(%lp: tensor<3x4xf32>, %old: tensor<3x4xf32>, %adv: tensor<3xf32>, %mask: tensor<3x4xf32>) -> tensor<f32> {
  %l = mm.policy_loss ppo_clip per sequence %lp, %old, %adv, %mask : (tensor<3x4xf32>, tensor<3x4xf32>, tensor<3xf32>, tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

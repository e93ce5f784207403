// cross_entropy, policy_loss, sigmoid_bce (ir/ops/LossOps.td;
// /work/shared/spec/cispo.md for the policy loss).

func.func @ce_none(%l: tensor<2x4x6xf32>, %y: tensor<2x4xi64>) -> tensor<2x4xf32> {
  %0 = mm.cross_entropy none %l, %y : (tensor<2x4x6xf32>, tensor<2x4xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
func.func @ce_sum_ignore2(%l: tensor<2x4x6xf32>, %y: tensor<2x4xi64>) -> tensor<f32> {
  %0 = mm.cross_entropy sum %l, %y {ignore_index = 2 : i64} : (tensor<2x4x6xf32>, tensor<2x4xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @ce_mean(%l: tensor<?x6xf32> {mm.dims = ["N", ""]}, %y: tensor<?xi64> {mm.dims = ["N"]}) -> tensor<f32> {
  %0 = mm.cross_entropy mean %l, %y : (tensor<?x6xf32>, tensor<?xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}
// MiniMax-M1 setting: no lower clip (eps_low large), eps_high 0.2, per-response advantages.
func.func @cispo(%lp: tensor<2x5xf32>, %old: tensor<2x5xf32>, %adv: tensor<2xf32>, %m: tensor<2x5xf32>) -> tensor<f32> {
  %0 = mm.policy_loss cispo %lp, %old, %adv, %m {eps_low = 10.0 : f64, eps_high = 0.2 : f64}
      : (tensor<2x5xf32>, tensor<2x5xf32>, tensor<2xf32>, tensor<2x5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
// Default epsilons (0.2, 0.2), per-token advantages.
func.func @cispo_default(%lp: tensor<2x5xf32>, %old: tensor<2x5xf32>, %adv: tensor<2x5xf32>, %m: tensor<2x5xf32>) -> tensor<f32> {
  %0 = mm.policy_loss cispo %lp, %old, %adv, %m : (tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @ppo_clip(%lp: tensor<2x5xf32>, %old: tensor<2x5xf32>, %adv: tensor<2x5xf32>, %m: tensor<2x5xf32>) -> tensor<f32> {
  %0 = mm.policy_loss ppo_clip %lp, %old, %adv, %m : (tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
// Asymmetric clip and a log-ratio clamp that bites.
func.func @ppo_clip_clamp(%lp: tensor<2x5xf32>, %old: tensor<2x5xf32>, %adv: tensor<2xf32>, %m: tensor<2x5xf32>) -> tensor<f32> {
  %0 = mm.policy_loss ppo_clip %lp, %old, %adv, %m {eps_low = 0.1 : f64, eps_high = 0.5 : f64, log_ratio_clamp = 0.3 : f64}
      : (tensor<2x5xf32>, tensor<2x5xf32>, tensor<2xf32>, tensor<2x5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @bce_none(%x: tensor<3x4xf32>, %y: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = mm.sigmoid_bce none %x, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
func.func @bce_sum(%x: tensor<3x4xf32>, %y: tensor<3x4xf32>) -> tensor<f32> {
  %0 = mm.sigmoid_bce sum %x, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @bce_mean(%x: tensor<?xf32> {mm.dims = ["N"]}, %y: tensor<?xf32> {mm.dims = ["N"]}) -> tensor<f32> {
  %0 = mm.sigmoid_bce mean %x, %y : (tensor<?xf32>, tensor<?xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

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
// Library 2's CISPO: the absolute cap min(r, 1.3), no log-ratio clamp.
func.func @cispo_cap(%lp: tensor<2x5xf32>, %old: tensor<2x5xf32>, %adv: tensor<2xf32>, %m: tensor<2x5xf32>) -> tensor<f32> {
  %0 = mm.policy_loss cispo %lp, %old, %adv, %m {ratio_cap = 1.3 : f64, log_ratio_clamp = 700.0 : f64}
      : (tensor<2x5xf32>, tensor<2x5xf32>, tensor<2xf32>, tensor<2x5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
// DAPO-style: clip-higher, a dual clip for negative advantages, and a global
// token count as the normalizer.
func.func @ppo_dual_global(%lp: tensor<2x5xf32>, %old: tensor<2x5xf32>, %adv: tensor<2x5xf32>, %m: tensor<2x5xf32>, %n: tensor<f32>) -> tensor<f32> {
  %0 = mm.policy_loss ppo_clip %lp, %old, %adv, %m normalized_by %n {eps_high = 0.28 : f64, dual_clip = 1.3 : f64}
      : (tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}
// GRPO: per-sequence averaging.
func.func @ppo_seq(%lp: tensor<2x5xf32>, %old: tensor<2x5xf32>, %adv: tensor<2xf32>, %m: tensor<2x5xf32>) -> tensor<f32> {
  %0 = mm.policy_loss ppo_clip per sequence %lp, %old, %adv, %m
      : (tensor<2x5xf32>, tensor<2x5xf32>, tensor<2xf32>, tensor<2x5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @ppo_seq_global(%lp: tensor<2x5xf32>, %old: tensor<2x5xf32>, %adv: tensor<2x5xf32>, %m: tensor<2x5xf32>, %n: tensor<f32>) -> tensor<f32> {
  %0 = mm.policy_loss ppo_clip per sequence %lp, %old, %adv, %m normalized_by %n
      : (tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @cispo_seq(%lp: tensor<2x5xf32>, %old: tensor<2x5xf32>, %adv: tensor<2x5xf32>, %m: tensor<2x5xf32>) -> tensor<f32> {
  %0 = mm.policy_loss cispo per sequence %lp, %old, %adv, %m {eps_low = 10.0 : f64, eps_high = 0.2 : f64}
      : (tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<f32>
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

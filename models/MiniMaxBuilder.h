//===- MiniMaxBuilder.h - mm IR of MiniMax-Text-01 from a config -*- C++ -*-===//
//
// Emits the whole hybrid lightning-attention MoE decoder as one mm function,
// `@forward`, that serves prefill and decode alike:
//
//   @forward(%ids: [B, T] i64, %positions: [B, T] i64,
//            %cache_positions: [B] i64, %lengths: [B] i64,
//            (%k_cache, %v_cache: [B, S, kv_heads, head_dim]) per softmax layer,
//            (%state: [B, heads, head_dim, head_dim] f32) per lightning layer)
//     -> (%logits, updated caches in the same order, updated states)
//
// It declares itself a generation step (mm.generation_step, ir/GenerationStep.h):
// the roles of the four step inputs, the symbols B, T, S and the logits result,
// which the compiler copies into the executable for the engine.
//
// `cache_positions[b]` is how many tokens sequence b already has in its caches,
// `positions` their absolute positions (for RoPE), `lengths[b]` how many of
// the T new tokens are real (right padding). Logits are [B, vocab] for each
// sequence's last real token, or [B, T, vocab] with `allLogits`.
//
//===----------------------------------------------------------------------===//
#ifndef MM_MODELS_MINIMAXBUILDER_H
#define MM_MODELS_MINIMAXBUILDER_H

#include "frontends/ModelConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <optional>

namespace mm {

struct MiniMaxGraphOptions {
  /// Logits of every position instead of only the last real one.
  bool allLogits = false;
  /// Element type of weights and activations (the lightning state is f32).
  enum class ElementType { F32, BF16 } elementType = ElementType::F32;
  /// Build the training loss `@loss` (below) instead of `@forward`.
  bool training = false;
  /// With `training`: a policy-gradient objective (mm.policy_loss) on sampled
  /// tokens instead of the next-token cross-entropy (the RL `@loss` below).
  struct PolicyObjective {
    bool cispo = true; // else ppo_clip (PPO, GRPO, DAPO)
    double epsLow = 0.2, epsHigh = 0.2, logRatioClamp = 20;
    std::optional<double> ratioCap, dualClip;
    bool perSequence = false;
    /// The sampling temperature: log-probs are of softmax(logits / temperature).
    double temperature = 1;
    /// Weight of the k3 KL estimate to a reference policy (0: none).
    double klCoef = 0;
  };
  std::optional<PolicyObjective> policy;
  /// MiniMax-VL-01: @forward takes a last argument `image_features` [I, hidden]
  /// whose rows replace, in order, the embeddings of this token id
  /// (mm.merge_image_features); I counts the placeholders of the whole batch.
  std::optional<int64_t> imageTokenId;
  /// Grouped-query attention with each KV head repeated this many times
  /// (adjacent copies, so query head i still reads KV head i / group): the
  /// caches hold numKvHeads * kvHeadReplicas heads. Tensor parallelism over
  /// more ranks than KV heads splits the copies, one per rank, as vLLM
  /// replicates them (minimaxKvHeadReplicas); the answer is unchanged.
  int64_t kvHeadReplicas = 1;
};

/// How many times @forward repeats each KV head for `tp` tensor-parallel
/// ranks: 1 while tp divides the KV heads, tp / numKvHeads past them, so that
/// each rank holds one (vLLM's replication; the answer is unchanged).
int64_t minimaxKvHeadReplicas(const MiniMaxConfig &config, int64_t tp);

/// Builds and verifies the module; throws mm::Error if verification fails
/// (which would be a builder bug for a validated config).
mlir::OwningOpRef<mlir::ModuleOp> buildMiniMaxModule(mlir::MLIRContext &context,
                                                     const MiniMaxConfig &config,
                                                     const MiniMaxGraphOptions &options = {});

/// Name of the function built above.
constexpr const char *kForwardFunction = "forward";

/// With `training`, the next-token loss of a packed batch, no caches:
///
///   @loss(%ids: [B, T] i64, %labels: [B, T] i64, %positions: [B, T] i64)
///     -> tensor<f32>
///
/// the mean cross-entropy of the logits of every position against `labels`
/// (-100 ignored), plus, when the config sets `output_router_logits` (as
/// transformers' MiniMaxForCausalLM does), `router_aux_loss_coef` times the
/// Switch load-balancing loss E * sum_e f_e P_e over all layers' tokens
/// together (f_e the share of routed slots per token, P_e the mean router
/// probability), transformers' load_balancing_loss_func.
constexpr const char *kLossFunction = "loss";

/// With `training` and `policy`, the RL objective of sampled responses:
///
///   @loss(%ids, %labels, %positions: [B, T] i64, %old_logprobs: [B, T] f32,
///         %advantages: [B] f32, %mask: [B, T] f32, %normalizer: f32
///         [, %ref_logprobs: [B, T] f32 with klCoef])
///     -> (tensor<f32>, %logprobs: [B, T] f32)
///
/// `labels[b, t]` is the sampled token that follows position t (-100 off the
/// response), `logprobs` its log-probability under the current weights
/// (log_softmax(logits / temperature), 0 where ignored), and the loss is
/// mm.policy_loss of those against the sampling policy's `old_logprobs`,
/// plus klCoef times the masked mean of exp(ref - lp) - (ref - lp) - 1.
/// The router's load-balancing loss is added as for `@loss` above.

} // namespace mm

#endif // MM_MODELS_MINIMAXBUILDER_H

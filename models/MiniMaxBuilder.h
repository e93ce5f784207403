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

namespace mm {

struct MiniMaxGraphOptions {
  /// Logits of every position instead of only the last real one.
  bool allLogits = false;
  /// Element type of weights and activations (the lightning state is f32).
  enum class ElementType { F32, BF16 } elementType = ElementType::F32;
  /// Build the training loss `@loss` (below) instead of `@forward`.
  bool training = false;
};

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

} // namespace mm

#endif // MM_MODELS_MINIMAXBUILDER_H

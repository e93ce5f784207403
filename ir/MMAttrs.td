//===- MMAttrs.td - enum attributes of the mm dialect ---------*- tablegen -*-===//

#ifndef MM_ATTRS_TD
#define MM_ATTRS_TD

include "mlir/IR/EnumAttr.td"

def MM_ReduceKind : I32EnumAttr<"ReduceKind", "reduction applied over the reduced dims", [
    I32EnumAttrCase<"Sum", 0, "sum">,
    I32EnumAttrCase<"Mean", 1, "mean">,
    I32EnumAttrCase<"Max", 2, "max">,
    I32EnumAttrCase<"Min", 3, "min">,
    I32EnumAttrCase<"Prod", 4, "prod">]> {
  let cppNamespace = "::mm";
}

def MM_PoolKind : I32EnumAttr<"PoolKind", "masked pooling over a sequence", [
    I32EnumAttrCase<"Sum", 0, "sum">,
    I32EnumAttrCase<"Mean", 1, "mean">,
    I32EnumAttrCase<"Max", 2, "max">]> {
  let cppNamespace = "::mm";
}

def MM_LossReduction : I32EnumAttr<"LossReduction", "how per-element losses are combined", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Sum", 1, "sum">,
    I32EnumAttrCase<"Mean", 2, "mean">]> {
  let cppNamespace = "::mm";
}

def MM_PolicyLossKind : I32EnumAttr<"PolicyLossKind", "policy-gradient objective", [
    I32EnumAttrCase<"CISPO", 0, "cispo">,
    I32EnumAttrCase<"PPOClip", 1, "ppo_clip">]> {
  let cppNamespace = "::mm";
}

def MM_PolicyLossNormalization : I32EnumAttr<"PolicyLossNormalization",
    "how mm.policy_loss averages per-token losses", [
    I32EnumAttrCase<"Token", 0, "token">,
    I32EnumAttrCase<"Sequence", 1, "sequence">]> {
  let cppNamespace = "::mm";
}

// What an mm.kernel is: each kind has one reading of its body into a typed
// description (codegen/KernelDescriptions.h) and one generator per target.
def MM_KernelKind : I32EnumAttr<"KernelKind", "the code-generation kind of an mm.kernel", [
    I32EnumAttrCase<"Gemm", 0, "gemm">,
    I32EnumAttrCase<"Norm", 1, "norm">,
    I32EnumAttrCase<"Elementwise", 2, "elementwise">,
    I32EnumAttrCase<"Attention", 3, "attention">,
    I32EnumAttrCase<"Lightning", 4, "lightning">,
    I32EnumAttrCase<"MoeRouter", 5, "moe_router">,
    I32EnumAttrCase<"MoeDispatch", 6, "moe_dispatch">,
    I32EnumAttrCase<"GroupedGemm", 7, "grouped_gemm">,
    I32EnumAttrCase<"GroupedGemmSwiglu", 8, "grouped_gemm_swiglu">,
    I32EnumAttrCase<"MoeCombine", 9, "moe_combine">,
    I32EnumAttrCase<"Embedding", 10, "embedding">,
    I32EnumAttrCase<"Gather", 11, "gather">,
    I32EnumAttrCase<"Copy", 12, "copy">,
    I32EnumAttrCase<"Reduce", 13, "reduce">,
    I32EnumAttrCase<"Softmax", 14, "softmax">,
    I32EnumAttrCase<"Matmul", 15, "matmul">,
    I32EnumAttrCase<"LayerNorm", 16, "layer_norm">,
    I32EnumAttrCase<"ScatterAdd", 17, "scatter_add">,
    I32EnumAttrCase<"Argmax", 18, "argmax">,
    I32EnumAttrCase<"Loss", 19, "loss">,
    I32EnumAttrCase<"TopK", 20, "top_k">,
    I32EnumAttrCase<"Conv", 21, "conv">,
    I32EnumAttrCase<"Pool", 22, "pool">,
    I32EnumAttrCase<"Rope", 23, "rope">,
    I32EnumAttrCase<"MergeImageFeatures", 24, "merge_image_features">,
    I32EnumAttrCase<"Gru", 25, "gru">,
    I32EnumAttrCase<"TargetAttention", 26, "target_attention">,
    I32EnumAttrCase<"HadamardInteraction", 27, "hadamard_interaction">,
    I32EnumAttrCase<"AttentionBackward", 28, "attention_backward">,
    I32EnumAttrCase<"LightningBackward", 29, "lightning_backward">,
    I32EnumAttrCase<"GroupedGemmWeightGrad", 30, "grouped_gemm_weight_grad">,
    I32EnumAttrCase<"LossBackward", 31, "loss_backward">,
    I32EnumAttrCase<"GruBackward", 32, "gru_backward">,
    I32EnumAttrCase<"ConvBackward", 33, "conv_backward">,
    // Collectives (shard.all_reduce, all_gather, all_slice, reduce_scatter): the runtime runs
    // them between kernels (runtime/dist/CollectiveOps.h); the generated
    // function does nothing.
    I32EnumAttrCase<"AllReduce", 34, "all_reduce">,
    I32EnumAttrCase<"AllGather", 35, "all_gather">,
    I32EnumAttrCase<"AllSlice", 36, "all_slice">,
    I32EnumAttrCase<"ReduceScatter", 37, "reduce_scatter">,
    // A non-splat arith.constant a collective reads (kernels clone the
    // constants they read; a collective reads a buffer): writes its values.
    I32EnumAttrCase<"Constant", 38, "constant">]> {
  let cppNamespace = "::mm";
}

#endif // MM_ATTRS_TD

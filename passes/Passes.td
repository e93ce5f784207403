//===- Passes.td - mm passes ----------------------------------*- tablegen -*-===//

#ifndef MM_PASSES_TD
#define MM_PASSES_TD

include "mlir/Pass/PassBase.td"

def SpecializeChoices : Pass<"mm-specialize-choices", "mlir::ModuleOp"> {
  let summary = "turn a supernet into one child architecture";
  let description = [{
    Replaces every `mm.choice` named in `choices` by the body of the chosen
    candidate, so a sampled child of a one-shot NAS supernet compiles to a
    plain graph (no dead candidates, fully fusable). Choices are given as
    `name=index`. A name that matches no choice point, a repeated name, or an
    index outside a choice's candidates is an error; with `require-all`, so is a
    choice point left unresolved.

    ```mlir
    // mm-opt -mm-specialize-choices='choices=block0.op=1'
    %y = mm.choice "block0.op" %sel : tensor<i64> -> (tensor<?x8xf32>) {
      %a = mm.relu %x : tensor<?x8xf32>
      mm.yield %a : tensor<?x8xf32>
    }, {
      %b = mm.tanh %x : tensor<?x8xf32>
      mm.yield %b : tensor<?x8xf32>
    }
    // becomes
    %y = mm.tanh %x : tensor<?x8xf32>
    ```
  }];
  let options = [
    ListOption<"choices", "choices", "std::string",
               "name=index assignments of choice points">,
    Option<"requireAll", "require-all", "bool", /*default=*/"false",
           "fail if a choice point is not assigned">
  ];
  let dependentDialects = ["::mm::MMDialect"];
}

def AutoDiff : Pass<"mm-autodiff", "mlir::ModuleOp"> {
  let summary = "reverse-mode differentiation: add @F_grad for a scalar loss @F";
  let description = [{
    Adds a public function `@F_grad` after `@F` (named by `function`). It takes
    F's arguments (with their attributes, so it compiles like F) and returns
    F's results, followed by the gradient of F's first result (a float scalar)
    with respect to each floating-point argument in argument order, then with
    respect to each float `mm.param` by name, in order of first appearance
    (uses of one name add up). Integer arguments get no gradient; an argument
    or weight the loss does not depend on gets zeros. Each gradient result is
    tagged `mm.gradient_of` with the argument's `mm.name` (or `%argN`) or the
    weight's name.

    The pass finds the ops on a path from a differentiated value to the loss
    and asks each for its vector-Jacobian product through
    `DifferentiableOpInterface`; the rules live with the op families
    (`ir/ops/*Gradients.cpp`), and gradients of a value used several times add
    up. It fails, at the op, when the loss depends on an op without a rule,
    or on an integer result computed from a differentiated float (`argmax`,
    `top_k` indices, a float-to-int `cast`): their derivative is undefined.
    A MoE router's and dispatch's expert choices are constant by definition.

    With `recompute=PREFIX`, activation recomputation per layer: the ops whose
    location name is `PREFIX.<index>` or `PREFIX.<index>.<more>` form layer
    `<index>`; when the backward reaches a layer, its forward ops are cloned
    there and the layer's rules read the clones, so the forward activations
    inside a layer die when the forward is done with them (only the layer
    inputs live until the backward). One more forward pass, less memory.

    ```mlir
    // mm-opt -mm-autodiff='function=loss'
    func.func @loss(%x: tensor<4xf32>) -> tensor<f32> {
      %y = mm.tanh %x : tensor<4xf32>
      %l = mm.reduce sum %y dims [0] : (tensor<4xf32>) -> tensor<f32>
      return %l : tensor<f32>
    }
    // adds
    func.func @loss_grad(%x: tensor<4xf32>) -> (tensor<f32>, tensor<4xf32> {mm.gradient_of = "%arg0"}) {
      %y = mm.tanh %x : tensor<4xf32>
      %l = mm.reduce sum %y dims [0] : (tensor<4xf32>) -> tensor<f32>
      %one = arith.constant dense<1.0> : tensor<f32>
      ... %dx = (1 - y^2) * broadcast(%one)
      return %l, %dx : tensor<f32>, tensor<4xf32>
    }
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"\"",
           "the function to differentiate (its first result is the loss)">,
    Option<"recomputePrefix", "recompute", "std::string", /*default=*/"\"\"",
           "recompute each layer (ops located at `<prefix>.<index>...`) in the backward "
           "instead of keeping its activations (e.g. recompute=layers)">
  ];
  let dependentDialects = ["::mm::MMDialect", "::mlir::arith::ArithDialect"];
}

def TrainingStep : Pass<"mm-training-step", "mlir::ModuleOp"> {
  let summary = "one AdamW training step: @F_grad plus gradient clipping and the update";
  let description = [{
    Adds `@F_train_step` after `@F_grad` (run `-mm-autodiff` first). Every
    float `mm.param` becomes an argument (named by `mm.name`), followed by its
    AdamW first and second moments (`adam_m.NAME`, `adam_v.NAME`), then the
    learning rate `lr` and the 1-based step number `step` (0-d f32). It
    returns the loss, the global gradient norm before clipping, `@F`'s other
    results (metrics of the forward pass, as JAX's `has_aux`), then the new
    weights, first and second moments in the same order, each tagged
    `mm.update_of` with the argument it replaces.

    The update is PyTorch's `clip_grad_norm_` followed by `torch.optim.AdamW`:

        n = sqrt(sum over weights of sum(g^2));  g *= min(1, max-grad-norm / (n + 1e-6))
        m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
        w = w (1 - lr weight-decay) - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)

    Weight decay applies to matrices (rank >= 2), not to norm gains and
    biases, as Megatron and Hugging Face trainers group them. `max-grad-norm`
    0 disables clipping. The RL setting of MiniMax-M1 is `beta1=0.9
    beta2=0.95 epsilon=1e-15`.

    With `per-weight-step`, `step` is replaced by one 0-d f32 `step.NAME` per
    weight (after `lr`): each weight's bias corrections use its own count, as
    PyTorch's Adam keeps `state["step"]` per parameter and skips the ones
    without a gradient. A weight-sharing supernet needs this: a child's step
    updates only the weights on its path.

    With `dp-grid=NAME`, the step is data parallel over axis `dp-axis` of the
    `shard.grid @NAME`: each rank's batch is its own slice, so every weight
    gradient and the loss are averaged over that axis (a `shard.all_reduce`
    sum, then a multiply by 1/size) before the norm and the update, as
    PyTorch DDP and Megatron average. Each rank then applies the same update
    to its replica. The average equals the single-process mean when every
    rank holds the same number of loss terms (fixed [B, T] pretraining
    batches); @F's other results stay per rank.

    With `dp-weight` as well, the step takes one more argument, `dp_weight`
    (0-d f32, last): the rank's weight in the average, which is then the sum
    over the ranks of `dp_weight x` each rank's value (the multiply comes
    before the collective). A mean over loss terms whose count differs
    between ranks (supervised fine-tuning's answer tokens) is the global
    mean when each rank passes its count over the total.

    With `zero1` as well, the optimizer state is sharded over the ranks as in
    ZeRO stage 1 (Megatron's distributed optimizer): a weight whose leading
    dim divides by the rank count takes moments of its rows `[d0 / ranks,
    ...]` only; its gradient is reduce-scattered (each rank gets the mean of
    its rows), the rank updates its rows of the weight (`shard.all_slice`,
    no communication) and the new weight is all-gathered. The squares of the
    slices are summed over the ranks for the global norm. Other weights keep
    whole moments, updated on every rank.

    With `split-tags` as well (the tags that split: `mm.ep_dim` only with ep
    above 1, and so on), `-mm-model-parallel` (with its `dp`) splits the
    tagged weights afterwards, on the same grid: these collectives then run
    on each rank's part. A weight one of those tags splits along its dim 0
    (column-parallel projections, experts under ep, the vocabulary) keeps
    whole moments, which the split makes 1/parts per rank already (a
    vocabulary that does not divide stays whole, moments too); the
    ZeRO-1 rows of another (a row-parallel projection, a norm) keep its split
    tags, so a rank holds the dp rows of its part.

    ```mlir
    // mm-opt -mm-autodiff='function=loss'
    //   -mm-training-step='function=loss dp-grid=tp zero1 split-tags=mm.tp_dim'
    //   -mm-model-parallel='tp=2 dp=2' -mm-partition-pipeline
    shard.grid @tp(shape = 2x2)
    // a row-parallel w2 [8, 16] (mm.tp_dim = 1): its part [8, 8], moments [4, 8]
    %rows = shard.reduce_scatter %dw2 on @tp grid_axes = [0] scatter_axis = 0
        : tensor<8x8xf32> -> tensor<4x8xf32>
    ```

    ```mlir
    // mm-opt -mm-autodiff='function=loss' -mm-training-step='function=loss dp-grid=dp'
    shard.grid @dp(shape = 2)
    // in @loss_train_step, for each gradient %g:
    %sum = shard.all_reduce %g on @dp grid_axes = [0] : tensor<3x8xf32> -> tensor<3x8xf32>
    %mean = mm.mul %sum, %half : tensor<3x8xf32>, tensor<f32> -> tensor<3x8xf32>
    ```

    ```mlir
    // mm-opt -mm-autodiff='function=loss' -mm-training-step='function=loss'
    func.func @loss_train_step(%x: tensor<4x8xf32>, %w: tensor<2x8xf32> {mm.name = "w"},
        %m: tensor<2x8xf32> {mm.name = "adam_m.w"}, %v: tensor<2x8xf32> {mm.name = "adam_v.w"},
        %lr: tensor<f32> {mm.name = "lr"}, %t: tensor<f32> {mm.name = "step"})
        -> (tensor<f32>, tensor<f32>, tensor<2x8xf32> {mm.update_of = "w"},
            tensor<2x8xf32> {mm.update_of = "adam_m.w"}, tensor<2x8xf32> {mm.update_of = "adam_v.w"})
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"\"",
           "the loss function whose @F_grad to extend">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9", "AdamW beta1">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999", "AdamW beta2">,
    Option<"epsilon", "epsilon", "double", /*default=*/"1e-8", "AdamW epsilon">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"0.01",
           "decoupled weight decay of matrices">,
    Option<"maxGradNorm", "max-grad-norm", "double", /*default=*/"1.0",
           "global-norm clipping threshold (0: no clipping)">,
    Option<"perWeightStep", "per-weight-step", "bool", /*default=*/"false",
           "one step count per weight (step.NAME) instead of one for all">,
    Option<"dpGrid", "dp-grid", "std::string", /*default=*/"\"\"",
           "the shard.grid whose axis dp-axis the batch is split over (data parallel)">,
    Option<"dpAxis", "dp-axis", "int64_t", /*default=*/"0",
           "the data-parallel axis of dp-grid">,
    Option<"zero1", "zero1", "bool", /*default=*/"false",
           "with dp-grid: split each weight's AdamW moments over the ranks (ZeRO-1)">,
    Option<"dpWeight", "dp-weight", "bool", /*default=*/"false",
           "with dp-grid: each rank's weight in the average is an argument dp_weight (its "
           "share of the loss terms) instead of 1/ranks">,
    ListOption<"splitTags", "split-tags", "std::string",
               "the split tags (mm.tp_dim, mm.ep_dim, mm.etp_dim, mm.vocab_dim) that "
               "-mm-model-parallel applies after this pass: with zero1, a weight one of them "
               "splits along dim 0 keeps whole moments">
  ];
  let dependentDialects = ["::mm::MMDialect", "::mlir::arith::ArithDialect",
                           "::mlir::shard::ShardDialect"];
}

def WholeReturns : Pass<"mm-whole-returns", "mlir::func::FuncOp"> {
  let summary = "return unsharded values whole, so shard-partition can partition the return";
  let description = [{
    Runs after `sharding-propagation`, which runs again after it to carry the
    new annotations to their producers, before `shard-partition` (in
    `mm-partition-pipeline`). In a function where some returned value carries
    a sharding, a returned value with none (nothing connects it to a split)
    gets a replicated `shard.shard` on the grid of the others: MLIR 22's
    `shard-partition` needs a sharding for every operand of the return once
    one has one, and crashes otherwise. An argument nothing reads gets a
    replicated annotation for the same reason. A function whose returned
    values use different grids, or none, is left alone.

    ```mlir
    %a = shard.shard %x to %split : tensor<4x8xf32>
    return %a, %y : tensor<4x8xf32>, tensor<4x7xf32>
    // becomes
    %whole = shard.sharding @tp split_axes = [[]] : !shard.sharding
    %y1 = shard.shard %y to %whole : tensor<4x7xf32>
    return %a, %y1 : tensor<4x8xf32>, tensor<4x7xf32>
    ```
  }];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

def WholeUnannotated : Pass<"mm-whole-unannotated", "mlir::func::FuncOp"> {
  let summary = "ops the sharding propagation left unannotated run whole";
  let description = [{
    Runs after the second `sharding-propagation` of `mm-partition-pipeline`,
    before `shard-partition`, which needs every tensor operand of an op to
    come from an `annotate_for_users` shard.shard and every result to have
    its own (and crashes otherwise). Some sharding models give no option
    until a neighbour has a sharding: a reduction to a scalar waits for its
    input's, `mm.grouped_matmul_weight_grad` for its users', so that the
    propagation's backward half does not fix a split gradient whole; where
    no neighbour ever says (a weight gradient whose only use is a norm, an
    argument read with no annotation), nothing would. Such an op runs whole:
    each tensor operand gets a replicated annotation for it (gathered where
    it arrives split), each result a replicated one of its own (its users
    reshard from it), and an argument read without an annotation is whole.
    A function with no shardings, or with shardings on several grids, is
    left alone.

    ```mlir
    %n = mm.reduce sum %x dims [0, 1] : (tensor<6x8xf32>) -> tensor<f32>
    // becomes, %x an argument nothing annotated
    %s = shard.sharding @tp split_axes = [[]] : !shard.sharding
    %xw = shard.shard %x to %s : tensor<6x8xf32>
    %xu = shard.shard %xw to %s annotate_for_users : tensor<6x8xf32>
    %n = mm.reduce sum %xu dims [0, 1] : (tensor<6x8xf32>) -> tensor<f32>
    ```
  }];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

def StepwiseReshards : Pass<"mm-stepwise-reshards", "mlir::func::FuncOp"> {
  let summary = "break a reshard over several grid axes into one axis per step";
  let description = [{
    Runs after `sharding-propagation`, before `shard-partition` (in
    `mm-partition-pipeline`). MLIR 22's `shard-partition` reshards a value by
    matching one pattern: one grid axis added to a dim (all_slice), removed
    from it (all_gather) or moved between dims; a change of two or more axes
    at once crashes it. This happens on a 2-D grid, e.g. logits split over
    `[0, 1]` (tensor parallelism on a `[tp / ep, ep]` grid) returned whole.
    Each reshard whose target extends or shortens every dim's axes becomes a
    chain of single-axis steps: first the slices, then the gathers, each axis
    removed last-added first. Other reshards (an axis moving between dims:
    upstream's all_to_all) are left alone.

    ```mlir
    %a = shard.shard %y to %split01 : tensor<4x8xf32>       // [[], [0, 1]]
    %b = shard.shard %a to %whole annotate_for_users : tensor<4x8xf32>
    // becomes
    %s0 = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
    %a0 = shard.shard %a to %s0 annotate_for_users : tensor<4x8xf32>
    %a1 = shard.shard %a0 to %s0 : tensor<4x8xf32>
    %b = shard.shard %a1 to %whole annotate_for_users : tensor<4x8xf32>
    ```
  }];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

def ModelParallel : Pass<"mm-model-parallel", "mlir::ModuleOp"> {
  let summary = "annotate a model's params (and head maps) for tensor and expert parallelism";
  let description = [{
    The model definition says how model parallelism cuts each weight, as
    Megatron's ColumnParallelLinear / RowParallelLinear and its expert
    layers do: an `mm.param` tagged `mm.tp_dim = D` is split along dim D by
    tensor parallelism (0: the output features of a column-parallel weight,
    1: the input features of a row-parallel one), one tagged `mm.ep_dim = D`
    along dim D (its experts) by expert parallelism, one tagged `mm.etp_dim =
    D` along dim D (an expert's FFN width: the out dim of w1 / w3, the in dim
    of w2) by expert tensor parallelism. With `tp` > 1 this pass adds
    `shard.grid @tp` over the tp ranks, `[edp, ep, etp]` with the factors of
    1 left out (`edp = tp / (ep x etp)`, replicas of the experts): the FFN
    width on the fastest axis, then the experts, as Megatron orders its
    expert ranks (docs/parallelism.md); the dense splits span every axis but dp. It annotates
    every tagged param's users with its split; the rest of the graph (activations, KV caches, lightning states,
    norms, expert offsets) follows by `mm-partition-pipeline`, which places
    the collectives. An `arith.constant` may carry `mm.tp_dim` too: the map
    of replicated KV heads (past the KV head count each rank gathers its
    copy), whose split then flows forward into the gather. A dim that does
    not divide is an error naming the op and the tag, except `mm.vocab_dim`
    (the vocabulary of the embedding and the LM head, split over all tp ranks
    as Megatron's vocab-parallel layers), which stays whole when it does not
    divide. A function result marked `mm.replicated`
    is returned whole by every rank (the logits: gathered where they arrive
    split). A function argument may carry the same tags (a training step's
    weights and AdamW moments, from `-mm-training-step`): it is split where
    it enters, and a result marked `mm.update_of` the argument's `mm.name`
    (its update) is returned split alike, so each rank keeps its parts of
    the weights and moments across steps. `tp` 1 changes nothing.

    With `dp` > 1 the grid gets a leading axis of dp replicas of the tp group
    (`[dp, edp, ep, etp]`, passes/ModelParallelGrid.h): no value is split
    over it, and a data-parallel training step averages its gradients along
    it (`-mm-training-step dp-grid=tp dp-axis=0`, which needs the grid first:
    a `shard.grid @tp` already in the module is used when it has exactly
    this shape, and is an error otherwise). Its collectives then run on each
    rank's parts (their sharding models, ir/CollectiveShardingModels.cpp).

    With `cp` > 1 (context parallelism) the grid gets an axis of cp sequence
    chunks after dp (`[dp, cp, edp, ep, etp]`). A function argument tagged
    `mm.cp_dim = D` (a training step's token ids, labels and positions) is
    this rank's chunk of dim D: the caller feeds each rank its chunk, as it
    feeds each data-parallel replica its rows. The partition pipeline then
    carries the split through: LASP+ for lightning attention, the keys and
    values all-gathered for softmax attention, partial sums of the weight
    gradients all-reduced over the chunks.

    ```mlir
    // mm-opt -mm-model-parallel="cp=2"
    func.func @loss_train_step(%ids: tensor<?x?xi64> {mm.cp_dim = 1 : i64, mm.name = "ids"}, ...) {
      // becomes
      %chunks = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
      %mine = shard.shard %ids to %chunks : tensor<?x?xi64>
    ```

    ```mlir
    // mm-opt -mm-model-parallel="tp=2 dp=2"
    shard.grid @tp(shape = 2x2)
    // a column-parallel weight split over axis 1, the tp ranks
    %s = shard.sharding @tp split_axes = [[1]] : !shard.sharding
    ```

    ```mlir
    // mm-opt -mm-model-parallel="tp=2 ep=2"
    %w = mm.param "layers.0.self_attn.q_proj.weight" {mm.tp_dim = 0 : i64} : tensor<64x64xf32>
    %e = mm.param "layers.0.block_sparse_moe.w1" {mm.ep_dim = 0 : i64} : tensor<4x128x64xf32>
    // becomes
    shard.grid @tp(shape = 2)
    %w = mm.param "layers.0.self_attn.q_proj.weight" {mm.tp_dim = 0 : i64} : tensor<64x64xf32>
    %s = shard.sharding @tp split_axes = [[0]] : !shard.sharding
    %ws = shard.shard %w to %s annotate_for_users : tensor<64x64xf32>
    %e = mm.param "layers.0.block_sparse_moe.w1" {mm.ep_dim = 0 : i64} : tensor<4x128x64xf32>
    %se = shard.sharding @tp split_axes = [[0]] : !shard.sharding
    %es = shard.shard %e to %se annotate_for_users : tensor<4x128x64xf32>

    // a training step's weight argument and its update
    func.func @loss_train_step(%w: tensor<64x64xf32> {mm.name = "w", mm.tp_dim = 0 : i64}, ...)
        -> (..., tensor<64x64xf32> {mm.update_of = "w"}) {
      %s = shard.sharding @tp split_axes = [[0]] : !shard.sharding
      %ws = shard.shard %w to %s : tensor<64x64xf32>
      ...
      %new = shard.shard %updated to %s : tensor<64x64xf32>
      return ..., %new : ..., tensor<64x64xf32>
    }
    ```
  }];
  let options = [
    Option<"tp", "tp", "int64_t", /*default=*/"1", "tensor-parallel group size (the ranks)">,
    Option<"ep", "ep", "int64_t", /*default=*/"1",
           "expert-parallel group size, dividing tp (1: every rank holds every expert)">,
    Option<"etp", "etp", "int64_t", /*default=*/"1",
           "expert-tensor-parallel group size: each expert's FFN width split over etp ranks "
           "(ep x etp divides tp)">,
    Option<"dp", "dp", "int64_t", /*default=*/"1",
           "data-parallel replicas of the tp group: a leading grid axis nothing is split over "
           "(a training step's gradient averages run along it)">,
    Option<"cp", "cp", "int64_t", /*default=*/"1",
           "context-parallel chunks: the dim an argument's mm.cp_dim names (a training step's "
           "tokens) is split over a grid axis after dp; the caller feeds each rank its chunk">
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

//===----------------------------------------------------------------------===//
// Fusion: graph ops to kernels (mm-inference-pipeline, phase "fusion")
//===----------------------------------------------------------------------===//

def FuseAttention : Pass<"mm-fuse-attention", "mlir::func::FuncOp"> {
  let summary = "fuse RoPE + softmax attention, and q/k/v slicing + lightning attention";
  let description = [{
    Forms `attention` kernels from `mm.attention` together with (for an
    attention with a KV cache) the `mm.rope` of its query and key (applied as they are loaded and as keys are written
    to the cache), and `lightning` kernels from `mm.lightning_attention`
    together with the `mm.slice`s that cut q, k and v out of the interleaved
    qkv projection (the kernel reads them in place with a row stride). KV
    caches and lightning states are marked to update in place.

    ```mlir
    %q2 = mm.rope %q, %pos {rotary_dim = 8 : i64, theta = 1.0e4 : f64} : ...
    %k2 = mm.rope %k, %pos {rotary_dim = 8 : i64, theta = 1.0e4 : f64} : ...
    %o, %kc2, %vc2 = mm.attention %q2, %k2, %v cache(%kc, %vc) at %cp {causal} : ...
    // becomes
    %o, %kc2, %vc2 = mm.kernel attention (%q, %pos, %k, %v, %kc, %vc, %cp) {in_place = array<i64: -1, 4, 5>} : ... {
      ... the same three ops on block arguments ...
    }
    ```
  }];
  let dependentDialects = ["::mm::MMDialect"];
}

def FuseMoE : Pass<"mm-fuse-moe", "mlir::func::FuncOp"> {
  let summary = "MoE as router, dispatch, grouped GEMMs and combine kernels";
  let description = [{
    Forms a `moe_router` kernel (softmax, top-k and renormalisation in one
    pass over each token's logits), a `moe_dispatch` kernel, and a
    `grouped_gemm_swiglu` kernel from the two grouped matmuls of W1 and W3 and
    the `mm.swiglu` joining them: every expert in one launch, no per-expert
    loop. The W2 grouped matmul and the combine become kernels in
    `mm-fuse-epilogues`, where they take their elementwise epilogues.

    ```mlir
    %a = mm.grouped_matmul %x, %w1, %off : ...
    %b = mm.grouped_matmul %x, %w3, %off : ...
    %h = mm.swiglu %a, %b : tensor<?x32xf32>
    // becomes
    %h = mm.kernel grouped_gemm_swiglu (%x, %w1, %off, %w3) : ... { ... }
    ```
  }];
  let dependentDialects = ["::mm::MMDialect"];
}

def FuseEpilogues : Pass<"mm-fuse-epilogues", "mlir::func::FuncOp"> {
  let summary = "fuse elementwise epilogues into GEMMs, grouped GEMMs, MoE combine and RMSNorm";
  let description = [{
    Each `mm.linear`, `mm.grouped_matmul`, `mm.moe_combine` and `mm.rms_norm`
    becomes a kernel (`gemm`, `grouped_gemm`, `moe_combine`, `norm`) together
    with the chain of elementwise ops that consumes its result alone, and the
    single-use elementwise producers of their other operands. That covers the
    post-norm residual `alpha * u + beta * (x W^T)`, the lightning output gate
    `sigmoid(x W^T) * norm(o)`, `SiLU` on the qkv projection and the residual
    after the MoE combine. An RMSNorm also takes an elementwise prologue whose
    result nothing else reads.

    ```mlir
    %0 = mm.linear %o, %wo : ...
    %1 = mm.mul %u, %alpha : ...
    %2 = mm.add %1, %0 : ...
    // becomes
    %2 = mm.kernel gemm (%o, %wo, %u) : ... {
    ^bb0(%a: ..., %b: ..., %c: ...):
      %alpha = arith.constant dense<3.5> : tensor<f32>
      %0 = mm.linear %a, %b : ...
      %1 = mm.mul %c, %alpha : ...
      %2 = mm.add %1, %0 : ...
      mm.yield %2 : ...
    }
    ```
  }];
  let dependentDialects = ["::mm::MMDialect"];
}

def FuseElementwise : Pass<"mm-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "fuse the remaining chains of elementwise ops";
  let description = [{
    Groups each connected set of elementwise ops whose intermediate results
    are not read elsewhere into one `elementwise` kernel (one pass over
    memory).

    ```mlir
    %0 = mm.silu %x : tensor<?x8xf32>
    %1 = mm.mul %0, %y : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
    // becomes
    %1 = mm.kernel elementwise (%x, %y) : ... { ... }
    ```
  }];
  let dependentDialects = ["::mm::MMDialect"];
}

def FormKernels : Pass<"mm-form-kernels", "mlir::func::FuncOp"> {
  let summary = "wrap every remaining compute op into a kernel of its own";
  let description = [{
    After fusion, the ops still outside kernels (embedding lookups, gathers,
    the odd unfused linear, and in any module matmuls, softmaxes, reductions,
    copies, losses, convolutions ...) each become a one-op kernel of their
    kind, so the function is only kernels, views (`mm.reshape`), weights and
    constants: exactly what code generation consumes. An op with no kernel
    kind is an error naming it; so is an `mm.choice` left with a run-time
    selector (specialise the supernet first). Kernels clone the constants
    they read, but a collective reads a buffer: a constant a collective reads
    becomes a `constant` kernel that writes it (the global head indices a
    rank slices for its lightning heads).

    ```mlir
    %p = mm.softmax %x {dim = -1 : i64} : tensor<?x16xf32>
    // becomes
    %p = mm.kernel softmax (%x) : (tensor<?x16xf32>) -> tensor<?x16xf32> {
    ^bb0(%a: tensor<?x16xf32>):
      %0 = mm.softmax %a {dim = -1 : i64} : tensor<?x16xf32>
      mm.yield %0 : tensor<?x16xf32>
    }
    ```
  }];
  let dependentDialects = ["::mm::MMDialect"];
}

def PlanMemory : Pass<"mm-plan-memory", "mlir::func::FuncOp"> {
  let summary = "assign kernel results to arena offsets by liveness";
  let description = [{
    Sizes every buffer for the largest run-time sizes the executable accepts
    from the symbols that the function arguments' `mm.dims` attributes name:
    `symbol-max=N=64,M=8` for any symbol, and for a language model
    `max-batch`, `max-tokens` per step and `max-context` (the KV cache): the
    batch, tokens and capacity symbols that the function's
    `mm.generation_step` declares, or B, T and S for a function that declares
    none. A symbol with no maximum is an error naming it. The maxima are
    recorded on the function as `mm.symbol_max`. The pass then
    places buffers in one arena so that buffers whose lifetimes do not overlap
    share memory (greedy by size, first fit). Views (`mm.reshape`) alias their
    input; results marked `in_place` alias that input. Each kernel gets an
    `mm.offsets` attribute (byte offset per result, -1 where it aliases an
    input or argument), the function gets `mm.arena_bytes`, and a remark
    reports the peak against the sum of all buffers.

    ```mlir
    // mm-opt -mm-plan-memory='max-batch=1 max-tokens=16 max-context=32'
    // remark: arena 12288 bytes for 7 buffers (49152 without reuse)
    ```
  }];
  let options = [
    Option<"maxBatch", "max-batch", "int64_t", /*default=*/"1", "largest batch">,
    Option<"maxTokens", "max-tokens", "int64_t", /*default=*/"512", "largest step in tokens">,
    Option<"maxContext", "max-context", "int64_t", /*default=*/"4096", "largest KV-cache capacity">,
    ListOption<"symbolMax", "symbol-max", "std::string",
               "NAME=VALUE: the largest value of any other shape symbol (and overrides for B, T, S)">
  ];
  let dependentDialects = ["::mm::MMDialect"];
}

#endif // MM_PASSES_TD

//===- MMDialect.td - the mm dialect -------------------------*- tablegen -*-===//
//
// The `mm` dialect: graph-level ops for the four model families mmc compiles
// (MiniMax-Text-01 / M1, MiniMax-VL-01, AMER recommender supernets) on builtin
// ranked tensors. Collectives come from the upstream `shard` dialect.
//
//===----------------------------------------------------------------------===//

#ifndef MM_DIALECT_TD
#define MM_DIALECT_TD

include "mlir/IR/OpBase.td"

def MM_Dialect : Dialect {
  let name = "mm";
  let cppNamespace = "::mm";
  let summary = "Graph-level ops for hybrid lightning-attention MoE, vision-language and recommender models";
  let description = [{
    The `mm` dialect expresses whole models as value-semantic graphs on builtin
    ranked tensors. Dimensions that vary at run time (batch, sequence) are
    dynamic (`?`); everything else is static. Weights are named `mm.param`
    values resolved from a checkpoint when the graph runs.

    Every op carries a shape function: the result types of an op follow from
    its operand types and attributes wherever that is possible, and that same
    function is the verifier, so builders, the parser and the verifier agree.

    Layout conventions:
    * activations are `[batch, seq, ...]`; attention tensors are
      `[batch, seq, heads, head_dim]`;
    * linear weights are `[out_features, in_features]` (as PyTorch stores them);
    * images are NCHW, convolution weights OIHW; behaviour sequences are
      `[batch, seq, channels]`.

    Collectives (all-reduce, all-gather, reduce-scatter, all-to-all,
    send/recv) are not part of `mm`: the upstream `shard` dialect provides
    them together with device grids and sharding annotations, and mm-opt
    registers it.

    Discardable attributes, verified by the dialect wherever they appear:
    * `mm.dims` (function argument): one symbol name per dim, `""` for a
      static dim; every dynamic dim names the run-time size it is
      (`["B", "T", ""]`), which is how compiled code sizes its buffers;
    * `mm.name` (function argument): a name for messages and executables;
    * `mm.selector` (unit, on a `tensor<i64>` function argument): a supernet
      choice point's selector, named by `mm.name` (the AMER builders); a
      specialised child no longer reads it and drops it;
    * `mm.gradient_of` (function result, set by `mm-autodiff`): the argument
      (`mm.name` or `%argN`) or weight whose gradient the result is;
    * `mm.update_of` (function result, set by `mm-training-step`): the
      argument (by `mm.name`) whose next value the result is;
    * `mm.recomputed` (any op, set by `mm-autodiff recompute=...`): a forward
      op recomputed in the backward; it keeps CSE from merging it back;
    * `mm.offsets` (on `mm.kernel`, set by `mm-plan-memory`): the arena byte
      offset of each result, `-1` where it aliases an input;
    * `mm.arena_bytes` (function, set by `mm-plan-memory`): the arena size;
    * `mm.symbol_max` (function, set by `mm-plan-memory`): the largest value
      of each shape symbol the plan is sized for.

    ```mlir
    func.func @mlp(%x: tensor<?x?x512xf32>) -> tensor<?x?x512xf32> {
      %wg = mm.param "mlp.gate.weight" : tensor<1408x512xf32>
      %wu = mm.param "mlp.up.weight" : tensor<1408x512xf32>
      %wd = mm.param "mlp.down.weight" : tensor<512x1408xf32>
      %g = mm.linear %x, %wg : (tensor<?x?x512xf32>, tensor<1408x512xf32>) -> tensor<?x?x1408xf32>
      %u = mm.linear %x, %wu : (tensor<?x?x512xf32>, tensor<1408x512xf32>) -> tensor<?x?x1408xf32>
      %h = mm.swiglu %g, %u : tensor<?x?x1408xf32>
      %y = mm.linear %h, %wd : (tensor<?x?x1408xf32>, tensor<512x1408xf32>) -> tensor<?x?x512xf32>
      return %y : tensor<?x?x512xf32>
    }
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let hasConstantMaterializer = 1;
}

#endif // MM_DIALECT_TD

//===- SupernetOps.td - one-shot NAS choice points ------------*- tablegen -*-===//

#ifndef MM_SUPERNET_OPS_TD
#define MM_SUPERNET_OPS_TD

include "ir/MMBase.td"

def MM_ChoiceOp : MM_Op<"choice", [RecursiveMemoryEffects, NoRegionArguments,
                                   DeclareOpInterfaceMethods<RegionBranchOpInterface>]> {
  let summary = "a supernet choice point: one region per candidate";
  let description = [{
    A named choice point of a one-shot NAS supernet. Each region is one
    candidate sub-graph; it may use values defined above it (inputs and
    shared weights) and ends with `mm.yield` of values of the result types.
    `selector` (a 0-d integer tensor) picks the candidate that runs, so a
    supernet trains with a freshly sampled path each step. When the selector is
    a constant, canonicalization inlines the chosen region; the
    `mm-specialize-choices` pass does the same from a `name=index` list, which
    turns the supernet into one child architecture.

    ```mlir
    %y = mm.choice "block0.op" %sel : tensor<i64> -> (tensor<?x50x64xf32>) {
      %a = mm.conv1d %x, %w3 {padding = array<i64: 1, 1>} : (tensor<?x50x64xf32>, tensor<64x64x3xf32>) -> tensor<?x50x64xf32>
      mm.yield %a : tensor<?x50x64xf32>
    }, {
      mm.yield %x : tensor<?x50x64xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$name, MM_ScalarIndexTensor:$selector);
  let results = (outs Variadic<MM_AnyTensor>:$results);
  let regions = (region VariadicRegion<SizedRegion<1>>:$candidates);
  let assemblyFormat = [{
    $name $selector attr-dict `:` type($selector) `->` `(` type($results) `)` $candidates
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// Replaces this op by the body of candidate `index` (which must be valid).
    void replaceWithCandidate(::mlir::RewriterBase &rewriter, unsigned index);
  }];
}

def MM_YieldOp : MM_Op<"yield", [Pure, Terminator, ReturnLike, ParentOneOf<["ChoiceOp", "KernelOp"]>]> {
  let summary = "result of a choice candidate";
  let description = [{
    Ends a candidate region of `mm.choice`, or the body of `mm.kernel`, with
    the values it produces.

    ```mlir
    mm.yield %a : tensor<?x50x64xf32>
    ```
  }];
  let arguments = (ins Variadic<MM_AnyTensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ /* empty yield */ }]>];
}

#endif // MM_SUPERNET_OPS_TD

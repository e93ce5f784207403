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

#endif // MM_PASSES_TD

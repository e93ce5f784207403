// A generation step whose declared state no kernel updates in place: the
// compiler refuses it (mm-compile-module.test), since the engine keeps the
// state where the step writes it.
func.func @step(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "token_ids"},
                %pos: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "positions"},
                %cached: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "cache_positions"},
                %len: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "lengths"},
                %state: tensor<?x4xf32> {mm.dims = ["B", ""]})
    -> (tensor<?x4xf32>, tensor<?x4xf32>)
    attributes {mm.generation_step = {batch = "B", tokens = "T", logits = 0 : i64, all_logits = false}} {
  %logits = mm.exp %state : tensor<?x4xf32>
  return %logits, %state : tensor<?x4xf32>, tensor<?x4xf32>
}

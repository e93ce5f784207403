// mm.choice with a runtime selector (ir/ops/SupernetOps.td).

func.func @choice(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}, %w: tensor<8x8xf32>, %sel: tensor<i64>) -> tensor<?x8xf32> {
  %y = mm.choice "block0.op" %sel : tensor<i64> -> (tensor<?x8xf32>) {
    %a = mm.relu %x : tensor<?x8xf32>
    mm.yield %a : tensor<?x8xf32>
  }, {
    %b = mm.linear %x, %w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
    %c = mm.tanh %b : tensor<?x8xf32>
    mm.yield %c : tensor<?x8xf32>
  }, {
    mm.yield %x : tensor<?x8xf32>
  }
  return %y : tensor<?x8xf32>
}

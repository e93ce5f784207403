// A recsys training loss (embedding, LayerNorm, GRU, target attention, MLP, BCE):
// the compile-cost figures of docs/performance.md (AMER section).
func.func @loss(%h: tensor<?x50xi64> {mm.dims = ["B", ""]}, %m: tensor<?x50xf32> {mm.dims = ["B", ""]}, %t: tensor<?xi64> {mm.dims = ["B"]}, %y: tensor<?xf32> {mm.dims = ["B"]}) -> tensor<f32> {
  %E = mm.param "item_emb" : tensor<1700x16xf32>
  %x = mm.embedding %E, %h : (tensor<1700x16xf32>, tensor<?x50xi64>) -> tensor<?x50x16xf32>
  %te = mm.embedding %E, %t : (tensor<1700x16xf32>, tensor<?xi64>) -> tensor<?x16xf32>
  %g = mm.param "ln.w" : tensor<16xf32>
  %b = mm.param "ln.b" : tensor<16xf32>
  %n = mm.layer_norm %x, %g, %b : (tensor<?x50x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x50x16xf32>
  %wih = mm.param "gru.wih" : tensor<48x16xf32>
  %whh = mm.param "gru.whh" : tensor<48x16xf32>
  %bih = mm.param "gru.bih" : tensor<48xf32>
  %bhh = mm.param "gru.bhh" : tensor<48xf32>
  %s, %last = mm.gru %n, %wih, %whh, %bih, %bhh : (tensor<?x50x16xf32>, tensor<48x16xf32>, tensor<48x16xf32>, tensor<48xf32>, tensor<48xf32>) -> (tensor<?x50x16xf32>, tensor<?x16xf32>)
  %a = mm.relu %s : tensor<?x50x16xf32>
  %r = mm.add %x, %a : (tensor<?x50x16xf32>, tensor<?x50x16xf32>) -> tensor<?x50x16xf32>
  %p = mm.target_attention %r, %te mask(%m) : (tensor<?x50x16xf32>, tensor<?x16xf32>, tensor<?x50xf32>) -> tensor<?x16xf32>
  %c = mm.concat %p, %te dim 1 : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x32xf32>
  %w1 = mm.param "mlp.w1" : tensor<64x32xf32>
  %b1 = mm.param "mlp.b1" : tensor<64xf32>
  %h1 = mm.linear %c, %w1, %b1 : (tensor<?x32xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %a1 = mm.relu %h1 : tensor<?x64xf32>
  %w2 = mm.param "mlp.w2" : tensor<1x64xf32>
  %o = mm.linear %a1, %w2 : (tensor<?x64xf32>, tensor<1x64xf32>) -> tensor<?x1xf32>
  %o1 = mm.reshape %o [0] : (tensor<?x1xf32>) -> tensor<?xf32>
  %l = mm.sigmoid_bce mean %o1, %y : (tensor<?xf32>, tensor<?xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

//===- ParameterCount.cpp - MiniMax parameters, whole or per rank ----------===//
#include "tools/mm-plan/ParameterCount.h"

namespace mm::plan {

ParameterCounts countParameters(const MiniMaxConfig &c, const ParallelLayout &l) {
  const int64_t H = c.hiddenSize, A = c.attentionWidth() / l.tp, d = c.headDim;
  const int64_t kv = kvHeadsPerTpRank(l, c);
  ParameterCounts p;
  p.embedding = c.vocabSize * H / l.tp;
  p.lmHead = c.tieWordEmbeddings ? 0 : c.vocabSize * H / l.tp;
  for (LayerKind kind : c.layerKinds) {
    if (kind == LayerKind::Lightning) // W_qkv, W_gate, W_o and the RMSNorm over all heads
      p.attention += H * 3 * A + H * A + A * H + A;
    else // q, k, v, o; no biases
      p.attention += H * A + 2 * H * kv * d + A * H;
    p.router += H * c.numExperts;
    p.norms += 2 * H;
    const int64_t perExpert = 3 * H * (c.intermediateSize / l.etp); // SwiGLU: W1, W3, W2
    p.experts += (c.numExperts / l.ep) * perExpert;
    p.activeExperts += c.topK * perExpert;
  }
  p.norms += H; // the final norm
  return p;
}

} // namespace mm::plan

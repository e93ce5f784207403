//===- Plan.cpp - memory, communication and time of a layout ---------------===//
#include "tools/mm-plan/Plan.h"
#include "runtime/Error.h"
#include "tools/mm-plan/ParameterCount.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <tuple>

namespace mm::plan {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kBf16 = 2, kFp32 = 4;

double ceilDiv(double a, double b) { return std::ceil(a / b); }

std::string gib(double bytes) {
  std::ostringstream os;
  os.precision(1);
  os << std::fixed << bytes / kGiB << " GiB";
  return os.str();
}

/// The model's sizes as doubles, per rank where a layout splits them.
struct Dims {
  double H, Afull, A, d, V, E, k, I, Bk, heads, kv, L, Ll, Ls;
  Dims(const MiniMaxConfig &c, const ParallelLayout &l)
      : H(c.hiddenSize), Afull(c.attentionWidth()), A(c.attentionWidth() / l.tp), d(c.headDim),
        V(c.vocabSize), E(c.numExperts), k(c.topK), I(c.intermediateSize / l.etp), Bk(c.blockSize),
        heads(c.numHeads / l.tp), kv(kvHeadsPerTpRank(l, c)), L(c.numLayers),
        Ll(c.countLayers(LayerKind::Lightning)), Ls(c.countLayers(LayerKind::Softmax)) {}
};

/// Bytes live while one layer runs over n tokens of this rank's tp group
/// (nMoe token copies reach this rank's experts): the largest of the three
/// sublayers, plus the residual stream.
double layerWorkingSet(const Dims &m, double n, double nMoe, bool train) {
  double hidden = 2 * n * m.H * kBf16;
  // qkv, gate, o and the normed o; one block's scores per head (fp32); training keeps
  // the state entering every block for the backward.
  double lightning = n * 6 * m.A * kBf16 + m.heads * m.Bk * m.Bk * kFp32;
  if (train)
    lightning += ceilDiv(n, m.Bk) * m.heads * m.d * m.d * kFp32;
  double softmax = n * (2 * m.A + 2 * m.kv * m.d) * kBf16; // flash attention: no n x n scores
  // router logits (fp32), dispatched tokens, W1 and W3 outputs and their product, combined output.
  double moe = n * m.E * kFp32 + nMoe * (2 * m.H + 3 * m.I) * kBf16;
  return hidden + std::max({m.Ll > 0 ? lightning : 0, m.Ls > 0 ? softmax : 0, moe});
}

double allReduce(double bytes, int64_t p) { return 2.0 * (p - 1) / p * bytes; }
// Also an all-gather's or a reduce-scatter's: a rank sends all but its own share.
double allToAll(double bytes, int64_t p) { return double(p - 1) / p * bytes; }

} // namespace

Plan planLayout(const MiniMaxConfig &c, const ParallelLayout &l, const Hardware &hw,
                const Workload &w) {
  const Dims m(c, l);
  const ParameterCounts rank = countParameters(c, l);
  const ParameterCounts whole = countParameters(c);
  Plan p;
  p.layout = l;

  // Weights: bf16, or int8 experts with one bf16 scale per output channel.
  double expertBytes = w.int8Weights ? 1 : kBf16;
  p.memory.weights = rank.dense() * kBf16 + rank.experts * expertBytes;
  if (w.int8Weights)
    p.memory.weights += m.L * (m.E / l.ep) * (2 * m.I + m.H) * kBf16;

  const double seqs = ceilDiv(w.batch, l.dp);                   // sequences per dense replica
  const double ctxPerRank = ceilDiv(w.context, l.cp);           // cp splits every sequence
  const double totalTokens = seqs * l.dp * w.context;           // per step, all replicas
  const double denseTokens = seqs * ctxPerRank;                 // per rank of a tp group, per step
  const double moeCopies = totalTokens * l.etp / l.world * m.k; // token copies a rank's experts run

  if (!w.train) {
    p.memory.kvCache = seqs * ctxPerRank * m.Ls * m.kv * m.d * 2 * w.kvBytes;
    p.memory.lightningState = seqs * m.Ll * m.heads * m.d * m.d * kFp32;
    double n = ceilDiv(std::min<double>(w.prefillChunk, seqs * w.context), l.cp);
    p.memory.activations =
        layerWorkingSet(m, n, n / l.tp * l.etp * m.k, false) + seqs * m.V / l.tp * kFp32;
  } else {
    double n = w.microBatch * ctxPerRank;
    double checkpoints = m.L * n * m.H * kBf16 / l.tp; // layer inputs, sequence-parallel over tp
    double logits = std::min<double>(n, w.prefillChunk) * m.V / l.tp * kFp32 * 2; // chunked loss
    p.memory.activations =
        checkpoints + 2 * layerWorkingSet(m, n, n / l.tp * l.etp * m.k, true) + logits;
    p.memory.gradients = rank.total() * kBf16;
    // ZeRO-1: fp32 master weights and AdamW's two moments, sharded over the
    // ranks that hold the same weights: dp x cp (dense) and edp (experts).
    p.memory.optimizer =
        3 * kFp32 * (double(rank.dense()) / (l.dp * l.cp) + double(rank.experts) / l.edp);
    std::ostringstream os;
    os << "ZeRO-1: fp32 master weights + AdamW moments (12 B/parameter) sharded over dp x cp = "
       << l.dp * l.cp << " (dense) and edp = " << l.edp << " (experts); bf16 weights and gradients";
    p.optimizerSharding = os.str();
  }

  // Compute: 2 FLOPs per weight per token (LM head included, embedding is a lookup),
  // causal softmax attention over an average half context, lightning's block form.
  double perToken = 2.0 * (whole.active() + whole.lmHead) + m.Ls * 2 * m.Afull * w.context +
                    m.Ll * c.numHeads * (4 * m.d * m.d + 2 * m.Bk * m.d);
  double passes = w.train ? 3 : 1; // forward + backward (2x); recomputation is inside the MFU
  p.tokensPerStep = totalTokens;
  p.flopsPerGpu = totalTokens * perToken * passes / l.world;
  p.computeSeconds = p.flopsPerGpu / (hw.gpuTflops * 1e12 * hw.mfu);

  // Collectives. A group of `span` neighbouring ranks is inside a node when it fits one.
  auto add = [&](const std::string &kind, const std::string &name, int64_t size, int64_t span,
                 double bytes, bool exposed = true) {
    bool intra = span <= hw.gpusPerNode || l.world <= hw.gpusPerNode;
    Collective col{kind,
                   name + "=" + std::to_string(size) + (intra ? " (intra-node)" : " (inter-node)"),
                   bytes, bytes / ((intra ? hw.intraNodeGBps : hw.interNodeGBps) * 1e9), exposed};
    p.comm.push_back(col);
  };
  double actPasses = w.train ? 3 : 1; // forward, recomputed forward, backward
  if (l.tp >
      1) { // per layer: all-reduce the attention output, all-gather the tp group's
           // MoE outputs (each tp rank dispatched a 1/tp share); the vocab-parallel embedding
    double act = denseTokens * m.H * kBf16;
    add("tp_all_reduce", "tp", l.tp, l.tp,
        actPasses * (m.L * (allReduce(act, l.tp) + allToAll(act, l.tp)) + allReduce(act, l.tp)));
  }
  if (l.ep > 1) // dispatch and combine per layer
    add("ep_all_to_all", "ep", l.ep, l.ep * l.etp,
        actPasses * m.L * 2 * allToAll(moeCopies * m.H * kBf16, l.ep));
  if (l.etp > 1)
    add("etp_all_reduce", "etp", l.etp, l.etp,
        actPasses * m.L * allReduce(moeCopies * m.H * kBf16, l.etp));
  if (l.cp > 1 &&
      m.Ls > 0) // ring attention: a rank's K/V visit the cp - 1 others (backward: K/V and dK/dV)
    add("cp_ring_kv", "cp", l.cp, l.cp * l.tp,
        (w.train ? 4 : 1) * m.Ls * (l.cp - 1) * denseTokens * 2 * m.kv * m.d * kBf16);
  if (l.cp > 1 && m.Ll > 0) // LASP+: one all-gather of the per-rank states per lightning layer
    add("cp_lasp_state_all_gather", "cp", l.cp, l.cp * l.tp,
        actPasses * m.Ll * (l.cp - 1) * seqs * m.heads * m.d * m.d * kFp32);
  if (w.train && l.dp * l.cp > 1) // ZeRO-1: reduce-scatter gradients, all-gather weights
    add("dp_gradient_reduce", "dp x cp", l.dp * l.cp, l.world,
        allReduce(rank.dense() * kBf16, l.dp * l.cp), false);
  if (w.train && l.edp > 1)
    add("edp_gradient_reduce", "edp", l.edp, l.world, allReduce(rank.experts * kBf16, l.edp),
        false);

  // Gradient reduction overlaps the backward (two thirds of the compute); the rest is exposed.
  double hidden = 0;
  for (const Collective &col : p.comm)
    (col.exposed ? p.commSeconds : hidden) += col.seconds;
  p.commSeconds += std::max(0.0, hidden - p.computeSeconds * 2 / 3);
  p.stepSeconds = p.computeSeconds + p.commSeconds;

  if (!w.train) { // decode: every sequence one token, bound by reading weights, KV and states from
                  // HBM
    double tokensPerMoeReplica = seqs * l.dp / l.edp;
    double touched =
        1 - std::pow(1 - m.k / m.E, tokensPerMoeReplica); // share of local experts read
    double bytes = rank.dense() * kBf16 + (p.memory.weights - rank.dense() * kBf16) * touched +
                   p.memory.kvCache + p.memory.lightningState;
    p.decodeStepSeconds = bytes / (hw.hbmGBps * 1e9);
  }

  p.usableBytes = hw.gpuMemoryGiB * kGiB * hw.memoryUtilization;
  double total = p.memory.total();
  p.fits = total <= p.usableBytes;
  std::pair<double, const char *> terms[] = {{p.memory.weights, "weights"},
                                             {p.memory.kvCache, "kv_cache"},
                                             {p.memory.lightningState, "lightning_state"},
                                             {p.memory.activations, "activations"},
                                             {p.memory.gradients, "gradients"},
                                             {p.memory.optimizer, "optimizer"}};
  auto largest = *std::max_element(std::begin(terms), std::end(terms));
  std::ostringstream os;
  os << "of " << gib(p.usableBytes) << " usable (" << hw.gpuMemoryGiB << " GiB x "
     << hw.memoryUtilization << ")";
  p.reason = p.fits
                 ? "fits with " + gib(p.usableBytes - total) + " free " + os.str()
                 : "does not fit: needs " + gib(total) + " " + os.str() + "; the largest term is " +
                       largest.second + " (" + gib(largest.first) + ")";
  return p;
}

namespace {
std::vector<int64_t> divisors(int64_t n) {
  std::vector<int64_t> out;
  for (int64_t i = 1; i <= n; ++i)
    if (n % i == 0)
      out.push_back(i);
  return out;
}
} // namespace

std::vector<ParallelLayout> candidateLayouts(const MiniMaxConfig &c, const Hardware &hw) {
  std::vector<ParallelLayout> out;
  const int64_t n = hw.gpus;
  for (int64_t tp : divisors(n)) {
    if (tp > hw.gpusPerNode)
      continue;
    for (int64_t cp : divisors(n / tp))
      for (int64_t ep : divisors(std::gcd(n, c.numExperts)))
        for (int64_t etp : divisors(n / ep)) {
          if (etp > hw.gpusPerNode)
            continue;
          ParallelLayout l{n, tp, cp, n / (tp * cp), ep, etp, n / (ep * etp)};
          try {
            checkLayoutFitsModel(l, c);
          } catch (const Error &) {
            continue;
          }
          out.push_back(l);
        }
  }
  return out;
}

Choice chooseLayout(const MiniMaxConfig &c, const Hardware &hw, const Workload &w) {
  Choice ch;
  bool first = true;
  for (const ParallelLayout &l : candidateLayouts(c, hw)) {
    if (l.cp > w.context)
      continue; // a rank without tokens
    Plan p = planLayout(c, l, hw, w);
    ++ch.considered;
    if (first || p.memory.total() < ch.smallest.memory.total())
      ch.smallest = p;
    first = false;
    if (!p.fits)
      continue;
    ++ch.fitting;
    auto key = [](const Plan &q) {
      return std::make_tuple(q.stepSeconds, q.decodeStepSeconds, q.memory.total());
    };
    if (!ch.best || key(p) < key(*ch.best))
      ch.best = p;
  }
  return ch;
}

} // namespace mm::plan

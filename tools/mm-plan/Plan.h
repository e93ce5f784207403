//===- Plan.h - memory, communication and time of a layout -----*- C++ -*-===//
//
// A paper cost model of MiniMax-Text-01 on N GPUs (docs/parallelism.md has
// every formula and assumption): per-GPU bytes of weights, KV cache, lightning
// states, activations, gradients and ZeRO-1 optimizer state; bytes each GPU
// sends per step in every collective; and a step time from peak FLOPs x MFU
// plus the collectives at the link bandwidth of the group (NVLink inside a
// node, the network across nodes). An inference step is the prefill of the
// whole batch (time to first token); a training step is forward, backward and
// the optimizer over the global batch.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TOOLS_MMPLAN_PLAN_H
#define MM_TOOLS_MMPLAN_PLAN_H

#include "frontends/ModelConfig.h"
#include "frontends/ParallelLayout.h"

#include <optional>
#include <string>
#include <vector>

namespace mm::plan {

struct Hardware {
  int64_t gpus = 8;
  double gpuMemoryGiB = 80;
  double memoryUtilization = 0.9; // the share a framework may use (vLLM's default)
  int64_t gpusPerNode = 8;
  double intraNodeGBps = 200; // per GPU, one direction: H800 NVLink, 400 GB/s bidirectional
  double interNodeGBps = 50;  // per GPU, one direction: one 400 Gb/s NIC per GPU
  double hbmGBps = 3350;      // H800 / H100 SXM HBM3
  double gpuTflops = 989;     // dense BF16 peak, H800 / H100 SXM
  double mfu = 0.4;           // model FLOPs utilization assumed
};

struct Workload {
  bool train = false;
  int64_t context = 0;         // tokens per sequence
  int64_t batch = 1;           // sequences per step, all replicas together
  int64_t prefillChunk = 8192; // inference: tokens prefilled at once (chunked prefill)
  int64_t microBatch = 1;      // training: sequences per forward/backward on a replica
  bool int8Weights = false;    // inference: int8 expert weights (per-channel bf16 scales)
  int64_t kvBytes = 2;         // 2 (bf16) or 1 (fp8)
};

struct MemoryPerGpu {
  double weights = 0, kvCache = 0, lightningState = 0, activations = 0, gradients = 0,
         optimizer = 0;
  double total() const {
    return weights + kvCache + lightningState + activations + gradients + optimizer;
  }
};

/// One kind of collective over one step: bytes this GPU sends, and their time.
struct Collective {
  std::string kind;  // tp_all_reduce, ep_all_to_all, ...
  std::string group; // which ranks, e.g. "tp=8 (intra-node)"
  double bytes = 0;
  double seconds = 0;
  bool exposed = true; // false: hidden under compute (dp gradients under the backward)
};

struct Plan {
  ParallelLayout layout;
  MemoryPerGpu memory;
  double usableBytes = 0;
  bool fits = false;
  std::string reason;
  std::string optimizerSharding; // training: what ZeRO-1 shards over
  std::vector<Collective> comm;
  double tokensPerStep = 0;
  double flopsPerGpu = 0;
  double computeSeconds = 0, commSeconds = 0, stepSeconds = 0;
  double decodeStepSeconds = 0; // inference: one token for every sequence, HBM-bound
};

/// Plans `layout`, which must have passed checkLayoutFitsModel.
Plan planLayout(const MiniMaxConfig &config, const ParallelLayout &layout, const Hardware &hw,
                const Workload &work);

/// Every layout of hw.gpus ranks that fits the model, with tp and etp inside a node.
std::vector<ParallelLayout> candidateLayouts(const MiniMaxConfig &config, const Hardware &hw);

struct Choice {
  std::optional<Plan> best; // the fitting plan with the smallest step time
  Plan smallest;            // the plan with the least memory (what to report when none fits)
  int64_t considered = 0, fitting = 0;
};
Choice chooseLayout(const MiniMaxConfig &config, const Hardware &hw, const Workload &work);

} // namespace mm::plan

#endif // MM_TOOLS_MMPLAN_PLAN_H

//===- mm-plan.cpp - does MiniMax-Text-01 fit, and how fast, on N GPUs -----===//
//
//   mm-plan --config CONFIG.json --gpus N --gpu-memory-gb M --context T
//       [--weight-dtype bf16|int8] [--kv-dtype bf16|fp8] [--batch B]
//       [--parallel tp=A,ep=B,etp=C,cp=D,dp=E] [--train] [--json]
//       [--prefill-chunk C] [--micro-batch MB] [--memory-utilization U]
//       [--gpus-per-node G] [--intra-node-gbps X] [--inter-node-gbps Y]
//       [--hbm-gbps Z] [--gpu-tflops F] [--mfu U]
//
// Reports per-GPU memory, whether it fits, the bytes of every collective per
// step and a step-time estimate (docs/parallelism.md). Without --parallel it
// plans every valid layout and reports the fitting one with the smallest step
// time. A readable table, or one JSON object on the last line with --json.
//
//===----------------------------------------------------------------------===//
#include "frontends/ModelConfig.h"
#include "frontends/ParallelLayout.h"
#include "runtime/Error.h"
#include "tools/common/NumberValidators.h"
#include "tools/mm-plan/ParameterCount.h"
#include "tools/mm-plan/Plan.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

using namespace mm;
using namespace mm::plan;

namespace {

using mm::cli::kPositive;

struct Report {
  std::string configPath, weightDtype, kvDtype, chosenBy;
  Hardware hw;
  Workload work;
  ParameterCounts params;
  Plan plan;
  int64_t considered = 0, fitting = 0;
};

int64_t bytes(double b) { return std::llround(b); }

nlohmann::ordered_json toJson(const Report &r) {
  const Plan &p = r.plan;
  nlohmann::ordered_json j;
  j["config"] = r.configPath;
  j["parameters_total"] = r.params.total();
  j["parameters_active"] = r.params.active();
  j["parameters_active_counts"] =
      "per token, without the embedding and the LM head (as the MiniMax-01 report)";
  j["mode"] = r.work.train ? "training" : "inference";
  j["gpus"] = r.hw.gpus;
  j["layout"] = p.layout.str();
  j["layout_chosen_by"] = r.chosenBy;
  if (r.chosenBy == "search") {
    j["layouts_considered"] = r.considered;
    j["layouts_fitting"] = r.fitting;
  }
  j["weight_dtype"] = r.weightDtype;
  if (r.work.int8Weights)
    j["weight_dtype_scope"] =
        "int8 expert weights with per-output-channel bf16 scales; attention, router, "
        "embedding and LM head in bf16";
  j["kv_dtype"] = r.kvDtype;
  j["context"] = r.work.context;
  j["batch"] = r.work.batch;
  nlohmann::ordered_json mem;
  mem["weights"] = bytes(p.memory.weights);
  mem["kv_cache"] = bytes(p.memory.kvCache);
  mem["lightning_state"] = bytes(p.memory.lightningState);
  mem["activations"] = bytes(p.memory.activations);
  if (r.work.train) {
    mem["gradients"] = bytes(p.memory.gradients);
    mem["optimizer"] = bytes(p.memory.optimizer);
  }
  mem["total"] = bytes(p.memory.total());
  j["per_gpu_bytes"] = mem;
  j["usable_bytes"] = bytes(p.usableBytes);
  j["fits"] = p.fits;
  j["reason"] = p.reason;
  if (r.work.train)
    j["optimizer_sharding"] = p.optimizerSharding;
  nlohmann::ordered_json sent = nlohmann::ordered_json::object(),
                         secs = nlohmann::ordered_json::object(),
                         groups = nlohmann::ordered_json::object();
  for (const Collective &c : p.comm) {
    sent[c.kind] = bytes(c.bytes);
    secs[c.kind] = c.seconds;
    groups[c.kind] = c.group + (c.exposed ? "" : ", overlapped with the backward");
  }
  j["communication_bytes_per_step"] = sent;
  j["communication_seconds_per_step"] = secs;
  j["communication_groups"] = groups;
  j["step"] =
      r.work.train ? "forward + backward of the global batch" : "prefill of the whole batch";
  j["tokens_per_step"] = p.tokensPerStep;
  j["flops_per_gpu_per_step"] = p.flopsPerGpu;
  j["compute_seconds"] = p.computeSeconds;
  j["exposed_communication_seconds"] = p.commSeconds;
  j["step_seconds"] = p.stepSeconds;
  if (!r.work.train)
    j["decode_step_seconds"] = p.decodeStepSeconds;
  j["assumptions"] = {
      {"gpu_memory_gib", r.hw.gpuMemoryGiB},   {"memory_utilization", r.hw.memoryUtilization},
      {"gpus_per_node", r.hw.gpusPerNode},     {"intra_node_gbps", r.hw.intraNodeGBps},
      {"inter_node_gbps", r.hw.interNodeGBps}, {"hbm_gbps", r.hw.hbmGBps},
      {"gpu_tflops", r.hw.gpuTflops},          {"mfu", r.hw.mfu},
      {"prefill_chunk", r.work.prefillChunk},  {"micro_batch", r.work.microBatch}};
  return j;
}

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%10.2f GiB", bytes / (1024.0 * 1024 * 1024));
  return buf;
}

void printText(const Report &r) {
  const Plan &p = r.plan;
  std::printf("%s: %.2fB parameters, %.2fB active per token (without embedding and LM head)\n",
              r.configPath.c_str(), r.params.total() / 1e9, r.params.active() / 1e9);
  std::printf("%s on %lld GPUs, layout %s (%s", r.work.train ? "training" : "inference",
              (long long)r.hw.gpus, p.layout.str().c_str(),
              r.chosenBy == "search" ? "chosen among " : "--parallel");
  if (r.chosenBy == "search")
    std::printf("%lld, %lld fit", (long long)r.considered, (long long)r.fitting);
  std::printf(")\n\nper GPU\n");
  auto row = [](const char *name, double b) { std::printf("  %-16s %s\n", name, gib(b).c_str()); };
  row("weights", p.memory.weights);
  row("kv_cache", p.memory.kvCache);
  row("lightning_state", p.memory.lightningState);
  row("activations", p.memory.activations);
  if (r.work.train) {
    row("gradients", p.memory.gradients);
    row("optimizer", p.memory.optimizer);
  }
  row("total", p.memory.total());
  std::printf("  %s\n", p.reason.c_str());
  if (r.work.train)
    std::printf("  %s\n", p.optimizerSharding.c_str());
  std::printf("\ncommunication per step (bytes sent per GPU)\n");
  for (const Collective &c : p.comm)
    std::printf("  %-26s %s %9.3f s  %s%s\n", c.kind.c_str(), gib(c.bytes).c_str(), c.seconds,
                c.group.c_str(), c.exposed ? "" : ", overlapped");
  if (p.comm.empty())
    std::printf("  none\n");
  std::printf("\nstep (%s): %.3g tokens, compute %.3f s + exposed communication %.3f s = %.3f s\n",
              r.work.train ? "forward + backward" : "prefill", p.tokensPerStep, p.computeSeconds,
              p.commSeconds, p.stepSeconds);
  if (!r.work.train)
    std::printf("decode step (one token per sequence, HBM-bound): %.4f s\n", p.decodeStepSeconds);
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"mm-plan: memory, communication and step time of MiniMax-Text-01 on N GPUs"};
  std::string configPath, parallel, weightDtype = "bf16", kvDtype = "bf16";
  bool json = false, haveParallel = false;
  Hardware hw;
  Workload work;
  app.add_option("--config", configPath, "model config.json (either MiniMax naming)")->required();
  app.add_option("--gpus", hw.gpus, "number of GPUs (the world size)")
      ->required()
      ->check(kPositive)
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--gpu-memory-gb", hw.gpuMemoryGiB,
                 "memory of one GPU in GiB (80 for H800 / H100)")
      ->required()
      ->check(kPositive);
  app.add_option("--context", work.context, "tokens per sequence")
      ->required()
      ->check(kPositive)
      ->check(CLI::Range(int64_t(1), int64_t(1) << 34));
  app.add_option("--weight-dtype", weightDtype, "bf16, or int8 expert weights (inference)")
      ->check(CLI::IsMember({"bf16", "int8"}));
  app.add_option("--kv-dtype", kvDtype, "KV cache of the softmax layers: bf16 or fp8")
      ->check(CLI::IsMember({"bf16", "fp8"}));
  auto *batchOpt =
      app.add_option("--batch", work.batch,
                     "sequences per step, all replicas together (default: 1; training: --gpus)")
          ->check(kPositive);
  app.add_option("--parallel", parallel,
                 "layout tp=A,ep=B,etp=C,cp=D,dp=E (default: the best that fits)");
  app.add_flag("--train", work.train, "training (AdamW, ZeRO-1) instead of inference");
  app.add_flag("--json", json, "one JSON object on the last line");
  app.add_option("--prefill-chunk", work.prefillChunk,
                 "inference: tokens prefilled at once (chunked prefill)")
      ->check(kPositive);
  app.add_option("--micro-batch", work.microBatch, "training: sequences per forward/backward")
      ->check(kPositive);
  app.add_option("--memory-utilization", hw.memoryUtilization, "share of GPU memory usable")
      ->check(CLI::Range(0.01, 1.0));
  app.add_option("--gpus-per-node", hw.gpusPerNode, "GPUs sharing NVLink")->check(kPositive);
  app.add_option("--intra-node-gbps", hw.intraNodeGBps, "NVLink GB/s per GPU, one direction")
      ->check(kPositive);
  app.add_option("--inter-node-gbps", hw.interNodeGBps, "network GB/s per GPU, one direction")
      ->check(kPositive);
  app.add_option("--hbm-gbps", hw.hbmGBps, "HBM GB/s per GPU (decode estimate)")->check(kPositive);
  app.add_option("--gpu-tflops", hw.gpuTflops, "dense BF16 peak TFLOP/s per GPU")->check(kPositive);
  app.add_option("--mfu", hw.mfu, "model FLOPs utilization assumed")->check(CLI::Range(0.001, 1.0));
  CLI11_PARSE(app, argc, argv);
  haveParallel = app.count("--parallel") > 0;
  try {
    if (work.train && weightDtype != "bf16")
      throw makeError("--weight-dtype ", weightDtype,
                      ": training keeps bf16 weights (give --weight-dtype bf16)");
    work.int8Weights = weightDtype == "int8";
    work.kvBytes = kvDtype == "fp8" ? 1 : 2;
    if (work.train && batchOpt->count() == 0)
      work.batch = hw.gpus;
    MiniMaxConfig config = loadMiniMaxConfig(configPath);
    Report r{configPath,
             weightDtype,
             kvDtype,
             haveParallel ? "--parallel" : "search",
             hw,
             work,
             countParameters(config),
             {}};
    if (haveParallel) {
      ParallelLayout layout = parseParallelLayout(parallel, hw.gpus);
      checkLayoutFitsModel(layout, config);
      r.plan = planLayout(config, layout, hw, work);
    } else {
      Choice ch = chooseLayout(config, hw, work);
      if (ch.considered == 0)
        throw makeError("--gpus ", hw.gpus, ": no layout of ", hw.gpus, " GPUs fits ", configPath,
                        "'s heads and experts (give --parallel)");
      r.plan = ch.best ? *ch.best : ch.smallest; // none fits: report the smallest, with its reason
      r.considered = ch.considered;
      r.fitting = ch.fitting;
    }
    if (json)
      std::cout << toJson(r).dump() << "\n";
    else
      printText(r);
    return 0;
  } catch (const std::exception &e) {
    std::cerr << "mm-plan: error: " << e.what() << "\n";
    return 1;
  }
}

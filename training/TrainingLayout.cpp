//===- TrainingLayout.cpp -------------------------------------------------===//
#include "training/TrainingLayout.h"
#include "frontends/ParallelLayout.h"
#include "runtime/Error.h"
#include "runtime/dist/Collectives.h"

#include <ostream>

namespace mm::train {

TrainingLayout trainingLayout(const std::string &parallel, int64_t batchSize,
                              const MiniMaxConfig &config, const std::string &configPath,
                              int64_t seqLen) {
  ParallelLayout layout = parseParallelLayout(parallel, dist::world().size());
  checkLayoutFitsModel(layout, config);
  auto refuse = [&](const std::string &why) {
    return makeError("--parallel ", parallel, " (", layout.str(), "): ", why);
  };
  if (layout.cp > 1 && seqLen == 0)
    throw refuse("context-parallel training is not built for rl yet (mm-train pretrain and "
                 "sft run it)");
  if (layout.cp > 1 && seqLen % layout.cp != 0)
    throw refuse("--seq-len " + std::to_string(seqLen) + " does not split into cp=" +
                 std::to_string(layout.cp) + " equal chunks (the softmax attention's key "
                 "gradients and the MoE layers come back to each rank by an even split)");
  if (batchSize > 0 && batchSize % layout.dp != 0)
    throw makeError("--batch-size ", batchSize, " does not split evenly over dp=", layout.dp,
                    " data-parallel replicas");
  if (layout.tp == 1 && (layout.ep > 1 || layout.etp > 1))
    throw refuse("experts split across data-parallel replicas (ep without tp: the dense part "
                 "data parallel) are not built yet; ep and etp split within the tp group: "
                 "give tp=" + std::to_string(layout.ep * layout.etp) + " or more");
  if (layout.tp > 1)
    if (std::string why = modelParallelMismatch(config, layout.tp, layout.ep, layout.etp);
        !why.empty())
      throw refuse(why + " (" + configPath + ")");
  return {layout.dp, {layout.tp, layout.ep, layout.etp, layout.cp}};
}

int64_t contextParallelLength(int64_t length, int64_t cp, const MiniMaxConfig &config,
                              const std::string &configPath) {
  int64_t padded = (length + cp - 1) / cp * cp;
  if (padded != length && config.outputRouterLogits)
    throw makeError("--parallel cp=", cp, ": rows of ", length, " tokens would be padded to ",
                    padded, " to split evenly, and ", configPath, " sets output_router_logits: the "
                    "load-balancing loss would count the padding");
  return padded;
}

int64_t replicaOf(int64_t dp) {
  return dist::world().rank() / (dist::world().size() / dp);
}

void keepReplicaRows(const TrainingLayout &layout, Tensor &ids, Tensor &labels) {
  if (layout.dp == 1)
    return;
  int64_t rows = ids.dim(0) / layout.dp, first = replicaOf(layout.dp) * rows;
  ids = leadingRows(ids, first, rows);
  labels = leadingRows(labels, first, rows);
}

void describeLayout(const TrainingLayout &layout, int64_t batchSize, std::ostream &log) {
  const ModelParallelism &m = layout.model;
  if (layout.dp > 1)
    log << "mm-train: data parallel over " << layout.dp
        << (m.tp > 1 ? " groups of " + std::to_string(m.tp) + " ranks" : std::string(" ranks"))
        << ", " << (batchSize + layout.dp - 1) / layout.dp << " sequences each at most\n";
  if (layout.splitsModel())
    log << "mm-train: the model split over " << m.tp << " ranks (tp=" << m.tp << " ep=" << m.ep
        << " etp=" << m.etp << "); each rank holds its parts of the weights and their AdamW "
        << "moments\n";
  if (m.cp > 1)
    log << "mm-train: context parallel: each sequence in " << m.cp
        << " chunks, one a rank (LASP+ for lightning attention, the keys and values "
        << "all-gathered for softmax attention)\n";
}

void keepOwnStateAndReport(const StepProgram &program, TrainingState &state,
                           const TrainingLayout &layout, bool zero1, std::ostream &log,
                           std::ostream &rankLog) {
  uint64_t wholeOptimizerBytes = program.optimizerStateBytes(state);
  uint64_t wholeWeightBytes = StepProgram::weightBytes(state);
  program.keepOwnState(state);
  if (layout.dp > 1)
    log << "mm-train: AdamW moments: " << (program.optimizerStateBytes(state) >> 10)
        << " KiB per rank of " << (wholeOptimizerBytes >> 10) << " KiB"
        << (zero1 ? " (ZeRO-1)" : " (replicated; --optimizer-sharding none)") << "\n";
  dist::Collectives &world = dist::world();
  if (layout.splitsModel()) // every rank says what it holds (one write: no interleaving)
    rankLog << ("mm-train: rank " + std::to_string(world.rank()) + " of " +
                std::to_string(world.size()) + ": " +
                std::to_string(StepProgram::weightBytes(state)) + " of " +
                std::to_string(wholeWeightBytes) + " bytes of weights, " +
                std::to_string(program.optimizerStateBytes(state)) + " of " +
                std::to_string(wholeOptimizerBytes) + " bytes of AdamW moments\n")
            << std::flush;
}

} // namespace mm::train

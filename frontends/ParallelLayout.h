//===- ParallelLayout.h - the --parallel layout of a distributed run -*- C++ -*-===//
//
// MiniMax-01 decouples the layout of the MoE layers from that of the dense
// part (attention, embedding, LM head), over the same ranks:
//   dense: world = dp x cp x tp        MoE: world = edp x etp x ep
// `--parallel tp=2,ep=2` on 2 ranks puts both splits on the same ranks
// (dp = edp = 1); on 4 ranks the left-out dp and edp fill the world (2 each).
// Rank order follows Megatron: tp (etp) varies fastest, so a tp group is a
// run of neighbouring ranks, on one node when tp <= GPUs per node.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_PARALLELLAYOUT_H
#define MM_FRONTENDS_PARALLELLAYOUT_H

#include "frontends/ModelConfig.h"

#include <cstdint>
#include <string>

namespace mm {

struct ParallelLayout {
  int64_t world = 1;
  int64_t tp = 1, cp = 1, dp = 1;   // dense part: world = dp * cp * tp
  int64_t ep = 1, etp = 1, edp = 1; // MoE part:   world = edp * etp * ep

  /// Canonical text, "tp=2,cp=1,dp=1,ep=2,etp=1,edp=1"; parses back to itself.
  std::string str() const;
  bool trivial() const { return world == 1; }

  // Dense: tp fastest, then cp, then dp: rank = (dpI * cp + cpI) * tp + tpI.
  struct DenseCoord {
    int64_t tp, cp, dp;
  };
  DenseCoord dense(int64_t rank) const;
  // MoE: etp fastest, then ep, then edp: rank = (edpI * ep + epI) * etp + etpI.
  struct MoeCoord {
    int64_t etp, ep, edp;
  };
  MoeCoord moe(int64_t rank) const;
};

/// Parses `--parallel` text "tp=A,ep=B,etp=C,cp=D,dp=E" (any order, any
/// subset, edp= too) for `world` ranks. Left-out factors are 1, except dp and
/// edp, which fill the world: dp = world / (cp * tp), edp = world / (etp * ep).
/// Empty text is the all-default layout (pure data parallel). Throws mm::Error
/// naming the flag text and the factor: unknown or repeated key, a value that
/// is not a positive integer, products that do not divide or equal `world`.
ParallelLayout parseParallelLayout(const std::string &text, int64_t world);

/// `--parallel` text of one tensor-parallel group outside mpirun (a compile,
/// a printed graph): "tp=N[,ep=M][,etp=K]" over a world of tp ranks. Throws
/// naming the text for anything else (cp and dp are not built for inference).
ParallelLayout parseTensorParallelGroup(const std::string &text);

/// Checks the layout against the model: heads % tp, KV heads (tp % kv heads
/// when tp exceeds them: replicated, as vLLM does), experts % ep, expert FFN
/// width % etp, vocab % tp (vocab-sharded embedding and LM head). Throws
/// mm::Error naming the config file, the field and the factor.
void checkLayoutFitsModel(const ParallelLayout &layout, const MiniMaxConfig &config);

/// Why one tensor-parallel group of `tp` ranks, experts over `ep` of them and
/// each expert's FFN width over `etp`, cannot run the model as inference
/// splits it today (heads and experts divide, KV heads divide or replicate,
/// ep x etp divides tp, etp divides the FFN width), naming the config field;
/// empty when it can.
std::string modelParallelMismatch(const MiniMaxConfig &config, int64_t tp, int64_t ep,
                                  int64_t etp = 1);

/// KV heads each tp rank holds: numKvHeads / tp, or 1 (a replica) when tp > numKvHeads.
int64_t kvHeadsPerTpRank(const ParallelLayout &layout, const MiniMaxConfig &config);

} // namespace mm

#endif // MM_FRONTENDS_PARALLELLAYOUT_H

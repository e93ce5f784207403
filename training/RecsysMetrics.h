//===- RecsysMetrics.h - AUC, logloss, HR@K and NDCG@K -----------*- C++ -*-===//
//
// The metrics AMER's search and evaluation report. Conventions, stated
// because libraries differ on them:
//   * AUC is the Mann-Whitney statistic: the probability that a random
//     positive scores above a random negative, a tie counting one half
//     (sklearn's roc_auc_score);
//   * logloss clips probabilities to [1e-7, 1 - 1e-7];
//   * a leave-one-out target's rank among its candidates is 1 + the number of
//     other candidates scoring higher + the number tied with it: a tie earns
//     no credit, so a constant scorer gets the worst rank, not a lucky one.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_RECSYSMETRICS_H
#define MM_TRAINING_RECSYSMETRICS_H

#include <cstdint>
#include <vector>

namespace mm::train {

/// Throws mm::Error when the sizes differ, a label is not 0 or 1, or one
/// class is absent (AUC is undefined).
double rocAuc(const std::vector<double> &scores, const std::vector<double> &labels);

/// Mean binary cross-entropy of probabilities against 0/1 labels.
double logLoss(const std::vector<double> &probabilities, const std::vector<double> &labels);

/// The 1-based rank of candidate `target` among `scores[0..n)` (ties against it).
int64_t targetRank(const float *scores, int64_t n, int64_t target);

/// Mean over targets of [rank <= k] and of 1 / log2(rank + 1) [rank <= k].
double hitRate(const std::vector<int64_t> &ranks, int64_t k);
double ndcg(const std::vector<int64_t> &ranks, int64_t k);

} // namespace mm::train

#endif // MM_TRAINING_RECSYSMETRICS_H

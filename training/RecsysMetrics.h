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

/// DeLong's structural components of an AUC (DeLong, DeLong and
/// Clarke-Pearson, Biometrics 1988): per positive, the fraction of negatives
/// it outscores; per negative, the fraction of positives scoring above it
/// (ties count one half). The AUC is the mean of either list.
struct AucComponents {
  std::vector<double> positive, negative;
  double auc() const; // the mean of `positive`
};
AucComponents aucComponents(const std::vector<double> &scores, const std::vector<double> &labels);

/// The standard error of AUC(a) - AUC(b), two scorers of the same rows
/// (DeLong's paired variance: var(a.positive - b.positive) / P +
/// var(a.negative - b.negative) / N). Throws when the rows differ.
double pairedAucStandardError(const AucComponents &a, const AucComponents &b);

/// The standard error of mean(a) - mean(b) for per-row values of the same
/// rows (sample deviation of the differences / sqrt(rows)).
double pairedMeanStandardError(const std::vector<double> &a, const std::vector<double> &b);

/// Mean binary cross-entropy of probabilities against 0/1 labels.
double logLoss(const std::vector<double> &probabilities, const std::vector<double> &labels);

/// The 1-based rank of candidate `target` among `scores[0..n)` (ties against it).
int64_t targetRank(const float *scores, int64_t n, int64_t target);

/// Mean over targets of [rank <= k] and of 1 / log2(rank + 1) [rank <= k].
double hitRate(const std::vector<int64_t> &ranks, int64_t k);
double ndcg(const std::vector<int64_t> &ranks, int64_t k);
/// One target's NDCG@k term, 1 / log2(rank + 1) [rank <= k].
double ndcgTerm(int64_t rank, int64_t k);

} // namespace mm::train

#endif // MM_TRAINING_RECSYSMETRICS_H

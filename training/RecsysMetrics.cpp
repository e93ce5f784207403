//===- RecsysMetrics.cpp --------------------------------------------------===//
#include "training/RecsysMetrics.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mm::train {

namespace {
void checkLabels(size_t values, const std::vector<double> &labels, const char *metric) {
  if (values != labels.size())
    throw makeError(metric, ": ", values, " scores for ", labels.size(), " labels");
  if (labels.empty())
    throw makeError(metric, ": no examples");
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] != 0 && labels[i] != 1)
      throw makeError(metric, ": label ", i, " is ", labels[i], ", not 0 or 1");
}
} // namespace

double rocAuc(const std::vector<double> &scores, const std::vector<double> &labels) {
  checkLabels(scores.size(), labels, "AUC");
  for (size_t i = 0; i < scores.size(); ++i)
    if (std::isnan(scores[i]))
      throw makeError("AUC: score ", i, " is NaN");
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Average 1-based ranks over ties; U = sum of positive ranks - P (P + 1) / 2.
  double positiveRanks = 0, positives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]])
      ++j;
    double rank = (double(i + 1) + double(j)) / 2;
    for (size_t t = i; t < j; ++t)
      if (labels[order[t]] == 1) {
        positiveRanks += rank;
        positives += 1;
      }
    i = j;
  }
  double negatives = double(labels.size()) - positives;
  if (positives == 0 || negatives == 0)
    throw makeError("AUC: undefined with ", positives == 0 ? "no positive" : "no negative",
                    " example");
  return (positiveRanks - positives * (positives + 1) / 2) / (positives * negatives);
}

double logLoss(const std::vector<double> &probabilities, const std::vector<double> &labels) {
  checkLabels(probabilities.size(), labels, "logloss");
  double total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (std::isnan(probabilities[i]))
      throw makeError("logloss: probability ", i, " is NaN");
    double p = std::clamp(probabilities[i], 1e-7, 1 - 1e-7);
    total -= labels[i] == 1 ? std::log(p) : std::log1p(-p);
  }
  return total / double(labels.size());
}

int64_t targetRank(const float *scores, int64_t n, int64_t target) {
  if (target < 0 || target >= n)
    throw makeError("rank: target ", target, " outside the ", n, " candidates");
  if (std::isnan(scores[target]))
    throw makeError("rank: the target's score is NaN");
  int64_t rank = 1;
  for (int64_t i = 0; i < n; ++i)
    if (i != target && scores[i] >= scores[target])
      ++rank;
  return rank;
}

double hitRate(const std::vector<int64_t> &ranks, int64_t k) {
  if (ranks.empty())
    throw makeError("HR@", k, ": no targets");
  double hits = 0;
  for (int64_t r : ranks)
    hits += r <= k ? 1 : 0;
  return hits / double(ranks.size());
}

double ndcg(const std::vector<int64_t> &ranks, int64_t k) {
  if (ranks.empty())
    throw makeError("NDCG@", k, ": no targets");
  double total = 0;
  for (int64_t r : ranks)
    total += r <= k ? 1 / std::log2(double(r) + 1) : 0;
  return total / double(ranks.size());
}

} // namespace mm::train

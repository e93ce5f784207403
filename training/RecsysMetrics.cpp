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

AucComponents aucComponents(const std::vector<double> &scores, const std::vector<double> &labels) {
  checkLabels(scores.size(), labels, "AUC");
  for (size_t i = 0; i < scores.size(); ++i)
    if (std::isnan(scores[i]))
      throw makeError("AUC: score ", i, " is NaN");
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positives = 0;
  for (double l : labels)
    positives += l;
  double negatives = double(labels.size()) - positives;
  if (positives == 0 || negatives == 0)
    throw makeError("AUC: undefined with ", positives == 0 ? "no positive" : "no negative",
                    " example");
  // One pass over the ties in ascending order: a positive outscores the
  // negatives below its tie and half of those in it; a negative is
  // outscored by the positives above its tie and half of those in it.
  std::vector<double> component(scores.size()); // by row
  double negativesBelow = 0, positivesBelow = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    double tiedPositives = 0, tiedNegatives = 0;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) {
      (labels[order[j]] == 1 ? tiedPositives : tiedNegatives) += 1;
      ++j;
    }
    for (size_t t = i; t < j; ++t)
      component[order[t]] = labels[order[t]] == 1
                                ? (negativesBelow + tiedNegatives / 2) / negatives
                                : (positives - positivesBelow - tiedPositives / 2) / positives;
    negativesBelow += tiedNegatives;
    positivesBelow += tiedPositives;
    i = j;
  }
  // In row order, so two scorers' components pair up.
  AucComponents c;
  for (size_t r = 0; r < labels.size(); ++r)
    (labels[r] == 1 ? c.positive : c.negative).push_back(component[r]);
  return c;
}

double AucComponents::auc() const {
  return std::accumulate(positive.begin(), positive.end(), 0.0) / double(positive.size());
}

double rocAuc(const std::vector<double> &scores, const std::vector<double> &labels) {
  return aucComponents(scores, labels).auc();
}

namespace {
// Sample variance (n - 1) of a[i] - b[i].
double varianceOfDifferences(const std::vector<double> &a, const std::vector<double> &b,
                             const char *what) {
  if (a.size() != b.size())
    throw makeError(what, ": ", a.size(), " rows against ", b.size());
  if (a.size() < 2)
    return 0;
  double mean = 0;
  for (size_t i = 0; i < a.size(); ++i)
    mean += a[i] - b[i];
  mean /= double(a.size());
  double squares = 0;
  for (size_t i = 0; i < a.size(); ++i)
    squares += (a[i] - b[i] - mean) * (a[i] - b[i] - mean);
  return squares / double(a.size() - 1);
}
} // namespace

double pairedAucStandardError(const AucComponents &a, const AucComponents &b) {
  double v = varianceOfDifferences(a.positive, b.positive, "paired AUC, positives") /
                 double(a.positive.size()) +
             varianceOfDifferences(a.negative, b.negative, "paired AUC, negatives") /
                 double(a.negative.size());
  return std::sqrt(v);
}

double pairedMeanStandardError(const std::vector<double> &a, const std::vector<double> &b) {
  if (a.empty())
    throw makeError("paired mean: no rows");
  return std::sqrt(varianceOfDifferences(a, b, "paired mean") / double(a.size()));
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
    total += ndcgTerm(r, k);
  return total / double(ranks.size());
}

double ndcgTerm(int64_t rank, int64_t k) { return rank <= k ? 1 / std::log2(double(rank) + 1) : 0; }

} // namespace mm::train

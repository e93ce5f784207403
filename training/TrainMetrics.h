//===- TrainMetrics.h - metrics.csv, the loss curve, progress ---*- C++ -*-===//
#ifndef MM_TRAINING_TRAINMETRICS_H
#define MM_TRAINING_TRAINMETRICS_H

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace mm::train {

struct MetricRow {
  int64_t step;
  double loss, lr, gradNorm, tokensPerSecond, elapsedSeconds;
};

/// DIR/metrics.csv (header: step,loss,lr,grad_norm,tokens_per_s,elapsed_s)
/// and DIR/loss_curve.svg. On resume the rows up to the checkpoint's step
/// are kept and later ones (from the killed run) dropped.
class TrainMetrics {
public:
  TrainMetrics(const std::string &dir, int64_t resumedStep);
  void add(const MetricRow &row);
  /// Rewrites metrics.csv and loss_curve.svg atomically.
  void flush() const;
  const std::vector<MetricRow> &rows() const { return rows_; }

private:
  std::string dir_;
  std::vector<MetricRow> rows_;
};

/// A progress bar with loss and tokens/s on a terminal (stderr), plain lines
/// every `every` steps otherwise.
class Progress {
public:
  Progress(std::ostream &out, bool terminal, int64_t totalSteps, int64_t every);
  void update(const MetricRow &row);
  void finish();

private:
  std::ostream &out_;
  bool terminal_;
  int64_t total_, every_;
};

} // namespace mm::train

#endif // MM_TRAINING_TRAINMETRICS_H

//===- MetricsTable.h - a CSV of per-step metrics, resumable ----*- C++ -*-===//
#ifndef MM_TRAINING_METRICSTABLE_H
#define MM_TRAINING_METRICSTABLE_H

#include "training/CurveSvg.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mm::train {

/// Rows of named numeric columns, the first of them "step". A NaN is written
/// as an empty field (a metric not measured at that step). On resume, rows
/// up to the checkpoint's step are read back and later ones dropped.
class MetricsTable {
public:
  MetricsTable(std::string path, std::vector<std::string> columns, int64_t resumedStep);
  void add(std::vector<double> row);
  /// Rewrites the CSV atomically.
  void flush() const;
  const std::vector<std::vector<double>> &rows() const { return rows_; }
  /// (step, value) of one column, for a curve.
  CurveSeries series(const std::string &column) const;
  /// The column's value in the last row (NaN when there is none).
  double last(const std::string &column) const;

private:
  size_t index(const std::string &column) const;
  std::string path_;
  std::vector<std::string> columns_;
  std::vector<std::vector<double>> rows_;
};

} // namespace mm::train

#endif // MM_TRAINING_METRICSTABLE_H

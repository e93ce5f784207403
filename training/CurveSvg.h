//===- CurveSvg.h - training curves as a small SVG line chart ---*- C++ -*-===//
#ifndef MM_TRAINING_CURVESVG_H
#define MM_TRAINING_CURVESVG_H

#include <string>
#include <utility>
#include <vector>

namespace mm::train {

struct CurveSeries {
  std::string label;
  std::vector<std::pair<double, double>> points; // (step, value); NaN values are skipped
};

/// A line chart over step with the y range labelled and a legend when there
/// is more than one series.
std::string curvesSvg(const std::vector<CurveSeries> &series, const std::string &yLabel);

} // namespace mm::train

#endif // MM_TRAINING_CURVESVG_H

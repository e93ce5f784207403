//===- TrainMetrics.cpp ---------------------------------------------------===//
#include "training/TrainMetrics.h"
#include "runtime/Error.h"
#include "training/AtomicFile.h"
#include "training/CurveSvg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <sstream>

namespace mm::train {

TrainMetrics::TrainMetrics(const std::string &dir, int64_t resumedStep) : dir_(dir) {
  std::string path = dir + "/metrics.csv";
  if (resumedStep == 0 || !std::filesystem::exists(path))
    return;
  std::istringstream in(readFile(path));
  std::string line;
  std::getline(in, line); // header
  while (std::getline(in, line)) {
    MetricRow r{};
    long long step = 0;
    if (std::sscanf(line.c_str(), "%lld,%lf,%lf,%lf,%lf,%lf", &step, &r.loss, &r.lr, &r.gradNorm,
                    &r.tokensPerSecond, &r.elapsedSeconds) != 6)
      throw makeError(path, ": malformed row '", line, "'");
    r.step = step;
    if (r.step <= resumedStep)
      rows_.push_back(r);
  }
}

void TrainMetrics::add(const MetricRow &row) { rows_.push_back(row); }

void TrainMetrics::flush() const {
  std::string csv = "step,loss,lr,grad_norm,tokens_per_s,elapsed_s\n";
  char line[256];
  for (const MetricRow &r : rows_) {
    std::snprintf(line, sizeof line, "%lld,%.9g,%.9g,%.9g,%.6g,%.6g\n",
                  static_cast<long long>(r.step), r.loss, r.lr, r.gradNorm, r.tokensPerSecond,
                  r.elapsedSeconds);
    csv += line;
  }
  writeFileAtomically(dir_ + "/metrics.csv", csv);

  CurveSeries loss{"loss", {}};
  for (const MetricRow &r : rows_)
    loss.points.push_back({double(r.step), r.loss});
  std::string svg = curvesSvg({loss}, "training loss");
  writeFileAtomically(dir_ + "/loss_curve.svg", svg);
}

Progress::Progress(std::ostream &out, bool terminal, int64_t totalSteps, int64_t every)
    : out_(out), terminal_(terminal), total_(totalSteps), every_(std::max<int64_t>(1, every)) {}

void Progress::update(const MetricRow &r) {
  char line[256];
  if (terminal_) {
    int filled = static_cast<int>(30.0 * double(r.step) / double(std::max<int64_t>(1, total_)));
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(30, '.');
    std::snprintf(line, sizeof line, "\r[%s] %lld/%lld  loss %.4f  %.0f tok/s ", bar.c_str(),
                  static_cast<long long>(r.step), static_cast<long long>(total_), r.loss,
                  r.tokensPerSecond);
    out_ << line << std::flush;
    return;
  }
  if (r.step % every_ != 0 && r.step != total_)
    return;
  std::snprintf(line, sizeof line, "step %lld/%lld  loss %.4f  lr %.3g  grad_norm %.3g  %.0f tok/s\n",
                static_cast<long long>(r.step), static_cast<long long>(total_), r.loss, r.lr,
                r.gradNorm, r.tokensPerSecond);
  out_ << line << std::flush;
}

void Progress::finish() {
  if (terminal_)
    out_ << "\n";
}

} // namespace mm::train

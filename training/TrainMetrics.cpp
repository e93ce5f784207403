//===- TrainMetrics.cpp ---------------------------------------------------===//
#include "training/TrainMetrics.h"
#include "runtime/Error.h"
#include "training/AtomicFile.h"

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

  // The loss curve: an SVG polyline over step, with the axis ranges labelled.
  const double width = 640, height = 360, left = 60, right = 20, top = 20, bottom = 40;
  double maxStep = 1, lo = INFINITY, hi = -INFINITY;
  for (const MetricRow &r : rows_) {
    maxStep = std::max(maxStep, double(r.step));
    lo = std::min(lo, r.loss);
    hi = std::max(hi, r.loss);
  }
  if (!(hi > lo)) {
    lo = std::isfinite(lo) ? lo - 1 : 0;
    hi = lo + 2;
  }
  std::string points;
  for (const MetricRow &r : rows_) {
    double x = left + (width - left - right) * double(r.step) / maxStep;
    double y = top + (height - top - bottom) * (hi - r.loss) / (hi - lo);
    std::snprintf(line, sizeof line, "%.1f,%.1f ", x, y);
    points += line;
  }
  std::string svg;
  std::snprintf(line, sizeof line,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                "font-family=\"sans-serif\" font-size=\"12\">\n",
                width, height);
  svg += line;
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  std::snprintf(line, sizeof line,
                "<path d=\"M%.0f %.0f V%.0f H%.0f\" stroke=\"black\" fill=\"none\"/>\n", left, top,
                height - bottom, width - right);
  svg += line;
  svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"" + points +
         "\"/>\n";
  std::snprintf(line, sizeof line,
                "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3f</text>\n"
                "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3f</text>\n"
                "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">step (0 to %.0f)</text>\n"
                "<text x=\"12\" y=\"%.0f\" transform=\"rotate(-90 12 %.0f)\" "
                "text-anchor=\"middle\">training loss</text>\n",
                left - 4, top + 4, hi, left - 4, height - bottom, lo, (left + width - right) / 2,
                height - 10, maxStep, height / 2, height / 2);
  svg += line;
  svg += "</svg>\n";
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

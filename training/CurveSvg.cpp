//===- CurveSvg.cpp -------------------------------------------------------===//
#include "training/CurveSvg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mm::train {

std::string curvesSvg(const std::vector<CurveSeries> &series, const std::string &yLabel) {
  static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"};
  const double width = 640, height = 360, left = 60, right = 20, top = 20, bottom = 40;
  double maxStep = 1, lo = INFINITY, hi = -INFINITY;
  for (const CurveSeries &s : series)
    for (auto [x, y] : s.points) {
      if (!std::isfinite(y))
        continue;
      maxStep = std::max(maxStep, x);
      lo = std::min(lo, y);
      hi = std::max(hi, y);
    }
  if (!(hi > lo)) {
    lo = std::isfinite(lo) ? lo - 1 : 0;
    hi = lo + 2;
  }
  char line[512];
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
  for (size_t i = 0; i < series.size(); ++i) {
    std::string points;
    for (auto [x, y] : series[i].points) {
      if (!std::isfinite(y))
        continue;
      std::snprintf(line, sizeof line, "%.1f,%.1f ", left + (width - left - right) * x / maxStep,
                    top + (height - top - bottom) * (hi - y) / (hi - lo));
      points += line;
    }
    const char *color = colors[i % 5];
    svg += std::string("<polyline fill=\"none\" stroke=\"") + color +
           "\" stroke-width=\"1.5\" points=\"" + points + "\"/>\n";
    if (series.size() > 1) {
      std::snprintf(line, sizeof line,
                    "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\" text-anchor=\"end\">%s</text>\n",
                    width - right - 4, top + 14 + 14 * double(i), color,
                    series[i].label.c_str());
      svg += line;
    }
  }
  std::snprintf(line, sizeof line,
                "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3f</text>\n"
                "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3f</text>\n"
                "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">step (0 to %.0f)</text>\n"
                "<text x=\"12\" y=\"%.0f\" transform=\"rotate(-90 12 %.0f)\" "
                "text-anchor=\"middle\">%s</text>\n",
                left - 4, top + 4, hi, left - 4, height - bottom, lo, (left + width - right) / 2,
                height - 10, maxStep, height / 2, height / 2, yLabel.c_str());
  svg += line;
  svg += "</svg>\n";
  return svg;
}

} // namespace mm::train

//===- MetricsTable.cpp ---------------------------------------------------===//
#include "training/MetricsTable.h"
#include "runtime/Error.h"
#include "training/AtomicFile.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

namespace mm::train {

MetricsTable::MetricsTable(std::string path, std::vector<std::string> columns,
                           int64_t resumedStep)
    : path_(std::move(path)), columns_(std::move(columns)) {
  if (resumedStep == 0 || !std::filesystem::exists(path_))
    return;
  std::istringstream in(readFile(path_));
  std::string line;
  std::getline(in, line); // header
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::istringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) {
      char *end = nullptr;
      double v = field.empty() ? NAN : std::strtod(field.c_str(), &end);
      if (!field.empty() && *end != '\0')
        throw makeError(path_, ": malformed field '", field, "' in row '", line, "'");
      row.push_back(v);
    }
    if (!line.empty() && line.back() == ',')
      row.push_back(NAN);
    if (row.size() != columns_.size())
      throw makeError(path_, ": row '", line, "' has ", row.size(), " fields, expected ",
                      columns_.size());
    if (row[0] <= double(resumedStep))
      rows_.push_back(std::move(row));
  }
}

void MetricsTable::add(std::vector<double> row) {
  if (row.size() != columns_.size())
    throw makeError("metrics row of ", row.size(), " values for ", columns_.size(), " columns");
  rows_.push_back(std::move(row));
}

void MetricsTable::flush() const {
  std::string csv;
  for (size_t i = 0; i < columns_.size(); ++i)
    csv += (i ? "," : "") + columns_[i];
  csv += "\n";
  char buffer[64];
  for (const auto &row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i)
        csv += ",";
      if (std::isnan(row[i]))
        continue;
      std::snprintf(buffer, sizeof buffer, i == 0 ? "%.0f" : "%.9g", row[i]);
      csv += buffer;
    }
    csv += "\n";
  }
  writeFileAtomically(path_, csv);
}

size_t MetricsTable::index(const std::string &column) const {
  for (size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i] == column)
      return i;
  throw makeError("no metric column '", column, "'");
}

CurveSeries MetricsTable::series(const std::string &column) const {
  CurveSeries s{column, {}};
  size_t i = index(column);
  for (const auto &row : rows_)
    s.points.push_back({row[0], row[i]});
  return s;
}

double MetricsTable::last(const std::string &column) const {
  return rows_.empty() ? NAN : rows_.back()[index(column)];
}

} // namespace mm::train

//===- AtomicFile.cpp -----------------------------------------------------===//
#include "frontends/recbole/AtomicFile.h"
#include "runtime/Error.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace mm::recbole {

const char *fieldTypeName(FieldType type) {
  switch (type) {
  case FieldType::Token:
    return "token";
  case FieldType::TokenSeq:
    return "token_seq";
  case FieldType::Float:
    return "float";
  case FieldType::FloatSeq:
    return "float_seq";
  }
  return "?";
}

const Column *AtomicFile::find(const std::string &name) const {
  for (const Column &c : columns)
    if (c.name == name)
      return &c;
  return nullptr;
}

const Column &AtomicFile::require(const std::string &name, FieldType type) const {
  const Column *c = find(name);
  if (!c)
    throw makeError(path, ": no field '", name, ":", fieldTypeName(type), "' in the header");
  if (c->type != type)
    throw makeError(path, ": field '", name, "' is ", fieldTypeName(c->type), ", expected ",
                    fieldTypeName(type));
  return *c;
}

namespace {
std::vector<std::string> split(const std::string &line, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = line.find(separator, start);
    parts.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos)
      return parts;
    start = end + 1;
  }
}

/// Space-separated values; runs of spaces and an empty cell give no empty items.
std::vector<std::string> words(const std::string &cell) {
  std::vector<std::string> out;
  std::istringstream in(cell);
  std::string w;
  while (in >> w)
    out.push_back(w);
  return out;
}

double number(const std::string &text, const std::string &where, const std::string &field) {
  const char *begin = text.c_str();
  char *end = nullptr;
  errno = 0;
  double v = std::strtod(begin, &end);
  if (text.empty() || end == begin || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    throw makeError(where, ": field '", field, "': '", text, "' is not a finite number");
  return v;
}
} // namespace

AtomicFile parseAtomicFile(const std::string &text, const std::string &path) {
  AtomicFile file;
  file.path = path;
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line.empty())
    throw makeError(path, ":1: no header (expected tab-separated name:type fields)");
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  std::set<std::string> names;
  for (const std::string &spec : split(line, '\t')) {
    size_t colon = spec.rfind(':');
    std::string name = spec.substr(0, colon), type = colon == std::string::npos ? "" : spec.substr(colon + 1);
    Column c;
    c.name = name;
    if (type == "token")
      c.type = FieldType::Token;
    else if (type == "token_seq")
      c.type = FieldType::TokenSeq;
    else if (type == "float")
      c.type = FieldType::Float;
    else if (type == "float_seq")
      c.type = FieldType::FloatSeq;
    else
      throw makeError(path, ":1: field '", spec, "': unknown type '", type,
                      "' (token, token_seq, float or float_seq)");
    if (name.empty())
      throw makeError(path, ":1: field '", spec, "' has no name");
    if (!names.insert(name).second)
      throw makeError(path, ":1: field '", name, "' appears twice");
    file.columns.push_back(std::move(c));
  }
  int64_t lineNumber = 1;
  while (std::getline(in, line)) {
    ++lineNumber;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty())
      continue; // a trailing blank line
    std::vector<std::string> cells = split(line, '\t');
    std::string where = path + ":" + std::to_string(lineNumber);
    if (cells.size() != file.columns.size())
      throw makeError(where, ": ", cells.size(), " fields, the header has ", file.columns.size());
    for (size_t i = 0; i < cells.size(); ++i) {
      Column &c = file.columns[i];
      switch (c.type) {
      case FieldType::Token:
        c.tokens.push_back(cells[i]);
        break;
      case FieldType::TokenSeq:
        c.tokenSeqs.push_back(words(cells[i]));
        break;
      case FieldType::Float:
        c.floats.push_back(number(cells[i], where, c.name));
        break;
      case FieldType::FloatSeq: {
        std::vector<double> values;
        for (const std::string &w : words(cells[i]))
          values.push_back(number(w, where, c.name));
        c.floatSeqs.push_back(std::move(values));
        break;
      }
      }
    }
    if (file.rows != lineNumber - 2)
      throw makeError(where, ": blank lines inside the data");
    ++file.rows;
  }
  return file;
}

AtomicFile readAtomicFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw makeError(path, ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return parseAtomicFile(text.str(), path);
}

} // namespace mm::recbole

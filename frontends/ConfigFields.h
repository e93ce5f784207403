//===- ConfigFields.h - typed fields of a JSON config, with messages -*- C++ -*-===//
//
// Every config reader (config.json of the text and VL models) reads its
// fields through this, so a bad value is reported the same way: the file,
// the field, what was expected and what was found.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_CONFIGFIELDS_H
#define MM_FRONTENDS_CONFIGFIELDS_H

#include "runtime/Error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mm {

/// Typed access to the fields of one JSON object, with messages that name the
/// file and the field.
class ConfigFields {
public:
  ConfigFields(const nlohmann::json &object, std::string source) : obj(object), source(std::move(source)) {}

  bool has(const char *key) const { return obj.contains(key) && !obj[key].is_null(); }

  [[noreturn]] void fail(const std::string &key, const std::string &what) const {
    throw makeError(source, ": field '", key, "': ", what);
  }

  /// A positive integer no larger than `max` (keeps later size arithmetic
  /// far from overflow).
  int64_t positive(const char *key, std::optional<int64_t> fallback = std::nullopt,
                   int64_t max = int64_t(1) << 31) const {
    if (!has(key)) {
      if (fallback)
        return *fallback;
      fail(key, "is missing");
    }
    const nlohmann::json &v = obj[key];
    if (!v.is_number_integer())
      fail(key, "expected an integer, got " + v.dump());
    int64_t x = v.get<int64_t>();
    if (x <= 0 || x > max)
      fail(key, "expected an integer in [1, " + std::to_string(max) + "], got " + v.dump());
    return x;
  }

  double number(const char *key, std::optional<double> fallback = std::nullopt) const {
    if (!has(key)) {
      if (fallback)
        return *fallback;
      fail(key, "is missing");
    }
    const nlohmann::json &v = obj[key];
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      fail(key, "expected a finite number, got " + v.dump());
    return v.get<double>();
  }

  double positiveNumber(const char *key, std::optional<double> fallback = std::nullopt) const {
    double x = number(key, fallback);
    if (!(x > 0))
      fail(key, "expected a positive number, got " + std::to_string(x));
    return x;
  }

  bool boolean(const char *key, bool fallback) const {
    if (!has(key))
      return fallback;
    if (!obj[key].is_boolean())
      fail(key, "expected true or false, got " + obj[key].dump());
    return obj[key].get<bool>();
  }

  std::string string(const char *key) const {
    if (!has(key))
      return "";
    if (!obj[key].is_string())
      fail(key, "expected a string, got " + obj[key].dump());
    return obj[key].get<std::string>();
  }

  /// One id or a list of ids (eos_token_id may be either).
  std::vector<int64_t> ids(const char *key) const {
    if (!has(key))
      return {};
    const nlohmann::json &v = obj[key];
    std::vector<int64_t> out;
    auto add = [&](const nlohmann::json &x) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0)
        fail(key, "expected a non-negative token id, got " + x.dump());
      out.push_back(x.get<int64_t>());
    };
    if (v.is_array())
      for (const nlohmann::json &x : v)
        add(x);
    else
      add(v);
    return out;
  }

  const nlohmann::json &obj;
  std::string source;
};

} // namespace mm

#endif // MM_FRONTENDS_CONFIGFIELDS_H

//===- JsonCursor.h - typed tokenizer.json access with error paths -*- C++ -*-===//
//
// A view of one JSON value plus where it sits in the file ("model.merges[12]"),
// so every parse error can say which file and which field is wrong.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_TOKENIZER_JSONCURSOR_H
#define MM_FRONTENDS_TOKENIZER_JSONCURSOR_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace mm::tokenizer {

class JsonCursor {
public:
  JsonCursor(const nlohmann::json &value, std::string path, const std::string &sourceName)
      : json(&value), fieldPath(std::move(path)), source(&sourceName) {}

  const nlohmann::json &value() const { return *json; }
  const std::string &path() const { return fieldPath; }
  const std::string &sourceName() const { return *source; }
  bool isNull() const { return json->is_null(); }

  /// Throws mm::Error "<source>: <path>: <message>".
  [[noreturn]] void fail(const std::string &message) const;

  /// The member `key`; it must exist (it may be null).
  JsonCursor field(const std::string &key) const;
  /// The member `key`, or nullopt when it is absent or null.
  std::optional<JsonCursor> optionalField(const std::string &key) const;
  /// Element `index` of an array.
  JsonCursor element(size_t index) const;
  /// Member `key` of an object, addressed as path["key"] (for vocab entries).
  JsonCursor entry(const std::string &key) const;

  const nlohmann::json::object_t &object() const;
  const nlohmann::json::array_t &array() const;
  std::string string() const;
  bool boolean() const;
  /// A non-negative integer that fits a token id (u32, as in tokenizers).
  uint32_t tokenId() const;

  /// Member `key` as a bool, `fallback` when absent or null.
  bool booleanOr(const std::string &key, bool fallback) const;

private:
  std::string typeName() const;
  const nlohmann::json *json;
  std::string fieldPath;
  const std::string *source;
};

} // namespace mm::tokenizer

#endif // MM_FRONTENDS_TOKENIZER_JSONCURSOR_H

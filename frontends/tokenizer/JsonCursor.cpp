//===- JsonCursor.cpp - typed tokenizer.json access with error paths ------===//

#include "frontends/tokenizer/JsonCursor.h"

#include "runtime/Error.h"

#include <limits>

namespace mm::tokenizer {

void JsonCursor::fail(const std::string &message) const {
  if (fieldPath.empty())
    throw makeError(*source, ": ", message);
  throw makeError(*source, ": ", fieldPath, ": ", message);
}

std::string JsonCursor::typeName() const {
  if (json->is_number_integer())
    return "an integer";
  if (json->is_number_float())
    return "a float";
  const char *name = json->type_name();
  return (name[0] == 'a' || name[0] == 'o' ? "an " : "a ") + std::string(name);
}

JsonCursor JsonCursor::field(const std::string &key) const {
  const auto &members = object();
  auto it = members.find(key);
  std::string childPath = fieldPath.empty() ? key : fieldPath + "." + key;
  if (it == members.end())
    JsonCursor(*json, childPath, *source).fail("missing field");
  return JsonCursor(it->second, childPath, *source);
}

std::optional<JsonCursor> JsonCursor::optionalField(const std::string &key) const {
  const auto &members = object();
  auto it = members.find(key);
  if (it == members.end() || it->second.is_null())
    return std::nullopt;
  return JsonCursor(it->second, fieldPath.empty() ? key : fieldPath + "." + key, *source);
}

JsonCursor JsonCursor::element(size_t index) const {
  return JsonCursor(array().at(index), fieldPath + "[" + std::to_string(index) + "]", *source);
}

JsonCursor JsonCursor::entry(const std::string &key) const {
  const auto &members = object();
  // Keys come from a parsed file, so they are valid UTF-8 and dump() cannot throw.
  return JsonCursor(members.at(key), fieldPath + "[" + nlohmann::json(key).dump() + "]", *source);
}

const nlohmann::json::object_t &JsonCursor::object() const {
  if (!json->is_object())
    fail("expected an object, got " + typeName());
  return *json->get_ptr<const nlohmann::json::object_t *>();
}

const nlohmann::json::array_t &JsonCursor::array() const {
  if (!json->is_array())
    fail("expected an array, got " + typeName());
  return *json->get_ptr<const nlohmann::json::array_t *>();
}

std::string JsonCursor::string() const {
  if (!json->is_string())
    fail("expected a string, got " + typeName());
  return json->get<std::string>();
}

bool JsonCursor::boolean() const {
  if (!json->is_boolean())
    fail("expected a boolean, got " + typeName());
  return json->get<bool>();
}

uint32_t JsonCursor::tokenId() const {
  if (json->is_number_unsigned()) {
    uint64_t id = json->get<uint64_t>();
    if (id <= std::numeric_limits<uint32_t>::max())
      return static_cast<uint32_t>(id);
    fail("token id " + std::to_string(id) + " does not fit in 32 bits");
  }
  if (json->is_number_integer())
    fail("token id " + std::to_string(json->get<int64_t>()) + " is negative");
  fail("expected a token id (non-negative integer), got " + typeName());
}

bool JsonCursor::booleanOr(const std::string &key, bool fallback) const {
  auto member = optionalField(key);
  return member ? member->boolean() : fallback;
}

} // namespace mm::tokenizer

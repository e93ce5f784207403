//===- Tokenizer.cpp - Hugging Face tokenizer.json byte-level BPE ---------===//
//
// Loading checks every field the pipeline depends on; encoding follows
// tokenizers' order: split on added tokens, pre-tokenize the rest into words,
// BPE each word.
//
//===----------------------------------------------------------------------===//

#include "frontends/tokenizer/Tokenizer.h"

#include "frontends/tokenizer/AddedVocabulary.h"
#include "frontends/tokenizer/BpeModel.h"
#include "frontends/tokenizer/ByteLevel.h"
#include "frontends/tokenizer/JsonCursor.h"
#include "frontends/tokenizer/PreTokenizer.h"
#include "frontends/tokenizer/Utf8.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

namespace mm {

using namespace tokenizer;

struct Tokenizer::Impl {
  std::string sourceName;
  std::unique_ptr<BpeModel> model;
  AddedVocabulary added;
  std::optional<PreTokenizer> preTokenizer;
  bool byteLevelDecoder = false;
  int64_t vocabSize = 0;

  /// The token of `id` (added tokens first, as in tokenizers), or null.
  const std::string *tokenOf(int64_t id) const {
    if (id < 0 || id > std::numeric_limits<uint32_t>::max())
      return nullptr;
    if (const AddedToken *token = added.tokenForId(static_cast<uint32_t>(id)))
      return &token->content;
    return model->idToToken(static_cast<uint32_t>(id));
  }
};

namespace {

/// Fails unless `key` is absent or null; used for parts we do not implement.
void requireNull(const JsonCursor &root, const std::string &key, const std::string &why) {
  if (auto field = root.optionalField(key))
    field->fail(why);
}

void checkNormalizer(const JsonCursor &root) {
  if (auto normalizer = root.optionalField("normalizer")) {
    std::string type = normalizer->field("type").string();
    normalizer->fail("unsupported normalizer type '" + type + "' (only null is supported)");
  }
}

bool parseDecoder(const JsonCursor &root) {
  auto decoder = root.optionalField("decoder");
  if (!decoder)
    return false;
  JsonCursor type = decoder->field("type");
  if (type.string() != "ByteLevel")
    type.fail("unsupported decoder type '" + type.string() + "' (supported: ByteLevel, or null)");
  return true;
}

} // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer &&) noexcept = default;
Tokenizer &Tokenizer::operator=(Tokenizer &&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::fromFile(const std::string &path) {
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    throw makeError(path, ": cannot open tokenizer file: ", std::strerror(errno));
  std::string text;
  char buffer[1 << 16];
  size_t count;
  while ((count = std::fread(buffer, 1, sizeof buffer, file)) > 0)
    text.append(buffer, count);
  bool failed = std::ferror(file);
  int readErrno = errno;
  std::fclose(file);
  if (failed)
    throw makeError(path, ": cannot read tokenizer file: ", std::strerror(readErrno));
  return fromJson(text, path);
}

Tokenizer Tokenizer::fromJson(const std::string &json, const std::string &sourceName) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception &e) {
    throw makeError(sourceName, ": invalid JSON: ", e.what());
  }

  auto impl = std::make_unique<Impl>();
  impl->sourceName = sourceName;
  JsonCursor root(document, "", impl->sourceName);
  root.object();

  if (auto version = root.optionalField("version"); version && version->string() != "1.0")
    version->fail("unknown tokenizer.json version '" + version->string() + "' (expected 1.0)");
  requireNull(root, "truncation", "truncation is not supported (must be null)");
  requireNull(root, "padding", "padding is not supported (must be null)");
  checkNormalizer(root);

  impl->model = BpeModel::parse(root.field("model"));
  impl->added = AddedVocabulary::parse(root.optionalField("added_tokens"), *impl->model);
  if (auto preTokenizer = root.optionalField("pre_tokenizer"))
    impl->preTokenizer = PreTokenizer::parse(*preTokenizer);
  impl->byteLevelDecoder = parseDecoder(root);
  // post_processor only adds special tokens, which encode() never asks for.

  const auto &modelVocab = impl->model->vocabulary();
  impl->vocabSize = static_cast<int64_t>(modelVocab.size());
  for (const auto &entry : impl->added.contentToId())
    if (!modelVocab.count(entry.first))
      ++impl->vocabSize;
  return Tokenizer(std::move(impl));
}

std::vector<int64_t> Tokenizer::encode(std::string_view text) const {
  if (size_t bad = findInvalidUtf8(text); bad != std::string_view::npos)
    throw makeError(impl->sourceName, ": encode: input is not valid UTF-8 (byte ", bad, ")");
  std::vector<uint32_t> ids;
  for (const TextPiece &piece : impl->added.split(text)) {
    if (piece.addedId) {
      ids.push_back(*piece.addedId);
    } else if (impl->preTokenizer) {
      for (const std::string &word : impl->preTokenizer->split(piece.text))
        impl->model->tokenize(word, ids);
    } else {
      impl->model->tokenize(piece.text, ids);
    }
  }
  return std::vector<int64_t>(ids.begin(), ids.end());
}

std::string Tokenizer::decode(const std::vector<int64_t> &ids, bool skipSpecialTokens) const {
  std::vector<const std::string *> tokens;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string *token = impl->tokenOf(ids[i]);
    if (!token)
      throw makeError(impl->sourceName, ": decode: ids[", i, "] = ", ids[i],
                      " is not a token id (vocabulary size ", impl->vocabSize, ")");
    if (skipSpecialTokens && impl->added.isSpecialContent(*token))
      continue;
    tokens.push_back(token);
  }
  std::string text;
  if (impl->byteLevelDecoder) {
    for (const std::string *token : tokens)
      appendTokenBytes(text, *token);
    return fromUtf8Lossy(text);
  }
  // Without a decoder tokenizers joins the tokens with spaces.
  for (size_t i = 0; i < tokens.size(); ++i)
    text += (i ? " " : "") + *tokens[i];
  return text;
}

int64_t Tokenizer::vocabSize() const { return impl->vocabSize; }

std::optional<int64_t> Tokenizer::tokenToId(std::string_view token) const {
  std::string key(token);
  if (auto id = impl->added.tokenToId(key))
    return *id;
  if (auto id = impl->model->tokenToId(key))
    return *id;
  return std::nullopt;
}

std::optional<std::string> Tokenizer::idToToken(int64_t id) const {
  if (const std::string *token = impl->tokenOf(id))
    return *token;
  return std::nullopt;
}

bool Tokenizer::isSpecial(int64_t id) const {
  const std::string *token = impl->tokenOf(id);
  return token && impl->added.isSpecialContent(*token);
}

} // namespace mm

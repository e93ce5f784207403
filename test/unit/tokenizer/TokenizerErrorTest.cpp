//===- TokenizerErrorTest.cpp - bad tokenizer files and bad inputs --------===//
//
// Every rejection is an mm::Error whose message names the file and the field.
//
//===----------------------------------------------------------------------===//

#include "TokenizerTestUtil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace {

using nlohmann::json;

/// A small valid byte-level BPE tokenizer.json that each test breaks in one place.
json validConfig() {
  return json::parse(R"({
    "version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [{"id": 5, "content": "<s>", "single_word": false, "lstrip": false,
                      "rstrip": false, "normalized": false, "special": true}],
    "normalizer": null,
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
    "post_processor": null,
    "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
    "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
              "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
              "ignore_merges": false,
              "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "c": 4, "<s>": 5, "abc": 6},
              "merges": [["a", "b"], ["ab", "c"]]}
  })");
}

/// Loads `config` and returns the error message; fails the test if it loads.
std::string loadError(const json &config) {
  try {
    mm::Tokenizer::fromJson(config.dump(), "tok.json");
  } catch (const mm::Error &e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an mm::Error";
  return "";
}

std::string loadError(const std::string &text) {
  try {
    mm::Tokenizer::fromJson(text, "tok.json");
  } catch (const mm::Error &e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an mm::Error";
  return "";
}

#define EXPECT_STARTS_WITH(message, prefix)                                                        \
  EXPECT_EQ(std::string(message).substr(0, std::string(prefix).size()), prefix)                    \
      << "full message: " << (message)

TEST(TokenizerErrors, ValidConfigLoads) {
  mm::Tokenizer tokenizer = mm::Tokenizer::fromJson(validConfig().dump(), "tok.json");
  EXPECT_EQ(tokenizer.encode("ab c<s>abc"), (std::vector<int64_t>{2, 3, 4, 5, 6}));
}

TEST(TokenizerErrors, MissingFile) {
  std::string path = ::testing::TempDir() + "/no-such-dir/tokenizer.json";
  try {
    mm::Tokenizer::fromFile(path);
    FAIL() << "expected an mm::Error";
  } catch (const mm::Error &e) {
    EXPECT_STARTS_WITH(e.what(), path + ": cannot open tokenizer file: ");
  }
}

TEST(TokenizerErrors, DirectoryInsteadOfFile) {
  std::string dir = ::testing::TempDir();
  try {
    mm::Tokenizer::fromFile(dir);
    FAIL() << "expected an mm::Error";
  } catch (const mm::Error &e) {
    EXPECT_STARTS_WITH(e.what(), dir + ": cannot read tokenizer file: ");
  }
}

TEST(TokenizerErrors, MalformedFileNamesThePath) {
  std::string path = ::testing::TempDir() + "/mm-tokenizer-malformed.json";
  std::ofstream(path) << "{\"model\": {\"type\": \"BPE\",";
  try {
    mm::Tokenizer::fromFile(path);
    FAIL() << "expected an mm::Error";
  } catch (const mm::Error &e) {
    EXPECT_STARTS_WITH(e.what(), path + ": invalid JSON: ");
  }
  std::remove(path.c_str());
}

TEST(TokenizerErrors, MalformedJson) {
  EXPECT_STARTS_WITH(loadError(std::string("")), "tok.json: invalid JSON: ");
  EXPECT_STARTS_WITH(loadError(std::string("{\"model\": ")), "tok.json: invalid JSON: ");
  EXPECT_STARTS_WITH(loadError(std::string("{\"a\": \"\xff\"}")), "tok.json: invalid JSON: ");
  EXPECT_STARTS_WITH(loadError(std::string(100000, '[')), "tok.json: invalid JSON: ");
  EXPECT_EQ(loadError(std::string("[1, 2]")), "tok.json: expected an object, got an array");
}

TEST(TokenizerErrors, TopLevelFields) {
  json config = validConfig();
  config.erase("model");
  EXPECT_EQ(loadError(config), "tok.json: model: missing field");

  config = validConfig();
  config["version"] = "2.0";
  EXPECT_EQ(loadError(config),
            "tok.json: version: unknown tokenizer.json version '2.0' (expected 1.0)");

  config = validConfig();
  config["truncation"] = {{"max_length", 8}};
  EXPECT_EQ(loadError(config), "tok.json: truncation: truncation is not supported (must be null)");

  config = validConfig();
  config["padding"] = {{"strategy", "BatchLongest"}};
  EXPECT_EQ(loadError(config), "tok.json: padding: padding is not supported (must be null)");

  config = validConfig();
  config["normalizer"] = {{"type", "NFC"}};
  EXPECT_EQ(loadError(config),
            "tok.json: normalizer: unsupported normalizer type 'NFC' (only null is supported)");

  config = validConfig();
  config["decoder"] = {{"type", "WordPiece"}, {"prefix", "##"}};
  EXPECT_EQ(loadError(config), "tok.json: decoder.type: unsupported decoder type 'WordPiece' "
                               "(supported: ByteLevel, or null)");
}

TEST(TokenizerErrors, ModelType) {
  json config = validConfig();
  config["model"]["type"] = "WordPiece";
  EXPECT_EQ(loadError(config),
            "tok.json: model.type: unsupported model type 'WordPiece' (supported: BPE)");
  config["model"]["type"] = 3;
  EXPECT_EQ(loadError(config), "tok.json: model.type: expected a string, got an integer");
  config["model"] = "BPE";
  EXPECT_EQ(loadError(config), "tok.json: model: expected an object, got a string");
}

TEST(TokenizerErrors, ModelOptions) {
  json config = validConfig();
  config["model"]["dropout"] = 0.1;
  EXPECT_EQ(loadError(config), "tok.json: model.dropout: BPE dropout is not supported (it makes "
                               "encoding random)");
  config["model"]["dropout"] = 0.0; // tokenizers accepts 0 as "no dropout"
  EXPECT_NO_THROW(mm::Tokenizer::fromJson(config.dump(), "tok.json"));

  config = validConfig();
  config["model"]["continuing_subword_prefix"] = "##";
  EXPECT_EQ(loadError(config),
            "tok.json: model.continuing_subword_prefix: is \"##\"; only null is supported");

  config = validConfig();
  config["model"]["end_of_word_suffix"] = "</w>";
  EXPECT_EQ(loadError(config),
            "tok.json: model.end_of_word_suffix: is \"</w>\"; only null is supported");

  config = validConfig();
  config["model"]["byte_fallback"] = true;
  EXPECT_EQ(loadError(config),
            "tok.json: model.byte_fallback: byte_fallback is not supported (only false)");

  config = validConfig();
  config["model"]["unk_token"] = "<unk>";
  EXPECT_EQ(loadError(config),
            "tok.json: model.unk_token: unk token \"<unk>\" is not in model.vocab");

  config = validConfig();
  config["model"]["ignore_merges"] = "yes";
  EXPECT_EQ(loadError(config), "tok.json: model.ignore_merges: expected a boolean, got a string");
}

TEST(TokenizerErrors, Vocab) {
  json config = validConfig();
  config["model"].erase("vocab");
  EXPECT_EQ(loadError(config), "tok.json: model.vocab: missing field");

  config = validConfig();
  config["model"]["vocab"] = json::array({"a", "b"});
  EXPECT_EQ(loadError(config), "tok.json: model.vocab: expected an object, got an array");

  config = validConfig();
  config["model"]["vocab"]["a"] = -1;
  EXPECT_EQ(loadError(config), "tok.json: model.vocab[\"a\"]: token id -1 is negative");

  config = validConfig();
  config["model"]["vocab"]["a"] = 1.5;
  EXPECT_EQ(
      loadError(config),
      "tok.json: model.vocab[\"a\"]: expected a token id (non-negative integer), got a float");

  config = validConfig();
  config["model"]["vocab"]["a"] = 4294967296;
  EXPECT_EQ(loadError(config),
            "tok.json: model.vocab[\"a\"]: token id 4294967296 does not fit in 32 bits");

  config = validConfig();
  config["model"]["vocab"]["b"] = 0;
  EXPECT_EQ(loadError(config), "tok.json: model.vocab[\"b\"]: id 0 is also the id of \"a\"");
}

TEST(TokenizerErrors, Merges) {
  json config = validConfig();
  config["model"].erase("merges");
  EXPECT_EQ(loadError(config), "tok.json: model.merges: missing field");

  config = validConfig();
  config["model"]["merges"] = json::array({"a b", "a zz"});
  EXPECT_EQ(loadError(config), "tok.json: model.merges[1]: token \"zz\" is not in model.vocab");

  config = validConfig();
  config["model"]["merges"] = json::array({json::array({"b", "a"})});
  EXPECT_EQ(loadError(config),
            "tok.json: model.merges[0]: merged token \"ba\" is not in model.vocab");

  config = validConfig();
  config["model"]["merges"] = json::array({"a b", "ab"});
  EXPECT_EQ(loadError(config),
            "tok.json: model.merges[1]: expected two tokens separated by a single "
            "space, got \"ab\"");
  config["model"]["merges"] = json::array({"a  b"});
  EXPECT_EQ(loadError(config),
            "tok.json: model.merges[0]: expected two tokens separated by a single "
            "space, got \"a  b\"");

  config["model"]["merges"] = json::array({json::array({"a", "b", "c"})});
  EXPECT_EQ(loadError(config),
            "tok.json: model.merges[0]: expected a pair of tokens, got 3 elements");

  config["model"]["merges"] = json::array({json::array({"a", 1})});
  EXPECT_EQ(loadError(config), "tok.json: model.merges[0][1]: expected a string, got an integer");

  config["model"]["merges"] = json::array({7});
  EXPECT_EQ(loadError(config), "tok.json: model.merges[0]: expected \"a b\" or [\"a\", \"b\"]");

  config["model"]["merges"] = json::object();
  EXPECT_EQ(loadError(config), "tok.json: model.merges: expected an array, got an object");
}

TEST(TokenizerErrors, PreTokenizer) {
  json config = validConfig();
  config["pre_tokenizer"] = {{"type", "Whitespace"}};
  EXPECT_EQ(loadError(config), "tok.json: pre_tokenizer.type: unsupported pre-tokenizer type "
                               "'Whitespace' (supported: ByteLevel, Split, Sequence)");

  config = validConfig();
  config["pre_tokenizer"]["pretokenizers"][1] = {{"type", "Metaspace"}};
  EXPECT_EQ(loadError(config),
            "tok.json: pre_tokenizer.pretokenizers[1].type: unsupported "
            "pre-tokenizer type 'Metaspace' (supported: ByteLevel, Split, Sequence)");

  config = validConfig();
  config["pre_tokenizer"] = {{"add_prefix_space", true}};
  EXPECT_EQ(loadError(config), "tok.json: pre_tokenizer.type: missing field");

  config = validConfig();
  config["pre_tokenizer"]["pretokenizers"][1].erase("add_prefix_space");
  EXPECT_EQ(loadError(config),
            "tok.json: pre_tokenizer.pretokenizers[1].add_prefix_space: missing field");

  config = validConfig();
  config["pre_tokenizer"]["pretokenizers"] = "ByteLevel";
  EXPECT_EQ(loadError(config),
            "tok.json: pre_tokenizer.pretokenizers: expected an array, got a string");

  json nested = {{"type", "ByteLevel"}, {"add_prefix_space", false}};
  for (int i = 0; i < 200; ++i)
    nested = {{"type", "Sequence"}, {"pretokenizers", json::array({nested})}};
  config = validConfig();
  config["pre_tokenizer"] = nested;
  EXPECT_NE(loadError(config).find("Sequence nested more than 64 levels deep"), std::string::npos);
}

TEST(TokenizerErrors, Split) {
  const std::string split = "tok.json: pre_tokenizer.pretokenizers[0]";
  json config = validConfig();
  config["pre_tokenizer"]["pretokenizers"][0]["pattern"] = {{"Regex", "(unclosed"}};
  EXPECT_STARTS_WITH(loadError(config), split + ".pattern.Regex: invalid regex: ");

  config["pre_tokenizer"]["pretokenizers"][0]["pattern"] = {{"Regex", "a"}, {"String", "a"}};
  EXPECT_EQ(loadError(config),
            split + ".pattern: expected exactly one of \"Regex\" and \"String\"");
  config["pre_tokenizer"]["pretokenizers"][0]["pattern"] = json::object();
  EXPECT_EQ(loadError(config),
            split + ".pattern: expected exactly one of \"Regex\" and \"String\"");
  config["pre_tokenizer"]["pretokenizers"][0]["pattern"] = "\\s+";
  EXPECT_EQ(loadError(config), split + ".pattern: expected an object, got a string");

  config = validConfig();
  config["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Merged";
  EXPECT_EQ(loadError(config), split +
                                   ".behavior: unknown split behavior 'Merged' (expected Removed, "
                                   "Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
}

TEST(TokenizerErrors, AddedTokens) {
  json config = validConfig();
  config["added_tokens"] = {{"content", "<s>"}};
  EXPECT_EQ(loadError(config), "tok.json: added_tokens: expected an array, got an object");

  config = validConfig();
  config["added_tokens"][0].erase("content");
  EXPECT_EQ(loadError(config), "tok.json: added_tokens[0].content: missing field");

  config = validConfig();
  config["added_tokens"][0]["id"] = "5";
  EXPECT_EQ(
      loadError(config),
      "tok.json: added_tokens[0].id: expected a token id (non-negative integer), got a string");

  config = validConfig();
  config["added_tokens"][0]["special"] = 1;
  EXPECT_EQ(loadError(config),
            "tok.json: added_tokens[0].special: expected a boolean, got an integer");

  config = validConfig();
  config["added_tokens"] = json::array({"<s>"});
  EXPECT_EQ(loadError(config), "tok.json: added_tokens[0]: expected an object, got a string");
}

TEST(TokenizerErrors, DecodeRejectsIdsThatNameNoToken) {
  json config = validConfig();
  config["model"]["vocab"]["far"] = 100; // ids 7..99 name no token
  mm::Tokenizer tokenizer = mm::Tokenizer::fromJson(config.dump(), "tok.json");
  EXPECT_EQ(tokenizer.decode({0, 1, 100}), "abfar");
  for (int64_t bad : {int64_t(-1), int64_t(7), int64_t(101), int64_t(1) << 40}) {
    try {
      tokenizer.decode({0, 1, bad});
      ADD_FAILURE() << "expected an mm::Error for id " << bad;
    } catch (const mm::Error &e) {
      EXPECT_EQ(std::string(e.what()), "tok.json: decode: ids[2] = " + std::to_string(bad) +
                                           " is not a token id (vocabulary size 8)");
    }
  }
  EXPECT_FALSE(tokenizer.idToToken(-1));
  EXPECT_FALSE(tokenizer.idToToken(7));
  EXPECT_FALSE(tokenizer.idToToken(int64_t(1) << 40));
  EXPECT_FALSE(tokenizer.isSpecial(-3));
}

TEST(TokenizerErrors, EncodeRejectsInvalidUtf8) {
  mm::Tokenizer tokenizer = mm::Tokenizer::fromJson(validConfig().dump(), "tok.json");
  for (const char *bad : {"ab\xff", "ab\xc3", "\xed\xa0\x80", "\xc0\xaf", "a\xf4\x90\x80\x80"}) {
    try {
      tokenizer.encode(bad);
      ADD_FAILURE() << "expected an mm::Error";
    } catch (const mm::Error &e) {
      EXPECT_STARTS_WITH(e.what(), "tok.json: encode: input is not valid UTF-8 (byte ");
    }
  }
  // NUL is valid; its alphabet character is not in this vocab, so (like
  // tokenizers without an unk token) it is dropped and "a", "b" still merge.
  EXPECT_EQ(tokenizer.encode(std::string_view("a\0b", 3)), (std::vector<int64_t>{2}));
}

} // namespace

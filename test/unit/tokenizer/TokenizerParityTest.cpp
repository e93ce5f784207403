//===- TokenizerParityTest.cpp - mm::Tokenizer vs Python tokenizers -------===//
//
// test/data/tokenizer/expected.json records, for every tokenizer file there,
// what Python `tokenizers` returns (scripts/oracle/make_tokenizer_data.py).
// Each test runs once per recorded tokenizer.
//
//===----------------------------------------------------------------------===//

#include "TokenizerTestUtil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <fstream>
#include <memory>
#include <set>

namespace {

using nlohmann::json;

const json &recorded() {
  static const json document = [] {
    std::ifstream in(mm::test::tokenizerDataDir() + "/expected.json");
    return in ? json::parse(in, nullptr, /*allow_exceptions=*/false) : json();
  }();
  return document;
}

std::vector<std::string> recordedFiles() {
  std::vector<std::string> files;
  if (recorded().is_object() && recorded().contains("tokenizers"))
    for (const json &entry : recorded()["tokenizers"])
      files.push_back(entry["file"].get<std::string>());
  if (files.empty())
    files.push_back("expected.json is missing or unreadable");
  return files;
}

const json &recordFor(const std::string &file) {
  for (const json &entry : recorded()["tokenizers"])
    if (entry["file"] == file)
      return entry;
  throw std::runtime_error("no record for " + file);
}

std::vector<int64_t> idsOf(const json &array) { return array.get<std::vector<int64_t>>(); }

class TokenizerParity : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    ASSERT_TRUE(recorded().is_object())
        << "cannot read " << mm::test::tokenizerDataDir() << "/expected.json";
    record = &recordFor(GetParam());
    tokenizer = std::make_unique<mm::Tokenizer>(mm::test::loadTestTokenizer(GetParam()));
  }
  const json *record = nullptr;
  std::unique_ptr<mm::Tokenizer> tokenizer;
};

TEST_P(TokenizerParity, EncodeGivesTheRecordedIds) {
  for (const json &c : (*record)["cases"]) {
    std::string text = c["text"];
    EXPECT_EQ(tokenizer->encode(text), idsOf(c["ids"])) << "text: " << json(text).dump();
  }
}

TEST_P(TokenizerParity, DecodeOfEncodedIdsGivesTheRecordedText) {
  for (const json &c : (*record)["cases"]) {
    std::vector<int64_t> ids = idsOf(c["ids"]);
    EXPECT_EQ(tokenizer->decode(ids, false), c["decoded"].get<std::string>())
        << "text: " << c["text"].dump();
    EXPECT_EQ(tokenizer->decode(ids, true), c["decoded_skip_special"].get<std::string>())
        << "text: " << c["text"].dump();
  }
}

TEST_P(TokenizerParity, DecodeOfOtherIdSequencesGivesTheRecordedText) {
  for (const json &c : (*record)["decode_cases"]) {
    std::vector<int64_t> ids = idsOf(c["ids"]);
    EXPECT_EQ(tokenizer->decode(ids, false), c["decoded"].get<std::string>())
        << "ids: " << c["ids"].dump();
    EXPECT_EQ(tokenizer->decode(ids, true), c["decoded_skip_special"].get<std::string>())
        << "ids: " << c["ids"].dump();
  }
}

TEST_P(TokenizerParity, VocabularyMatches) {
  EXPECT_EQ(tokenizer->vocabSize(), (*record)["vocab_size"].get<int64_t>());
  std::set<int64_t> specialIds;
  for (const json &id : (*record)["special_ids"])
    specialIds.insert(id.get<int64_t>());
  const json &idToToken = (*record)["id_to_token"];
  for (size_t i = 0; i < idToToken.size(); ++i) {
    int64_t id = static_cast<int64_t>(i);
    if (idToToken[i].is_null()) {
      EXPECT_FALSE(tokenizer->idToToken(id).has_value()) << "id " << id;
      continue;
    }
    std::string token = idToToken[i];
    EXPECT_EQ(tokenizer->idToToken(id), token) << "id " << id;
    EXPECT_EQ(tokenizer->tokenToId(token), id) << "token " << json(token).dump();
    EXPECT_EQ(tokenizer->isSpecial(id), specialIds.count(id) != 0) << "id " << id;
  }
}

std::string testNameOf(const ::testing::TestParamInfo<std::string> &info) {
  std::string name;
  for (char c : info.param)
    name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(RecordedFromPython, TokenizerParity, ::testing::ValuesIn(recordedFiles()),
                         testNameOf);

} // namespace

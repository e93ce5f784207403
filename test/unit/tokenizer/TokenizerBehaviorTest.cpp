//===- TokenizerBehaviorTest.cpp - properties beyond the recorded cases ---===//

#include "TokenizerTestUtil.h"

#include "frontends/tokenizer/Utf8.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <type_traits>

namespace {

static_assert(std::is_nothrow_move_constructible_v<mm::Tokenizer>);
static_assert(std::is_nothrow_move_assignable_v<mm::Tokenizer>);

/// Random valid UTF-8: ASCII-heavy, with whitespace, Latin, CJK and astral characters.
std::string randomText(std::mt19937 &rng, size_t length) {
  static const uint32_t starts[] = {0x20,  0x09,   0x0A,   0xA0,   0x100,   0x400,   0x600,
                                    0x900, 0x3040, 0x4E00, 0xAC00, 0x1F300, 0x20000, 0x0};
  std::string text;
  for (size_t i = 0; i < length; ++i) {
    uint32_t start = starts[rng() % (sizeof starts / sizeof *starts)];
    uint32_t codePoint = start < 0x20 ? start : start + rng() % (start == 0x20 ? 95 : 200);
    mm::tokenizer::appendUtf8(text, codePoint);
  }
  return text;
}

TEST(TokenizerBehavior, ByteLevelRoundTripsArbitraryText) {
  std::mt19937 rng(1234);
  for (const char *file : {"bpe-minimax-style/tokenizer.json", "bpe-gpt2-style/tokenizer.json"}) {
    mm::Tokenizer tokenizer = mm::test::loadTestTokenizer(file);
    // GPT-2 style adds a leading space to text that does not start with one.
    bool addsPrefixSpace = std::string(file).find("gpt2") != std::string::npos;
    for (int i = 0; i < 200; ++i) {
      std::string text = randomText(rng, rng() % 64);
      std::string expected = addsPrefixSpace && !text.empty() && text[0] != ' ' ? " " + text : text;
      EXPECT_EQ(tokenizer.decode(tokenizer.encode(text)), expected) << file;
    }
  }
}

TEST(TokenizerBehavior, LongInput) {
  mm::Tokenizer tokenizer = mm::test::loadTestTokenizer("bpe-minimax-style/tokenizer.json");
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "Line " + std::to_string(i) + ": 人工智能 the quick brown fox, don't stop.\n";
  text += std::string(100000, ' ') + std::string(100000, 'x');
  std::vector<int64_t> ids = tokenizer.encode(text);
  EXPECT_GT(ids.size(), 10000u);
  EXPECT_EQ(tokenizer.decode(ids), text);
}

TEST(TokenizerBehavior, ConcurrentEncodeAgrees) {
  mm::Tokenizer tokenizer = mm::test::loadTestTokenizer("bpe-minimax-style/tokenizer.json");
  std::mt19937 rng(99);
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i)
    texts.push_back(randomText(rng, 40));
  std::vector<std::vector<int64_t>> expected;
  for (const std::string &text : texts)
    expected.push_back(tokenizer.encode(text));

  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round)
        for (size_t i = 0; i < texts.size(); ++i)
          mismatches[t] +=
              tokenizer.encode(texts[(i + t) % texts.size()]) != expected[(i + t) % texts.size()];
    });
  for (std::thread &thread : threads)
    thread.join();
  for (int count : mismatches)
    EXPECT_EQ(count, 0);
}

TEST(TokenizerBehavior, MovedTokenizerKeepsWorking) {
  mm::Tokenizer original = mm::test::loadTestTokenizer("bpe-gpt2-style/tokenizer.json");
  std::vector<int64_t> ids = original.encode("Hello world");
  mm::Tokenizer moved = std::move(original);
  EXPECT_EQ(moved.encode("Hello world"), ids);
  mm::Tokenizer assigned = mm::test::loadTestTokenizer("bpe-minimax-style/tokenizer.json");
  assigned = std::move(moved);
  EXPECT_EQ(assigned.encode("Hello world"), ids);
}

TEST(TokenizerBehavior, SpecialTokenQueries) {
  mm::Tokenizer tokenizer = mm::test::loadTestTokenizer("bpe-minimax-style/tokenizer.json");
  std::optional<int64_t> end = tokenizer.tokenToId("<end_of_sentence>");
  ASSERT_TRUE(end);
  EXPECT_TRUE(tokenizer.isSpecial(*end));
  EXPECT_EQ(tokenizer.idToToken(*end), "<end_of_sentence>");
  EXPECT_EQ(tokenizer.encode("hi<end_of_sentence>").back(), *end);
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("hi<end_of_sentence>"), true), "hi");
  EXPECT_FALSE(tokenizer.tokenToId("not a token at all"));
  std::optional<int64_t> a = tokenizer.tokenToId("a");
  ASSERT_TRUE(a);
  EXPECT_FALSE(tokenizer.isSpecial(*a));
}

// Rust's String::from_utf8_lossy, which tokenizers' ByteLevel decoder uses.
TEST(TokenizerBehavior, LossyUtf8MatchesRust) {
  using mm::tokenizer::fromUtf8Lossy;
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(fromUtf8Lossy("plain é 😀"), "plain é 😀");
  EXPECT_EQ(fromUtf8Lossy("\xE2\x82"), r); // truncated at the end: one
  EXPECT_EQ(fromUtf8Lossy("\xE2\x82"
                          "A"),
            r + "A");                                          // cut short: one
  EXPECT_EQ(fromUtf8Lossy("\xF0\x9F\x98"), r);                 // truncated 4-byte: one
  EXPECT_EQ(fromUtf8Lossy("\xED\xA0\x80"), r + r + r);         // surrogate: one per byte
  EXPECT_EQ(fromUtf8Lossy("\xC0\xAF"), r + r);                 // overlong: one per byte
  EXPECT_EQ(fromUtf8Lossy("\xE0\x80\x80"), r + r + r);         // overlong 3-byte
  EXPECT_EQ(fromUtf8Lossy("\xF4\x90\x80\x80"), r + r + r + r); // above U+10FFFF
  EXPECT_EQ(fromUtf8Lossy("\x80\xBF"), r + r);                 // stray continuations
  EXPECT_EQ(fromUtf8Lossy("\xFF"
                          "a\xFE"),
            r + "a" + r);
}

TEST(TokenizerBehavior, Utf8Validation) {
  using mm::tokenizer::findInvalidUtf8;
  EXPECT_EQ(findInvalidUtf8(""), std::string_view::npos);
  EXPECT_EQ(findInvalidUtf8("ok é 😀 \xF4\x8F\xBF\xBF"), std::string_view::npos);
  EXPECT_EQ(findInvalidUtf8("ab\xED\xA0\x80"), 2u);
  EXPECT_EQ(findInvalidUtf8("abc\xF0\x9F\x98"), 3u);
}

} // namespace

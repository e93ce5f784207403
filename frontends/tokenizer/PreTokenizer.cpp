//===- PreTokenizer.cpp - tokenizers' pre-tokenizers ----------------------===//

#include "frontends/tokenizer/PreTokenizer.h"

#include "frontends/tokenizer/ByteLevel.h"
#include "frontends/tokenizer/OnigRegex.h"
#include "runtime/Error.h"

#include <algorithm>
#include <optional>

namespace mm::tokenizer {
namespace {

/// A byte range of a piece and whether the split pattern matched it.
struct Segment {
  ByteRange range;
  bool isMatch;
};

/// Matches and the gaps between them, covering all of `text` (tokenizers'
/// Pattern::find_matches).
template <typename Search> std::vector<Segment> segmentsOf(std::string_view text, Search &&search) {
  if (text.empty())
    return {{{0, 0}, false}};
  std::vector<Segment> segments;
  size_t previous = 0;
  for (auto [start, end] : findAllMatches(text, search)) {
    if (previous != start)
      segments.push_back({{previous, start}, false});
    segments.push_back({{start, end}, true});
    previous = end;
  }
  if (previous != text.size())
    segments.push_back({{previous, text.size()}, false});
  return segments;
}

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

/// The ranges to keep, as tokenizers' NormalizedString::split computes them.
std::vector<ByteRange> applyBehavior(const std::vector<Segment> &segments, SplitBehavior behavior) {
  std::vector<ByteRange> kept;
  bool previousMatch = false;
  switch (behavior) {
  case SplitBehavior::Isolated:
    for (const Segment &s : segments)
      kept.push_back(s.range);
    break;
  case SplitBehavior::Removed:
    for (const Segment &s : segments)
      if (!s.isMatch)
        kept.push_back(s.range);
    break;
  case SplitBehavior::Contiguous:
    for (const Segment &s : segments) {
      if (s.isMatch == previousMatch && !kept.empty())
        kept.back().second = s.range.second;
      else
        kept.push_back(s.range);
      previousMatch = s.isMatch;
    }
    break;
  case SplitBehavior::MergedWithPrevious:
    for (const Segment &s : segments) {
      if (s.isMatch && !previousMatch && !kept.empty())
        kept.back().second = s.range.second;
      else
        kept.push_back(s.range);
      previousMatch = s.isMatch;
    }
    break;
  case SplitBehavior::MergedWithNext:
    for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
      if (it->isMatch && !previousMatch && !kept.empty())
        kept.back().first = it->range.first;
      else
        kept.push_back(it->range);
      previousMatch = it->isMatch;
    }
    std::reverse(kept.begin(), kept.end());
    break;
  }
  return kept;
}

void appendNonEmpty(std::vector<std::string> &out, const std::string &text,
                    const std::vector<ByteRange> &ranges) {
  for (auto [start, end] : ranges)
    if (end > start)
      out.push_back(text.substr(start, end - start));
}

struct RegexSearch {
  const OnigRegex &regex;
  std::optional<ByteRange> operator()(std::string_view text, size_t from) const {
    return regex.search(text, from);
  }
};

/// tokenizers' Split: a regex or literal string, a behaviour for the matches,
/// optionally inverted (the gaps become the matches).
class SplitStep : public PreTokenizerStep {
public:
  /// Splits on `regex`, or on occurrences of `literal` when `regex` is null.
  SplitStep(std::unique_ptr<OnigRegex> regex, std::string literal, SplitBehavior behavior,
            bool invert)
      : regex(std::move(regex)), literal(std::move(literal)), behavior(behavior), invert(invert) {}

  void apply(std::vector<std::string> &pieces) const override {
    std::vector<std::string> out;
    for (const std::string &piece : pieces) {
      std::vector<Segment> segments = regex ? segmentsOf(piece, RegexSearch{*regex})
                                            : segmentsOf(piece, LiteralSearch{literal});
      if (invert)
        for (Segment &s : segments)
          s.isMatch = !s.isMatch;
      appendNonEmpty(out, piece, applyBehavior(segments, behavior));
    }
    pieces = std::move(out);
  }

private:
  /// tokenizers compiles a String pattern as an escaped regex, which matches
  /// exactly the literal's occurrences (an empty literal matches everywhere).
  struct LiteralSearch {
    const std::string &needle;
    std::optional<ByteRange> operator()(std::string_view text, size_t from) const {
      if (from > text.size())
        return std::nullopt;
      size_t at = text.find(needle, from);
      if (at == std::string_view::npos)
        return std::nullopt;
      return ByteRange(at, at + needle.size());
    }
  };

  std::unique_ptr<OnigRegex> regex;
  std::string literal;
  SplitBehavior behavior;
  bool invert;
};

/// tokenizers' ByteLevel: optional leading space, optional GPT-2 regex split,
/// then every byte replaced by its alphabet character.
class ByteLevelStep : public PreTokenizerStep {
public:
  ByteLevelStep(bool addPrefixSpace, bool useRegex)
      : addPrefixSpace(addPrefixSpace),
        gpt2Regex(useRegex ? std::make_unique<OnigRegex>(kGpt2SplitPattern) : nullptr) {}

  void apply(std::vector<std::string> &pieces) const override {
    std::vector<std::string> out;
    for (const std::string &piece : pieces) {
      std::string text = addPrefixSpace && !piece.empty() && piece[0] != ' ' ? " " + piece : piece;
      std::vector<ByteRange> ranges{{0, text.size()}};
      if (gpt2Regex)
        ranges = applyBehavior(segmentsOf(text, RegexSearch{*gpt2Regex}), SplitBehavior::Isolated);
      for (auto [start, end] : ranges)
        if (end > start)
          out.push_back(bytesToAlphabet(std::string_view(text).substr(start, end - start)));
    }
    pieces = std::move(out);
  }

private:
  bool addPrefixSpace;
  std::unique_ptr<OnigRegex> gpt2Regex;
};

SplitBehavior parseBehavior(const JsonCursor &field) {
  std::string name = field.string();
  if (name == "Removed")
    return SplitBehavior::Removed;
  if (name == "Isolated")
    return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious")
    return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext")
    return SplitBehavior::MergedWithNext;
  if (name == "Contiguous")
    return SplitBehavior::Contiguous;
  field.fail("unknown split behavior '" + name +
             "' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
}

std::unique_ptr<PreTokenizerStep> parseSplit(const JsonCursor &config) {
  JsonCursor pattern = config.field("pattern");
  auto regexField = pattern.optionalField("Regex");
  auto stringField = pattern.optionalField("String");
  if (regexField.has_value() == stringField.has_value())
    pattern.fail("expected exactly one of \"Regex\" and \"String\"");
  SplitBehavior behavior = parseBehavior(config.field("behavior"));
  bool invert = config.booleanOr("invert", false);
  if (stringField)
    return std::make_unique<SplitStep>(nullptr, stringField->string(), behavior, invert);
  std::unique_ptr<OnigRegex> regex;
  try {
    regex = std::make_unique<OnigRegex>(regexField->string());
  } catch (const Error &e) {
    regexField->fail(std::string("invalid regex: ") + e.what());
  }
  return std::make_unique<SplitStep>(std::move(regex), "", behavior, invert);
}

} // namespace

void PreTokenizer::parseInto(const JsonCursor &config,
                             std::vector<std::unique_ptr<PreTokenizerStep>> &steps, int depth) {
  // Bounded so that a hostile file cannot overflow the stack.
  constexpr int maxSequenceDepth = 64;
  if (depth > maxSequenceDepth)
    config.fail("Sequence nested more than " + std::to_string(maxSequenceDepth) + " levels deep");
  std::string type = config.field("type").string();
  if (type == "ByteLevel") {
    bool addPrefixSpace = config.field("add_prefix_space").boolean();
    bool useRegex = config.booleanOr("use_regex", true);
    steps.push_back(std::make_unique<ByteLevelStep>(addPrefixSpace, useRegex));
  } else if (type == "Split") {
    steps.push_back(parseSplit(config));
  } else if (type == "Sequence") {
    JsonCursor members = config.field("pretokenizers");
    for (size_t i = 0; i < members.array().size(); ++i)
      parseInto(members.element(i), steps, depth + 1);
  } else {
    config.field("type").fail("unsupported pre-tokenizer type '" + type +
                              "' (supported: ByteLevel, Split, Sequence)");
  }
}

PreTokenizer PreTokenizer::parse(const JsonCursor &config) {
  PreTokenizer preTokenizer;
  parseInto(config, preTokenizer.steps, 0);
  return preTokenizer;
}

std::vector<std::string> PreTokenizer::split(const std::string &text) const {
  if (text.empty())
    return {};
  std::vector<std::string> pieces{text};
  for (const auto &step : steps)
    step->apply(pieces);
  return pieces;
}

} // namespace mm::tokenizer

//===- PreTokenizer.h - tokenizers' pre-tokenizers -------------*- C++ -*-===//
//
// Cuts text into the "words" BPE works on. Supports the pre-tokenizers
// byte-level BPE tokenizers use: ByteLevel, Split and Sequence of those.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_TOKENIZER_PRETOKENIZER_H
#define MM_FRONTENDS_TOKENIZER_PRETOKENIZER_H

#include "frontends/tokenizer/JsonCursor.h"

#include <memory>
#include <string>
#include <vector>

namespace mm::tokenizer {

/// One step of a pre-tokenizer; a Sequence is flattened into its steps, which
/// is equivalent because every step maps each piece independently.
class PreTokenizerStep {
public:
  virtual ~PreTokenizerStep() = default;
  /// Replaces every piece by what this step makes of it; empty pieces vanish.
  virtual void apply(std::vector<std::string> &pieces) const = 0;
};

class PreTokenizer {
public:
  /// Parses the "pre_tokenizer" object.
  static PreTokenizer parse(const JsonCursor &config);

  /// The words of `text`, in order.
  std::vector<std::string> split(const std::string &text) const;

private:
  static void parseInto(const JsonCursor &config,
                        std::vector<std::unique_ptr<PreTokenizerStep>> &steps, int depth);
  std::vector<std::unique_ptr<PreTokenizerStep>> steps;
};

} // namespace mm::tokenizer

#endif // MM_FRONTENDS_TOKENIZER_PRETOKENIZER_H

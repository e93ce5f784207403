//===- TokenizerTestUtil.h - shared helpers of the tokenizer tests -*- C++ -*-===//
#ifndef MM_TEST_UNIT_TOKENIZER_TOKENIZERTESTUTIL_H
#define MM_TEST_UNIT_TOKENIZER_TOKENIZERTESTUTIL_H

#include "frontends/tokenizer/Tokenizer.h"

#include <string>

namespace mm::test {

/// Directory of the committed tokenizer test data.
inline std::string tokenizerDataDir() { return std::string(MM_TEST_DATA_DIR) + "/tokenizer"; }

inline Tokenizer loadTestTokenizer(const std::string &relativePath) {
  return Tokenizer::fromFile(tokenizerDataDir() + "/" + relativePath);
}

} // namespace mm::test

#endif // MM_TEST_UNIT_TOKENIZER_TOKENIZERTESTUTIL_H

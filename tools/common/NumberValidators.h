//===- NumberValidators.h - CLI11 number checks with readable errors -*- C++ -*-===//
//
// CLI11's PositiveNumber and NonNegativeNumber report a bad value against a
// range printed as 300 digits (DBL_MAX in %f); these say what they want.
// Header-only, so tools that do not link MMToolCommon can use them.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TOOLS_COMMON_NUMBERVALIDATORS_H
#define MM_TOOLS_COMMON_NUMBERVALIDATORS_H

#include <CLI/CLI.hpp>

#include <cmath>
#include <string>

namespace mm::cli {

/// A finite number above (or, with `allowZero`, at least) zero.
inline CLI::Validator signedNumber(bool allowZero) {
  return CLI::Validator(
      [allowZero](std::string &text) -> std::string {
        try {
          size_t used = 0;
          double v = std::stod(text, &used);
          if (used == text.size() && std::isfinite(v) && (v > 0 || (allowZero && v == 0)))
            return "";
        } catch (const std::exception &) {
        }
        return std::string("expected a ") + (allowZero ? "non-negative" : "positive") +
               " number, got '" + text + "'";
      },
      allowZero ? "NONNEGATIVE" : "POSITIVE");
}

inline const CLI::Validator kPositive = signedNumber(false);
inline const CLI::Validator kNonNegative = signedNumber(true);

} // namespace mm::cli

#endif // MM_TOOLS_COMMON_NUMBERVALIDATORS_H

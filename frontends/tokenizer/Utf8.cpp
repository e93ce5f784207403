//===- Utf8.cpp - UTF-8 helpers that behave like Rust's str ---------------===//

#include "frontends/tokenizer/Utf8.h"

namespace mm::tokenizer {
namespace {

bool isContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

/// Length of the valid sequence at `pos`, or 0 when the bytes there are not
/// valid UTF-8; `invalidLength` then receives how many bytes form the maximal
/// invalid subsequence (the rule of Rust's Utf8Chunks).
size_t validSequenceLength(std::string_view text, size_t pos, size_t &invalidLength) {
  auto at = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = at(pos);
  if (lead < 0x80)
    return 1;
  size_t width = lead >= 0xC2 && lead <= 0xDF   ? 2
                 : lead >= 0xE0 && lead <= 0xEF ? 3
                 : lead >= 0xF0 && lead <= 0xF4 ? 4
                                                : 0;
  invalidLength = 1;
  if (width == 0)
    return 0;
  // The second byte has a narrower range right after some lead bytes, which
  // excludes overlong forms, surrogates and values above U+10FFFF.
  unsigned char low = 0x80, high = 0xBF;
  if (lead == 0xE0)
    low = 0xA0;
  else if (lead == 0xED)
    high = 0x9F;
  else if (lead == 0xF0)
    low = 0x90;
  else if (lead == 0xF4)
    high = 0x8F;
  for (size_t i = 1; i < width; ++i) {
    if (pos + i >= text.size()) {
      invalidLength = i; // truncated: everything up to the end is one error
      return 0;
    }
    unsigned char byte = at(pos + i);
    bool ok = i == 1 ? byte >= low && byte <= high : isContinuation(byte);
    if (!ok) {
      invalidLength = i;
      return 0;
    }
  }
  return width;
}

} // namespace

size_t findInvalidUtf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t invalidLength = 0;
    size_t length = validSequenceLength(text, pos, invalidLength);
    if (length == 0)
      return pos;
    pos += length;
  }
  return std::string_view::npos;
}

size_t utf8CharLength(std::string_view text, size_t pos) {
  unsigned char lead = static_cast<unsigned char>(text[pos]);
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

uint32_t decodeUtf8(std::string_view text, size_t pos) {
  size_t length = utf8CharLength(text, pos);
  uint32_t lead = static_cast<unsigned char>(text[pos]);
  uint32_t codePoint = length == 1   ? lead
                       : length == 2 ? lead & 0x1F
                       : length == 3 ? lead & 0x0F
                                     : lead & 0x07;
  for (size_t i = 1; i < length; ++i)
    codePoint = (codePoint << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
  return codePoint;
}

size_t previousCharStart(std::string_view text, size_t pos) {
  --pos;
  while (pos > 0 && isContinuation(static_cast<unsigned char>(text[pos])))
    --pos;
  return pos;
}

void appendUtf8(std::string &out, uint32_t codePoint) {
  if (codePoint < 0x80) {
    out += static_cast<char>(codePoint);
  } else if (codePoint < 0x800) {
    out += static_cast<char>(0xC0 | (codePoint >> 6));
    out += static_cast<char>(0x80 | (codePoint & 0x3F));
  } else if (codePoint < 0x10000) {
    out += static_cast<char>(0xE0 | (codePoint >> 12));
    out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (codePoint & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (codePoint >> 18));
    out += static_cast<char>(0x80 | ((codePoint >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (codePoint & 0x3F));
  }
}

std::string fromUtf8Lossy(std::string_view bytes) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t invalidLength = 0;
    size_t length = validSequenceLength(bytes, pos, invalidLength);
    if (length == 0) {
      out += replacement;
      pos += invalidLength;
    } else {
      out.append(bytes.substr(pos, length));
      pos += length;
    }
  }
  return out;
}

bool isUnicodeWhitespace(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

} // namespace mm::tokenizer

//===- ByteLevel.cpp - GPT-2 byte-level alphabet --------------------------===//

#include "frontends/tokenizer/ByteLevel.h"

#include "frontends/tokenizer/Utf8.h"

#include <array>
#include <cstdint>

namespace mm::tokenizer {
namespace {

struct Alphabet {
  std::array<uint32_t, 256> byteToCodePoint;
  std::array<std::string, 256> byteToUtf8;
  /// Code points 0..0x143 back to bytes; -1 for characters outside the alphabet.
  std::array<int, 0x144> codePointToByte;

  Alphabet() {
    codePointToByte.fill(-1);
    uint32_t next = 256;
    for (int byte = 0; byte < 256; ++byte) {
      bool printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || byte >= 174;
      uint32_t codePoint = printable ? byte : next++;
      byteToCodePoint[byte] = codePoint;
      appendUtf8(byteToUtf8[byte], codePoint);
      codePointToByte[codePoint] = byte;
    }
  }
};

const Alphabet &alphabet() {
  static const Alphabet instance;
  return instance;
}

} // namespace

std::string bytesToAlphabet(std::string_view text) {
  const Alphabet &a = alphabet();
  std::string out;
  out.reserve(text.size() * 2);
  for (char c : text)
    out += a.byteToUtf8[static_cast<unsigned char>(c)];
  return out;
}

void appendTokenBytes(std::string &out, std::string_view token) {
  const Alphabet &a = alphabet();
  std::string decoded;
  for (size_t pos = 0; pos < token.size(); pos += utf8CharLength(token, pos)) {
    uint32_t codePoint = decodeUtf8(token, pos);
    if (codePoint >= a.codePointToByte.size() || a.codePointToByte[codePoint] < 0) {
      out.append(token);
      return;
    }
    decoded += static_cast<char>(a.codePointToByte[codePoint]);
  }
  out += decoded;
}

} // namespace mm::tokenizer

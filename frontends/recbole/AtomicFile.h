//===- AtomicFile.h - RecBole's atomic files (.inter, .user, .item) -*- C++ -*-===//
//
// A RecBole atomic file is tab-separated text whose first line names and
// types every column, `name:type` with type token, token_seq, float or
// float_seq; sequence cells hold space-separated values (an empty cell is an
// empty sequence). Every malformed line is refused with the file, the line
// number and the field: an unknown type, a ragged row, a float that does not
// parse, a duplicated column.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_RECBOLE_ATOMICFILE_H
#define MM_FRONTENDS_RECBOLE_ATOMICFILE_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mm::recbole {

enum class FieldType { Token, TokenSeq, Float, FloatSeq };
const char *fieldTypeName(FieldType type);

/// One column: the values of its type are filled, the others empty.
struct Column {
  std::string name;
  FieldType type;
  std::vector<std::string> tokens;                  // Token
  std::vector<std::vector<std::string>> tokenSeqs;  // TokenSeq
  std::vector<double> floats;                       // Float
  std::vector<std::vector<double>> floatSeqs;       // FloatSeq
};

struct AtomicFile {
  std::string path;
  std::vector<Column> columns;
  int64_t rows = 0;

  /// The column named `name`, or null.
  const Column *find(const std::string &name) const;
  /// The column named `name` of type `type`; throws naming the file when it
  /// is missing or of another type.
  const Column &require(const std::string &name, FieldType type) const;
  /// The 1-based line of row `row` in the file (for errors).
  int64_t lineOf(int64_t row) const { return row + 2; }
};

/// Reads and validates a whole file; throws mm::Error "PATH:LINE: ...".
AtomicFile readAtomicFile(const std::string &path);

/// Parses text as if read from `path` (the tests' entry point).
AtomicFile parseAtomicFile(const std::string &text, const std::string &path);

} // namespace mm::recbole

#endif // MM_FRONTENDS_RECBOLE_ATOMICFILE_H

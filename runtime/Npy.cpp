//===- Npy.cpp ------------------------------------------------------------===//
#include "runtime/Npy.h"

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

namespace mm {

static const char *descr(DType d) {
  return d == DType::F32 ? "<f4" : d == DType::F64 ? "<f8" : "<i8";
}

void writeNpy(const std::string &path, const Tensor &t) {
  std::string shape = "(";
  for (int64_t d : t.shape())
    shape += std::to_string(d) + ",";
  if (t.rank() > 1)
    shape.pop_back();
  shape += ")";
  std::string header = std::string("{'descr': '") + descr(t.dtype()) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Magic (6) + version (2) + length (2) + header + '\n', padded to 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw makeError(path, ": cannot write");
    out.write("\x93NUMPY\x01\x00", 8);
    uint16_t len = static_cast<uint16_t>(header.size());
    out.put(static_cast<char>(len & 0xff));
    out.put(static_cast<char>(len >> 8));
    out.write(header.data(), header.size());
    out.write(static_cast<const char *>(t.raw()), t.nbytes());
    if (!out)
      throw makeError(path, ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw makeError(path, ": cannot move the written file into place");
}

Tensor readNpy(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw makeError(path, ": cannot open");
  char magic[8];
  if (!in.read(magic, 8) || std::string(magic, 6) != "\x93NUMPY")
    throw makeError(path, ": not a .npy file");
  uint32_t len = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char *>(b), 2);
    len = b[0] | b[1] << 8;
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char *>(b), 4);
    len = b[0] | b[1] << 8 | b[2] << 16 | uint32_t(b[3]) << 24;
  }
  if (!in || len > (1u << 20))
    throw makeError(path, ": bad header length");
  std::string header(len, '\0');
  in.read(header.data(), len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([<|][fi][48])'")))
    throw makeError(path, ": unsupported dtype (expected <f4, <f8 or <i8)");
  DType dtype = m[1] == "<f4" ? DType::F32 : m[1] == "<f8" ? DType::F64 : DType::I64;
  if (header.find("'fortran_order': False") == std::string::npos)
    throw makeError(path, ": Fortran-ordered arrays are not supported");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([0-9,\\s]*)\\)")))
    throw makeError(path, ": no shape in the header");
  Shape shape;
  std::stringstream dims(m[1].str());
  for (std::string d; std::getline(dims, d, ',');)
    if (d.find_first_not_of(" ") != std::string::npos)
      shape.push_back(std::stoll(d));
  Tensor t = Tensor::empty(dtype, shape);
  if (!in.read(static_cast<char *>(t.raw()), t.nbytes()))
    throw makeError(path, ": truncated data");
  return t;
}

} // namespace mm

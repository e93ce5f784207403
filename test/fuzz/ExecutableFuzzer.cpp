//===- ExecutableFuzzer.cpp - libFuzzer over the executable reader --------===//
//
// Arbitrary bytes as an executable (.mmx, or the payload of an AOT binary):
// validation must either accept them or throw mm::Error. An accepted one's
// interface must then bind a call of small arguments, or refuse it with
// mm::Error, without reading outside a buffer (ASan) or overflowing (UBSan).
// The code object is never loaded: that would run the input.
//
//===----------------------------------------------------------------------===//
#include "runtime/Error.h"
#include "runtime/compiled/ExecutableLayout.h"
#include "runtime/executable/ExecutableFile.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    mm::exe::Executable e =
        mm::parseExecutable(std::string(reinterpret_cast<const char *>(data), size), "fuzz");
    mm::ExecutableLayout layout(e);
    // Arguments shaped for symbol values of at most 3 (and the maxima, if lower).
    std::vector<int64_t> symbols;
    for (int64_t max : layout.maxima())
      symbols.push_back(std::max<int64_t>(1, std::min<int64_t>(max, 3)));
    std::vector<mm::Tensor> args;
    for (uint32_t id : e.argument_buffers()) {
      const mm::exe::Buffer &b = e.buffers(id);
      mm::Shape shape;
      int64_t numel = 1;
      for (const mm::exe::Dim &d : b.shape()) {
        int64_t v = std::min<int64_t>(d.coefficient(), 64);
        for (int i = 0; i < d.exponents_size(); ++i)
          for (uint32_t k = 0; k < std::min<uint32_t>(d.exponents(i), 4); ++k)
            v *= symbols[i];
        shape.push_back(v);
        numel *= std::max<int64_t>(v, 1);
      }
      if (numel > (1 << 16) || shape.size() > 8)
        return 0;
      args.push_back(mm::Tensor::zeros(
          b.dtype() == mm::exe::DTYPE_I64 ? mm::DType::I64 : mm::DType::F32, shape));
    }
    (void)layout.bindSymbols(args);
  } catch (const mm::Error &) {
  }
  return 0;
}

//===- WeightQuantization.h - weight-only int8 rows -----------*- C++ -*-===//
//
// The storage of exe::DTYPE_I8_ROWS (Executable.proto): a weight's rows (its
// last dim) as int8 values, then one float32 scale per row from the next
// 64-byte boundary. Symmetric per-output-channel quantization, as vLLM's and
// TensorRT-LLM's weight-only int8: scale_r = max_k |w[r, k]| / 127 (float32),
// q[r, k] = w[r, k] / scale_r rounded to nearest, ties to even, so
// |w - q * scale| <= scale / 2. The generated kernels read it as mmh::q8_rows
// (codegen/host/HostKernels.h), the CUDA kernels as mm_q8
// (codegen/cuda/kernels/weights.cuh).
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_COMPILED_WEIGHTQUANTIZATION_H
#define MM_RUNTIME_COMPILED_WEIGHTQUANTIZATION_H

#include "runtime/Tensor.h"

#include <cstdint>
#include <string>

namespace mm {

/// Rows and row length of an int8 weight of `shape` (rank >= 1).
struct Int8Rows {
  int64_t rows = 0, K = 0;
  explicit Int8Rows(const Shape &shape);
  /// Where the scales start (the int8 values rounded up to 64 bytes).
  uint64_t scaleOffset() const { return (uint64_t(rows * K) + 63) / 64 * 64; }
  uint64_t bytes() const { return scaleOffset() + uint64_t(rows) * 4; }
};

/// Quantizes float32 `w` into `out` (Int8Rows(w.shape()).bytes() bytes).
/// Throws mm::Error naming `name` and the row if a value is not finite.
void quantizeInt8Rows(const std::string &name, const Tensor &w, uint8_t *out);

/// w (float32) rounded to bf16, nearest even (NaN stays NaN), into `out`
/// (w.numel() values): the storage of exe::DTYPE_BF16.
void convertToBF16(const Tensor &w, uint16_t *out);

} // namespace mm

#endif // MM_RUNTIME_COMPILED_WEIGHTQUANTIZATION_H

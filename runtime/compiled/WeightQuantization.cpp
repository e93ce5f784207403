//===- WeightQuantization.cpp ---------------------------------------------===//
#include "runtime/compiled/WeightQuantization.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mm {

Int8Rows::Int8Rows(const Shape &shape) {
  if (shape.empty())
    throw makeError("an int8 weight needs rows: a rank-0 weight has none");
  K = shape.back();
  rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i)
    rows *= shape[i];
}

void quantizeInt8Rows(const std::string &name, const Tensor &w, uint8_t *out) {
  Int8Rows layout(w.shape());
  const float *in = w.data<float>();
  auto *q = reinterpret_cast<int8_t *>(out);
  auto *scales = reinterpret_cast<float *>(out + layout.scaleOffset());
#pragma omp parallel for schedule(static) if (layout.rows * layout.K > (1 << 20))
  for (int64_t r = 0; r < layout.rows; ++r) {
    const float *row = in + r * layout.K;
    float amax = 0;
    bool finite = true;
    for (int64_t k = 0; k < layout.K; ++k) {
      finite &= std::isfinite(row[k]);
      amax = std::max(amax, std::fabs(row[k]));
    }
    if (!finite) { // reported below, outside the parallel loop
      scales[r] = NAN;
      continue;
    }
    float scale = amax / 127.0f;
    scales[r] = scale;
    for (int64_t k = 0; k < layout.K; ++k)
      q[r * layout.K + k] =
          scale == 0
              ? 0
              : static_cast<int8_t>(std::clamp(std::nearbyint(row[k] / scale), -127.0f, 127.0f));
  }
  for (int64_t r = 0; r < layout.rows; ++r)
    if (std::isnan(scales[r]))
      throw makeError("weight '", name, "' row ", r,
                      " holds a value that is not finite; int8 quantization needs finite weights");
}

void convertToBF16(const Tensor &w, uint16_t *out) {
  const float *in = w.data<float>();
  for (int64_t j = 0; j < w.numel(); ++j) {
    uint32_t bits;
    std::memcpy(&bits, &in[j], 4);
    if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x7fffffu)) // NaN stays NaN
      out[j] = static_cast<uint16_t>((bits >> 16) | 0x40);
    else // round to nearest even
      out[j] = static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1)) >> 16);
  }
}

} // namespace mm

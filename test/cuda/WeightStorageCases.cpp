//===- WeightStorageCases.cpp - the matrix kernels with bf16 and int8 weights -===//
//
// The weights are stored as the runtime uploads them (convertToBF16,
// quantizeInt8Rows: runtime/compiled/WeightQuantization.h). The reference
// multiplies by the widened stored values (exact) in float64 and takes each
// int8 output row's scale after the dot product, as the kernels do; so the
// comparison checks the storage layout (scale offsets, 16-byte and 4-weight
// loads) and the arithmetic, not the quantization error.
//
// Tolerances (u = 2^-24): an output is a K-term dot product of x and the
// widened weights; the device sums it in a different order from float64:
// |diff| <= (2 K + 8) u s (|x| |W|^T), plus u |y| for the scale's rounding
// and u |y| for the float32 result. SwiGLU: 1.1 |up| eg + |silu(gate)| eu +
// 16 u |y| (MoeCases.cpp). Widening and column scaling are exact.
//
//===----------------------------------------------------------------------===//
#include "reference/kernels/Reference.h"
#include "runtime/compiled/WeightQuantization.h"
#include "test/cuda/CaseUtil.h"

using namespace mm;
using namespace mm::cudatest;

namespace {

/// A weight [rows..., K] in one storage: its bytes, widened values and row scales.
struct StoredWeight {
  std::vector<uint8_t> bytes;
  std::vector<float> widened, scales;
};

StoredWeight store(const std::string &storage, const Shape &shape, const std::vector<float> &w) {
  Tensor t = floatTensor(shape, w);
  Int8Rows rows(shape);
  StoredWeight s;
  s.scales.assign(rows.rows, 1.f);
  if (storage == "int8") {
    s.bytes.assign(rows.bytes(), 0);
    quantizeInt8Rows("w", t, s.bytes.data());
    for (int64_t i = 0; i < rows.rows * rows.K; ++i)
      s.widened.push_back(float(int8_t(s.bytes[i])));
    std::memcpy(s.scales.data(), s.bytes.data() + rows.scaleOffset(), rows.rows * 4);
  } else if (storage == "bf16") {
    std::vector<uint16_t> bits(w.size());
    convertToBF16(t, bits.data());
    s.bytes.assign(reinterpret_cast<uint8_t *>(bits.data()),
                   reinterpret_cast<uint8_t *>(bits.data()) + bits.size() * 2);
    for (uint16_t b : bits)
      s.widened.push_back(__builtin_bit_cast(float, uint32_t(b) << 16));
  } else {
    s.bytes.assign(reinterpret_cast<const uint8_t *>(w.data()),
                   reinterpret_cast<const uint8_t *>(w.data()) + w.size() * 4);
    s.widened = w;
  }
  return s;
}

/// y[r, n] = s[e N + n] (x[r] . W_e[n]) in float64 for the rows of each
/// expert, and its tolerance (2 K + 8) u s (|x| |W_e|^T) + 2 u |y|.
struct Product {
  std::vector<float> y;
  std::vector<double> tol;
};

Product grouped(const std::vector<float> &x, const StoredWeight &w, const Tensor &offsets,
                int64_t rows, int E, int N, int K) {
  Tensor y = ref::groupedMatmul(floatTensor({rows, K}, x).to(DType::F64),
                                floatTensor({E, N, K}, w.widened).to(DType::F64), offsets);
  Tensor mag = ref::groupedMatmul(floatTensor({rows, K}, absOf(x)).to(DType::F64),
                                  floatTensor({E, N, K}, absOf(w.widened)).to(DType::F64), offsets);
  std::vector<double> yd = doublesOf(y), md = doublesOf(mag);
  const int64_t *off = offsets.data<int64_t>();
  Product p;
  for (int64_t r = 0; r < rows; ++r) {
    int e = 0;
    while (off[e + 1] <= r)
      ++e;
    for (int n = 0; n < N; ++n) {
      const double s = w.scales[size_t(e) * N + n], v = s * yd[r * N + n];
      p.y.push_back(float(v));
      p.tol.push_back((2.0 * K + 8) * kU * s * md[r * N + n] + 2 * kU * std::fabs(v));
    }
  }
  return p;
}

struct Dims {
  std::string tag, storage;
  int H, I, E;
};

std::vector<Dims> allDims() {
  std::vector<Dims> d;
  for (std::string storage : {"bf16", "int8"}) {
    d.push_back({storage + "_wide", storage, 80, 96, 4});
    d.push_back({storage + "_narrow", storage, 36, 44, 3});
  }
  d.push_back({"f32_narrow", "f32", 36, 44, 3});
  return d;
}

const void *address(const DeviceArray<uint8_t> &a) { return a.ptr(); }
int bytesOf(const std::string &storage) {
  return storage == "int8" ? 1 : storage == "bf16" ? 2 : 4;
}

} // namespace

TEST(StoredWeights, DenseGemvAndWiden) {
  KernelRunner &r = testRunner();
  for (const Dims &d : allDims()) {
    SCOPED_TRACE(d.tag);
    const int N = d.I, K = d.H;
    StoredWeight w = store(d.storage, {N, K}, randomFloats(size_t(N) * K, 11, 0.2));
    DeviceArray<uint8_t> wd(r, w.bytes);
    for (int64_t rows : {1, 4, 7}) { // one pass of kGroupedGemvRows, a full one, two
      std::vector<float> x = randomFloats(rows * K, 12 + rows);
      Product want = grouped(x, w, intTensor({2}, {0, rows}), rows, 1, N, K);
      DeviceArray<float> xd(r, x), y(r, rows * N);
      run("t_gemv_" + d.tag, cuda::launch::gemv(N, bytesOf(d.storage)),
          static_cast<const float *>(xd.ptr()), address(wd), y.ptr(), rows);
      EXPECT_TRUE(allClose(y.download(), want.y, want.tol)) << rows << " rows";
    }
    // N = 37 columns, K = 36: the last warp's group of C columns is partial
    // (int8 4 * 9 + 1, bf16 2 * 18 + 1) and rows take 4-weight loads.
    {
      const int odd = 37;
      StoredWeight wo = store(d.storage, {odd, 36}, randomFloats(size_t(odd) * 36, 13, 0.2));
      DeviceArray<uint8_t> wod(r, wo.bytes);
      std::vector<float> x = randomFloats(3 * 36, 14);
      Product want = grouped(x, wo, intTensor({2}, {0, 3}), 3, 1, odd, 36);
      DeviceArray<float> xd(r, x), y(r, 3 * odd);
      run("t_gemv_odd_" + d.storage, cuda::launch::gemv(odd, bytesOf(d.storage)),
          static_cast<const float *>(xd.ptr()), address(wod), y.ptr(), int64_t(3));
      EXPECT_TRUE(allClose(y.download(), want.y, want.tol)) << "37 columns";
    }
    // Rows [2, N - 1) widened for cuBLAS: exact.
    const int64_t first = 2, count = N - 3;
    DeviceArray<float> wide(r, count * K);
    run("t_widen_" + d.tag, cuda::launch::elementwise(count * K / 4), address(wd), wide.ptr(),
        first, count);
    EXPECT_EQ(wide.download(), std::vector<float>(w.widened.begin() + first * K,
                                                  w.widened.begin() + (first + count) * K));
  }
}

// Group sizes: a decode step (GEMV and tiled forms) and groups past one
// 64-row tile with an empty expert (tiled form). The narrow dims have 3
// experts: 3 * 44 * 36 int8 bytes end off a 64-byte boundary, so the scales
// start after padding.
TEST(StoredWeights, ExpertMlp) {
  KernelRunner &r = testRunner();
  for (const Dims &d : allDims()) {
    const bool four = d.E == 4;
    for (std::vector<int64_t> offsets :
         {four ? std::vector<int64_t>{0, 3, 3, 8, 9} : std::vector<int64_t>{0, 3, 3, 9},
          four ? std::vector<int64_t>{0, 70, 70, 95, 100} : std::vector<int64_t>{0, 70, 70, 100}}) {
      const int E = d.E, H = d.H, I = d.I;
      const int64_t rows = offsets.back();
      SCOPED_TRACE(d.tag + ", " + std::to_string(rows) + " rows");
      StoredWeight w1 = store(d.storage, {E, I, H}, randomFloats(size_t(E) * I * H, 21, 0.15));
      StoredWeight w3 = store(d.storage, {E, I, H}, randomFloats(size_t(E) * I * H, 22, 0.15));
      StoredWeight w2 = store(d.storage, {E, H, I}, randomFloats(size_t(E) * H * I, 23, 0.1));
      std::vector<float> x = randomFloats(rows * H, 24);
      Tensor off = intTensor({E + 1}, offsets);
      Product gate = grouped(x, w1, off, rows, E, I, H), up = grouped(x, w3, off, rows, E, I, H);
      std::vector<float> y(rows * I);
      std::vector<double> upTol(y.size());
      for (size_t i = 0; i < y.size(); ++i) {
        const double g = gate.y[i], silu = g / (1 + std::exp(-g));
        y[i] = float(silu * up.y[i]);
        upTol[i] = 1.1 * std::fabs(up.y[i]) * gate.tol[i] + std::fabs(silu) * up.tol[i] +
                   16 * kU * std::fabs(y[i]);
      }
      DeviceArray<uint8_t> w1d(r, w1.bytes), w3d(r, w3.bytes), w2d(r, w2.bytes);
      DeviceArray<float> xd(r, x), upDev(r, rows * I), down(r, rows * H);
      DeviceArray<int64_t> offDev(r, offsets);
      ErrorFlag err;
      const float *xp = xd.ptr();
      const int64_t *op = offDev.ptr();
      run("t_sw_swiglu_" + d.tag, cuda::launch::groupedSwiglu(rows, I, E), xp, address(w1d),
          address(w3d), op, upDev.ptr(), rows, err.ptr());
      std::vector<float> upGot = upDev.download();
      EXPECT_TRUE(allClose(upGot, y, upTol)) << "swiglu";
      Product wantDown = grouped(upGot, w2, off, rows, E, H, I);
      run("t_sw_down_" + d.tag, cuda::launch::groupedGemm(rows, H, E),
          static_cast<const float *>(upDev.ptr()), address(w2d), op, down.ptr(), rows, err.ptr());
      EXPECT_TRUE(allClose(down.download(), wantDown.y, wantDown.tol)) << "down projection";
      if (rows <= mmk::kGroupedGemvMaxRows) {
        DeviceArray<float> upGv(r, rows * I), downGv(r, rows * H);
        run("t_sw_swiglu_gv_" + d.tag, cuda::launch::groupedGemv(I, E, bytesOf(d.storage)), xp,
            address(w1d), address(w3d), op, upGv.ptr(), rows, err.ptr());
        EXPECT_TRUE(allClose(upGv.download(), y, upTol)) << "swiglu, GEMV form";
        run("t_sw_down_gv_" + d.tag, cuda::launch::groupedGemv(H, E, bytesOf(d.storage)),
            static_cast<const float *>(upDev.ptr()), address(w2d), op, downGv.ptr(), rows,
            err.ptr());
        EXPECT_TRUE(allClose(downGv.download(), wantDown.y, wantDown.tol))
            << "down projection, GEMV form";
      }
      EXPECT_NO_KERNEL_ERROR(err);
    }
  }
}

TEST(StoredWeights, Int8ColumnScales) {
  KernelRunner &r = testRunner();
  const int N = 96, K = 80;
  const int64_t rows = 5;
  StoredWeight w = store("int8", {N, K}, randomFloats(size_t(N) * K, 31, 0.3));
  std::vector<float> y = randomFloats(rows * N, 32), want(y.size());
  for (size_t i = 0; i < y.size(); ++i)
    want[i] = y[i] * w.scales[i % N];
  DeviceArray<uint8_t> wd(r, w.bytes);
  DeviceArray<float> yd(r, y);
  run("t_scale_columns_int8", cuda::launch::elementwise(rows * N), address(wd), yd.ptr(), rows * N);
  EXPECT_EQ(yd.download(), want);
}

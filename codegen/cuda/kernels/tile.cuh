//===- tile.cuh - block-level FP32 GEMM on shared-memory tiles -------------===//
//
// The building block of the lightning, attention and MoE kernels: a thread
// block computes acc += A[TM x KLEN] * B[KLEN x TN] from shared memory, each
// thread owning an RM x RN register tile. FP32 multiply-add in CUDA cores
// (no TF32), k ascending, so every output is an ordinary sequential dot product.
//
// Thread grid: TX = min(TN, 16) columns of threads, TY = min(THREADS / TX, TM)
// rows; threads >= TX * TY are idle. Thread t (ty = t / TX, tx = t % TX) owns
//   rows  ty * RM + i                                  (i < RM = TM / TY)
//   cols  B k-major, RN % 4 == 0: (j / 4) * 4 TX + 4 tx + j % 4
//         otherwise:              tx + TX * j           (j < RN = TN / TX)
// These patterns make the shared-memory reads conflict-free with rows padded
// by mmk::kSmemPad floats. The TX threads of a row are consecutive lanes of
// one warp, so row reductions are shuffles within TX lanes.
//
// Layouts: A row-major (A[m * lda + k]) or k-major (A[k * lda + m]);
// B k-major (B[k * ldb + n]) or n-major (B[n * ldb + k], i.e. the rows of a
// weight or key matrix). Row-major A and n-major B are read as float4 along k:
// KLEN, lda / ldb and the base addresses must be multiples of 4 floats.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_TILE_CUH
#define MM_CUDA_TILE_CUH

#include "common.cuh"

template <int TM, int TN, int THREADS, bool A_KMAJOR, bool B_NMAJOR> struct MmTileGemm {
  static constexpr int TX = TN < 16 ? TN : 16;
  static constexpr int TY = (THREADS / TX) < TM ? (THREADS / TX) : TM;
  static constexpr int RM = TM / TY;
  static constexpr int RN = TN / TX;
  static constexpr int ACTIVE = TX * TY;
  static constexpr bool B_VEC = !B_NMAJOR && RN % 4 == 0;
  static constexpr bool A_VEC = A_KMAJOR && RM % 4 == 0;
  static_assert(TM % TY == 0 && TN % TX == 0, "tile must split evenly over the thread grid");
  static_assert(32 % TX == 0, "a row's threads must be lanes of one warp");

  __device__ static bool active() { return threadIdx.x < ACTIVE; }
  __device__ static int ty() { return threadIdx.x / TX; }
  __device__ static int tx() { return threadIdx.x % TX; }
  __device__ static int row(int i) { return ty() * RM + i; }
  __device__ static int col(int j) {
    return B_VEC ? (j / 4) * (4 * TX) + tx() * 4 + (j % 4) : tx() + TX * j;
  }

  __device__ static void zero(float (&acc)[RM][RN]) {
#pragma unroll
    for (int i = 0; i < RM; ++i)
#pragma unroll
      for (int j = 0; j < RN; ++j)
        acc[i][j] = 0.f;
  }

  __device__ static void loadA(float (&a)[4][RM], const float *A, int lda, int k0) {
    const int r0 = ty() * RM;
    if (A_KMAJOR) {
#pragma unroll
      for (int kk = 0; kk < 4; ++kk) {
        if (A_VEC) {
#pragma unroll
          for (int q = 0; q < RM / 4; ++q) {
            float4 v = mm_load4(A + (k0 + kk) * lda + r0 + 4 * q);
            a[kk][4 * q] = v.x;
            a[kk][4 * q + 1] = v.y;
            a[kk][4 * q + 2] = v.z;
            a[kk][4 * q + 3] = v.w;
          }
        } else {
#pragma unroll
          for (int i = 0; i < RM; ++i)
            a[kk][i] = A[(k0 + kk) * lda + r0 + i];
        }
      }
    } else {
#pragma unroll
      for (int i = 0; i < RM; ++i) {
        float4 v = mm_load4(A + (r0 + i) * lda + k0);
        a[0][i] = v.x;
        a[1][i] = v.y;
        a[2][i] = v.z;
        a[3][i] = v.w;
      }
    }
  }

  __device__ static void loadB(float (&b)[4][RN], const float *B, int ldb, int k0) {
    if (B_NMAJOR) {
#pragma unroll
      for (int j = 0; j < RN; ++j) {
        float4 v = mm_load4(B + col(j) * ldb + k0);
        b[0][j] = v.x;
        b[1][j] = v.y;
        b[2][j] = v.z;
        b[3][j] = v.w;
      }
    } else {
#pragma unroll
      for (int kk = 0; kk < 4; ++kk) {
        if (B_VEC) {
#pragma unroll
          for (int g = 0; g < RN / 4; ++g) {
            float4 v = mm_load4(B + (k0 + kk) * ldb + g * 4 * TX + tx() * 4);
            b[kk][4 * g] = v.x;
            b[kk][4 * g + 1] = v.y;
            b[kk][4 * g + 2] = v.z;
            b[kk][4 * g + 3] = v.w;
          }
        } else {
#pragma unroll
          for (int j = 0; j < RN; ++j)
            b[kk][j] = B[(k0 + kk) * ldb + tx() + TX * j];
        }
      }
    }
  }

  /// Row k of a k-major A (the thread's RM values).
  __device__ static void loadKRowA(float (&a)[RM], const float *A, int lda, int k) {
    const float *p = A + k * lda + ty() * RM;
    if (A_VEC) {
#pragma unroll
      for (int q = 0; q < RM / 4; ++q) {
        float4 v = mm_load4(p + 4 * q);
        a[4 * q] = v.x;
        a[4 * q + 1] = v.y;
        a[4 * q + 2] = v.z;
        a[4 * q + 3] = v.w;
      }
    } else {
#pragma unroll
      for (int i = 0; i < RM; ++i)
        a[i] = p[i];
    }
  }

  /// Row k of a k-major B (the thread's RN values).
  __device__ static void loadKRowB(float (&b)[RN], const float *B, int ldb, int k) {
    if (B_VEC) {
#pragma unroll
      for (int g = 0; g < RN / 4; ++g) {
        float4 v = mm_load4(B + k * ldb + g * 4 * TX + tx() * 4);
        b[4 * g] = v.x;
        b[4 * g + 1] = v.y;
        b[4 * g + 2] = v.z;
        b[4 * g + 3] = v.w;
      }
    } else {
#pragma unroll
      for (int j = 0; j < RN; ++j)
        b[j] = B[k * ldb + tx() + TX * j];
    }
  }

  /// acc += A * B over k in [0, KLEN). Call only from active() threads.
  template <int KLEN>
  __device__ static void accumulate(float (&acc)[RM][RN], const float *A, int lda, const float *B,
                                    int ldb) {
    static_assert(KLEN % 4 == 0, "k is consumed four at a time");
    if (A_KMAJOR && !B_NMAJOR) {
      // Both operands are contiguous along m / n: one k at a time keeps the
      // fragments small (RM + RN registers).
#pragma unroll 2
      for (int kk = 0; kk < KLEN; ++kk) {
        float a[RM], b[RN];
        loadKRowA(a, A, lda, kk);
        loadKRowB(b, B, ldb, kk);
#pragma unroll
        for (int i = 0; i < RM; ++i)
#pragma unroll
          for (int j = 0; j < RN; ++j)
            acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    } else {
#pragma unroll 1
      for (int k0 = 0; k0 < KLEN; k0 += 4) {
        float a[4][RM], b[4][RN];
        loadA(a, A, lda, k0);
        loadB(b, B, ldb, k0);
#pragma unroll
        for (int kk = 0; kk < 4; ++kk)
#pragma unroll
          for (int i = 0; i < RM; ++i)
#pragma unroll
            for (int j = 0; j < RN; ++j)
              acc[i][j] = fmaf(a[kk][i], b[kk][j], acc[i][j]);
      }
    }
  }

  /// acc1 += A * B1 and acc2 += A * B2 sharing the A fragments (SwiGLU).
  template <int KLEN>
  __device__ static void accumulate2(float (&acc1)[RM][RN], float (&acc2)[RM][RN], const float *A,
                                     int lda, const float *B1, const float *B2, int ldb) {
    static_assert(KLEN % 4 == 0, "k is consumed four at a time");
#pragma unroll 1
    for (int k0 = 0; k0 < KLEN; k0 += 4) {
      float a[4][RM], b[4][RN];
      loadA(a, A, lda, k0);
      loadB(b, B1, ldb, k0);
#pragma unroll
      for (int kk = 0; kk < 4; ++kk)
#pragma unroll
        for (int i = 0; i < RM; ++i)
#pragma unroll
          for (int j = 0; j < RN; ++j)
            acc1[i][j] = fmaf(a[kk][i], b[kk][j], acc1[i][j]);
      loadB(b, B2, ldb, k0);
#pragma unroll
      for (int kk = 0; kk < 4; ++kk)
#pragma unroll
        for (int i = 0; i < RM; ++i)
#pragma unroll
          for (int j = 0; j < RN; ++j)
            acc2[i][j] = fmaf(a[kk][i], b[kk][j], acc2[i][j]);
    }
  }
};

/// The four floats at p, columns c .. c + 3 of a row of VALID floats, with
/// zeros past VALID. VEC: one float4 read (p 16-byte aligned and VALID a
/// multiple of 4); otherwise scalar reads, for rows of any length and alignment.
template <int VALID, bool VEC>
__device__ __forceinline__ float4 mm_load4_upto(const float *p, int c) {
  if (VEC)
    return c < VALID ? mm_load4(p) : mm_zero4();
  return make_float4(c < VALID ? p[0] : 0.f, c + 1 < VALID ? p[1] : 0.f, c + 2 < VALID ? p[2] : 0.f,
                     c + 3 < VALID ? p[3] : 0.f);
}

/// Stores the columns of x = (c .. c + 3) that are below VALID at p (as mm_load4_upto).
template <int VALID, bool VEC>
__device__ __forceinline__ void mm_store4_upto(float *p, int c, float4 x) {
  if (VEC) {
    if (c < VALID)
      mm_store4(p, x);
    return;
  }
  if (c < VALID)
    p[0] = x.x;
  if (c + 1 < VALID)
    p[1] = x.y;
  if (c + 2 < VALID)
    p[2] = x.z;
  if (c + 3 < VALID)
    p[3] = x.w;
}

/// Copies a ROWS x COLS tile from global memory (row r at src + r * srcStride)
/// into shared memory (row r at dst + r * ldd): the first VALID columns of
/// rows < validRows; the rest, padding included, zero-filled (validRows may be
/// <= 0). The zero padding lets the tile GEMMs, whose widths are multiples of
/// 16, serve any head dim. COLS and ldd are multiples of 4 floats and dst is
/// 16-byte aligned. VEC (float4 reads) needs VALID, srcStride and src to be
/// multiples of 4 floats; otherwise the reads are scalar.
template <int ROWS, int COLS, int THREADS, int VALID = COLS, bool VEC = VALID % 4 == 0>
__device__ __forceinline__ void mm_tile_load(float *dst, int ldd, const float *src,
                                             mm_i64 srcStride, mm_i64 validRows) {
  static_assert(COLS % 4 == 0 && VALID <= COLS, "float4 rows of at least VALID columns");
  static_assert(!VEC || VALID % 4 == 0, "float4 reads need whole groups of 4");
  constexpr int Q = COLS / 4;
  for (int f = threadIdx.x; f < ROWS * Q; f += THREADS) {
    int r = f / Q, c = 4 * (f % Q);
    mm_store4(dst + r * ldd + c,
              r < validRows ? mm_load4_upto<VALID, VEC>(src + r * srcStride + c, c) : mm_zero4());
  }
}

#endif // MM_CUDA_TILE_CUH

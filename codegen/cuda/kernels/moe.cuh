//===- moe.cuh - mixture of experts: router, dispatch, grouped GEMM, combine -===//
//
// reference/kernels/MoE.cpp semantics on the device, with no host round trip:
//   router      logits [N, E] -> weights [N, TOPK], indices [N, TOPK]
//   sort        indices -> groupOffsets [E+1], tokenOrder [N*TOPK], rowOfSlot [N*TOPK]
//   gather      x [N, D] -> dispatched [N*TOPK, D] (row r is token tokenOrder[r] / TOPK)
//   grouped GEMM / SwiGLU over the expert-sorted rows, weights [E, N_out, K]
//   combine     expert rows -> out [N, D], summed in slot order (deterministic)
// A "slot" is s = token * TOPK + j (the j-th choice of a token).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_MOE_CUH
#define MM_CUDA_MOE_CUH

#include "activation.cuh"
#include "gather.cuh"
#include "gemv.cuh"
#include "tile.cuh"
#include "weights.cuh"

/// ref::moeRouter: p = softmax(logits[t]) in fp32; the TOPK largest p in
/// descending order, ties to the lower expert index; weights p / (sum of the
/// chosen p, added in choice order) when renormalize, else p.
/// One warp per token. Launch: block kRouterThreads, grid up to
/// ceilDiv(tokens, kRouterThreads / 32).
/// Accuracy: the softmax sum is a warp tree instead of a sequential sum, so p
/// differs from the reference by <= (E + 2) 2^-24 relative; equal logits give
/// bitwise equal p and therefore the same tie order.
template <int E, int TOPK>
__device__ __forceinline__ void mm_moe_router_kernel(const float *logits, float *weights,
                                                     mm_i64 *indices, mm_i64 tokens,
                                                     int renormalize) {
  static_assert(TOPK >= 1 && TOPK <= E, "top_k");
  constexpr int PER = (E + 31) / 32;
  const int lane = threadIdx.x % 32;
  const mm_i64 warpsPerGrid = (mm_i64)gridDim.x * (blockDim.x / 32);
  for (mm_i64 t = (mm_i64)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; t < tokens;
       t += warpsPerGrid) {
    float p[PER];
    bool taken[PER];
    float mx = mm_neg_inf();
#pragma unroll
    for (int u = 0; u < PER; ++u) {
      int e = lane + 32 * u;
      p[u] = e < E ? logits[t * E + e] : mm_neg_inf();
      taken[u] = e >= E;
      mx = fmaxf(mx, p[u]);
    }
    mx = mm_warp_max(mx);
    float sum = 0.f;
#pragma unroll
    for (int u = 0; u < PER; ++u) {
      p[u] = lane + 32 * u < E ? expf(p[u] - mx) : 0.f;
      sum += p[u];
    }
    sum = mm_warp_sum(sum);
#pragma unroll
    for (int u = 0; u < PER; ++u)
      p[u] /= sum;
    float chosenP[TOPK];
    int chosenE[TOPK];
    float chosen = 0.f;
#pragma unroll
    for (int kk = 0; kk < TOPK; ++kk) {
      float best = -1.f; // probabilities are >= 0
      int bestE = E;
#pragma unroll
      for (int u = 0; u < PER; ++u)
        if (!taken[u] && p[u] > best) { // u ascending: ties keep the lower index
          best = p[u];
          bestE = lane + 32 * u;
        }
      for (int o = 16; o > 0; o >>= 1) {
        float ob = __shfl_xor_sync(MM_FULL_MASK, best, o);
        int oe = __shfl_xor_sync(MM_FULL_MASK, bestE, o);
        if (ob > best || (ob == best && oe < bestE)) {
          best = ob;
          bestE = oe;
        }
      }
#pragma unroll
      for (int u = 0; u < PER; ++u)
        if (lane + 32 * u == bestE)
          taken[u] = true;
      chosenP[kk] = best;
      chosenE[kk] = bestE;
      chosen += best;
    }
    if (lane == 0) {
#pragma unroll
      for (int kk = 0; kk < TOPK; ++kk) {
        indices[t * TOPK + kk] = chosenE[kk];
        weights[t * TOPK + kk] = renormalize ? chosenP[kk] / chosen : chosenP[kk];
      }
    }
  }
}

/// ref::moeDispatch's bookkeeping, as a stable counting sort of the slots by
/// expert in one CTA: groupOffsets[e] = number of slots routed to experts < e
/// (groupOffsets[E] = slots); tokenOrder[groupOffsets[e] + n] = the n-th slot
/// (ascending) routed to e; rowOfSlot[s] = the row of slot s (may be null).
/// An index outside [0, E) sets kExpertOutOfRange and its slot is dropped
/// (rowOfSlot = -1, tokenOrder's tail = -1).
/// Launch: grid 1, block kMoeSortThreads.
template <int E>
__device__ __forceinline__ void mm_moe_sort_kernel(const mm_i64 *expertIndices, mm_i64 slots,
                                                   mm_i64 *groupOffsets, mm_i64 *tokenOrder,
                                                   mm_i64 *rowOfSlot, int *error) {
  constexpr int THREADS = mmk::kMoeSortThreads, WARPS = THREADS / 32;
  __shared__ mm_u64 counts[E];
  __shared__ mm_i64 running[E];
  __shared__ int warpCounts[WARPS][E];
  __shared__ int chunkTotal[E];
  __shared__ mm_i64 total;
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  for (int e = tid; e < E; e += THREADS)
    counts[e] = 0;
  __syncthreads();
  for (mm_i64 s = tid; s < slots; s += THREADS) {
    mm_i64 e = expertIndices[s];
    if (e < 0 || e >= E)
      mm_report_error(error, mmk::kExpertOutOfRange);
    else
      atomicAdd(&counts[e], 1ull);
  }
  __syncthreads();
  if (tid == 0) {
    mm_i64 acc = 0;
    for (int e = 0; e < E; ++e) {
      running[e] = acc;
      groupOffsets[e] = acc;
      acc += (mm_i64)counts[e];
    }
    groupOffsets[E] = acc;
    total = acc;
  }
  __syncthreads();
  // Stable placement, THREADS slots at a time: rank among equal experts inside
  // the warp (match_any), then across the warps before it.
  for (mm_i64 base = 0; base < slots; base += THREADS) {
    for (int i = tid; i < WARPS * E; i += THREADS)
      warpCounts[i / E][i % E] = 0;
    __syncthreads();
    const mm_i64 s = base + tid;
    int e = -1;
    if (s < slots) {
      mm_i64 x = expertIndices[s];
      if (x >= 0 && x < E)
        e = (int)x;
    }
    const unsigned peers = __match_any_sync(MM_FULL_MASK, e);
    const int rank = __popc(peers & ((1u << lane) - 1u));
    if (e >= 0 && rank == 0)
      warpCounts[warp][e] = __popc(peers);
    __syncthreads();
    for (int x = tid; x < E; x += THREADS) {
      int run = 0;
      for (int w = 0; w < WARPS; ++w) {
        int c = warpCounts[w][x];
        warpCounts[w][x] = run;
        run += c;
      }
      chunkTotal[x] = run;
    }
    __syncthreads();
    if (s < slots) {
      if (e >= 0) {
        mm_i64 pos = running[e] + warpCounts[warp][e] + rank;
        tokenOrder[pos] = s;
        if (rowOfSlot)
          rowOfSlot[s] = pos;
      } else if (rowOfSlot) {
        rowOfSlot[s] = -1;
      }
    }
    __syncthreads();
    for (int x = tid; x < E; x += THREADS)
      running[x] += chunkTotal[x];
    __syncthreads();
  }
  for (mm_i64 p = total + tid; p < slots; p += THREADS)
    tokenOrder[p] = -1;
}

/// dispatched[r, :] = x[tokenOrder[r] / TOPK, :] (ref::moeDispatch's rows);
/// an order entry outside [0, slots) sets kBadTokenOrder and writes zeros.
/// Launch: block THREADS, grid up to slots.
template <int D, int TOPK, int THREADS>
__device__ __forceinline__ void mm_moe_gather_kernel(const float *x, const mm_i64 *tokenOrder,
                                                     float *dispatched, mm_i64 slots, int *error) {
  for (mm_i64 r = blockIdx.x; r < slots; r += gridDim.x) {
    mm_i64 s = tokenOrder[r];
    bool ok = s >= 0 && s < slots;
    if (!ok && threadIdx.x == 0)
      mm_report_error(error, mmk::kBadTokenOrder);
    mm_copy_row<D, THREADS>(ok ? x + (s / TOPK) * D : nullptr, dispatched + r * D);
  }
}

/// rowOfSlot[tokenOrder[r]] = r, checking that tokenOrder is a permutation of
/// [0, slots) (kBadTokenOrder otherwise). rowOfSlot must be filled with -1
/// first (memset 0xff). Launch: block kElementwiseThreads, grid elementwiseBlocks(slots).
__device__ __forceinline__ void
mm_moe_invert_order_kernel(const mm_i64 *tokenOrder, mm_i64 *rowOfSlot, mm_i64 slots, int *error) {
  for (mm_i64 r = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; r < slots;
       r += (mm_i64)gridDim.x * blockDim.x) {
    mm_i64 s = tokenOrder[r];
    if (s < 0 || s >= slots ||
        atomicCAS(reinterpret_cast<mm_u64 *>(rowOfSlot + s), ~0ull, (mm_u64)r) != ~0ull)
      mm_report_error(error, mmk::kBadTokenOrder);
  }
}

/// Group offsets valid (0 .. rows, non-decreasing)? Reports kBadGroupOffsets once.
template <int E>
__device__ __forceinline__ bool mm_group_offsets_valid(const mm_i64 *offsets, mm_i64 rows,
                                                       int *error) {
  bool ok = offsets[0] == 0 && offsets[E] == rows;
  for (int e = 0; e < E && ok; ++e)
    ok = offsets[e + 1] >= offsets[e];
  if (!ok && blockIdx.x == 0 && blockIdx.y == 0 && threadIdx.x == 0)
    mm_report_error(error, mmk::kBadGroupOffsets);
  return ok;
}

/// The (expert, first row, row count) of row tile `tile` when each expert's
/// rows are cut into tiles of TM; false past the last tile.
template <int E, int TM>
__device__ __forceinline__ bool mm_group_tile(const mm_i64 *offsets, mm_i64 tile, int &expert,
                                              mm_i64 &rowStart, int &rowCount) {
  for (int e = 0; e < E; ++e) {
    mm_i64 count = offsets[e + 1] - offsets[e], tiles = mmk::ceilDiv(count, TM);
    if (tile < tiles) {
      expert = e;
      rowStart = offsets[e] + tile * TM;
      rowCount = (int)mm_min64(TM, offsets[e + 1] - rowStart);
      return true;
    }
    tile -= tiles;
  }
  return false;
}

/// Loads rows [0, validRows) x cols [k0, k0 + KT) of a row-major [*, K] matrix
/// (float32, or weights in any storage of weights.cuh, widened) into a ROWS x
/// KT shared tile (row stride KT + pad), zero-filling the rest. Rows of a K
/// that is not a multiple of 4 are read one value at a time.
template <int ROWS, int KT, int K, int THREADS, typename S>
__device__ __forceinline__ void mm_k_slice_load(float *dst, const S *src, mm_i64 validRows,
                                                int k0) {
  constexpr int Q = KT / 4, LD = KT + mmk::kSmemPad;
  for (int f = threadIdx.x; f < ROWS * Q; f += THREADS) {
    int r = f / Q, c = 4 * (f % Q);
    const S *p = src + (mm_i64)r * K + k0 + c;
    mm_store4(dst + r * LD + c, !(r < validRows && k0 + c < K) ? mm_zero4()
                                : K % 4 == 0                   ? mm_load_w4(p)
                                                               : mm_load_w4_upto(p, K - k0 - c));
  }
}

/// ref::groupedMatmul: y[r, :] = x[r, :] W_e^T for the rows r of expert e
/// (groupOffsets[e] <= r < groupOffsets[e+1]); x [rows, K], weight [E, N, K],
/// y [rows, N], the weight in any storage of weights.cuh (int8 outputs take
/// their row's scale after the dot product). Sizes stay on the device: the
/// grid covers the worst case and surplus CTAs exit. Bad offsets set
/// kBadGroupOffsets.
/// Launch: grid (groupedGemmRowTiles(rows, E), ceilDiv(N, groupedGemmColTile(N))),
/// block kGroupedGemmThreads.
template <int N, int K, int E, typename W>
__device__ __forceinline__ void mm_moe_grouped_gemm_kernel(const float *x, const W *weight,
                                                           const mm_i64 *groupOffsets, float *y,
                                                           mm_i64 rows, int *error) {
  constexpr int TM = mmk::kGroupedGemmRowTile, TN = mmk::groupedGemmColTile(N);
  constexpr int KT = mmk::kGroupedGemmKTile, THREADS = mmk::kGroupedGemmThreads;
  constexpr int LD = KT + mmk::kSmemPad;
  typedef MmTileGemm<TM, TN, THREADS, false, true> Gemm;
  static_assert(TN % 16 == 0, "N tiles of 16");
  __shared__ __align__(16) float As[TM * LD];
  __shared__ __align__(16) float Bs[TN * LD];
  if (!mm_group_offsets_valid<E>(groupOffsets, rows, error))
    return;
  int expert;
  mm_i64 rowStart;
  int rowCount;
  if (!mm_group_tile<E, TM>(groupOffsets, blockIdx.x, expert, rowStart, rowCount))
    return;
  const int n0 = blockIdx.y * TN;
  const float *xb = x + rowStart * K;
  const W *wb = weight + ((mm_i64)expert * N + n0) * K;
  const MmRowScales<W> scale(weight, (mm_i64)E * N, K);
  float acc[Gemm::RM][Gemm::RN];
  Gemm::zero(acc);
  for (int k0 = 0; k0 < K; k0 += KT) {
    mm_k_slice_load<TM, KT, K, THREADS>(As, xb, rowCount, k0);
    mm_k_slice_load<TN, KT, K, THREADS>(Bs, wb, N - n0, k0);
    __syncthreads();
    if (Gemm::active())
      Gemm::template accumulate<KT>(acc, As, LD, Bs, LD);
    __syncthreads();
  }
  if (!Gemm::active())
    return;
#pragma unroll
  for (int i = 0; i < Gemm::RM; ++i) {
    if (Gemm::row(i) >= rowCount)
      continue;
    float *yr = y + (rowStart + Gemm::row(i)) * N + n0;
#pragma unroll
    for (int j = 0; j < Gemm::RN; ++j)
      if (n0 + Gemm::col(j) < N)
        yr[Gemm::col(j)] = scale[(mm_i64)expert * N + n0 + Gemm::col(j)] * acc[i][j];
  }
}

/// The expert MLP's first half in one pass: y = silu(x W1_e^T) * (x W3_e^T)
/// (ref::groupedMatmul twice, then ref::swiglu). w1, w3 [E, N, K] in storage W.
/// Launch: grid (groupedGemmRowTiles(rows, E), ceilDiv(N, groupedSwigluColTile(N))),
/// block kGroupedGemmThreads.
template <int N, int K, int E, typename W>
__device__ __forceinline__ void
mm_moe_grouped_swiglu_kernel(const float *x, const W *w1, const W *w3, const mm_i64 *groupOffsets,
                             float *y, mm_i64 rows, int *error) {
  constexpr int TM = mmk::kGroupedGemmRowTile, TN = mmk::groupedSwigluColTile(N);
  constexpr int KT = mmk::kGroupedGemmKTile, THREADS = mmk::kGroupedGemmThreads;
  constexpr int LD = KT + mmk::kSmemPad;
  typedef MmTileGemm<TM, TN, THREADS, false, true> Gemm;
  static_assert(TN % 16 == 0, "N tiles of 16");
  __shared__ __align__(16) float As[TM * LD];
  __shared__ __align__(16) float B1s[TN * LD];
  __shared__ __align__(16) float B3s[TN * LD];
  if (!mm_group_offsets_valid<E>(groupOffsets, rows, error))
    return;
  int expert;
  mm_i64 rowStart;
  int rowCount;
  if (!mm_group_tile<E, TM>(groupOffsets, blockIdx.x, expert, rowStart, rowCount))
    return;
  const int n0 = blockIdx.y * TN;
  const float *xb = x + rowStart * K;
  const mm_i64 wOffset = ((mm_i64)expert * N + n0) * K;
  const MmRowScales<W> scale1(w1, (mm_i64)E * N, K), scale3(w3, (mm_i64)E * N, K);
  float gate[Gemm::RM][Gemm::RN], up[Gemm::RM][Gemm::RN];
  Gemm::zero(gate);
  Gemm::zero(up);
  for (int k0 = 0; k0 < K; k0 += KT) {
    mm_k_slice_load<TM, KT, K, THREADS>(As, xb, rowCount, k0);
    mm_k_slice_load<TN, KT, K, THREADS>(B1s, w1 + wOffset, N - n0, k0);
    mm_k_slice_load<TN, KT, K, THREADS>(B3s, w3 + wOffset, N - n0, k0);
    __syncthreads();
    if (Gemm::active())
      Gemm::template accumulate2<KT>(gate, up, As, LD, B1s, B3s, LD);
    __syncthreads();
  }
  if (!Gemm::active())
    return;
#pragma unroll
  for (int i = 0; i < Gemm::RM; ++i) {
    if (Gemm::row(i) >= rowCount)
      continue;
    float *yr = y + (rowStart + Gemm::row(i)) * N + n0;
#pragma unroll
    for (int j = 0; j < Gemm::RN; ++j)
      if (n0 + Gemm::col(j) < N) {
        const mm_i64 row = (mm_i64)expert * N + n0 + Gemm::col(j);
        yr[Gemm::col(j)] = mm_silu(scale1[row] * gate[i][j]) * (scale3[row] * up[i][j]);
      }
  }
}

/// ref::groupedMatmul for few rows (decode): y[r, n] = x[r, :] . W1_e[n, :]
/// for the rows r of expert e, or with SWIGLU y[r, n] = silu(x W1_e^T) *
/// (x W3_e^T) (ref::swiglu of the two); weights in storage W. One warp per
/// (column n, expert e) streams the weight row(s) once (mm_gemv_warp,
/// gemv.cuh, which states the accuracy: within the tiled kernels' (2 K + 8) u
/// bound). A decode step reads each active expert's weights once at full
/// memory bandwidth, where the 64-row tiles of the kernels above would be
/// mostly empty. Experts with no rows exit at once.
/// Launch: launch::groupedGemv(N, E, sizeof(W)).
template <int N, int K, int E, bool SWIGLU, typename W>
__device__ __forceinline__ void mm_moe_grouped_gemv_kernel(const float *x, const W *w1, const W *w3,
                                                           const mm_i64 *groupOffsets, float *y,
                                                           mm_i64 rows, int *error) {
  constexpr int WARPS = mmk::kGroupedGemvThreads / 32, C = MmGemvColumns<W>::C;
  if (!mm_group_offsets_valid<E>(groupOffsets, rows, error))
    return;
  const int e = blockIdx.y;
  const int n = (blockIdx.x * WARPS + threadIdx.x / 32) * C;
  const mm_i64 first = groupOffsets[e], last = groupOffsets[e + 1];
  if (first == last || n >= N)
    return;
  const mm_i64 row = (mm_i64)e * N + n;
  const MmRowScales<W> s1(w1, (mm_i64)E * N, K), s3(w3, (mm_i64)E * N, K);
  float sa[C], sb[C];
#pragma unroll
  for (int c = 0; c < C; ++c) {
    sa[c] = n + c < N ? s1[row + c] : 0.f;
    sb[c] = SWIGLU && n + c < N ? s3[row + c] : 1.f;
  }
  mm_gemv_warp<N, K, SWIGLU, W>(x, w1 + row * K, (SWIGLU ? w3 : w1) + row * K, sa, sb,
                                mm_min(C, N - n), first, last, n, y);
}

/// ref::moeCombine: out[t, :] = sum_{j < TOPK} weights[t, j] * expertOut[rowOfSlot[t*TOPK+j], :],
/// accumulated in j order from zero like the reference. A row outside
/// [0, tokens * TOPK) sets kBadTokenOrder and its term is skipped.
/// Launch: block THREADS, grid up to tokens.
template <int D, int TOPK, int THREADS>
__device__ __forceinline__ void mm_moe_combine_kernel(const float *expertOut,
                                                      const mm_i64 *rowOfSlot, const float *weights,
                                                      float *out, mm_i64 tokens, int *error) {
  const mm_i64 slots = tokens * TOPK;
  for (mm_i64 t = blockIdx.x; t < tokens; t += gridDim.x) {
    const float *src[TOPK];
    float w[TOPK];
#pragma unroll
    for (int j = 0; j < TOPK; ++j) {
      mm_i64 r = rowOfSlot[t * TOPK + j];
      bool ok = r >= 0 && r < slots;
      if (!ok && threadIdx.x == 0)
        mm_report_error(error, mmk::kBadTokenOrder);
      src[j] = ok ? expertOut + r * D : nullptr;
      w[j] = weights[t * TOPK + j];
    }
    for (int c = threadIdx.x; c < D; c += THREADS) {
      float acc = 0.f;
#pragma unroll
      for (int j = 0; j < TOPK; ++j)
        if (src[j])
          acc += w[j] * src[j][c];
      out[t * D + c] = acc;
    }
  }
}

#endif // MM_CUDA_MOE_CUH

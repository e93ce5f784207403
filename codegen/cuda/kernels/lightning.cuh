//===- lightning.cuh - MiniMax lightning attention: block-wise prefill, decode -===//
//
// ref::lightningAttention (reference/kernels/Lightning.cpp), per (sequence b, head h)
// with lambda = exp(-slopes[h]) and state S in R^{D x D}:
//   recurrence: S_t = lambda S_{t-1} + k_t v_t^T,   o_t = q_t^T S_t
//   block-wise (block size BS, rows c < m of a block, S the state before it):
//     o[c] = lambda^(c+1) q_c^T S + sum_{j<=c} lambda^(c-j) (q_c . k_j) v_j
//     S   <- lambda^m S + sum_j lambda^(m-1-j) k_j v_j^T
// Outputs at positions >= lengths[b] are zero and the final state is the state
// after lengths[b] tokens.
//
// Prefill runs as three launches on one stream, parallel over blocks:
//   1. mm_lightning_block_state_kernel: per (b, h, block) the block's own state
//      contribution  dS = sum_j lambda^(m-1-j) k_j v_j^T  -> workspace[b, h, block]
//   2. mm_lightning_state_scan_kernel: per (b, h) and state element, the scan
//      S_0 = initial, workspace[blk] <- S_blk (the state before blk),
//      S_{blk+1} = lambda^m S_blk + dS_blk; final state = S after the last block.
//   3. mm_lightning_block_output_kernel: per (b, h, block, 64-row tile) the inter
//      term from workspace[blk] and the intra term (masked, decayed Q K^T) V.
// FLOPs per head and token: 2 D^2 (state) + 2 D^2 (inter) + ~2 BS D (intra,
// causal half of Q K^T and of P V). Workspace: mmk::lightningWorkspaceFloats.
//
// q, k, v address row (b, t, h) at base + (b * tokens + t) * tokenStride + h * headStride,
// so they can be read in place from the interleaved SiLU(qkv) buffer [B, T, H, 3D]
// (q = buf, k = buf + D, v = buf + 2D, tokenStride = 3 H D, headStride = 3 D) or from
// separate [B, T, H, D] tensors (tokenStride = H D, headStride = D). The output
// row (b, t) is at out + (b * tokens + t) * outTokenStride + h * D. States are
// [B, H, D, D] fp32; a null initial state is zero and a null final state is
// not written. slopes[h] is the float32 decay exponent of head h
// (mm::lightningDecaySlopes).
//
// Any D up to 128: shared-memory tiles are DP = mmk::headTile(D) wide and
// zero-padded (padded rows and columns of q, k, v and the state add zeros);
// the workspace holds compact D x D states. VEC (the default when D is a
// multiple of 4) reads and writes float4s: the strides, bases and
// outTokenStride must then be multiples of 4 floats. Without it every access
// is scalar, for any D, stride and slice offset.
//
// Accuracy against the float reference: decays are expf(-s n) in float (the
// reference rounds exp(-s n) computed in double), a relative difference of at
// most (s n + 2) 2^-24 on a factor e^{-s n}, i.e. <= 3 2^-24 of the term for
// the terms that matter. Sums are re-associated (the scan adds a block's
// contribution as one term): the error bound is the usual gamma_N sum |terms|
// with N = D + BS + number of blocks.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_LIGHTNING_CUH
#define MM_CUDA_LIGHTNING_CUH

#include "tile.cuh"

/// Length of sequence b (tokens when lengths is null) or -1, reporting
/// kLengthOutOfRange once per sequence, when outside [0, tokens].
__device__ __forceinline__ mm_i64 mm_lightning_length(const mm_i64 *lengths, mm_i64 b,
                                                      mm_i64 tokens, bool reporter, int *error) {
  mm_i64 len = lengths ? lengths[b] : tokens;
  if (len < 0 || len > tokens) {
    if (reporter)
      mm_report_error(error, mmk::kLengthOutOfRange);
    return -1;
  }
  return len;
}

/// local[h] = all[headIndex[h]] for h < heads: the slopes of a rank's block of
/// the heads (head_index) among every head's. An index outside [0, total)
/// sets kIndexOutOfRange (its slope is 0). Launch: one block, any threads.
__device__ __forceinline__ void mm_select_slopes_kernel(const float *all, const mm_i64 *headIndex,
                                                        float *local, int heads, int total,
                                                        int *error) {
  for (int h = threadIdx.x; h < heads; h += blockDim.x) {
    const mm_i64 g = headIndex[h];
    if (g < 0 || g >= total)
      mm_report_error(error, mmk::kIndexOutOfRange);
    local[h] = g >= 0 && g < total ? all[g] : 0.f;
  }
}

/// Step 1: workspace[b, h, blk] = sum_{j<m} lambda^(m-1-j) k_j v_j^T for every
/// block that starts before lengths[b] (others are left untouched).
/// Launch: grid (lightningNumBlocks(tokens, BS), HEADS, batch), block
/// kLightningThreads, no dynamic shared memory.
template <int HEADS, int D, int BS, bool VEC = D % 4 == 0>
__device__ __forceinline__ void
mm_lightning_block_state_kernel(const float *k, const float *v, mm_i64 tokenStride,
                                mm_i64 headStride, const mm_i64 *lengths, const float *slopes,
                                float *workspace, mm_i64 batch, mm_i64 tokens, int *error) {
  constexpr int THREADS = mmk::kLightningThreads;
  constexpr int KT = mmk::lightningStateChunk(BS);
  constexpr int DP = mmk::headTile(D), LD = DP + mmk::kSmemPad;
  typedef MmTileGemm<DP, DP, THREADS, true, false> Gemm; // dS[i][n] = sum_j (w_j K[j][i]) V[j][n]
  static_assert(BS % KT == 0 && D <= 128, "lightning tile shape: head dim up to 128");
  __shared__ __align__(16) float Ks[KT * LD];
  __shared__ __align__(16) float Vs[KT * LD];
  __shared__ float weight[KT];

  const int blk = blockIdx.x, h = blockIdx.y;
  const mm_i64 b = blockIdx.z;
  mm_i64 len =
      mm_lightning_length(lengths, b, tokens, blk == 0 && h == 0 && threadIdx.x == 0, error);
  mm_i64 start = (mm_i64)blk * BS;
  if (len < 0 || start >= len)
    return;
  const int m = (int)mm_min64(BS, len - start);
  const float s = slopes[h];
  const float *kb = k + (b * tokens + start) * tokenStride + h * headStride;
  const float *vb = v + (b * tokens + start) * tokenStride + h * headStride;

  float acc[Gemm::RM][Gemm::RN];
  Gemm::zero(acc);
  for (int j0 = 0; j0 < m; j0 += KT) {
    if (threadIdx.x < KT) {
      int j = j0 + threadIdx.x;
      weight[threadIdx.x] = j < m ? expf(-s * (float)(m - 1 - j)) : 0.f;
    }
    __syncthreads();
    for (int f = threadIdx.x; f < KT * DP / 4; f += THREADS) {
      int r = f / (DP / 4), c = 4 * (f % (DP / 4));
      float4 kv = mm_zero4(), vv = mm_zero4();
      if (j0 + r < m) {
        float w = weight[r];
        kv = mm_load4_upto<D, VEC>(kb + (mm_i64)(j0 + r) * tokenStride + c, c);
        kv = make_float4(w * kv.x, w * kv.y, w * kv.z, w * kv.w);
        vv = mm_load4_upto<D, VEC>(vb + (mm_i64)(j0 + r) * tokenStride + c, c);
      }
      mm_store4(Ks + r * LD + c, kv);
      mm_store4(Vs + r * LD + c, vv);
    }
    __syncthreads();
    if (Gemm::active())
      Gemm::template accumulate<KT>(acc, Ks, LD, Vs, LD);
    __syncthreads();
  }
  if (!Gemm::active())
    return;
  float *ws = workspace + ((b * HEADS + h) * mmk::lightningNumBlocks(tokens, BS) + blk) * D * D;
#pragma unroll
  for (int i = 0; i < Gemm::RM; ++i) {
    if (DP != D && Gemm::row(i) >= D) // padding rows of the tile
      continue;
    float *row = ws + Gemm::row(i) * D;
    if (DP != D) {
#pragma unroll
      for (int j = 0; j < Gemm::RN; ++j)
        if (Gemm::col(j) < D)
          row[Gemm::col(j)] = acc[i][j];
    } else if (Gemm::B_VEC) {
#pragma unroll
      for (int j = 0; j < Gemm::RN; j += 4)
        mm_store4(row + Gemm::col(j),
                  make_float4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]));
    } else {
#pragma unroll
      for (int j = 0; j < Gemm::RN; ++j)
        row[Gemm::col(j)] = acc[i][j];
    }
  }
}

/// Step 2: replaces each block's contribution in the workspace by the state
/// before that block and writes finalState[b, h] (initialState null = zeros;
/// finalState may alias initialState).
/// Launch: grid (ceilDiv(ceilDiv(D * D, 4), kLightningScanThreads), HEADS, batch),
/// block kLightningScanThreads (four state elements per thread).
template <int HEADS, int D, int BS, bool VEC = D % 4 == 0>
__device__ __forceinline__ void
mm_lightning_state_scan_kernel(float *workspace, const float *initialState, float *finalState,
                               const mm_i64 *lengths, const float *slopes, mm_i64 batch,
                               mm_i64 tokens, int *error) {
  const int h = blockIdx.y;
  const mm_i64 b = blockIdx.z;
  const int e = 4 * (blockIdx.x * mmk::kLightningScanThreads + threadIdx.x);
  mm_i64 len =
      mm_lightning_length(lengths, b, tokens, blockIdx.x == 0 && h == 0 && threadIdx.x == 0, error);
  if (len < 0 || e >= D * D)
    return;
  constexpr int N = D * D; // the four elements e .. e + 3 of the flattened state, up to N
  const float s = slopes[h];
  const mm_i64 headState = (b * HEADS + h) * D * D;
  float *ws = workspace + (b * HEADS + h) * mmk::lightningNumBlocks(tokens, BS) * D * D + e;
  float4 S = initialState ? mm_load4_upto<N, VEC>(initialState + headState + e, e) : mm_zero4();
  const mm_i64 blocks = mmk::ceilDiv(len, BS);
  float4 next = blocks > 0 ? mm_load4_upto<N, VEC>(ws, e) : mm_zero4();
  for (mm_i64 blk = 0; blk < blocks; ++blk) {
    float4 contribution = next;
    if (blk + 1 < blocks) // prefetch: the loop is latency bound
      next = mm_load4_upto<N, VEC>(ws + (blk + 1) * D * D, e);
    mm_store4_upto<N, VEC>(ws + blk * D * D, e, S);
    float decay = expf(-s * (float)mm_min64(BS, len - blk * BS));
    S = make_float4(fmaf(decay, S.x, contribution.x), fmaf(decay, S.y, contribution.y),
                    fmaf(decay, S.z, contribution.z), fmaf(decay, S.w, contribution.w));
  }
  if (finalState)
    mm_store4_upto<N, VEC>(finalState + headState + e, e, S);
}

/// Step 3: out rows of block blk, tile rt (rows rt*RT .. rt*RT+RT-1 of the
/// block, RT = lightningRowTile(BS)); rows at or past lengths[b] are zero.
/// Launch: grid (lightningNumBlocks(tokens, BS) * (BS / RT), HEADS, batch),
/// block kLightningThreads, dynamic shared memory lightningOutputSharedBytes(headTile(D), BS).
template <int HEADS, int D, int BS, bool VEC = D % 4 == 0>
__device__ __forceinline__ void
mm_lightning_block_output_kernel(const float *q, const float *k, const float *v, mm_i64 tokenStride,
                                 mm_i64 headStride, float *out, mm_i64 outTokenStride,
                                 const float *workspace, const mm_i64 *lengths, const float *slopes,
                                 mm_i64 batch, mm_i64 tokens, int *error) {
  constexpr int THREADS = mmk::kLightningThreads;
  constexpr int RT = mmk::lightningRowTile(BS);
  constexpr int TILES = BS / RT;
  constexpr int DP = mmk::headTile(D);
  constexpr int SCH = mmk::lightningStateSlice(DP, BS); // state rows staged per step
  constexpr int LD = DP + mmk::kSmemPad, LDP = RT + mmk::kSmemPad;
  typedef MmTileGemm<RT, DP, THREADS, false, false> OutGemm; // O += Q S, O += P V
  typedef MmTileGemm<RT, RT, THREADS, false, true> QkGemm;   // P = Q K^T
  static_assert(BS % RT == 0 && RT % 16 == 0 && DP % SCH == 0 && D <= 128,
                "lightning tile shape: block size a multiple of 16, head dim up to 128");
  if (!mm_has_dynamic_smem(mmk::lightningOutputSharedBytes(DP, BS), error))
    return;
  float *Qs = mm_dynamic_smem();
  float *Bs = Qs + RT * LD; // K tile, V tile or a slice of the state
  float *Ps = Bs + RT * LD;
  __shared__ float decay[BS + 1]; // decay[n] = lambda^n = expf(-s n), like the reference's table

  const mm_i64 blocksTotal = mmk::lightningNumBlocks(tokens, BS);
  // Tiles with the most intra work (last rows of a block) are scheduled first.
  const int rt = TILES - 1 - (int)(blockIdx.x / blocksTotal);
  const mm_i64 blk = blockIdx.x % blocksTotal;
  const int h = blockIdx.y;
  const mm_i64 b = blockIdx.z;
  mm_i64 len =
      mm_lightning_length(lengths, b, tokens, blockIdx.x == 0 && h == 0 && threadIdx.x == 0, error);
  if (len < 0)
    return;
  const mm_i64 start = blk * BS;
  const int r0 = rt * RT;
  const mm_i64 rowsHere = mm_min64(RT, tokens - (start + r0)); // rows of this tile inside T
  if (rowsHere <= 0)
    return;
  const int m = start < len ? (int)mm_min64(BS, len - start) : 0;
  float *ob = out + (b * tokens + start + r0) * outTokenStride + h * D;
  if (r0 >= m) { // past the sequence: zeros
    for (int f = threadIdx.x; f < rowsHere * (DP / 4); f += THREADS)
      mm_store4_upto<D, VEC>(ob + (f / (DP / 4)) * outTokenStride + 4 * (f % (DP / 4)),
                             4 * (f % (DP / 4)), mm_zero4());
    return;
  }
  const float s = slopes[h];
  const mm_i64 rowOffset = (b * tokens + start) * tokenStride + h * headStride;
  const float *qb = q + rowOffset, *kb = k + rowOffset, *vb = v + rowOffset;

  for (int n = threadIdx.x; n <= BS; n += THREADS) // read after the barriers below
    decay[n] = expf(-s * (float)n);
  mm_tile_load<RT, DP, THREADS, D, VEC>(Qs, LD, qb + r0 * tokenStride, tokenStride, m - r0);
  float acc[OutGemm::RM][OutGemm::RN];
  OutGemm::zero(acc);

  // inter: lambda^(c+1) q_c^T S
  const float *state = workspace + ((b * HEADS + h) * blocksTotal + blk) * D * D;
  for (int kc = 0; kc < D; kc += SCH) {
    mm_tile_load<SCH, DP, THREADS, D, VEC>(Bs, LD, state + kc * D, D, D - kc);
    __syncthreads();
    if (OutGemm::active())
      OutGemm::template accumulate<SCH>(acc, Qs + kc, LD, Bs, LD);
    __syncthreads();
  }
  if (OutGemm::active()) {
#pragma unroll
    for (int i = 0; i < OutGemm::RM; ++i) {
      const float rowDecay = decay[r0 + OutGemm::row(i) + 1];
#pragma unroll
      for (int j = 0; j < OutGemm::RN; ++j)
        acc[i][j] *= rowDecay;
    }
  }

  // intra: sum_{j<=c} lambda^(c-j) (q_c . k_j) v_j over key tiles up to the diagonal
  for (int jt = 0; jt <= rt; ++jt) {
    const int j0 = jt * RT;
    mm_tile_load<RT, DP, THREADS, D, VEC>(Bs, LD, kb + j0 * tokenStride, tokenStride, m - j0);
    __syncthreads();
    if (QkGemm::active()) {
      float p[QkGemm::RM][QkGemm::RN];
      QkGemm::zero(p);
      QkGemm::template accumulate<DP>(p, Qs, LD, Bs, LD);
#pragma unroll
      for (int i = 0; i < QkGemm::RM; ++i) {
        const int c = r0 + QkGemm::row(i);
#pragma unroll
        for (int j = 0; j < QkGemm::RN; ++j) {
          const int jj = j0 + QkGemm::col(j);
          Ps[QkGemm::row(i) * LDP + QkGemm::col(j)] = jj <= c ? p[i][j] * decay[c - jj] : 0.f;
        }
      }
    }
    __syncthreads();
    mm_tile_load<RT, DP, THREADS, D, VEC>(Bs, LD, vb + j0 * tokenStride, tokenStride, m - j0);
    __syncthreads();
    if (OutGemm::active())
      OutGemm::template accumulate<RT>(acc, Ps, LDP, Bs, LD);
    __syncthreads();
  }

  if (!OutGemm::active())
    return;
#pragma unroll
  for (int i = 0; i < OutGemm::RM; ++i) {
    const int r = OutGemm::row(i);
    if (r >= rowsHere)
      continue;
    const bool inside = r0 + r < m;
    float *orow = ob + r * outTokenStride;
    if (DP != D) {
#pragma unroll
      for (int j = 0; j < OutGemm::RN; ++j)
        if (OutGemm::col(j) < D)
          orow[OutGemm::col(j)] = inside ? acc[i][j] : 0.f;
    } else if (OutGemm::B_VEC) {
#pragma unroll
      for (int j = 0; j < OutGemm::RN; j += 4)
        mm_store4(orow + OutGemm::col(j),
                  inside ? make_float4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3])
                         : mm_zero4());
    } else {
#pragma unroll
      for (int j = 0; j < OutGemm::RN; ++j)
        orow[OutGemm::col(j)] = inside ? acc[i][j] : 0.f;
    }
  }
}

/// Decode, one token per sequence (T = 1): S' = lambda S + k v^T, o = q^T S'.
/// Token b's q/k/v are at base + b * tokenStride + h * headStride; its output at
/// out + b * outTokenStride + h * D. lengths (null = all 1) may hold 0 for an
/// idle sequence: its state is copied and its output is zero. stateOut may
/// alias stateIn (in-place update); a null stateIn is zero, a null stateOut is
/// not written.
/// Launch: grid (DP / lightningDecodeColTile(DP), HEADS, batch), block
/// lightningDecodeThreads(DP), DP = headTile(D).
/// Accuracy: per element one fma (vs the reference's two roundings) and the
/// output sum over D in lightningDecodeThreads / (colTile / 4) partial sums.
template <int HEADS, int D, bool VEC = D % 4 == 0>
__device__ __forceinline__ void
mm_lightning_decode_kernel(const float *q, const float *k, const float *v, mm_i64 tokenStride,
                           mm_i64 headStride, float *out, mm_i64 outTokenStride,
                           const float *stateIn, float *stateOut, const mm_i64 *lengths,
                           const float *slopes, mm_i64 batch, int *error) {
  constexpr int DP = mmk::headTile(D);
  constexpr int CT = mmk::lightningDecodeColTile(DP);
  constexpr int CQ = CT / 4;
  constexpr int THREADS = mmk::lightningDecodeThreads(DP);
  constexpr int RG = THREADS / CQ; // row groups
  static_assert(DP % CT == 0 && CT % 4 == 0 && D <= 128, "decode tile shape");
  __shared__ float qs[DP], ks[DP];
  __shared__ __align__(16) float partial[RG * CT];

  const int h = blockIdx.y;
  const mm_i64 b = blockIdx.z;
  const int n0 = blockIdx.x * CT;
  const mm_i64 len = lengths ? lengths[b] : 1;
  if (len < 0 || len > 1) {
    if (blockIdx.x == 0 && h == 0 && threadIdx.x == 0)
      mm_report_error(error, mmk::kLengthOutOfRange);
    return;
  }
  const mm_i64 headState = (b * HEADS + h) * D * D;
  const float *st = stateIn ? stateIn + headState : nullptr;
  float *so = stateOut ? stateOut + headState : nullptr;
  float *o = out + b * outTokenStride + h * D + n0;
  const int cq = threadIdx.x % CQ, rg = threadIdx.x / CQ;
  const int n = n0 + 4 * cq; // this thread's four columns n .. n + 3 (those below D)
  if (len == 0) {
    if (so && so != st)
      for (int i = rg; i < D; i += RG)
        mm_store4_upto<D, VEC>(so + i * D + n, n,
                               st ? mm_load4_upto<D, VEC>(st + i * D + n, n) : mm_zero4());
    for (int c = threadIdx.x; c < CT; c += THREADS)
      if (n0 + c < D)
        o[c] = 0.f;
    return;
  }
  const mm_i64 rowOffset = b * tokenStride + h * headStride;
  for (int i = threadIdx.x; i < D; i += THREADS) {
    qs[i] = q[rowOffset + i];
    ks[i] = k[rowOffset + i];
  }
  __syncthreads();
  const float lambda = expf(-slopes[h]);
  const float4 vv = mm_load4_upto<D, VEC>(v + rowOffset + n, n);
  float4 acc = mm_zero4();
  for (int i = rg; i < D; i += RG) {
    float4 x = st ? mm_load4_upto<D, VEC>(st + i * D + n, n) : mm_zero4();
    const float ki = ks[i], qi = qs[i];
    x = make_float4(fmaf(ki, vv.x, lambda * x.x), fmaf(ki, vv.y, lambda * x.y),
                    fmaf(ki, vv.z, lambda * x.z), fmaf(ki, vv.w, lambda * x.w));
    if (so)
      mm_store4_upto<D, VEC>(so + i * D + n, n, x);
    acc = make_float4(fmaf(qi, x.x, acc.x), fmaf(qi, x.y, acc.y), fmaf(qi, x.z, acc.z),
                      fmaf(qi, x.w, acc.w));
  }
  mm_store4(partial + rg * CT + 4 * cq, acc);
  __syncthreads();
  for (int c = threadIdx.x; c < CT; c += THREADS) {
    if (n0 + c >= D)
      continue;
    float sum = 0.f;
    for (int g = 0; g < RG; ++g)
      sum += partial[g * CT + c];
    o[c] = sum;
  }
}

#endif // MM_CUDA_LIGHTNING_CUH

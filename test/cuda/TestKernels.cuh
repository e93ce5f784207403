//===- TestKernels.cuh - kernel instantiations exercised by the kernel tests -===//
//
// Compiled by NVRTC after the kernel library for mm-cuda-gpu-tests, and by the
// host compiler behind the CUDA emulator for mm-cuda-emu-tests; mm-cuda-
// compile-tests compiles it for sm_90 too. Each wrapper is what the code
// generator emits: an extern "C" __global__ function calling a library kernel.
// Configurations: tiny (hidden 32, heads 4, kv heads 2, head_dim 16, rotary 8,
// experts 4, top-k 2, intermediate 64, block 16), mid (the full head_dim 128
// and GQA group 8 with few heads, small MoE dims) and full (MiniMax-Text-01).
//
//===----------------------------------------------------------------------===//
#ifndef MM_TEST_KERNEL
#define MM_TEST_KERNEL(name, params) extern "C" __global__ void name params
#define MM_TEST_KERNEL_BOUNDED(name, threads, minBlocks, params)                                   \
  extern "C" __global__ void __launch_bounds__(threads, minBlocks) name params
#endif

#include "codegen/cuda/kernels/attention.cuh"
#include "codegen/cuda/kernels/convert.cuh"
#include "codegen/cuda/kernels/epilogue.cuh"
#include "codegen/cuda/kernels/gather.cuh"
#include "codegen/cuda/kernels/gemv.cuh"
#include "codegen/cuda/kernels/lightning.cuh"
#include "codegen/cuda/kernels/moe.cuh"
#include "codegen/cuda/kernels/norm.cuh"
#include "codegen/cuda/kernels/rope.cuh"

//===--- elementwise --------------------------------------------------------===//
#define MM_T_UNARY(tag, Op)                                                                        \
  MM_TEST_KERNEL(t_unary_##tag, (const float *x, float *y, mm_i64 n)) {                            \
    mm_unary_kernel<Op>(x, y, n);                                                                  \
  }
MM_T_UNARY(silu, MmSiluOp)
MM_T_UNARY(sigmoid, MmSigmoidOp)
MM_T_UNARY(relu, MmReluOp)
MM_T_UNARY(tanh, MmTanhOp)
MM_T_UNARY(exp, MmExpOp)
MM_T_UNARY(log, MmLogOp)
MM_T_UNARY(sqrt, MmSqrtOp)
MM_T_UNARY(rsqrt, MmRsqrtOp)
MM_T_UNARY(neg, MmNegOp)
MM_T_UNARY(gelu, MmGeluOp)
MM_T_UNARY(gelu_tanh, MmGeluTanhOp)

MM_TEST_KERNEL(t_swiglu, (const float *g, const float *u, float *y, mm_i64 n)) {
  mm_swiglu_kernel(g, u, y, n);
}
MM_TEST_KERNEL(t_residual_epilogue,
               (const float *acc, float *y, mm_i64 n, const float *res, float alpha, float beta)) {
  MmResidualEpilogue epi{res, alpha, beta};
  mm_epilogue_kernel(acc, y, n, epi);
}
MM_TEST_KERNEL(t_f32_to_bf16, (const float *x, unsigned short *y, mm_i64 n)) {
  mm_f32_to_bf16_kernel(x, y, n);
}
MM_TEST_KERNEL(t_bf16_to_f32, (const unsigned short *x, float *y, mm_i64 n)) {
  mm_bf16_to_f32_kernel(x, y, n);
}

//===--- norms and softmax --------------------------------------------------===//
#define MM_T_RMS(tag, H)                                                                           \
  MM_TEST_KERNEL_BOUNDED(t_rms_##tag, mmk::rowThreads(H), 1,                                       \
                         (const float *x, const float *w, float *y, mm_i64 rows, float eps)) {     \
    mm_rms_norm_kernel<H, mmk::rowThreads(H)>(x, w, y, rows, eps);                                 \
  }
MM_T_RMS(tiny, 32)
MM_T_RMS(mid, 300)
MM_T_RMS(full, 6144)

/// The lightning output path: y = sigmoid(gate) * RMSNorm(o) over H*D.
#define MM_T_RMS_GATE(tag, H)                                                                      \
  MM_TEST_KERNEL_BOUNDED(                                                                          \
      t_rms_gate_##tag, mmk::rowThreads(H), 1,                                                     \
      (const float *x, const float *w, float *y, mm_i64 rows, float eps, const float *gate)) {     \
    MmSigmoidGateEpilogue<H> epi{gate};                                                            \
    mm_rms_norm_kernel<H, mmk::rowThreads(H), MmNormIdentity, MmSigmoidGateEpilogue<H>>(           \
        x, w, y, rows, eps, MmNormIdentity(), epi);                                                \
  }
MM_T_RMS_GATE(tiny, 64)
MM_T_RMS_GATE(full, 8192)

/// The decoder block's residual + norm: h = res*alpha + x*beta (stored), y = RMSNorm(h).
#define MM_T_RMS_RESIDUAL(tag, H)                                                                  \
  MM_TEST_KERNEL_BOUNDED(t_rms_residual_##tag, mmk::rowThreads(H), 1,                              \
                         (const float *x, const float *w, float *y, mm_i64 rows, float eps,        \
                          const float *res, float *sum, float alpha, float beta)) {                \
    MmResidualPrologue<H> pro{res, sum, alpha, beta};                                              \
    mm_rms_norm_kernel<H, mmk::rowThreads(H), MmResidualPrologue<H>>(x, w, y, rows, eps, pro);     \
  }
MM_T_RMS_RESIDUAL(tiny, 32)
MM_T_RMS_RESIDUAL(full, 6144)

MM_TEST_KERNEL_BOUNDED(t_softmax, 256, 1, (const float *x, float *y, mm_i64 rows, mm_i64 n)) {
  mm_softmax_rows_kernel<256, false>(x, y, rows, n);
}
MM_TEST_KERNEL_BOUNDED(t_log_softmax, 256, 1, (const float *x, float *y, mm_i64 rows, mm_i64 n)) {
  mm_softmax_rows_kernel<256, true>(x, y, rows, n);
}

//===--- gathers and rope ---------------------------------------------------===//
#define MM_T_GATHERS(tag, H)                                                                       \
  MM_TEST_KERNEL(t_embedding_##tag, (const float *table, const mm_i64 *ids, float *out,            \
                                     mm_i64 count, mm_i64 vocab, int *err)) {                      \
    mm_embedding_kernel<H, mmk::rowThreads(H / 4)>(table, ids, out, count, vocab, err);            \
  }                                                                                                \
  MM_TEST_KERNEL(t_gather_rows_##tag, (const float *x, const mm_i64 *idx, float *out,              \
                                       mm_i64 batch, mm_i64 n, mm_i64 per, int *err)) {            \
    mm_gather_rows_kernel<H, mmk::rowThreads(H / 4)>(x, idx, out, batch, n, per, err);             \
  }
MM_T_GATHERS(tiny, 32)
MM_T_GATHERS(full, 6144)

#define MM_T_ROPE(tag, H, D, R)                                                                    \
  MM_TEST_KERNEL(t_rope_##tag, (const float *x, mm_i64 xs, float *y, mm_i64 ys, const mm_i64 *pos, \
                                mm_i64 tokens, float theta)) {                                     \
    mm_rope_kernel<H, D, R, mmk::rowThreads(H * D / 2)>(x, xs, y, ys, pos, tokens, theta);         \
  }
MM_T_ROPE(q_tiny, 4, 16, 8)
MM_T_ROPE(k_tiny, 2, 16, 8)
MM_T_ROPE(q_mid, 16, 128, 64)
MM_T_ROPE(q_full, 64, 128, 64)
MM_T_ROPE(k_full, 8, 128, 64)

//===--- softmax attention --------------------------------------------------===//
#define MM_T_ATTENTION(tag, HQ, HKV, D)                                                            \
  MM_TEST_KERNEL(t_kv_write_##tag,                                                                 \
                 (const float *k, mm_i64 ks, const float *v, mm_i64 vs, float *kc, float *vc,      \
                  const mm_i64 *pos, mm_i64 batch, mm_i64 tokens, mm_i64 cap, int *err)) {         \
    mm_kv_cache_write_kernel<HKV, D, mmk::rowThreads(HKV * D / 4)>(k, ks, v, vs, kc, vc, pos,      \
                                                                   batch, tokens, cap, err);       \
  }                                                                                                \
  MM_TEST_KERNEL_BOUNDED(t_attn_prefill_##tag, mmk::kAttentionThreads, 1,                          \
                         (const float *q, mm_i64 qs, const float *kc, const float *vc, mm_i64 cap, \
                          const mm_i64 *pos, float *out, mm_i64 os, mm_i64 batch, mm_i64 tokens,   \
                          float scale, int causal, int *err)) {                                    \
    mm_attention_prefill_kernel<HQ, HKV, D, mmk::attentionQueryTile(HQ / HKV),                     \
                                mmk::kAttentionKeyTile>(q, qs, kc, vc, cap, pos, out, os, batch,   \
                                                        tokens, scale, causal, err);               \
  }                                                                                                \
  MM_TEST_KERNEL_BOUNDED(t_attn_decode_##tag, mmk::attentionDecodeThreads(HQ / HKV), 1,            \
                         (const float *q, mm_i64 qs, const float *kc, const float *vc, mm_i64 cap, \
                          const mm_i64 *pos, float *partial, mm_i64 batch, mm_i64 keysPerSplit,    \
                          float scale, int *err)) {                                                \
    mm_attention_decode_kernel<HQ, HKV, D, mmk::kAttentionKeyTile>(                                \
        q, qs, kc, vc, cap, pos, partial, batch, keysPerSplit, scale, err);                        \
  }                                                                                                \
  MM_TEST_KERNEL(t_attn_combine_##tag,                                                             \
                 (const float *partial, float *out, mm_i64 os, mm_i64 batch, int splits)) {        \
    mm_attention_decode_combine_kernel<HQ, D>(partial, out, os, batch, splits);                    \
  }
MM_T_ATTENTION(tiny, 4, 2, 16)
MM_T_ATTENTION(mid, 16, 2, 128)
MM_T_ATTENTION(full, 64, 8, 128)

//===--- lightning attention ------------------------------------------------===//
#define MM_T_LIGHTNING(tag, H, D, BS)                                                              \
  MM_TEST_KERNEL_BOUNDED(t_lightning_state_##tag, mmk::kLightningThreads, 2,                       \
                         (const float *k, const float *v, mm_i64 ts, mm_i64 hs, const mm_i64 *len, \
                          const float *slopes, float *ws, mm_i64 batch, mm_i64 tokens,             \
                          int *err)) {                                                             \
    mm_lightning_block_state_kernel<H, D, BS>(k, v, ts, hs, len, slopes, ws, batch, tokens, err);  \
  }                                                                                                \
  MM_TEST_KERNEL_BOUNDED(t_lightning_scan_##tag, mmk::kLightningScanThreads, 1,                    \
                         (float *ws, const float *s0, float *s1, const mm_i64 *len,                \
                          const float *slopes, mm_i64 batch, mm_i64 tokens, int *err)) {           \
    mm_lightning_state_scan_kernel<H, D, BS>(ws, s0, s1, len, slopes, batch, tokens, err);         \
  }                                                                                                \
  MM_TEST_KERNEL_BOUNDED(t_lightning_output_##tag, mmk::kLightningThreads, 2,                      \
                         (const float *q, const float *k, const float *v, mm_i64 ts, mm_i64 hs,    \
                          float *out, mm_i64 os, const float *ws, const mm_i64 *len,               \
                          const float *slopes, mm_i64 batch, mm_i64 tokens, int *err)) {           \
    mm_lightning_block_output_kernel<H, D, BS>(q, k, v, ts, hs, out, os, ws, len, slopes, batch,   \
                                               tokens, err);                                       \
  }
MM_T_LIGHTNING(d16_b16, 4, 16, 16)
MM_T_LIGHTNING(d16_b32, 4, 16, 32)
MM_T_LIGHTNING(d16_b48, 4, 16, 48)
MM_T_LIGHTNING(d16_b64, 4, 16, 64)
MM_T_LIGHTNING(d128_b64, 2, 128, 64)
MM_T_LIGHTNING(d128_b256, 2, 128, 256)
MM_T_LIGHTNING(full, 64, 128, 256)

#define MM_T_LIGHTNING_DECODE(tag, H, D)                                                           \
  MM_TEST_KERNEL_BOUNDED(t_lightning_decode_##tag, mmk::lightningDecodeThreads(D), 1,              \
                         (const float *q, const float *k, const float *v, mm_i64 ts, mm_i64 hs,    \
                          float *out, mm_i64 os, const float *s0, float *s1, const mm_i64 *len,    \
                          const float *slopes, mm_i64 batch, int *err)) {                          \
    mm_lightning_decode_kernel<H, D>(q, k, v, ts, hs, out, os, s0, s1, len, slopes, batch, err);   \
  }
MM_T_LIGHTNING_DECODE(d16, 4, 16)
MM_T_LIGHTNING_DECODE(d128, 2, 128)
MM_T_LIGHTNING_DECODE(full, 64, 128)

//===--- mixture of experts -------------------------------------------------===//
#define MM_T_ROUTING(tag, E, K)                                                                    \
  MM_TEST_KERNEL(t_router_##tag,                                                                   \
                 (const float *logits, float *w, mm_i64 *idx, mm_i64 tokens, int renorm)) {        \
    mm_moe_router_kernel<E, K>(logits, w, idx, tokens, renorm);                                    \
  }                                                                                                \
  MM_TEST_KERNEL_BOUNDED(t_moe_sort_##tag, mmk::kMoeSortThreads, 1,                                \
                         (const mm_i64 *idx, mm_i64 slots, mm_i64 *offsets, mm_i64 *order,         \
                          mm_i64 *rowOfSlot, int *err)) {                                          \
    mm_moe_sort_kernel<E>(idx, slots, offsets, order, rowOfSlot, err);                             \
  }
MM_T_ROUTING(tiny, 4, 2)
MM_T_ROUTING(full, 32, 2)

#define MM_T_MOE_ROWS(tag, D, K)                                                                   \
  MM_TEST_KERNEL(t_moe_gather_##tag,                                                               \
                 (const float *x, const mm_i64 *order, float *out, mm_i64 slots, int *err)) {      \
    mm_moe_gather_kernel<D, K, mmk::rowThreads(D / 4)>(x, order, out, slots, err);                 \
  }                                                                                                \
  MM_TEST_KERNEL(t_moe_combine_##tag, (const float *e, const mm_i64 *rowOfSlot, const float *w,    \
                                       float *out, mm_i64 tokens, int *err)) {                     \
    mm_moe_combine_kernel<D, K, mmk::rowThreads(D)>(e, rowOfSlot, w, out, tokens, err);            \
  }
MM_T_MOE_ROWS(tiny, 32, 2)
MM_T_MOE_ROWS(mid, 80, 2)
MM_T_MOE_ROWS(full, 6144, 2)

MM_TEST_KERNEL(t_moe_invert_order,
               (const mm_i64 *order, mm_i64 *rowOfSlot, mm_i64 slots, int *err)) {
  mm_moe_invert_order_kernel(order, rowOfSlot, slots, err);
}

/// Expert MLP: up = silu(x W1^T) * (x W3^T) [rows, I], down = up W2^T [rows, H].
#define MM_T_EXPERTS(tag, H, I, E)                                                                 \
  MM_TEST_KERNEL_BOUNDED(t_moe_swiglu_##tag, mmk::kGroupedGemmThreads, 2,                          \
                         (const float *x, const float *w1, const float *w3, const mm_i64 *offsets, \
                          float *y, mm_i64 rows, int *err)) {                                      \
    mm_moe_grouped_swiglu_kernel<I, H, E>(x, w1, w3, offsets, y, rows, err);                       \
  }                                                                                                \
  MM_TEST_KERNEL_BOUNDED(                                                                          \
      t_moe_down_##tag, mmk::kGroupedGemmThreads, 2,                                               \
      (const float *x, const float *w, const mm_i64 *offsets, float *y, mm_i64 rows, int *err)) {  \
    mm_moe_grouped_gemm_kernel<H, I, E>(x, w, offsets, y, rows, err);                              \
  }                                                                                                \
  MM_TEST_KERNEL(t_moe_swiglu_gv_##tag,                                                            \
                 (const float *x, const float *w1, const float *w3, const mm_i64 *offsets,         \
                  float *y, mm_i64 rows, int *err)) {                                              \
    mm_moe_grouped_gemv_kernel<I, H, E, true>(x, w1, w3, offsets, y, rows, err);                   \
  }                                                                                                \
  MM_TEST_KERNEL(t_moe_down_gv_##tag, (const float *x, const float *w, const mm_i64 *offsets,      \
                                       float *y, mm_i64 rows, int *err)) {                         \
    mm_moe_grouped_gemv_kernel<H, I, E, false>(x, w, w, offsets, y, rows, err);                    \
  }
MM_T_EXPERTS(tiny, 32, 64, 4)
MM_T_EXPERTS(mid, 80, 96, 4)
MM_T_EXPERTS(full, 6144, 9216, 32)

//===--- bf16 and int8 weights (weights.cuh) --------------------------------===//
/// The matrix kernels with stored weights W: dense GEMV [I, H], widening, and
/// the expert MLP (w1, w3 [E, I, H], w2 [E, H, I]).
#define MM_T_STORED(tag, W, H, I, E)                                                               \
  MM_TEST_KERNEL(t_gemv_##tag, (const float *x, const W *w, float *y, mm_i64 rows)) {              \
    mm_gemv_kernel<I, H>(x, w, y, rows);                                                           \
  }                                                                                                \
  MM_TEST_KERNEL(t_widen_##tag, (const W *w, float *out, mm_i64 first, mm_i64 count)) {            \
    mm_widen_rows_kernel<H>(w, out, first, count);                                                 \
  }                                                                                                \
  MM_TEST_KERNEL_BOUNDED(t_sw_swiglu_##tag, mmk::kGroupedGemmThreads, 2,                           \
                         (const float *x, const W *w1, const W *w3, const mm_i64 *offsets,         \
                          float *y, mm_i64 rows, int *err)) {                                      \
    mm_moe_grouped_swiglu_kernel<I, H, E>(x, w1, w3, offsets, y, rows, err);                       \
  }                                                                                                \
  MM_TEST_KERNEL_BOUNDED(                                                                          \
      t_sw_down_##tag, mmk::kGroupedGemmThreads, 2,                                                \
      (const float *x, const W *w, const mm_i64 *offsets, float *y, mm_i64 rows, int *err)) {      \
    mm_moe_grouped_gemm_kernel<H, I, E>(x, w, offsets, y, rows, err);                              \
  }                                                                                                \
  MM_TEST_KERNEL(t_sw_swiglu_gv_##tag, (const float *x, const W *w1, const W *w3,                  \
                                        const mm_i64 *offsets, float *y, mm_i64 rows, int *err)) { \
    mm_moe_grouped_gemv_kernel<I, H, E, true>(x, w1, w3, offsets, y, rows, err);                   \
  }                                                                                                \
  MM_TEST_KERNEL(t_sw_down_gv_##tag, (const float *x, const W *w, const mm_i64 *offsets, float *y, \
                                      mm_i64 rows, int *err)) {                                    \
    mm_moe_grouped_gemv_kernel<H, I, E, false>(x, w, w, offsets, y, rows, err);                    \
  }
// wide: rows of 16-byte loads (H, I multiples of 16); narrow: 4 weights per
// load, and 3 experts so that E * N * K bytes of int8 end off a 64-byte boundary.
MM_T_STORED(bf16_wide, mm_bf16, 80, 96, 4)
MM_T_STORED(bf16_narrow, mm_bf16, 36, 44, 3)
MM_T_STORED(int8_wide, mm_q8, 80, 96, 4)
MM_T_STORED(int8_narrow, mm_q8, 36, 44, 3)
MM_T_STORED(f32_narrow, float, 36, 44, 3)
/// A dense GEMV whose last warp has fewer columns than it takes (37 = 4 * 9 + 1 = 2 * 18 + 1).
#define MM_T_GEMV_ODD(tag, W)                                                                      \
  MM_TEST_KERNEL(t_gemv_odd_##tag, (const float *x, const W *w, float *y, mm_i64 rows)) {          \
    mm_gemv_kernel<37, 36>(x, w, y, rows);                                                         \
  }
MM_T_GEMV_ODD(f32, float)
MM_T_GEMV_ODD(bf16, mm_bf16)
MM_T_GEMV_ODD(int8, mm_q8)
MM_TEST_KERNEL(t_scale_columns_int8, (const mm_q8 *w, float *y, mm_i64 count)) {
  mm_scale_columns_kernel<96, 80>(w, y, count);
}
/// Decode GEMV at a full-size projection (MiniMax-Text-01's q: [8192, 6144]), for the timing table.
#define MM_T_GEMV_TIMING(tag, W)                                                                   \
  MM_TEST_KERNEL(t_gemv_timing_##tag, (const float *x, const W *w, float *y, mm_i64 rows)) {       \
    mm_gemv_kernel<8192, 6144>(x, w, y, rows);                                                     \
  }
MM_T_GEMV_TIMING(f32, float)
MM_T_GEMV_TIMING(bf16, mm_bf16)
MM_T_GEMV_TIMING(int8, mm_q8)

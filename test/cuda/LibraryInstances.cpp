//===- LibraryInstances.cpp - every library kernel for one model config ----===//
#include "test/cuda/LibraryInstances.h"

#include <sstream>

namespace mm::cudatest {

ModelDims tinyDims() { return {"tiny", 32, 4, 2, 16, 8, 4, 2, 64, 16}; }
ModelDims fullDims() { return {"full", 6144, 64, 8, 128, 64, 32, 2, 9216, 256}; }

namespace {
class Emitter {
public:
  explicit Emitter(const ModelDims &d) : prefix_(d.name + "_") {}
  /// kernel(name, "launch bounds or empty", "params", "body")
  void add(const std::string &name, const std::string &bounds, const std::string &params,
           const std::string &body) {
    std::string symbol = prefix_ + name;
    std::string text = "extern \"C\" __global__ void " +
                       (bounds.empty() ? "" : "__launch_bounds__(" + bounds + ") ") + symbol + "(" +
                       params + ") {\n  " + body + ";\n}\n";
    out_.push_back({symbol, text});
  }
  std::vector<KernelInstance> take() { return std::move(out_); }

private:
  std::string prefix_;
  std::vector<KernelInstance> out_;
};

std::string str(int v) { return std::to_string(v); }
} // namespace

std::vector<KernelInstance> libraryInstances(const ModelDims &d) {
  Emitter e(d);
  const std::string H = str(d.hidden), NH = str(d.heads), KV = str(d.kvHeads), D = str(d.headDim),
                    R = str(d.rotaryDim), E = str(d.experts), K = str(d.topK),
                    I = str(d.intermediate), BS = str(d.blockSize), AW = str(d.heads * d.headDim);
  const std::string flat = "const float *x, float *y, mm_i64 n";
  for (const char *op : {"Silu", "Sigmoid", "Relu", "Tanh", "Exp", "Log", "Sqrt", "Rsqrt", "Neg",
                         "Gelu", "GeluTanh"})
    e.add(std::string("unary_") + op, "", flat,
          std::string("mm_unary_kernel<Mm") + op + "Op>(x, y, n)");
  e.add("swiglu", "", "const float *g, const float *u, float *y, mm_i64 n",
        "mm_swiglu_kernel(g, u, y, n)");
  e.add("epilogue_residual", "", flat + ", const float *r, float a, float b",
        "mm_epilogue_kernel(x, y, n, MmResidualEpilogue{r, a, b})");
  e.add("epilogue_bias", "", flat + ", const float *bias",
        "mm_epilogue_kernel(x, y, n, MmBiasEpilogue<" + H + ">{bias})");
  e.add("epilogue_silu", "", flat, "mm_epilogue_kernel(x, y, n, MmActivationEpilogue<MmSiluOp>())");
  e.add("f32_to_bf16", "", "const float *x, unsigned short *y, mm_i64 n",
        "mm_f32_to_bf16_kernel(x, y, n)");
  e.add("bf16_to_f32", "", "const unsigned short *x, float *y, mm_i64 n",
        "mm_bf16_to_f32_kernel(x, y, n)");

  const std::string norm = "const float *x, const float *w, float *y, mm_i64 rows, float eps";
  e.add("rms_norm", "mmk::rowThreads(" + H + ")", norm,
        "mm_rms_norm_kernel<" + H + ", mmk::rowThreads(" + H + ")>(x, w, y, rows, eps)");
  e.add("rms_norm_residual", "mmk::rowThreads(" + H + ")",
        norm + ", const float *res, float *sum, float a, float b",
        "mm_rms_norm_kernel<" + H + ", mmk::rowThreads(" + H + "), MmResidualPrologue<" + H +
            ">>(x, w, y, rows, eps, MmResidualPrologue<" + H + ">{res, sum, a, b})");
  e.add("rms_norm_gate", "mmk::rowThreads(" + AW + ")", norm + ", const float *gate",
        "mm_rms_norm_kernel<" + AW + ", mmk::rowThreads(" + AW +
            "), MmNormIdentity, MmSigmoidGateEpilogue<" + AW +
            ">>(x, w, y, rows, eps, MmNormIdentity(), MmSigmoidGateEpilogue<" + AW + ">{gate})");
  e.add("layer_norm", "mmk::rowThreads(" + H + ")",
        "const float *x, const float *w, const float *b, float *y, mm_i64 rows, float eps",
        "mm_layer_norm_kernel<" + H + ", mmk::rowThreads(" + H + ")>(x, w, b, y, rows, eps)");
  e.add("softmax", "256", "const float *x, float *y, mm_i64 rows, mm_i64 n",
        "mm_softmax_rows_kernel<256, false>(x, y, rows, n)");
  e.add("log_softmax", "256", "const float *x, float *y, mm_i64 rows, mm_i64 n",
        "mm_softmax_rows_kernel<256, true>(x, y, rows, n)");

  e.add("embedding", "",
        "const float *t, const mm_i64 *ids, float *o, mm_i64 n, mm_i64 vocab, int *err",
        "mm_embedding_kernel<" + H + ", mmk::rowThreads(" + H + " / 4)>(t, ids, o, n, vocab, err)");
  e.add("gather_rows", "",
        "const float *x, const mm_i64 *idx, float *o, mm_i64 b, mm_i64 n, mm_i64 per, int *err",
        "mm_gather_rows_kernel<" + H + ", mmk::rowThreads(" + H +
            " / 4)>(x, idx, o, b, n, per, err)");
  const std::string rope =
      "const float *x, mm_i64 xs, float *y, mm_i64 ys, const mm_i64 *p, mm_i64 n, float th";
  e.add("rope_q", "", rope,
        "mm_rope_kernel<" + NH + ", " + D + ", " + R + ", mmk::rowThreads(" + NH + " * " + D +
            " / 2)>(x, xs, y, ys, p, n, th)");
  e.add("rope_k", "", rope,
        "mm_rope_kernel<" + KV + ", " + D + ", " + R + ", mmk::rowThreads(" + KV + " * " + D +
            " / 2)>(x, xs, y, ys, p, n, th)");

  e.add("kv_cache_write", "",
        "const float *k, mm_i64 ks, const float *v, mm_i64 vs, float *kc, float *vc, const mm_i64 "
        "*pos, "
        "mm_i64 b, mm_i64 t, mm_i64 cap, int *err",
        "mm_kv_cache_write_kernel<" + KV + ", " + D + ", mmk::rowThreads(" + KV + " * " + D +
            " / 4)>(k, ks, v, vs, kc, vc, pos, b, t, cap, err)");
  const std::string group = NH + " / " + KV;
  e.add(
      "attention_prefill", "mmk::kAttentionThreads",
      "const float *q, mm_i64 qs, const float *kc, const float *vc, mm_i64 cap, const mm_i64 *pos, "
      "float *o, mm_i64 os, mm_i64 b, mm_i64 t, float scale, int causal, int *err",
      "mm_attention_prefill_kernel<" + NH + ", " + KV + ", " + D + ", mmk::attentionQueryTile(" +
          group +
          "), mmk::kAttentionKeyTile>(q, qs, kc, vc, cap, pos, o, os, b, t, scale, causal, err)");
  e.add(
      "attention_decode", "mmk::attentionDecodeThreads(" + group + ")",
      "const float *q, mm_i64 qs, const float *kc, const float *vc, mm_i64 cap, const mm_i64 *pos, "
      "float *part, mm_i64 b, mm_i64 kps, float scale, int *err",
      "mm_attention_decode_kernel<" + NH + ", " + KV + ", " + D +
          ", mmk::kAttentionKeyTile>(q, qs, kc, vc, cap, pos, part, b, kps, scale, err)");
  e.add("attention_decode_combine", "",
        "const float *part, float *o, mm_i64 os, mm_i64 b, int splits",
        "mm_attention_decode_combine_kernel<" + NH + ", " + D + ">(part, o, os, b, splits)");

  const std::string lt = NH + ", " + D + ", " + BS;
  e.add("lightning_state", "mmk::kLightningThreads, 2",
        "const float *k, const float *v, mm_i64 ts, mm_i64 hs, const mm_i64 *len, const float *sl, "
        "float *ws, mm_i64 b, mm_i64 t, int *err",
        "mm_lightning_block_state_kernel<" + lt + ">(k, v, ts, hs, len, sl, ws, b, t, err)");
  e.add("lightning_scan", "mmk::kLightningScanThreads",
        "float *ws, const float *s0, float *s1, const mm_i64 *len, const float *sl, mm_i64 b, "
        "mm_i64 t, int *err",
        "mm_lightning_state_scan_kernel<" + lt + ">(ws, s0, s1, len, sl, b, t, err)");
  e.add(
      "lightning_output", "mmk::kLightningThreads, 2",
      "const float *q, const float *k, const float *v, mm_i64 ts, mm_i64 hs, float *o, mm_i64 os, "
      "const float *ws, const mm_i64 *len, const float *sl, mm_i64 b, mm_i64 t, int *err",
      "mm_lightning_block_output_kernel<" + lt +
          ">(q, k, v, ts, hs, o, os, ws, len, sl, b, t, err)");
  e.add(
      "lightning_decode", "mmk::lightningDecodeThreads(" + D + ")",
      "const float *q, const float *k, const float *v, mm_i64 ts, mm_i64 hs, float *o, mm_i64 os, "
      "const float *s0, float *s1, const mm_i64 *len, const float *sl, mm_i64 b, int *err",
      "mm_lightning_decode_kernel<" + NH + ", " + D +
          ">(q, k, v, ts, hs, o, os, s0, s1, len, sl, b, err)");

  e.add("moe_router", "mmk::kRouterThreads",
        "const float *l, float *w, mm_i64 *idx, mm_i64 n, int renorm",
        "mm_moe_router_kernel<" + E + ", " + K + ">(l, w, idx, n, renorm)");
  e.add("moe_sort", "mmk::kMoeSortThreads",
        "const mm_i64 *idx, mm_i64 slots, mm_i64 *off, mm_i64 *order, mm_i64 *rows, int *err",
        "mm_moe_sort_kernel<" + E + ">(idx, slots, off, order, rows, err)");
  e.add("moe_gather", "", "const float *x, const mm_i64 *order, float *o, mm_i64 slots, int *err",
        "mm_moe_gather_kernel<" + H + ", " + K + ", mmk::rowThreads(" + H +
            " / 4)>(x, order, o, slots, err)");
  e.add("moe_invert_order", "", "const mm_i64 *order, mm_i64 *rows, mm_i64 slots, int *err",
        "mm_moe_invert_order_kernel(order, rows, slots, err)");
  e.add("moe_swiglu", "mmk::kGroupedGemmThreads, 2",
        "const float *x, const float *w1, const float *w3, const mm_i64 *off, float *y, mm_i64 "
        "rows, int *err",
        "mm_moe_grouped_swiglu_kernel<" + I + ", " + H + ", " + E +
            ">(x, w1, w3, off, y, rows, err)");
  e.add("moe_down", "mmk::kGroupedGemmThreads, 2",
        "const float *x, const float *w, const mm_i64 *off, float *y, mm_i64 rows, int *err",
        "mm_moe_grouped_gemm_kernel<" + H + ", " + I + ", " + E + ">(x, w, off, y, rows, err)");
  e.add("moe_swiglu_gv", "",
        "const float *x, const float *w1, const float *w3, const mm_i64 *off, float *y, mm_i64 "
        "rows, int *err",
        "mm_moe_grouped_gemv_kernel<" + I + ", " + H + ", " + E +
            ", true>(x, w1, w3, off, y, rows, err)");
  e.add("moe_down_gv", "",
        "const float *x, const float *w, const mm_i64 *off, float *y, mm_i64 rows, int *err",
        "mm_moe_grouped_gemv_kernel<" + H + ", " + I + ", " + E +
            ", false>(x, w, w, off, y, rows, err)");
  // The matrix kernels with bf16 and int8 weights (weights.cuh).
  for (auto [tag, W] :
       {std::pair<std::string, std::string>{"bf16", "mm_bf16"}, {"int8", "mm_q8"}}) {
    const std::string x = "const float *x, ",
                      off = "const mm_i64 *off, float *y, mm_i64 rows, int *err";
    e.add("gemv_" + tag, "", x + "const " + W + " *w, float *y, mm_i64 rows",
          "mm_gemv_kernel<" + I + ", " + H + ">(x, w, y, rows)");
    e.add("widen_" + tag, "", "const " + W + " *w, float *o, mm_i64 first, mm_i64 count",
          "mm_widen_rows_kernel<" + H + ">(w, o, first, count)");
    e.add("moe_swiglu_" + tag, "mmk::kGroupedGemmThreads, 2",
          x + "const " + W + " *w1, const " + W + " *w3, " + off,
          "mm_moe_grouped_swiglu_kernel<" + I + ", " + H + ", " + E +
              ">(x, w1, w3, off, y, rows, err)");
    e.add("moe_down_" + tag, "mmk::kGroupedGemmThreads, 2", x + "const " + W + " *w, " + off,
          "mm_moe_grouped_gemm_kernel<" + H + ", " + I + ", " + E + ">(x, w, off, y, rows, err)");
    e.add("moe_swiglu_gv_" + tag, "", x + "const " + W + " *w1, const " + W + " *w3, " + off,
          "mm_moe_grouped_gemv_kernel<" + I + ", " + H + ", " + E +
              ", true>(x, w1, w3, off, y, rows, err)");
    e.add("moe_down_gv_" + tag, "", x + "const " + W + " *w, " + off,
          "mm_moe_grouped_gemv_kernel<" + H + ", " + I + ", " + E +
              ", false>(x, w, w, off, y, rows, err)");
  }
  e.add("scale_columns", "", "const mm_q8 *w, float *y, mm_i64 n",
        "mm_scale_columns_kernel<" + I + ", " + H + ">(w, y, n)");
  e.add("moe_combine", "",
        "const float *eo, const mm_i64 *rows, const float *w, float *o, mm_i64 n, int *err",
        "mm_moe_combine_kernel<" + H + ", " + K + ", mmk::rowThreads(" + H +
            ")>(eo, rows, w, o, n, err)");
  return e.take();
}

} // namespace mm::cudatest

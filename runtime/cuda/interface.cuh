//===- interface.cuh - what host and device code of the kernel library share -===//
//
// Error codes and launch geometry of every kernel in the library. Plain C++
// (no CUDA keywords): the device headers include it (concatenated into NVRTC
// sources) and host code includes it through runtime/cuda/LaunchShapes.h, so
// a launch shape can never disagree with what the kernel assumes.
//
// All kernels are launched with a 1-D thread block (threadIdx.x only).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_INTERFACE_CUH
#define MM_CUDA_INTERFACE_CUH

// The helpers below run on both sides: host code sizes launches with them and
// device code sizes its tiles. Under a CUDA compiler (nvcc, NVRTC) they are
// __host__ __device__, so plain `nvcc -arch=sm_90` compiles every generated
// kernel without --expt-relaxed-constexpr.
#if defined(__CUDACC__)
#define MMK_HD __host__ __device__
#else
#define MMK_HD
#endif

namespace mmk {

/// Values written to a kernel's `int *error` flag (the first error wins, via
/// atomicCAS from 0). A kernel that detects bad input skips the affected work
/// instead of reading or writing out of bounds; its outputs are then undefined.
enum ErrorCode : int {
  kOk = 0,
  kIndexOutOfRange = 1,      // token id / gather index outside its dimension
  kCacheOverflow = 2,        // KV-cache write past the capacity, or a negative position
  kExpertOutOfRange = 3,     // router index outside [0, E)
  kLengthOutOfRange = 4,     // a sequence length outside [0, T]
  kBadGroupOffsets = 5,      // MoE group offsets not 0 .. rows, non-decreasing
  kBadTokenOrder = 6,        // MoE token order not a permutation of the slots
  kSharedMemoryTooSmall = 7, // launched with less dynamic shared memory than needed
  kQueryStartOutOfRange = 8, // attention query_start < 0 or query_start + q_len > kv_len
  kPlaceholderCount = 9,     // image placeholder ids and image feature rows differ in number
};

MMK_HD constexpr long long ceilDiv(long long a, long long b) { return (a + b - 1) / b; }
MMK_HD constexpr int minInt(int a, int b) { return a < b ? a : b; }
MMK_HD constexpr int maxInt(int a, int b) { return a > b ? a : b; }
MMK_HD constexpr int gcdInt(int a, int b) { return b == 0 ? a : gcdInt(b, a % b); }
MMK_HD constexpr int roundUp16(int n) { return (n + 15) / 16 * 16; }
/// Width of the shared-memory tiles that hold rows of a head dim d: the tile
/// GEMMs' thread grids need multiples of 16, so any other d is zero-padded.
MMK_HD constexpr int headTile(int d) { return roundUp16(d); }

/// Padding (in floats) added to each row of a shared-memory tile: keeps rows
/// 16-byte aligned for float4 access and spreads consecutive rows over banks.
inline constexpr int kSmemPad = 4;

//===--- row kernels (rms_norm, embedding, gather, rope, softmax, ...) ----===//

/// Threads of a kernel that handles one row of `width` floats per block:
/// enough to keep at most 8 values per thread, a multiple of 32, <= 1024.
MMK_HD constexpr int rowThreads(int width) {
  return width <= 256 ? 32 * maxInt(1, minInt(8, (width + 31) / 32))
                      : minInt(1024, 32 * (int)ceilDiv(ceilDiv(width, 8), 32));
}
/// Threads of the flat elementwise kernels (unary, swiglu, epilogue, converts).
inline constexpr int kElementwiseThreads = 256;
/// Grid of the flat elementwise kernels for n elements (grid-stride loops cap it).
MMK_HD constexpr long long elementwiseBlocks(long long n) {
  return n <= 0
             ? 1
             : (ceilDiv(n, kElementwiseThreads) < 65536 ? ceilDiv(n, kElementwiseThreads) : 65536);
}

//===--- softmax attention -----------------------------------------------===//

inline constexpr int kAttentionThreads = 256;
inline constexpr int kAttentionKeyTile = 64;
/// Query tokens per prefill CTA: a CTA holds every query head of one KV head
/// for those tokens, rows = tokens * group, a multiple of 32.
MMK_HD constexpr int attentionQueryTile(int group) { return (32 / gcdInt(group, 32)); }
MMK_HD constexpr int attentionPrefillRows(int group) { return attentionQueryTile(group) * group; }
/// Dynamic shared memory of the prefill / decode kernels: Q rows, a K tile, a V
/// tile, the probabilities, then per row the visible key count (int64) and
/// three floats (rescale factor, running sum, running max). headDim is the
/// tile width: headTile of the larger of the key and value head dims.
MMK_HD constexpr unsigned attentionSharedBytes(int rows, int headDim, int keyTile) {
  return (unsigned)(4 * (rows * (headDim + kSmemPad) + 2 * keyTile * (headDim + kSmemPad) +
                         rows * (keyTile + kSmemPad)) +
                    20 * rows);
}
/// Decode: one CTA per (split, kv head, sequence); rows = group.
MMK_HD constexpr int attentionDecodeThreads(int group) { return 16 * minInt(group, 16); }
/// Floats per (sequence, query head, split) of the decode partial buffer:
/// unnormalised output [D], running max, running sum.
MMK_HD constexpr int attentionDecodePartialFloats(int headDim) { return headDim + 2; }
/// Keys per decode split for `splits` splits over a cache of `capacity` rows.
MMK_HD constexpr long long attentionDecodeKeysPerSplit(long long capacity, int splits) {
  return ceilDiv(ceilDiv(capacity, splits), kAttentionKeyTile) * kAttentionKeyTile;
}

//===--- lightning attention ---------------------------------------------===//

inline constexpr int kLightningThreads = 256;
/// Rows of a block handled by one output CTA (and the key tile width).
MMK_HD constexpr int lightningRowTile(int blockSize) { return blockSize < 64 ? blockSize : 64; }
/// Key/value rows staged per step by the block-state kernel (block sizes are
/// multiples of 16).
MMK_HD constexpr int lightningStateChunk(int blockSize) { return blockSize % 32 == 0 ? 32 : 16; }
MMK_HD constexpr long long lightningNumBlocks(long long tokens, int blockSize) {
  return ceilDiv(tokens, blockSize);
}
/// Workspace of the block-wise prefill: one d x d state per (sequence, head, block).
MMK_HD constexpr long long lightningWorkspaceFloats(long long batch, int heads, long long tokens,
                                                    int headDim, int blockSize) {
  return batch * heads * lightningNumBlocks(tokens, blockSize) * headDim * headDim;
}
/// State rows staged per step by the output kernel: a row tile (or the whole
/// state) when that divides the (padded) head dim, as before padding, else the
/// largest multiple of 16 that does.
MMK_HD constexpr int lightningStateSlice(int headTileWidth, int blockSize) {
  return headTileWidth % minInt(lightningRowTile(blockSize), headTileWidth) == 0
             ? minInt(lightningRowTile(blockSize), headTileWidth)
             : 16 * gcdInt(lightningRowTile(blockSize) / 16, headTileWidth / 16);
}
/// headDim here and in the decode shapes below is the tile width, headTile(d);
/// the state scan (four state elements per thread) takes d itself.
MMK_HD constexpr unsigned lightningOutputSharedBytes(int headDim, int blockSize) {
  return (unsigned)(4 * (2 * lightningRowTile(blockSize) * (headDim + kSmemPad) +
                         lightningRowTile(blockSize) * (lightningRowTile(blockSize) + kSmemPad)));
}
inline constexpr int kLightningScanThreads = 256;
/// Columns of the state handled by one decode CTA, and its threads.
/// (A whole tile below 64 columns, else 64, 32 or 16: the largest that divides it.)
MMK_HD constexpr int lightningDecodeColTile(int headDim) {
  return headDim < 64 ? headDim : 16 * gcdInt(4, headDim / 16);
}
MMK_HD constexpr int lightningDecodeThreads(int headDim) {
  return (lightningDecodeColTile(headDim) / 4) *
         minInt(headDim, 256 / (lightningDecodeColTile(headDim) / 4));
}

//===--- mixture of experts ----------------------------------------------===//

inline constexpr int kRouterThreads = 256;   // 8 tokens per CTA, one warp each
inline constexpr int kMoeSortThreads = 1024; // one CTA
inline constexpr int kGroupedGemmThreads = 256;
inline constexpr int kGroupedGemmRowTile = 64;
inline constexpr int kGroupedGemmKTile = 32;
/// Column tiles: a multiple of 16 (the tile GEMM's thread grid); columns past
/// N in the last tile are computed from zeros and not stored.
MMK_HD constexpr int groupedGemmColTile(int n) { return n < 128 ? roundUp16(n) : 128; }
MMK_HD constexpr int groupedSwigluColTile(int n) { return n < 64 ? roundUp16(n) : 64; }
/// Decode-sized grouped GEMMs (mm_moe_grouped_gemv_kernel): one warp per
/// output column and expert, the expert's rows in passes of kGroupedGemvRows.
inline constexpr int kGroupedGemvThreads = 256;
inline constexpr int kGroupedGemvRows = 4;
/// The runtime takes the GEMV form up to this many dispatched rows (a decode
/// step of up to 32 sequences at top-2), the tiled form above.
inline constexpr int kGroupedGemvMaxRows = 64;
/// Output columns per warp of the GEMV kernels for weights of `bytes` bytes
/// (4 bytes of weights per k: f32 1, bf16 2, int8 4).
MMK_HD constexpr int gemvColumnsPerWarp(int bytes) { return 4 / bytes; }
/// Dense bf16 / int8 weights (mm_gemv_kernel): the GEMV form up to this many
/// rows; above, the runtime widens the weight in chunks for cuBLAS.
inline constexpr int kGemvMaxRows = 16;
/// Row tiles to launch when the group sizes are only known on the device:
/// sum_e ceil(count_e / TM) <= ceil(rows / TM) + E.
MMK_HD constexpr long long groupedGemmRowTiles(long long rows, int experts) {
  return ceilDiv(rows, kGroupedGemmRowTile) + experts;
}

} // namespace mmk

#endif // MM_CUDA_INTERFACE_CUH

# The compiled-model cases of scripts/gpu-check.sh: name -> "model-folder mm-run generate args".
# Prompts longer than the block size (16 and 32) exercise multi-block prefill;
# the batch mixes lengths (padding, per-sequence cache positions).
long_ids=$(seq -s, 3 7 283 | tr ',' '\n' | awk '{printf "%s%d", (NR > 1 ? "," : ""), $1 % 96}')
declare -A CASES=(
  [tiny-hf]="test/data/minimax/hf-f32-packed --ids $long_ids --max-new-tokens 24"
  [tiny-hf-batch]="test/data/minimax/hf-f32-packed --ids $long_ids --ids 5,17,3,9,11,2,60 --ids 7 --max-new-tokens 12"
  # head_dim 8 (official layout): the attention and lightning kernels' padded, masked tiles.
  [tiny-official]="test/data/minimax/official-bf16 --ids $(seq -s, 1 2 79) --ids 9,4,33 --max-new-tokens 12"
  [tiny-example]="examples/minimax-tiny --prompt 'Beautiful is better than ugly. Explicit is better than implicit. Simple is better than complex. Complex is' --max-new-tokens 48"
)
# bf16 / int8 weights: the same prompt against the host-compiled path with the
# same storage (the reference executor computes with f32 weights only).
CASES[tiny-example-bf16]=${CASES[tiny-example]}
CASES[tiny-example-int8]=${CASES[tiny-example]}
declare -A BINARIES=([tiny-hf]=tiny-hf [tiny-hf-batch]=tiny-hf [tiny-official]=tiny-official
  [tiny-example]=tiny-example
  [tiny-example-bf16]=tiny-example-bf16 [tiny-example-int8]=tiny-example-int8)
# mm-run arguments of each case's reference run (default: the reference executor).
declare -A REFERENCE=([tiny-example-bf16]="--backend cpu --weight-dtype bf16"
  [tiny-example-int8]="--backend cpu --weight-dtype int8")

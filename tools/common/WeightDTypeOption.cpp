//===- WeightDTypeOption.cpp ----------------------------------------------===//
#include "tools/common/WeightDTypeOption.h"

#include <CLI/CLI.hpp>

namespace mm {

void addWeightDTypeOptions(CLI::App &command, WeightDTypeChoice &choice, bool lmHead) {
  command
      .add_option("--weight-dtype", choice.weights,
                  "compiled weight storage: auto (the checkpoint's: bf16 or f32), f32, bf16, or "
                  "int8 (the linear and expert matrices int8 with a float32 scale per output "
                  "row; embeddings, norms and biases as auto)")
      ->check(CLI::IsMember({"auto", "f32", "bf16", "int8"}));
  if (lmHead)
    command
        .add_option("--lm-head-dtype", choice.lmHead,
                    "the LM head's storage when it should differ from --weight-dtype: f32, bf16 "
                    "or int8")
        ->check(CLI::IsMember({"f32", "bf16", "int8"}));
}

} // namespace mm

//===- WeightDTypeOption.h - --weight-dtype for mm-run and mm-compile -*- C++ -*-===//
#ifndef MM_TOOLS_COMMON_WEIGHTDTYPEOPTION_H
#define MM_TOOLS_COMMON_WEIGHTDTYPEOPTION_H

#include <string>

namespace CLI {
class App;
}

namespace mm {

/// What --weight-dtype and --lm-head-dtype ask of a compiled backend
/// (CompileOptions::weightDType and weightDTypeOf; codegen/WeightStorage.h).
struct WeightDTypeChoice {
  std::string weights = "auto"; // auto, f32, bf16 or int8
  std::string lmHead;           // empty: as the others
};

/// --weight-dtype on `command`, and with `lmHead` --lm-head-dtype (MiniMax).
void addWeightDTypeOptions(CLI::App &command, WeightDTypeChoice &choice, bool lmHead);

} // namespace mm

#endif // MM_TOOLS_COMMON_WEIGHTDTYPEOPTION_H

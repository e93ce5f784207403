//===- MMOps.td - all mm ops ----------------------------------*- tablegen -*-===//
//
// The op set, one file per family under ir/ops/. This file only gathers them so
// tablegen emits one MMOps.h.inc / MMOps.cpp.inc.
//
//===----------------------------------------------------------------------===//

#ifndef MM_OPS_TD
#define MM_OPS_TD

include "ir/ops/ParamOps.td"
include "ir/ops/ElementwiseOps.td"
include "ir/ops/NormOps.td"
include "ir/ops/LinearOps.td"
include "ir/ops/AttentionOps.td"
include "ir/ops/MoEOps.td"
include "ir/ops/ReductionOps.td"
include "ir/ops/ShapeOps.td"
include "ir/ops/LossOps.td"
include "ir/ops/VisionOps.td"
include "ir/ops/RecsysOps.td"
include "ir/ops/SupernetOps.td"
include "ir/ops/GradientOps.td"
include "ir/ops/KernelOps.td"

#endif // MM_OPS_TD

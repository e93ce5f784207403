//===- GradientInterface.cpp - the interface's generated definitions ------===//
#include "ir/GradientInterface.h"

#include "ir/GradientInterface.cpp.inc"

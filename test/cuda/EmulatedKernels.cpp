//===- EmulatedKernels.cpp - the test kernels compiled for the CPU emulator -===//
//
// The same wrapper text that NVRTC compiles for mm-cuda-gpu-tests, built by the
// host compiler; each MM_TEST_KERNEL registers itself with the emulator.
//
//===----------------------------------------------------------------------===//
#include "test/cuda/emu/CudaEmulation.h"

#include "test/cuda/TestKernels.cuh"

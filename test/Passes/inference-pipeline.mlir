// The named pipeline is registered and runs its phases.
// RUN: mm-opt %s -mm-inference-pipeline='stop-after=cleanup' | FileCheck %s
// RUN: mm-opt %s -pass-pipeline='builtin.module(mm-inference-pipeline{stop-after=cleanup})' | FileCheck %s
// RUN: mm-opt %s -mm-inference-pipeline='max-batch=2 max-tokens=8' 2>&1 | FileCheck %s --check-prefix=FULL
// RUN: mm-opt %s -mm-inference-pipeline='stop-after=fusion' | FileCheck %s --check-prefix=FUSION
// RUN: not mm-opt %s -mm-inference-pipeline='stop-after=nosuch' 2>&1 | FileCheck %s --check-prefix=BADPHASE

// BADPHASE: mm-inference-pipeline: unknown phase 'nosuch' (phases: cleanup, fusion, memory-plan)

// CHECK-LABEL: func @mlp
// CHECK-COUNT-1: mm.linear %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<128x64xf32>)
// CHECK: mm.swiglu
// CHECK-NOT: mm.mul
// The whole pipeline: after CSE the swiglu reads the gate GEMM twice, so it
// stays a kernel of its own; each result gets an arena offset.
// FUSION-LABEL: func @mlp
// FUSION: mm.kernel gemm
// FUSION: mm.kernel elementwise
// FUSION: mm.kernel gemm
// FUSION-NOT: mm.kernel
// FULL: remark: arena {{[0-9]+}} bytes for 3 buffers
// FULL: mm.kernel gemm {{.*}}mm.offsets = array<i64: 0>
func.func @mlp(%x: tensor<?x64xf32> {mm.dims = ["T", ""]}) -> tensor<?x64xf32> {
  %wg = mm.param "gate" : tensor<128x64xf32>
  %wg2 = mm.param "gate" : tensor<128x64xf32>
  %wd = mm.param "down" : tensor<64x128xf32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %g = mm.linear %x, %wg : (tensor<?x64xf32>, tensor<128x64xf32>) -> tensor<?x128xf32>
  %g2 = mm.linear %x, %wg2 : (tensor<?x64xf32>, tensor<128x64xf32>) -> tensor<?x128xf32>
  %h = mm.swiglu %g, %g2 : tensor<?x128xf32>
  %y = mm.linear %h, %wd : (tensor<?x128xf32>, tensor<64x128xf32>) -> tensor<?x64xf32>
  %z = mm.mul %y, %one : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  return %z : tensor<?x64xf32>
}

// RUN: mm-opt %s -split-input-file -mm-specialize-choices='choices=block0.op=1,block0.act=0' | FileCheck %s
// RUN: not mm-opt %s -split-input-file -mm-specialize-choices='choices=block0.op=1 require-all=true' 2>&1 | FileCheck %s --check-prefix=UNASSIGNED
// RUN: not mm-opt %s -split-input-file -mm-specialize-choices='choices=block0.op=7' 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not mm-opt %s -split-input-file -mm-specialize-choices='choices=nosuch=0' 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not mm-opt %s -split-input-file -mm-specialize-choices='choices=block0.op' 2>&1 | FileCheck %s --check-prefix=MALFORMED

// The chosen candidate's body replaces the choice, nested choices included.
// CHECK-LABEL: func @supernet
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %{{.*}}: tensor<i64>)
// CHECK-NEXT: %[[T:.*]] = mm.tanh %[[X]]
// CHECK-NEXT: %[[R:.*]] = mm.relu %[[T]]
// CHECK-NEXT: return %[[R]]
// CHECK-NOT: mm.choice
// UNASSIGNED: error: 'mm.choice' op choice 'block0.act' is not assigned
// RANGE: error: 'mm.choice' op choice 'block0.op' has 2 candidates; index 7 is out of range
// UNKNOWN: error: mm-specialize-choices: no choice point named 'nosuch'
// MALFORMED: error: mm-specialize-choices: expected name=index, got 'block0.op'
func.func @supernet(%x: tensor<?x8xf32>, %sel: tensor<i64>) -> tensor<?x8xf32> {
  %y = mm.choice "block0.op" %sel : tensor<i64> -> (tensor<?x8xf32>) {
    %a = mm.silu %x : tensor<?x8xf32>
    mm.yield %a : tensor<?x8xf32>
  }, {
    %b = mm.tanh %x : tensor<?x8xf32>
    %c = mm.choice "block0.act" %sel : tensor<i64> -> (tensor<?x8xf32>) {
      %r = mm.relu %b : tensor<?x8xf32>
      mm.yield %r : tensor<?x8xf32>
    }, {
      mm.yield %b : tensor<?x8xf32>
    }
    mm.yield %c : tensor<?x8xf32>
  }
  return %y : tensor<?x8xf32>
}

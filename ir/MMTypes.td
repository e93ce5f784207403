//===- MMTypes.td - tensor type constraints of mm ops ---------*- tablegen -*-===//
//
// mm has no types of its own: it works on builtin ranked tensors. These are the
// element-type constraints its ops share.
//
//===----------------------------------------------------------------------===//

#ifndef MM_TYPES_TD
#define MM_TYPES_TD

include "mlir/IR/CommonTypeConstraints.td"

// Activations, weights, losses.
def MM_FloatTensor : RankedTensorOf<[AnyFloat]>;
// Token ids, positions, expert indices, lengths.
def MM_IndexTensor : RankedTensorOf<[AnySignlessInteger]>;
// Elementwise arithmetic works on both.
def MM_NumericTensor : RankedTensorOf<[AnyFloat, AnySignlessInteger]>;
def MM_AnyTensor : RankedTensorOf<[AnyType]>;
// A run-time scalar such as a supernet choice selector.
def MM_ScalarIndexTensor : 0DTensorOf<[AnySignlessInteger]>;

#endif // MM_TYPES_TD

//===- ElementwiseOps.td - activations and arithmetic --------*- tablegen -*-===//

#ifndef MM_ELEMENTWISE_OPS_TD
#define MM_ELEMENTWISE_OPS_TD

include "ir/MMBase.td"

def MM_SiluOp : MM_UnaryFloatOp<"silu", "x * sigmoid(x)">;
def MM_SigmoidOp : MM_UnaryFloatOp<"sigmoid", "1 / (1 + exp(-x))">;
def MM_ReluOp : MM_UnaryFloatOp<"relu", "max(x, 0)">;
def MM_TanhOp : MM_UnaryFloatOp<"tanh", "tanh(x)">;
def MM_ExpOp : MM_UnaryFloatOp<"exp", "exp(x)">;
def MM_LogOp : MM_UnaryFloatOp<"log", "log(x)">;
def MM_SqrtOp : MM_UnaryFloatOp<"sqrt", "sqrt(x)">;
def MM_RsqrtOp : MM_UnaryFloatOp<"rsqrt", "1 / sqrt(x)">;
def MM_NegOp : MM_UnaryFloatOp<"neg", "-x"> {
  let hasFolder = 1;
}

def MM_GeluOp : MM_Op<"gelu", [MM_Differentiable, Pure, Elementwise, SameOperandsAndResultType]> {
  let summary = "elementwise GELU";
  let description = [{
    `x * Phi(x)` with the exact normal CDF, or with `tanh` the approximation
    `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` (PyTorch's
    `approximate="tanh"`, used by GELU-tanh vision towers).

    ```mlir
    %y = mm.gelu %x : tensor<?x577x1024xf32>
    %z = mm.gelu tanh %x : tensor<?x577x1024xf32>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, UnitAttr:$tanh_approximation);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "(`tanh` $tanh_approximation^)? $input attr-dict `:` type($result)";
}

def MM_AddOp : MM_BinaryOp<"add", "lhs + rhs", [Commutative]> { let hasFolder = 1; }
def MM_SubOp : MM_BinaryOp<"sub", "lhs - rhs"> { let hasFolder = 1; }
def MM_MulOp : MM_BinaryOp<"mul", "lhs * rhs", [Commutative]> { let hasFolder = 1; }
def MM_DivOp : MM_BinaryOp<"div", "lhs / rhs"> { let hasFolder = 1; }
def MM_MaxOp : MM_BinaryOp<"max", "max(lhs, rhs)", [Commutative]>;
def MM_MinOp : MM_BinaryOp<"min", "min(lhs, rhs)", [Commutative]>;

def MM_SwigluOp : MM_Op<"swiglu", [MM_Differentiable, Pure, Elementwise, SameOperandsAndResultType]> {
  let summary = "SwiGLU gate: silu(gate) * up";
  let description = [{
    The gated unit of SwiGLU feed-forward layers (MiniMax experts:
    `W2(SiLU(W1 x) * (W3 x))`): `silu(gate) * up`, elementwise, on operands of
    one type.

    ```mlir
    %h = mm.swiglu %gate, %up : tensor<?x9216xbf16>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$gate, MM_FloatTensor:$up);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def MM_CastOp : MM_Op<"cast", [MM_Differentiable, Pure, Elementwise, SameOperandsAndResultShape]> {
  let summary = "element type conversion";
  let description = [{
    Converts every element to the result's element type: float to float rounds
    to nearest even, float to integer truncates toward zero, integer to float
    rounds to nearest. The shape is unchanged.

    ```mlir
    %y = mm.cast %x : tensor<?x?x6144xbf16> to tensor<?x?x6144xf32>
    ```
  }];
  let arguments = (ins MM_NumericTensor:$input);
  let results = (outs MM_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasFolder = 1;
}

#endif // MM_ELEMENTWISE_OPS_TD

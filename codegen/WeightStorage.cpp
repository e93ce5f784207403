//===- WeightStorage.cpp --------------------------------------------------===//
#include "codegen/WeightStorage.h"
#include "ir/MMOps.h"
#include "runtime/Error.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

using namespace mlir;

namespace mm {
namespace {

bool isFloatParam(ParamOp p) { return llvm::isa<FloatType>(p.getType().getElementType()); }

/// Whether body argument `arg` of `kernel` is read, and only as a gemm
/// matrix (never written in place).
bool readOnlyAsMatrix(KernelOp kernel, BlockArgument arg) {
  if (auto inPlace = kernel.getInPlace();
      inPlace && llvm::is_contained(*inPlace, int64_t(arg.getArgNumber())))
    return false;
  KernelKind kind = kernel.getKind();
  bool used = false;
  for (OpOperand &use : arg.getUses()) {
    Operation *user = use.getOwner();
    if (auto linear = dyn_cast<LinearOp>(user);
        linear && kind == KernelKind::Gemm && use.getOperandNumber() == 1) {
      used = true;
      continue;
    }
    if (auto grouped = dyn_cast<GroupedMatmulOp>(user);
        grouped && (kind == KernelKind::GroupedGemm || kind == KernelKind::GroupedGemmSwiglu) &&
        use.getOperandNumber() == 1) {
      used = true;
      continue;
    }
    return false;
  }
  return used;
}

bool isCollective(KernelKind kind) {
  return kind == KernelKind::AllReduce || kind == KernelKind::AllGather ||
         kind == KernelKind::AllSlice || kind == KernelKind::ReduceScatter;
}

/// Whether a result of `kernel` reaches a moe_router kernel, directly or
/// through views and collectives (a router's logits gathered under
/// --parallel): its weight is the MoE gate, tiny and with a discrete top-k
/// choice, so it keeps its precision (as vLLM leaves MoE gates unquantized).
bool feedsRouter(KernelOp kernel) {
  llvm::SmallVector<Value> work(kernel.getResults().begin(), kernel.getResults().end());
  llvm::DenseSet<Value> seen;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    for (Operation *user : v.getUsers()) {
      if (auto k = dyn_cast<KernelOp>(user)) {
        if (k.getKind() == KernelKind::MoeRouter)
          return true;
        if (isCollective(k.getKind()))
          work.append(k.getResults().begin(), k.getResults().end());
      } else if (auto reshape = dyn_cast<ReshapeOp>(user)) {
        work.push_back(reshape.getResult());
      }
    }
  }
  return false;
}

void checkDType(const std::string &what, const std::string &dtype, bool allowAuto) {
  if (dtype == "f32" || dtype == "bf16" || dtype == "int8" || (allowAuto && dtype == "auto"))
    return;
  throw makeError(what, " '", dtype, "': expected ", allowAuto ? "auto, " : "",
                  "f32, bf16 or int8");
}

} // namespace

std::set<std::string> int8WeightCandidates(func::FuncOp fn) {
  std::set<std::string> candidates, excluded;
  fn.walk([&](ParamOp p) {
    auto type = p.getType();
    if (!isFloatParam(p) || type.getRank() < 2 || !type.hasStaticShape()) {
      excluded.insert(p.getName().str());
      return;
    }
    for (OpOperand &use : p->getUses()) {
      auto kernel = dyn_cast<KernelOp>(use.getOwner());
      if (!kernel ||
          !readOnlyAsMatrix(kernel, kernel.getBody().getArgument(use.getOperandNumber())) ||
          feedsRouter(kernel)) {
        excluded.insert(p.getName().str());
        return;
      }
    }
    if (!p->use_empty())
      candidates.insert(p.getName().str());
  });
  for (const std::string &name : excluded) // one name may be several params
    candidates.erase(name);
  return candidates;
}

WeightStorage WeightStorage::resolve(func::FuncOp fn, const std::string &dtype,
                                     const std::map<std::string, std::string> &overrides,
                                     bool bf16Checkpoint) {
  checkDType("--weight-dtype", dtype, /*allowAuto=*/true);
  std::set<std::string> names;
  fn.walk([&](ParamOp p) {
    if (isFloatParam(p))
      names.insert(p.getName().str());
  });
  // Weights that int8 leaves alone keep the checkpoint's precision, as `auto`
  // does (vLLM's --dtype auto): bf16 for a bf16 checkpoint, else f32.
  std::string plain = bf16Checkpoint ? "bf16" : "f32";
  std::string base = dtype == "auto" ? plain : dtype;
  std::set<std::string> int8Matrices;
  if (base == "int8" || llvm::any_of(overrides, [](auto &o) { return o.second == "int8"; }))
    int8Matrices = int8WeightCandidates(fn);

  WeightStorage s;
  for (const std::string &name : names) {
    std::string chosen = base == "int8" ? (int8Matrices.count(name) ? "int8" : plain) : base;
    if (chosen != "f32")
      s.stored_[name] = chosen;
  }
  for (const auto &[name, type] : overrides) {
    checkDType("the storage of weight '" + name + "'", type, /*allowAuto=*/false);
    if (!names.count(name))
      throw makeError("weight '", name, "' (given its own dtype) is not a float weight of @",
                      fn.getName().str());
    if (type == "int8" && !int8Matrices.count(name))
      throw makeError("weight '", name,
                      "' cannot be int8: int8 holds only the matrices that "
                      "gemm and grouped_matmul kernels read, and this one is read otherwise");
    if (type == "f32")
      s.stored_.erase(name);
    else
      s.stored_[name] = type;
  }
  return s;
}

std::string WeightStorage::of(llvm::StringRef name) const {
  auto it = stored_.find(name.str());
  return it == stored_.end() ? "f32" : it->second;
}

exe::DType WeightStorage::dtype(Type element, llvm::StringRef name) const {
  if (llvm::isa<IntegerType>(element))
    return exe::DTYPE_I64;
  std::string s = of(name);
  return s == "bf16" ? exe::DTYPE_BF16 : s == "int8" ? exe::DTYPE_I8_ROWS : exe::DTYPE_F32;
}

WeightTypes WeightStorage::generatorTypes() const {
  WeightTypes types;
  for (const auto &[name, type] : stored_)
    types[name] = type;
  return types;
}

} // namespace mm

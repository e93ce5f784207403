//===- GenerationStep.cpp -------------------------------------------------===//
#include "ir/GenerationStep.h"

#include "llvm/ADT/StringSet.h"

using namespace mlir;

namespace mm {

std::optional<StepInput> parseStepInput(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<StepInput>>(name)
      .Case("token_ids", StepInput::TokenIds)
      .Case("positions", StepInput::Positions)
      .Case("cache_positions", StepInput::CachePositions)
      .Case("lengths", StepInput::Lengths)
      .Case("image_features", StepInput::ImageFeatures)
      .Default(std::nullopt);
}

namespace {
/// The symbols the arguments' mm.dims name.
llvm::StringSet<> argumentSymbols(func::FuncOp fn) {
  llvm::StringSet<> symbols;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i)
    if (auto dims = fn.getArgAttrOfType<ArrayAttr>(i, "mm.dims"))
      for (Attribute d : dims)
        if (auto s = dyn_cast<StringAttr>(d); s && !s.getValue().empty())
          symbols.insert(s.getValue());
  return symbols;
}
} // namespace

FailureOr<std::optional<GenerationStepDecl>> readGenerationStep(func::FuncOp fn) {
  auto dict = fn->getAttrOfType<DictionaryAttr>("mm.generation_step");
  if (!dict) {
    if (fn->hasAttr("mm.generation_step"))
      return fn.emitError("mm.generation_step must be a dictionary");
    return std::optional<GenerationStepDecl>();
  }
  GenerationStepDecl decl;
  llvm::StringSet<> known = argumentSymbols(fn);
  for (NamedAttribute entry : dict) {
    StringRef key = entry.getName().getValue();
    if (key == "logits") {
      auto index = dyn_cast<IntegerAttr>(entry.getValue());
      auto type = index ? dyn_cast<IntegerType>(index.getType()) : IntegerType();
      if (!type || !type.isSignless() || type.getWidth() > 64 || index.getInt() < 0 ||
          index.getInt() >= fn.getNumResults())
        return fn.emitError("mm.generation_step: 'logits' must be the index of a result (the "
                            "function has ")
               << fn.getNumResults() << ")";
      decl.logitsResult = index.getInt();
      continue;
    }
    if (key == "all_logits") {
      auto flag = dyn_cast<BoolAttr>(entry.getValue());
      if (!flag)
        return fn.emitError("mm.generation_step: 'all_logits' must be true or false");
      decl.allLogits = flag.getValue();
      continue;
    }
    std::string *symbol = llvm::StringSwitch<std::string *>(key)
                              .Case("batch", &decl.batch)
                              .Case("tokens", &decl.tokens)
                              .Case("capacity", &decl.capacity)
                              .Case("image_tokens", &decl.imageTokens)
                              .Default(nullptr);
    if (!symbol)
      return fn.emitError("mm.generation_step: unknown entry '")
             << key << "' (expected batch, tokens, capacity, image_tokens, logits, all_logits)";
    auto name = dyn_cast<StringAttr>(entry.getValue());
    if (!name || !known.contains(name.getValue()))
      return fn.emitError("mm.generation_step: '")
             << key << "' must name a shape symbol of the arguments' mm.dims";
    *symbol = name.getValue().str();
  }
  if (decl.batch.empty() || decl.tokens.empty())
    return fn.emitError("mm.generation_step must name the 'batch' and 'tokens' symbols");
  // Each symbol has one role, and every symbol of the arguments has one: the
  // engine binds them by role.
  std::vector<std::string> named{decl.batch, decl.tokens, decl.capacity, decl.imageTokens};
  for (size_t i = 0; i < named.size(); ++i)
    for (size_t j = i + 1; j < named.size(); ++j)
      if (!named[i].empty() && named[i] == named[j])
        return fn.emitError("mm.generation_step: symbol '") << named[i] << "' has two roles";
  for (const auto &symbol : known)
    if (!llvm::is_contained(named, symbol.getKey().str()))
      return fn.emitError("mm.generation_step: shape symbol '")
             << symbol.getKey() << "' has no role (batch, tokens, capacity, image_tokens)";
  // Logits [batch, vocab], or [batch, tokens, vocab] with all_logits.
  auto logits = fn.getNumResults()
                    ? dyn_cast<RankedTensorType>(fn.getResultTypes()[decl.logitsResult])
                    : RankedTensorType();
  if (!logits || !isa<FloatType>(logits.getElementType()) ||
      logits.getRank() != (decl.allLogits ? 3 : 2) || logits.isDynamicDim(logits.getRank() - 1))
    return fn.emitError("mm.generation_step: the logits result must be a float tensor [batch, ")
           << (decl.allLogits ? "tokens, " : "") << "vocab] with a static vocab";

  bool seen[5] = {};
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    std::optional<StepInput> role;
    if (auto name = fn.getArgAttrOfType<StringAttr>(i, "mm.step_input")) {
      role = parseStepInput(name.getValue());
      if (!role)
        return fn.emitError("argument ")
               << i << ": unknown mm.step_input '" << name.getValue() << "'";
      if (std::exchange(seen[int(*role)], true))
        return fn.emitError("argument ")
               << i << ": mm.step_input '" << name.getValue() << "' is declared twice";
      // The engine's tensors: i64 ids / positions [B, T] and counts [B],
      // float image features [I, hidden].
      auto type = dyn_cast<RankedTensorType>(fn.getArgumentTypes()[i]);
      bool images = *role == StepInput::ImageFeatures;
      int64_t rank =
          images || *role == StepInput::TokenIds || *role == StepInput::Positions ? 2 : 1;
      if (!type || type.getRank() != rank ||
          (images ? !isa<FloatType>(type.getElementType()) : !type.getElementType().isInteger(64)))
        return fn.emitError("argument ")
               << i << ": the step input '" << name.getValue() << "' must be a rank-" << rank
               << (images ? " float" : " i64") << " tensor";
    }
    decl.argumentRoles.push_back(role);
  }
  for (const char *required : {"token_ids", "positions", "cache_positions", "lengths"})
    if (!seen[int(*parseStepInput(required))])
      return fn.emitError("mm.generation_step: no argument is the step input '") << required << "'";
  // The results are the logits and the updated state, in the state's order.
  SmallVector<Type> stateTypes;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i)
    if (!decl.argumentRoles[i])
      stateTypes.push_back(fn.getArgumentTypes()[i]);
  SmallVector<Type> rest(fn.getResultTypes());
  rest.erase(rest.begin() + decl.logitsResult);
  if (rest != stateTypes)
    return fn.emitError("mm.generation_step: the results other than the logits must be the "
                        "updated state, of the types of the arguments without mm.step_input, "
                        "in their order");
  if (seen[int(StepInput::ImageFeatures)] != !decl.imageTokens.empty())
    return fn.emitError("mm.generation_step: an 'image_features' input and the 'image_tokens' "
                        "symbol go together");
  return std::optional<GenerationStepDecl>(std::move(decl));
}

} // namespace mm

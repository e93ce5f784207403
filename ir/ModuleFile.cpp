//===- ModuleFile.cpp -----------------------------------------------------===//
#include "ir/ModuleFile.h"
#include "ir/SourceGuard.h"
#include "runtime/Error.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace mm {

OwningOpRef<ModuleOp> loadModuleFile(MLIRContext &context, const std::string &path) {
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(path, &error);
  if (!input)
    throw makeError(path, ": ", error);
  if (auto tooDeep = checkNestingDepth(input->getBuffer()))
    throw makeError(path, ":", *tooDeep);
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    d.getLocation().print(os);
    os << ": " << (d.getSeverity() == DiagnosticSeverity::Error ? "error: " : "") << d << "\n";
    return success();
  });
  llvm::SourceMgr sources;
  sources.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sources, &context);
  if (!module)
    throw makeError(path, ": the module does not parse:\n", diagnostics);
  if (failed(verify(*module)))
    throw makeError(path, ": the module does not verify:\n", diagnostics);
  return module;
}

func::FuncOp selectFunction(ModuleOp module, const std::string &name, const std::string &path) {
  std::string names;
  func::FuncOp only;
  int withBody = 0;
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn.isExternal())
      continue;
    names += (names.empty() ? "@" : ", @") + fn.getName().str();
    only = fn;
    ++withBody;
    if (!name.empty() && fn.getName() == name)
      return fn;
  }
  if (name.empty() && withBody == 1)
    return only;
  if (name.empty())
    throw makeError(path, ": give --function (the module has ",
                    withBody ? names : std::string("no functions with a body"), ")");
  throw makeError(path, ": no function @", name, " (the module has ",
                  withBody ? names : std::string("no functions with a body"), ")");
}

} // namespace mm

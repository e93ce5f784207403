//===- ParseVerifyFuzzer.cpp - libFuzzer over parse + verify + print ------===//
//
// Feeds arbitrary bytes through what mm-opt does with its input: the nesting
// guard, the parser (which verifies), canonicalization, and the printer. Any
// crash, sanitizer report or hang is a bug; diagnostics are expected.
//
//===----------------------------------------------------------------------===//
#include "ir/InitDialects.h"
#include "ir/SourceGuard.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

using namespace mlir;

static MLIRContext &context() {
  static MLIRContext *ctx = [] {
    DialectRegistry registry;
    mm::registerDialects(registry);
    auto *c = new MLIRContext(registry, MLIRContext::Threading::DISABLED);
    c->loadAllAvailableDialects();
    // Diagnostics are the expected outcome for most inputs: drop them.
    c->getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
    return c;
  }();
  return *ctx;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  if (mm::checkNestingDepth(text))
    return 0;
  MLIRContext &ctx = context();
  // The lexer relies on the NUL terminator that file buffers carry, as mm-opt's do.
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "fuzz"), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&ctx));
  if (!module)
    return 0;
  PassManager pm(&ctx);
  pm.addPass(createCanonicalizerPass());
  (void)pm.run(*module);
  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  return 0;
}

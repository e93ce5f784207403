//===- mm-opt.cpp - the mmc graph compiler driver -------------------------===//
//
// mlir-opt for mm graphs: every mlir-opt flag works (--split-input-file,
// --verify-diagnostics, --pass-pipeline, --mlir-print-ir-after-all, crash
// reproducers). On top of MlirOptMain it refuses input nested deeper than the
// parser can take, and parses on a thread with a large stack.
//
//===----------------------------------------------------------------------===//
#include "ir/InitDialects.h"
#include "ir/SourceGuard.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Shard/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/thread.h"

using namespace mlir;

/// Stack for the parser, the verifier and the passes: deep enough for any
/// input that passes the nesting check, reserved rather than committed.
static constexpr unsigned kStackBytes = 256u << 20;

static LogicalResult printDialects(DialectRegistry &registry) {
  llvm::outs() << "Available Dialects: ";
  llvm::interleaveComma(registry.getDialectNames(), llvm::outs());
  llvm::outs() << "\n";
  return success();
}

static LogicalResult runOpt(StringRef inputFilename, StringRef outputFilename,
                            DialectRegistry &registry) {
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects())
    return printDialects(registry);
  if (config.shouldListPasses()) {
    printRegisteredPasses();
    return success();
  }
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(inputFilename, &error);
  if (!input) {
    llvm::errs() << error << "\n";
    return failure();
  }
  if (auto tooDeep = mm::checkNestingDepth(input->getBuffer())) {
    llvm::errs() << input->getBufferIdentifier() << ":" << *tooDeep << "\n";
    return failure();
  }
  std::unique_ptr<llvm::ToolOutputFile> output = openOutputFile(outputFilename, &error);
  if (!output) {
    llvm::errs() << error << "\n";
    return failure();
  }
  if (failed(MlirOptMain(output->os(), std::move(input), registry, config)))
    return failure();
  output->keep();
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  DialectRegistry registry;
  mm::registerDialects(registry);
  registerTransformsPasses();
  shard::registerShardPasses();
  mm::registerAllPassesAndPipelines();

  auto [inputFilename, outputFilename] =
      registerAndParseCLIOptions(argc, argv, "mm-opt: the mmc graph compiler driver\n", registry);

  LogicalResult result = failure();
  llvm::thread worker(std::optional<unsigned>(kStackBytes),
                      [&] { result = runOpt(inputFilename, outputFilename, registry); });
  worker.join();
  return asMainReturnCode(result);
}

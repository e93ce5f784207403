//===- mm-train.cpp - training MiniMax models with mmc ---------------------===//
//
//   mm-train pretrain --config CONFIG.json --tokenizer tokenizer.json
//       --data FILE... --steps N --batch-size B --seq-len T --lr LR --seed S
//       --threads N --save-every K --out DIR [--resume]
//       [--backend cpu|cuda|reference]
//
//===----------------------------------------------------------------------===//
#include "runtime/Error.h"
#include "training/Pretrain.h"

#include <CLI/CLI.hpp>

#include <iostream>
#ifdef _OPENMP
#include <omp.h>
#endif

int main(int argc, char **argv) {
  CLI::App app{"mm-train: train models with mmc"};
  app.require_subcommand(1);
  mm::train::PretrainOptions o;
  std::string backend = "cpu";
  CLI::App *pre = app.add_subcommand(
      "pretrain", "Train a MiniMax model from scratch on text files (next-token loss, AdamW)");
  pre->add_option("--config", o.config, "the model's config.json")->required()->check(CLI::ExistingFile);
  pre->add_option("--tokenizer", o.tokenizer, "tokenizer.json")->required()->check(CLI::ExistingFile);
  pre->add_option("--data", o.data, "UTF-8 text files")->required()->check(CLI::ExistingFile);
  pre->add_option("--steps", o.steps, "optimizer steps")->required();
  pre->add_option("--batch-size", o.batchSize, "sequences per step")->required();
  pre->add_option("--seq-len", o.seqLen, "tokens per sequence")->required();
  pre->add_option("--lr", o.lr, "peak learning rate")->required();
  pre->add_option("--seed", o.seed, "seed of the initial weights and the data order")->required();
  pre->add_option("--threads", o.threads, "CPU threads (a resumed run must use the same)")
      ->required();
  pre->add_option("--save-every", o.saveEvery, "checkpoint every K steps (and at the end)")
      ->required();
  pre->add_option("--out", o.out, "run directory: checkpoints, metrics, the trained model")
      ->required();
  pre->add_flag("--resume", o.resume, "continue the run in --out from its newest good checkpoint");
  pre->add_option("--backend", backend, "where the training step runs")
      ->check(CLI::IsMember({"cpu", "cuda", "reference"}));
  pre->add_option("--warmup-steps", o.warmupSteps, "linear warm-up steps (default: steps / 10)");
  pre->add_option("--min-lr", o.minLr, "learning rate at the end of the cosine (default: lr / 10)");
  pre->add_option("--beta1", o.optimizer.beta1, "AdamW beta1");
  pre->add_option("--beta2", o.optimizer.beta2, "AdamW beta2");
  pre->add_option("--eps", o.optimizer.epsilon, "AdamW epsilon");
  pre->add_option("--weight-decay", o.optimizer.weightDecay, "AdamW decoupled weight decay");
  pre->add_option("--max-grad-norm", o.optimizer.maxGradNorm, "global-norm clipping (0: off)");
  pre->add_option("--emit-ir", o.emitIR,
                  "write the training graph (@loss, @loss_grad, @loss_train_step) to this file");
  pre->add_flag("--recompute", o.optimizer.recompute,
               "recompute each layer's activations in the backward (less memory, one more "
               "forward)");
  pre->add_option("--log-every", o.logEvery, "a progress line every N steps when not on a terminal");
  CLI11_PARSE(app, argc, argv);
  o.backend = backend == "cuda"        ? mm::train::StepBackend::CUDA
              : backend == "reference" ? mm::train::StepBackend::Reference
                                       : mm::train::StepBackend::CPU;
  try {
#ifdef _OPENMP
    omp_set_num_threads(o.threads);
#endif
    return mm::train::pretrain(o, std::cerr);
  } catch (const std::exception &e) {
    std::cerr << "mm-train: error: " << e.what() << "\n";
    return 1;
  }
}

//===- mm-train.cpp - training MiniMax models with mmc ---------------------===//
//
//   mm-train pretrain --config CONFIG.json --tokenizer tokenizer.json
//       --data FILE... --steps N --batch-size B --seq-len T --lr LR --seed S
//       --threads N --save-every K --out DIR [--resume]
//       [--backend cpu|cuda|reference]
//   mpirun -np N mm-train pretrain ... --parallel dp=N | tp=A[,ep=M][,etp=K][,cp=C]
//       [--collective-timeout S]
//   mm-train sft --task add:D (--model DIR | --config CONFIG.json --tokenizer
//       tokenizer.json) --steps N --seed S --threads N --out OUT
//       [under mpirun: --parallel dp=N | tp=A[,ep=M][,etp=K]]
//   mm-train rl --model DIR --task add:D --objective cispo|ppo_clip|dapo|grpo
//       --steps N --prompts-per-step P --group-size G --max-new-tokens M
//       --updates-per-batch U --lr LR --seed S --threads N --out OUT
//       [--lm-head-fp32] [--eval-only]
//       [under mpirun: --parallel dp=N | tp=A[,ep=M][,etp=K]]
//
//===----------------------------------------------------------------------===//
#include "runtime/Error.h"
#include "runtime/dist/MpiCollectives.h"
#include "training/Pretrain.h"
#include "training/Rl.h"
#include "training/Sft.h"

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
  pre->add_option("--parallel", o.parallel,
                  "layout over the mpirun ranks: dp=N (data parallel, the default puts every "
                  "rank in dp) or tp=A[,ep=M][,etp=K] (the model split over tp ranks), "
                  "cp=C (each sequence in C chunks: context parallel), or both; the world / "
                  "(tp x cp) groups of them data parallel");
  std::string optimizerSharding = "zero1";
  pre->add_option("--optimizer-sharding", optimizerSharding,
                  "data parallel: zero1 (each rank keeps its rows of the AdamW moments, the "
                  "default) or none (every rank keeps all)")
      ->check(CLI::IsMember({"zero1", "none"}));
  double collectiveTimeout = 60;
  auto addCollectiveTimeout = [&](CLI::App *cmd) {
    cmd->add_option("--collective-timeout", collectiveTimeout,
                    "seconds a rank waits in a collective before it exits naming it (default 60)");
  };
  addCollectiveTimeout(pre);

  mm::train::SftOptions sft;
  std::string sftBackend = "cpu";
  CLI::App *sftCmd = app.add_subcommand(
      "sft", "Supervised warm-up on a task's generated text (loss on the answer tokens only)");
  sftCmd->add_option("--task", sft.task, "the task, e.g. add:2 (2-digit addition)")->required();
  auto *sftModel = sftCmd->add_option("--model", sft.model, "a Hugging Face folder to start from")
                       ->check(CLI::ExistingDirectory);
  auto *sftConfig = sftCmd->add_option("--config", sft.config, "config.json of fresh weights")
                        ->check(CLI::ExistingFile);
  sftCmd->add_option("--tokenizer", sft.tokenizer, "tokenizer.json (with --config)")
      ->check(CLI::ExistingFile);
  sftModel->excludes(sftConfig);
  sftCmd->add_option("--steps", sft.steps, "optimizer steps")->required();
  sftCmd->add_option("--seed", sft.seed, "seed of the weights and the examples")->required();
  sftCmd->add_option("--threads", sft.threads, "CPU threads")->required();
  sftCmd->add_option("--out", sft.out, "run directory and the trained model")->required();
  sftCmd->add_option("--batch-size", sft.batchSize, "examples per step (default 64)");
  sftCmd->add_option("--lr", sft.lr, "peak learning rate (default 1e-3)");
  sftCmd->add_option("--warmup-steps", sft.warmupSteps, "linear warm-up (default: steps / 10)");
  sftCmd->add_option("--min-lr", sft.minLr, "end of the cosine (default: lr / 10)");
  sftCmd->add_option("--save-every", sft.saveEvery, "checkpoint every K steps (default steps / 5)");
  sftCmd->add_option("--log-every", sft.logEvery, "a progress line every N steps off a terminal");
  sftCmd->add_flag("--resume", sft.resume, "continue the run in --out");
  sftCmd->add_option("--backend", sftBackend, "where the step runs")
      ->check(CLI::IsMember({"cpu", "cuda", "reference"}));
  sftCmd->add_option("--parallel", sft.parallel,
                     "layout over the mpirun ranks, as for pretrain: dp=N, "
                     "tp=A[,ep=M][,etp=K] and/or cp=C (world / (tp x cp) data-parallel "
                     "groups; under cp the rows are padded to a multiple of C)");
  std::string sftOptimizerSharding = "zero1";
  sftCmd->add_option("--optimizer-sharding", sftOptimizerSharding,
                     "data parallel: zero1 (the default) or none")
      ->check(CLI::IsMember({"zero1", "none"}));
  addCollectiveTimeout(sftCmd);

  mm::train::RlOptions rl;
  CLI::App *rlCmd = app.add_subcommand(
      "rl", "Reinforcement learning on a verifiable task: CISPO, PPO-clip, DAPO or GRPO with "
            "rollouts from the compiled engine");
  rlCmd->add_option("--model", rl.model, "the policy to start from (a Hugging Face folder)")
      ->required()
      ->check(CLI::ExistingDirectory);
  rlCmd->add_option("--task", rl.task, "the task, e.g. add:2")->required();
  rlCmd->add_option("--objective", rl.objective, "cispo, ppo_clip, dapo or grpo");
  rlCmd->add_option("--steps", rl.steps, "generation batches (RL steps)");
  rlCmd->add_option("--prompts-per-step", rl.promptsPerStep, "prompts per generation batch");
  rlCmd->add_option("--group-size", rl.groupSize, "responses sampled per prompt (>= 2)");
  rlCmd->add_option("--max-new-tokens", rl.maxNewTokens, "response length limit")->required();
  rlCmd->add_option("--updates-per-batch", rl.updatesPerBatch,
                    "AdamW updates per generation batch, one per mini-batch of groups");
  rlCmd->add_option("--lr", rl.lr, "learning rate (constant)");
  rlCmd->add_option("--seed", rl.seed, "seed of the prompts and the sampling")->required();
  rlCmd->add_option("--threads", rl.threads, "CPU threads")->required();
  rlCmd->add_option("--out", rl.out, "run directory and the trained model");
  rlCmd->add_flag("--lm-head-fp32", rl.lmHeadFp32,
                  "keep the engine's LM head in float32 when its other weights are bf16");
  rlCmd->add_flag("--eval-only", rl.evalOnly,
                  "accuracy of --model on the evaluation set, printed as JSON");
  rlCmd->add_flag("--resume", rl.resume, "continue the run in --out");
  rlCmd->add_option("--temperature", rl.temperature, "sampling temperature (default 1)");
  rlCmd->add_option("--eps-low", rl.epsLow, "lower clip of the ratio (overrides the preset)");
  rlCmd->add_option("--eps-high", rl.epsHigh, "upper clip of the ratio (overrides the preset)");
  rlCmd->add_option("--ratio-cap", rl.ratioCap,
                    "cispo: the absolute cap min(r, cap) instead of the two-sided clamp");
  rlCmd->add_option("--dual-clip", rl.dualClip, "PPO dual clip for A < 0 (0: off)");
  rlCmd->add_option("--kl-coef", rl.klCoef, "KL penalty to the starting policy (default 0)");
  rlCmd->add_option("--overlong-buffer", rl.overlongBuffer,
                    "DAPO's soft overlong punishment span (default max-new-tokens / 4)");
  rlCmd->add_option("--repeat-window", rl.repeatWindow,
                    "stop a rollout after this many consecutive tokens above --repeat-prob "
                    "(default 3000; 0: off)");
  rlCmd->add_option("--repeat-prob", rl.repeatProbability, "see --repeat-window (default 0.99)");
  rlCmd->add_option("--engine-weights", rl.engineWeights, "bf16 (default) or f32")
      ->check(CLI::IsMember({"bf16", "f32"}));
  std::string rlBackend = "cpu";
  rlCmd->add_option("--backend", rlBackend, "where the policy update runs")
      ->check(CLI::IsMember({"cpu", "cuda", "reference"}));
  rlCmd->add_option("--emit-ir", rl.emitIR,
                    "write the RL training graph (@loss, @loss_grad, @loss_train_step) here");
  rlCmd->add_option("--eval-prompts", rl.evalPrompts, "evaluation set size (default 128)");
  rlCmd->add_option("--eval-samples", rl.evalSamples,
                    "sampled responses per evaluation prompt (default 4; accuracy is their "
                    "mean reward)");
  rlCmd->add_option("--eval-every", rl.evalEvery, "evaluate every N steps (default 1)");
  rlCmd->add_option("--save-every", rl.saveEvery, "checkpoint every K steps (default steps / 5)");
  rlCmd->add_option("--log-every", rl.logEvery, "a progress line every N steps off a terminal");
  rlCmd->add_option("--beta1", rl.optimizer.beta1, "AdamW beta1 (default 0.9)");
  rlCmd->add_option("--beta2", rl.optimizer.beta2, "AdamW beta2 (default 0.95)");
  rlCmd->add_option("--eps", rl.optimizer.epsilon, "AdamW epsilon (default 1e-15)");
  rlCmd->add_option("--weight-decay", rl.optimizer.weightDecay, "AdamW weight decay");
  rlCmd->add_option("--max-grad-norm", rl.optimizer.maxGradNorm, "global-norm clipping");
  rlCmd->add_option("--parallel", rl.parallel,
                    "the update's layout over the mpirun ranks, as for pretrain: dp=N or "
                    "tp=A[,ep=M][,etp=K]; rollouts and evaluation spread over every rank");
  std::string rlOptimizerSharding = "zero1";
  rlCmd->add_option("--optimizer-sharding", rlOptimizerSharding,
                    "data parallel: zero1 (the default) or none")
      ->check(CLI::IsMember({"zero1", "none"}));
  addCollectiveTimeout(rlCmd);

  CLI11_PARSE(app, argc, argv);
  auto backendOf = [](const std::string &name) {
    return name == "cuda"        ? mm::train::StepBackend::CUDA
           : name == "reference" ? mm::train::StepBackend::Reference
                                 : mm::train::StepBackend::CPU;
  };
  o.backend = backendOf(backend);
  o.zero1 = optimizerSharding == "zero1";
  sft.backend = backendOf(sftBackend);
  sft.zero1 = sftOptimizerSharding == "zero1";
  rl.backend = backendOf(rlBackend);
  rl.zero1 = rlOptimizerSharding == "zero1";
  try {
    // Under mpirun every rank runs this program (SPMD); without it, one rank.
    if (mm::dist::launchedByMpi())
      mm::dist::initializeMpi(&argc, &argv, collectiveTimeout);
#ifdef _OPENMP
    omp_set_num_threads(*pre ? o.threads : *sftCmd ? sft.threads : rl.threads);
#endif
    int code = 0;
    if (*sftCmd)
      code = mm::train::supervisedFineTune(sft, std::cerr);
    else if (*rlCmd) {
      if (!rl.evalOnly)
        for (auto [given, flag] :
             {std::pair{rl.objective.empty(), "--objective"}, {rl.steps == 0, "--steps"},
              {rl.promptsPerStep == 0, "--prompts-per-step"}, {rl.groupSize == 0, "--group-size"},
              {rl.lr == 0, "--lr"}, {rl.out.empty(), "--out"}})
          if (given)
            throw mm::makeError(flag, " is required (unless --eval-only)");
      code = mm::train::reinforce(rl, std::cerr, std::cout);
    } else {
      code = mm::train::pretrain(o, std::cerr);
    }
    mm::dist::finalizeMpi();
    return code;
  } catch (const std::exception &e) {
    mm::dist::Collectives &world = mm::dist::world();
    std::cerr << "mm-train: error: "
              << (world.size() > 1 ? "rank " + std::to_string(world.rank()) + ": " : "")
              << e.what() << "\n";
    mm::dist::abortRun(1); // a failing rank must not wait for the others
  }
}

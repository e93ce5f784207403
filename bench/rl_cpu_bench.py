#!/usr/bin/env python3
"""RL throughput on CPU: `mm-train rl` (rollouts from mmc's compiled inference
engine, CISPO updates through mmc's compiled training step) vs the same RL
loop written with transformers' MiniMaxForCausalLM and PyTorch eager.

    python3 bench/rl_cpu_bench.py [--model DIR] [--threads N] [--steps N]
        [--prompts-per-step P] [--group-size G] [--max-new-tokens M]
        [--updates-per-batch U] [--lr LR] [--seed S]

Both sides run the loop of training/Rl.cpp on the add:2 task: per step, P
prompts "a+b=" sampled G times each at temperature 1 (no top-k / top-p) up
to M new tokens or eos, with the log-probs of the sampled tokens; reward =
exact match of the answer (plus CISPO's overlong penalty); group advantages
(R - mean) / (std + 1e-6); groups of equal rewards dropped; then U AdamW
steps (betas 0.9 / 0.95, eps 1e-15, wd 0.01, clip 1.0) over mini-batches of
groups on the CISPO loss, sequences padded to T = longest prompt + M - 1.
Rollouts and updates are timed separately (rollout: generated tokens, eos
included, per second; update: rows x T per second) and averaged over the
steps after the first (warm-up). The PyTorch update runs on exactly as many
rows as mmc's did at the same step (its own kept groups, cut to or topped up
to mmc's count with zero-advantage groups), so both update equal batches.

The model is the tiny example config after `mm-train sft` (100 steps) unless
--model is given. The PyTorch model is patched to mmc's (official MiniMax)
semantics by scripts/oracle/minimax_oracle.py, partial rotary included, so
both sample from the same policy. The fraction of the hardware limit counts
2 x active parameters FLOPs per generated token and 6 x per trained token
against the float32 FMA peak of bench/train_cpu_bench.py (scaled to the
threads used). Needs a build and torch + transformers (`scripts/setup.sh
--python`); exits non-zero if either side fails.
"""
import argparse
import csv
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MM_TRAIN = os.path.join(ROOT, "build", "bin", "mm-train")
TINY = os.path.join(ROOT, "examples", "minimax-tiny")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts", "oracle"))
from train_cpu_bench import active_params, peak_gflops  # noqa: E402  (one FLOP/peak convention)

# CISPO's preset (training/RlObjective.cpp) and the loss's log-ratio clamp.
EPS_LOW, EPS_HIGH, LOG_RATIO_CLAMP = 10.0, 0.2, 20.0


class OtherLoad:
    """The share of the machine's CPU time that processes other than this one
    and its children used between start() and share(): the figures here are
    only good on an otherwise idle machine (with 2 threads on 2 cores, one
    busy core slows both sides several-fold)."""

    def start(self):
        self.at = self._sample()
        return self

    def share(self):
        (busy0, total0, own0), (busy1, total1, own1) = self.at, self._sample()
        hz = os.sysconf("SC_CLK_TCK")
        return max(0.0, (busy1 - busy0 - (own1 - own0) * hz) / max(1, total1 - total0))

    @staticmethod
    def _sample():
        import resource
        fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        own = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                  for f in ("ru_utime", "ru_stime"))
        return sum(fields[:8]) - idle, sum(fields[:8]), own


def sft_model(tmp, threads):
    """The tiny example model after a short supervised warm-up (mm-train sft)."""
    out = os.path.join(tmp, "sft")
    cmd = [MM_TRAIN, "sft", "--task", "add:2", "--config", os.path.join(TINY, "config.json"),
           "--tokenizer", os.path.join(TINY, "tokenizer.json"), "--steps", "100", "--seed", "1",
           "--threads", str(threads), "--lr", "3e-3", "--out", out]
    run(cmd, "mm-train sft")
    return out


def run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{what} failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-4000:]}")
    return r


def mean_after_warmup(values):
    """Mean over the steps after the first, skipping steps without a value
    (no update when every group's rewards were equal)."""
    kept = [v for v in values[1:] if not math.isnan(v)]
    return statistics.mean(kept) if kept else float("nan")


def mmc_rl(a, model, out):
    cmd = [MM_TRAIN, "rl", "--model", model, "--task", "add:2", "--objective", "cispo",
           "--steps", str(a.steps), "--prompts-per-step", str(a.prompts_per_step),
           "--group-size", str(a.group_size), "--max-new-tokens", str(a.max_new_tokens),
           "--updates-per-batch", str(a.updates_per_batch), "--lr", str(a.lr), "--seed", str(a.seed),
           "--threads", str(a.threads), "--out", out, "--engine-weights", "f32", "--eval-every", "1000"]
    start = time.perf_counter()
    run(cmd, "mm-train rl")
    wall = time.perf_counter() - start
    with open(os.path.join(out, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    col = lambda name: [float(r[name] or "nan") for r in rows]  # noqa: E731  (empty: no value)
    return {"rollout": mean_after_warmup(col("rollout_tokens_per_s")),
            "update": mean_after_warmup(col("update_tokens_per_s")),
            "kept": [int(v) for v in col("kept_groups")], "reward": statistics.mean(col("reward_mean")),
            "response_len": statistics.mean(col("response_len")), "wall": wall}, cmd


class TorchRl:
    """The loop of training/Rl.cpp with transformers + PyTorch eager."""

    def __init__(self, model_dir, threads, lr, seed):
        import torch
        import transformers
        import minimax_oracle
        from tokenizers import Tokenizer
        torch.set_num_threads(threads)
        transformers.logging.set_verbosity_error()  # the load report lists the decay buffers recomputed below
        # transformers' port ignores partial_rotary_factor and differs in the decay slopes; the
        # oracle's patch gives it mmc's semantics, so both sides sample from the same policy.
        minimax_oracle.spec_semantics()
        model = transformers.MiniMaxForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        self.model = minimax_oracle.to_dtype(model, torch.float32)
        self.cfg = json.load(open(os.path.join(model_dir, "config.json")))
        eos = self.cfg["eos_token_id"]
        self.eos = eos[0] if isinstance(eos, list) else eos
        self.tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=lr, betas=(0.9, 0.95), eps=1e-15,
                                     weight_decay=0.01)
        self.torch = torch
        self.max_ratio_error = 0.0  # first update's |logp - old logp|: rollouts and update agree
        torch.manual_seed(seed)
        self.versions = f"torch {torch.__version__}, transformers {transformers.__version__}"

    def encode(self, text):
        return self.tok.encode(text, add_special_tokens=False).ids

    def generate(self, prompts, max_new):
        """Batched sampling with the KV cache from left-padded prompts. A plain
        loop rather than model.generate: transformers 5.24's MiniMax builds
        the full-attention decode mask with a zero past length when the batch
        is padded (its cache's layer 0 is a lightning layer), so padded rows
        decode wrongly; here the masks are passed explicitly. Finished rows
        keep stepping (as mmc's engine does); returns tokens and log-probs up
        to and including eos."""
        torch = self.torch
        B, L = len(prompts), max(len(p) for p in prompts)
        ids = torch.tensor([[self.eos] * (L - len(p)) + p for p in prompts])
        real = torch.tensor([[0] * (L - len(p)) + [1] * len(p) for p in prompts])
        pos = (real.cumsum(1) - 1).clamp(min=0)
        neg = torch.finfo(torch.float32).min
        q, k = torch.arange(L)[:, None], torch.arange(L)[None, :]
        # Causal over real keys; a pad query sees itself so no row is fully masked (no NaN).
        allowed = (k <= q) & (real[:, None, :].bool() | (k == q))
        full = torch.zeros(B, 1, L, L).masked_fill(~allowed[:, None], neg)
        masks = {"full_attention": full, "linear_attention": real.float()}
        out_tokens, out_logp = [[] for _ in range(B)], [[] for _ in range(B)]
        done = torch.zeros(B, dtype=torch.bool)
        with torch.no_grad():
            out = self.model(input_ids=ids, attention_mask=masks, position_ids=pos, use_cache=True)
            for step in range(max_new):
                logp = torch.log_softmax(out.logits[:, -1].float(), -1)
                nxt = torch.multinomial(logp.exp(), 1)
                chosen = logp.gather(1, nxt)[:, 0]
                for b in range(B):
                    if not done[b]:
                        out_tokens[b].append(int(nxt[b]))
                        out_logp[b].append(float(chosen[b]))
                done |= nxt[:, 0] == self.eos
                if bool(done.all()) or step + 1 == max_new:
                    break
                real = torch.cat([real, torch.ones(B, 1, dtype=real.dtype)], 1)
                pos = pos[:, -1:] + 1
                masks = {"full_attention": torch.zeros(B, 1, 1, real.shape[1]).masked_fill(
                    real[:, None, None, :] == 0, neg), "linear_attention": None}
                out = self.model(input_ids=nxt, attention_mask=masks, position_ids=pos,
                                 cache=out.cache, use_cache=True)
        return out_tokens, out_logp

    def update(self, rows, T):
        """One AdamW step on the CISPO loss of `rows` (prompt, response, logprobs, advantage)."""
        torch = self.torch
        B = len(rows)
        ids = torch.full((B, T), self.eos, dtype=torch.long)
        labels = torch.zeros(B, T, dtype=torch.long)
        old = torch.zeros(B, T)
        mask = torch.zeros(B, T)
        adv = torch.tensor([r[3] for r in rows], dtype=torch.float32)
        for b, (prompt, response, logprobs, _) in enumerate(rows):
            seq = (prompt + response)[:T + 1]
            ids[b, :min(len(seq), T)] = torch.tensor(seq[:T])
            for t in range(len(prompt) - 1, len(seq) - 1):  # position t predicts token t + 1
                labels[b, t] = seq[t + 1]
                old[b, t] = logprobs[t + 1 - len(prompt)]
                mask[b, t] = 1
        logits = self.model(input_ids=ids, use_cache=False).logits
        logp = torch.log_softmax(logits.float(), -1).gather(2, labels[..., None])[..., 0]
        ratio = torch.exp(torch.clamp(logp - old, -LOG_RATIO_CLAMP, LOG_RATIO_CLAMP))
        weight = torch.clamp(ratio, 1 - EPS_LOW, 1 + EPS_HIGH).detach()
        loss = -(mask * weight * adv[:, None] * logp).sum() / mask.sum()
        self.opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        return float(((logp.detach() - old).abs() * mask).max())

    def loop(self, a, kept_by_mmc):
        rng = random.Random(a.seed)
        M, G, P = a.max_new_tokens, a.group_size, a.prompts_per_step
        T = len(self.encode("99+99=")) + M - 1  # AdditionTask::maxPromptTokens + M - 1
        buffer = max(1, M // 4)  # CISPO's overlong buffer (Rl.cpp's default)
        rollout_rates, update_rates, rewards, lengths = [], [], [], []
        for step in range(a.steps):
            examples = [(rng.randrange(100), rng.randrange(100)) for _ in range(P)]
            prompts = [self.encode(f"{x}+{y}=") for x, y in examples for _ in range(G)]
            start = time.perf_counter()
            tokens, logprobs = self.generate(prompts, M)
            rollout_rates.append(sum(map(len, tokens)) / (time.perf_counter() - start))

            reward = []
            for i, resp in enumerate(tokens):
                x, y = examples[i // G]
                body = resp[:resp.index(self.eos)] if self.eos in resp else resp
                r = float(self.tok.decode(body) == str(x + y))
                reward.append(r + (max(-1.0, (M - buffer - len(resp)) / buffer) if len(resp) > M - buffer else 0))
                lengths.append(len(resp))
            rewards += reward
            varied, flat = [], []
            for p in range(P):
                g = reward[p * G:(p + 1) * G]
                mean = sum(g) / G
                std = math.sqrt(sum((r - mean) ** 2 for r in g) / (G - 1))
                group = [(prompts[p * G + j], tokens[p * G + j], logprobs[p * G + j], (g[j] - mean) / (std + 1e-6))
                         for j in range(G)]
                (varied if len(set(g)) > 1 else flat).append(group)
            groups = (varied + flat)[:kept_by_mmc[step]]  # mmc's row count at this step
            updates = min(a.updates_per_batch, len(groups))
            start = time.perf_counter()
            for u in range(updates):
                rows = [r for g in groups[len(groups) * u // updates:len(groups) * (u + 1) // updates] for r in g]
                err = self.update(rows, T)
                if step == 0 and u == 0:
                    self.max_ratio_error = err
            seconds = time.perf_counter() - start
            update_rates.append(len(groups) * G * T / seconds if updates else float("nan"))
        return {"rollout": mean_after_warmup(rollout_rates), "update": mean_after_warmup(update_rates),
                "reward": statistics.mean(rewards), "response_len": statistics.mean(lengths)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", help="a Hugging Face folder (default: the tiny example after mm-train sft)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--prompts-per-step", type=int, default=16)
    p.add_argument("--group-size", type=int, default=8)
    p.add_argument("--max-new-tokens", type=int, default=6)
    p.add_argument("--updates-per-batch", type=int, default=2)
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if not os.access(MM_TRAIN, os.X_OK):
        sys.exit(f"{MM_TRAIN} is missing: build the project first")
    started = time.perf_counter()
    peak, machine = peak_gflops()
    peak *= min(a.threads, os.cpu_count()) / os.cpu_count()

    with tempfile.TemporaryDirectory() as tmp:
        model = a.model or sft_model(tmp, a.threads)
        load = OtherLoad().start()
        ours, cmd = mmc_rl(a, model, os.path.join(tmp, "rl"))
        ours["others"] = load.share()
        try:
            peer = TorchRl(model, a.threads, a.lr, a.seed)
            load = OtherLoad().start()
            theirs = peer.loop(a, ours["kept"])
            theirs["others"] = load.share()
        except ImportError as e:
            sys.exit(f"the PyTorch side needs torch and transformers (scripts/setup.sh --python): {e}")
        params = active_params(json.load(open(os.path.join(model, "config.json"))))

    print(f"# {machine}; threads {a.threads}; float32 FMA peak for {a.threads} threads {peak:.0f} GFLOP/s")
    print(f"# {peer.versions}; model {'the tiny example after mm-train sft' if not a.model else a.model}, "
          f"{params} active parameters")
    print(f"# P {a.prompts_per_step} x G {a.group_size}, M {a.max_new_tokens}, U {a.updates_per_batch}, "
          f"{a.steps} steps (first is warm-up); mmc kept groups per step {ours['kept']}")
    print(f"# mean reward / response length: mmc {ours['reward']:.3f} / {ours['response_len']:.2f}, "
          f"PyTorch {theirs['reward']:.3f} / {theirs['response_len']:.2f}; PyTorch's first update vs "
          f"its rollout log-probs: max |diff| {peer.max_ratio_error:.1e}")
    print(f"# mm-train rl command: {' '.join(cmd)}")
    print("| phase | engine | tokens/s | mmc / PyTorch | GFLOP/s | of FMA peak |")
    print("|---|---|---:|---:|---:|---:|")
    failed = False
    torch_name = "PyTorch eager, transformers `MiniMaxForCausalLM` (f32)"
    for phase, key, flops, mmc_name in (
            ("rollouts (2 x params / generated token)", "rollout", 2 * params,
             "mm-train rl, compiled inference engine (f32 weights)"),
            ("update (6 x params / trained token)", "update", 6 * params,
             "mm-train rl, compiled training step (f32)")):
        for engine, result in ((torch_name, theirs), (mmc_name, ours)):
            rate = result[key]
            failed |= math.isnan(rate)
            ratio = "1" if result is theirs else f"**{rate / theirs[key]:.2f}x**"
            gf = rate * flops / 1e9
            print(f"| {phase} | {engine} | {rate:.0f} | {ratio} | {gf:.2f} | {gf / peak:.4f} |")
    print(f"# mm-train rl wall time {ours['wall']:.1f} s (start-up and compiling included); bench wall time "
          f"{time.perf_counter() - started:.0f} s")
    busy = max(ours["others"], theirs["others"])
    print(f"# other processes used {100 * ours['others']:.1f}% (during mm-train rl) and "
          f"{100 * theirs['others']:.1f}% (during the PyTorch loop) of the machine's CPU time")
    if busy > 0.05:
        print(f"warning: other processes used up to {100 * busy:.0f}% of the CPUs during the runs; "
              "rerun on an idle machine before quoting these figures", file=sys.stderr)
    if failed:
        sys.exit("no measured step made an update (every group's rewards were equal); "
                 "try more --steps or --prompts-per-step")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""GPU timings of mmc against PyTorch eager (and flash-linear-attention), in
one script run on one GPU. Called by scripts/gpu-check.sh.

    gpu_bench.py kernels --mm-table KERNELS.txt
        Lightning-attention prefill (64 heads, d 128, block 256, n = 4K..64K)
        and decode, and attention decode, in PyTorch eager (the block-wise
        algorithm transformers' MiniMax uses, batched over heads) and in
        flash-linear-attention's chunk_simple_gla (MiniMax's per-head decay
        as g_gamma = -slope, scale 1: no 1/sqrt(d)) where it imports; mmc's
        times are read from `mm-cuda-gpu-tests --timing` output (same shapes,
        same GPU, same script run).

    gpu_bench.py model --binary BIN --config CONFIG.json
        A ~1B-parameter hybrid MiniMax (random weights, float32): prefill and
        decode tokens/s of the mmc AOT binary BIN (compiled from CONFIG by
        mm-compile --target cuda) against transformers' MiniMaxForCausalLM in
        eager PyTorch, at batch 1 and 8; greedy ids and first-step logits of the
        two compared; the MoE layer's time per step (mmc: MM_CUDA_PROFILE's
        router + dispatch + grouped GEMMs + combine; PyTorch: the model's
        sparse MoE block, gate included).
        With --stored DTYPE=BIN (binaries compiled with --weight-dtype bf16 /
        int8): batch-1 and batch-8 decode of each weight storage, and of f32
        the way it ran before (cuBLAS GEMMs, one launch per kernel), as a
        fraction of the HBM roofline (active weight and state bytes per step
        over the GPU's memory bandwidth), with transformers in bf16 as the
        peer; and each storage's logits and greedy ids against f32.

All PyTorch timings: CUDA events around the call, after one warm-up, float32
with TF32 off (torch's default for matmul), the mean of several repetitions.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

import inspect

import torch

# Without a GPU (MM_BENCH_TOY=1 on a CPU machine) the same code runs at toy
# sizes on the CPU, so the script itself is tested before a GPU run.
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
TOY = os.environ.get("MM_BENCH_TOY") == "1"


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def device_name():
    return torch.cuda.get_device_name() if DEVICE == "cuda" else "CPU (toy run)"


def cuda_ms(fn, reps):
    if DEVICE != "cuda":
        fn()
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        return (time.perf_counter() - t) * 1e3 / reps
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / reps


def slopes(heads, layer=0, layers=80):
    """MiniMax's per-head decay exponents (runtime/LightningDecay.h)."""
    def pow2(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]
    if math.log2(heads).is_integer():
        base = pow2(heads)
    else:
        closest = 2 ** math.floor(math.log2(heads))
        base = pow2(closest) + pow2(2 * closest)[0::2][: heads - closest]
    factor = 1 - layer / (layers - 1) + 1e-5
    return torch.tensor([s * factor for s in base], dtype=torch.float32)


def lightning_prefill_torch(q, k, v, s, block):
    """Block-wise lightning attention as transformers' MiniMax computes it:
    per block, the masked decayed intra product and the inter product with the
    carried state, then the state update. q, k, v [B, H, n, d]; s [H]."""
    b, h, n, d = q.shape
    out = torch.empty_like(q)
    kv = torch.zeros(b, h, d, d, device=q.device, dtype=q.dtype)
    i = torch.arange(block, device=q.device, dtype=q.dtype)
    sh = s.view(h, 1, 1)
    diff = i[:, None] - i[None, :]
    diag = torch.where(diff >= 0, torch.exp(-sh * diff), torch.zeros((), device=q.device))
    qdecay = torch.exp(-sh * (i + 1).view(1, block, 1))
    kdecay = torch.exp(-sh * (block - 1 - i).view(1, block, 1))
    bdecay = torch.exp(-sh * block)
    for start in range(0, n, block):
        m = min(block, n - start)
        qb, kb, vb = q[:, :, start:start + m], k[:, :, start:start + m], v[:, :, start:start + m]
        if m != block:
            i2 = torch.arange(m, device=q.device, dtype=q.dtype)
            kd = torch.exp(-sh * (m - 1 - i2).view(1, m, 1))
            bd = torch.exp(-sh * m)
        else:
            kd, bd = kdecay, bdecay
        intra = ((qb @ kb.transpose(-1, -2)) * diag[:, :m, :m]) @ vb
        inter = (qb * qdecay[:, :m]) @ kv
        out[:, :, start:start + m] = intra + inter
        kv = bd * kv + (kb * kd).transpose(-1, -2) @ vb
    return out, kv


def parse_table(lines, title, columns):
    """Rows of numbers following the line starting with `title`."""
    rows, inside = [], False
    for line in lines:
        if line.startswith(title):
            inside = True
            continue
        if inside:
            parts = line.split()
            if not parts:
                if rows:
                    break
                continue
            try:
                rows.append([float(p) for p in parts[:columns]])
            except ValueError:
                if rows:
                    break
    return rows


def kernels(args):
    dev = device_name()
    lines = open(args.mm_table).read().splitlines()
    mm_prefill = {int(r[0]): r[4] for r in parse_table(lines, "lightning prefill", 7)}
    mm_decode = {int(r[0]): r[1] for r in parse_table(lines, "lightning decode", 3)}
    mm_attn = {(int(r[0]), int(r[1])): r[3] for r in parse_table(lines, "attention decode", 5)}
    try:
        from fla.ops.simple_gla import chunk_simple_gla
        import fla
        fla_name = f"fla {getattr(fla, '__version__', '?')}"
    except Exception as e:  # noqa: BLE001 - report why and go on
        chunk_simple_gla, fla_name = None, None
        print(f"(flash-linear-attention not importable: {type(e).__name__}: {e})")
    H, D, BS = (4, 32, 64) if TOY else (64, 128, 256)
    s = slopes(H).to(DEVICE)
    print(f"\n== lightning prefill on {dev}: H {H}, d {D}, block {BS}, batch 1, float32 (ms)")
    print(f"{'n':>7} {'mmc':>9} {'torch eager':>12} {'eager/mmc':>10}"
          + (f" {fla_name:>12} {'fla/mmc':>8}" if chunk_simple_gla else ""))
    for n in (300,) if TOY else (4096, 16384, 65536):
        g = torch.Generator(device=DEVICE).manual_seed(n)
        q, k, v = (torch.randn(1, H, n, D, device=DEVICE, generator=g) * 0.1 for _ in range(3))
        reps = 3 if n >= 65536 else 10
        t_eager = cuda_ms(lambda: lightning_prefill_torch(q, k, v, s, BS), reps)
        line = f"{n:>7} {mm_prefill.get(n, float('nan')):>9.3f} {t_eager:>12.3f} " \
               f"{t_eager / mm_prefill.get(n, float('nan')):>10.1f}"
        if chunk_simple_gla:
            qt, kt, vt = (x.transpose(1, 2).contiguous() for x in (q, k, v))
            gamma = -s
            try:
                run = lambda: chunk_simple_gla(qt, kt, vt, g_gamma=gamma, scale=1.0,
                                               output_final_state=True)
                o_fla, _ = run()
                o_ref, _ = lightning_prefill_torch(q, k, v, s, BS)
                err = (o_fla.transpose(1, 2) - o_ref).abs().max().item() / o_ref.abs().max().item()
                t_fla = cuda_ms(run, reps)
                line += f" {t_fla:>12.3f} {t_fla / mm_prefill.get(n, float('nan')):>8.2f}" \
                        f"   (fla vs eager: rel. err {err:.1e})"
            except Exception as e:  # noqa: BLE001
                line += f"   fla failed: {type(e).__name__}: {str(e)[:120]}"
        print(line)
        del q, k, v
    print(f"\n== lightning decode on {dev}: H {H}, d {D}, state in place (us per token step)")
    print(f"{'batch':>7} {'mmc':>9} {'torch eager':>12} {'eager/mmc':>10}")
    lam = torch.exp(-s).view(1, H, 1, 1)
    for b in (1,) if TOY else (1, 8, 64):
        state = torch.randn(b, H, D, D, device=DEVICE) * 0.01
        q, k, v = (torch.randn(b, H, 1, D, device=DEVICE) for _ in range(3))

        def step():
            state.mul_(lam).add_(k.transpose(-1, -2) @ v)
            return q @ state
        t = cuda_ms(step, 50) * 1e3
        print(f"{b:>7} {mm_decode.get(b, float('nan')):>9.1f} {t:>12.1f} {t / mm_decode.get(b, float('nan')):>10.1f}")
    print(f"\n== attention decode on {dev}: HQ 64, HKV 8, d 128, KV-cache write + attention (us)")
    print(f"{'batch':>7} {'context':>8} {'mmc':>9} {'torch sdpa':>12} {'sdpa/mmc':>10}")
    for (b, ctx) in ((1, 200),) if TOY else ((1, 4096), (1, 65536), (8, 4096), (8, 32768)):
        kc = torch.randn(b, 8, ctx, D, device=DEVICE)
        vc = torch.randn(b, 8, ctx, D, device=DEVICE)
        q = torch.randn(b, 64, 1, D, device=DEVICE)
        knew = torch.randn(b, 8, 1, D, device=DEVICE)

        def step():
            kc[:, :, ctx - 1:ctx] = knew
            vc[:, :, ctx - 1:ctx] = knew
            return torch.nn.functional.scaled_dot_product_attention(q, kc, vc, enable_gqa=True)
        t = cuda_ms(step, 20) * 1e3
        mm = mm_attn.get((b, ctx), float("nan"))
        print(f"{b:>7} {ctx:>8} {mm:>9.1f} {t:>12.1f} {t / mm:>10.1f}")
        del kc, vc


def make_hf_model(config_path, folder):
    from safetensors.torch import save_file
    from transformers import MiniMaxConfig, MiniMaxForCausalLM
    cfg = json.load(open(config_path))
    config = MiniMaxConfig(**{k: v for k, v in cfg.items() if k not in ("architectures",)})
    torch.manual_seed(0)
    with torch.device(DEVICE):
        model = MiniMaxForCausalLM(config)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    state = {n: t.detach().cpu().contiguous() for n, t in model.state_dict().items()
             if "rotary_emb" not in n and not n.endswith(
                 ("slope_rate", "query_decay", "key_decay", "diagonal_decay"))}
    save_file(state, os.path.join(folder, "model.safetensors"))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    return model.eval(), config


def hf_generate(model, ids, new):
    """Prefill seconds, decode seconds for new - 1 steps, greedy ids of row 0."""
    # transformers renamed past_key_values to cache (5.2x); take either.
    key = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    def cache_of(out):
        return out.cache if getattr(out, "cache", None) is not None else out.past_key_values
    with torch.no_grad():
        sync()
        t0 = time.perf_counter()
        out = model(ids, use_cache=True)
        cache = cache_of(out)
        token = out.logits[:, -1].argmax(-1, keepdim=True)
        sync()
        t1 = time.perf_counter()
        first = out.logits[0, -1].float().cpu()
        tokens = [token]
        for _ in range(new - 1):
            out = model(token, use_cache=True, **{key: cache})
            cache = cache_of(out)
            token = out.logits[:, -1].argmax(-1, keepdim=True)
            tokens.append(token)
        sync()
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1, torch.cat(tokens, 1)[0].tolist(), first


def mm_generate(binary, folder, prompts, new, profile=False, env_extra=None):
    cmd = [binary, "--model", folder, "--max-new-tokens", str(new), "--greedy", "--ignore-eos",
           "--json", "--dump-logits", os.path.join(folder, "mm-logits.npy")]
    for p in prompts:
        cmd += ["--ids", ",".join(map(str, p))]
    env = dict(os.environ)
    if profile:
        env["MM_CUDA_PROFILE"] = "1"
    env.update(env_extra or {})
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed:\n{r.stderr[-3000:]}")
    report = json.loads(r.stdout.strip().splitlines()[-1])
    return report, r.stderr


def model(args):
    import numpy as np
    dev = device_name()
    cfg = json.load(open(args.config))
    layers = cfg["num_hidden_layers"]
    with tempfile.TemporaryDirectory(dir=args.workdir) as folder:
        t0 = time.time()
        hf, config = make_hf_model(args.config, folder)
        params = sum(p.numel() for p in hf.parameters())
        print(f"\n== ~1B hybrid MiniMax on {dev}: {params / 1e9:.2f} B parameters, {layers} layers "
              f"({cfg['layer_types'].count('full_attention')} softmax), {cfg['num_local_experts']} "
              f"experts top-{cfg['num_experts_per_tok']}, hidden {cfg['hidden_size']}, float32 "
              f"(model written in {time.time() - t0:.0f} s)")
        vocab = cfg["vocab_size"]
        g = torch.Generator().manual_seed(7)
        print(f"{'batch':>5} {'prompt':>6} {'new':>4} | {'prefill tok/s':>26} | {'decode tok/s':>26}")
        print(f"{'':>5} {'':>6} {'':>4} | {'mmc':>8} {'torch':>8} {'ratio':>8} | {'mmc':>8} {'torch':>8} {'ratio':>8}")
        agreement, profiles = None, {}
        for batch in (1, 8):
            prompts = torch.randint(0, vocab, (batch, args.prompt), generator=g)
            ids = prompts.to(DEVICE)
            hf_generate(hf, ids[:, :16], 3)  # warm-up
            pre, dec, hf_ids, hf_first = hf_generate(hf, ids, args.new)
            hf_pre, hf_dec = batch * args.prompt / pre, batch * (args.new - 1) / dec
            mm_generate(args.binary, folder, prompts[:, :16].tolist(), 3)  # warm-up
            rep, _ = mm_generate(args.binary, folder, prompts.tolist(), args.new)
            _, profile = mm_generate(args.binary, folder, prompts.tolist(), args.new, profile=True)
            profiles[batch] = profile
            mm_pre, mm_dec = rep["prefill_tokens_per_second"], rep["decode_tokens_per_second"]
            print(f"{batch:>5} {args.prompt:>6} {args.new:>4} | {mm_pre:>8.0f} {hf_pre:>8.0f} "
                  f"{mm_pre / hf_pre:>8.2f} | {mm_dec:>8.1f} {hf_dec:>8.1f} {mm_dec / hf_dec:>8.2f}")
            if batch == 1:
                mm_ids = rep["ids"]
                same = next((i for i, (a, b) in enumerate(zip(mm_ids, hf_ids)) if a != b), len(hf_ids))
                first = np.load(os.path.join(folder, "mm-logits.npy"))[0]
                ref = hf_first.numpy()
                err = np.abs(first - ref).max() / np.abs(ref).max()
                agreement = (same, len(hf_ids), err)
        same, total, err = agreement
        print(f"mmc vs transformers, batch 1: first-step logits max relative error {err:.1e}; "
              f"greedy ids agree for {same} of {total} tokens")
        for batch, profile in profiles.items():
            print(f"\nmmc GPU time per kernel kind, batch {batch} (MM_CUDA_PROFILE=1):")
            print("\n".join(l for l in profile.splitlines() if l.startswith("mm:")))

        # The MoE layer: transformers' sparse MoE block vs mmc's MoE kernels.
        layer0 = hf.model.layers[0]
        moe = getattr(layer0, "block_sparse_moe", None) or getattr(layer0, "mlp")
        print(f"\n== MoE layer (hidden {cfg['hidden_size']}, {cfg['num_local_experts']} experts, "
              f"top-{cfg['num_experts_per_tok']}, intermediate {cfg['intermediate_size']}), ms per layer")
        print(f"{'tokens':>7} {'mmc':>9} {'torch eager':>12} {'eager/mmc':>10}")
        for batch, tokens_per_seq in ((1, 1), (8, 1), (1, args.prompt), (8, args.prompt)):
            prompts = torch.randint(0, vocab, (batch, tokens_per_seq), generator=g)
            _, profile = mm_generate(args.binary, folder, prompts.tolist(), 2, profile=True)
            phase = "decode" if tokens_per_seq == 1 else "prefill"
            if tokens_per_seq == 1:  # a decode step after a 1-token prefill
                phase = "decode"
            ms = 0.0
            for line in profile.splitlines():
                m = re.match(r"mm: (prefill|decode) (moe_\w+|grouped_gemm\w*)\s+\d+\s+[\d.]+\s+([\d.]+)", line)
                if m and m.group(1) == phase:
                    ms += float(m.group(3))
            ms /= layers
            x = torch.randn(batch, tokens_per_seq, cfg["hidden_size"], device=DEVICE)
            with torch.no_grad():
                t = cuda_ms(lambda: moe(x), 10)
            print(f"{batch * tokens_per_seq:>7} {ms:>9.3f} {t:>12.3f} {t / ms if ms else float('nan'):>10.1f}")
        print("(mmc: MM_CUDA_PROFILE's moe_router + moe_dispatch + grouped_gemm_swiglu + grouped_gemm + "
              "moe_combine per layer; the router's gate GEMM is a plain gemm there and not counted)")
        if args.stored:
            stored_weights(args, folder, hf, cfg, g)


# HBM bandwidth by GPU name (spec sheets), for the decode roofline.
HBM_TB_S = {"H200": 4.8, "H100": 3.35}


def decode_bytes(hf, cfg, dtype, batch):
    """Bytes one decode step must move at least: every weight matrix it reads
    once (experts: the top-k of E per token, at most all of them), in its
    storage; norms and the gate in f32 where they stay f32; one embedding row
    per token; the lightning states read and written."""
    per = {"f32": 4.0, "bf16": 2.0, "int8": 1.0}[dtype]
    E, topk = cfg["num_local_experts"], cfg["num_experts_per_tok"]
    active = min(1.0, batch * topk / E)
    total = 0.0
    for name, p in hf.named_parameters():
        n = p.numel()
        if p.dim() < 2:
            total += 4 * n
        elif "embed_tokens" in name:
            total += 4 * batch * cfg["hidden_size"]
        elif "experts" in name:
            total += per * n * active + (4 * n / p.shape[-1] * active if dtype == "int8" else 0)
        elif name.endswith("gate.weight") and p.shape[0] == E:  # the MoE gate
            total += (4.0 if dtype == "int8" else per) * n
        else:
            total += per * n + (4 * n / p.shape[-1] if dtype == "int8" else 0)
    linear = cfg["layer_types"].count("linear_attention")
    d = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    total += 2 * 4 * batch * linear * cfg["num_attention_heads"] * d * d
    return total


def stored_weights(args, folder, hf, cfg, g):
    import numpy as np
    dev = device_name()
    bw = next((v for k, v in HBM_TB_S.items() if k in dev), None)
    runs = [("f32, cuBLAS, no graph", args.binary, {"MM_CUDA_DENSE_GEMV": "0", "MM_CUDA_GRAPHS": "0"}, "f32"),
            ("f32, GEMV, no graph", args.binary, {"MM_CUDA_GRAPHS": "0"}, "f32"),
            ("f32", args.binary, {}, "f32")]
    for item in args.stored:
        dtype, binary = item.split("=", 1)
        runs.append((dtype, binary, {}, dtype))
    vocab = cfg["vocab_size"]
    prompts = {b: torch.randint(0, vocab, (b, args.prompt), generator=g) for b in (1, 8)}
    print(f"\n== weight storage on {dev}: decode of the ~1B model (prompt {args.prompt}, {args.new} new "
          f"tokens); roofline = bytes per step / {bw} TB/s HBM")
    print(f"{'weights':>24} {'batch':>5} {'tok/s':>9} {'ms/step':>8} {'roofline ms':>11} {'fraction':>8} "
          f"{'max rel err':>11} {'greedy':>7}")
    base = {}
    for label, binary, env, dtype in runs:
        for batch in (1, 8):
            p = prompts[batch].tolist()
            rep, _ = mm_generate(binary, folder, p, args.new, env_extra=env)
            logits = np.load(os.path.join(folder, "mm-logits.npy"))
            ms = batch * 1e3 / rep["decode_tokens_per_second"]
            roof = decode_bytes(hf, cfg, dtype, batch) / (bw * 1e12) * 1e3 if bw else float("nan")
            if label == "f32" and batch not in base:
                base[batch] = (rep["ids"], logits)
            ref_ids, ref_logits = base.get(batch, (None, None))
            err, agree = "", ""
            if ref_ids is not None and label != "f32":
                first = np.abs(logits[0] - ref_logits[0]).max() / np.abs(ref_logits[0]).max()
                same = next((i for i, (a, b) in enumerate(zip(rep["ids"], ref_ids)) if a != b), len(ref_ids))
                err, agree = f"{first:.1e}", f"{same}/{len(ref_ids)}"
            print(f"{label:>24} {batch:>5} {rep['decode_tokens_per_second']:>9.1f} {ms:>8.3f} {roof:>11.3f} "
                  f"{roof / ms:>8.2f} {err:>11} {agree:>7}")
            sys.stdout.flush()
    print("(max rel err: the first step's logits against the f32 binary's, relative to its largest "
          "|logit|; greedy: ids equal to f32's before the first difference, of the batch's first row; "
          "the f32 variants differ from f32 only in summation order)")
    # The peer: transformers eager with bf16 weights and activations.
    hf = hf.to(torch.bfloat16)
    for batch in (1, 8):
        ids = prompts[batch].to(DEVICE)
        hf_generate(hf, ids[:, :16], 3)
        _, dec, _, _ = hf_generate(hf, ids, args.new)
        tps = batch * (args.new - 1) / dec
        roof = decode_bytes(hf, cfg, "bf16", batch) / (bw * 1e12) * 1e3 if bw else float("nan")
        print(f"{'transformers bf16':>24} {batch:>5} {tps:>9.1f} {batch * 1e3 / tps:>8.3f} {roof:>11.3f} "
              f"{roof / (batch * 1e3 / tps):>8.2f}")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    k = sub.add_parser("kernels")
    k.add_argument("--mm-table", required=True)
    m = sub.add_parser("model")
    m.add_argument("--binary", required=True)
    m.add_argument("--config", required=True)
    m.add_argument("--prompt", type=int, default=128)
    m.add_argument("--new", type=int, default=64)
    m.add_argument("--workdir", default=None)
    m.add_argument("--stored", action="append", default=[],
                   help="DTYPE=BIN: a binary compiled with --weight-dtype DTYPE (bf16, int8)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {device_name()}; "
          f"TF32 matmul {'on' if torch.backends.cuda.matmul.allow_tf32 else 'off'}")
    sys.stdout.flush()
    {"kernels": kernels, "model": model}[args.command](args)


if __name__ == "__main__":
    main()

"""Hugging Face transformers' MiniMaxForCausalLM as a float64 oracle for mmc.

transformers' `minimax` port departs from the official MiniMax-Text-01 code
(../shared/spec/minimax-text-01.md) in three places; `spec_semantics()` patches
exactly those, so the oracle computes the spec's model and nothing else changes:

1. Partial rotary. The port ignores `partial_rotary_factor` (its
   compute_default_rope_parameters uses the full head_dim) and rotates every
   dim of each head. MiniMax-Text-01 rotates only dims [0, rotary_dim) = 64 of
   128. Patched: inverse frequencies over rotary_dim, and only those dims turn.
2. Decay slopes for a head count that is not a power of two. The port uses
   2^(-8 (h+1) / H) for every H; the official code uses the ALiBi slope rule,
   which interleaves the slopes of the neighbouring powers of two.
3. The layer factor of the slopes. The port writes 1 - l / (L - 1 + 1e-5) + 1e-5,
   the official code 1 - l / (L - 1) + 1e-5 (a ~1e-5 relative difference).

Also, for a clean float64 oracle, RoPE angles are computed in float64 (the port
computes them in float32 even for a float64 model) and the lightning decay
buffers are recomputed in float64 after the model is cast.
"""
import math

import torch
import transformers.models.minimax.modeling_minimax as hf


def alibi_slopes(n):
    def power_of_two(m):
        start = 2.0 ** (-8.0 / m)
        return [start ** (i + 1) for i in range(m)]

    if math.log2(n).is_integer():
        return power_of_two(n)
    closest = 2 ** math.floor(math.log2(n))
    return power_of_two(closest) + alibi_slopes(2 * closest)[0::2][: n - closest]


def _spec_slope_rate(self, device=None):
    layers = self.num_hidden_layers
    ratio = self.layer_idx / (layers - 1) if layers > 1 else 0.0
    factor = 1.0 - ratio + 1e-5
    rate = torch.tensor(alibi_slopes(self.num_attention_heads), dtype=torch.float64, device=device)
    return (rate * factor)[:, None, None]


def _rotary_dim(config):
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    factor = (config.rope_parameters or {}).get("partial_rotary_factor", 1.0)
    return int(round(head_dim * factor))


def _spec_rope_parameters(config, device=None, **kwargs):
    base = config.rope_parameters["rope_theta"]
    dim = _rotary_dim(config)
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    return inv_freq, 1.0


def _rope_forward(self, x, position_ids):
    freqs = position_ids[..., None].to(torch.float64) * self.inv_freq.to(x.device, torch.float64)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def _apply_partial_rotary(q, k, cos, sin, unsqueeze_dim=1):
    rot = cos.shape[-1]
    cos, sin = cos.unsqueeze(unsqueeze_dim), sin.unsqueeze(unsqueeze_dim)

    def rotate_half(x):
        return torch.cat((-x[..., rot // 2 : rot], x[..., : rot // 2]), dim=-1)

    def turn(x):
        return torch.cat((x[..., :rot] * cos + rotate_half(x) * sin, x[..., rot:]), dim=-1)

    return turn(q), turn(k)


def spec_semantics():
    """Patches the transformers port to the official MiniMax semantics."""
    hf.MiniMaxLightningAttention.get_slope_rate = _spec_slope_rate
    hf.MiniMaxRotaryEmbedding.compute_default_rope_parameters = staticmethod(_spec_rope_parameters)
    hf.MiniMaxRotaryEmbedding.forward = _rope_forward
    hf.apply_rotary_pos_emb = _apply_partial_rotary


def to_dtype(model, dtype):
    """Casts the model and recomputes the lightning decay buffers (computed in
    float64, then rounded once) and the RoPE frequencies."""
    model = model.to(dtype)
    for module in model.modules():
        if isinstance(module, hf.MiniMaxLightningAttention):
            rate = module.get_slope_rate().to(torch.float64)
            q, k, d = module.decay_factors(rate)
            module.slope_rate = rate.to(dtype)
            module.query_decay = q.to(dtype)
            module.key_decay = k.to(dtype)
            module.diagonal_decay = d.to(dtype)
    inv_freq, _ = _spec_rope_parameters(model.config)
    model.model.rotary_emb.inv_freq = inv_freq
    return model


def to_float64(model):
    return to_dtype(model, torch.float64)

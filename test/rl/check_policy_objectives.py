#!/usr/bin/python3
"""Loss and gradient of every policy objective of mm.policy_loss, by hand.

Usage: check_policy_objectives.py MM_OPT MM_RUN [--filter SUBSTRING]

The objectives of /work/shared/spec/cispo.md, as the configurations of
mm.policy_loss (ir/ops/LossOps.td) that reproduce the two public conventions:

  cispo_two_sided   CISPO, library 1: weight clamp(r, 1 - 10, 1 + 0.2), token-mean
  cispo_cap         CISPO, library 2: weight min(r, 5), no log-ratio clamp
                    (log_ratio_clamp 700), divided by a global token count
  cispo_default     CISPO with the default eps 0.2 / 0.2 (lower clip active)
  grpo              PPO-clip per sequence (each row's mean, then the rows), 0.2 / 0.2,
                    with a row that has no response tokens
  grpo_global       the same divided by a global sequence count (micro-batches)
  ppo_token         PPO-clip, token-mean, 0.2 / 0.2
  dapo              PPO-clip, eps 0.2 / 0.28, dual clip 3, divided by a global
                    token count (10) larger than this micro-batch's sum(mask) (5)
  ppo_token_adv     PPO-clip with per-token advantages and a fractional mask
  cispo_seq_adv     CISPO per sequence with per-token advantages
  ppo_log_clamp     PPO-clip with a log-ratio clamp (0.5) that bites
  zero_normalizer   a normalizer operand of 0: the loss is 0 for every lp, so
                    its gradient is 0 too

Every configuration is a table of SMALL tensors ([2, 3], [3, 3] for GRPO),
one row per token: its log-prob, the ratio it is built for (old = lp -
log ratio), its mask, and the branch of the objective the token lands on, with
a comment that derives it ("r = 1.5 > 1.2, A > 0 -> clipped, no gradient").
`hand_token` below is a scalar case analysis of one token, written from the
op description and the spec, not from the C++ (no vectorised formula shared
with the op); it returns the branch, the token loss l, dl/dlp under the
stop-gradient rules of the op, and the derivative of the forward value (which
differs from the former only for CISPO tokens whose weight is r itself). The
test asserts that each token lands on the branch its row declares, and that,
over all configurations, every branch is hit: inside the clip, above
1 + eps_high with A > 0 (clipped) and A < 0 (kept), below 1 - eps_low with
A > 0 (kept) and A < 0 (clipped), dual clip active and inactive, log-ratio
clamp active, CISPO weights r / 1 + eps_high / 1 - eps_low / cap, a masked-out
token and an empty row.

For each configuration:
  1. `mm-opt -mm-autodiff='function=F'` of a generated @F adds @F_grad;
  2. @F_grad on `--backend reference --precision f64`: the loss and dL/dlp
     must equal the hand values to 1e-12 relative (1e-12 (|want| + S), S the
     sum of the magnitudes of the loss's terms, so cancellation in a sum of
     mixed signs is covered); gradient entries the hand analysis says are 0
     (clipped, dual-clipped, clamped, masked tokens) must be exactly 0: they
     are a product with a 0/1 selector, not a difference;
  3. @F_grad on `--backend cpu` (compiled, float32) against the same hand
     values within 64 u32 (|want| + S), u32 = 2^-24 (see below);
  4. the gradients of old_logprobs, advantages, mask and normalizer must be
     exactly 0 (they are data of the rollout, constants to -mm-autodiff);
  5. central finite differences of @F on the reference in float64, one lp
     coordinate at a time, h = 1e-6, against the derivative of the forward
     value (equal to dL/dlp except for CISPO's stop-gradient, which the FD
     does see: for a CISPO token of weight r the FD is dL/dlp - m A r lp / N).
     Every token is at least 0.03 away (in ratio) from every kink (1 +/- eps,
     cap, dual clip, clamp), so +/- h r never crosses one.

Tolerances.
  * Reference, float64: the inputs are float32 values, exact in float64, and
    the op and the hand analysis both compute each token term with one exp
    and a handful of correctly rounded operations, then sum <= 9 terms: the
    two differ by ~ (10 + 9) u64 (|want| + S) ~ 2e-15 (|want| + S), so 1e-12
    is a 500x margin; an accidental float32 step would be off by ~1e-7.
  * Compiled, float32: the inputs are float32-exact. The backward graph forms
    each dL/dlp element by a chain of <= 10 correctly rounded float32
    operations (sub, clamps, exp (<= 1 ulp in glibc), clip selects, two
    multiplications, a sum of <= 3 mask entries, a multiplication of
    denominators, a division); the rounding of lp - old (absolute error
    u |lp - old|, |lp - old| <= 3.5 here) moves r = exp(.) by a relative
    3.5 u. Together <= 10 + 2 + 3.5 < 16 u relative. The loss is a sum of
    <= 9 such terms: <= (16 + 9) u S. 64 u (|want| + S) = 3.8e-6 (|want| + S)
    covers both with a margin of 2.5; a wrong rule (a dropped clip, a missing
    stop-gradient, a wrong normaliser) is off by at least one token's share,
    >= 0.02 S here (checked below: each configuration's plausible wrong
    answers are verified to be rejected by that tolerance).
  * Finite differences: the truncation error h^2/6 |l'''| is below 1e-10 here
    (|l'''| <= r |A| (|lp| + 3) / N < 50), and the rounding of @F in float64,
    ~ 20 u64 S ~ 2e-14 (S <= 10), divided by 2h gives 1e-8: tolerance
    1e-7 (1 + S), ten times both.

The test must be able to fail: every configuration (but zero_normalizer)
asserts a nonzero expected loss and nonzero expected gradient entries, and
that its plausible wrong answers (no stop-gradient for CISPO, no clip
indicator for PPO, the local sum(mask) instead of the normalizer operand,
per-token instead of per-sequence averaging, no dual clip) differ from the
expected values by more than the float32 tolerance.

Prints one line per configuration and `N passed, M failed`; exits non-zero on
any mismatch.
"""

import math
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "autodiff"))
from check_gradients import Evaluator, run  # noqa: E402

U32 = 2.0 ** -24
REF_RTOL = 1e-12
CPU_RTOL = 64 * U32
FD_H = 1e-6
FD_RTOL = 1e-7
KINK_GAP = 0.03  # every ratio this far (relative) from every kink


class Config:
    """One objective: the op's attributes and a table of tokens.

    tokens: rows (b, t, lp, ratio, mask, branch); advantages: [B] or [B, T].
    eps_low / eps_high / log_ratio_clamp: the op's defaults unless given.
    """

    def __init__(self, name, kind, adv, tokens, B, T, eps_low=None, eps_high=None,
                 log_ratio_clamp=None, ratio_cap=None, dual_clip=None, per_sequence=False,
                 normalizer=None, expect_zero=False):
        self.name, self.kind, self.B, self.T = name, kind, B, T
        self.adv = np.asarray(adv, dtype=np.float32).astype(np.float64)
        self.tokens = tokens
        self.attrs = {}
        for key, value in (("eps_low", eps_low), ("eps_high", eps_high),
                           ("log_ratio_clamp", log_ratio_clamp), ("ratio_cap", ratio_cap),
                           ("dual_clip", dual_clip)):
            if value is not None:
                self.attrs[key] = float(value)
        self.eps_low = 0.2 if eps_low is None else float(eps_low)
        self.eps_high = 0.2 if eps_high is None else float(eps_high)
        self.log_ratio_clamp = 20.0 if log_ratio_clamp is None else float(log_ratio_clamp)
        self.ratio_cap, self.dual_clip = ratio_cap, dual_clip
        self.per_sequence, self.normalizer = per_sequence, normalizer
        self.expect_zero = expect_zero
        # Inputs: float32 values (exact for both backends).
        lp = np.zeros((B, T))
        old = np.zeros((B, T))
        mask = np.zeros((B, T))
        self.branch = {}
        seen = set()
        for b, t, lpv, ratio, m, branch in tokens:
            assert (b, t) not in seen, (name, b, t)
            seen.add((b, t))
            lp[b, t] = np.float32(lpv)
            old[b, t] = np.float32(lpv - math.log(ratio))
            mask[b, t] = np.float32(m)
            self.branch[b, t] = branch
        assert len(seen) == B * T, f"{name}: the table must list every token"
        self.lp, self.old, self.mask = lp, old, mask

    def adv_of(self, b, t):
        return float(self.adv[b] if self.adv.ndim == 1 else self.adv[b, t])


# ---------------------------------------------------------------------------
# The hand analysis of one token (from ir/ops/LossOps.td and the spec).
#
#   r = exp(clamp(lp - old, -L, L)),  c = clamp(r, 1 - eps_low, 1 + eps_high)
#   cispo:    l = -sg(w) A lp, w = c, or min(r, ratio_cap)
#   ppo_clip: l = -min(r A, c A); dual clip k: where A < 0, l = min(l, -k A)
#
# Returns (branch, l, dl/dlp with the op's stop-gradients, d l / d lp of the
# forward value). `no_sg` / `no_clip_grad` / `no_dual` give the plausible wrong
# answers that the self-check requires the comparison to reject.
# ---------------------------------------------------------------------------
def hand_token(cfg, lp, old, A, no_sg=False, no_clip_grad=False, no_dual=False):
    assert A != 0
    delta = lp - old
    L = cfg.log_ratio_clamp
    if delta > L:             # the log-ratio clamp is active: r is constant in lp
        log_r, clamped = L, True
    elif delta < -L:
        log_r, clamped = -L, True
    else:
        log_r, clamped = delta, False
    r = math.exp(log_r)
    dr = 0.0 if clamped else r          # dr/dlp
    lo, hi = 1.0 - cfg.eps_low, 1.0 + cfg.eps_high
    for kink in [lo, hi] + [v for v in (cfg.ratio_cap, cfg.dual_clip) if v]:
        assert abs(r - kink) > KINK_GAP * kink, f"{cfg.name}: ratio {r} too close to kink {kink}"
    if not clamped:
        assert abs(abs(delta) - L) > KINK_GAP, f"{cfg.name}: log-ratio {delta} too close to the clamp"

    if cfg.kind == "cispo":
        # l = -w A lp with w a constant to the gradient: dl/dlp = -w A. The
        # forward value also moves with w where w = r: d/dlp (-r A lp) = -A (r + dr lp).
        if cfg.ratio_cap is not None:
            if r > cfg.ratio_cap:
                branch, w, dw = "w=cap", cfg.ratio_cap, 0.0
            else:
                branch, w, dw = "w=r", r, dr
        elif r > hi:
            branch, w, dw = "w=1+eps_high", hi, 0.0
        elif r < lo:
            branch, w, dw = "w=1-eps_low", lo, 0.0
        else:
            branch, w, dw = "w=r", r, dr
        l = -w * A * lp
        g = -w * A
        fwd = -A * (w + dw * lp)
        if no_sg:
            g = fwd
        return branch, l, g, fwd

    # ppo_clip: l = -min(r A, c A).
    if A > 0:
        # min(r A, c A) = A min(r, c).
        if r > hi:      # c = hi < r: the clipped term wins, constant in lp
            branch, l, g = "above-clipped", -hi * A, 0.0
        elif r < lo:    # c = lo > r: the unclipped term r A wins, gradient kept
            branch, l, g = "below-kept", -r * A, -dr * A
        else:           # c = r: both terms equal r A
            branch, l, g = "inside+", -r * A, -dr * A
    else:
        # min(r A, c A) = A max(r, c).
        if r > hi:      # max = r: the unclipped term wins (pessimistic), gradient kept
            branch, l, g = "above-kept", -r * A, -dr * A
        elif r < lo:    # max = c = lo: clipped, constant
            branch, l, g = "below-clipped", -lo * A, 0.0
        else:
            branch, l, g = "inside-", -r * A, -dr * A
        if cfg.dual_clip is not None and not no_dual:
            cap = -cfg.dual_clip * A   # > 0
            if l > cap:                # l = min(l, -k A) = -k A: constant
                branch, l, g = "dual", cap, 0.0
            else:
                branch += ",dual-inactive"
    if no_clip_grad and g == 0.0 and branch != "dual":
        g = -r * A          # the wrong rule: the unclipped gradient everywhere
    # Under the clamp r = exp(+-L) does not move with lp: dr = 0 gave g = 0 above.
    if clamped and branch.split(",")[0] in ("inside+", "inside-", "below-kept", "above-kept"):
        branch = "clamp:" + branch
    return branch, l, g, g


def hand_objective(cfg, **wrong):
    """Loss, dL/dlp (op's rules), dL/dlp of the forward value, the sum S of |terms|,
    and the branch of each token; by explicit loops over tokens and rows."""
    B, T = cfg.B, cfg.T
    local_normalizer = wrong.pop("local_normalizer", False)
    per_token = wrong.pop("per_token", False)
    per_sequence = cfg.per_sequence and not per_token
    normalizer = None if local_normalizer else cfg.normalizer
    l = np.zeros((B, T))
    g = np.zeros((B, T))
    fwd = np.zeros((B, T))
    branches = {}
    for b in range(B):
        for t in range(T):
            branch, l[b, t], g[b, t], fwd[b, t] = hand_token(
                cfg, cfg.lp[b, t], cfg.old[b, t], cfg.adv_of(b, t), **wrong)
            branches[b, t] = branch
    m = cfg.mask
    loss = 0.0
    terms = 0.0
    grad = np.zeros((B, T))
    grad_fwd = np.zeros((B, T))
    if not per_sequence:
        # sum(m l) / N, N = the normalizer operand, else sum(m); N = 0 -> 0.
        N = normalizer if normalizer is not None else sum(m[b, t] for b in range(B) for t in range(T))
        if N != 0:
            for b in range(B):
                for t in range(T):
                    loss += m[b, t] * l[b, t] / N
                    terms += abs(m[b, t] * l[b, t] / N)
                    grad[b, t] = m[b, t] * g[b, t] / N
                    grad_fwd[b, t] = m[b, t] * fwd[b, t] / N
    else:
        # sum_b (sum_t m l / sum_t m) / S, S = the normalizer, else B; an empty row adds 0.
        S = normalizer if normalizer is not None else B
        if S != 0:
            for b in range(B):
                count = sum(m[b, t] for t in range(T))
                if count == 0:
                    continue
                for t in range(T):
                    loss += m[b, t] * l[b, t] / (count * S)
                    terms += abs(m[b, t] * l[b, t] / (count * S))
                    grad[b, t] = m[b, t] * g[b, t] / (count * S)
                    grad_fwd[b, t] = m[b, t] * fwd[b, t] / (count * S)
    return loss, grad, grad_fwd, terms, branches


# ---------------------------------------------------------------------------
# The configurations. Each row: (b, t, lp, ratio, mask, branch)  # derivation
# ---------------------------------------------------------------------------
def build_configs():
    C = []
    # CISPO, library 1's example: eps_low 10 (no lower bound), eps_high 0.2.
    # A = [1.5, -0.75], N = sum(mask) = 5. Every unmasked token keeps a gradient
    # -w A m / N: none is dropped, unlike PPO.
    C.append(Config("cispo_two_sided", "cispo", [1.5, -0.75], B=2, T=3, eps_low=10.0, eps_high=0.2, tokens=[
        (0, 0, -0.5, 1.0, 1, "w=r"),            # r = 1.0 in [-9, 1.2] -> w = r = 1, g = -1.5 / 5
        (0, 1, -1.25, 1.5, 1, "w=1+eps_high"),  # r = 1.5 > 1.2 -> w = 1.2, A > 0: kept, g = -1.2 * 1.5 / 5
        (0, 2, -2.0, 0.3, 1, "w=r"),            # r = 0.3: 1 - 10 < 0 is no bound -> w = 0.3 (PPO would clip at 0.8)
        (1, 0, -0.75, 2.0, 1, "w=1+eps_high"),  # r = 2 > 1.2, A < 0 -> w = 1.2, g = +1.2 * 0.75 / 5
        (1, 1, -1.5, 0.9, 1, "w=r"),            # r = 0.9 -> w = 0.9, g = 0.9 * 0.75 / 5
        (1, 2, -0.25, 1.7, 0, "w=1+eps_high"),  # masked out: adds nothing, gradient 0
    ]))
    # CISPO, library 2: w = min(r, 5), no log-ratio clamp (700), sum / global
    # token count N = 8 (this micro-batch holds 5). A = [1, -2].
    C.append(Config("cispo_cap", "cispo", [1.0, -2.0], B=2, T=3, ratio_cap=5.0, log_ratio_clamp=700.0,
                    normalizer=8.0, tokens=[
        (0, 0, -0.5, 7.0, 1, "w=cap"),          # r = 7 > 5 -> w = 5, g = -5 / 8
        (0, 1, -1.25, 1.5, 1, "w=r"),           # r = 1.5 < 5 -> w = 1.5 (eps_high plays no part), g = -1.5 / 8
        (0, 2, -2.0, 0.3, 1, "w=r"),            # r = 0.3 -> w = 0.3: no lower bound
        (1, 0, -0.75, 30.0, 1, "w=cap"),        # r = 30 > 5, A < 0 -> w = 5, g = +10 / 8
        (1, 1, -1.5, 0.9, 1, "w=r"),            # r = 0.9 -> w = 0.9, g = +1.8 / 8
        (1, 2, -0.25, 3.0, 0, "w=r"),           # masked out
    ]))
    # CISPO with the default eps 0.2 / 0.2: the lower clip bites. A = [0.5, -1.25], N = 6.
    C.append(Config("cispo_default", "cispo", [0.5, -1.25], B=2, T=3, tokens=[
        (0, 0, -0.5, 0.5, 1, "w=1-eps_low"),    # r = 0.5 < 0.8 -> w = 0.8, g = -0.4 / 6
        (0, 1, -1.25, 1.1, 1, "w=r"),           # r = 1.1 inside -> w = 1.1
        (0, 2, -2.0, 1.4, 1, "w=1+eps_high"),   # r = 1.4 > 1.2 -> w = 1.2
        (1, 0, -0.75, 0.6, 1, "w=1-eps_low"),   # r = 0.6 < 0.8, A < 0 -> w = 0.8, g = +1.0 / 6
        (1, 1, -1.5, 1.3, 1, "w=1+eps_high"),   # r = 1.3 > 1.2, A < 0 -> w = 1.2, g = +1.5 / 6
        (1, 2, -0.25, 0.95, 1, "w=r"),          # r = 0.95 inside -> w = 0.95
    ]))
    # GRPO: PPO-clip per sequence, 0.2 / 0.2, S = B = 3. A = [1, -1.5, 2].
    # Row 0 has 3 tokens, row 1 has 2, row 2 none (adds 0 to the loss and to S's numerator).
    grpo_rows = [
        (0, 0, -0.5, 1.1, 1, "inside+"),        # r = 1.1 in [0.8, 1.2] -> l = -r A, g = -1.1 / (3 * 3)
        (0, 1, -1.25, 1.5, 1, "above-clipped"), # r = 1.5 > 1.2, A > 0 -> clipped: l = -1.2, no gradient
        (0, 2, -2.0, 0.5, 1, "below-kept"),     # r = 0.5 < 0.8, A > 0 -> min(rA, 0.8A) = rA: g = -0.5 / 9
        (1, 0, -0.75, 1.5, 1, "above-kept"),    # r = 1.5 > 1.2, A < 0 -> min = rA (pessimistic): g = +2.25 / (2 * 3)
        (1, 1, -1.5, 0.5, 1, "below-clipped"),  # r = 0.5 < 0.8, A < 0 -> min = 0.8 A: clipped, no gradient
        (1, 2, -0.25, 0.9, 0, "inside-"),       # masked out
        (2, 0, -1.0, 1.3, 0, "above-clipped"),  # row 2: no tokens -> adds 0, no gradient
        (2, 1, -0.5, 0.7, 0, "below-kept"),
        (2, 2, -2.5, 1.0, 0, "inside+"),
    ]
    C.append(Config("grpo", "ppo_clip", [1.0, -1.5, 2.0], B=3, T=3, per_sequence=True, tokens=grpo_rows))
    # The same divided by a global sequence count S = 8 (micro-batches of 3).
    C.append(Config("grpo_global", "ppo_clip", [1.0, -1.5, 2.0], B=3, T=3, per_sequence=True,
                    normalizer=8.0, tokens=grpo_rows))
    # PPO-clip, token-mean, 0.2 / 0.2. A = [-0.5, 1.25], N = 5.
    C.append(Config("ppo_token", "ppo_clip", [-0.5, 1.25], B=2, T=3, tokens=[
        (0, 0, -0.5, 0.9, 1, "inside-"),        # r = 0.9 inside, A < 0 -> l = -rA = 0.45, g = +0.45 / 5
        (0, 1, -1.25, 1.3, 1, "above-kept"),    # r = 1.3 > 1.2, A < 0 -> kept: g = +0.65 / 5
        (0, 2, -2.0, 0.7, 1, "below-clipped"),  # r = 0.7 < 0.8, A < 0 -> clipped at 0.8: no gradient
        (1, 0, -0.75, 1.3, 1, "above-clipped"), # r = 1.3 > 1.2, A > 0 -> clipped at 1.2: no gradient
        (1, 1, -1.5, 0.6, 1, "below-kept"),     # r = 0.6 < 0.8, A > 0 -> kept: g = -0.75 / 5
        (1, 2, -0.25, 1.0, 0, "inside+"),       # masked out
    ]))
    # DAPO (library 1): PPO-clip with clip-higher 0.2 / 0.28 and dual clip 3,
    # divided by the global token count N = 10 (this micro-batch: 5). A = [-1, 0.5].
    C.append(Config("dapo", "ppo_clip", [-1.0, 0.5], B=2, T=3, eps_low=0.2, eps_high=0.28, dual_clip=3.0,
                    normalizer=10.0, tokens=[
        (0, 0, -0.5, 4.0, 1, "dual"),                        # r = 4 > 1.28, A < 0 -> l = 4 > 3 = -3A: dual clip, l = 3, no gradient
        (0, 1, -1.25, 2.0, 1, "above-kept,dual-inactive"),   # r = 2 > 1.28, A < 0 -> l = 2 < 3: kept, g = +2 / 10
        (0, 2, -2.0, 0.7, 1, "below-clipped,dual-inactive"), # r = 0.7 < 0.8, A < 0 -> clipped: l = 0.8, no gradient
        (1, 0, -0.75, 1.24, 1, "inside+"),                   # r = 1.24 in [0.8, 1.28] (clipped under 0.2!) -> g = -0.62 / 10
        (1, 1, -1.5, 1.35, 1, "above-clipped"),              # r = 1.35 > 1.28, A > 0 -> clipped: no gradient
        (1, 2, -0.25, 5.0, 0, "above-clipped"),              # masked out
    ]))
    # Per-token advantages, PPO-clip 0.2 / 0.2, a fractional mask: N = 4.5.
    C.append(Config("ppo_token_adv", "ppo_clip", [[2.0, -0.5, 1.0], [-1.5, 0.75, -1.0]], B=2, T=3, tokens=[
        (0, 0, -0.5, 1.1, 1, "inside+"),        # A = 2: r = 1.1 inside -> g = -2.2 / 4.5
        (0, 1, -1.25, 1.5, 0.5, "above-kept"),  # A = -0.5, m = 0.5: r = 1.5 > 1.2 -> kept, g = 0.5 * 0.75 / 4.5
        (0, 2, -2.0, 1.5, 1, "above-clipped"),  # A = 1: r = 1.5 > 1.2 -> clipped: no gradient
        (1, 0, -0.75, 0.6, 1, "below-clipped"), # A = -1.5: r = 0.6 < 0.8 -> clipped: no gradient
        (1, 1, -1.5, 0.6, 1, "below-kept"),     # A = 0.75: r = 0.6 < 0.8 -> kept, g = -0.45 / 4.5
        (1, 2, -0.25, 1.0, 0, "inside-"),       # masked out
    ]))
    # CISPO per sequence with per-token advantages, eps 10 / 0.2; rows of 2 and 3 tokens, S = 2.
    C.append(Config("cispo_seq_adv", "cispo", [[1.0, -2.0, 0.5], [-1.0, 1.5, 0.25]], B=2, T=3,
                    eps_low=10.0, eps_high=0.2, per_sequence=True, tokens=[
        (0, 0, -0.5, 1.6, 1, "w=1+eps_high"),   # A = 1: r = 1.6 > 1.2 -> w = 1.2, g = -1.2 / (2 * 2)
        (0, 1, -1.25, 0.5, 1, "w=r"),           # A = -2: r = 0.5 -> w = 0.5, g = +1 / 4
        (0, 2, -2.0, 1.1, 0, "w=r"),            # masked out
        (1, 0, -0.75, 2.5, 1, "w=1+eps_high"),  # A = -1: w = 1.2, g = +1.2 / (3 * 2)
        (1, 1, -1.5, 0.9, 1, "w=r"),            # A = 1.5: w = 0.9, g = -1.35 / 6
        (1, 2, -0.25, 1.05, 1, "w=r"),          # A = 0.25: w = 1.05, g = -0.2625 / 6
    ]))
    # PPO-clip with log_ratio_clamp 0.5 (r in [0.607, 1.649]): a clamped token
    # on a kept branch has no gradient. A = [-1, 1], N = 6.
    C.append(Config("ppo_log_clamp", "ppo_clip", [-1.0, 1.0], B=2, T=3, log_ratio_clamp=0.5, tokens=[
        (0, 0, -0.5, math.exp(0.8), 1, "clamp:above-kept"),  # lp - old = 0.8 > 0.5 -> r = e^0.5 = 1.65 > 1.2, A < 0: kept branch, but r is constant: l = 1.65, no gradient
        (0, 1, -1.25, 1.3, 1, "above-kept"),                 # r = 1.3 > 1.2, A < 0 -> kept, g = +1.3 / 6
        (0, 2, -2.0, math.exp(-0.9), 1, "below-clipped"),    # lp - old = -0.9 -> r = e^-0.5 = 0.61 < 0.8, A < 0: clipped, l = 0.8
        (1, 0, -0.75, math.exp(-0.9), 1, "clamp:below-kept"), # r = e^-0.5 = 0.61 < 0.8, A > 0: kept branch, clamped: l = -0.61, no gradient
        (1, 1, -1.5, 1.1, 1, "inside+"),                     # r = 1.1 inside -> g = -1.1 / 6
        (1, 2, -0.25, 0.9, 1, "inside+"),                    # r = 0.9 inside -> g = -0.9 / 6
    ]))
    # A normalizer operand of 0: the loss is 0 whatever lp, so dL/dlp = 0.
    C.append(Config("zero_normalizer", "ppo_clip", [1.0, -1.0], B=2, T=3, normalizer=0.0, expect_zero=True,
                    tokens=[
        (0, 0, -0.5, 1.1, 1, "inside+"),        # would be g = -1.1 / N: but N = 0 -> loss 0, g 0
        (0, 1, -1.25, 0.6, 1, "below-kept"),
        (0, 2, -2.0, 1.5, 1, "above-clipped"),
        (1, 0, -0.75, 1.5, 1, "above-kept"),
        (1, 1, -1.5, 0.9, 1, "inside-"),
        (1, 2, -0.25, 1.0, 0, "inside-"),
    ]))
    return C


# Branches the configurations above must reach, all together.
REQUIRED_BRANCHES = {
    "cispo": {"w=r", "w=1+eps_high", "w=1-eps_low", "w=cap"},
    "ppo_clip": {"inside+", "inside-", "above-clipped", "above-kept", "below-kept", "below-clipped",
                 "dual", "above-kept,dual-inactive", "below-clipped,dual-inactive",
                 "clamp:above-kept", "clamp:below-kept"},
}


# ---------------------------------------------------------------------------
def mlir_of(cfg, ty):
    """@F over element type `ty`: f64 for the reference (so the gradient's
    constants, such as the clip bounds 1 +/- eps, are the float64 values the
    forward uses), f32 for the compiled backend."""
    B, T = cfg.B, cfg.T
    mat = f"tensor<{B}x{T}x{ty}>"
    adv = f"tensor<{B}x{ty}>" if cfg.adv.ndim == 1 else mat
    args = [f"%lp: {mat}", f"%old: {mat}", f"%adv: {adv}", f"%mask: {mat}"]
    types = [mat, mat, adv, mat]
    tail = ""
    if cfg.normalizer is not None:
        args.append(f"%n: tensor<{ty}>")
        types.append(f"tensor<{ty}>")
        tail = " normalized_by %n"
    attrs = ", ".join(f"{k} = {v!r} : f64" for k, v in cfg.attrs.items())
    per = " per sequence" if cfg.per_sequence else ""
    return (f"// {cfg.name}\n"
            f"func.func @F({', '.join(args)}) -> tensor<{ty}> {{\n"
            f"  %l = mm.policy_loss {cfg.kind}{per} %lp, %old, %adv, %mask{tail}"
            f"{' {' + attrs + '}' if attrs else ''} : ({', '.join(types)}) -> tensor<{ty}>\n"
            f"  return %l : tensor<{ty}>\n}}\n")


def inputs_of(cfg, dtype):
    xs = [cfg.lp, cfg.old, cfg.adv, cfg.mask]
    if cfg.normalizer is not None:
        xs.append(np.array(cfg.normalizer))
    return [np.asarray(x, dtype=dtype) for x in xs]


ARG_NAMES = ["lp", "old", "adv", "mask", "n"]


def compare(label, got, want, rtol, atol):
    """Elementwise |got - want| <= rtol |want| + atol."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return [f"{label}: shape {got.shape}, want {want.shape}"]
    tol = rtol * np.abs(want) + atol
    bad = ~(np.abs(got - want) <= tol)
    if bad.any():
        i = np.unravel_index(np.argmax(np.where(bad, np.abs(got - want) - tol, -np.inf)), want.shape) \
            if want.ndim else ()
        return [f"{label}: {int(bad.sum())} of {want.size} off; at {tuple(int(v) for v in i)} "
                f"got {got[i]!r} want {want[i]!r} (|diff| {abs(got[i] - want[i]):.3g} > {tol[i]:.3g})"]
    return []


def self_check(cfg, loss, grad, terms, branches):
    """The expectations are not trivial, every token lands on its declared branch,
    and plausible wrong answers are rejected by the loosest tolerance used."""
    errors = []
    for key, declared in cfg.branch.items():
        if branches[key] != declared:
            errors.append(f"token {key}: hand analysis gives branch {branches[key]!r}, table says {declared!r}")
    if cfg.expect_zero:
        if loss != 0 or np.any(grad != 0):
            errors.append("expected a zero loss and gradient")
        return errors
    if loss == 0 or not np.any(grad != 0) or terms == 0:
        errors.append("expected loss or gradient is trivially zero")
    wrongs = []
    if cfg.kind == "cispo":
        wrongs.append(("no stop-gradient", dict(no_sg=True)))
    else:
        wrongs.append(("no clip indicator", dict(no_clip_grad=True)))
        if cfg.dual_clip is not None:
            wrongs.append(("no dual clip", dict(no_dual=True)))
    if cfg.normalizer is not None:
        wrongs.append(("local count instead of the normalizer", dict(local_normalizer=True)))
    if cfg.per_sequence:
        wrongs.append(("per token instead of per sequence", dict(per_token=True)))
    for what, kw in wrongs:
        wl, wg, _, _, _ = hand_objective(cfg, **kw)
        if not (compare("", [wl], [loss], CPU_RTOL, CPU_RTOL * terms) or compare("", wg, grad, CPU_RTOL, CPU_RTOL * terms)):
            errors.append(f"the wrong answer '{what}' is not told apart from the expected one")
    return errors


def check_config(cfg, mm_opt, ev, tmp):
    loss, grad, grad_fwd, terms, branches = hand_objective(cfg)
    errors = self_check(cfg, loss, grad, terms, branches)
    grad_files = {}
    for ty in ("f64", "f32"):
        src = os.path.join(tmp, f"{cfg.name}.{ty}.mlir")
        with open(src, "w") as f:
            f.write(mlir_of(cfg, ty))
        grad_files[ty] = os.path.join(tmp, f"{cfg.name}.{ty}.grad.mlir")
        rc, msg = run([mm_opt, src, "-mm-autodiff=function=F", "-o", grad_files[ty]])
        if rc != 0:
            return errors + [f"mm-opt -mm-autodiff ({ty}) failed: {msg.strip()}"]
    src = os.path.join(tmp, f"{cfg.name}.f64.mlir")
    sig = re.search(r"func\.func @F_grad\(.*?\)\s*->\s*\((.*?)\)\s*\{", open(grad_files["f32"]).read())
    labels = re.findall(r'mm\.gradient_of = "([^"]+)"', sig.group(1)) if sig else []
    nargs = 5 if cfg.normalizer is not None else 4
    if labels != [f"%arg{i}" for i in range(nargs)]:
        return errors + [f"@F_grad returns gradients of {labels}, expected one per argument"]
    scale = terms if terms else 1.0
    for backend, dtype, rtol in (("reference", np.float64, REF_RTOL), ("cpu", np.float32, CPU_RTOL)):
        grad_file = grad_files["f64" if backend == "reference" else "f32"]
        try:
            outs = ev(grad_file, "F_grad", inputs_of(cfg, dtype), {}, 1 + nargs, backend=backend)
        except RuntimeError as e:
            errors.append(f"--backend {backend}: {e}")
            continue
        errors += compare(f"{backend} loss", outs[0], np.array(loss), rtol, rtol * scale)
        errors += compare(f"{backend} dL/dlp", outs[1], grad, rtol, rtol * scale)
        if backend == "reference":
            # Tokens the hand analysis gives no gradient get exactly 0 (a 0/1 selector times a value).
            zero = grad == 0
            if np.any(outs[1][zero] != 0):
                errors.append(f"reference dL/dlp: nonzero {outs[1][zero]} where the hand analysis gives exactly 0")
        for name, g in zip(ARG_NAMES[1:nargs], outs[2:]):
            if np.any(g != 0):
                errors.append(f"{backend} dL/d{name} must be exactly 0 (rollout data), got max |g| {np.abs(g).max():.3g}")
    # Central finite differences of @F on the reference, one lp coordinate at a time.
    base = inputs_of(cfg, np.float64)
    fd = np.zeros_like(cfg.lp)
    try:
        (f0,) = ev(src, "F", base, {}, 1)
        errors += compare("reference @F loss", f0, np.array(loss), REF_RTOL, REF_RTOL * scale)
        for b in range(cfg.B):
            for t in range(cfg.T):
                vals = []
                for sgn in (1, -1):
                    xs = [x.copy() for x in base]
                    xs[0][b, t] += sgn * FD_H
                    vals.append(float(ev(src, "F", xs, {}, 1)[0]))
                fd[b, t] = (vals[0] - vals[1]) / (2 * FD_H)
        errors += compare("finite difference of @F in lp (vs the forward value's derivative)",
                          fd, grad_fwd, 0.0, FD_RTOL * (1 + scale))
        # Where the forward value and the gradient rule agree (every PPO token,
        # clipped / capped CISPO tokens), the FD checks dL/dlp directly.
        same = grad_fwd == grad
        errors += compare("finite difference of @F in lp (vs dL/dlp, no stop-gradient involved)",
                          fd[same], grad[same], 0.0, FD_RTOL * (1 + scale))
    except RuntimeError as e:
        errors.append(f"finite differences: {e}")
    return errors


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    mm_opt, mm_run = (os.path.abspath(a) for a in argv[1:3])
    filt = argv[argv.index("--filter") + 1] if "--filter" in argv else None
    configs = build_configs()
    passed = failed = 0
    t0 = time.time()
    # Coverage of the branches, over all configurations (filtered or not).
    hit = {"cispo": set(), "ppo_clip": set()}
    masked = empty_row = False
    for cfg in configs:
        hit[cfg.kind] |= {br for key, br in cfg.branch.items() if cfg.mask[key] != 0}
        masked |= bool(np.any(cfg.mask == 0))
        empty_row |= cfg.per_sequence and bool(np.any(cfg.mask.sum(axis=1) == 0))
    for kind, need in REQUIRED_BRANCHES.items():
        missing = need - hit[kind]
        if missing:
            print(f"FAIL coverage: no unmasked {kind} token on {sorted(missing)}")
            failed += 1
    if not (masked and empty_row):
        print("FAIL coverage: need a masked-out token and an empty row per sequence")
        failed += 1
    with tempfile.TemporaryDirectory(prefix="mm-rl-") as tmp:
        ev = Evaluator(mm_run, tmp)
        for cfg in configs:
            if filt and filt not in cfg.name:
                continue
            try:
                errors = check_config(cfg, mm_opt, ev, tmp)
            except Exception as e:  # a harness or mm-run failure is a test failure, with its message
                errors = [f"{type(e).__name__}: {e}"]
            if errors:
                failed += 1
                print(f"FAIL {cfg.name}")
                for e in errors:
                    print(f"     {e}")
            else:
                passed += 1
                loss = hand_objective(cfg)[0]
                print(f"PASS {cfg.name} (loss {loss:.6g})")
        n_eval = ev.n
    print(f"# {len(configs)} objective configurations, {n_eval} mm-run evaluations in {time.time() - t0:.1f}s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

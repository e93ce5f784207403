#!/usr/bin/python3
"""Markdown tables from bench/amer_results.sh's JSON lines: mean +- sample
standard deviation over seeds, per dataset and task, plus each search's cost."""

import glob
import json
import os
import statistics
import sys


def main(out):
    for path in sorted(glob.glob(os.path.join(out, "*.jsonl"))):
        tag = os.path.basename(path)[:-6]
        rows = [json.loads(line) for line in open(path) if line.strip()]
        if not rows:
            continue
        task = rows[0]["task"]
        metrics = ["auc", "logloss"] if task == "ctr" else ["hr@10", "ndcg@10"]
        protocol = f", protocol {rows[0]['protocol']}" if task == "seq" else ""
        print(f"\n**{tag}** ({len({r['seed'] for r in rows})} seeds{protocol})\n")
        print("| model | " + " | ".join(metrics) + " | parameters | epochs | train s |")
        print("|---|" + "---:|" * (len(metrics) + 3))
        for model in ["searched", "din", "sasrec", "deepfm", "dcn", "mlp"]:
            rs = [r for r in rows if r["model"] == model]
            if not rs:
                continue
            cells = []
            for m in metrics:
                v = [r[m] for r in rs]
                sd = statistics.stdev(v) if len(v) > 1 else 0.0
                cells.append(f"{statistics.mean(v):.4f} ± {sd:.4f}")
            print(f"| {model} | " + " | ".join(cells) +
                  f" | {rs[0]['parameters']:,} | {statistics.mean(r['epochs'] for r in rs):.1f} |"
                  f" {statistics.mean(r['seconds'] for r in rs):.0f} |")
        summary = os.path.join(out, f"{tag}-search", "summary.json")
        if os.path.exists(summary):
            s = json.load(open(summary))
            arch = json.load(open(os.path.join(out, f"{tag}-search", "architecture.json")))
            ops = ", ".join(f"{b['norm']}/{b['op']}/{b['activation']}" for b in arch["behaviour"]["blocks"])
            inter = ", ".join("*".join(g) for g in arch["interactions"]) or "none"
            print(f"\nsearch: {s['seconds']:.0f} s, {s['children_evaluated']} children scored, "
                  f"{s['programs_compiled']} programs compiled ({s['compile_seconds_per_program']:.3f} s each), "
                  f"child cache hit rate {s['cache_hit_rate']:.2f}; chose blocks [{ops}], interactions [{inter}], "
                  f"MLP {arch['mlp']['widths']} {arch['mlp']['activation']}"
                  f"{' with' if arch['mlp']['se_shortcut'] else ' without'} the SE shortcut")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/amer-results")

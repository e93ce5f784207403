#!/usr/bin/python3
"""Checks `mm-amer` end to end on planted data.

Usage: check_amer.py MM_AMER MM_OPT [--quick]

--quick (ctest amer-search, every run and CI): every command path on a small
search (200 users, one epoch a supernet, two children, two stage-2
contexts), without the recovery
and reproducibility assertions. Without it (ctest amer-search-recovery,
label nightly, scripts/nightly.sh) the full search below.

  * `mm-amer plant` writes RecBole atomic files with a known answer
    (training/amer/Planted.h): a bilinear interaction of age_band and page,
    and a sequence pattern only order-aware operations can read;
  * a three-stage search (stage 1 over conv3 / attention2 / zero, 4 epochs
    per supernet) writes architecture.json, search.csv, model.mlir and
    summary.json, and recovers both:
      - the planted pair is in the chosen interaction set, and it has the
        best mean gain of the 28 order-2 candidates (summary.json; a search
        that ignored the data passes with probability about 1/28);
      - the chosen stage-1 architecture holds conv3, and the stage-1
        children holding conv3 score higher on validation, on average, than
        those without (the supernet learned the pattern, not just the winner);
  * model.mlir is the child as mm IR: it parses and verifies (mm-opt) and
    holds no mm.choice;
  * the same search at the same seed and thread count reproduces
    architecture.json byte for byte and search.csv but for its compile
    times (a shorter one: stage 1);
  * `mm-amer eval --arch` on the result and `--baseline` for each of DIN,
    SASRec, DeepFM, DCN and MLP print their test metrics as a last-line JSON
    (ctr: auc, logloss; seq: hr@10, ndcg@10 and "protocol": "sampled-N");
  * bad input is refused with a message naming it: stages out of order, an
    unknown operation, an architecture file with a bad field, a ragged
    data row (file and line), both --arch and --baseline.
"""

import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

FAILURES = []


def check(ok, what):
    print(("PASS " if ok else "FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def run(cmd, ok=True, timeout=1200):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if ok and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return p


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def main(argv):
    amer, mm_opt = argv[1], argv[2]
    quick = "--quick" in argv
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="mm-amer-") as tmp:
        os.environ.setdefault("MM_CACHE_DIR", os.path.join(tmp, "kernel-cache"))
        data = os.path.join(tmp, "planted")
        run([amer, "plant", "--out", data, "--seed", "1", "--users", "200" if quick else "1000"])
        planted = json.load(open(os.path.join(data, "planted.json")))
        check(sorted(planted["interaction"]) == ["age_band", "page"], "planted.json names the planted pair")

        common = ["--data", data, "--task", "ctr", "--seed", "0", "--threads", "2", "--max-sequence", "8"]
        out = os.path.join(tmp, "search")
        run([amer, "search", *common, "--stages", "1,2,3", "--out", out, "--epochs", "1" if quick else "4",
             "--children", "2" if quick else "8", "--contexts", "2" if quick else "4",
             "--ops", "conv3,attention2,zero"], timeout=3000)
        for f in ("architecture.json", "search.csv", "model.mlir", "summary.json"):
            check(os.path.exists(os.path.join(out, f)), f"search writes {f}")
        arch = json.load(open(os.path.join(out, "architecture.json")))
        rows = list(csv.DictReader(open(os.path.join(out, "search.csv"))))
        check({r["stage"] for r in rows} == {"1", "2", "3"}, "search.csv has children of all three stages")
        if not quick:
            check(all(float(r["validation_auc"]) > 0.5 for r in rows), "every child scores above chance")
            recovery(rows, arch, json.load(open(os.path.join(out, "summary.json"))))
        check(set(arch["mlp"]) == {"widths", "activation", "se_shortcut"} and len(arch["mlp"]["widths"]) == 3,
              "architecture.json holds the MLP's choices")
        check(all(k in arch["choices"] for k in ("blocks", "block0.op", "mlp.width1", "mlp.act", "mlp.se")),
              "architecture.json lists the choice at every choice point")

        p = run([mm_opt, os.path.join(out, "model.mlir"), "-o", os.devnull], ok=False)
        text = open(os.path.join(out, "model.mlir")).read()
        check(p.returncode == 0 and "mm.choice" not in text and "mm.target_attention" in text,
              "model.mlir verifies and is one child (no mm.choice)")

        summary = json.load(open(os.path.join(out, "summary.json")))
        check(summary["child_requests"] > 0 and 0 <= summary["cache_hit_rate"] <= 1
              and summary["compile_seconds_per_program"] > 0, "summary.json reports the child cache")

        if not quick:
            reproducible(amer, common, tmp)
        evaluations(amer, common, data, out, quick)
        refusals(amer, common, tmp)

    print(f"# {time.time() - t0:.0f} s")
    print(f"{len(FAILURES)} failed" if FAILURES else "all passed")
    return 1 if FAILURES else 0


def recovery(rows, arch, summary):
    """The planted interaction and sequence family are found."""
    chosen = [sorted(g) for g in arch["interactions"]]
    check(["age_band", "page"] in chosen, f"the planted pair is chosen (chosen: {chosen})")
    order2 = summary["interaction_rounds"][0]
    ranked = [sorted(g.split("*")) for g in order2["mean_gain"]]
    check(order2["order"] == 2 and len(ranked) == 28 and ranked[0] == ["age_band", "page"],
          f"the planted pair has the best mean gain of 28 order-2 candidates (top 3: {ranked[:3]})")
    singles = [r for r in rows if r["stage"] == "2" and r["round"] == "2" and len(r["interactions"].split()) == 1]
    check(len(singles) == 28, "each order-2 candidate is scored added to the fixed set alone")

    ops = [b["op"] for b in arch["behaviour"]["blocks"]]
    check("conv3" in ops, f"the chosen behaviour blocks hold conv3 ({ops})")
    aware, blind = [], []
    for r in rows:
        if r["stage"] != "1":
            continue
        choice = dict(kv.split("=") for kv in r["choices"].split(","))
        n = int(choice["blocks"]) + 2
        used = {int(choice[f"block{i}.op"]) for i in range(n)}
        (aware if 0 in used else blind).append(float(r["validation_auc"]))  # index 0 = conv3
    check(aware and blind and statistics.mean(aware) > statistics.mean(blind),
          f"stage-1 children with conv3 score higher on average ({aware} vs {blind})")


def reproducible(amer, common, tmp):
    """The same seed at the same thread count gives the same search."""
    a, b = os.path.join(tmp, "rep-a"), os.path.join(tmp, "rep-b")
    for o in (a, b):
        run([amer, "search", *common, "--stages", "1", "--out", o, "--epochs", "1", "--children", "4"])

    def scored(o):  # search.csv without its timing column
        return [{k: v for k, v in r.items() if k != "compile_s"}
                for r in csv.DictReader(open(os.path.join(o, "search.csv")))]
    same = open(os.path.join(a, "architecture.json"), "rb").read() == \
        open(os.path.join(b, "architecture.json"), "rb").read() and scored(a) == scored(b)
    check(same, "the same seed reproduces architecture.json and search.csv (but its compile times)")


def evaluations(amer, common, data, out, quick):
    """Training from scratch: the searched architecture and every baseline, both tasks."""
    epochs = "1" if quick else "3"
    res = last_json(run([amer, "eval", "--arch", os.path.join(out, "architecture.json"), *common,
                         "--epochs", epochs, "--json"]).stdout)
    check((0.5 < res["auc"] <= 1 or quick) and res["logloss"] > 0 and res["task"] == "ctr",
          f"eval --arch prints auc and logloss ({res})")
    metrics = {}
    for baseline in ("din", "sasrec", "deepfm", "dcn", "mlp"):
        r = last_json(run([amer, "eval", "--baseline", baseline, *common, "--epochs", epochs if quick else "2",
                           "--json"]).stdout)
        check(0 < r["auc"] <= 1 and r["logloss"] > 0 and r["model"] == baseline, f"eval --baseline {baseline}")
        metrics[baseline] = r
    # The flag reaches the weights: MLP's default std is 0.02, so std 1 trains another model.
    r = last_json(run([amer, "eval", "--baseline", "mlp", *common, "--epochs", epochs if quick else "2",
                       "--embedding-std", "1", "--json"]).stdout)
    check(r["validation"] != metrics["mlp"]["validation"],
          f"eval --embedding-std 1 starts from other weights ({r['validation']} vs {metrics['mlp']['validation']})")
    seq = ["--data", data, "--task", "seq", "--seed", "0", "--threads", "2", "--max-sequence", "8",
           "--negatives", "20", "--epochs", epochs if quick else "2", "--json"]
    for model in (["--baseline", "sasrec"], ["--arch", os.path.join(out, "architecture.json")]):
        r = last_json(run([amer, "eval", *model, *seq]).stdout)
        check(r["protocol"] == "sampled-20" and 0 <= r["hr@10"] <= 1 and 0 <= r["ndcg@10"] <= r["hr@10"],
              f"eval --task seq {model[0]} prints hr@10, ndcg@10 and the protocol ({r})")


def refusals(amer, common, tmp):
    """Bad input is refused with a message naming it."""
    def refused(cmd, needles, what):
        p = run(cmd, ok=False)
        check(p.returncode != 0 and all(n in p.stderr for n in needles),
              f"refused: {what}" + ("" if p.returncode != 0 else " (it ran)") + f" {p.stderr.strip()[-200:]}")

    refused([amer, "search", *common, "--stages", "2,1", "--out", os.path.join(tmp, "x")],
            ["--stages", "in order"], "stages out of order")
    refused([amer, "search", *common, "--ops", "conv3,conv9", "--out", os.path.join(tmp, "x")],
            ["--ops", "conv9"], "an unknown operation")
    refused([amer, "eval", "--baseline", "mlp", *common, "--embedding-std", "0"],
            ["--embedding-std", "expected a positive number"], "a non-positive embedding std")
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        json.dump({"behaviour": {"blocks": [{"norm": "none", "op": "zero", "activation": "tanh"}] * 2},
                   "interactions": [], "mlp": {"widths": [64, 64, 64], "activation": "relu",
                                               "se_shortcut": False}}, f)
    refused([amer, "eval", "--arch", bad, *common], [bad, "behaviour.blocks[0].activation", "tanh"],
            "an architecture with a bad field")
    refused([amer, "eval", "--arch", bad, "--baseline", "din", *common], ["exactly one"],
            "both --arch and --baseline")
    ragged = os.path.join(tmp, "ragged")
    os.makedirs(ragged)
    with open(os.path.join(ragged, "ragged.inter"), "w") as f:
        f.write("user_id:token\titem_id:token\tlabel:float\ttimestamp:float\nu1\ti1\t1\t5\nu1\ti2\t0\n")
    refused([amer, "eval", "--baseline", "din", "--data", ragged, "--task", "ctr", "--seed", "0"],
            ["ragged.inter:3"], "a ragged data row, by file and line")


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Peer cross-check of mmc's SASRec baseline (mm-amer eval --task seq --baseline sasrec)
against RecBole 1.2.1's SASRec on the same MovieLens-100K split (issue 13).

    python bench/amer_peer_recbole.py --data DIR --seed S [--also-ce] [--negatives recbole|mmc]

DIR is the folder scripts/fetch_movielens.sh prints (ml-100k.inter; RecBole reads only the
.inter here). Prints one JSON line per run on stdout; RecBole's log goes to stderr and to a
temporary folder (deleted afterwards, --keep to keep it), never into the repository. Needs a
venv with torch, numpy<2, pandas<3 and recbole==1.2.1 (docs: bench notes); not ray:
recbole.quick_start imports ray at the top, so this drives RecBole's pieces the way
quick_start.run_recbole does, without it.

Matched to mmc (bench/amer_results.sh, --max-sequence 50 --batch-size 1024, defaults of
tools/mm-amer and training/amer):
  - leave-one-out by time: each user's last interaction is test, the one before validation
    (eval_args split LS valid_and_test, order TO, group_by user); every interaction is a
    positive (no rating threshold), no filtering;
  - the data in DIR: RecBole ignores data_path for a dataset named "ml-100k" (Config reads
    its own packaged dataset_example/ml-100k then, the same file as the one the fetch script
    extracts) and loads properties/dataset/ml-100k.yaml (normalize_all: True). The .inter is
    therefore copied, to the temporary folder, as dataset "ml100k_mmc", which takes
    sample.yaml's defaults (no filtering, no normalisation) and reads DIR's data;
  - ties in timestamp broken by file order, as mmc's stable sort. RecBole also sorts stably,
    but keeps timestamps as float32 (64 s apart at 8.9e8; about 1 s after ml-100k.yaml's
    min-max normalisation), which turns near timestamps into ties: on the file as it is that
    moves 4 test and 5 validation targets (normalised) or 149 and 254 (raw). The copy is
    therefore sorted stably by (user, timestamp), which makes RecBole's order mmc's; the
    JSON's split_mismatches counts held-out targets still unlike mmc's (0 expected);
  - history: the latest 50 earlier interactions (MAX_ITEM_LIST_LENGTH 50);
  - SASRec as mmc's baseline: hidden 16 (mmc's --embed default), 2 layers, 1 head, FFN inner
    16, ReLU, no dropout, LayerNorm eps 1e-8, learned positions, score = last state . item
    embedding (shared item table);
  - Adam lr 1e-3, no weight decay, gradient clipping at global norm 5, batch 1024, at most 20
    epochs, validation every epoch on NDCG@10, test with the best validation epoch's weights;
  - early stopping after 2 epochs without a better validation NDCG@10 (mmc --patience 2). That
    is RecBole's stopping_step 1: RecBole stops when the count of non-improving epochs
    exceeds stopping_step, so stopping_step 2 would wait 3 epochs;
  - HR@10 and NDCG@10 over the held-out item and 100 sampled items (mode uni100).

Differences that remain (RecBole's code, not configurable):
  - loss: BPR (one uniform negative per target, -log sigmoid(pos - neg)) against mmc's pointwise
    BCE over separate positive and negative rows; RecBole's SASRec has no BCE. --also-ce adds
    RecBole's default CE (softmax over all items, [PAD] included, no negative sampling);
  - batches: RecBole's 1024 are 1024 targets, each with its negative (about 95 steps an epoch,
    last partial batch kept); mmc's 1024 are rows, positives and negatives shuffled apart
    (about 512 targets, about 190 steps an epoch, last partial batch dropped);
  - training targets: RecBole trains on every interaction but each user's first (no history,
    so not a target) and the two held out, 97,171 on ML-100K; mmc also trains on the first,
    with an empty history (98,114);
  - negatives (--negatives recbole, the default): sequential models need repeatable: True,
    whose RepeatableSampler excludes only the row's own target item. Training and uni100
    negatives may be items the user rated, even ones in the history, and uni100 draws with
    replacement (a repeated negative takes one slot: up to 100 distinct). mmc excludes every
    item the user ever interacted with (train, validation and test) and draws 100 distinct.
    --negatives mmc patches RepeatableSampler to draw as mmc does (training: one item the user
    never interacted with; evaluation: 100 distinct such items), to separate the protocol from
    the model;
  - validation negatives are drawn afresh at every validation pass (numpy's global RNG), test
    negatives once after training; mmc fixes both lists by the seed (different streams);
  - the model: RecBole's TransformerEncoder is post-LN (LayerNorm(x + sublayer)) with a
    LayerNorm on the input embeddings and no final LayerNorm; mmc's is pre-LN as Kang &
    McAuley's code (query from the normed input, keys and values from the raw one) with a
    final LayerNorm. Positions: RecBole's are left-aligned (the oldest item of the window at
    0, the last at len - 1); mmc's right-aligned (the last item always at 49), as the
    reference code. Initialisation: RecBole N(0, 0.02) for embeddings and linears; mmc
    embeddings U(+-sqrt 3) (unit variance), linears PyTorch's default;
  - ties between a target's score and a negative's: mmc counts them against the target
    (rank = 1 + #{score >= target}); RecBole takes torch.topk's order;
  - ids: RecBole remaps tokens to 1..n in order of first appearance ([PAD] = 0), as mmc's
    vocabulary; with the re-sorted file the order differs from mmc's, which changes only
    which random draws land where, not the protocol;
  - users with fewer than 3 interactions (none in ML-100K: the fewest is 20): RecBole holds out
    one as test and none as validation; mmc trains on all of them.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="folder with ml-100k.inter (scripts/fetch_movielens.sh)")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--also-ce", action="store_true", help="also run RecBole's default CE loss")
    p.add_argument("--negatives", choices=["recbole", "mmc"], default="recbole",
                   help="recbole: RecBole's own sampler; mmc: never-interacted items, 100 distinct")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--stopping-step", type=int, default=1,
                   help="RecBole's stopping_step; 1 = mmc's --patience 2")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, checkpoints)")
    return p.parse_args()


args = parse_args()
sys.argv = sys.argv[:1]  # RecBole's Config would read --key=value arguments as its own settings
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
os.environ.setdefault("MKL_NUM_THREADS", str(args.threads))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(args.threads)

import recbole  # noqa: E402
from recbole.config import Config  # noqa: E402
from recbole.data import create_dataset, data_preparation  # noqa: E402
from recbole.sampler import sampler as recbole_sampler  # noqa: E402
from recbole.utils import get_model, get_trainer, init_logger, init_seed  # noqa: E402


def read_inter(path):
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    return df


def mmc_split(df):
    """mmc's held-out targets: stable sort by (user, timestamp), last = test, one before = valid."""
    d = df.rename(columns=lambda c: c.split(":")[0]).copy()
    d["_t"] = d["timestamp"].astype(np.float64)
    d["_row"] = np.arange(len(d))
    d = d.sort_values(["user_id", "_t", "_row"], kind="stable")
    valid, test = set(), set()
    for user, g in d.groupby("user_id", sort=False):
        items = g["item_id"].tolist()
        if len(items) >= 3:
            valid.add((user, items[-2]))
            test.add((user, items[-1]))
    return valid, test


def prepare_data(src, name, dst_root, copy):
    """Copies src/NAME.inter sorted stably by (user, timestamp) to dst_root/COPY/COPY.inter."""
    df = read_inter(os.path.join(src, name + ".inter"))
    cols = {c.split(":")[0]: c for c in df.columns}
    key = pd.DataFrame({"u": df[cols["user_id"]], "t": df[cols["timestamp"]].astype(np.float64),
                        "r": np.arange(len(df))})
    order = key.sort_values(["u", "t", "r"], kind="stable").index
    os.makedirs(os.path.join(dst_root, copy))
    df.loc[order].to_csv(os.path.join(dst_root, copy, copy + ".inter"), sep="\t", index=False)
    return df


def patch_mmc_negatives(seen):
    """RepeatableSampler drawing as mmc: items the user never interacted with; in evaluation
    (num > 1) distinct. `seen[u]` is the set of user u's item ids. Uses numpy's global RNG,
    seeded by RecBole's init_seed."""

    def sample_by_user_ids(self, user_ids, item_ids, num):
        user_ids = np.asarray(user_ids)
        n = len(user_ids)
        out = np.empty((num, n), dtype=np.int64)
        for i, u in enumerate(user_ids):
            s = seen[int(u)]
            if len(s) + num > self.item_num - 1:
                raise ValueError(f"user {u}: fewer than {num} never-interacted items")
            drawn = []
            while len(drawn) < num:
                for v in np.random.randint(1, self.item_num, num - len(drawn)):
                    v = int(v)
                    if v not in s and v not in drawn:
                        drawn.append(v)
                        if len(drawn) == num:
                            break
            out[:, i] = drawn
        return torch.tensor(out.reshape(-1), dtype=torch.long)

    recbole_sampler.RepeatableSampler.sample_by_user_ids = sample_by_user_ids


def config_dict(data_root, name, work, seed, loss):
    c = {
        "data_path": data_root,
        "dataset": name,
        "checkpoint_dir": os.path.join(work, "saved"),
        "gpu_id": "",
        "worker": 0,
        "seed": seed,
        "reproducibility": True,
        "state": "INFO",
        "show_progress": False,
        "log_wandb": False,
        # data: every interaction, no filtering, no threshold
        "load_col": {"inter": ["user_id", "item_id", "rating", "timestamp"]},
        "rm_dup_inter": None,
        "val_interval": None,
        "user_inter_num_interval": "[0,inf)",
        "item_inter_num_interval": "[0,inf)",
        "threshold": None,
        "MAX_ITEM_LIST_LENGTH": 50,
        # protocol
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "group_by": "user",
                      "mode": {"valid": "uni100", "test": "uni100"}},
        "repeatable": True,
        "metrics": ["Hit", "NDCG"],
        "topk": [10],
        "valid_metric": "NDCG@10",
        "eval_batch_size": 4096,
        # model: mmc's sasrec baseline
        "hidden_size": 16,
        "inner_size": 16,
        "n_layers": 2,
        "n_heads": 1,
        "hidden_dropout_prob": 0.0,
        "attn_dropout_prob": 0.0,
        "hidden_act": "relu",
        "layer_norm_eps": 1e-8,
        # training
        "loss_type": loss,
        "learner": "adam",
        "learning_rate": 0.001,
        "weight_decay": 0.0,
        "clip_grad_norm": {"max_norm": 5.0, "norm_type": 2},
        "train_batch_size": args.batch_size,
        "epochs": args.epochs,
        "eval_step": 1,
        "stopping_step": args.stopping_step,
    }
    if loss == "BPR":
        c["train_neg_sample_args"] = {"distribution": "uniform", "sample_num": 1, "alpha": 1.0,
                                      "dynamic": False, "candidate_num": 0}
    else:
        c["train_neg_sample_args"] = None
    return c


def targets(ds):
    """(user token, item token) of every row of a built dataset."""
    users = ds.id2token(ds.uid_field, ds.inter_feat[ds.uid_field].numpy())
    items = ds.id2token(ds.iid_field, ds.inter_feat[ds.iid_field].numpy())
    return set(zip(users.tolist(), items.tolist()))


def run(data_root, name, work, seed, loss, expected):
    start = time.time()
    config = Config(model="SASRec", dataset=name, config_dict=config_dict(data_root, name, work, seed, loss))
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    if os.path.realpath(config["data_path"]) != os.path.realpath(os.path.join(data_root, name)):
        sys.exit(f"RecBole reads {config['data_path']}, not {data_root}/{name}")
    dataset = create_dataset(config)
    if args.negatives == "mmc":
        frame = dataset.inter_feat  # still a DataFrame of remapped ids before the split
        seen = {}
        for u, i in zip(frame[dataset.uid_field].to_numpy(), frame[dataset.iid_field].to_numpy()):
            seen.setdefault(int(u), set()).add(int(i))
        patch_mmc_negatives(seen)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    valid_expected, test_expected = expected
    mismatches = len(valid_expected - targets(valid_data._dataset)) + \
        len(test_expected - targets(test_data._dataset))
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    fit_start = time.time()
    _, best_valid = trainer.fit(train_data, valid_data, saved=True, show_progress=False)
    test = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
    end = time.time()
    return {
        "library": "recbole",
        "version": recbole.__version__,
        "model": "SASRec",
        "loss": loss,
        "seed": seed,
        "hr@10": float(test["hit@10"]),
        "ndcg@10": float(test["ndcg@10"]),
        "valid_ndcg@10": float(best_valid["ndcg@10"]),
        "epochs": len(trainer.train_loss_dict),
        "seconds": round(end - fit_start, 1),
        "negatives": args.negatives,
        "protocol": "sampled-100",
        "stopping_step": args.stopping_step,
        "train_targets": len(train_data._dataset),
        "split_mismatches": mismatches,
        "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "total_seconds": round(end - start, 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }


def main():
    name = "ml-100k"
    src = os.path.abspath(args.data)
    if not os.path.isfile(os.path.join(src, name + ".inter")):
        sys.exit(f"{src}/{name}.inter not found (run scripts/fetch_movielens.sh)")
    work = tempfile.mkdtemp(prefix="amer-peer-recbole-")
    try:
        data_root = os.path.join(work, "data")
        copy = "ml100k_mmc"  # not "ml-100k": see the top of the file
        original = prepare_data(src, name, data_root, copy)
        expected = mmc_split(original)
        os.chdir(work)  # RecBole writes ./log and ./log_tensorboard
        for loss in ["BPR"] + (["CE"] if args.also_ce else []):
            print(json.dumps(run(data_root, copy, work, args.seed, loss, expected)), flush=True)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A steer recipe stage on TRL (written into a job directory by `steer export trl <stage>`).

Reads steer-job.json (what to run), trl_config.json (the TRL config, validated by steer against
TRL's own *Config fields at the pinned version), data/*.jsonl (pre-tokenised by steer) and model/
(Hugging Face layout). Writes $STEER_JOB_OUTPUT (default ./output): model/ and steer-result.json.

Where TRL lacks a piece of the recipe, it is here, in TRL's own extension points:
  ScaledBTRewardTrainer   RewardTrainer whose loss is Scaled BT:  L = −m · log σ(r_c − r_r)
                          (HelpSteer2-Preference §3.2; m = |strength|, the dataset's margin column)
  RegressionTrainer       SteerLM regression: L = Σ mask·(r_a − y_a)² / Σ mask, −100 = unlabelled
  steer_reward            RLOO reward function: POSTs {"prompts", "responses"} to a steer reward
                          endpoint ({"rewards"} back); None for truncated samples (no stop token)
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    print(f"[steer job] {msg}", flush=True)


def read_jsonl(path, keep):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                rows.append({k: r[k] for k in keep if k in r})
    return rows


def dataset(name, keep):
    from datasets import Dataset

    path = os.path.join(HERE, "data", name)
    if not os.path.exists(path):
        return None
    return Dataset.from_list(read_jsonl(path, keep))


# ---- reward models -------------------------------------------------------------------------------


def scaled_bt_trainer_class():
    from trl import RewardTrainer

    class ScaledBTRewardTrainer(RewardTrainer):
        """RewardTrainer with the Scaled Bradley-Terry loss L = −m·log σ(r_c − r_r), batch mean."""

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            mode = "train" if self.model.training else "eval"
            margin = inputs.pop("margin")  # [B] = |strength|, a weight here, not an offset
            inputs["use_cache"] = False
            outputs = model(**inputs)
            r_c, r_r = torch.chunk(outputs.logits.squeeze(-1), chunks=2)  # [B], [B]
            loss = -(margin * F.logsigmoid(r_c - r_r)).mean()
            with torch.no_grad():
                self._metrics[mode]["accuracy"].append((r_c > r_r).float().mean().item())
                self._metrics[mode]["margin"].append((r_c - r_r).mean().item())
            return (loss, outputs) if return_outputs else loss

    return ScaledBTRewardTrainer


def regression_trainer(model, args, train, val, pad_id):
    from transformers import Trainer

    def collate(rows):
        T = max(len(r["input_ids"]) for r in rows)
        ids = torch.full((len(rows), T), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), T), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r["input_ids"])] = torch.tensor(r["input_ids"])
            mask[i, : len(r["input_ids"])] = 1
        labels = torch.tensor([r["labels"] for r in rows], dtype=torch.float32)  # [B, N]
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    class RegressionTrainer(Trainer):
        """SteerLM regression: masked mean of squared errors over labelled attributes."""

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")  # [B, N], −100 = unlabelled
            outputs = model(**inputs, use_cache=False)
            pred = outputs.logits  # [B, N]
            mask = (labels != -100).float()
            loss = ((pred - labels) ** 2 * mask).sum() / mask.sum().clamp(min=1)
            return (loss, outputs) if return_outputs else loss

    args.remove_unused_columns = False
    return RegressionTrainer(model=model, args=args, train_dataset=train, eval_dataset=val, data_collator=collate)


def run_rm(job, cfg, out_dir):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    variant = cfg["variant"]
    n_labels = len(job["rewardModel"]["attributes"])
    tok = AutoTokenizer.from_pretrained(os.path.join(HERE, "model"))
    model = AutoModelForSequenceClassification.from_pretrained(os.path.join(HERE, "model"), num_labels=n_labels, dtype=torch.float32)
    model.config.pad_token_id = tok.pad_token_id
    args = RewardConfig(**cfg["args"])
    if variant == "regression":
        keep = ["input_ids", "labels"]
        trainer = regression_trainer(model, args, dataset("train.jsonl", keep), dataset("eval.jsonl", keep), tok.pad_token_id)
    else:
        keep = ["chosen_ids", "rejected_ids"] + ([] if variant == "bt" else ["margin"])
        cls = scaled_bt_trainer_class() if variant == "scaled-bt" else RewardTrainer
        trainer = cls(model=model, args=args, train_dataset=dataset("train.jsonl", keep), eval_dataset=dataset("eval.jsonl", keep), processing_class=tok)
    trainer.train()
    return trainer, tok


# ---- policies ----------------------------------------------------------------------------------------


def run_sft(job, cfg, out_dir):
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    tok = AutoTokenizer.from_pretrained(os.path.join(HERE, "model"))
    args = SFTConfig(**cfg["args"])
    trainer = SFTTrainer(model=os.path.join(HERE, "model"), args=args, train_dataset=dataset("train.jsonl", ["input_ids", "completion_mask"]), processing_class=tok)
    trainer.train()
    return trainer, tok


def run_dpo(job, cfg, out_dir):
    from transformers import AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    tok = AutoTokenizer.from_pretrained(os.path.join(HERE, "model"))
    args = DPOConfig(**cfg["args"])
    trainer = DPOTrainer(model=os.path.join(HERE, "model"), args=args, train_dataset=dataset("train.jsonl", ["prompt_ids", "chosen_ids", "rejected_ids"]), processing_class=tok)
    trainer.train()
    return trainer, tok


def steer_reward_function(url, eos_ids, timeout_s=120, attempts=5):
    """An RLOO reward function calling a steer reward endpoint (retries with backoff)."""

    def steer_reward(prompts, completions, completion_ids, steer_prompt, **kwargs):
        body = json.dumps({"prompts": steer_prompt, "responses": completions}).encode()
        delay = 0.5
        for attempt in range(attempts):
            try:
                req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"}, method="POST")
                with urllib.request.urlopen(req, timeout=timeout_s) as res:
                    rewards = json.loads(res.read())["rewards"]
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                if attempt == attempts - 1:
                    raise RuntimeError(f"the reward endpoint {url} failed {attempts} times: {e}") from e
                time.sleep(delay)
                delay *= 2
        if len(rewards) != len(completions):
            raise RuntimeError(f"the reward endpoint {url} returned {len(rewards)} rewards for {len(completions)} responses")
        # A sample that did not stop within max_completion_length is left out of the baseline.
        return [float(r) if any(t in eos_ids for t in ids) else None for r, ids in zip(rewards, completion_ids)]

    return steer_reward


def run_rloo(job, cfg, out_dir):
    from transformers import AutoTokenizer
    from trl import RLOOConfig, RLOOTrainer

    tok = AutoTokenizer.from_pretrained(os.path.join(HERE, "model"))
    args = RLOOConfig(**cfg["args"])
    url = os.environ.get("STEER_REWARD_URL", cfg["rewardUrl"])
    log(f"reward endpoint {url}")
    reward = steer_reward_function(url, {tok.eos_token_id})
    trainer = RLOOTrainer(model=os.path.join(HERE, "model"), reward_funcs=[reward], args=args, train_dataset=dataset("train.jsonl", ["prompt", "steer_prompt"]), processing_class=tok)
    trainer.train()
    return trainer, tok


def main():
    with open(os.path.join(HERE, "steer-job.json")) as f:
        job = json.load(f)
    with open(os.path.join(HERE, "trl_config.json")) as f:
        cfg = json.load(f)
    out_dir = os.path.abspath(os.environ.get("STEER_JOB_OUTPUT", os.path.join(HERE, "output")))
    cfg["args"]["output_dir"] = os.path.join(out_dir, "trainer")
    torch.manual_seed(cfg["args"].get("seed", 0))
    log(f"{job['stage']} ({job['variant']}) on TRL, output {out_dir}")
    runner = {"rm": run_rm, "sft": run_sft, "dpo": run_dpo, "rloo": run_rloo}[cfg["stage"]]
    t0 = time.time()
    trainer, tok = runner(job, cfg, out_dir)
    model_dir = os.path.join(out_dir, "model")
    trainer.save_model(model_dir)
    tok.save_pretrained(model_dir)
    history = trainer.state.log_history
    result = {"stage": job["stage"], "variant": job["variant"], "steps": trainer.state.global_step, "seconds": round(time.time() - t0, 1), "log": history}
    with open(os.path.join(out_dir, "steer-result.json"), "w") as f:
        json.dump(result, f, indent=1)
    log(f"done: {trainer.state.global_step} steps in {result['seconds']} s; model in {model_dir}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)

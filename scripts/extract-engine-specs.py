#!/usr/bin/env python3
"""Extract the option definitions of the engines steer exports to, at pinned versions, into
src/scale/specs/<engine>.json. steer validates every generated config against these files: an
option the engine does not define is an export-time error.

  .venv/bin/python scripts/extract-engine-specs.py trl          # TRL's *Config dataclasses (import)
  .venv/bin/python scripts/extract-engine-specs.py openrlhf     # argparse of openrlhf/cli/train_*.py (AST)
        needs OPENRLHF_WHEEL=path of `pip download openrlhf==0.11.2 --no-deps` (the package needs GPUs to import)
  .venv/bin/python scripts/extract-engine-specs.py nemo-rl nemo-aligner
        need NEMO_RL_REPO / NEMO_ALIGNER_REPO = git clones of github.com/NVIDIA-NeMo/RL and
        github.com/NVIDIA/NeMo-Aligner; the YAMLs are read at the pinned tags with `git show`

Rerun after bumping a pin; commit the JSON. Each spec records the version, where it was read
from and how, so the result is reproducible.
"""
import dataclasses
import json
import os
import sys
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "src" / "scale" / "specs"

TRL_VERSION = "1.16.0"
TRL_CONFIGS = {"sft": "SFTConfig", "rm": "RewardConfig", "dpo": "DPOConfig", "rloo": "RLOOConfig"}


def jsonable(v):
    if v is dataclasses.MISSING:
        return None
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    return repr(v)


def type_name(t):
    s = t if isinstance(t, str) else getattr(t, "__name__", None) or str(t)
    return str(s).replace("typing.", "")


def extract_trl():
    import trl

    if trl.__version__ != TRL_VERSION:
        sys.exit(f"trl {trl.__version__} is installed; this script pins {TRL_VERSION} (pip install trl=={TRL_VERSION})")
    out = {
        "engine": "trl",
        "version": TRL_VERSION,
        "source": f"PyPI trl=={TRL_VERSION}: dataclasses.fields() of trl.{{{', '.join(TRL_CONFIGS.values())}}} (transformers.TrainingArguments fields included)",
        "extractedBy": "scripts/extract-engine-specs.py trl",
        "configs": {},
    }
    for stage, name in TRL_CONFIGS.items():
        cls = getattr(trl, name)
        fields = {}
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            default = f.default
            if default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
                default = f.default_factory()  # type: ignore[misc]
            fields[f.name] = {"type": type_name(f.type), "default": jsonable(default)}
        out["configs"][stage] = {"class": f"trl.{name}", "module": cls.__module__, "fields": dict(sorted(fields.items()))}
    return out


OPENRLHF_VERSION = "0.11.2"
OPENRLHF_CLIS = {"sft": "train_sft", "rm": "train_rm", "dpo": "train_dpo", "ppo": "train_ppo_ray"}
NEMO_RL_TAG = "v0.7.0"
NEMO_RL_CONFIGS = {"sft": "examples/configs/sft.yaml", "rm": "examples/configs/rm.yaml", "dpo": "examples/configs/dpo.yaml", "grpo": "examples/configs/grpo_math_1B.yaml"}
NEMO_ALIGNER_TAG = "v0.7.0"
NEMO_ALIGNER_CONFIGS = {"sft": "examples/nlp/gpt/conf/gpt_sft.yaml", "rm": "examples/nlp/gpt/conf/training_rm.yaml", "dpo": "examples/nlp/gpt/conf/gpt_dpo.yaml", "reinforce": "examples/nlp/gpt/conf/gpt_reinforce_actor.yaml"}


def literal(node):
    import ast

    try:
        return jsonable(ast.literal_eval(node))
    except Exception:
        return ast.unparse(node)


def extract_openrlhf():
    """Every parser.add_argument("--name", ...) of openrlhf/cli/<cli>.py, read from the wheel's source (not imported)."""
    import ast
    import zipfile

    wheel = os.environ.get("OPENRLHF_WHEEL")
    if not wheel or f"openrlhf-{OPENRLHF_VERSION}-" not in os.path.basename(wheel):
        sys.exit(f"set OPENRLHF_WHEEL to the wheel of `pip download openrlhf=={OPENRLHF_VERSION} --no-deps`")
    z = zipfile.ZipFile(wheel)
    names = {os.path.basename(n)[:-3]: n for n in z.namelist() if "/openrlhf/cli/" in n and n.endswith(".py")}
    out = {"engine": "openrlhf", "version": OPENRLHF_VERSION, "source": f"PyPI openrlhf=={OPENRLHF_VERSION} wheel ({os.path.basename(wheel)}): argparse add_argument calls of openrlhf/cli/{{{', '.join(OPENRLHF_CLIS.values())}}}.py, parsed as Python AST (the package imports deepspeed/GPUs)", "extractedBy": "OPENRLHF_WHEEL=... scripts/extract-engine-specs.py openrlhf", "configs": {}}
    for stage, cli in OPENRLHF_CLIS.items():
        tree = ast.parse(z.read(names[cli]).decode())
        fields = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument" and node.args and isinstance(node.args[0], ast.Constant):
                flag = node.args[0].value
                if not str(flag).startswith("--"):
                    continue
                kw = {k.arg: k.value for k in node.keywords}
                t = kw.get("type")
                action = literal(kw["action"]) if "action" in kw else None
                fields[flag[2:]] = {"type": ast.unparse(t) if t is not None else ("flag" if action in ("store_true", "store_false") else "str"), "default": literal(kw["default"]) if "default" in kw else None, **({"action": action} if action else {}), **({"nargs": literal(kw["nargs"])} if "nargs" in kw else {})}
        out["configs"][stage] = {"class": f"openrlhf.cli.{cli}", "module": f"openrlhf/cli/{cli}.py", "fields": dict(sorted(fields.items()))}
    return out


def flatten(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = {"type": type(v).__name__, "default": jsonable(v)}
    return out


def extract_yaml_engine(engine, repo_env, tag, configs, url):
    import subprocess

    import yaml

    repo = os.environ.get(repo_env)
    if not repo:
        sys.exit(f"set {repo_env} to a git clone of {url}")
    commit = subprocess.run(["git", "-C", repo, "rev-list", "-n", "1", tag], capture_output=True, text=True, check=True).stdout.strip()
    out = {"engine": engine, "version": tag, "source": f"{url} at {tag} (commit {commit}): every key path of {', '.join(configs.values())} (Hydra/OmegaConf YAML, read with git show)", "extractedBy": f"{repo_env}=... scripts/extract-engine-specs.py {engine}", "configs": {}}
    for stage, path in configs.items():
        text = subprocess.run(["git", "-C", repo, "show", f"{tag}:{path}"], capture_output=True, text=True, check=True).stdout
        doc = yaml.safe_load(text) or {}
        doc.pop("defaults", None)
        fields = flatten(doc)
        fields.update(typed_dict_fields(repo, tag, stage, engine))
        out["configs"][stage] = {"class": path, "module": path, "fields": dict(sorted(fields.items()))}
    return out


# NeMo-RL's example YAMLs name built-in datasets; the keys of a custom dataset (data_path, prompt_key,
# …) are defined by TypedDicts in nemo_rl/data/__init__.py and only shown in comments: read those.
NEMO_RL_DATA_TYPEDDICTS = {"rm": "PreferenceDatasetConfig", "dpo": "PreferenceDatasetConfig", "sft": "ResponseDatasetConfig", "grpo": "ResponseDatasetConfig"}


def typed_dict_fields(repo, tag, stage, engine):
    import ast
    import subprocess

    if engine != "nemo-rl":
        return {}
    src = subprocess.run(["git", "-C", repo, "show", f"{tag}:nemo_rl/data/__init__.py"], capture_output=True, text=True, check=True).stdout
    cls = next(n for n in ast.parse(src).body if isinstance(n, ast.ClassDef) and n.name == NEMO_RL_DATA_TYPEDDICTS[stage])
    out = {}
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            for split in ("train", "validation", "default"):
                out[f"data.{split}.{node.target.id}"] = {"type": ast.unparse(node.annotation), "default": None, "from": f"nemo_rl/data/__init__.py {cls.name}"}
    return out


def main():
    engines = sys.argv[1:] or ["trl"]
    SPECS.mkdir(parents=True, exist_ok=True)
    for e in engines:
        if e == "trl":
            spec = extract_trl()
        elif e == "openrlhf":
            spec = extract_openrlhf()
        elif e == "nemo-rl":
            spec = extract_yaml_engine(e, "NEMO_RL_REPO", NEMO_RL_TAG, NEMO_RL_CONFIGS, "https://github.com/NVIDIA-NeMo/RL")
        elif e == "nemo-aligner":
            spec = extract_yaml_engine(e, "NEMO_ALIGNER_REPO", NEMO_ALIGNER_TAG, NEMO_ALIGNER_CONFIGS, "https://github.com/NVIDIA/NeMo-Aligner")
        else:
            sys.exit(f"unknown engine {e!r}: expected trl, openrlhf, nemo-rl or nemo-aligner")
        path = SPECS / f"{e}.json"
        path.write_text(json.dumps(spec, indent=1, sort_keys=False) + "\n")
        n = sum(len(c["fields"]) for c in spec["configs"].values())
        print(f"{path.relative_to(ROOT)}: {e} {spec['version']}, {n} fields")


if __name__ == "__main__":
    main()

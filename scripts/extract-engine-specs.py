#!/usr/bin/env python3
"""Extract the option definitions of the engines steer exports to, at pinned versions, into
src/scale/specs/<engine>.json. steer validates every generated config against these files: an
option the engine does not define is an export-time error.

  .venv/bin/python scripts/extract-engine-specs.py trl          # TRL's *Config dataclasses (import)

Rerun after bumping a pin; commit the JSON. Each spec records the version, where it was read
from and how, so the result is reproducible.
"""
import dataclasses
import json
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


def main():
    engines = sys.argv[1:] or ["trl"]
    SPECS.mkdir(parents=True, exist_ok=True)
    for e in engines:
        if e == "trl":
            spec = extract_trl()
        else:
            sys.exit(f"unknown engine {e!r}: expected trl")
        path = SPECS / f"{e}.json"
        path.write_text(json.dumps(spec, indent=1, sort_keys=False) + "\n")
        n = sum(len(c["fields"]) for c in spec["configs"].values())
        print(f"{path.relative_to(ROOT)}: {e} {spec['version']}, {n} fields")


if __name__ == "__main__":
    main()

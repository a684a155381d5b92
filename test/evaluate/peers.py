"""Live official peers for steer's benchmark tests: the official packages, imported from PyPI
(python/requirements.txt: fschat==0.2.36 --no-deps, alpaca-eval==0.6.6), run on the files steer
wrote. Prints one JSON object.

  peers.py mtbench JUDGMENTS.jsonl ANSWER_DIR   FastChat show_result.display_result_single (its
                                                 DataFrames captured); the answers read back as
                                                 common.load_model_answers reads them
  peers.py alpaca ANNOTATIONS.json DF_GAMED.csv  alpaca_eval get_length_controlled_winrate, and
                                                 utils.random_seeded_choice for every row's order
"""
import argparse
import json
import sys
import types


def mtbench(judgments, answer_dir):
    import glob
    import os

    from fastchat.llm_judge import show_result

    frames = []
    # show_result prints its tables; a module-level `print` shadows the builtin for its functions
    show_result.print = lambda *a, **k: frames.extend(x for x in a if hasattr(x, "to_dict"))
    show_result.display_result_single(argparse.Namespace(input_file=judgments, model_list=None, bench_name="mt_bench", judge_model="gpt-4"))
    first, second, average = frames
    # common.load_model_answers, line for line (importing common.py pulls in torch, transformers and
    # the API clients through fastchat.model: ~30 s for four lines of JSON reading)
    answers = {}
    for filename in sorted(glob.glob(os.path.join(answer_dir, "*.jsonl"))):
        with open(filename) as fin:
            answers[os.path.basename(filename)[:-6]] = {json.loads(line)["question_id"]: json.loads(line) for line in fin}
    return {
        "first_turn": {str(k[0]): v for k, v in first["score"].to_dict().items()},
        "second_turn": {str(k[0]): v for k, v in second["score"].to_dict().items()},
        "average": {str(k): v for k, v in average["score"].to_dict().items()},
        "answers": {m: {str(q): a["choices"][0]["turns"] for q, a in rows.items()} for m, rows in answers.items()},
    }


def alpaca(annotations_path, df_gamed):
    # alpaca_eval 0.6.6 imports pkg_resources (setuptools < 81) for two version helpers; the venv's
    # setuptools no longer ships it, so give it the same two functions from packaging/importlib
    if "pkg_resources" not in sys.modules:
        import importlib.metadata
        from packaging.version import parse

        shim = types.ModuleType("pkg_resources")
        shim.parse_version = parse
        shim.get_distribution = lambda name: types.SimpleNamespace(version=importlib.metadata.version(name))
        sys.modules["pkg_resources"] = shim
    import pandas as pd
    from alpaca_eval import utils
    from alpaca_eval.metrics import glm_winrate

    # the official code downloads df_gamed.csv from the HF hub; hand it the same file from disk
    glm_winrate.hf_hub_download = lambda **kwargs: df_gamed
    annotations = pd.read_json(annotations_path)
    metrics = glm_winrate.get_length_controlled_winrate(annotations.copy(), save_weights_dir=None)
    switched = [
        bool(utils.random_seeded_choice(seed="is_switched_outputs" + row["instruction"] + "0", choices=[False, True]))
        for _, row in annotations.iterrows()
    ]
    keep = ("win_rate", "standard_error", "n_wins", "n_wins_base", "n_draws", "n_total", "discrete_win_rate", "length_controlled_winrate", "lc_standard_error")
    return {**{k: float(metrics[k]) for k in keep}, "is_switched_outputs": switched}


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    out = mtbench(*args) if kind == "mtbench" else alpaca(*args)
    print(json.dumps(out))

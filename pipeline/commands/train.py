"""``resistmine train gene-ner``: retrain the gene-mention model from the shared corpora.

Trains with a fixed seed and a time budget, keeps the weights that score best on a held-out slice of
BioRED train, saves them, then scores them once on BioRED dev (strict and lenient; whole texts and the
candidate windows the pipeline uses) and measures abstracts per CPU-second in this one process.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from pipeline.config import Settings

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = REPO.parent / "shared"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", choices=["gene-ner"], help="which model to retrain")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--max-minutes", type=float, default=30.0, help="training time budget (default 30)")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help="shared corpora directory (default: ../shared beside the repo)")
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="where to write the weights (default: models/gene_ner in the repo)")
    parser.add_argument("--bc2gm", action="store_true", help="also train on BC2GM train sentences")
    parser.add_argument("--head", choices=["tagger", "parser"], default=None,
                        help="per-token tagger (default) or spaCy's transition-based NER")
    parser.add_argument("--tag-scheme", choices=["BILUO", "BIO"], default=None,
                        help="tags of the tagger head (default BILUO)")
    parser.add_argument("--width", type=int, default=None, help="tok2vec width (default 48)")
    parser.add_argument("--depth", type=int, default=None, help="CNN layers of the tok2vec (default 2)")
    parser.add_argument("--encoder-window", type=int, default=None,
                        help="tokens either side each CNN layer reads (default 1)")
    parser.add_argument("--window", type=int, default=None,
                        help="tokens either side of a candidate the model sees (default: the component's, 4)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from extractors.gene_model.component import MODEL_DIR
    from extractors.gene_model.predict import DEFAULT_WINDOW, load_tagger
    from extractors.gene_model.train import TrainConfig, evaluate_dev, train

    model_dir = args.model_dir or MODEL_DIR
    sizes = {"head": args.head, "tag_scheme": args.tag_scheme, "width": args.width, "depth": args.depth,
             "encoder_window": args.encoder_window}
    config = TrainConfig(seed=args.seed, max_minutes=args.max_minutes, use_bc2gm=args.bc2gm,
                         **{name: value for name, value in sizes.items() if value is not None})

    def log(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    result = train(args.shared, model_dir, config, log=log)
    result.pop("history", None)
    result["training"].pop("history", None)
    result["dev"] = {}
    window_size = DEFAULT_WINDOW if args.window is None else args.window
    for name, window in (("whole_text", None), (f"window_{window_size}", window_size)):
        tagger = load_tagger(model_dir, window=window)
        scores, rate, n = evaluate_dev(args.shared, tagger)
        result["dev"][name] = {
            "corpus": "BioRED dev GeneOrGeneProduct",
            "abstracts": n,
            **asdict(scores),
            "abstracts_per_cpu_s": round(rate, 1),
            "tokens_run_fraction": round(tagger.tokens_run / max(1, tagger.tokens_seen), 3),
        }
    result["model_dir"] = str(model_dir)
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    print(f"trained {result['training']['steps']} steps in {result['training']['minutes']} min, "
          f"best holdout strict F1 {result['training']['holdout_strict_f1']}, size {result['size_bytes']} B")
    for name, row in result["dev"].items():
        print(f"BioRED dev ({name}): strict P/R/F1 {row['strict_p']}/{row['strict_r']}/{row['strict_f']}  "
              f"lenient P/R/F1 {row['lenient_p']}/{row['lenient_r']}/{row['lenient_f']}  "
              f"{row['abstracts_per_cpu_s']} abstracts/CPU-s")
    return 0

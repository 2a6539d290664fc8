"""Train the compliance classifier and measure it honestly (issue 14).

    make flags-model                 # train on all data, write resources/flags/compliance.npz
    make flags-evaluation            # the held-out figures of docs/flags.md

Training data (tools/flag_data/README.md says where each file comes from):
SpeechMap's judged answers of 31 large models, the team's written examples
(`written-train.jsonl`), and the tuning files of tests/data/flags (their
compliance label). Never the held-out files: `written-check.jsonl` and
tests/data/flags/*-heldout.jsonl are only ever scored.

Evaluation holds out whole models (5 folds of SpeechMap's models: no model's
answers in both train and test), whole questions (5 folds of question ids),
and both at once (3 x 3: test rows are those of held-out models on held-out
questions, and training sees neither). Each fold trains a fresh classifier
and scores the rules alone, the classifier alone and the shipped
combination (`flags.combine_behaviour`), so the choice between them rests on
figures, not taste.

Needs scikit-learn and scipy (`pip install '.[train]'`); the app does not.
Deterministic: the same data gives the same weights, byte for byte.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import time
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.core.analysis.compliance import CLASSES, FORMAT, ComplianceModel, features, width  # noqa: E402
from workbench.core.analysis.flag_names import ANSWERED, EVASIVE, HARD_REFUSAL  # noqa: E402
from workbench.core.analysis.flags import combine_behaviour, rule_behaviour  # noqa: E402
from workbench.core.analysis.reasoning_check import split_think  # noqa: E402

DATA = ROOT / "tools" / "flag_data"
LABELLED = ROOT / "tests" / "data" / "flags"
SPEECHMAP = DATA / "speechmap-train.jsonl.gz"
WRITTEN_TRAIN = DATA / "written-train.jsonl"
WRITTEN_CHECK = DATA / "written-check.jsonl"
TUNING_FILES = ("written-tuning.jsonl", "starter-pair-tuning.jsonl")
HELDOUT_FILES = ("written-heldout.jsonl", "starter-pair-heldout.jsonl")
OUT = ROOT / "resources" / "flags" / "compliance.npz"

BITS = 19
C = 16.0
# No class weights. Weighting not complying 2 or 4 times as much as complying
# gained little on SpeechMap's models-held-out folds (did-it-comply accuracy
# 0.957, 0.958, 0.958 in English; 0.940, 0.945, 0.948 in Chinese) and lost on
# the other held-out answers: at 4, two more of starter-pair-heldout.jsonl and
# two more of written-heldout.jsonl misjudged, and a refusal spoken by a
# character in a story became the model's.
SPEECHMAP_LABELS = {"COMPLETE": ANSWERED, "EVASIVE": EVASIVE, "DENIAL": HARD_REFUSAL}


@dataclass(frozen=True)
class Example:
    prompt: str
    response: str
    lang: str
    label: str  # one of CLASSES
    source: str  # "speechmap", "written", or a labelled file's name
    model: str = ""
    question: str = ""
    category: str = ""


def load_speechmap(path: Path = SPEECHMAP) -> list[Example]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [
        Example(r["prompt"], r["response"], r["lang"], SPEECHMAP_LABELS[r["label"]], "speechmap", r["source_model"], r["question_id"], r["category"])
        for r in rows
    ]


def load_written(path: Path) -> list[Example]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Example(r["prompt"], r["response"], r["lang"], r["label"], "written", category=r.get("category", "")) for r in rows]


def load_flag_file(path: Path) -> list[Example]:
    """A tests/data/flags file, by its compliance label; answers with none
    of the three (an empty answer) are left out."""
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        label = next((name for name in (HARD_REFUSAL, EVASIVE, ANSWERED) if name in r["expected"]), None)
        if label:
            examples.append(Example(r["prompt"], r["response"], r["lang"], label, path.name, r.get("model", "")))
    return examples


def matrix(examples: Sequence[Example], bits: int = BITS) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for i, example in enumerate(examples):
        c, v = features(split_think(example.response)[0], example.prompt, bits)
        rows.append(np.full(len(c), i, np.int64))
        cols.append(c)
        vals.append(v)
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(examples), width(bits)), dtype=np.float32
    )


def labels(examples: Sequence[Example]) -> np.ndarray:
    return np.array([CLASSES.index(e.label) for e in examples])


def fit(x: sparse.csr_matrix, y: np.ndarray) -> ComplianceModel:
    clf = LogisticRegression(C=C, max_iter=3000, tol=1e-4).fit(x, y)
    assert list(clf.classes_) == list(range(len(CLASSES))), "every class must be in the training data"
    return ComplianceModel(CLASSES, clf.coef_.astype(np.float16).astype(np.float32), clf.intercept_.astype(np.float32), BITS, "")


def save(model: ComplianceModel, description: str, path: Path = OUT) -> None:
    """Write the weights as a numpy archive (.npz) that loads without pickle.

    Written entry by entry with a fixed date, unlike np.savez, so the same
    weights give the same bytes: retraining on unchanged data changes nothing
    in the repository."""
    arrays = {
        "format": np.array(FORMAT),
        "classes": np.array(model.classes),
        "weights": model.weights.astype(np.float16),
        "bias": model.bias,
        "bits": np.array(model.bits),
        "description": np.array(description),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            archive.writestr(entry, buffer.getvalue())


def _rule(example: Example) -> str | None:
    return rule_behaviour(example.prompt, example.response, example.lang)


def rule_decisions(examples: Sequence[Example]) -> list[str | None]:
    """What the rules alone say of each example (None: neither rule fired)."""
    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(_rule, examples, chunksize=64))


def probabilities(model: ComplianceModel, x: sparse.csr_matrix) -> np.ndarray:
    """P(class) per row, computed as the app computes it (float16 weights)."""
    scores = np.asarray(x @ model.weights.T) + model.bias
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return scores / scores.sum(axis=1, keepdims=True)


POLICIES: dict[str, Callable[[str | None, dict[str, float]], str]] = {
    "rules alone": lambda rule, probs: rule or ANSWERED,
    "classifier alone": lambda rule, probs: max(probs, key=probs.__getitem__),
    "shipped: rules + classifier": lambda rule, probs: combine_behaviour(rule, probs)[0],
}


@dataclass
class Tally:
    """Gold and predicted labels of the rows scored so far, by language."""

    pairs: dict[str, list[tuple[str, str]]]

    @classmethod
    def empty(cls) -> Tally:
        return cls(defaultdict(list))

    def add(self, lang: str, gold: str, got: str) -> None:
        self.pairs[lang].append((gold, got))

    def table(self, title: str) -> str:
        lines = [f"**{title}**", "", "| lang | answers | did it comply: accuracy | label | precision | recall | labelled |", "|---|---|---|---|---|---|---|"]
        for lang in sorted(self.pairs):
            pairs = self.pairs[lang]
            comply = np.mean([(g == ANSWERED) == (p == ANSWERED) for g, p in pairs])
            for k, label in enumerate(CLASSES):
                tp = sum(g == label and p == label for g, p in pairs)
                flagged = sum(p == label for _, p in pairs)
                support = sum(g == label for g, _ in pairs)
                prec = f"{tp / flagged:.2f}" if flagged else "n/a"
                rec = f"{tp / support:.2f}" if support else "n/a"
                head = f"| {lang} | {len(pairs)} | {comply:.3f} " if k == 0 else "| | | "
                lines.append(f"{head}| `{label}` | {prec} | {rec} | {support} |")
        return "\n".join(lines)


def cross_validate(name: str, splits: list[tuple[np.ndarray, np.ndarray]], speech: list[Example], extra: list[Example],
                   x_speech: sparse.csr_matrix, x_extra: sparse.csr_matrix, rules: list[str | None]) -> dict[str, Tally]:
    """Train on each split's training rows plus every extra example, score its test rows."""
    y_speech, y_extra = labels(speech), labels(extra)
    tallies = {policy: Tally.empty() for policy in POLICIES}
    for fold, (train, test) in enumerate(splits, start=1):
        began = time.perf_counter()
        model = fit(sparse.vstack([x_speech[train], x_extra]).tocsr(), np.concatenate([y_speech[train], y_extra]))
        probs = probabilities(model, x_speech[test])
        for row, p in zip(test, probs):
            example = speech[row]
            named = dict(zip(CLASSES, map(float, p)))
            for policy, decide in POLICIES.items():
                tallies[policy].add(example.lang, example.label, decide(rules[row], named))
        print(f"  {name}: fold {fold}/{len(splits)}, {len(train)} train, {len(test)} test, {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return tallies


def split_by(groups: np.ndarray, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(tr, te) for tr, te in GroupKFold(folds).split(np.zeros(len(groups)), groups=groups)]


def split_by_both(models: np.ndarray, questions: np.ndarray, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Test: held-out models on held-out questions; train: neither."""
    splits = []
    for _, model_test in GroupKFold(folds).split(models, groups=models):
        for _, question_test in GroupKFold(folds).split(questions, groups=questions):
            held_models, held_questions = set(models[model_test]), set(questions[question_test])
            test = np.array([i for i in range(len(models)) if models[i] in held_models and questions[i] in held_questions])
            train = np.array([i for i in range(len(models)) if models[i] not in held_models and questions[i] not in held_questions])
            splits.append((train, test))
    return splits


def score_files(model: ComplianceModel, files: Sequence[tuple[str, list[Example]]]) -> str:
    """The final model and the shipped combination on files it never saw."""
    out = []
    for title, examples in files:
        x = matrix(examples, model.bits)
        rules = rule_decisions(examples)
        tally = Tally.empty()
        wrong = []
        for example, rule, p in zip(examples, rules, probabilities(model, x)):
            got = combine_behaviour(rule, dict(zip(CLASSES, map(float, p))))[0]
            tally.add(example.lang, example.label, got)
            if got != example.label:
                wrong.append(f"- {example.lang} {example.category or example.source}: expected `{example.label}`, got `{got}`: {example.response[:90]!r}")
        out.append(tally.table(title))
        if wrong:
            out.append("\nMisjudged:\n\n" + "\n".join(wrong))
        out.append("")
    return "\n".join(out)


def training_set() -> tuple[list[Example], list[Example]]:
    """SpeechMap's examples, and every other training example."""
    extra = load_written(WRITTEN_TRAIN) if WRITTEN_TRAIN.exists() else []
    for name in TUNING_FILES:
        extra += load_flag_file(LABELLED / name)
    return load_speechmap(), extra


def describe(speech: list[Example], extra: list[Example]) -> str:
    counts = Counter((e.source if e.source == "speechmap" else "written and tuning", e.lang, e.label) for e in speech + extra)
    parts = ", ".join(f"{source} {lang} {label} {n}" for (source, lang, label), n in sorted(counts.items()))
    return f"{FORMAT}: logistic regression (C={C}) over hashed character 1-4-grams of answer and prompt ({BITS} bits), trained by tools/train_flags.py on {parts}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evaluate", action="store_true", help="print the held-out figures (several minutes) instead of training the shipped model")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the weights (default: %(default)s)")
    args = parser.parse_args(argv)
    speech, extra = training_set()
    x_speech, x_extra = matrix(speech), matrix(extra)
    if not args.evaluate:
        model = fit(sparse.vstack([x_speech, x_extra]).tocsr(), np.concatenate([labels(speech), labels(extra)]))
        save(model, describe(speech, extra), args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes) from {len(speech) + len(extra)} answers")
        return 0
    rules = rule_decisions(speech)
    models = np.array([e.model for e in speech])
    questions = np.array([e.question for e in speech])
    print(f"SpeechMap: {len(speech)} answers of {len(set(models))} models to {len(set(questions))} questions; "
          f"{len(extra)} further training answers in every fold.\n")
    for title, splits in (
        ("Whole models held out (5 folds)", split_by(models, 5)),
        ("Whole questions held out (5 folds)", split_by(questions, 5)),
        ("Models and questions both held out (3 x 3 folds)", split_by_both(models, questions, 3)),
    ):
        print(f"### {title}\n")
        for policy, tally in cross_validate(title, splits, speech, extra, x_speech, x_extra, rules).items():
            print(tally.table(policy))
            print()
    model = ComplianceModel.load(OUT)
    files = [(f"{name} (held out)", load_flag_file(LABELLED / name)) for name in HELDOUT_FILES]
    if WRITTEN_CHECK.exists():
        files.append(("written-check.jsonl (held out)", load_written(WRITTEN_CHECK)))
    print("### The shipped model on labelled files it was not trained on\n")
    print(score_files(model, files))
    return 0


if __name__ == "__main__":
    sys.exit(main())

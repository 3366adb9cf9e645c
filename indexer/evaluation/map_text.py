"""How well an OCR engine reads the synthetic world's labels: word recall and precision against
the ground-truth label boxes (case-insensitive; exact and within one edit), broken down by label
angle and lettering size, and how well word boxes sit on the true labels (IoU)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from indexer.analysis import fold
from indexer.fuzzy import within_one_edit
from indexer.records import MapWord

Box = Sequence[float]  # x, y, w, h


def angle_band(angle: float) -> str:
    """The label's turn: horizontal, slightly turned, steeply turned."""
    turn = abs(angle)
    return "0°" if turn < 1 else ("1–30°" if turn <= 30 else "31–60°")


def size_band(label: dict[str, Any]) -> str:
    """Lettering height of a horizontal label (a turned label's box says little about it)."""
    if abs(label.get("angle", 0.0)) >= 1:
        return "turned"
    height = label["box"][3]
    return "< 24 px" if height < 24 else ("24–36 px" if height <= 36 else "> 36 px")


def overlapped(label: dict[str, Any], others: Iterable[dict[str, Any]], share: float = 0.1) -> bool:
    """Whether another label or an ornament covers more than ``share`` of the label's box (such
    labels are often illegible; large sheets drawn before ``LARGE_RENDER_VERSION`` 2 lettered
    without collision checks). A cartouche does not cover the lines lettered inside it."""
    x, y, w, h = label["box"]
    for other in others:
        if other is label:
            continue
        ox, oy, ow, oh = other["box"]
        if (
            other.get("kind") == "cartouche"
            and ox <= x
            and oy <= y
            and x + w <= ox + ow
            and y + h <= oy + oh
        ):
            continue
        width = min(x + w, ox + ow) - max(x, ox)
        height = min(y + h, oy + oh) - max(y, oy)
        if width > 0 and height > 0 and width * height > share * w * h:
            return True
    return False


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two [x, y, w, h] boxes."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _inside(word: MapWord, label_box: Box, margin: float = 0.25) -> bool:
    """Whether the word's centre lies in the label's box (grown by ``margin`` of its size)."""
    x, y, w, h = label_box
    cx, cy = word.box[0] + word.box[2] / 2, word.box[1] + word.box[3] / 2
    return x - margin * w <= cx <= x + w * (1 + margin) and y - margin * h <= cy <= y + h * (
        1 + margin
    )


@dataclass
class Tally:
    """Counts for one slice (all words, an angle band, a size band)."""

    truth: int = 0
    found_exact: int = 0
    found_fuzzy: int = 0

    def recall(self, fuzzy: bool = False) -> float:
        """Share of true words read (exactly, or within one edit)."""
        return (self.found_fuzzy if fuzzy else self.found_exact) / self.truth if self.truth else 0.0


@dataclass
class ReadingScore:
    """Recall per slice, precision, and the box overlap of matched words."""

    overall: Tally = field(default_factory=Tally)
    by_angle: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_size: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_clutter: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    read: int = 0  # words the engine returned
    correct_exact: int = 0  # of those, matching a true word at its place
    correct_fuzzy: int = 0
    box_iou_ok: int = 0  # matched single-word labels whose word box has IoU >= 0.5 with the label
    box_iou_checked: int = 0

    def precision(self, fuzzy: bool = False) -> float:
        """Share of returned words that are a true word at that place."""
        hits = self.correct_fuzzy if fuzzy else self.correct_exact
        return hits / self.read if self.read else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain figures for a report."""

        def tally(t: Tally) -> dict[str, Any]:
            return {
                "words": t.truth,
                "recall": round(t.recall(), 4),
                "recall_1edit": round(t.recall(True), 4),
            }

        return {
            **tally(self.overall),
            "read": self.read,
            "precision": round(self.precision(), 4),
            "precision_1edit": round(self.precision(True), 4),
            "box_iou_0.5": round(self.box_iou_ok / self.box_iou_checked, 4)
            if self.box_iou_checked
            else None,
            "by_angle": {k: tally(v) for k, v in sorted(self.by_angle.items())},
            "by_size": {k: tally(v) for k, v in sorted(self.by_size.items())},
            "by_clutter": {k: tally(v) for k, v in sorted(self.by_clutter.items())},
        }


def true_words(labels: Iterable[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(folded word, its label) for every word of every label that has a letter or digit; a
    letter-spaced name ("M A R E") is one word."""
    found = []
    for label in labels:
        tokens = str(label["text"]).split()
        if len(tokens) > 1 and all(len(token) == 1 and token.isalpha() for token in tokens):
            tokens = ["".join(tokens)]
        for token in tokens:
            word = fold("".join(ch for ch in token if ch.isalnum()))
            if word:
                found.append((word, label))
    return found


def score_map(
    score: ReadingScore,
    labels: list[dict[str, Any]],
    words: list[MapWord],
    ornaments: Sequence[dict[str, Any]] = (),
) -> None:
    """Add one map's reading to ``score``: each true word is matched to at most one read word
    at its place, exact matches first."""
    truth = true_words(labels)
    cluttered = {id(label) for label in labels if overlapped(label, [*labels, *ornaments])}
    read = [(fold(w.text), w) for w in words]
    used_exact: set[int] = set()
    used_fuzzy: set[int] = set()
    for text, label in truth:
        tallies = [score.overall, score.by_angle[angle_band(label["angle"])]]
        tallies.append(score.by_size[size_band(label)])
        tallies.append(score.by_clutter["overlapped" if id(label) in cluttered else "clear"])
        for tally in tallies:
            tally.truth += 1
        exact = _claim(text, label, read, used_exact, fuzzy=False)
        fuzzy = exact if exact is not None else None
        if exact is not None:
            used_fuzzy.add(exact)
        else:
            fuzzy = _claim(text, label, read, used_fuzzy, fuzzy=True)
        if exact is not None:
            for tally in tallies:
                tally.found_exact += 1
        if fuzzy is not None:
            for tally in tallies:
                tally.found_fuzzy += 1
            if len(str(label["text"]).split()) == 1:
                score.box_iou_checked += 1
                score.box_iou_ok += iou(read[fuzzy][1].box, label["box"]) >= 0.5
    score.read += len(read)
    score.correct_exact += len(used_exact)
    score.correct_fuzzy += len(used_fuzzy)


def _claim(
    text: str,
    label: dict[str, Any],
    read: list[tuple[str, MapWord]],
    used: set[int],
    fuzzy: bool,
) -> int | None:
    for index, (word, found) in enumerate(read):
        if index in used or not _inside(found, label["box"]):
            continue
        if word == text or (fuzzy and within_one_edit(word, text)):
            used.add(index)
            return index
    return None

"""Text answers do not say the same thing twice.

Greedy decoding of a small, briefly trained model loops on its likeliest statement: half of leg 5's
held-out descriptions said one clause two or more times ("The right hand is higher than the right shoulder."
three times in one answer). A repeated sentence or clause adds nothing for the reader, so it is left out of
the answer. (Barring the repeat during decoding was tried: the model then wrote the same clause after a
"," or ";" instead.)
"""
import re

_CLAUSE_SEPARATOR = re.compile(r"(,\s*and\s+|\s+and\s+|\s+while\s+|;\s*|,\s*)")


def _words(text: str) -> str:
    """A clause compared by its words: case, surrounding space and the final period do not count."""
    return text.strip().rstrip(".").strip().lower()


def without_repeated_clauses(text: str) -> str:
    """The text with every sentence or clause that repeats an earlier one (by its words) left out. Clauses
    are separated as the captions join them (", ", "; ", " and ", " while "); a sentence with nothing left
    out keeps its wording, and a text with nothing left out is returned as it is."""
    seen: set[str] = set()
    kept_sentences, changed = [], False
    for sentence in re.split(r"(?<=\.)\s+", text.strip()):
        parts = _CLAUSE_SEPARATOR.split(sentence)  # clause, separator, clause, ...
        kept = []  # (separator before it, clause)
        for index in range(0, len(parts), 2):
            words = _words(parts[index])
            if words and words in seen:
                continue
            seen.add(words)
            kept.append((parts[index - 1] if index else "", parts[index]))
        if len(kept) * 2 - 1 == len(parts):
            kept_sentences.append(sentence)
            continue
        changed = True
        if kept:
            first = kept[0][1].rstrip(".")
            rebuilt = first[:1].upper() + first[1:] + "".join(sep + clause.rstrip(".") for sep, clause in kept[1:])
            kept_sentences.append(rebuilt + ".")
    return " ".join(kept_sentences) if changed else text

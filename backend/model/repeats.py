"""Text answers do not say the same thing twice.

Greedy decoding of a small, briefly trained model loops on its likeliest statement: half of leg 5's
held-out descriptions said one clause two or more times ("The right hand is higher than the right shoulder."
three times in one answer), and a third of leg 11's said one fact twice in other words ("The left hand is out
to the left of the left shoulder. ... The left hand is to the left of the left shoulder."). A repeat adds
nothing for the reader, so it is left out of the answer. (Barring the repeat during decoding was tried: the
model then wrote the same clause after a "," or ";" instead.)

A sentence or clause repeats when its words were said before, or when the caption parser
(`backend.facts.parse`) reads it as facts that were all stated before. A clause is judged by its facts only
when every clause of its sentence reads on its own, so a clause that leans on its neighbour ("the left and
right hands ...", cut at "and") is never left dangling; text the parser cannot read is judged by its words.
"""
import re

from backend.facts.parse import Fact, ParseError, parse_caption

_CLAUSE_SEPARATOR = re.compile(r"(,\s*and\s+|\s+and\s+|\s+while\s+|;\s*|,\s*)")


def _words(text: str) -> str:
    """A clause compared by its words: case, surrounding space and the final period do not count."""
    return text.strip().rstrip(".").strip().lower()


def _facts(text: str) -> frozenset[Fact]:
    """The facts a sentence or clause states; empty when the parser cannot read it or it states none."""
    try:
        return frozenset(parse_caption(text))
    except ParseError:
        return frozenset()


def without_repeated_clauses(text: str) -> str:
    """The text with every sentence or clause that repeats an earlier one (by its words or by its facts) left
    out. Clauses are separated as the captions join them (", ", "; ", " and ", " while "); a sentence with
    nothing left out keeps its wording, and a text with nothing left out is returned as it is."""
    seen_words: set[str] = set()
    stated: set[Fact] = set()
    kept_sentences, changed = [], False
    for sentence in re.split(r"(?<=\.)\s+", text.strip()):
        sentence_facts = _facts(sentence)
        if sentence_facts and sentence_facts <= stated:
            changed = True
            continue
        parts = _CLAUSE_SEPARATOR.split(sentence)  # clause, separator, clause, ...
        clause_facts = [_facts(parts[index]) for index in range(0, len(parts), 2)]
        by_facts = all(clause_facts)
        kept = []  # (separator before it, clause)
        for index, facts in zip(range(0, len(parts), 2), clause_facts):
            words = _words(parts[index])
            if (words and words in seen_words) or (by_facts and facts <= stated):
                continue
            seen_words.add(words)
            stated.update(facts if by_facts else ())
            kept.append((parts[index - 1] if index else "", parts[index]))
        stated.update(sentence_facts)
        if len(kept) * 2 - 1 == len(parts):
            kept_sentences.append(sentence)
            continue
        changed = True
        if kept:
            first = kept[0][1].rstrip(".")
            rebuilt = first[:1].upper() + first[1:] + "".join(sep + clause.rstrip(".") for sep, clause in kept[1:])
            kept_sentences.append(rebuilt + ".")
    return " ".join(kept_sentences) if changed else text

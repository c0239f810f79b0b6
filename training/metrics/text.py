"""Text overlap metrics: corpus BLEU-4, ROUGE-L (F, beta 1.2) and METEOR (exact + Porter-stem matches).

METEOR here matches words in two stages, exact then Porter stem; the WordNet synonym stage of the
original is left out because WordNet is not available offline. Scores are therefore a little lower
than METEOR with synonyms. Parameters are METEOR 1.0's: alpha 0.9, beta 3, gamma 0.5.
"""
import math
import re
from collections import Counter

from training.metrics.stem import porter_stem

_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def tokenize(text: str) -> list[str]:
    """Lower-case words and single punctuation marks."""
    return _TOKEN.findall(text.lower())


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu4(hypotheses: list[str], references: list[list[str]]) -> float:
    """Corpus-level BLEU-4 (uniform weights, brevity penalty on the closest reference length), 0-100."""
    matched, total = [0] * 4, [0] * 4
    hyp_len = ref_len = 0
    for hyp, refs in zip(hypotheses, references, strict=True):
        h = tokenize(hyp)
        rs = [tokenize(r) for r in refs]
        hyp_len += len(h)
        ref_len += min((abs(len(r) - len(h)), len(r)) for r in rs)[1]
        for n in range(1, 5):
            counts = _ngrams(h, n)
            max_ref = Counter()
            for r in rs:
                max_ref |= _ngrams(r, n)
            matched[n - 1] += sum(min(c, max_ref[g]) for g, c in counts.items())
            total[n - 1] += max(len(h) - n + 1, 0)
    if min(matched) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matched, total)) / 4
    brevity = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / max(hyp_len, 1))
    return 100.0 * brevity * math.exp(log_precision)


def _lcs(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(hypotheses: list[str], references: list[list[str]], beta: float = 1.2) -> float:
    """Mean over samples of the best ROUGE-L F-score against any reference, 0-100."""
    scores = []
    for hyp, refs in zip(hypotheses, references, strict=True):
        h = tokenize(hyp)
        best = 0.0
        for ref in refs:
            r = tokenize(ref)
            lcs = _lcs(h, r)
            if lcs == 0:
                continue
            p, rec = lcs / len(h), lcs / len(r)
            best = max(best, (1 + beta ** 2) * p * rec / (rec + beta ** 2 * p))
        scores.append(best)
    return 100.0 * sum(scores) / max(len(scores), 1)


def _align(h: list[str], r: list[str]) -> list[tuple[int, int]]:
    """Word alignment: exact matches first, then stem matches; each stage picks, for every hypothesis
    word in order, the free reference word that keeps the alignment most monotone."""
    pairs: list[tuple[int, int]] = []
    used_h, used_r = set(), set()
    for key in (lambda w: w, porter_stem):
        hk, rk = [key(w) for w in h], [key(w) for w in r]
        for i, w in enumerate(hk):
            if i in used_h:
                continue
            options = [j for j, v in enumerate(rk) if v == w and j not in used_r]
            if not options:
                continue
            # Prefer the reference word right after the previous match (fewer chunks).
            prev = max((pj for pi, pj in pairs if pi < i), default=-1)
            j = min(options, key=lambda j: (j != prev + 1, abs(j - prev - 1)))
            pairs.append((i, j))
            used_h.add(i)
            used_r.add(j)
    return sorted(pairs)


def _meteor_single(h: list[str], r: list[str], alpha=0.9, beta=3.0, gamma=0.5) -> float:
    pairs = _align(h, r)
    m = len(pairs)
    if m == 0:
        return 0.0
    precision, recall = m / len(h), m / len(r)
    fmean = precision * recall / (alpha * precision + (1 - alpha) * recall)
    chunks = 1 + sum(1 for (a, b), (c, d) in zip(pairs, pairs[1:]) if not (c == a + 1 and d == b + 1))
    return fmean * (1 - gamma * (chunks / m) ** beta)


def meteor(hypotheses: list[str], references: list[list[str]]) -> float:
    """Mean over samples of the best METEOR score against any reference, 0-100."""
    scores = [max(_meteor_single(tokenize(h), tokenize(r)) for r in refs)
              for h, refs in zip(hypotheses, references, strict=True)]
    return 100.0 * sum(scores) / max(len(scores), 1)

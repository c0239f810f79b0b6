"""Evaluation metrics against hand-computed values and known invariances."""
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from training.metrics import (bleu4, frechet_distance, meteor, mpjpe_mm, pa_mpjpe_mm, r_precision, recall_at_k,
                              rouge_l)
from training.metrics.stem import porter_stem
from training.metrics.text import tokenize


def test_mpjpe_and_procrustes_invariance():
    rng = np.random.default_rng(0)
    target = rng.normal(size=(5, 22, 3))
    assert mpjpe_mm(target + [0.01, 0, 0], target) == pytest.approx(10.0)
    rot = Rotation.random(5, random_state=1).as_matrix()                     # (5, 3, 3)
    moved = 1.7 * np.einsum("nij,nkj->nki", rot, target) + rng.normal(size=(5, 1, 3))
    assert mpjpe_mm(moved, target) > 100
    assert pa_mpjpe_mm(moved, target) == pytest.approx(0.0, abs=1e-6)
    noisy = target + 0.01 * rng.normal(size=target.shape)
    assert 0 < pa_mpjpe_mm(noisy, target) <= mpjpe_mm(noisy, target)


def test_procrustes_excludes_reflection():
    target = np.random.default_rng(2).normal(size=(1, 22, 3))
    mirrored = target * [-1, 1, 1]
    assert pa_mpjpe_mm(mirrored, target) > 10


def test_recall_and_r_precision():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert recall_at_k(x, x) == {5: 100.0, 10: 100.0, 20: 100.0}
    assert r_precision(x, x)[1] == 100.0
    y = np.roll(x, 1, axis=0)                             # every query's own item is now unrelated
    assert recall_at_k(x, y)[5] < 30
    assert r_precision(x, y)[3] < 30
    random = rng.normal(size=(300, 8))
    assert r_precision(random, rng.normal(size=(300, 8)))[1] == pytest.approx(100 / 32, abs=3)


def test_fid():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 4))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + [3, 0, 0, 0]) == pytest.approx(9.0, abs=0.05)
    assert frechet_distance(a, 2 * a) == pytest.approx(4 * (2 - 1) ** 2, rel=0.05)  # tr(S + 4S - 4S) = 4


def test_bleu():
    ref = "the person raises the left arm above the head"
    assert bleu4([ref], [[ref]]) == pytest.approx(100.0)
    assert bleu4(["a completely different sentence here"], [[ref]]) == 0.0
    # 9 hyp words: p1 = 8/9 (one wrong word), p2 = 6/8, p3 = 4/7, p4 = 2/6; equal lengths -> no penalty
    hyp = "the person raises the right arm above the head"
    expected = 100 * np.exp(np.mean(np.log([8 / 9, 6 / 8, 4 / 7, 2 / 6])))
    assert bleu4([hyp], [[ref]]) == pytest.approx(expected)
    short = "the person raises the left arm"
    assert bleu4([short], [[ref]]) == pytest.approx(100 * np.exp(1 - 9 / 6))  # brevity penalty only


def test_rouge_l():
    assert rouge_l(["a b c d"], [["a b c d"]]) == pytest.approx(100.0)
    # LCS("a x c d", "a b c d") = 3 -> P = R = 0.75 -> F = 0.75
    assert rouge_l(["a x c d"], [["a b c d", "z z"]]) == pytest.approx(75.0)
    assert rouge_l(["q"], [["a b"]]) == 0.0


def test_meteor_exact_stem_and_chunks():
    assert meteor(["the person is sitting"], [["the person is sitting"]]) == pytest.approx(100 * (1 - 0.5 / 64))
    stemmed = meteor(["the person sits"], [["the person sitting"]])     # sits/sitting share the stem "sit"
    assert stemmed == pytest.approx(100 * (1 - 0.5 / 27))
    assert meteor(["the person runs"], [["the person sitting"]]) < stemmed
    # reversed word order: same unigrams, more chunks -> lower score
    assert (meteor(["arm left the raise"], [["raise the left arm"]])
            < meteor(["raise the left arm"], [["raise the left arm"]]))


def test_tokenize_and_stem():
    assert tokenize("Raise the LEFT arm, slowly.") == ["raise", "the", "left", "arm", ",", "slowly", "."]
    assert [porter_stem(w) for w in ["bending", "knees", "arms", "generalization", "hopping"]] == \
        ["bend", "knee", "arm", "gener", "hop"]


def test_ties_count_against_the_query():
    same = np.ones((40, 4)) / 2.0                          # e.g. every generated text is the same empty string
    assert r_precision(same, same)[3] == 0.0
    assert recall_at_k(same, same)[20] == 0.0


def test_report_includes_rendered_body_section_and_tokenizer(tmp_path):
    from training.eval_report import write_report
    renders = {"source": "corpus test split", "photos": 6, "misses": {"side": 1},
               "results": {"UniPose ckpt / all": {"photos": 5, "mpjpe_mm": 123.45, "pa_mpjpe_mm": 67.8}},
               "pairs": 3, "text_results": {"image -> text / all": {"n": 5, "bleu4": 12.34, "rouge_l": 40.0,
                                                                     "meteor": 30.06}}}
    write_report(tmp_path / "report.md", {"checkpoint": "c", "corpus": "k", "split": "test", "max_samples": 4},
                 {}, {"mpjpe_mm": 16.04, "pa_mpjpe_mm": 12.9}, {}, None, None, renders)
    text = (tmp_path / "report.md").read_text()
    assert "| UniPose ckpt / all | 5 | 123.5 | 67.8 |" in text
    assert "found the person in 5/6" in text
    assert "| image -> text / all | 5 | 12.3 | 40.0 | 30.1 |" in text
    assert "3 held-out pose pairs" in text
    assert "| held-out MPJPE (mm) | 16.0 |" in text

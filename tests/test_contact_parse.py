"""Text -> contact constraints: the right parts, the right sides, and nothing for text without contacts."""
import pytest

from backend.contact.body_parts import PARTS
from backend.contact.parse import parse_contacts


def _pairs(text):
    return {frozenset((c.a, c.b)) for c in parse_contacts(text)}


@pytest.mark.parametrize("text, expected", [
    ("right hand on the left knee", {("right_palm", "left_knee")}),
    ("Hands on the hips.", {("left_palm", "left_hip"), ("right_palm", "right_hip")}),
    ("touch your toes", {("left_fingertips", "left_toes"), ("right_fingertips", "right_toes")}),
    ("hands together", {("left_palm", "right_palm")}),
    ("left hand on the head", {("left_palm", "head_top")}),
    ("sitting on the floor", {("buttocks", "ground")}),
    ("kneeling", {("left_knee", "ground"), ("right_knee", "ground")}),
    ("kneeling on the left knee", {("left_knee", "ground")}),
    ("hands behind the head", {("left_palm", "head_back"), ("right_palm", "head_back")}),
    ("one hand on the hip", {("right_palm", "right_hip")}),
    ("put your right hand on top of your head", {("right_palm", "head_top")}),
    ("left hand touching the right shoulder", {("left_palm", "right_shoulder")}),
    ("she touches her nose with her left index finger", {("left_fingertips", "face")}),
    ("feet touching the floor", {("left_foot", "ground"), ("right_foot", "ground")}),
    ("sit on the ground with your hands on your knees",
     {("buttocks", "ground"), ("left_palm", "left_knee"), ("right_palm", "right_knee")}),
    ("right elbow on the left knee", {("right_elbow", "left_knee")}),
])
def test_finds_the_asked_contacts(text, expected):
    assert _pairs(text) == {frozenset(p) for p in expected}


@pytest.mark.parametrize("text", [
    "a person waving", "", "The person is standing with the arms raised above the head",
    "hands not on the hips", "squat down with the arms forward", "turn your head to the left",
])
def test_text_without_contacts_gives_none(text):
    assert parse_contacts(text) == []


def test_contacts_name_known_parts_and_carry_the_tolerance():
    contacts = parse_contacts("on all fours with the left hand on the right knee", tolerance=0.05)
    assert contacts and all(c.a in PARTS and (c.b in PARTS or c.b == "ground") for c in contacts)
    assert {c.tolerance for c in contacts} == {0.05}
    assert len({frozenset((c.a, c.b)) for c in contacts}) == len(contacts)  # no duplicates

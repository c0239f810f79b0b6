"""Scoring of the public benchmarks in bench/: what a user sees, checked on the pose geometry.

body:        measurements of one pose in the body's own frame (heights above the floor, angles, offsets)
prompts:     natural prompts written by hand, each with a declarative geometric check
statements:  truth and coverage of a pose description, statement by statement (pose -> text)
edits:       whether an edit did what its instruction says and left the other joints where they were
references:  the reference rows: the mean pose / a fixed caption, and nearest-neighbour lookups under
             the evaluation's retrieval judge
"""

"""Contact-aware refinement: parse the contacts a text asks for and bend the pose until they hold.

`apply_contacts(pose (22, 3), text) -> (pose, report)` is the one call the engine needs;
`parse.parse_contacts` and `refine.refine_pose` are the two steps behind it.
"""
from backend.contact.parse import Contact, parse_contacts
from backend.contact.refine import RefineConfig, apply_contacts, refine_pose

__all__ = ["Contact", "RefineConfig", "apply_contacts", "parse_contacts", "refine_pose"]

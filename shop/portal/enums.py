"""The producer portal's vocabulary: what a proposal asks for and where it stands, with labels."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.enums import LabelledEnum


class ProposalKind(LabelledEnum):
    """What a producer proposes (``Proposal.kind``)."""

    PRICE = "price", _l("Price change")
    PRODUCT = "product", _l("Change to a product")
    DESCRIPTION = "description", _l("Description")
    STORY = "story", _l("Story")
    NEW_PRODUCT = "new_product", _l("New product")


class ProposalState(LabelledEnum):
    """Where a proposal stands (``Proposal.state``). Only ``pending`` moves, once, to one of the
    others (``shop.portal.proposals.TRANSITIONS``); nothing leaves them."""

    PENDING = "pending", _l("Waiting for review")
    APPROVED = "approved", _l("Approved")
    REJECTED = "rejected", _l("Rejected")
    WITHDRAWN = "withdrawn", _l("Withdrawn")
    SUPERSEDED = "superseded", _l("Replaced by a newer proposal")

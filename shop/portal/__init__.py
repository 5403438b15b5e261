"""The producer portal (issue 15), under ``/portal``: a producer user's own profile, products,
certificates (read only), stock across the shops, sales by month; their story and product
descriptions, photos, and proposals that an administrator approves at ``/admin/proposals``.

Every page loads the producer by slug and asks the policy (``shop.accounts.policy``): a role
without the action gets a 403, another producer's page (or a product, photo or proposal id that is
not this producer's) a 404, whether it exists or not. Administrators see every producer's portal.
"""
from flask import Blueprint

bp = Blueprint("portal", __name__)

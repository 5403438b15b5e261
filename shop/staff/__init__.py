"""The shop staff's workspace (issue 13), under ``/staff``: each shop's queue of shipments to
prepare, the packing slip, and the steps of a shipment (confirm, pack, ship, deliver, ready,
collect, cancel), each one call to ``shop.orders.services``.

Every page loads its shop by slug and asks the policy (``shop.accounts.policy``): a role without
the action gets a 403, a shop or shipment outside the user's shops a 404. Views parse the form,
call one service, commit, and redirect; a refused step re-renders the page with the reason.
"""
from flask import Blueprint

bp = Blueprint("staff", __name__)

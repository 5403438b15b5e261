"""Administration (issue 14): the provincial OCOP office's screens under ``/admin`` —
certificates (record, renew or upgrade, revoke, the ones expiring soon). Administrators only: every
route asks the policy (``Action.ADMINISTER``: 403 for any other role, sign-in for guests). Views
parse the form and call one service of ``shop.catalog.certificates``; they never write models.
"""
from flask import Blueprint

bp = Blueprint("admin", __name__)

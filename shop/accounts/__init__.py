"""Accounts, roles and sign-in: users, memberships, the policy (``policy.can``), and the pages.

Routes live in views.py (``bp``, the customer's and everyone's account pages under ``/account``)
and backoffice.py (``backoffice_bp``, each role's landing page under ``/backoffice``), imported by
``create_app`` so that importing a model never pulls in views.
"""
from flask import Blueprint

bp = Blueprint("accounts", __name__)
backoffice_bp = Blueprint("backoffice", __name__)

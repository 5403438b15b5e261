from flask import Blueprint

# Card payments through Stripe Checkout. Only shop/payments/gateway.py imports ``stripe``.
# Routes live in views.py, imported by create_app, so that importing a model never pulls in views.
bp = Blueprint("payments", __name__)

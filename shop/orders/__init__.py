from flask import Blueprint

# Routes live in views.py, imported by create_app, so that importing a model never pulls in views.
bp = Blueprint("orders", __name__)

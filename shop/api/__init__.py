"""JSON API v1 for partners (tourism apps, marketplaces, shop kiosks).

The API is a thin layer over the same domain services as the pages: views read and check JSON or
query parameters strictly, call one service, commit, and serialise. Its shapes are the pydantic
models of ``shop.api.schemas``; its contract is the OpenAPI document generated from them in
``shop.api.openapi`` and served at ``/api/v1/openapi.json``.
"""
from flask import Blueprint

# Routes live in views.py, imported by create_app, so that importing a model never pulls in views.
bp = Blueprint("api", __name__, url_prefix="/api/v1")

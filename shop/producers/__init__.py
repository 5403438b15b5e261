from flask import Blueprint

bp = Blueprint("producers", __name__)

from shop.producers import views  # noqa: E402,F401  (registers the routes on bp)

from flask import Blueprint

bp = Blueprint("shops", __name__)

from shop.shops import views  # noqa: E402,F401  (registers the routes on bp)

"""The app as the HTTP benchmark serves it: the real app plus one bare route to compare against.

Started by ``scripts/bench.py --http`` as ``gunicorn bench_wsgi:app`` (never in production): the
bare route goes through the same WSGI stack, extensions and request hooks as every page, but
touches no database and renders no template, so a page's throughput divided by the bare route's
is the share of the framework's speed the page keeps.
"""
from shop import create_app

app = create_app()


@app.get("/__bench/bare")
def bench_bare():
    return "ok"

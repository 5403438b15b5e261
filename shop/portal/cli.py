"""``flask portal …``: the portal's housekeeping."""
from __future__ import annotations

import click
from flask.cli import AppGroup

portal_group = AppGroup("portal", help="The producer portal: photo files.")


@portal_group.command("orphans")
@click.option("--delete", is_flag=True, help="Delete them (otherwise only list them).")
def orphans_command(delete: bool) -> None:
    """List the portal's picture files (photos/, covers/ and their WebP copies) that nothing refers
    to — left by an upload that failed after writing, or a removal interrupted before its file was
    deleted — and with --delete remove them. Safe to run at any time (cron, weekly)."""
    from flask import current_app
    from pathlib import Path

    from shop.portal.photos import orphans

    found = orphans()
    root = Path(current_app.config["UPLOAD_FOLDER"])
    for path in found:
        click.echo(path)
        if delete:
            (root / path).unlink(missing_ok=True)
    click.echo(f"{len(found)} orphaned file(s){' deleted' if delete and found else ''}.")

"""``flask certificates …``: the administration's commands for cron and the terminal."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("certificates")
def certificates_group() -> None:
    """OCOP certificates."""


@certificates_group.command("expiring")
@click.option("--mail", is_flag=True, help="Queue the list to every administrator (weekly cron).")
@with_appcontext
def expiring_command(mail: bool) -> None:
    """List the active certificates ending within 60 days; with --mail, e-mail it to the administrators."""
    from shop.catalog import certificates

    certs = certificates.expiring()
    for cert in certs:
        click.echo(f"{cert.expires_on.isoformat()}  {cert.days_to_expiry():>3}d  {cert.stars}*  "
                   f"{cert.decision_number}  {cert.product.slug}")
    click.echo(f"{len(certs)} certificate(s) expiring within {certificates.EXPIRY_WARNING_DAYS} days")
    if mail:
        sent = certificates.send_expiry_digest()
        click.echo(f"mailed to {len(sent)} administrator(s)" if sent else "nothing to mail")

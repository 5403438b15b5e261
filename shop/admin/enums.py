"""The administration's vocabulary: what an audit entry is about and what was done, with labels."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.enums import LabelledEnum


class AuditObject(LabelledEnum):
    """The kind of object an ``AuditEntry`` is about."""

    SHOP = "shop", _l("Shop")
    PRODUCT = "product", _l("Product")
    CERTIFICATE = "certificate", _l("Certificate")
    PRODUCER = "producer", _l("Producer")
    LOCALITY = "locality", _l("Locality")
    USER = "user", _l("User")


class AuditAction(LabelledEnum):
    """What an administrator did (``AuditEntry.action``)."""

    EDIT = "edit", _l("Edited")
    RETIRE = "retire", _l("Retired")
    REOPEN = "reopen", _l("Brought back")
    RECORD = "record", _l("Certificate recorded")
    RENEW = "renew", _l("Certificate renewed")
    REVOKE = "revoke", _l("Certificate revoked")
    IMPORT = "import", _l("Imported from the province's list")
    CREATE = "create", _l("Created")
    ROLE = "role", _l("Role and memberships changed")
    DISABLE = "disable", _l("Disabled")
    ENABLE = "enable", _l("Enabled")

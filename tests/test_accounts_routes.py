"""Every route of the app × every role: the status each must get (issue 12).

The table below has an entry for every endpoint and method of ``app.url_map``: a new route without
one fails ``test_every_route_has_an_entry``. Each case requests a URL built from a small world —
shops A and B, producers X and Y, an order supplied by shop A and placed by the customer, a guest
order supplied by shop B — with objects inside and outside the role's scope, and checks the status
for each role:

    guest, customer, clerk of shop A, manager of shop A, staff of shop B (manager there),
    producer user of X, producer user of Y, administrator.

Reading a row: 302 for a guest on a private page is the redirect to sign in; 403 means the role
lacks the action; 404 means the object is outside the user's scope (or does not exist — the two
cannot be told apart). CSRF is off in the test config; ``test_accounts.py`` checks it separately.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from shop.accounts import services as accounts
from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders import services as orders

from accounts_helpers import make_user
from test_orders import CUSTOMER, DELIVERY, cart_with

ROLES = ("guest", "customer", "clerk_a", "manager_a", "staff_b", "producer_x", "producer_y", "admin")
SIGNED_IN = ROLES[1:]
BACK_OFFICE = ("clerk_a", "manager_a", "staff_b", "producer_x", "producer_y", "admin")


def everyone(status: int) -> dict[str, int]:
    return {role: status for role in ROLES}


def signed_in(status: int, guest: int = 302, **others: int) -> dict[str, int]:
    """``status`` for every signed-in role (some overridden), the sign-in redirect for a guest."""
    return {"guest": guest, **{role: status for role in SIGNED_IN}, **others}


@dataclass
class Case:
    endpoint: str
    method: str
    url: str                      # formatted with the world's names: {shop_a}, {order_a}…
    expect: dict[str, int]
    data: dict = field(default_factory=dict)
    note: str = ""


def back_office(status_by_role: dict[str, int]) -> dict[str, int]:
    return {"guest": 302, **status_by_role}


C = Case
ALL_BACK = {"customer": 403, **{r: 200 for r in BACK_OFFICE}}
ADMIN_ONLY = {"customer": 403, **{r: 403 for r in BACK_OFFICE}, "admin": 200}
ADMIN_ONLY_MISSING = {**ADMIN_ONLY, "admin": 404}
# The portal's routes: (endpoint, method, URL, producer X, producer Y, administrator, note). X's
# objects are X's; Y gets the 404 of a page that does not exist, and so does everyone for a guessed id.
PORTAL_CASES = [
    ("portal.producer", "GET", "/portal/{producer_x}", 200, 404, 200, "producer X's profile"),
    ("portal.producer", "GET", "/portal/no-such-producer", 404, 404, 404, "missing: the same 404"),
    ("portal.stock", "GET", "/portal/{producer_x}/stock", 200, 404, 200, "X's stock"),
    ("portal.sales", "GET", "/portal/{producer_x}/sales", 200, 404, 200, "X's sales"),
    ("portal.story", "GET", "/portal/{producer_x}/story", 200, 404, 200, "X's story"),
    ("portal.story", "POST", "/portal/{producer_x}/story", 200, 404, 200, "X's story, previewed"),
    ("portal.product", "GET", "/portal/{producer_x}/products/{product_x}", 200, 404, 200, "X's product"),
    ("portal.product", "POST", "/portal/{producer_x}/products/{product_x}", 200, 404, 200, "previewed"),
    ("portal.product", "GET", "/portal/{producer_x}/products/{product_y}", 404, 404, 404,
     "Y's product under X's slug"),
    ("portal.preview", "POST", "/portal/preview", 200, 200, 200, "any producer's editor"),
    ("portal.photos", "GET", "/portal/{producer_x}/products/{product_x}/photos", 200, 404, 200, "X's photos"),
    ("portal.photos", "POST", "/portal/{producer_x}/products/{product_x}/photos", 400, 404, 400, "no file"),
    ("portal.photos", "GET", "/portal/{producer_x}/products/{product_y}/photos", 404, 404, 404,
     "Y's product under X's slug"),
    ("portal.move_photo", "POST", "/portal/{producer_x}/products/{product_x}/photos/2147483647/up", 404, 404, 404,
     "a guessed photo id"),
    ("portal.remove_photo", "POST", "/portal/{producer_x}/products/{product_x}/photos/2147483647/remove", 404, 404,
     404, "a guessed photo id"),
    ("portal.cover", "POST", "/portal/{producer_x}/cover", 400, 404, 400, "no file"),
    ("portal.propose", "POST", "/portal/{producer_x}/products/{product_x}/propose", 400, 404, 400, "empty form"),
    ("portal.propose", "POST", "/portal/{producer_x}/products/{product_y}/propose", 404, 404, 404,
     "Y's product under X's slug"),
    ("portal.proposals", "GET", "/portal/{producer_x}/proposals", 200, 404, 200, "X's proposals"),
    ("portal.proposals", "POST", "/portal/{producer_x}/proposals", 400, 404, 400, "an empty new product"),
    ("portal.withdraw", "POST", "/portal/{producer_x}/proposals/2147483647/withdraw", 404, 404, 404,
     "a guessed proposal id"),
]
TABLE: list[Case] = [
    # ---- the back office: the policy's 403 / 404 -------------------------------------------
    C("backoffice.index", "GET", "/backoffice/", back_office(ALL_BACK)),
    C("backoffice.shop", "GET", "/backoffice/shops/{shop_a}", back_office(
        {"customer": 403, "clerk_a": 200, "manager_a": 200, "staff_b": 404, "producer_x": 403, "producer_y": 403,
         "admin": 200}), note="shop A"),
    C("backoffice.shop", "GET", "/backoffice/shops/{shop_b}", back_office(
        {"customer": 403, "clerk_a": 404, "manager_a": 404, "staff_b": 200, "producer_x": 403, "producer_y": 403,
         "admin": 200}), note="shop B"),
    C("backoffice.shop", "GET", "/backoffice/shops/no-such-shop", back_office(
        {"customer": 403, "clerk_a": 404, "manager_a": 404, "staff_b": 404, "producer_x": 403, "producer_y": 403,
         "admin": 404}), note="missing: the same 404 as out of scope"),
    C("backoffice.shop_people", "GET", "/backoffice/shops/{shop_a}/people", back_office(
        {"customer": 403, "clerk_a": 403, "manager_a": 200, "staff_b": 404, "producer_x": 403, "producer_y": 403,
         "admin": 200}), note="shop A"),
    C("backoffice.shop_people", "GET", "/backoffice/shops/{shop_b}/people", back_office(
        {"customer": 403, "clerk_a": 403, "manager_a": 404, "staff_b": 200, "producer_x": 403, "producer_y": 403,
         "admin": 200}), note="shop B"),
    C("backoffice.producer", "GET", "/backoffice/producers/{producer_x}", back_office(
        {"customer": 403, "clerk_a": 403, "manager_a": 403, "staff_b": 403, "producer_x": 200, "producer_y": 404,
         "admin": 200}), note="producer X"),
    C("backoffice.producer", "GET", "/backoffice/producers/{producer_y}", back_office(
        {"customer": 403, "clerk_a": 403, "manager_a": 403, "staff_b": 403, "producer_x": 404, "producer_y": 200,
         "admin": 200}), note="producer Y"),
    C("backoffice.order", "GET", "/backoffice/orders/{order_a}", back_office(
        {"customer": 302, "clerk_a": 200, "manager_a": 200, "staff_b": 404, "producer_x": 403, "producer_y": 403,
         "admin": 200}), note="supplied by shop A, the customer's: they are sent to their order page"),
    C("backoffice.order", "GET", "/backoffice/orders/{order_b}", back_office(
        {"customer": 404, "clerk_a": 404, "manager_a": 404, "staff_b": 200, "producer_x": 403, "producer_y": 403,
         "admin": 200}), note="supplied by shop B, a guest's"),
    C("backoffice.users", "GET", "/backoffice/users", back_office(
        {"customer": 403, "clerk_a": 403, "manager_a": 403, "staff_b": 403, "producer_x": 403, "producer_y": 403,
         "admin": 200})),
    C("backoffice.users", "POST", "/backoffice/users", back_office(
        {"customer": 403, "clerk_a": 403, "manager_a": 403, "staff_b": 403, "producer_x": 403, "producer_y": 403,
         "admin": 400}), note="empty form"),

    # ---- administration (issue 14): administrators only ----------------------------------------
    C("admin.index", "GET", "/admin/", back_office(ADMIN_ONLY)),
    C("admin.products", "GET", "/admin/products?q=gao", back_office(ADMIN_ONLY)),
    C("admin.product", "GET", "/admin/products/{product_x}/certificates", back_office(ADMIN_ONLY)),
    C("admin.product", "GET", "/admin/products/no-such-product/certificates", back_office(ADMIN_ONLY_MISSING)),
    C("admin.product", "POST", "/admin/products/{product_x}/certificates", back_office({**ADMIN_ONLY, "admin": 400}),
      note="empty form"),
    C("admin.renew", "POST", "/admin/certificates/2147483647/renew", back_office(ADMIN_ONLY_MISSING)),
    C("admin.revoke", "POST", "/admin/certificates/2147483647/revoke", back_office(ADMIN_ONLY_MISSING)),
    C("admin.expiring", "GET", "/admin/certificates/expiring", back_office(ADMIN_ONLY)),
    C("admin.import_list", "GET", "/admin/import", back_office(ADMIN_ONLY)),
    C("admin.import_list", "POST", "/admin/import", back_office({**ADMIN_ONLY, "admin": 400}), note="no file"),
    C("admin.import_preview", "POST", "/admin/import/preview", back_office({**ADMIN_ONLY, "admin": 400}),
      note="no payload"),
    C("admin.import_confirm", "POST", "/admin/import/confirm", back_office({**ADMIN_ONLY, "admin": 400}),
      note="no payload"),
    C("admin.import_sample", "GET", "/admin/import/sample.csv", back_office(ADMIN_ONLY)),
    C("admin.edit_product", "POST", "/admin/products/{product_x}/edit", back_office({**ADMIN_ONLY, "admin": 400}),
      note="empty form"),
    C("admin.shops", "GET", "/admin/shops", back_office(ADMIN_ONLY)),
    C("admin.shop", "GET", "/admin/shops/{shop_a}", back_office(ADMIN_ONLY)),
    C("admin.shop", "GET", "/admin/shops/no-such-shop", back_office(ADMIN_ONLY_MISSING)),
    C("admin.shop", "POST", "/admin/shops/{shop_a}", back_office({**ADMIN_ONLY, "admin": 400}), note="empty form"),
    C("admin.shop_state", "POST", "/admin/shops/{shop_b}/retire", back_office({**ADMIN_ONLY, "admin": 409}),
      note="shop B has a shipment in progress"),
    C("admin.shop_state", "POST", "/admin/shops/no-such-shop/reopen", back_office(ADMIN_ONLY_MISSING)),
    C("admin.new_product", "GET", "/admin/products/new?producer={producer_x}", back_office(ADMIN_ONLY)),
    C("admin.new_product", "POST", "/admin/products/new", back_office({**ADMIN_ONLY, "admin": 400}), note="empty form"),
    C("admin.producers", "GET", "/admin/producers?q=htx&kind=cooperative&locality=none&state=all",
      back_office(ADMIN_ONLY)),
    C("admin.new_producer", "GET", "/admin/producers/new", back_office(ADMIN_ONLY)),
    C("admin.new_producer", "POST", "/admin/producers/new", back_office({**ADMIN_ONLY, "admin": 400}),
      note="empty form"),
    C("admin.producer", "GET", "/admin/producers/{producer_x}", back_office(ADMIN_ONLY)),
    C("admin.producer", "GET", "/admin/producers/no-such-producer", back_office(ADMIN_ONLY_MISSING)),
    C("admin.producer", "POST", "/admin/producers/{producer_x}", back_office({**ADMIN_ONLY, "admin": 400}),
      note="empty form"),
    C("admin.producer_state", "POST", "/admin/producers/{producer_y}/reopen", back_office({**ADMIN_ONLY, "admin": 409}),
      note="producer Y is active"),
    C("admin.producer_state", "POST", "/admin/producers/no-such-producer/retire", back_office(ADMIN_ONLY_MISSING)),
    C("admin.user", "GET", "/admin/users/{customer_id}", back_office(ADMIN_ONLY)),
    C("admin.user", "GET", "/admin/users/2147483647", back_office(ADMIN_ONLY_MISSING)),
    C("admin.user_role", "POST", "/admin/users/{customer_id}/role", back_office({**ADMIN_ONLY, "admin": 400}),
      note="empty form: unknown role"),
    C("admin.user_state", "POST", "/admin/users/{customer_id}/enable", back_office({**ADMIN_ONLY, "admin": 409}),
      note="enabled already"),
    C("admin.user_state", "POST", "/admin/users/2147483647/disable", back_office(ADMIN_ONLY_MISSING)),
    C("admin.localities", "GET", "/admin/localities?q=na&kind=commune&merge=merged", back_office(ADMIN_ONLY)),
    C("admin.new_locality", "GET", "/admin/localities/new", back_office(ADMIN_ONLY)),
    C("admin.new_locality", "POST", "/admin/localities/new", back_office({**ADMIN_ONLY, "admin": 400}),
      note="empty form"),
    C("admin.locality", "GET", "/admin/localities/{locality_x}", back_office(ADMIN_ONLY)),
    C("admin.locality", "GET", "/admin/localities/no-such-place", back_office(ADMIN_ONLY_MISSING)),
    C("admin.locality", "POST", "/admin/localities/{locality_x}", back_office({**ADMIN_ONLY, "admin": 400}),
      note="empty form"),
    C("admin.locality", "POST", "/admin/localities/no-such-place", back_office(ADMIN_ONLY_MISSING)),
    C("admin.proposals", "GET", "/admin/proposals", back_office(ADMIN_ONLY), note="the approval queue (issue 15)"),
    C("admin.decide", "POST", "/admin/proposals/2147483647/approve", back_office(ADMIN_ONLY_MISSING)),
    C("admin.producer_text_edits", "POST", "/admin/producers/{producer_y}/text-edits",
      back_office({**ADMIN_ONLY, "admin": 302}), note="the publish-at-once flag"),
    C("admin.product_photos", "GET", "/admin/products/{product_x}/photos", back_office({**ADMIN_ONLY, "admin": 302}),
      note="to the portal's photo page (issue 15)"),
    # ---- the staff workspace (issue 13): shop A's staff see shop A only ------------------------
    C("staff.index", "GET", "/staff/", back_office(
        {"customer": 403, "clerk_a": 302, "manager_a": 302, "staff_b": 302, "producer_x": 403, "producer_y": 403,
         "admin": 200}), note="one shop: straight to its queue"),
    *[C(endpoint, method, url, back_office(
        {"customer": 403, "clerk_a": status, "manager_a": status, "staff_b": 404, "producer_x": 403,
         "producer_y": 403, "admin": status}), note=f"shop A: {note}")
      for endpoint, method, url, status, note in (
          ("staff.queue", "GET", "/staff/shops/{shop_a}/orders", 200, "the queue"),
          ("staff.shipment", "GET", "/staff/shops/{shop_a}/orders/{order_a}", 200, "its shipment"),
          ("staff.slip", "GET", "/staff/shops/{shop_a}/orders/{order_a}/slip", 200, "its packing slip"),
          ("staff.confirm", "POST", "/staff/shops/{shop_a}/orders/{order_a}/confirm", 400, "box not ticked"),
          ("staff.cancel", "POST", "/staff/shops/{shop_a}/orders/{order_a}/cancel", 400, "no reason"),
          ("staff.step", "POST", "/staff/shops/{shop_a}/orders/{order_a}/step", 400, "no step"),
          ("staff.stock", "GET", "/staff/shops/{shop_a}/stock", 200, "stock and what runs low"),
          ("staff.receive", "GET", "/staff/shops/{shop_a}/stock/receive", 200, "the delivery form"),
          ("staff.receive", "POST", "/staff/shops/{shop_a}/stock/receive", 400, "no line"),
          ("staff.adjust", "GET", "/staff/shops/{shop_a}/stock/adjust", 200, "the adjustment form"),
          ("staff.adjust", "POST", "/staff/shops/{shop_a}/stock/adjust", 400, "empty form"),
          ("staff.ledger", "GET", "/staff/shops/{shop_a}/ledger", 200, "the ledger"),
          ("staff.ledger_csv", "GET", "/staff/shops/{shop_a}/ledger.csv", 200, "the ledger as CSV"),
          ("staff.count", "GET", "/staff/shops/{shop_a}/count", 200, "the count sheet"),
          ("staff.count", "POST", "/staff/shops/{shop_a}/count", 400, "nothing counted"),
          ("staff.transfers", "GET", "/staff/shops/{shop_a}/transfers", 200, "its transfers"),
          ("staff.new_transfer", "GET", "/staff/shops/{shop_a}/transfers/new", 200, "the transfer form"),
          ("staff.new_transfer", "POST", "/staff/shops/{shop_a}/transfers/new", 400, "empty form"),
          ("staff.transfer", "GET", "/staff/shops/{shop_a}/transfers/2147483647", 404, "no such transfer"),
          ("staff.receive_transfer", "POST", "/staff/shops/{shop_a}/transfers/2147483647/receive", 404,
           "no such transfer"),
          ("staff.cancel_transfer", "POST", "/staff/shops/{shop_a}/transfers/2147483647/cancel", 404,
           "no such transfer"))],
    # Bank statements and the transfer confirmed by hand: the shop's managers only (clerks 403).
    *[C(endpoint, method, url, back_office(
        {"customer": 403, "clerk_a": 403, "manager_a": status, "staff_b": 404, "producer_x": 403,
         "producer_y": 403, "admin": status}), note=f"shop A: {note}")
      for endpoint, method, url, status, note in (
          ("staff.statements_page", "GET", "/staff/shops/{shop_a}/statements", 200, "upload and credits to decide"),
          ("staff.statements_page", "POST", "/staff/shops/{shop_a}/statements", 400, "no file"),
          ("staff.import_statement", "POST", "/staff/shops/{shop_a}/statements/import", 400, "no preview"),
          ("staff.decide_line", "POST", "/staff/shops/{shop_a}/statements/lines/2147483647/confirm", 404,
           "no such line"),
          ("staff.transfer_received", "POST", "/staff/shops/{shop_a}/orders/{order_a}/transfer-received", 400,
           "box not ticked"),
          ("staff.refund", "POST", "/staff/shops/{shop_a}/orders/{order_a}/refund", 409,
           "nothing received yet: refused, nothing changes"),
          ("staff.thresholds", "POST", "/staff/shops/{shop_a}/stock/thresholds", 302, "nothing changed"),
          ("staff.count_setting", "POST", "/staff/shops/{shop_a}/count/setting", 302, "open counts"))],
    C("staff.return_goods", "POST", "/staff/shops/{shop_a}/orders/{order_a}/return", back_office(
        {"customer": 403, "clerk_a": 400, "manager_a": 400, "staff_b": 404, "producer_x": 403, "producer_y": 403,
         "admin": 400}), note="shop A: goods brought back, nothing typed"),
    C("staff.queue", "GET", "/staff/shops/{shop_b}/orders", back_office(
        {"customer": 403, "clerk_a": 404, "manager_a": 404, "staff_b": 200, "producer_x": 403, "producer_y": 403,
         "admin": 200}), note="shop B"),
    C("staff.shipment", "GET", "/staff/shops/{shop_a}/orders/{order_b}", back_office(
        {"customer": 403, "clerk_a": 404, "manager_a": 404, "staff_b": 404, "producer_x": 403, "producer_y": 403,
         "admin": 404}), note="shop A has no part of order B"),
    C("staff.shipment", "GET", "/staff/shops/{shop_b}/orders/{order_b}", back_office(
        {"customer": 403, "clerk_a": 404, "manager_a": 404, "staff_b": 200, "producer_x": 403, "producer_y": 403,
         "admin": 200}), note="shop B's shipment"),

    # ---- the producer portal (issue 15): a producer's own pages; another producer's are a 404 ----
    C("portal.index", "GET", "/portal/", back_office(
        {"customer": 403, "clerk_a": 403, "manager_a": 403, "staff_b": 403, "producer_x": 302, "producer_y": 302,
         "admin": 200}), note="a producer goes to their own portal"),
    *[C(endpoint, method, url, back_office(
        {"customer": 403, "clerk_a": 403, "manager_a": 403, "staff_b": 403, "producer_x": status_x,
         "producer_y": status_y, "admin": status_admin}),
      data={"action": "preview"}, note=note)
      for endpoint, method, url, status_x, status_y, status_admin, note in PORTAL_CASES],

    # ---- account pages -----------------------------------------------------------------------
    C("accounts.sign_in", "GET", "/account/sign-in", signed_in(302, guest=200), note="signed in: to the landing page"),
    C("accounts.sign_in", "POST", "/account/sign-in", everyone(400), note="empty form"),
    C("accounts.two_step", "GET", "/account/sign-in/two-step", everyone(302), note="no password step pending"),
    C("accounts.two_step", "POST", "/account/sign-in/two-step", everyone(302)),
    C("accounts.sign_out", "POST", "/account/sign-out", everyone(302)),
    C("accounts.register", "GET", "/account/register", everyone(200)),
    C("accounts.register", "POST", "/account/register", everyone(400), note="empty form"),
    C("accounts.verify_email", "GET", "/account/verify/not-a-token", everyone(404)),
    C("accounts.verify_email", "POST", "/account/verify/not-a-token", everyone(404)),
    C("accounts.resend_verification", "POST", "/account/verify/resend", signed_in(302)),
    C("accounts.forgot_password", "GET", "/account/forgot-password", everyone(200)),
    C("accounts.forgot_password", "POST", "/account/forgot-password", everyone(400), note="empty form"),
    C("accounts.reset_password", "GET", "/account/reset/not-a-token", everyone(404)),
    C("accounts.reset_password", "POST", "/account/reset/not-a-token", everyone(404)),
    C("accounts.index", "GET", "/account/", signed_in(200)),
    C("accounts.reorder", "POST", "/account/orders/{order_a}/reorder", signed_in(404, customer=302),
      note="the customer's order"),
    C("accounts.reorder", "POST", "/account/orders/{order_b}/reorder", signed_in(404), note="someone else's"),
    C("accounts.addresses", "GET", "/account/addresses", signed_in(200)),
    C("accounts.addresses", "POST", "/account/addresses", signed_in(400), note="empty form"),
    C("accounts.delete_address", "POST", "/account/addresses/{address}/delete", signed_in(404, customer=302),
      note="the customer's address"),
    C("accounts.delete_address", "POST", "/account/addresses/2147483647/delete", signed_in(404)),
    C("accounts.change_password", "GET", "/account/password", signed_in(200)),
    C("accounts.change_password", "POST", "/account/password", signed_in(400), note="empty form"),
    C("accounts.change_email", "GET", "/account/email", signed_in(200)),
    C("accounts.change_email", "POST", "/account/email", signed_in(400), note="empty form"),
    C("accounts.confirm_email", "GET", "/account/email/confirm/not-a-token", everyone(404)),
    C("accounts.confirm_email", "POST", "/account/email/confirm/not-a-token", everyone(404)),
    C("accounts.delete_account", "GET", "/account/delete", signed_in(403, customer=200),
      note="staff accounts are closed by an administrator"),
    C("accounts.delete_account", "POST", "/account/delete", signed_in(403, customer=400), note="empty form"),
    C("accounts.two_step_setup", "GET", "/account/two-step", signed_in(200, customer=403)),
    C("accounts.two_step_setup", "POST", "/account/two-step", signed_in(400, customer=403), note="no code"),
    C("accounts.two_step_disable", "POST", "/account/two-step/disable", signed_in(302)),
    C("accounts.two_step_new_codes", "POST", "/account/two-step/recovery-codes", signed_in(302)),

    # ---- the public shop: the same for everyone ------------------------------------------------
    C("catalog.home", "GET", "/", everyone(200)),
    C("catalog.index", "GET", "/products", everyone(200)),
    C("catalog.product", "GET", "/products/{product_x}", everyone(200)),
    C("catalog.product", "GET", "/products/no-such-product", everyone(404)),
    C("catalog.suggest", "GET", "/search/suggest?q=gao", everyone(200)),
    C("producers.index", "GET", "/producers", everyone(200)),
    C("producers.detail", "GET", "/producers/{producer_x}", everyone(200)),
    C("shops.index", "GET", "/shops", everyone(200)),
    C("cart.index", "GET", "/cart", everyone(200)),
    C("cart.add", "POST", "/cart/add", everyone(302), note="no product: a message"),
    C("cart.update", "POST", "/cart/update", everyone(302)),
    C("cart.remove", "POST", "/cart/remove", everyone(302)),
    C("cart.accept_prices", "POST", "/cart/accept-prices", everyone(302)),
    C("orders.checkout", "GET", "/orders/checkout", everyone(302), note="empty cart: back to the cart"),
    C("orders.checkout", "POST", "/orders/checkout", everyone(302)),
    C("orders.detail", "GET", "/orders/{order_a}?token={order_a_token}", everyone(200), note="the secret link"),
    C("orders.detail", "GET", "/orders/{order_a}", everyone(404), note="without the token"),
    C("orders.cancel", "POST", "/orders/{order_a}/cancel", everyone(404), note="without the token"),
    C("payments.card_start", "POST", "/payments/card/{order_a}/start", everyone(404)),
    C("payments.card_return", "GET", "/payments/card/{order_a}/return", everyone(404)),
    C("payments.card_cancel", "GET", "/payments/card/{order_a}/cancel", everyone(404)),
    C("payments.stripe_webhook", "POST", "/payments/stripe/webhook", everyone(400), note="no signature"),
    C("trace.product", "GET", "/q/{product_x_id}", everyone(200)),
    C("trace.product_qr", "GET", "/q/{product_x_id}.svg", everyone(200)),
    C("trace.lot", "GET", "/q/{product_x_id}/{lot_x}", everyone(200)),
    C("trace.lot_qr", "GET", "/q/{product_x_id}/{lot_x}.svg", everyone(200)),
    C("trace.lot_sheet", "GET", "/q/stamps/lot/{lot_x}", everyone(200)),
    C("trace.shop_sheet", "GET", "/q/stamps/shop/{shop_a}", everyone(200)),
    C("seo.robots", "GET", "/robots.txt", everyone(200)),
    C("seo.sitemap", "GET", "/sitemap.xml", everyone(200)),
    C("seo.sitemap_part", "GET", "/sitemap-1.xml", everyone(404), note="one part is enough here"),
    C("seo.favicon", "GET", "/favicon.ico", everyone(200)),
    C("media", "GET", "/media/no-such-picture.jpg", everyone(404)),
    C("static", "GET", "/static/css/site.css", everyone(200)),
    C("health.healthz", "GET", "/healthz", everyone(200)),
    C("health.readyz", "GET", "/readyz", everyone(503), note="the test database is built without migrations"),

    # ---- the JSON API: no cookies, no roles ---------------------------------------------------
    C("api.docs", "GET", "/api/v1/docs", everyone(200)),
    C("api.openapi_document", "GET", "/api/v1/openapi.json", everyone(200)),
    C("api.list_products", "GET", "/api/v1/products", everyone(200)),
    C("api.get_product", "GET", "/api/v1/products/{product_x_id}", everyone(200)),
    C("api.list_producers_view", "GET", "/api/v1/producers", everyone(200)),
    C("api.get_producer", "GET", "/api/v1/producers/{producer_x_id}", everyone(200)),
    C("api.list_shops", "GET", "/api/v1/shops", everyone(200)),
    C("api.create_cart", "POST", "/api/v1/carts", everyone(201)),
    C("api.get_cart", "GET", "/api/v1/carts/not-a-cart", everyone(404)),
    C("api.set_cart_item", "PUT", "/api/v1/carts/not-a-cart/items/{product_x_id}", everyone(415), note="not JSON"),
    C("api.accept_cart_prices", "POST", "/api/v1/carts/not-a-cart/accept-prices", everyone(404)),
    C("api.place_order", "POST", "/api/v1/orders", everyone(415), note="not JSON"),
    C("api.get_order", "GET", "/api/v1/orders/{order_a}", everyone(400), note="without the token"),
]


@pytest.fixture
def world(make_product, make_shop, make_producer, make_locality):
    """Shops A and B, producers X and Y with one product each, stock, two orders, the eight users."""
    shop_a, shop_b = make_shop(slug="shop-a", ships_online=True), make_shop(slug="shop-b", ships_online=True)
    place = make_locality("Na Rì", slug="na-ri")
    producer_x, producer_y = make_producer(name="HTX X", locality=place), make_producer(name="HTX Y")
    product_x = make_product("Gạo Nếp Tài", producer=producer_x)
    product_y = make_product("Chè Shan tuyết", producer=producer_y)
    lot_x = inventory.receive(shop_a.id, product_x.id, 10).lot_id
    inventory.receive(shop_b.id, product_y.id, 10)
    db.session.commit()
    users = {
        "customer": make_user("customer", email="lan@example.vn"),
        "clerk_a": make_user("staff", shops=["shop-a"], shop_role="clerk"),
        "manager_a": make_user("staff", shops=["shop-a"], shop_role="manager"),
        "staff_b": make_user("staff", shops=["shop-b"], shop_role="manager"),
        "producer_x": make_user("producer", producer=producer_x.slug),
        "producer_y": make_user("producer", producer=producer_y.slug),
        "admin": make_user("admin"),
    }
    order_a = orders.place_order(cart_with((product_x, 1)), CUSTOMER, DELIVERY, "cod", user_id=users["customer"].id)
    order_b = orders.place_order(cart_with((product_y, 1)), orders.Customer(
        name="Trần Văn Bình", phone="0912345679", email="binh@example.vn"), DELIVERY, "cod")
    address = accounts.add_address(users["customer"], "Lan", "0912345678", "12 Trường Chinh", "Đức Xuân",
                                   "Thái Nguyên")
    db.session.commit()
    names = {"shop_a": shop_a.slug, "shop_b": shop_b.slug, "producer_x": producer_x.slug,
             "producer_y": producer_y.slug, "product_x": product_x.slug, "product_y": product_y.slug,
             "product_x_id": product_x.id,
             "producer_x_id": producer_x.id, "locality_x": place.slug, "lot_x": lot_x, "order_a": order_a.number,
             "order_a_token": order_a.access_token, "order_b": order_b.number, "address": address.id,
             "customer_id": users["customer"].id}
    return {"users": {k: u.id for k, u in users.items()}, "names": names}


def test_every_route_has_an_entry(app):
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    covered = {(case.endpoint, case.method) for case in TABLE}
    assert routes - covered == set(), "routes without an entry in the table"
    assert covered - routes == set(), "entries for routes that do not exist"
    assert all(set(case.expect) == set(ROLES) for case in TABLE)


def _client_as(app, role: str, user_ids: dict[str, int]):
    from shop.accounts.models import User

    from conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    client = app.test_client()
    if role != "guest":
        user = db.session.get(User, user_ids[role])
        db.session.refresh(user)  # a sign-out in an earlier case raised the session version
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
    return client


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_status_the_table_gives(app, world, role):
    wrong = []
    for case in TABLE:
        client = _client_as(app, role, world["users"])
        url = case.url.format(**world["names"])
        response = client.open(url, method=case.method, data=case.data)
        if response.status_code != case.expect[role]:
            wrong.append(f"{case.method} {url} ({case.note or case.endpoint}): {response.status_code}, "
                         f"expected {case.expect[role]}")
        db.session.rollback()
    assert wrong == [], f"{role}:\n" + "\n".join(wrong)


def test_the_table_size():
    """The closing note quotes it: entries × roles."""
    assert len(TABLE) * len(ROLES) >= 700

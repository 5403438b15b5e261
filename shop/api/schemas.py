"""The JSON API's shapes, declared once: what each reply contains and what each request body may be.

These pydantic models are the single source of the API's shapes:

- the serialisers (``shop.api.serializers``) build replies as these models, so a reply cannot
  leave out a declared field or carry an undeclared one (``extra="forbid"``);
- request bodies are read into them (``shop.api.inputs.read_body``), with the field named in the
  400 reply when one is wrong;
- the OpenAPI document's ``components/schemas`` are generated from them
  (``shop.api.openapi``, pydantic's JSON Schema, which is OpenAPI 3.1's dialect).

Field descriptions and constraints here are what partners read in the document. A limit that
depends on configuration is written as the setting's name (``{MAX_LINE_QUANTITY}`` in a description,
``WholeNumber(maximum="MAX_LINE_QUANTITY")``) and filled in when the document is built.

To add a field to a reply: declare it here, fill it in the serialiser; the contract tests and the
document follow.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, Union

from flask_babel import lazy_gettext
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from typing_extensions import TypeAliasType

from shop.api.inputs import TOKEN_PATTERN, Body, Tagged, Text, WholeNumber
from shop.cart.services import PROBLEMS
from shop.catalog.enums import CertificateLevel, CertificatePublicStatus, NotOnSaleReason
from shop.inputs import DB_INT_MAX
from shop.orders import models as order_models
from shop.orders.enums import (FulfilmentStatus, FulfilmentType, OrderState, OrderStatus, PaymentMethod,
                               PaymentStatus, ShipmentState)
from shop.orders.services import RAW_TEXT_MAX, TRANSITIONS
from shop.phone import TYPED_MAX
from shop.producers.enums import ProducerKind

ORDER_STATUSES = tuple(sorted(TRANSITIONS))


class Reply(BaseModel):
    """A reply's shape. Built by the serialisers: an unknown or missing field is a bug, caught at once."""

    model_config = ConfigDict(extra="forbid")


# ---- reusable field types -------------------------------------------------------------------

Id = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]
Vnd = Annotated[int, Field(ge=0, description="Whole Vietnamese đồng.")]
Stars = Annotated[int, Field(ge=3, le=5)]
# Times keep Python's ISO 8601 form with its offset (``+00:00``), as the API always wrote them.
DateTime = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
                     WithJsonSchema({"type": "string", "format": "date-time"})]
Uri = Annotated[str, Field(json_schema_extra={"format": "uri"})]
LocalityToday = Annotated[str | None, Field(
    description="Today's unit when the place (or a unit above it) was merged since, e.g. `Thái Nguyên` for a "
                "place of the former Bắc Kạn province (merged on 1/7/2025); null when unchanged.")]
OrderUrl = Annotated[Uri | None, Field(
    description="The customer's private order page on the website (status, payment, cancelling).")]
StoredOrderStatus = Literal[ORDER_STATUSES]  # type: ignore[valid-type]
Method = Literal[tuple(PaymentMethod)]  # type: ignore[valid-type]


# ---- errors ---------------------------------------------------------------------------------


class ErrorDetail(Reply):
    code: str = Field(examples=["invalid_parameter", "not_found", "out_of_stock"])
    message: str
    field: str = Field(None, description="The parameter or body field at fault, e.g. `page` or `customer.phone`.")
    details: dict[str, str | int | float | bool | None] = Field(None)


class Error(Reply):
    """Every 4xx reply (written by ``shop.errors``)."""

    error: ErrorDetail


# ---- catalogue ------------------------------------------------------------------------------


class ProducerRef(Reply):
    id: Id
    name: str


class ProductSummary(Reply):
    id: Id
    slug: str
    name: str = Field(description="Vietnamese name.")
    name_en: str = Field(description="English name (may be empty).")
    stars: Stars | None = Field(description="OCOP stars of the valid certificate; null when the product has none today.")
    price_vnd: Vnd
    unit: str = Field(description="Vietnamese unit of sale, e.g. \"túi 1 kg\".")
    unit_en: str = Field(description="English unit of sale, e.g. \"1 kg bag\" (may be empty: show `unit` then).")
    producer: ProducerRef
    available: Count = Field(description="Units that can be sold now, all shops together "
                                         "(stock on hand less units held for orders).")


class ProductPage(Reply):
    items: list[ProductSummary]
    total: Count = Field(description="Products matching the filters, counted up to 50 pages' worth "
                                     "(50 × per_page): a total of exactly that means at least that "
                                     "many; narrow the filters to reach the rest.")
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=100)
    pages: Count = Field(description="Number of pages (0 when nothing matches). Pages past the last one are empty.")


class ProductGroup(Reply):
    id: Id
    slug: str
    name: str
    name_en: str


class Certificate(Reply):
    stars: Stars
    level: Literal[tuple(CertificateLevel)] = Field(description="Level of the body that certified it.")  # type: ignore[valid-type]
    decision_number: str = Field(examples=["1234/QĐ-UBND"])
    issuing_body: str
    issued_on: date
    expires_on: date
    status: Literal[tuple(CertificatePublicStatus)] = Field(  # type: ignore[valid-type]
        description="`active`: valid today. `expired`: past `expires_on`. `pending`: "
                    "not yet in force. `revoked`, `superseded`: withdrawn or replaced.")


class StockEntry(Reply):
    shop_id: Id
    shop_name: str
    available: Count


class ProductDetail(ProductSummary):
    on_sale: bool = Field(description="Listed with a valid certificate today.")
    not_on_sale_reason: Literal[tuple(NotOnSaleReason)] | None = Field(  # type: ignore[valid-type]
        description="Null while on sale; otherwise why not: `revoked` (the latest certificate was revoked), "
                    "`expired` (it is past its end), `uncertified` (no certificate in force). Added in v1.")
    description: str
    description_en: str
    group: ProductGroup | None
    image_url: Uri | None
    certificate: Certificate | None = Field(
        description="The valid certificate; when there is none, the latest one with the reason in its status. "
                    "Null if never certified.")
    stock: list[StockEntry] = Field(description="Shops with units available, most first (empty when not on sale).")


# ---- shops and producers --------------------------------------------------------------------


class Shop(Reply):
    id: Id = Field(description="Use as `fulfilment.shop_id` for pick-up orders.")
    slug: str
    name: str
    address: str
    locality: str | None = Field(description="Ward, city, province as recorded.")
    locality_today: LocalityToday
    phone: str
    opening_hours: str
    opening_hours_en: str
    latitude: float | None
    longitude: float | None
    offers_pickup: bool
    ships_online: bool = Field(description="Sends delivery orders.")


class ShopList(Reply):
    items: list[Shop]
    total: Count


class ProducerSummary(Reply):
    id: Id
    slug: str
    name: str
    kind: Literal[tuple(ProducerKind)]  # type: ignore[valid-type]
    locality: str | None = Field(description="Commune, district, province as certified.")
    locality_today: LocalityToday
    products_on_sale: Count


class ProducerList(Reply):
    items: list[ProducerSummary]
    total: Count


class ProducerDetail(ProducerSummary):
    address: str
    phone: str
    story: str = Field(description="The producer's story, Markdown (Vietnamese).")
    story_en: str = Field(description="The story in English, Markdown (may be empty).")
    cover_image_url: Uri | None
    products: list[ProductSummary] = Field(description="Products on sale now.")


# ---- carts ----------------------------------------------------------------------------------


class CartLine(Reply):
    product_id: Id
    slug: str
    name: str = Field(description="Vietnamese name.")
    name_en: str = Field(description="English name (may be empty: show `name` then).")
    unit: str = Field(description="Vietnamese unit of sale.")
    unit_en: str = Field(description="English unit of sale (may be empty: show `unit` then).")
    stars: Stars | None
    quantity: int = Field(ge=1, description="Units wanted; above {MAX_LINE_QUANTITY} the line reports `too_many` "
                                            "(the limit may have been lowered since the product was added).")
    unit_price_vnd: Vnd = Field(description="Today's price (prices are always read live).")
    line_total_vnd: Vnd
    available: Count
    problems: list[Literal[PROBLEMS]] = Field(  # type: ignore[valid-type]
        description="What stops checkout (`POST /orders` checks the same): `not_for_sale`, `out_of_stock`, "
                    "`insufficient`, `too_many` (lower the quantity), or `price_changed` (accept it with "
                    "`POST /carts/{token}/accept-prices`).")


class CartOrder(Reply):
    """The order a cart became."""

    number: str
    token: str = Field(description="The order's private token (for `GET /orders/{number}`).")
    order_url: OrderUrl


class Cart(Reply):
    token: str = Field(pattern=TOKEN_PATTERN, description="The cart's private token: keep it to use the cart.")
    lines: list[CartLine]
    count: Count = Field(description="Units in the cart.")
    subtotal_vnd: Vnd
    ready_for_checkout: bool = Field(description="Has lines and none has a problem.")
    order: CartOrder | None = Field(
        description="The order this cart became, once `POST /orders` succeeded (the cart then has no lines and "
                    "takes no changes); else null.")


# ---- orders ---------------------------------------------------------------------------------


class CashPayment(Reply):
    """Cash to the courier (`cod`) or at the shop (`pay_at_shop`)."""

    method: Literal[PaymentMethod.COD, PaymentMethod.PAY_AT_SHOP]
    amount_vnd: Vnd


class BankTransferPayment(Reply):
    """Pay by bank transfer, e.g. by scanning the VietQR code in a banking app."""

    method: Literal[PaymentMethod.BANK_TRANSFER]
    amount_vnd: Vnd
    bank_bin: str = Field(description="The bank's 6-digit NAPAS BIN.")
    bank_name: str
    account: str
    account_name: str
    reference: str = Field(description="Transfer description: the order number.")
    vietqr_payload: str | None = Field(description="Text of a VietQR code (render it as a QR code).")
    expires_at: DateTime | None = Field(description="Unpaid orders are cancelled after this.")


class CardPayment(Reply):
    method: Literal[PaymentMethod.CARD]
    amount_vnd: Vnd
    checkout_url: str | None = Field(description="Send the customer here to pay (only in the reply to POST /orders).")
    expires_at: DateTime | None


Payment = TypeAliasType(
    "Payment", Annotated[Union[CashPayment, BankTransferPayment, CardPayment], Field(discriminator="method")])


class OrderCreated(Reply):
    number: str = Field(examples=["OC-2026-000123"])
    token: str = Field(description="The order's private token, needed to read it.")
    order_url: OrderUrl
    status: StoredOrderStatus = Field(description="`placed` for cash orders, `pending_payment` until paid otherwise.")
    subtotal_vnd: Vnd
    shipping_fee_vnd: Vnd
    total_vnd: Vnd
    payment: Payment


class OrderLine(Reply):
    product_id: Id | None
    name: str = Field(description="Vietnamese product name when ordered.")
    name_en: str = Field(description="English product name when ordered (may be empty: show `name` then).")
    unit: str = Field(description="Vietnamese unit of sale when ordered.")
    unit_en: str = Field(description="English unit of sale when ordered (may be empty: show `unit` then).")
    stars: Stars = Field(description="Stars when ordered.")
    quantity: int = Field(ge=1)
    unit_price_vnd: Vnd
    line_total_vnd: Vnd


class OrderEvent(Reply):
    from_status: StoredOrderStatus | None
    to_status: StoredOrderStatus
    at: DateTime


class OrderCustomer(Reply):
    name: str
    phone: str
    email: str


class OrderAddress(Reply):
    street: str
    ward: str
    province: str


class OrderDelivery(Reply):
    type: Literal[FulfilmentType.DELIVERY]
    address: OrderAddress


class OrderPickup(Reply):
    type: Literal[FulfilmentType.PICKUP]
    shop_id: Id | None
    shop_name: str | None


ShipmentStateCode = Literal[tuple(ShipmentState)]  # type: ignore[valid-type]


class ShipmentLine(Reply):
    product_id: Id | None
    quantity: int = Field(ge=1)


class ShipmentEvent(Reply):
    from_state: ShipmentStateCode | None
    to_state: ShipmentStateCode
    at: DateTime


class Shipment(Reply):
    """One source shop's part of the order: its state, parcel and lines, and its own history."""

    id: Id
    shop_id: Id
    shop_name: str
    state: ShipmentStateCode
    carrier: str
    tracking_number: str
    lines: list[ShipmentLine]
    history: list[ShipmentEvent]


class Order(Reply):
    number: str
    order_url: OrderUrl
    status: Literal[(*ORDER_STATUSES, OrderStatus.EXPIRED)] = Field(  # type: ignore[valid-type]
        description="`expired`: the time to pay, to be confirmed or to be collected ran out and the stock was "
                    "released; the order will be cancelled.")
    created_at: DateTime
    language: Literal["vi", "en"] = Field(
        description="The language the order was placed in (`?lang=`, else `Accept-Language`, else `vi`); the "
                    "customer's emails are written in it.")
    customer: OrderCustomer
    fulfilment: Annotated[Union[OrderDelivery, OrderPickup], Field(discriminator="type")]
    payment_method: Method
    payment: Payment
    lines: list[OrderLine]
    subtotal_vnd: Vnd
    shipping_fee_vnd: Vnd
    total_vnd: Vnd
    history: list[OrderEvent] = Field(description="Oldest first: the order's own steps (each shipment has its own).")
    payment_status: Literal[tuple(PaymentStatus)] = Field(  # type: ignore[valid-type]
        description="The money, apart from the goods: `unpaid` (cash orders until delivered or collected), "
                    "`pending` (card or transfer awaited), `paid`, `partially_refunded`, `refunded`.")
    refunded_vnd: Vnd = Field(description="Đồng given back to the customer so far.")
    fulfilment_status: Literal[tuple(FulfilmentStatus)] = Field(  # type: ignore[valid-type]
        description="The goods, read from the shipments not cancelled.")
    state: Literal[tuple(OrderState)] = Field(  # type: ignore[valid-type]
        description="`completed`: goods delivered or collected and the money settled.")
    shipments: list[Shipment] = Field(description="One per source shop: each shop prepares and sends its own part.")


# ---- request bodies -------------------------------------------------------------------------
# Read by ``shop.api.inputs.read_body``. The markers check what the API layer checks (types, a sanity
# bound on length, no control characters); the services check the rest with the customer's messages,
# and the document states both.


class CartItemUpdate(Body):
    quantity: Annotated[int, WholeNumber(minimum=0, maximum="MAX_LINE_QUANTITY",
                                         required=lazy_gettext("quantity is required."))] = Field(
        description="The exact number of units wanted; 0 removes the line.")


class Customer(Body):
    name: Annotated[str, Text(RAW_TEXT_MAX, min_length=2, max_length=order_models.Order.customer_name)] = Field(
        description="Lengths count characters after Unicode NFC normalisation.")
    phone: Annotated[str, Text(RAW_TEXT_MAX, max_length=1 + TYPED_MAX)] = Field(
        description="As people type it: `0912 345 678`, `+84 912 345 678` (Vietnam is the default; a Vietnamese "
                    "mobile has 10 digits starting 03, 05, 07, 08 or 09), or a foreign number with its country "
                    "code, `+44 7700 900123`. ASCII digits only. Stored and returned in E.164: `+84912345678`.")
    email: Annotated[str, Text(RAW_TEXT_MAX, max_length=order_models.Order.email)] = Field(
        description="At most this long after normalisation (IDNA can lengthen a domain).")


class Address(Body):
    """A delivery address in Vietnam."""

    street: Annotated[str, Text(RAW_TEXT_MAX, min_length=2, max_length=order_models.Order.address_street)] = Field(
        description="House number and street.")
    ward: Annotated[str, Text(RAW_TEXT_MAX, min_length=2, max_length=order_models.Order.address_ward)] = Field(
        description="Ward or commune (phường / xã).")
    province: Annotated[str, Text(RAW_TEXT_MAX, min_length=2, max_length=order_models.Order.address_province)] = Field(
        description="Province or city (tỉnh / thành phố).")


class DeliveryFulfilment(Body):
    """Delivered by courier; shipping is free above a threshold."""

    type: Literal[FulfilmentType.DELIVERY]
    address: Address


class PickupFulfilment(Body):
    """Collected at a shop; no shipping fee."""

    type: Literal[FulfilmentType.PICKUP]
    shop_id: Annotated[int, WholeNumber(minimum=1, maximum=DB_INT_MAX)] = Field(
        description="A shop from `GET /shops` that offers pick-up and holds every item.")


class OrderRequest(Body):
    cart_token: Annotated[str, Text(64, pattern=TOKEN_PATTERN)]
    customer: Customer
    fulfilment: Annotated[DeliveryFulfilment | PickupFulfilment, Tagged(
        "type", Text(20), lazy_gettext("fulfilment.type must be delivery or pickup."))]
    payment_method: Annotated[str, Text(20, enum=tuple(PaymentMethod))] = Field(
        description="Delivery: `cod`, `bank_transfer`, `card`. Pick-up: `pay_at_shop`, `bank_transfer`, `card`. "
                    "`card` only where the shop takes cards.")

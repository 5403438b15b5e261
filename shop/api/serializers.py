"""Turning service results into the API's replies: instances of the models in ``shop.api.schemas``.

The models are the contract (the OpenAPI document is generated from them); here we only say
where each field's value comes from. Money is whole đồng (``*_vnd``), dates and times ISO 8601
(times in UTC with an offset). Serialisers only read what the services loaded: none of them
issues a query of its own, except where noted (an order's pick-up shop).
"""
from __future__ import annotations

from flask import url_for

from shop.api import schemas
from shop.cart.services import CartView
from shop.catalog.models import Certificate, Product
from shop.catalog.services import CatalogItem, CatalogPage, ProductDetail
from shop.orders.enums import FulfilmentType, PaymentMethod
from shop.orders.models import Order
from shop.payments.transfer import transfer_instructions
from shop.producers.models import Producer
from shop.producers.services import ProducerProfile, ProducerSummary
from shop.shops.models import Shop


def _media(path: str | None) -> str | None:
    return url_for("media", filename=path, _external=True) if path else None


def _locality(place) -> str | None:
    return place.full_name if place is not None else None


def _locality_today(place) -> str | None:
    """The unit the place belongs to today when it was merged since (``"Thái Nguyên"``), else None."""
    today = place.current_unit() if place is not None else None
    return today.full_name if today is not None else None


def certificate(cert: Certificate | None) -> schemas.Certificate | None:
    if cert is None:
        return None
    return schemas.Certificate(
        stars=cert.stars,
        level=cert.level,
        decision_number=cert.decision_number,
        issuing_body=cert.issuing_body,
        issued_on=cert.issued_on,
        expires_on=cert.expires_on,
        status=cert.public_status(),
    )


def _product_fields(product: Product, stars: int | None, available: int) -> dict:
    return {
        "id": product.id,
        "slug": product.slug,
        "name": product.name,
        "name_en": product.name_en or "",
        "stars": stars,
        "price_vnd": product.price,
        "unit": product.unit or "",
        "unit_en": product.unit_en or "",
        "producer": schemas.ProducerRef(id=product.producer.id, name=product.producer.name),
        "available": max(0, int(available)),
    }


def catalog_item(item: CatalogItem) -> schemas.ProductSummary:
    return schemas.ProductSummary(**_product_fields(item.product, item.stars, item.available))


def catalog_page(page: CatalogPage, requested_page: int) -> schemas.ProductPage:
    """A page of products. Past the last page the list is empty (``browse`` would repeat the last)."""
    beyond = requested_page > page.pages
    return schemas.ProductPage(
        items=[] if beyond else [catalog_item(i) for i in page.items],
        total=page.total,
        page=requested_page if beyond else page.page,
        per_page=page.per_page,
        pages=page.pages if page.total else 0,
    )


def product_detail(detail: ProductDetail) -> schemas.ProductDetail:
    product = detail.product
    sellable = detail.sellable
    shown = detail.certificate or product.latest_certificate
    group = product.group
    return schemas.ProductDetail(
        **_product_fields(product, detail.certificate.stars if detail.certificate else None,
                          detail.total_available if sellable else 0),
        on_sale=sellable,
        not_on_sale_reason=product.not_on_sale_reason(),
        description=product.description or "",
        description_en=product.description_en or "",
        group=schemas.ProductGroup(id=group.id, slug=group.slug, name=group.name, name_en=group.name_en or "")
        if group is not None else None,
        image_url=_media(product.image),
        certificate=certificate(shown),
        stock=[schemas.StockEntry(shop_id=shop.id, shop_name=shop.name, available=int(units))
               for shop, units in detail.stock] if sellable else [],
    )


def shop(item: Shop) -> schemas.Shop:
    return schemas.Shop(
        id=item.id,
        slug=item.slug,
        name=item.name,
        address=item.address or "",
        locality=_locality(item.locality),
        locality_today=_locality_today(item.locality),
        phone=item.phone or "",
        opening_hours=item.opening_hours or "",
        opening_hours_en=item.opening_hours_en or "",
        latitude=float(item.latitude) if item.latitude is not None else None,
        longitude=float(item.longitude) if item.longitude is not None else None,
        offers_pickup=bool(item.offers_pickup),
        ships_online=bool(item.ships_online),
    )


def _producer_fields(producer: Producer) -> dict:
    return {
        "id": producer.id,
        "slug": producer.slug,
        "name": producer.name,
        "kind": producer.kind,
        "locality": _locality(producer.locality),
        "locality_today": _locality_today(producer.locality),
    }


def producer_summary(summary: ProducerSummary) -> schemas.ProducerSummary:
    return schemas.ProducerSummary(**_producer_fields(summary.producer), products_on_sale=summary.sellable)


def producer_profile(profile: ProducerProfile) -> schemas.ProducerDetail:
    producer = profile.producer
    return schemas.ProducerDetail(
        **_producer_fields(producer),
        products_on_sale=profile.products.total,
        address=producer.address or "",
        phone=producer.phone or "",
        story=producer.story or "",
        story_en=producer.story_en or "",
        cover_image_url=_media(producer.cover_image),
        products=[catalog_item(i) for i in profile.products.items],
    )


def cart(token: str, view: CartView, order_url: str | None = None) -> schemas.Cart:
    """A cart; ``order`` names the order it became (``order_url``: that order's page), else null."""
    placed = view.cart.order if view.cart is not None else None
    return schemas.Cart(
        token=token,
        lines=[
            schemas.CartLine(
                product_id=line.product.id,
                slug=line.product.slug,
                name=line.product.name,
                name_en=line.product.name_en or "",
                unit=line.product.unit or "",
                unit_en=line.product.unit_en or "",
                stars=line.stars,
                quantity=line.quantity,
                unit_price_vnd=line.unit_price,
                line_total_vnd=line.line_total,
                available=line.available,
                problems=list(line.problems),
            )
            for line in view.lines
        ],
        count=view.count,
        subtotal_vnd=view.subtotal,
        ready_for_checkout=view.ok,
        order=schemas.CartOrder(number=placed.number, token=placed.access_token, order_url=order_url)
        if placed is not None else None,
    )


def payment(order: Order, checkout_url: str | None = None) -> schemas.Payment:
    """How the customer pays: the bank details and VietQR payload, a card checkout link, or cash."""
    method = order.payment_method
    transfer = transfer_instructions(order)
    if transfer is not None:
        return schemas.BankTransferPayment(
            method=method,
            amount_vnd=transfer.amount,
            bank_bin=transfer.bank_bin,
            bank_name=transfer.bank_name,
            account=transfer.account,
            account_name=transfer.account_name,
            reference=transfer.reference,
            vietqr_payload=transfer.qr_payload,
            expires_at=transfer.expires_at,
        )
    if method == PaymentMethod.CARD:
        return schemas.CardPayment(method=method, amount_vnd=order.total, checkout_url=checkout_url,
                                   expires_at=order.hold_expires_at)
    return schemas.CashPayment(method=method, amount_vnd=order.total)


def _fulfilment(order: Order) -> schemas.OrderDelivery | schemas.OrderPickup:
    if order.fulfilment == FulfilmentType.PICKUP:
        pickup = order.pickup_shop  # one small query
        return schemas.OrderPickup(type=FulfilmentType.PICKUP, shop_id=order.pickup_shop_id,
                                   shop_name=pickup.name if pickup is not None else None)
    return schemas.OrderDelivery(type=FulfilmentType.DELIVERY, address=schemas.OrderAddress(
        street=order.address_street, ward=order.address_ward, province=order.address_province))


def order_created(order: Order, checkout_url: str | None = None, page_url: str | None = None) -> schemas.OrderCreated:
    return schemas.OrderCreated(
        number=order.number,
        token=order.access_token,
        order_url=page_url,
        status=order.shown_status(),
        subtotal_vnd=order.subtotal,
        shipping_fee_vnd=order.shipping_fee,
        total_vnd=order.total,
        payment=payment(order, checkout_url),
    )


def order(order: Order, page_url: str | None = None) -> schemas.Order:
    return schemas.Order(
        number=order.number,
        order_url=page_url,
        status=order.shown_status(),  # expired as soon as its hold ran out
        created_at=order.created_at,
        language=order.lang,
        customer=schemas.OrderCustomer(name=order.customer_name, phone=order.phone, email=order.email),
        fulfilment=_fulfilment(order),
        payment_method=order.payment_method,
        payment=payment(order),
        lines=[
            schemas.OrderLine(
                product_id=line.product_id,
                name=line.product_name,
                name_en=line.product_name_en or "",
                unit=line.unit or "",
                unit_en=line.unit_en or "",
                stars=line.stars,
                quantity=line.quantity,
                unit_price_vnd=line.unit_price,
                line_total_vnd=line.line_total,
            )
            for line in order.lines
        ],
        subtotal_vnd=order.subtotal,
        shipping_fee_vnd=order.shipping_fee,
        total_vnd=order.total,
        history=[schemas.OrderEvent(from_status=e.from_status, to_status=e.to_status, at=e.created_at)
                 for e in order.events if e.shipment_id is None],
        payment_status=order.payment_status,
        refunded_vnd=order.amount_refunded,
        fulfilment_status=order.fulfilment_status,
        state=order.state,
        shipments=[_shipment(order, shipment) for shipment in order.shipments],
    )


def _shipment(order: Order, shipment) -> schemas.Shipment:
    """One source shop's part of the order: its state, parcel and lines, and its own history."""
    return schemas.Shipment(
        id=shipment.id,
        shop_id=shipment.shop_id,
        shop_name=shipment.shop.name,
        state=shipment.state,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        lines=[schemas.ShipmentLine(product_id=r.product_id, quantity=r.quantity) for r in shipment.reservations],
        history=[schemas.ShipmentEvent(from_state=e.from_status, to_state=e.to_status, at=e.created_at)
                 for e in order.events if e.shipment_id == shipment.id],
    )

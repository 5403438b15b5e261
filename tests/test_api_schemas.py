"""The API's shapes are declared once (``shop/api/schemas.py``) and the document is generated from them."""
from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from shop.api import schemas


def _declared_names() -> set[str]:
    names = {name for name, value in vars(schemas).items()
             if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == schemas.__name__}
    return names | {schemas.Payment.__name__}


def test_every_schema_of_the_document_is_a_declared_model(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert set(document["components"]["schemas"]) <= _declared_names()


def test_settings_named_in_the_models_are_filled_in(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    components = document["components"]["schemas"]
    maximum = app.config["MAX_LINE_QUANTITY"]
    assert components["CartItemUpdate"]["properties"]["quantity"]["maximum"] == maximum
    assert f"above {maximum} the line" in components["CartLine"]["properties"]["quantity"]["description"]
    text = json.dumps(document)
    assert "x-config" not in text and "{MAX_LINE_QUANTITY}" not in text


def test_the_document_states_the_column_lengths_of_the_order_fields(client):
    from shop.inputs import column_length
    from shop.orders.models import Order

    components = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert components["Customer"]["properties"]["name"]["maxLength"] == column_length(Order.customer_name)
    assert components["Customer"]["properties"]["email"]["maxLength"] == column_length(Order.email)
    assert components["Address"]["properties"]["ward"]["maxLength"] == column_length(Order.address_ward)


@pytest.mark.parametrize("fields", [
    {"id": 1, "name": "HTX"},  # the declared shape
    {"id": 1},  # a field left out
    {"id": 1, "name": "HTX", "nickname": "x"},  # a field nobody declared
])
def test_a_reply_is_exactly_its_declared_shape(fields):
    if set(fields) == {"id", "name"}:
        assert schemas.ProducerRef(**fields).model_dump(mode="json") == fields
    else:
        with pytest.raises(ValidationError):
            schemas.ProducerRef(**fields)


def test_times_keep_their_offset_as_before(app):
    from datetime import UTC, datetime

    at = datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    event = schemas.OrderEvent(from_status=None, to_status="placed", at=at)
    assert event.model_dump(mode="json")["at"] == "2026-03-01T07:30:00+00:00"

"""The `orders:` section and a machine's `order_tag`: defaults, the standards per product
pair, and every refusal naming its field (an order's machine must exist, ids unique,
`due` aware, the order tag a known tag)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edge.config.loading import ConfigError, parse_config

MINIMAL = """
gateway: {id: gw1}
site: s1
area: a1
line: l1
mqtt: {prefix: plant}
machines:
  - id: m1
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}, order: {address: 1}}
    ideal_cycle_s: 2
    products: {p1: {ideal_cycle_s: 2}, p2: {ideal_cycle_s: 3}, p3: {ideal_cycle_s: 4}}
"""
ORDER = '{id: A, product: p1, quantity: 5, due: "2026-12-08T12:00:00+01:00", machine: m1}'


def with_tag(tag: str) -> str:
    cycle = "    ideal_cycle_s: 2\n"
    return MINIMAL.replace(cycle, f"{cycle}    order_tag: {tag}\n", 1)


def issues(text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(text, "t.yaml", {})
    return [str(i) for i in e.value.issues]


def test_defaults_and_the_intake_topic() -> None:
    c = parse_config(MINIMAL, "t.yaml", {})
    o = c.orders
    assert (o.at_risk_margin_s, o.rate_window_s, o.ramp_fraction, o.ramp_window_s) == (
        3600, 900, 0.9, 300
    )  # fmt: skip
    assert o.fixed == [] and o.topic("plant", "s1") == "plant/s1/orders/in"
    assert c.machines[0].order_tag is None
    off = parse_config(MINIMAL + "orders: {intake_topic: null}\n", "t.yaml", {})
    assert off.orders.topic("plant", "s1") is None


def test_fixed_orders_and_the_standards_per_pair() -> None:
    text = with_tag("order")
    text += f"""orders:
  changeover_standards:
    - {{from: "*", to: p2, standard_s: 600}}
    - {{from: p1, to: p2, standard_s: 300}}
  fixed: [{ORDER}]
"""
    c = parse_config(text, "t.yaml", {})
    assert c.machines[0].order_tag == "order"
    (a,) = c.orders.fixed
    assert a.to_order().due == datetime(2026, 12, 8, 11, tzinfo=UTC)
    got = {(a, b): c.orders.standard(a, b) for a in ("p1", "p2", "p3") for b in ("p1", "p2")}
    assert got == {
        ("p1", "p1"): None, ("p1", "p2"): 300, ("p2", "p1"): None, ("p2", "p2"): None,
        ("p3", "p1"): None, ("p3", "p2"): 600,
    }  # fmt: skip


def test_every_refusal_names_its_field() -> None:
    naive = ORDER.replace("+01:00", "")
    other = ORDER.replace("id: A", "id: B").replace("machine: m1", "machine: m9")
    text = MINIMAL + f"orders:\n  fixed: [{ORDER}, {ORDER}, {other}]\n"
    assert issues(text) == [
        "orders.fixed[1].id: order id 'A' is used twice: ids must be unique",
        "orders.fixed[2].machine: no machine 'm9': known are m1",
    ]
    got = issues(MINIMAL + f"orders:\n  fixed: [{naive}]\n")
    assert len(got) == 1 and got[0].startswith("orders.fixed[0].due: Input should have timezone")
    (bad,) = issues(with_tag("nope"))
    assert "order_tag names tag 'nope', which is not under `tags`" in bad
    (ramp,) = issues(MINIMAL + "orders: {ramp_fraction: 0}\n")
    assert ramp.startswith("orders.ramp_fraction: 0")

"""Builders that drive the challenges API the way a partner portal would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

RATES = {
    "rates": [
        {"country": c, "challenge_type": t, "field": f, "amount": {"amount": a, "currency": cur}}
        for f in ("semiconductors", "sensors")
        for t in ("ideation", "theoretical", "rtp", "erfp")
        for c, a, cur in (("US", "50000.00", "USD"), ("GB", "40000.00", "GBP"), ("DE", "45000.00", "EUR"))
    ]
}
FX = {
    "base": "USD",
    "as_of": "2027-01-01",
    "rates": {"CNY": "7.1000", "EUR": "0.9200", "GBP": "0.7900", "JPY": "150.00"},
}


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def challenge_body(org_slug: str, **changes) -> dict:
    body = {
        "organization": org_slug,
        "default_locale": "en",
        "title": {
            "en": "Low-noise readout circuit for wafer defect sensors",
            "zh_Hans": "用于晶圆缺陷检测的低噪声读出电路",
        },
        "summary": {"en": "Design a readout chain below 2 nV/√Hz.", "zh_Hans": "设计噪声低于 2 nV/√Hz 的读出链路。"},
        "description": {"en": "Full technical description.", "zh_Hans": "完整技术描述。"},
        "challenge_type": "rtp",
        "field": "semiconductors",
        "deadline": in_days(30),
        "award_currency": "CNY",
        "premium_pct": "15",
        "criteria": [
            {"name": {"en": "Noise performance", "zh_Hans": "噪声性能"}, "weight": 60},
            {"name": {"en": "Manufacturability", "zh_Hans": "可制造性"}, "weight": 40},
        ],
        "eligibility": {"excluded_countries": ["KP"]},
        "seeker_anonymous": False,
    }
    body.update(changes)
    return body


class Center:
    """An organization with one person per staff role, each with an API token."""

    def __init__(self, client, make_org, make_user, api_token, slug: str):
        self.client = client
        self.org = make_org(slug)
        self.slug = slug
        self.manager_user = make_user(roles=[("center_manager", self.org)])
        self.manager = api_token(self.manager_user)
        self.officer = api_token(make_user(roles=[("security_officer", self.org)]))
        self.finance = api_token(make_user(roles=[("finance_officer", self.org)]))

    def create(self, **changes):
        return self.client.post("/api/v1/challenges", json=challenge_body(self.slug, **changes), headers=self.manager)

    def post(self, path: str, who: dict, **kwargs):
        return self.client.post(f"/api/v1{path}", headers=who, **kwargs)

    def drive(self, challenge_id: int, to: str) -> dict:
        """Move a draft along the real workflow until it reaches `to`."""
        steps = {
            "in_clearance": lambda: self.post(f"/challenges/{challenge_id}/clearance-request", self.manager),
            "cleared": lambda: self.post(
                f"/challenges/{challenge_id}/clearance",
                self.officer,
                json={"decision": "approve", "note": "unclassified"},
            ),
            "funded": lambda: self.fund(challenge_id),
            "open": lambda: self.post(f"/challenges/{challenge_id}/publish", self.manager),
        }
        order = ["in_clearance", "cleared", "funded", "open"]
        response = None
        for step in order[: order.index(to) + 1]:
            response = steps[step]()
            assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    def fund(self, challenge_id: int):
        award = self.client.get(f"/api/v1/challenges/{challenge_id}", headers=self.manager).get_json()["award"]
        return self.post(
            f"/challenges/{challenge_id}/funding/receipts",
            self.finance,
            json={"reference": f"BOC-{challenge_id}", "amount": award, "received_on": "2026-11-05"},
        )

    def open_challenge(self, **changes) -> int:
        created = self.create(**changes)
        assert created.status_code == 201, created.get_json()
        self.drive(created.get_json()["id"], "open")
        return created.get_json()["id"]

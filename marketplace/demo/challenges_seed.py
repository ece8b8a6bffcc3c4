"""Demo programs and challenges: every state, several languages, some Chinese-only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from marketplace.accounts.models import Organization, User
from marketplace.challenges import agreements, questions
from marketplace.challenges import services as challenges
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments import funding
from marketplace.pricing import services as pricing
from marketplace.programs import services as programs
from marketplace.programs.models import Program

FIELDS = ("semiconductors", "sensors", "materials", "ai-hardware")
GOING_RATES = {  # per challenge type: (US in USD, GB in GBP, DE in EUR)
    "ideation": ("12000.00", "9000.00", "10000.00"),
    "theoretical": ("30000.00", "24000.00", "27000.00"),
    "rtp": ("60000.00", "46000.00", "52000.00"),
    "erfp": ("90000.00", "70000.00", "80000.00"),
}


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _org(slug: str) -> Organization:
    return db.session.scalar(select(Organization).where(Organization.slug == slug))


def seed_rates(password: str) -> None:
    admin = _user("admin@innobridge.example")
    rates = []
    for field in FIELDS:
        for challenge_type, (usd, gbp, eur) in GOING_RATES.items():
            for country, amount, currency in (("US", usd, "USD"), ("GB", gbp, "GBP"), ("DE", eur, "EUR")):
                rates.append(
                    {
                        "country": country,
                        "challenge_type": challenge_type,
                        "field": field,
                        "amount": Money.from_decimal(Decimal(amount), currency),
                    }
                )
    pricing.replace_benchmark_rates(rates, actor=admin)
    pricing.set_fx_rates(
        base="USD",
        as_of=date(2026, 11, 1),
        actor=admin,
        rates={
            "CNY": Decimal("7.12"),
            "EUR": Decimal("0.93"),
            "GBP": Decimal("0.79"),
            "JPY": Decimal("151.0"),
            "KRW": Decimal("1390"),
            "CHF": Decimal("0.88"),
        },
    )


def _texts(en: tuple[str, str, str] | None, zh: tuple[str, str, str] | None, extra: dict | None = None) -> dict:
    fields: dict[str, dict[str, str]] = {"title": {}, "summary": {}, "description": {}}
    for locale, triple in (("en", en), ("zh_Hans", zh), *((extra or {}).items())):
        if triple:
            for name, text in zip(("title", "summary", "description"), triple, strict=True):
                fields[name][locale] = text
    return fields


CHALLENGES = [
    # (center, field, type, currency, state, default locale, texts, requirement codes)
    (
        "sh-icc",
        "semiconductors",
        "rtp",
        "CNY",
        "open",
        "en",
        _texts(
            (
                "Low-noise readout circuit for wafer defect sensors",
                "Design a readout chain below 2 nV/√Hz for capacitive defect sensors on 300 mm wafers.",
                "We need a **readout architecture** that keeps input-referred noise below 2 nV/√Hz "
                "from 1 kHz to 1 MHz.\n\n"
                "- 28 nm CMOS or older\n- Power below 5 mW per channel\n"
                "- A simulation or measurement that shows the noise floor",
            ),
            (
                "用于晶圆缺陷检测的低噪声读出电路",
                "为300毫米晶圆电容式缺陷传感器设计噪声低于 2 nV/√Hz 的读出链路。",
                "我们需要一种**读出架构**，在 1 kHz 至 1 MHz 范围内输入参考噪声低于 2 nV/√Hz。",
            ),
            {
                "de": (
                    "Rauscharme Ausleseschaltung für Wafer-Defektsensoren",
                    "Entwerfen Sie eine Auslesekette unter 2 nV/√Hz für kapazitive Defektsensoren.",
                    "Gesucht ist eine **Auslesearchitektur** mit weniger als 2 nV/√Hz Eingangsrauschen.",
                )
            },
        ),
        ["R1"],
    ),
    (
        "sh-icc",
        "semiconductors",
        "theoretical",
        "USD",
        "open",
        "en",
        _texts(
            (
                "Thermal model for chiplet interposers",
                "A compact thermal model for 2.5D interposers with 8 chiplets.",
                "Derive a compact model that predicts hot-spot temperatures within 3 K of finite-element results.",
            ),
            (
                "芯粒中介层热模型",
                "为含8个芯粒的2.5D中介层建立紧凑热模型。",
                "推导一个紧凑模型，热点温度预测误差不超过3 K。",
            ),
        ),
        ["R2"],
    ),
    (
        "sh-icc",
        "ai-hardware",
        "ideation",
        "CNY",
        "open",
        "zh_Hans",
        _texts(
            None,
            (
                "存内计算阵列的容错映射方法",
                "提出将神经网络权重映射到有缺陷的存内计算阵列上的方法。",
                "阵列中约 1% 的单元存在固定故障。请提出映射与重训练方法，使精度损失低于 0.5%。",
            ),
        ),
        ["R3"],
    ),
    (
        "sh-ssc",
        "sensors",
        "rtp",
        "EUR",
        "open",
        "en",
        _texts(
            (
                "Self-calibrating MEMS humidity sensor",
                "Drift below 0.5 %RH per year without factory recalibration.",
                "Show a calibration scheme that keeps drift below 0.5 %RH/year over 5 years.",
            ),
            (
                "自校准MEMS湿度传感器",
                "无需工厂重新校准，年漂移低于 0.5 %RH。",
                "请给出一种校准方案，使5年内年漂移低于 0.5 %RH。",
            ),
            {
                "ja": (
                    "自己校正型MEMS湿度センサ",
                    "工場での再校正なしで年間ドリフト0.5 %RH未満。",
                    "5年間にわたり年間ドリフト0.5 %RH未満を維持する校正方式を示してください。",
                )
            },
        ),
        [],
    ),
    (
        "sh-ssc",
        "materials",
        "erfp",
        "CNY",
        "open",
        "zh_Hans",
        _texts(
            None,
            (
                "柔性压力传感器用高稳定性导电油墨",
                "开发在1万次弯折后电阻变化小于5%的导电油墨。",
                "需提供配方、工艺窗口和弯折测试数据。",
            ),
        ),
        [],
    ),
    (
        "sh-ssc",
        "sensors",
        "ideation",
        "USD",
        "closed",
        "en",
        _texts(
            (
                "Gas sensor array for early battery fire warning",
                "Detect electrolyte venting gases within 10 seconds.",
                "Propose a sensor array and detection algorithm.",
            ),
            None,
        ),
        [],
    ),
    (
        "sh-icc",
        "semiconductors",
        "rtp",
        "CNY",
        "cleared",
        "en",
        _texts(
            ("ESD protection for 0.8 V I/O", "An ESD scheme meeting 2 kV HBM at 0.8 V.", "Details follow clearance."),
            ("0.8 V I/O 的静电防护", "满足 2 kV HBM 的静电防护方案。", "详细内容待审查后公布。"),
        ),
        [],
    ),
    (
        "sh-icc",
        "semiconductors",
        "theoretical",
        "CNY",
        "in_clearance",
        "zh_Hans",
        _texts(None, ("先进封装翘曲预测", "预测大尺寸封装回流焊后的翘曲。", "需要可解释的物理模型。")),
        [],
    ),
    (
        "sh-ssc",
        "sensors",
        "rtp",
        "CNY",
        "draft",
        "en",
        _texts(("Low-power LiDAR receiver front end", "A receiver front end below 20 mW.", "Draft text."), None),
        [],
    ),
    (
        "sh-ssc",
        "materials",
        "ideation",
        "USD",
        "cancelled",
        "en",
        _texts(("Recyclable substrate for printed sensors", "A substrate that can be recycled.", "Cancelled."), None),
        [],
    ),
]


def _seed_programs(icc: Organization, ssc: Organization, managers: dict[str, User]) -> Program:
    """The ICC's classified program (the challenges break it down) and the SSC's unclassified one."""
    program = programs.create_program(
        icc,
        managers["sh-icc"],
        title="Defect inspection module (PRJ-2027-14)",
        objective="An in-line wafer inspection module, assembled from open sub-problems.",
        classification="classified",
        requirements=[
            {"code": "R1", "text": "Sensor readout noise below 2 nV/√Hz"},
            {"code": "R2", "text": "Thermal budget of the interposer"},
            {"code": "R3", "text": "Fault-tolerant on-chip inference"},
            {"code": "R4", "text": "Mechanical integration and packaging"},
        ],
    )
    programs.create_program(
        ssc,
        managers["sh-ssc"],
        title="Environmental sensing platform",
        objective="Low-power sensors for buildings.",
        classification="unclassified",
        requirements=[{"code": "E1", "text": "Humidity"}, {"code": "E2", "text": "Gas"}],
    )
    return program


def seed_programs_and_challenges(password: str) -> None:
    icc, ssc = _org("sh-icc"), _org("sh-ssc")
    managers = {"sh-icc": _user("li.wei@icc.example.cn"), "sh-ssc": _user("zhou.lan@ssc.example.cn")}
    officers = {"sh-icc": _user("zhang.min@icc.example.cn"), "sh-ssc": _user("sun.hao@ssc.example.cn")}
    finance = {"sh-icc": _user("wang.fang@icc.example.cn"), "sh-ssc": _user("liu.yang@ssc.example.cn")}
    program = _seed_programs(icc, ssc, managers)
    solvers = list(db.session.scalars(select(User).where(User.email.like("%.example")).order_by(User.id)))
    for index, (slug, field, kind, currency, state, default_locale, texts, codes) in enumerate(CHALLENGES):
        org = icc if slug == "sh-icc" else ssc
        data = {
            **texts,
            "default_locale": default_locale,
            "challenge_type": kind,
            "field": field,
            "deadline": datetime.now(UTC) + timedelta(days=20 + 7 * index),
            "award_currency": currency,
            "criteria": [
                {"name": {"en": "Technical merit", "zh_Hans": "技术水平"}, "weight": 50},
                {"name": {"en": "Feasibility", "zh_Hans": "可行性"}, "weight": 30},
                {"name": {"en": "Clarity", "zh_Hans": "清晰度"}, "weight": 20},
            ],
            "eligibility": {"excluded_countries": []},
            "seeker_anonymous": index == 4,
            "program_id": program.id if codes else None,
            "requirement_codes": codes,
            "target_trl": 4 if kind == "rtp" else None,
        }
        challenge = challenges.create_challenge(org, managers[slug], data)
        if state == "draft":
            continue
        if state == "cancelled":
            challenges.cancel(challenge, managers[slug], reason="Merged into another challenge.")
            continue
        challenges.request_clearance(challenge, managers[slug])
        if state == "in_clearance":
            continue
        challenges.decide_clearance(challenge, officers[slug], decision="approve", note="No classified content.")
        if state == "cleared":
            continue
        funding.record_receipt(
            challenge,
            finance[slug],
            reference=f"WIRE-2026-{100 + index}",
            amount=challenge.award,
            received_on=date(2026, 11, 2),
        )
        challenges.publish(challenge, managers[slug])
        for solver in solvers[index % 5 : index % 5 + 4]:
            if not challenge.participation_refusal(solver):
                agreements.accept(challenge, solver, version=challenge.agreement_version)
        if index == 0:
            question = questions.ask(challenge, solvers[0], "May we use a chopper-stabilised amplifier?")
            questions.answer(question, managers[slug], "Yes, chopper stabilisation is allowed.")
        if state == "closed":
            challenges.close(challenge, managers[slug])

"""Demo data, built through the same services the application uses.

STEPS run in order; later features append their own steps.
"""

from __future__ import annotations

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Organization, User
from marketplace.demo import money_seed, openness_seed, profiles_seed, reviews_seed
from marketplace.extensions import db

CENTERS = [
    {
        "slug": "sh-icc",
        "name": "Shanghai National Integrated Circuit Innovation Center",
        "country": "CN",
        "premium_pct": "15",
    },
    {
        "slug": "sh-ssc",
        "name": "Shanghai National Smart Sensor Innovation Center",
        "country": "CN",
        "premium_pct": "18",
    },
]

STAFF = [
    # email, name, locale, [(role, org slug)]
    ("admin@innobridge.example", "Platform Admin", "en", [("admin", None)]),
    ("li.wei@icc.example.cn", "Li Wei (李伟)", "zh_Hans", [("center_manager", "sh-icc")]),
    ("zhang.min@icc.example.cn", "Zhang Min (张敏)", "zh_Hans", [("security_officer", "sh-icc")]),
    ("wang.fang@icc.example.cn", "Wang Fang (王芳)", "zh_Hans", [("finance_officer", "sh-icc")]),
    ("chen.jie@icc.example.cn", "Chen Jie (陈杰)", "zh_Hans", [("finance_officer", "sh-icc")]),
    ("zhou.lan@ssc.example.cn", "Zhou Lan (周岚)", "zh_Hans", [("center_manager", "sh-ssc")]),
    ("sun.hao@ssc.example.cn", "Sun Hao (孙浩)", "zh_Hans", [("security_officer", "sh-ssc")]),
    ("liu.yang@ssc.example.cn", "Liu Yang (刘洋)", "zh_Hans", [("finance_officer", "sh-ssc")]),
    ("he.xin@ssc.example.cn", "He Xin (何欣)", "zh_Hans", [("finance_officer", "sh-ssc")]),
    ("ingrid.berg@review.example", "Ingrid Berg", "de", [("reviewer", "sh-icc"), ("reviewer", "sh-ssc")]),
    ("tomoko.sato@review.example", "Tomoko Sato", "ja", [("reviewer", "sh-icc")]),
]

SOLVERS = [
    ("anna.schmidt@tum.example", "Anna Schmidt", "DE", "de"),
    ("james.okafor@imperial.example", "James Okafor", "GB", "en"),
    ("maria.garcia@upm.example", "María García", "ES", "es"),
    ("camille.durand@cnrs.example", "Camille Durand", "FR", "fr"),
    ("kenji.tanaka@u-tokyo.example", "Kenji Tanaka", "JP", "ja"),
    ("minji.kim@kaist.example", "Kim Min-ji", "KR", "ko"),
    ("ahmed.hassan@cu.example", "Ahmed Hassan", "EG", "ar"),
    ("priya.nair@iisc.example", "Priya Nair", "IN", "en"),
    ("lucas.silva@usp.example", "Lucas Silva", "BR", "es"),
    ("emily.chen@stanford.example", "Emily Chen", "US", "en"),
    ("olga.ivanova@kth.example", "Olga Ivanova", "SE", "en"),
    ("daniel.cohen@technion.example", "Daniel Cohen", "IL", "en"),
    ("sofia.rossi@polimi.example", "Sofia Rossi", "IT", "en"),
    ("thabo.nkosi@uct.example", "Thabo Nkosi", "ZA", "en"),
    ("nguyen.an@hust.example", "Nguyen Van An", "VN", "en"),
    ("liu.chen@fudan.example.cn", "Liu Chen (刘晨)", "CN", "zh_Hans"),
]


def seed_organizations(password: str) -> None:
    for center in CENTERS:
        accounts.create_organization(**center)


def seed_staff(password: str) -> None:
    orgs = {org.slug: org for org in db.session.scalars(db.select(Organization))}
    for email, name, locale, grants in STAFF:
        user = accounts.register_user(
            email=email,
            password=password,
            display_name=name,
            country="CN" if locale == "zh_Hans" else _staff_country(locale),
            locale=locale,
            confirmed=True,
        )
        for role, slug in grants:
            accounts.grant_role(user, role, orgs.get(slug) if slug else None)


def _staff_country(locale: str) -> str:
    return {"de": "DE", "ja": "JP"}.get(locale, "US")


def seed_solvers(password: str) -> None:
    for email, name, country, locale in SOLVERS:
        accounts.register_user(
            email=email, password=password, display_name=name, country=country, locale=locale, confirmed=True
        )


def _challenge_steps():
    from marketplace.demo import challenges_seed, proposals_seed

    return [challenges_seed.seed_rates, challenges_seed.seed_programs_and_challenges, proposals_seed.seed_proposals]


STEPS = [
    seed_organizations,
    seed_staff,
    seed_solvers,
    profiles_seed.seed_profiles,
    *_challenge_steps(),
    *reviews_seed.STEPS,
    openness_seed.seed_openness,
    money_seed.seed_money,
]


def login_overview() -> list[tuple[str, str]]:
    from marketplace.labels import role_label

    rows = []
    for user in db.session.scalars(db.select(User).order_by(User.id)):
        roles = ", ".join(
            role_label(g.role) + (f" @ {g.organization.slug}" if g.organization else "") for g in user.roles
        )
        rows.append((user.email, roles or f"solver, {user.country}"))
    return rows

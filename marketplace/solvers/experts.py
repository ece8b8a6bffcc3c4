"""The expert database search: an inverted index of profile terms kept in SQL, and the staff query.

Why not the Whoosh engine (marketplace.search): the terms are written in the same transaction
as the profile, so the index can never lag behind or miss a profile, it needs no index folder
or writer lock, and it behaves the same on SQLite and PostgreSQL. It uses the engine's analyzer
(stemming, accent folding, jieba segmentation for Chinese), so "sensors" finds "sensor" and
传感器 finds 气体传感器.

Measured with bench/bench_experts.py over 20,000 profiles: a LIKE scan of the profile text took
30-65 ms a search; this takes about 10 ms (median, SQLite and PostgreSQL). Every query word must
match (AND); results are ranked by where the words were found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.solvers.models import ExpertProfile, ExpertTerm
from marketplace.solvers.vocabulary import normalise_tag, tag_label

TAG_PREFIX = "tag:"
MAX_QUERY_TERMS = 10
MAX_TERM_CHARS = 100
# Where a word was found decides how much it counts when ranking.
WEIGHT_NAME = WEIGHT_HEADLINE = WEIGHT_EXPERTISE = 3
WEIGHT_AFFILIATION = 2
WEIGHT_TEXT = 1


def _analysis():
    """The search analyzer, with jieba's cache in the instance's search folder (never /tmp)."""
    from marketplace.search import analysis

    analysis.configure(Path(current_app.instance_path) / "search")
    return analysis


def profile_terms(profile: ExpertProfile, user: User) -> dict[str, tuple[int, int]]:
    """term -> (weight, public weight) for one profile: the weight over every field, and over the fields the
    solver made public only (0 when the term comes from private fields alone; see ExpertTerm)."""
    analyzer = _analysis().ANALYZER
    weights: dict[str, list[int]] = {}

    def put(term: str, weight: int, public: bool) -> None:
        found = weights.setdefault(term[:MAX_TERM_CHARS], [0, 0])
        found[0] = max(found[0], weight)
        if public:
            found[1] = max(found[1], weight)

    def add(text: str | None, weight: int, field: str | None) -> None:
        """`field`: the visibility field the text belongs to (None: always public, as the name)."""
        if not text:
            return
        public = field is None or profile.is_public(field)
        for token in analyzer(text, mode="index"):
            put(token.text, weight, public)

    add(user.display_name, WEIGHT_NAME, None)
    add(profile.headline, WEIGHT_HEADLINE, "headline")
    add(" ".join(tag_label(tag) for tag in profile.expertise or ()), WEIGHT_EXPERTISE, "expertise")
    add(profile.affiliation, WEIGHT_AFFILIATION, "affiliation")
    add(" ".join(row.get("name", "") for row in profile.affiliation_history or ()), WEIGHT_TEXT, "affiliation")
    add(profile.bio, WEIGHT_TEXT, "bio")
    add(profile.latest_progress, WEIGHT_TEXT, "latest_progress")
    add(" ".join(entry.title for entry in profile.research), WEIGHT_TEXT, "research_history")
    for tag in profile.expertise or ():
        put(TAG_PREFIX + tag, WEIGHT_EXPERTISE, profile.is_public("expertise"))
    return {term: (weight, public) for term, (weight, public) in weights.items()}


def reindex_profile(profile: ExpertProfile, user: User) -> None:
    """Replace the profile's terms (in the caller's transaction)."""
    db.session.execute(delete(ExpertTerm).where(ExpertTerm.profile_id == profile.id))
    rows = [{"profile_id": profile.id, "term": term, "weight": weight, "public_weight": public}
            for term, (weight, public) in profile_terms(profile, user).items()]
    if rows:
        db.session.execute(insert(ExpertTerm), rows)


def reindex_all(*, batch_size: int = 500, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild every profile's terms (after a change of analysis, or a user renamed); returns the count."""
    ids = db.session.scalars(select(ExpertProfile.id).order_by(ExpertProfile.id)).all()
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        profiles = db.session.scalars(
            select(ExpertProfile).where(ExpertProfile.id.in_(chunk))
            .options(selectinload(ExpertProfile.research), selectinload(ExpertProfile.user))).all()
        for profile in profiles:
            reindex_profile(profile, profile.user)
        db.session.flush()
        if progress:
            progress(len(chunk))
    return len(ids)


# --- the staff search ------------------------------------------------------------------------------

@dataclass
class ExpertQuery:
    q: str = ""
    expertise: list[str] = field(default_factory=list)  # every tag must be held
    countries: list[str] = field(default_factory=list)  # any of them
    early_career: bool | None = None
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_args(cls, args: dict) -> ExpertQuery:
        """From request arguments: comma-separated expertise and countries."""
        return cls(
            q=(args.get("q") or "").strip(),
            expertise=_split(args.get("expertise"), normalise_tag),
            countries=_split(args.get("country"), lambda code: code.strip().upper()),
            early_career=args.get("early_career"),
            page=args.get("page") or 1,
            per_page=args.get("per_page") or 20,
        )


def _split(raw: str | None, normalise: Callable[[str], str]) -> list[str]:
    return list(dict.fromkeys(v for v in (normalise(part) for part in (raw or "").split(",")) if v))[:20]


def query_terms(text: str) -> list[str]:
    return _analysis().query_words(text)[:MAX_QUERY_TERMS] if text.strip() else []


def _matching(query: ExpertQuery, *, all_fields: bool = False):
    """SELECT profile_id[, score] of every match, and the ORDER BY that ranks them.

    Words, tags and the early-career filter match the fields the solvers made public, unless `all_fields`
    (for those who may see every private field: `profiles.sees_every_private_field`).

    Each query word and each expertise tag is a posting list in expert_terms, read by an
    index-only range scan of (term, profile_id, weight, public_weight). Several lists are intersected by one
    GROUP BY ... HAVING count = number of lists (measured faster than self-joins on SQLite, and
    close on PostgreSQL). Users and profiles are never joined to the postings: the filters are
    semi-joins on the profiles they allow, so a common word costs one pass over its postings.
    """
    terms = [*query_terms(query.q), *((TAG_PREFIX + tag)[:MAX_TERM_CHARS] for tag in query.expertise)]
    weight = ExpertTerm.weight if all_fields else ExpertTerm.public_weight
    visible = () if all_fields else (ExpertTerm.public_weight > 0,)
    if len(terms) == 1:
        profile_id, score = ExpertTerm.profile_id, weight
        statement = (select(profile_id.label("profile_id"), score.label("score"))
                     .where(ExpertTerm.term == terms[0], *visible))
    elif terms:  # tags weigh the same in every match, so the sum still ranks by where the words were found
        postings = (select(ExpertTerm.profile_id.label("profile_id"), func.sum(weight).label("score"))
                    .where(ExpertTerm.term.in_(terms), *visible).group_by(ExpertTerm.profile_id)
                    .having(func.count() == len(terms)).subquery())
        profile_id, score = postings.c.profile_id, postings.c.score
        statement = select(profile_id, score)
    else:
        profile_id, score = ExpertProfile.id, None
        statement = select(profile_id.label("profile_id"))
    other = aliased(ExpertProfile)  # the subqueries' own profiles, never the outer query's
    if query.countries or query.early_career is not None:
        # A semi-join on the few eligible profiles: cheaper than joining users to every posting.
        eligible = select(other.id).join(User, User.id == other.user_id).where(User.active.is_(True))
        if query.countries:
            eligible = eligible.where(User.country.in_(query.countries))
        if query.early_career is not None:
            eligible = eligible.where(other.early_career.is_(query.early_career))
            if not all_fields:  # a private flag is never matched
                eligible = eligible.where(ExpertProfile.field_is_public_clause(other.visibility, "early_career"))
        statement = statement.where(profile_id.in_(eligible))
    else:
        inactive = select(other.id).join(User, User.id == other.user_id).where(User.active.is_(False))
        statement = statement.where(profile_id.not_in(inactive))
    if score is None:
        return statement, (profile_id.desc(),)  # nothing to rank by: newest profiles first
    return statement, (score.desc(), profile_id)


def search_experts(query: ExpertQuery, *, viewer=None) -> tuple[list[ExpertProfile], int]:
    """One page of matching profiles (users and research loaded) and the total; every word and
    every tag must match, ranked by where the words were found.

    Only public fields are matched, unless `viewer` may see every private field (platform admins):
    a search must not reveal what a solver keeps private by which profiles it finds.

    Two SQL queries: the ranking query selects ids and the total (a window count), so the
    database sorts narrow rows, never whole profiles; the page's profiles are then loaded by id,
    with their users and research entries. (A page past the end needs a third, to count.)
    """
    from marketplace.solvers.profiles import sees_every_private_field

    matching, order = _matching(query, all_fields=sees_every_private_field(viewer))
    offset = (query.page - 1) * query.per_page
    rows = db.session.execute(matching.add_columns(func.count().over().label("total"))
                              .order_by(*order).limit(query.per_page).offset(offset)).all()
    if not rows:  # no match, or a page past the end (which still tells how many there are)
        total = db.session.scalar(select(func.count()).select_from(matching.subquery())) if offset else 0
        return [], total or 0
    page_ids = [row.profile_id for row in rows]
    loaded = {profile.id: profile for profile in db.session.scalars(
        select(ExpertProfile).join(User, User.id == ExpertProfile.user_id).where(ExpertProfile.id.in_(page_ids))
        .options(contains_eager(ExpertProfile.user).lazyload(User.roles),  # roles are not shown
                 joinedload(ExpertProfile.research))).unique()}
    return [loaded[profile_id] for profile_id in page_ids if profile_id in loaded], rows[0].total

"""The PostgreSQL search backend's table: one analysed document per (kind, id).

Only meaningful on PostgreSQL (``SEARCH_BACKEND=postgres``): the ``document`` column is a
``tsvector`` there, with a GIN index; on SQLite the table exists (so both databases share one
schema) but stays empty.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db

TSVECTOR = sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")
FACETS_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class SearchDocument(db.Model):
    __tablename__ = "search_documents"
    __table_args__ = (sa.Index("ix_search_documents_document", "document", postgresql_using="gin"),)

    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    doc_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    # jieba-segmented Chinese and stemmed Latin tokens: titles weighted A, every text D; and one
    # "f:<facet>=<value>" tag per facet (no analysed token holds ":"), so one GIN scan filters too.
    document: Mapped[str] = mapped_column(TSVECTOR)
    facets: Mapped[dict] = mapped_column(FACETS_JSON)  # facet name -> value (as text)
    award: Mapped[int] = mapped_column(sa.BigInteger)  # 0 when none
    published: Mapped[datetime] = mapped_column(sa.DateTime)  # naive UTC; 1970-01-01 when none
    deadline: Mapped[datetime] = mapped_column(sa.DateTime)  # naive UTC; 9999-12-31 when none


# One per sort (see postgres._order): a page without text is read in index order, LIMIT rows.
sa.Index("ix_search_documents_newest", SearchDocument.kind, SearchDocument.published.desc(), SearchDocument.doc_id)
sa.Index("ix_search_documents_deadline", SearchDocument.kind, SearchDocument.deadline, SearchDocument.award.desc(),
         SearchDocument.doc_id)
sa.Index("ix_search_documents_award", SearchDocument.kind, SearchDocument.award.desc(), SearchDocument.deadline,
         SearchDocument.doc_id)


class SearchGeneration(db.Model):
    """A new random value for a kind in every transaction that writes its documents.

    Counts read in one snapshot are valid for as long as the generation read in that snapshot is
    the current one (``pg_counts``). Random rather than counted up: a table emptied by tests or
    by hand can never bring an old generation back.
    """

    __tablename__ = "search_generations"

    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    generation: Mapped[int] = mapped_column(sa.BigInteger)

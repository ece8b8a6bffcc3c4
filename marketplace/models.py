"""Imports every model module, so SQLAlchemy's metadata (and Alembic) sees all tables."""

from marketplace import idempotency  # noqa: F401
from marketplace.accounts import models as accounts_models  # noqa: F401
from marketplace.analytics import models as analytics_models  # noqa: F401
from marketplace.audit import models as audit_models  # noqa: F401
from marketplace.awards import models as awards_models  # noqa: F401
from marketplace.challenges import agreement_models  # noqa: F401
from marketplace.challenges import models as challenges_models  # noqa: F401
from marketplace.challenges import translation_models as challenge_translation_models  # noqa: F401
from marketplace.mail import models as mail_models  # noqa: F401
from marketplace.payments import models as payments_models  # noqa: F401
from marketplace.pricing import models as pricing_models  # noqa: F401
from marketplace.programs import models as programs_models  # noqa: F401
from marketplace.proposals import models as proposals_models  # noqa: F401
from marketplace.reminders import models as reminders_models  # noqa: F401
from marketplace.results import models as results_models  # noqa: F401
from marketplace.reviews import models as reviews_models  # noqa: F401
from marketplace.search import models as search_models  # noqa: F401
from marketplace.solvers import models as solvers_models  # noqa: F401
from marketplace.stages import models as stages_models  # noqa: F401

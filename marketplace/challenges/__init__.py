"""Challenges: authoring, clearance, publishing, agreements, Q&A, translations and public browsing.

Layout:
  models.py, states.py            the challenge, its texts and criteria; the status transition table, and
                                  Challenge.shown_status (open past its deadline reads as closed: reads never write)
  agreement_models.py             agreement templates, acceptances, amendments
  authoring.py                    what a challenge may say (texts, criteria, deadline, countries, price)
  services.py, clearance.py       create, edit, clearance (two-person rule), publish, close, close_due, cancel
  amendments.py                   dated changes to an open challenge
  agreements.py, questions.py     the solver agreement and the public Q&A
  listing.py, presenters.py       the public browse query and what a challenge page shows
  indexing.py, markers.py         the search source (indexed after commit), private markers kept off public pages
  routes.py                       public pages (blueprint `challenges`)
  staff_routes.py                 the staff manage page and its actions (blueprint `challenge_staff`)
  staff_authoring.py              new / edit, on `challenge_staff`
  translation_models.py, translations.py, translation_routes.py, translation_api.py
                                  each language's mark (translated / reviewed), invited translators, their pages
  staff_lists.py                  staff lists: the organization's challenges and the clearance queue
  api.py, schemas.py              the JSON API
  cli.py                          `flask challenges close-due` (scheduled): writes down what readers already see
Funding (requests, receipts, the funding queue and the manage page's funding panel) lives in
marketplace.payments (funding.py, funding_routes.py, funding_api.py); what higher packages add to these pages
comes through marketplace.panels.
"""


def register(app, api) -> None:
    from marketplace import search
    from marketplace.challenges import api as challenges_api
    from marketplace.challenges import (
        cli,
        indexing,
        routes,
        staff_authoring,
        staff_lists,
        staff_routes,
        translation_api,
        translation_routes,
    )

    app.register_blueprint(routes.bp)
    # staff_authoring and staff_lists add their pages to staff_routes.bp; importing them is what adds them.
    assert staff_authoring.bp is staff_lists.bp is translation_routes.bp is staff_routes.bp
    app.register_blueprint(staff_routes.bp)
    api.register_blueprint(challenges_api.blp)
    api.register_blueprint(translation_api.blp)
    app.cli.add_command(cli.challenges_cli)
    search.add_source(indexing.KIND, indexing.reindex_source)
    indexing.install(app)


def register_notification_kinds() -> None:
    """The in-app notification kinds of this package (marketplace.wiring calls it)."""
    from marketplace.challenges import agreements, questions, translations

    agreements.register_notification()
    questions.register_notification()
    translations.register_notification()

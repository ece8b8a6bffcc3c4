"""Proposals: drafts, submitted versions, teams, attachments and deadlines.

Layout:
  models.py        proposals, members, versions, attachments; the proposal window rule (proposal_window_refusal)
  guards.py        who may act on a proposal and until when; content limits; the caller's active proposal
  services.py      create, edit, submit, discard, withdraw; receipts; reading and listing
  teams.py         invitations, answers, award shares
  attachments.py   the per-proposal caps, adding/removing files, the audited download check
  content.py, journey.py, downloads.py   what a viewer may see, the solver's next step, serving a file
  routes.py, forms.py    the pages (blueprint `proposals`); api.py, schemas.py   the JSON API
"""


def register(app, api) -> None:
    from marketplace import panels
    from marketplace.proposals import api as proposals_api
    from marketplace.proposals import routes
    from marketplace.proposals.guards import active_proposal_of

    panels.add("challenge_page", "my_proposal", lambda challenge, user, accepted: {
        "my_proposal": active_proposal_of(challenge.id, user.id) if accepted else None})
    app.register_blueprint(routes.bp)
    api.register_blueprint(proposals_api.blp)

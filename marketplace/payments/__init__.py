"""Payments: escrow funding, the double-entry ledger, payees, award payouts, refunds and webhooks.

| Module | Holds |
| --- | --- |
| `providers/` | the provider interface, the registry (the only place naming Stripe or manual), both providers |
| `models.py` | funding intents and receipts, ledger, payees, payout accounts, payouts, refunds, provider events |
| `ledger.py` | the double-entry books (balanced, never below zero, one transaction per dedupe key) |
| `funding.py` | money into escrow: provider intents, receipts, `Challenge.funded`, `funding_refusal` |
| `escrow.py` | escrow allocated to the winners (and back when an award is cancelled); provider events stored once |
| `refunds.py` | escrow back to the funder, exactly once |
| `release.py` | screening, the two-person release and `approve_and_pay`, the release's one unit of work |
| `payouts.py` | the award and payout state machines, exactly-once transfers, wire confirmations |
| `payees.py`, `payout_accounts.py` | encrypted payee declarations; Stripe Connect or bank-wire accounts |
| `conflicts.py`, `refusals.py` | finance officers with a stake in an award; refusals kept on record |
| `events.py`, `webhooks.py` | provider events applied (Stripe webhooks, manual confirmations) |
| `reconcile.py` | finishes what a crash left half-done (a job: it commits) |
| `journal.py`, `reports.py` | the ledger journal and the finance overview |
| `services.py` | the money services other packages call |
| `api.py`, `routes.py`, `forms.py`, `cli.py` | the API, the pages, the commands |
| `funding_api.py`, `funding_routes.py` | funding's API, the funding queue and the manage page's funding panel |
| `errors.py` | provider errors as domain errors |

Eligibility by country (sanctions, a challenge's exclusions) is `marketplace/eligibility.py`, shared with
proposals. Services flush and never commit; only the routes, `release.approve_and_pay` and `reconcile` do.
"""

def register(app, api) -> None:
    from marketplace import panels
    from marketplace.payments import api as payments_api
    from marketplace.payments import cli, funding_api, funding_routes, routes, webhooks

    panels.add("challenge_manage", "funding", funding_routes.funding_panel)
    app.register_blueprint(routes.bp)
    api.register_blueprint(payments_api.blp)
    api.register_blueprint(funding_api.blp)
    api.register_blueprint(webhooks.blp)
    app.cli.add_command(cli.payments_cli)

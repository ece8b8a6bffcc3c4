"""Conflicts of interest between reviewers and proposals.

- `rules` (pure): the conflict rules, plain data in, reason codes out; no database.
- `identities` (glue): people from the database as `rules.Person`s, under their identity keys
  (user:, email:, orcid:, name:), plus their affinity documents.
- `service` (glue): who a proposal's authors and a challenge's solvers are (the one definition), and every
  conflicting (proposal_id, reviewer_id) pair of a challenge with its reasons.
- `exclusions` (glue): the people a solver asks never to review their proposal.

Every pair in this package is ordered (proposal_id, reviewer_id).
"""

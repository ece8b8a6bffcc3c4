"""Stage 1 for challenges written in bulk without one (benchmark loaders, imports): the same rows the stages
migration wrote for existing challenges. Runs on a Core connection; idempotent."""

from __future__ import annotations

from sqlalchemy import text

STATEMENTS = (
    "INSERT INTO challenge_stages (challenge_id, position, name, description, deadline) "
    "SELECT id, 1, '{}', '{}', deadline FROM challenges WHERE current_stage_id IS NULL ORDER BY id",
    "UPDATE challenges SET current_stage_id = (SELECT s.id FROM challenge_stages s "
    "WHERE s.challenge_id = challenges.id AND s.position = 1) WHERE current_stage_id IS NULL",
)


def give_first_stages(connection) -> None:
    for statement in STATEMENTS:
        connection.execute(text(statement))

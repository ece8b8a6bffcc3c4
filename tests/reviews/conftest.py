"""The review workflow's builders (build_world, ReviewWorld, add_pool, assign, review_all, ...) live in
tests/factories.py, shared with the stage tests."""

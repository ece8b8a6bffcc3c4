from tests.reviews.conftest import add_pool, assign


def test_smoke(build_world):
    world = build_world()
    add_pool(world)
    pairs = assign(world, per_proposal=2, max_per_reviewer=3)
    assert len(pairs) == 8

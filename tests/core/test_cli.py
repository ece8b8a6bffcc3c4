"""The command line (`flask orgs create`, `users create`, `demo seed`) and configuration from the environment."""

from __future__ import annotations

import os
import stat
import threading

import pytest
import sqlalchemy as sa

from marketplace import config, create_app
from marketplace.accounts.models import Organization, RoleGrant, User
from marketplace.extensions import db
from tests.conftest import _postgres_url
from tests.factories import TEST_PASSWORD


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def users(app) -> list[User]:
    with app.app_context():
        return db.session.scalars(sa.select(User).order_by(User.id)).all()


def grants(app, email: str) -> set[tuple[str, str | None]]:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        return {(g.role, g.organization.slug if g.organization else None) for g in user.roles}


def create_user_args(email="li.wei@example.cn", *extra):
    return ["users", "create", "--email", email, "--password", TEST_PASSWORD, "--name", "Li Wei",
            "--country", "CN", *extra]


# --- orgs create -----------------------------------------------------------------------------

def test_orgs_create(app):
    result = run(app, "orgs", "create", "--slug", "sh-icc", "--name", "Shanghai IC Innovation Center",
                 "--country", "cn")
    assert result.exit_code == 0, result.output
    assert "Created organization sh-icc" in result.output
    with app.app_context():
        org = db.session.scalar(sa.select(Organization))
        assert (org.slug, org.name, org.country, str(org.premium_pct)) == (
            "sh-icc", "Shanghai IC Innovation Center", "CN", "15.00")


@pytest.mark.parametrize(("args", "message"), [
    (["--slug", "Bad Slug!", "--name", "X", "--country", "CN"], "slug"),
    (["--slug", "sh-x", "--name", "X", "--country", "XX"], "country"),
    (["--slug", "sh-x", "--name", "X", "--country", "CN", "--premium-pct", "50"], "premium"),
])
def test_orgs_create_refuses_bad_input_clearly(app, args, message):
    result = run(app, "orgs", "create", *args)
    assert result.exit_code == 1 and message in result.output.lower()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 0


def test_orgs_create_refuses_a_taken_slug(app, make_org):
    make_org("sh-icc")
    result = run(app, "orgs", "create", "--slug", "sh-icc", "--name", "Again", "--country", "CN")
    assert result.exit_code == 1 and "already taken" in result.output


# --- users create ----------------------------------------------------------------------------

def test_users_create_with_repeated_role_org_pairs(app, make_org):
    make_org("sh-icc")
    make_org("sh-ssc")
    result = run(app, *create_user_args("li.wei@example.cn", "--role", "center_manager", "--org", "sh-icc",
                                        "--role", "admin", "--role", "reviewer", "--org", "sh-ssc"))
    assert result.exit_code == 0, result.output
    assert grants(app, "li.wei@example.cn") == {("center_manager", "sh-icc"), ("admin", None),
                                                ("reviewer", "sh-ssc")}
    [user] = users(app)
    assert user.email_confirmed and user.country == "CN"
    login = app.test_client().post("/api/v1/auth/tokens", json={"email": user.email, "password": TEST_PASSWORD})
    assert login.status_code == 201


def test_users_create_without_roles_makes_a_confirmed_solver(app):
    result = run(app, *create_user_args())
    assert result.exit_code == 0 and "solver" in result.output
    [user] = users(app)
    assert user.email_confirmed and user.roles == []


def test_a_role_without_org_fails_clearly_and_writes_nothing(app, make_org):
    make_org("sh-icc")
    result = run(app, *create_user_args("a@example.org", "--role", "admin", "--role", "finance_officer"))
    assert result.exit_code == 2 and "--role finance_officer needs an --org SLUG" in result.output
    org_without_role = run(app, *create_user_args("b@example.org", "--org", "sh-icc"))
    assert org_without_role.exit_code == 2 and "has no --role" in org_without_role.output
    assert users(app) == []


def test_an_unknown_org_fails_clearly_and_writes_nothing(app, make_org):
    make_org("sh-icc")
    result = run(app, *create_user_args("a@example.org", "--role", "reviewer", "--org", "sh-icc",
                                        "--role", "reviewer", "--org", "no-such-center"))
    assert result.exit_code == 1 and "'no-such-center'" in result.output
    assert users(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(RoleGrant.id))) == 0


def test_users_create_refuses_unknown_roles_weak_passwords_and_duplicates(app):
    assert run(app, *create_user_args("a@example.org", "--role", "emperor")).exit_code == 2
    weak = run(app, "users", "create", "--email", "a@example.org", "--password", "password1234",
               "--name", "A", "--country", "DE")
    assert weak.exit_code == 1 and "password" in weak.output
    assert run(app, *create_user_args("a@example.org")).exit_code == 0
    duplicate = run(app, *create_user_args("A@example.org"))
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    assert len(users(app)) == 1


# --- demo seed -------------------------------------------------------------------------------

def test_demo_seed_fills_an_empty_database_and_leaves_a_full_one_alone(app, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")
    result = run(app, "demo", "seed")
    assert result.exit_code == 0, result.output
    assert "demo-password-for-tests" in result.output
    with app.app_context():
        orgs = db.session.scalars(sa.select(Organization)).all()
        roles = set(db.session.scalars(sa.select(RoleGrant.role)))
        everyone = db.session.scalars(sa.select(User)).all()
    assert len(orgs) >= 2 and all(org.country == "CN" for org in orgs)
    assert any("Integrated Circuit" in org.name for org in orgs) and any("Sensor" in org.name for org in orgs)
    assert roles >= {"admin", "center_manager", "security_officer", "finance_officer", "reviewer"}
    solvers = [user for user in everyone if not user.roles]
    assert len({user.country for user in solvers}) >= 12
    assert {user.locale for user in everyone} >= {"en", "zh_Hans", "de", "ja", "ko", "fr", "es", "ar"}
    assert all(user.email_confirmed for user in everyone)
    # two finance officers per center, so a payout release can have a second approver
    for org in orgs:
        officers = [u for u in everyone if any(g.role == "finance_officer" and g.organization_id == org.id
                                               for g in u.roles)]
        assert len(officers) >= 2, org.slug
    demo_login = app.test_client().post("/api/v1/auth/tokens", json={
        "email": solvers[0].email, "password": "demo-password-for-tests"})
    assert demo_login.status_code == 201
    assert (os.stat(os.path.join(app.instance_path, "demo-accounts.txt")).st_size > 0)

    again = run(app, "demo", "seed")
    assert again.exit_code == 0 and "left it alone" in again.output
    assert len(users(app)) == len(everyone)


# --- configuration ---------------------------------------------------------------------------

@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No configuration from the machine running the tests."""
    for name in list(os.environ):
        if name in {"DATABASE_URL", "SECRET_KEY", "REDIS_URL", "FLASK_ENV_MODE", "FLASK_DEBUG", "MAIL_SERVER",
                    "SESSION_COOKIE_SECURE", "INSTANCE_PATH"}:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize(("given", "used"), [
    ("postgresql://user@db.example:5433/innobridge", "postgresql+psycopg://user@db.example:5433/innobridge"),
    ("postgres://user:pw@host/db", "postgresql+psycopg://user:pw@host/db"),
    ("postgresql+psycopg://user@host/db", "postgresql+psycopg://user@host/db"),
    ("sqlite:////var/lib/innobridge.sqlite", "sqlite:////var/lib/innobridge.sqlite"),
])
def test_normalise_database_url(given, used):
    assert config.normalise_database_url(given) == used


def test_a_plain_postgresql_url_works_as_given(clean_env, tmp_path):
    url = _postgres_url()
    if url is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    assert url.startswith("postgresql://")
    clean_env.setenv("DATABASE_URL", url)
    clean_env.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app({"RATELIMIT_STORAGE_URI": "memory://"})
    with application.app_context():
        try:
            assert db.session.scalar(sa.text("SELECT current_database()")) == sa.engine.make_url(url).database
        finally:
            db.session.remove()
            db.engine.dispose()


def test_defaults_put_everything_in_the_instance_folder(clean_env, tmp_path):
    settings = config.from_environment()
    instance = tmp_path / "instance"
    assert settings["INSTANCE_PATH"] == str(instance)
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'innobridge.sqlite'}"
    assert settings["REDIS_URL"] is None and settings["RATELIMIT_STORAGE_URI"] == "memory://"
    assert settings["MAIL_SERVER"] is None


def test_secret_key_is_generated_once_private_and_reused(clean_env, tmp_path):
    clean_env.setenv("INSTANCE_PATH", str(tmp_path / "one"))
    first = config.from_environment()["SECRET_KEY"]
    secret_file = tmp_path / "one" / "secret_key"
    assert len(first) >= 40 and secret_file.read_text().strip() == first
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert config.from_environment()["SECRET_KEY"] == first
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == ["secret_key"]  # no drafts left behind
    clean_env.setenv("SECRET_KEY", "from-the-environment")
    assert config.from_environment()["SECRET_KEY"] == "from-the-environment"


def test_instance_path_separates_instances(clean_env, tmp_path):
    clean_env.setenv("INSTANCE_PATH", str(tmp_path / "a"))
    a = config.from_environment()
    clean_env.setenv("INSTANCE_PATH", str(tmp_path / "b"))
    b = config.from_environment()
    assert a["SECRET_KEY"] != b["SECRET_KEY"]
    assert a["SQLALCHEMY_DATABASE_URI"] != b["SQLALCHEMY_DATABASE_URI"]
    assert (tmp_path / "a" / "secret_key").exists() and (tmp_path / "b" / "secret_key").exists()


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    """gunicorn workers start at once: every one must read the same, complete key."""
    for attempt in range(20):
        folder = tmp_path / f"instance-{attempt}"
        start = threading.Barrier(8)
        keys, errors = [], []

        def load(folder=folder, start=start, keys=keys, errors=errors):
            try:
                start.wait()
                keys.append(config.load_or_create_secret(folder))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=load) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert errors == [] and len(set(keys)) == 1 and len(keys[0]) >= 40


def test_bad_boolean_settings_fail_loudly(clean_env):
    clean_env.setenv("MAIL_USE_TLS", "maybe")
    with pytest.raises(ValueError, match="MAIL_USE_TLS"):
        config.from_environment()

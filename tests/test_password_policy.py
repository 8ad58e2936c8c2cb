"""The password policy on every path that sets a password (API and CLI).

At least 12 characters and a zxcvbn score of at least 3, with the username
and city as user inputs; the refusal says why. (The web pages that set
passwords are covered with the pages themselves.)
"""
import pytest

from atm_app.auth.passwords import verify_password
from atm_app.models import AuditEvent, User

from conftest import STRONG_PASSWORD

# Scores 3 on its own, but 1 once zxcvbn knows the username "okonkwo".
BUILT_ON_USERNAME = "okonkwo123456"
# Scores 4 on its own, but 1 for a user whose city is Maiduguri.
BUILT_ON_CITY = "maiduguri123456"
STRONG_TWELVE = "Kx9#mQ2vL7pz"


@pytest.fixture
def host(make_user, api):
    """A signed-in host with a fresh token (host writes need one)."""
    make_user("host1", role="host")
    return api.login("host1")


def create(client, host, password, username="okonkwo", city="Lagos"):
    """POST /api/users/ as the host."""
    body = {"username": username, "password": password, "role": "technician", "city": city}
    return client.post("/api/users/", json=body, headers=host.headers)


def password_errors(response):
    """The 400's messages for the `password` field."""
    assert response.status_code == 400, response.get_json()
    return response.get_json()["errors"]["password"]


class TestCreatingAUserThroughTheApi:
    @pytest.mark.parametrize(("password", "reason"), [
        ("Short-pw-1", "Use at least 12 characters."),
        ("x" * 257, "Use at most 256 characters."),
        ("password1234", "This is a very common password."),
        ("aaaaaaaaaaaa", 'Repeats like "aaa" are easy to guess.'),
        ("qwertyuiopas", "This is similar to a commonly used password."),
    ])
    def test_a_weak_password_is_refused_with_the_reason(self, client, host, db, password, reason):
        response = create(client, host, password)

        assert password_errors(response)[0].startswith(reason)
        assert User.find_by_username("okonkwo") is None

    def test_twelve_characters_of_a_strong_password_are_enough(self, client, host):
        assert create(client, host, STRONG_TWELVE).status_code == 201

    def test_a_long_passphrase_up_to_256_characters_is_accepted(self, client, host, api):
        passphrase = ("Amber tides fold under the old Kaduna bridge at dusk; " * 5)[:256]

        assert create(client, host, passphrase).status_code == 201
        assert api.login("okonkwo", passphrase).access

    def test_a_long_but_weak_password_is_refused_with_the_reason(self, client, host):
        response = create(client, host, "a" * 200)

        assert password_errors(response)[0].startswith('Repeats like "aaa" are easy to guess.')

    def test_a_password_built_on_the_username_is_refused(self, client, host):
        response = create(client, host, BUILT_ON_USERNAME, username="okonkwo")

        assert "username or city" in password_errors(response)[0]

    def test_the_same_password_is_fine_for_another_username(self, client, host):
        assert create(client, host, BUILT_ON_USERNAME, username="adaeze").status_code == 201

    def test_a_password_built_on_the_city_is_refused(self, client, host):
        response = create(client, host, BUILT_ON_CITY, city="Maiduguri")

        assert "username or city" in password_errors(response)[0]

    def test_the_same_password_is_fine_in_another_city(self, client, host):
        assert create(client, host, BUILT_ON_CITY, city="Lagos").status_code == 201

    def test_a_refused_password_writes_no_audit_event(self, client, host, db):
        create(client, host, "password1234")

        created = db.session.execute(
            db.select(db.func.count()).where(AuditEvent.event == "user_created")).scalar_one()
        assert created == 1  # only the host made by the fixture


class TestChangingAPasswordThroughTheApi:
    def test_the_host_resetting_a_password_is_held_to_the_policy(self, client, host, make_user):
        user = make_user("okonkwo")
        response = client.patch(f"/api/users/{user.id}/", json={"password": BUILT_ON_USERNAME},
                                headers=host.headers)

        assert "username or city" in password_errors(response)[0]

    def test_a_new_city_given_with_the_password_is_used_as_a_user_input(
        self, client, host, make_user
    ):
        user = make_user("okonkwo", city="Lagos")
        response = client.patch(f"/api/users/{user.id}/",
                                json={"city": "Maiduguri", "password": BUILT_ON_CITY},
                                headers=host.headers)

        assert "username or city" in password_errors(response)[0]

    def test_changing_one_s_own_password_is_held_to_the_policy(self, client, make_user, api, db):
        user = make_user("okonkwo")
        tokens = api.login("okonkwo")

        response = client.post("/api/auth/password/", headers=tokens.headers,
                               json={"current_password": STRONG_PASSWORD,
                                     "new_password": BUILT_ON_USERNAME})

        assert response.status_code == 400
        assert "username or city" in response.get_json()["errors"]["new_password"][0]
        db.session.refresh(user)
        assert verify_password(user.password_hash, STRONG_PASSWORD)

    def test_a_strong_new_password_is_accepted(self, client, make_user, api):
        make_user("okonkwo")
        tokens = api.login("okonkwo")

        response = client.post("/api/auth/password/", headers=tokens.headers,
                               json={"current_password": STRONG_PASSWORD,
                                     "new_password": STRONG_TWELVE})

        assert response.status_code == 200
        assert api.login("okonkwo", STRONG_TWELVE).access


class TestTheCli:
    def test_create_user_refuses_a_weak_password_with_the_reason(self, runner, db):
        result = runner.invoke(args=["create-user", "okonkwo", "--role", "technician",
                                     "--password-stdin"], input=f"{BUILT_ON_USERNAME}\n")

        assert result.exit_code == 1
        assert "username or city" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert User.find_by_username("okonkwo") is None

    def test_create_user_refuses_a_short_password(self, runner, db):
        result = runner.invoke(args=["create-user", "okonkwo", "--role", "technician",
                                     "--password-stdin"], input="Short-pw-1\n")

        assert result.exit_code == 1
        assert "Use at least 12 characters." in result.stderr
        assert User.find_by_username("okonkwo") is None

    def test_create_user_uses_the_city_as_a_user_input(self, runner, db):
        result = runner.invoke(args=["create-user", "tech1", "--role", "technician", "--city",
                                     "Maiduguri", "--password-stdin"], input=f"{BUILT_ON_CITY}\n")

        assert result.exit_code == 1
        assert "username or city" in result.stderr

    def test_create_user_accepts_a_strong_password(self, runner, db):
        result = runner.invoke(args=["create-user", "okonkwo", "--role", "technician",
                                     "--password-stdin"], input=f"{STRONG_TWELVE}\n")

        assert result.exit_code == 0, result.stderr
        assert verify_password(User.find_by_username("okonkwo").password_hash, STRONG_TWELVE)

    def test_set_password_refuses_a_weak_password_and_keeps_the_old_one(
        self, runner, make_user, db
    ):
        user = make_user("okonkwo")

        result = runner.invoke(args=["set-password", "okonkwo", "--password-stdin"],
                               input="password1234\n")

        assert result.exit_code == 1
        assert "This is a very common password." in result.stderr
        db.session.refresh(user)
        assert verify_password(user.password_hash, STRONG_PASSWORD)

"""GET /healthz: 200 when a real database query succeeds, 503 otherwise."""
import pytest

from atm_app import create_app

UNREACHABLE_DATABASES = {
    "sqlite-in-a-missing-directory": "sqlite:////nonexistent-atm-dir/sub/atm.sqlite3",
    "postgres-port-nobody-listens-on":
        "postgresql+psycopg://postgres@127.0.0.1:1/atm?connect_timeout=2",
}


def test_health_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.parametrize("url", UNREACHABLE_DATABASES.values(), ids=UNREACHABLE_DATABASES.keys())
def test_app_starts_and_health_is_503_when_the_database_is_unreachable(url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] != "ok"
    # The app is still up: the next check answers too.
    assert client.get("/healthz").status_code == 503



def test_health_recovers_when_the_database_becomes_reachable(tmp_path):
    missing_dir = tmp_path / "not-yet"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing_dir}/atm.sqlite3"})
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    missing_dir.mkdir()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}

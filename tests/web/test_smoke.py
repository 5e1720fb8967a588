from tests.factories import AdminFactory, UserFactory


def test_public_home(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"What we ask of you" in response.data


def test_advocate_home_after_login(client, login_as):
    user = login_as(UserFactory(name="Rosa Díaz"))
    response = client.get("/home")
    assert response.status_code == 200
    assert "Welcome, Rosa Díaz" in response.text
    assert user.email in response.text


def test_advocate_gets_403_on_admin(client, login_as):
    login_as(UserFactory())
    assert client.get("/admin").status_code == 403


def test_admin_dashboard(client, login_as):
    login_as(AdminFactory())
    assert client.get("/admin").status_code == 200

def test_healthz_answers_without_login(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}

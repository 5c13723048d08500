import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.db.utils import OperationalError
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]
SETTINGS_VARIABLES = set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z_]+)"',
                                    (ROOT / "portal" / "settings.py").read_text())) | {"REGISTRY_DATA_DIR"}


def test_compose_services_images_commands_and_environment():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "outbound", "beat", "db", "redis", "mailpit"}
    assert services["db"]["image"] == "postgres:16" and services["redis"]["image"] == "redis:7"
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    commands = {"web": ["web"], "worker": ["worker"], "outbound": ["outbound"], "beat": ["beat"]}
    entrypoint = (ROOT / "docker-entrypoint.sh").read_text()
    for name, command in commands.items():
        service = services[name]
        assert service["build"] == "." and service["command"] == command
        assert f"  {command[0]})" in entrypoint  # the entrypoint knows the command
        assert set(service["environment"]) <= SETTINGS_VARIABLES, set(service["environment"]) - SETTINGS_VARIABLES
        assert service["environment"]["PRODUCTION"] == "1"
        assert service["env_file"] == ".env"
        assert "media:/data/media" in service["volumes"]
    assert "migrate --noinput" in entrypoint.split("web)")[1].split(";;")[0]  # migrations run on start
    assert set(compose["volumes"]) == {"pgdata", "redisdata", "media"}
    assert "healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_env_example_names_every_variable_the_settings_read():
    text = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z_]+)=", text, re.MULTILINE))
    assert SETTINGS_VARIABLES <= named, SETTINGS_VARIABLES - named


def test_gunicorn_workers_freeze_what_they_loaded_and_collect_less_often():
    import gc
    import runpy

    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    threshold = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)  # Python's default
        hooks["post_worker_init"](None)
        assert gc.get_threshold()[0] > 700 and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_production_refuses_to_start_without_a_secret_key():
    env = {key: value for key, value in os.environ.items() if key not in ("DEBUG", "SECRET_KEY")}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env | {"PRODUCTION": "1"},
                            capture_output=True, text=True)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_pages_carry_a_content_security_policy_and_no_inline_script(signed_in, trader, batch):
    response = signed_in(trader).get(reverse("dashboard:certificates"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    scripts = re.findall(r"<script([^>]*)>", response.content.decode())
    assert scripts and all("src=" in attributes for attributes in scripts)


def test_healthz_up(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_down_when_the_broker_does_not_answer(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["broker"].startswith("error")


def test_healthz_down_when_the_database_does_not_answer(client, db, monkeypatch):
    from registry import views

    class DownConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(views, "connection", DownConnection())
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "error: OperationalError"


def test_logs_carry_the_request_id_and_the_user(signed_in, trader):
    from utilities.logging import JsonFormatter, RequestContextFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = signed_in(trader).get("/transfers/999999/", headers={"X-Request-ID": "req-abc123"})
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404 and response["X-Request-ID"] == "req-abc123"
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["request_id"] == "req-abc123" and entry["user"] == str(trader.pk) and entry["level"] == "WARNING"


@pytest.mark.parametrize("header", ["", "bad id with spaces"])
def test_a_request_id_is_made_when_none_usable_is_given(client, db, header):
    response = client.get("/healthz", headers={"X-Request-ID": header} if header else {})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])

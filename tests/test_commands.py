import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from cookies_app.management.commands import ensure_local_admin

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def password_file(tmp_path, monkeypatch):
    path = tmp_path / ".local-admin-password"
    monkeypatch.setattr(ensure_local_admin, "PASSWORD_FILE", path)
    return path


@pytest.mark.django_db
def test_creates_a_superuser_with_a_random_password(settings, password_file, capsys):
    settings.DEBUG = True

    call_command("ensure_local_admin")

    password = password_file.read_text().strip()
    assert len(password) >= 20
    assert password in capsys.readouterr().out
    user = authenticate(username="admin", password=password)
    assert user is not None and user.is_superuser and user.is_staff
    assert password_file.stat().st_mode & 0o077 == 0


@pytest.mark.django_db
def test_second_run_keeps_the_same_password(settings, password_file):
    settings.DEBUG = True
    call_command("ensure_local_admin")
    first = password_file.read_text()

    call_command("ensure_local_admin")

    assert password_file.read_text() == first


@pytest.mark.django_db
def test_a_lost_password_file_gets_a_new_password(settings, password_file):
    settings.DEBUG = True
    call_command("ensure_local_admin")
    old = password_file.read_text().strip()
    password_file.unlink()

    call_command("ensure_local_admin")

    new = password_file.read_text().strip()
    assert new != old
    assert authenticate(username="admin", password=new) is not None


@pytest.mark.django_db
def test_a_password_changed_since_is_kept(settings, password_file, capsys, django_user_model):
    settings.DEBUG = True
    call_command("ensure_local_admin")
    user = django_user_model.objects.get(username="admin")
    user.set_password("my-own-choice-123")
    user.save()

    call_command("ensure_local_admin")

    assert authenticate(username="admin", password="my-own-choice-123") is not None
    assert "the one you set" in capsys.readouterr().out


@pytest.mark.django_db
def test_passwords_differ_between_installations(settings, tmp_path, monkeypatch, django_user_model):
    settings.DEBUG = True
    seen = set()
    for i in range(2):
        django_user_model.objects.filter(username="admin").delete()
        monkeypatch.setattr(ensure_local_admin, "PASSWORD_FILE", tmp_path / f"p{i}")
        call_command("ensure_local_admin")
        seen.add((tmp_path / f"p{i}").read_text())

    assert len(seen) == 2


@pytest.mark.django_db
def test_refuses_to_run_in_production(settings, password_file, django_user_model):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="development"):
        call_command("ensure_local_admin")

    assert not password_file.exists()
    assert not django_user_model.objects.filter(username="admin").exists()


@pytest.mark.django_db
def test_the_admin_link_follows_the_address_served(settings, password_file, capsys):
    settings.DEBUG = True

    call_command("ensure_local_admin")
    call_command("ensure_local_admin", url="http://127.0.0.1:8001/")

    admin_lines = [line for line in capsys.readouterr().out.splitlines() if "admin/" in line]
    assert [line.split("  ")[0] for line in admin_lines] == [
        "Admin: http://127.0.0.1:8000/admin/",
        "Admin: http://127.0.0.1:8001/admin/",
    ]


def make_dry_run(*args):
    # Not the outer make's settings either: under `make test` they would make this
    # one print "Entering directory" lines.
    outer = ("PORT", "DJANGO_DEBUG_TOOLBAR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    env = {k: v for k, v in os.environ.items() if k not in outer}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("args", "port"), [((), "8000"), (("PORT=8001",), "8001")])
def test_make_run_serves_on_loopback_at_the_port_asked_for(args, port):
    recipe = make_dry_run(*args)

    assert "migrate --noinput --verbosity 0" in recipe
    assert f"ensure_local_admin --url http://127.0.0.1:{port}" in recipe
    assert f"Cookie Lab: http://127.0.0.1:{port}/cookies" in recipe
    assert recipe.rstrip().endswith(f"manage.py runserver 127.0.0.1:{port}")
    assert "DJANGO_DEBUG_TOOLBAR=1 make run turns it on" in recipe

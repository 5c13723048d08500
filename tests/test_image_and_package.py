"""Nothing lists the apps by hand: the Docker image and `pip install .` take every app of the tree.

The image holds every app and starts Django. No Docker engine runs here, so the tests lay out the
files as the Dockerfile's COPY lines and .dockerignore do, and run the build's Django commands
(collectstatic) and the containers' checks on that tree alone, with this venv's third-party
packages standing in for the image's pip install."""

import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def dockerignore_patterns() -> list[tuple[bool, re.Pattern]]:
    """.dockerignore's lines as (is an exception "!...", regex), in order: the last match decides."""
    patterns = []
    dockerignore = ROOT / ".dockerignore"
    for line in (dockerignore.read_text() if dockerignore.exists() else "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        glob = line.lstrip("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?)", glob):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
        patterns.append((negated, re.compile(regex + r"\Z")))
    return patterns


def ignored(path: str, patterns) -> bool:
    """Whether Docker leaves `path` (relative to the context) out: a pattern matching the path or
    one of its parent directories excludes it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for negated, pattern in patterns:
        if any(pattern.match(prefix) for prefix in prefixes):
            verdict = not negated
    return verdict


def context_files(source: str, patterns) -> list[str]:
    """The build context's files under `source` (relative paths), as Docker sends them."""
    start = (ROOT / source).resolve()
    if start.is_file():
        return [] if ignored(source, patterns) else [source]
    found = []
    for directory, subdirectories, files in os.walk(start):
        relative = Path(directory).relative_to(ROOT).as_posix()
        relative = "" if relative == "." else relative + "/"
        subdirectories[:] = [d for d in subdirectories if not ignored(relative + d, patterns)]
        found += [relative + name for name in files if not ignored(relative + name, patterns)]
    return found


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(keyword.upper(), arguments) for keyword, _, arguments in (line.partition(" ") for line in lines)]


def lay_out_image(target: Path) -> tuple[Path, dict[str, str], list[list[str]]]:
    """Copy the files the Dockerfile copies into `target` (the image's /), and return its working
    directory, the environment it sets, and the `python manage.py ...` commands its RUN lines run."""
    patterns = dockerignore_patterns()
    workdir, env, manage_commands = Path("/"), {}, []
    for keyword, arguments in instructions():
        if keyword == "WORKDIR":
            workdir = workdir / arguments
        elif keyword == "ENV":
            env |= dict(item.split("=", 1) for item in shlex.split(arguments))
        elif keyword == "COPY":
            *sources, destination = shlex.split(arguments)
            into = target / (workdir / destination).relative_to("/")
            for source in sources:
                source = source.strip("/") or "."
                is_directory = (ROOT / source).is_dir()
                prefix = "" if source == "." else source + "/"
                for name in context_files(source, patterns):
                    if is_directory:  # its contents go into the destination
                        path = into / name.removeprefix(prefix)
                    else:  # into a directory named with a trailing "/", else as the destination
                        path = into / Path(name).name if destination.endswith("/") or len(sources) > 1 else into
                    path.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(ROOT / name, path)
        elif keyword == "RUN":
            for command in arguments.split("&&"):
                words = shlex.split(command)
                assignments = [word for word in words if re.fullmatch(r"[A-Z_]+=.*", word)]
                rest = words[len(assignments):]
                if rest[:2] == ["python", "manage.py"]:
                    manage_commands.append([*assignments, *rest[2:]])
    return target / workdir.relative_to("/"), env, manage_commands


def run_python(workdir: Path, env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    """This venv's Python in the laid-out tree, which sees the third-party packages and nothing of
    the checkout: -S skips the .pth files, among them the editable install's finder of the apps.
    It reaches the database this test run was given (`make test` makes sure it exists), as the
    containers reach theirs: Django's model checks ask the server its version (a GeneratedField)."""
    environment = {"PATH": os.environ["PATH"], "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    if os.environ.get("DATABASE_URL"):
        environment["DATABASE_URL"] = os.environ["DATABASE_URL"]
    environment |= env
    return subprocess.run([sys.executable, "-S", *arguments], cwd=workdir, env=environment,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """The laid-out image, its build's Django commands run as the Dockerfile runs them."""
    workdir, env, manage_commands = lay_out_image(tmp_path_factory.mktemp("image"))
    assert manage_commands, "the Dockerfile runs no manage.py command"
    for command in manage_commands:
        assignments = dict(word.split("=", 1) for word in command if re.fullmatch(r"[A-Z_]+=.*", word))
        arguments = [word for word in command if not re.fullmatch(r"[A-Z_]+=.*", word)]
        built = run_python(workdir, env | assignments, "manage.py", *arguments)
        assert built.returncode == 0, built.stdout + built.stderr
    return workdir, env


def test_the_image_s_build_collects_the_static_files(image):
    workdir, _ = image
    assert (workdir / "staticfiles" / "staticfiles.json").is_file()  # whitenoise's manifest
    assert list((workdir / "staticfiles").glob("css/*.css"))


def test_the_image_s_files_start_django_and_pass_the_deploy_checks(image):
    """The production settings, as the web container has them, pass Django's deploy checks."""
    workdir, env = image
    runtime = env | {"PRODUCTION": "1", "SECRET_KEY": secrets.token_urlsafe(64),
                     "ALLOWED_HOSTS": "registry.example.org"}
    checked = run_python(workdir, runtime, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues" in checked.stdout


def test_the_image_s_worker_finds_every_app_s_tasks(image):
    workdir, env = image
    runtime = env | {"PRODUCTION": "1", "SECRET_KEY": secrets.token_urlsafe(64)}
    script = ("from portal.celery import app; import django; django.setup(); app.loader.import_default_modules(); "
              "print('\\n'.join(sorted(app.tasks)))")
    loaded = run_python(workdir, runtime, "-c", script)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    tasks = set(loaded.stdout.split())
    modules = {task.rpartition(".")[0] for task in tasks if not task.startswith("celery.")}
    apps_with_tasks = {path.parent.name + ".tasks" for path in ROOT.glob("*/tasks.py")}
    assert apps_with_tasks <= modules, apps_with_tasks - modules


def test_the_entrypoint_and_gunicorn_s_settings_are_in_the_image(image):
    workdir, _ = image
    assert os.access(workdir / "docker-entrypoint.sh", os.X_OK)
    assert (workdir / "gunicorn.conf.py").is_file()


@pytest.mark.parametrize("path", [".env", ".git/HEAD", ".venv/bin/python", ".data/postgres/PG_VERSION",
                                  "media/uploads/transfers.csv", "staticfiles/staticfiles.json",
                                  "accounts/__pycache__/models.cpython-312.pyc", "rec_registry.egg-info/PKG-INFO"])
def test_local_data_secrets_and_caches_stay_out_of_the_image(path):
    assert ignored(path, dockerignore_patterns())


def test_pip_install_packages_every_module_of_the_portal_and_not_its_tests(tmp_path):
    """A checkout's files (what git tracks or would), built into a wheel as `pip install .` does."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    files = [name for name in listed if name and (ROOT / name).is_file()]
    checkout = tmp_path / "checkout"
    for name in files:
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, checkout / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--wheel-dir", str(tmp_path / "wheel"), str(checkout)],
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (tmp_path / "wheel").glob("*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    modules = {name for name in files if name.endswith(".py") and "/" in name}  # those in packages
    # Not the portal: its tests, benchmarks and tools (the standalone log verifier is a script of its own)
    apps = {name for name in modules if name.split("/")[0] not in ("tests", "bench", "tools")}
    assert apps <= packaged, sorted(apps - packaged)
    assert {"webhooks/models.py", "api/views.py", "accounts/migrations/0001_initial.py"} <= packaged
    assert not {name for name in packaged if name.startswith(("tests/", "bench/"))}

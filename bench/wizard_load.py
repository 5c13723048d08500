"""The transfer wizard under load, over HTTP, against gunicorn (2 workers) on PostgreSQL.

    .venv/bin/python bench/wizard_load.py [--seconds 20] [--clients 1,4,16] [--no-htmx]

N concurrent clients (threads, each its own user and session) walk the four steps over and over,
as a browser with JavaScript does (the dashboard's boosted Transfer link, answered with step 1;
each step's htmx POST, answered with the next step; step 3's Review button, a link htmx follows;
5 requests a transfer), or with --no-htmx as one without (the link and the redirect it gets to
step 1, each step's POST and the GET of the page it redirects to, step 3's link; 9 requests),
each transferring part of its own batches; then a race where every client transfers most of the
same batch. Reports confirmed transfers per second, p95 latency per step, CPU time per transfer
(gunicorn workers, PostgreSQL, this client), and verify_ledger.
"""

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict

import psutil
from common import ROOT, percentile, process_log, setup_django

STEPS = ["start", "quantity", "destination", "review", "confirm"]


class Browser:
    """One user's HTTP session: cookies, CSRF token, redirects followed as a browser does.

    Plain http.client with a dict of cookies: urllib's opener and cookie jar cost this client
    (which shares the machine's two cores with the server) several times more CPU per request.
    """

    def __init__(self, base: str, htmx: bool = True):
        self.base, self.htmx = base, htmx
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}

    def csrf(self) -> str:
        return self.cookies["csrftoken"]

    def _send(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            sent = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
            if body is not None:
                sent["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=sent | (headers or {}))
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in cookie.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value.strip('"')
        return response.status, response.headers, content

    def get(self, path: str, headers: dict | None = None):
        """GET `path`, following redirects as a browser's request does (an htmx request's headers
        go along: XMLHttpRequest keeps them)."""
        for _ in range(5):
            status, answer, content = self._send("GET", path, headers=headers)
            if status not in (301, 302, 303):
                assert status == 200, (status, path)
                return self.base + answer.get("HX-Push-Url", path), content.decode()
            path = urllib.parse.urlsplit(answer["Location"]).path
        raise AssertionError(f"too many redirects at {path}")

    def open(self, path: str):
        """Follow a link: with htmx, the dashboard's boosted Transfer link (HX-Boosted), answered
        with step 1's page and its address (HX-Push-Url); without, a plain GET and its redirect."""
        if not self.htmx:
            return self.get(path)
        return self.get(path, headers={"HX-Request": "true", "HX-Boosted": "true",
                                       "HX-Current-URL": self.base + "/certificates/"})

    def post(self, path: str, data: dict):
        """A step's form posted as htmx posts it (HX-Request; a successful step answers with the next
        page's region and its address, HX-Push-Url), or, with htmx off, as a plain form post
        whose redirect is followed."""
        data = {**data, "csrfmiddlewaretoken": self.csrf()}
        headers = {"Referer": self.base + path}
        if self.htmx:
            headers |= {"HX-Request": "true", "HX-Target": "wizard", "HX-Current-URL": self.base + path}
        status, answer, content = self._send("POST", path, urllib.parse.urlencode(data, doseq=True).encode(),
                                             headers)
        if answer.get("HX-Push-Url"):  # the next page itself, its address for the address bar
            assert status == 200, (status, path, content[:300])
            return self.base + answer["HX-Push-Url"], content.decode()
        if answer.get("HX-Location"):
            location = json.loads(answer["HX-Location"])
            target = location["target"].removeprefix("#")
            return self.get(location["path"], headers={"HX-Request": "true", "HX-Target": target,
                                                       "HX-Current-URL": self.base + path})
        if answer.get("HX-Redirect"):  # htmx loads that whole page
            return self.get(answer["HX-Redirect"])
        if status in (301, 302, 303):
            return self.get(urllib.parse.urlsplit(answer["Location"]).path)
        assert status == 200, (status, path, content[:300])
        return self.base + path, content.decode()

    def follow(self, path: str):
        """Follow a link in the wizard: with htmx, into the wizard's region (hx-get, hx-target)."""
        if not self.htmx:
            return self.get(path)
        return self.get(path, headers={"HX-Request": "true", "HX-Target": "wizard", "HX-Current-URL": self.base + path})

    def sign_in(self, email: str) -> None:
        self.get("/login/")
        url, _ = self.post("/login/", {"username": email, "password": "demo"})
        assert url.endswith("/certificates/"), url


def walk(browser: Browser, batch_id: int, quantity: int, account_id: int, timings) -> str:
    """The four steps for one batch; returns the URL the wizard ended on."""
    def step(name, call):
        begun = time.perf_counter()
        result = call()
        timings[name].append(time.perf_counter() - begun)
        return result

    url, _ = step("start", lambda: browser.open(f"/transfers/new/?batch={batch_id}"))
    path = urllib.parse.urlsplit(url).path
    draft = re.search(r"/transfers/new/(\d+)/", path)[1]
    base = f"/transfers/new/{draft}"
    step("quantity", lambda: browser.post(f"{base}/quantity/", {f"quantity_{batch_id}": quantity}))
    step("destination", lambda: browser.post(f"{base}/destination/", {"kind": "internal", "account": account_id}))
    step("review", lambda: browser.follow(f"{base}/confirm/"))  # step 3's Review button: a link
    url, _ = step("confirm", lambda: browser.post(f"{base}/confirm/", {}))
    return url


def floor_walk(browser: Browser, timings) -> bool:
    """10 requests (a walk without JavaScript makes 9) of an authenticated page that reads only the
    user and the membership and renders an empty list."""
    for name in [name for name in STEPS for _ in range(2)]:
        begun = time.perf_counter()
        browser.get("/transfers/organizations/?organization=")
        timings[name].append(time.perf_counter() - begun)
    return True


def cpu_seconds(server: subprocess.Popen) -> dict[str, dict[int, float]]:
    """CPU time used so far, by process id: the gunicorn workers, PostgreSQL's processes, this client."""
    def used(processes):
        seconds = {}
        for process in processes:
            try:
                times = process.cpu_times()
                seconds[process.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return seconds
    postgres = [process for process in psutil.process_iter(["name"]) if process.info["name"] == "postgres"]
    return {"gunicorn": used(psutil.Process(server.pid).children()), "postgres": used(postgres),
            "client": used([psutil.Process()])}


def cpu_spent(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds spent between two readings by the processes alive at the second (a process that
    started meanwhile counts from zero; one that ended is not counted)."""
    return {name: sum(seconds - before[name].get(pid, 0.0) for pid, seconds in after[name].items())
            for name in after}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_start(url: str, name: str, **env: str) -> tuple[subprocess.Popen, int]:
    """gunicorn with 2 workers serving the portal (DEBUG off) on database `url`, `env` added to its
    environment, its log in .data/bench-logs/<name>-gunicorn.log; (the process, its port) once it listens."""
    port = free_port()
    # Connections kept for the whole run, so the PostgreSQL processes whose CPU is counted at the end
    # are the ones that served it (the default, 60 s, would start new ones mid-run, uncounted).
    env = os.environ | {"DATABASE_URL": url, "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "0",
                        "DJANGO_SETTINGS_MODULE": "portal.settings", "DATABASE_CONN_MAX_AGE": "3600"} | env
    log = process_log(f"{name}-gunicorn")
    print(f"gunicorn's log: {log.name}")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "portal.wsgi", "--workers", "2",
                               "--bind", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    return server, port


def race(source, clients: int, attempt) -> tuple:
    """The race: `clients` threads at once each call attempt(index, batch_id, quantity) to transfer most
    (three fifths) of the same active batch of account `source`, so exactly one fits. (the batch, the
    quantity, each attempt's outcome, how many transfers of it the database holds)."""
    from certificates.models import CertificateBatch
    from transfers.models import Transfer

    contested = CertificateBatch.objects.filter(account=source, status="active", quantity__gte=1000) \
        .exclude(pk__in=Transfer.objects.values("items__source_batch")).order_by("pk").first()
    most_of = contested.quantity * 3 // 5
    gate = threading.Barrier(clients)
    outcomes = [None] * clients

    def run(index):
        gate.wait()
        outcomes[index] = attempt(index, contested.pk, most_of)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return contested, most_of, outcomes, Transfer.objects.filter(items__source_batch=contested).distinct().count()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-htmx", action="store_true",
                        help="walk as a browser without JavaScript: each step a POST and the GET it redirects to")
    parser.add_argument("--floor", action="store_true",
                        help="instead of the wizard, as many requests of an authenticated page that does nothing (the "
                             "type-ahead with no text): what this stack can serve at most, the wizard's ceiling")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", default="1,4,16")
    options = parser.parse_args()
    client_counts = [int(n) for n in options.clients.split(",")]
    url = setup_django(database="registry_bench_wizard", fresh=True)

    from django.core.management import call_command

    from accounts.models import Account
    from certificates.models import CertificateBatch
    from ledger.verification import ledger_breaches
    from portal.celery import app as celery_app
    from portal.management.commands.seed_demo import Command as Seed
    from registry.models import Membership, Organization, User

    most = max(client_counts)
    User.objects.create_user("bench-staff@example.org", "demo", is_staff=True)
    org = Organization.objects.create(name="Bench Wind")
    source = Account.objects.create(organization=org, name="Source")
    Seed().scale(org, 6000)
    target = Account.objects.create(organization=org, name="Target")
    users = []
    for index in range(most):
        user = User.objects.create_user(f"trader{index}@bench.example", "demo")
        Membership.objects.create(user=user, organization=org, role=Membership.Role.TRADER)
        users.append(user)
    batches = list(CertificateBatch.objects.filter(account=source, status="active").order_by("pk")
                   .values_list("pk", "quantity"))  # each walked once: the quantities stay as read here
    from django.db import connection
    with connection.cursor() as cursor:  # planner statistics, as autovacuum keeps them on a live registry
        cursor.execute("VACUUM ANALYZE")

    server, port = gunicorn_start(url, "wizard_load")
    try:
        base = f"http://127.0.0.1:{port}"
        browsers = []
        for user in users:
            browser = Browser(base, htmx=not options.no_htmx)
            browser.sign_in(user.email)
            browsers.append(browser)

        pool = iter(batches)
        pool_lock = threading.Lock()
        for clients in client_counts:
            timings = defaultdict(list)
            confirmed = [0] * clients
            deadline = time.perf_counter() + options.seconds

            def work(index, deadline=deadline, timings=timings, confirmed=confirmed):
                while time.perf_counter() < deadline:
                    with pool_lock:
                        batch_id, quantity = next(pool)
                    if options.floor:
                        confirmed[index] += floor_walk(browsers[index], timings)
                        continue
                    url = walk(browsers[index], batch_id, max(quantity // 2, 1), target.pk, timings)
                    confirmed[index] += "/done/" in url

            started, cpu_before = time.perf_counter(), cpu_seconds(server)
            threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            cpu = cpu_spent(cpu_before, cpu_seconds(server))
            total = sum(confirmed)
            p95 = ", ".join(f"{name} {percentile(timings[name], 0.95) * 1000:.0f}" for name in STEPS)
            breaches = ledger_breaches()
            print(f"N={clients:>2}: {total} confirmed in {elapsed:.1f} s = {total / elapsed:.1f} transfers/s; "
                  f"p95 ms per step: {p95}; verify_ledger: {'clean' if not breaches else breaches[:3]}")
            print(f"      CPU per transfer: gunicorn {cpu['gunicorn'] / total * 1000:.0f} ms, PostgreSQL "
                  f"{cpu['postgres'] / total * 1000:.0f} ms, this client {cpu['client'] / total * 1000:.0f} ms; "
                  f"the server's share alone would need {(cpu['gunicorn'] + cpu['postgres']) / total * 50:.1f} "
                  f"cores for 50 transfers/s (this machine has {psutil.cpu_count()})")

        contested, most_of, outcomes, made = race(source, most, lambda index, batch_id, quantity: walk(
            browsers[index], batch_id, quantity, target.pk, defaultdict(list)))
        won = sum("/done/" in outcome for outcome in outcomes)
        breaches = ledger_breaches()
        print(f"race: {most} clients each transferring {most_of:,} of batch {contested.pk} ({contested.quantity:,}): "
              f"{won} succeeded (expected 1), {made} transfer(s) in the database, "
              f"{most - won} refused; verify_ledger: {'clean' if not breaches else breaches[:3]}")
        call_command("verify_ledger")
    finally:
        server.terminate()
        server.wait()
        celery_app.control.purge()  # the benchmark's notification tasks are not to be sent


if __name__ == "__main__":
    main()

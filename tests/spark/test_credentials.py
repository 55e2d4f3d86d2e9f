"""Where credentials come from, each source used for real by a spark-submit job against a store that accepts
only the keys that source hands out (so a write that succeeds was signed with them): a named profile of the
shared config and credentials files, the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI
with its authorization token, as ECS and EKS Pod Identity serve it) and instance metadata (IMDSv2, at
AWS_EC2_METADATA_SERVICE_ENDPOINT), the two served by small HTTP servers here; and short-lived credentials
refreshed during a write, before they lapse. Then STS, from moto's server on 127.0.0.1: the assumeRoleArn
option, web identity (as EKS's IRSA sets it up) and a profile with role_arn and source_profile; there the keys
are STS's own, so the store records which keys signed each request and they must be the ones moto issued for
the role."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cluster import spark_home
from conftest import spark_env
from localstore import CHECK_SIGNATURES, ROOT, LocalStore, aws_env
from readback import summary_lines

# Keys each source hands out; the store accepts these (and the tests' own, for its set-up) and nothing else.
PROFILE_KEY = ("AKIDPROFILE0000001", "profile-secret")
CONTAINER_KEYS = [("ASIACONTAINER00001", "container-secret-1", "container-token-1"),
                  ("ASIACONTAINER00002", "container-secret-2", "container-token-2"),
                  ("ASIACONTAINER00003", "container-secret-3", "container-token-3")]
IMDS_KEY = ("ASIAINSTANCE000001", "instance-secret", "instance-token")
CONTAINER_AUTH = "container-authorization-token"
IMDS_TOKEN = "imds-session-token"
ROLE = "featurestore-instance-role"
# The connector refreshes credentials with less than 5 minutes left: these are refreshed after a few seconds.
SHORT_LIFETIME = timedelta(minutes=5, seconds=3)


@pytest.fixture
def store(tmp_path):
    keys = [f"{PROFILE_KEY[0]}:{PROFILE_KEY[1]}", *(":".join(k) for k in CONTAINER_KEYS), ":".join(IMDS_KEY)]
    local = LocalStore.start(tmp_path / "store", *CHECK_SIGNATURES,
                             *(arg for key in keys for arg in ("--credentials", key)))
    local.create_feature_group("creds", "id", "ts", GROUP_FEATURES)
    try:
        yield local
    finally:
        local.stop()


class CredentialsServer:
    """A local HTTP server handing out credentials like the container endpoint or IMDSv2, counting fetches."""

    def __init__(self, kind: str, keys: list[tuple[str, str, str]], lifetime: timedelta = timedelta(hours=1)):
        self.fetches = 0
        self.fetched_at: list[float] = []
        self.refused = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def reply(self, status: int, body: str, content_type: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def credentials(self) -> dict:
                key, secret, token = keys[min(server.fetches, len(keys) - 1)]
                server.fetches += 1
                server.fetched_at.append(time.monotonic())
                expiry = (datetime.now(timezone.utc) + lifetime).strftime("%Y-%m-%dT%H:%M:%SZ")
                return {"AccessKeyId": key, "SecretAccessKey": secret, "Token": token, "Expiration": expiry}

            def do_PUT(self):  # IMDSv2's session token
                ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
                if kind == "imds" and self.path == "/latest/api/token" and ttl:
                    return self.reply(200, IMDS_TOKEN, "text/plain", {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
                server.refused += 1
                self.reply(403, "{}")

            def do_GET(self):
                if kind == "container":
                    if self.path == "/credentials" and self.headers.get("Authorization") == CONTAINER_AUTH:
                        return self.reply(200, json.dumps(self.credentials()))
                elif self.headers.get("X-aws-ec2-metadata-token") == IMDS_TOKEN:
                    if self.path == "/latest/meta-data/iam/security-credentials/":
                        return self.reply(200, ROLE, "text/plain")
                    if self.path == f"/latest/meta-data/iam/security-credentials/{ROLE}":
                        return self.reply(200, json.dumps({"Code": "Success", "Type": "AWS-HMAC",
                                                           **self.credentials()}))
                server.refused += 1
                self.reply(401 if kind == "imds" else 403, "{}")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


GROUP_FEATURES = [
    {"FeatureName": "id", "FeatureType": "String"},
    {"FeatureName": "ts", "FeatureType": "String"},
    {"FeatureName": "score", "FeatureType": "Fractional"},
]
ROLE_ARN = "arn:aws:iam::123456789012:role/featurestore-ingest"


def run_job(store: LocalStore, jar, env_changes: dict[str, str | None], rows: int, *options: str):
    """Runs credentials_job.py with the tests' environment minus its keys, plus `env_changes` (None: unset)."""
    env = {**os.environ, **spark_env(store.endpoint), "SPARK_HOME": str(spark_home())}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(name, None)
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    command = [str(spark_home() / "bin" / "spark-submit"), "--master", "local[2]", "--jars", str(jar),
               "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
               str(ROOT / "tests" / "spark" / "credentials_job.py"), "--endpoint", store.endpoint,
               "--group", "creds", "--rows", str(rows), *options]
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    errors = [line for line in (done.stdout + done.stderr).splitlines() if "Exception:" in line]
    assert done.returncode == 0, "\n".join(errors[:5]) or done.stderr[-3000:]
    [line] = summary_lines(done.stdout)
    assert (int(line["written"]), int(line["failed"])) == (rows, 0), line.group(0)
    return line


def test_a_named_profile_of_the_shared_files(store, jar, tmp_path):
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text("[profile ingest]\nregion = us-east-1\n")
    credentials.write_text(f"[ingest]\naws_access_key_id = {PROFILE_KEY[0]}\n"
                           f"aws_secret_access_key = {PROFILE_KEY[1]}\n")
    # The tests' own keys in the environment as well: the named profile must win, as with the AWS CLI's --profile.
    run_job(store, jar, {**spark_env(store.endpoint), "AWS_CONFIG_FILE": str(config),
                         "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}, 200, "profile=ingest")


def test_the_container_credentials_endpoint(store, jar):
    server = CredentialsServer("container", CONTAINER_KEYS[:1])
    try:
        run_job(store, jar, {"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{server.url}/credentials",
                             "AWS_CONTAINER_AUTHORIZATION_TOKEN": CONTAINER_AUTH}, 200)
    finally:
        server.close()
    assert server.fetches >= 1 and server.refused == 0


def test_instance_metadata_with_imdsv2(store, jar):
    server = CredentialsServer("imds", [IMDS_KEY])
    try:
        run_job(store, jar, {"AWS_EC2_METADATA_DISABLED": None, "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url}, 200)
    finally:
        server.close()
    assert server.fetches >= 1


def test_short_lived_credentials_are_refreshed_during_a_write_before_they_lapse(store, jar):
    server = CredentialsServer("container", CONTAINER_KEYS, lifetime=SHORT_LIFETIME)
    try:
        # About 8 s at 500 records/s: credentials fetched at the start are refreshed a few seconds in.
        run_job(store, jar, {"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{server.url}/credentials",
                             "AWS_CONTAINER_AUTHORIZATION_TOKEN": CONTAINER_AUTH}, 4000, "maxRecordsPerSecond=500")
    finally:
        server.close()
    # Each client (the driver's, each I/O thread's) fetches at its start; a fetch 3 s or more after the first
    # is a refresh of credentials about to lapse.
    first = min(server.fetched_at)
    assert any(at - first >= 3 for at in server.fetched_at), [round(at - first, 1) for at in server.fetched_at]


@pytest.fixture
def sts(moto):
    """moto's server (conftest.py), for its STS."""
    return moto


@pytest.fixture
def open_store(tmp_path):
    """A store that checks no signature (STS's keys are not known before the job) but records the keys used."""
    local = LocalStore.start(tmp_path / "open-store")
    local.create_feature_group("creds", "id", "ts", GROUP_FEATURES)
    local.admin("POST", "stats/reset")  # the set-up's own requests: only the job's count
    try:
        yield local
    finally:
        local.stop()


def issued_by_sts(sts: str, role_arn: str) -> dict[str, str]:
    """Access key id -> session name of the credentials moto's STS issued for `role_arn`."""
    with urllib.request.urlopen(f"{sts}/moto-api/data.json", timeout=10) as response:
        roles = json.load(response)["sts"]["AssumedRole"]
    return {role["access_key_id"]: role["session_name"] for role in roles if role["role_arn"] == role_arn}


def assert_signed_by_sts(store: LocalStore, sts: str, session: str) -> None:
    used = set(store.stats()["requests_by_access_key"])
    issued = issued_by_sts(sts, ROLE_ARN)
    assert used and used <= set(issued), (used, issued)
    assert {issued[key] for key in used} == {session}


def test_assume_role_through_sts(open_store, sts, jar):
    run_job(open_store, jar, {**aws_env(open_store.endpoint), "AWS_ENDPOINT_URL_STS": sts}, 200,
            f"assumeRoleArn={ROLE_ARN}", "assumeRoleSessionName=ingest-job")
    assert_signed_by_sts(open_store, sts, "ingest-job")


def test_web_identity_through_sts(open_store, sts, jar, tmp_path):
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6aW5nZXN0In0.c2lnbmF0dXJl")
    run_job(open_store, jar, {"AWS_ENDPOINT_URL_STS": sts, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
                              "AWS_ROLE_ARN": ROLE_ARN, "AWS_ROLE_SESSION_NAME": "irsa-session"}, 200)
    assert_signed_by_sts(open_store, sts, "irsa-session")


def test_a_profile_with_role_arn_and_source_profile(open_store, sts, jar, tmp_path):
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text(f"[profile ingest]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n"
                      f"role_session_name = profile-session\nregion = us-east-1\n")
    credentials.write_text(f"[base]\naws_access_key_id = {PROFILE_KEY[0]}\naws_secret_access_key = {PROFILE_KEY[1]}\n")
    run_job(open_store, jar, {"AWS_ENDPOINT_URL_STS": sts, "AWS_CONFIG_FILE": str(config),
                              "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}, 200, "profile=ingest")
    assert_signed_by_sts(open_store, sts, "profile-session")

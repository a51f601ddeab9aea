#!/usr/bin/env python3
"""Account events end to end (issue 27) on moto: the outbox items the dev server writes
(STORE=dynamodb) are read back from the table's DynamoDB stream, filtered as the
template's FilterCriteria filters them, and fed in Lambda's DynamoDB stream event shape
to the real events_forwarder binary under a Lambda Runtime API served here; the forwarder
puts them on an EventBridge bus whose rule ({"source": ["user_account"]}) targets an SQS
queue, and the queue is read back.

    python3 scripts/events_e2e.py [--dev-server BIN] [--forwarder BIN]

BIN default: target/debug/dev-server and target/debug/events_forwarder (build them first).
Uses the moto at AWS_ENDPOINT_URL (scripts/moto_server.py: its mail is read from
/_test/ses/raw-messages), or starts scripts/moto_server.py itself when that is unset.
Starts the dev server itself (STORE=dynamodb, CREATE_TABLE=1, a fresh table,
NEW_SIGNIN_MAIL=false, IP_LIMITS=off: five accounts get mail from one IP). Three parts,
through the real HTTP API (register, confirm the address from the mail on moto SES, sign
in, change the password, delete the account):
  1. one account: its four outbox items (UserRegistered, EmailConfirmed, PasswordChanged,
     AccountDeleted) are in the stream, in that order, as the contract says; forwarded in
     one batch, each arrives on the queue once, with a detail of id, account_id, username
     and at only (no address, password or token). The records the filter drops (and a
     malformed outbox record) fed to the forwarder: skipped, no failure, nothing sent.
  2. a failure mid-batch: three accounts (12 records, so two PutEvents calls of at most
     10), the forwarder's EventBridge calls through a proxy here (AWS_ENDPOINT_URL_EVENTBRIDGE,
     AWS_ENDPOINT_URL still moto) that fails the 2nd entry of the first call (passing the
     rest to moto): the answer names exactly that record's SequenceNumber in
     batchItemFailures; the batch from that record on is invoked again (what Lambda does),
     and after de-duplication by detail.id every event arrived exactly once, nothing else.
  3. a whole call failing (the proxy answers 500 to every call of one invocation): every
     record reported, nothing sent; the retry delivers each once.
A rule on the default bus (same pattern, another queue) must receive nothing. Prints
"ok N - ..." per check, "not ok N - ..." and exits 1 at the first difference from issue
27's contract (the logs of the dev server and the forwarder then follow on stderr); the
last line: "events e2e: N checks passed (...)".
"""

import argparse
import base64
import ctypes
import email
import email.policy
import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import yaml
from moto.events.models import EventPattern

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_lambda import lambda_env  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PWD = "S3cure-Passw0rd!"
NEW_PWD = "An0ther-S3cure-Passw0rd!"
SOURCE = "user_account"
# What one account's life here writes, in order.
LIFE = ["UserRegistered", "EmailConfirmed", "PasswordChanged", "AccountDeleted"]
CONTRACT_FILTER = {"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "OUTBOX#"}]}}}}
OUTBOX_ATTRS = {"pk", "sk", "id", "detail_type", "account_id", "username", "at", "expires_at"}
DETAIL_KEYS = {"id", "account_id", "username", "at"}
HEX32 = re.compile(r"^[0-9a-f]{32}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
OUTBOX_TTL = 86400


class Failed(Exception):
    pass


def _die_with_parent():
    """A child ends with this script, however it ends (Linux: PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stop(proc):
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tail(path: str, n: int = 6000) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except OSError:
        return ""


def epoch(text) -> float:
    """Seconds of an RFC 3339 time (or of a number)."""
    if isinstance(text, (int, float)):
        return float(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ---- moto ---------------------------------------------------------------------------
def start_moto(work: str):
    """scripts/moto_server.py on a free loopback port, as scripts/test.sh starts it."""
    port = free_port()
    log = os.path.join(work, "moto.log")
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, os.path.join(REPO, "scripts", "moto_server.py"), "127.0.0.1",
                                 str(port)], stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    url = "http://127.0.0.1:%d" % port
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/moto-api/data.json", timeout=2):
                return proc, url
        except (urllib.error.URLError, OSError):
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    stop(proc)
    sys.exit("events_e2e: moto did not start:\n" + tail(log))


# ---- the dev server ---------------------------------------------------------------------
class DevServer:
    def __init__(self, binary: str, work: str, table: str):
        self.binary, self.work, self.table = binary, work, table
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.log = os.path.join(work, "dev-server.log")
        self.proc = None

    def start(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("STORE", "TABLE_NAME", "CREATE_TABLE", "OUTBOX_DIR", "EVENTS_FILE", "NEW_SIGNIN_MAIL")}
        env.update(PORT=str(self.port), RUST_LOG="warn", STORE="dynamodb", CREATE_TABLE="1",
                   TABLE_NAME=self.table, NEW_SIGNIN_MAIL="false", IP_LIMITS="off", PUBLIC_BASE_URL=self.base,
                   OUTBOX_DIR=os.path.join(self.work, "outbox"))
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([self.binary], env=env, cwd=self.work, stdout=log,
                                         stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        sys.exit("events_e2e: the dev server did not start:\n" + tail(self.log))

    def stop(self):
        stop(self.proc)
        self.proc = None


# ---- a Lambda Runtime API and the forwarder under it ---------------------------------------
RUNTIME = "/2018-06-01/runtime"


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """A request's body, sent with a Content-Length or chunked."""
    if (handler.headers.get("Transfer-Encoding") or "").lower() == "chunked":
        data = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return data
            data += handler.rfile.read(size)
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))


class RuntimeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api = None  # set per runtime (a subclass each)

    def log_message(self, *args):
        pass

    def _send(self, code: int, body: bytes = b"{}", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != RUNTIME + "/invocation/next":
            return self._send(404)
        item = self.api.pending.get()
        if item is None:  # closing: the process is being stopped
            self.close_connection = True
            return
        rid, event = item
        self._send(200, json.dumps(event).encode(), {
            "Lambda-Runtime-Aws-Request-Id": rid,
            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 60_000),
            "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:events-forwarder",
            "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
        })

    def do_POST(self):
        body = read_body(self)
        parts = self.path[len(RUNTIME):].strip("/").split("/")
        if parts[:1] == ["invocation"] and len(parts) == 3 and parts[2] in ("response", "error"):
            self.api.answers.put((parts[1], parts[2], body))
        elif parts == ["init", "error"]:
            self.api.answers.put((None, "init error", body))
        else:
            return self._send(404)
        self._send(202)


class Forwarder:
    """The events_forwarder binary, warm across invocations as on Lambda."""

    def __init__(self, binary: str, work: str, name: str, extra: dict):
        self.pending, self.answers = queue.Queue(), queue.Queue()
        handler = type("Runtime", (RuntimeHandler,), {"api": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        env = lambda_env("127.0.0.1:%d" % self.server.server_address[1], name,
                         {"AWS_LAMBDA_LOG_LEVEL": "INFO", **extra})
        self.log = os.path.join(work, name + ".log")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([binary], env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT,
                                         preexec_fn=_die_with_parent)

    def invoke(self, event: dict, timeout: float = 90) -> tuple:
        """(kind, answer): kind "response" (answer: the parsed JSON) or "error"."""
        rid = str(uuid.uuid4())
        self.pending.put((rid, event))
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                got, kind, body = self.answers.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    return "exited (%s)" % self.proc.returncode, tail(self.log)
                continue
            if got is None:
                return kind, body.decode(errors="replace")
            if got == rid:
                if kind == "response":
                    try:
                        return kind, json.loads(body or b"null")
                    except ValueError:
                        return "not JSON", body.decode(errors="replace")
                return kind, body.decode(errors="replace")
        return "no answer in %d s" % timeout, tail(self.log)

    def close(self):
        stop(self.proc)
        for _ in range(4):
            self.pending.put(None)
        self.server.shutdown()
        self.server.server_close()


# ---- a proxy between the forwarder and moto, for EventBridge only ---------------------------
HOP = {"host", "content-length", "transfer-encoding", "connection", "expect", "keep-alive"}


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status: int, ctype: str, body: bytes):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self, body: bytes) -> tuple:
        p = self.server
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        headers["Host"] = "%s:%d" % (p.moto_host, p.moto_port)
        headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(p.moto_host, p.moto_port, timeout=30)
        try:
            conn.request(self.command, self.path, body, headers)
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type") or "application/x-amz-json-1.1", resp.read()
        finally:
            conn.close()

    def do_POST(self):
        p = self.server
        body = read_body(self)
        target = self.headers.get("X-Amz-Target") or ""
        if not target.endswith(".PutEvents"):
            return self._reply(*self._forward(body))
        request = json.loads(body)
        entries = request.get("Entries") or []
        with p.lock:
            mode = p.mode
            if mode == "fail-one":
                p.mode = "pass"  # the first call only
            call = {"mode": mode, "entries": entries, "failed": []}
            p.calls.append(call)
        if mode == "fail-all":
            call["failed"] = list(entries)
            return self._reply(500, "application/x-amz-json-1.1", json.dumps(
                {"__type": "InternalException", "message": "injected by events_e2e: the whole call fails"}).encode())
        if mode == "fail-one":
            i = 1 if len(entries) > 1 else 0
            call["failed"] = [entries[i]]
            request["Entries"] = entries[:i] + entries[i + 1:]
            status, ctype, answer = self._forward(json.dumps(request).encode())
            if status != 200:
                return self._reply(status, ctype, answer)
            out = json.loads(answer)
            out["Entries"] = list(out.get("Entries") or [])
            out["Entries"].insert(i, {"ErrorCode": "InternalFailure",
                                      "ErrorMessage": "injected by events_e2e: this entry failed"})
            out["FailedEntryCount"] = int(out.get("FailedEntryCount") or 0) + 1
            return self._reply(200, ctype, json.dumps(out).encode())
        return self._reply(*self._forward(body))


class Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, moto: str):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        u = urllib.parse.urlsplit(moto)
        self.moto_host, self.moto_port = u.hostname, u.port or 80
        self.lock = threading.Lock()
        self.mode = "pass"
        self.calls = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.server_address[1]

    def set(self, mode: str) -> int:
        """Switch the mode; returns how many calls came before."""
        with self.lock:
            self.mode = mode
            return len(self.calls)


# ---- the stream, as Lambda hands it over -------------------------------------------------------
def attribute_json(value):
    """A boto3 AttributeValue as DynamoDB's JSON (binary values base64)."""
    if isinstance(value, dict):
        return {k: attribute_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [attribute_json(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    return value


def lambda_record(r: dict, stream_arn: str, region: str) -> dict:
    d = r["dynamodb"]
    created = d.get("ApproximateCreationDateTime")
    dynamodb = {
        "ApproximateCreationDateTime": created.timestamp() if isinstance(created, datetime) else float(created or 0),
        "Keys": attribute_json(d["Keys"]),
        "SequenceNumber": d["SequenceNumber"],
        "SizeBytes": d.get("SizeBytes", 0),
        "StreamViewType": d.get("StreamViewType", "NEW_IMAGE"),
    }
    for image in ("NewImage", "OldImage"):
        if image in d:
            dynamodb[image] = attribute_json(d[image])
    return {
        "eventID": r["eventID"],
        "eventName": r["eventName"],
        "eventVersion": r.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
        "dynamodb": dynamodb,
    }


class Stream:
    def __init__(self, ddb, streams, table: str, region: str):
        self.streams, self.region = streams, region
        described = ddb.describe_table(TableName=table)["Table"]
        self.spec = described.get("StreamSpecification") or {}
        self.arn = described.get("LatestStreamArn")
        self.last = {}  # shard -> the last sequence number read

    def read(self) -> list:
        """The records written since the last read, in Lambda's shape. A fresh iterator
        each time (moto swaps a table's stream shard object when a transaction fails)."""
        desc = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]
        out = []
        for shard in desc.get("Shards") or []:
            sid = shard["ShardId"]
            if sid in self.last:
                it = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=sid,
                                                     ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                                     SequenceNumber=self.last[sid])["ShardIterator"]
            else:
                it = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=sid,
                                                     ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while it:
                got = self.streams.get_records(ShardIterator=it, Limit=1000)
                if not got["Records"]:
                    break
                for r in got["Records"]:
                    out.append(lambda_record(r, self.arn, self.region))
                    self.last[sid] = r["dynamodb"]["SequenceNumber"]
                it = got.get("NextShardIterator")
        return sorted(out, key=lambda r: int(r["dynamodb"]["SequenceNumber"]))


def _cfn_loader():
    class Loader(yaml.SafeLoader):
        pass

    def any_tag(loader, _suffix, node):
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_mapping(node, deep=True)

    Loader.add_multi_constructor("!", any_tag)
    return Loader


def template_filters() -> list:
    """The FilterCriteria patterns of the template's DynamoDB event sources ([] if none)."""
    try:
        with open(os.path.join(REPO, "template.yaml")) as f:
            doc = yaml.load(f, _cfn_loader())  # noqa: S506 - a loader of SafeLoader's
    except (OSError, yaml.YAMLError):
        return []
    patterns = []
    for res in (doc.get("Resources") or {}).values():
        props = (res or {}).get("Properties") or {}
        sources = []
        if res.get("Type") == "AWS::Serverless::Function":
            sources = [(e or {}).get("Properties") or {} for e in (props.get("Events") or {}).values()
                       if (e or {}).get("Type") == "DynamoDB"]
        elif res.get("Type") == "AWS::Lambda::EventSourceMapping":
            sources = [props]
        for source in sources:
            for f in ((source.get("FilterCriteria") or {}).get("Filters") or []):
                p = f.get("Pattern")
                patterns.append(json.loads(p) if isinstance(p, str) else p)
    return patterns


# ---- the run ------------------------------------------------------------------------------------------
class Run:
    def __init__(self, args, work: str, moto: str):
        self.args, self.work, self.moto = args, work, moto
        self.region = os.environ.get("AWS_REGION") or "us-east-1"
        self.tag = "%d%04d" % (int(time.time()), os.getpid() % 10000)
        self.step = 0
        self.what = ""
        self.logs = []  # (name, path) shown on failure
        kw = {"endpoint_url": moto, "region_name": self.region}
        self.ddb = boto3.client("dynamodb", **kw)
        self.streams = boto3.client("dynamodbstreams", **kw)
        self.events = boto3.client("events", **kw)
        self.sqs = boto3.client("sqs", **kw)
        self.ses = boto3.client("sesv2", **kw)
        self.server = None
        self.forwarders = []
        self.proxy = None
        self.duplicates = 0
        self.delivered = {}  # event id -> its outbox image, every event the queue gave

    # ---- reporting ------------------------------------------------------------------------
    def ok(self, what: str, detail: str):
        self.step += 1
        print("ok %d - %s: %s" % (self.step, what, detail))
        sys.stdout.flush()

    def check(self, cond, what: str, detail: str, ok_detail: str = "as the contract says"):
        if not cond:
            self.step += 1
            print("not ok %d - %s: %s" % (self.step, what, detail), file=sys.stderr)
            raise Failed()
        self.ok(what, ok_detail)

    # ---- HTTP ------------------------------------------------------------------------------
    def call(self, method: str, path: str, body=None, token: str | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server.base + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw or b"null") or {}
        except ValueError:
            return status, {"_raw": raw.decode("utf-8", "replace")}

    def expect(self, status: int, msg: str, what: str, answer) -> dict:
        got_status, body = answer
        got_msg = body.get("msg") if isinstance(body, dict) else None
        self.check(got_status == status and got_msg == msg, what,
                   'expected %d "%s", got %d %s' % (status, msg, got_status, json.dumps(body)),
                   '%d "%s"' % (got_status, got_msg))
        return body.get("data") or {}

    def confirm_link(self, address: str) -> str:
        deadline = time.time() + 15
        while time.time() < deadline:
            with urllib.request.urlopen(self.moto + "/_test/ses/raw-messages", timeout=30) as r:
                messages = json.load(r)
            for m in reversed(messages):  # newest first
                msg = email.message_from_string(m["raw_data"], policy=email.policy.default)
                if address.lower() not in str(msg.get("To", "")).lower():
                    continue
                text = "".join(part.get_content() for part in msg.walk()
                               if part.get_content_type() == "text/plain")
                for link in re.findall(r"https?://\S+", text):
                    if "/confirm_email/" in link:
                        return link.rstrip("/").rsplit("/", 1)[1]
            time.sleep(0.2)
        self.check(False, "the confirmation mail to %s" % address, "no /confirm_email/ link on moto SES")

    def life(self, letter: str) -> dict:
        """Register, confirm, sign in, change the password, delete: an account's life."""
        user = "ev%s%s" % (self.tag, letter)
        addr = "%s@example.com" % user
        self.expect(200, "Check your email...", "register %s" % user, self.call("POST", "/api/registration", {
            "username": user, "full_name": "Eve Events", "email": addr, "phone": None, "contacts": None,
            "pwd": PWD}))
        self.expect(200, "Your email has been confirmed.", "confirm %s from the mail on moto SES" % user,
                    self.call("GET", "/api/confirm_email/" + self.confirm_link(addr)))
        token = self.expect(200, "success", "sign in %s" % user,
                            self.call("POST", "/api/login", {"username": user, "pwd": PWD})).get("token")
        account_id = self.expect(200, "success", "whoami %s" % user,
                                 self.call("GET", "/api/whoami", token=token)).get("account_id")
        if not (token and account_id):
            self.check(False, "whoami %s" % user, "no token or account_id")
        self.expect(200, "Your password has been changed.", "change %s's password" % user,
                    self.call("POST", "/api/change_password", {"pwd": PWD, "new_pwd": NEW_PWD}, token))
        self.expect(200, "Your account has been deleted.", "delete %s's account" % user,
                    self.call("POST", "/api/delete_account", {"pwd": NEW_PWD}, token))
        return {"username": user, "email": addr, "account_id": account_id}

    # ---- AWS setup --------------------------------------------------------------------------
    def new_queue(self, name: str, rule_arn: str) -> tuple:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        # What EventBridge needs on AWS (moto delivers without it): the rule may send.
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]}
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        return url, arn

    def subscribe(self, bus: str | None, name: str) -> str:
        """A rule {"source": ["user_account"]} on BUS (None: the default bus) to a new queue."""
        kw = {"EventBusName": bus} if bus else {}
        rule_arn = self.events.put_rule(Name=name, EventPattern=json.dumps({"source": [SOURCE]}),
                                        State="ENABLED", **kw)["RuleArn"]
        url, arn = self.new_queue(name, rule_arn)
        self.events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}], **kw)
        return url

    def setup(self):
        domain = os.environ.get("MAIL_FROM", "noreply@example.com").rsplit("@", 1)[1].strip(" >")
        try:
            self.ses.create_email_identity(EmailIdentity=domain)
        except self.ses.exceptions.AlreadyExistsException:
            pass
        self.bus = "user-account-e2e-%s" % self.tag
        self.events.create_event_bus(Name=self.bus)
        self.queue_url = self.subscribe(self.bus, "events-e2e-%s" % self.tag)
        self.stray_url = self.subscribe(None, "events-e2e-default-%s" % self.tag)
        self.ok("EventBridge on moto", "bus %s, a rule {\"source\": [\"%s\"]} to a queue; the same rule on the "
                "default bus to another" % (self.bus, SOURCE))
        table = "events-e2e-%s" % self.tag
        self.server = DevServer(os.path.abspath(self.args.dev_server), self.work, table)
        self.logs.append(("the dev server", self.server.log))
        self.server.start()
        self.expect(200, "user_account", "the dev server answers (STORE=dynamodb, NEW_SIGNIN_MAIL=false)",
                    self.call("GET", "/"))
        self.stream = Stream(self.ddb, self.streams, table, self.region)
        self.check(self.stream.arn and self.stream.spec.get("StreamViewType") == "NEW_IMAGE",
                   "the table %s has a stream of new images (CREATE_TABLE=1)" % table,
                   "StreamSpecification %s, LatestStreamArn %s" % (self.stream.spec, self.stream.arn),
                   self.stream.arn)
        found = template_filters()
        if found:
            self.check(found == [CONTRACT_FILTER], "the template's FilterCriteria",
                       "expected [%s], got %s" % (json.dumps(CONTRACT_FILTER), json.dumps(found)), json.dumps(found[0]))
        else:
            self.ok("the filter", "no FilterCriteria in template.yaml yet: the contract's %s"
                    % json.dumps(CONTRACT_FILTER))
        self.filters = [EventPattern.load(json.dumps(p)) for p in (found or [CONTRACT_FILTER])]

    def forwarder(self, name: str, **extra) -> Forwarder:
        f = Forwarder(os.path.abspath(self.args.forwarder), self.work, name,
                      {"EVENT_BUS_NAME": self.bus, **extra})
        self.forwarders.append(f)
        self.logs.append((name, f.log))
        return f

    # ---- reading back -------------------------------------------------------------------------
    def passes(self, record: dict) -> bool:
        return any(p.matches_event(record) for p in self.filters)

    def outbox(self, records: list, accounts: list, what: str) -> list:
        """The records the filter passes must be the accounts' outbox items, LIFE each in
        order, as the contract says; returns them (Lambda's batch)."""
        batch = [r for r in records if self.passes(r)]
        outbox_pk = [r for r in records if (r["dynamodb"]["Keys"].get("pk") or {}).get("S", "").startswith("OUTBOX#")]
        self.check(all(r["eventName"] == "INSERT" for r in outbox_pk), "%s: outbox items are only inserted" % what,
                   "outbox records: %s" % [(r["eventName"], r["dynamodb"]["Keys"]) for r in outbox_pk],
                   "%d INSERTs under OUTBOX#, no MODIFY or REMOVE" % len(outbox_pk))
        self.check(batch == outbox_pk, "%s: the filter passes exactly the outbox inserts" % what,
                   "passed %d, outbox %d" % (len(batch), len(outbox_pk)),
                   "%d of %d stream records" % (len(batch), len(records)))
        got = [(r["dynamodb"].get("NewImage", {}).get("username", {}).get("S"),
                r["dynamodb"].get("NewImage", {}).get("detail_type", {}).get("S")) for r in batch]
        want = [(a["username"], t) for a in accounts for t in LIFE]
        self.check(got == want, "%s: one outbox item per change, in order" % what,
                   "expected %s, got %s" % (want, got),
                   ", ".join(t for _, t in got[:4]) + (" ..." if len(got) > 4 else ""))
        now = time.time()
        by_user = {a["username"]: a for a in accounts}
        for r in batch:
            img = r["dynamodb"]["NewImage"]
            a = by_user[img["username"]["S"]]
            i = img.get("id", {}).get("S", "")
            at = img.get("at", {}).get("N")
            problems = []
            if set(img) != OUTBOX_ATTRS:
                problems.append("attributes %s, expected %s" % (sorted(img), sorted(OUTBOX_ATTRS)))
            if not HEX32.match(i):
                problems.append("id %r is not 32 lowercase hex" % i)
            if img.get("pk") != {"S": "OUTBOX#" + i} or img.get("sk") != {"S": "OUTBOX"}:
                problems.append("pk/sk %s/%s" % (img.get("pk"), img.get("sk")))
            if r["dynamodb"]["Keys"] != {"pk": img.get("pk"), "sk": img.get("sk")}:
                problems.append("Keys %s" % r["dynamodb"]["Keys"])
            if img.get("account_id") != {"S": a["account_id"]}:
                problems.append("account_id %s, whoami said %s" % (img.get("account_id"), a["account_id"]))
            if not (at and at.isdigit() and abs(int(at) - now) < 600):
                problems.append("at %s is not epoch seconds of now" % img.get("at"))
            elif img.get("expires_at") != {"N": str(int(at) + OUTBOX_TTL)}:
                problems.append("expires_at %s is not at + %d" % (img.get("expires_at"), OUTBOX_TTL))
            text = json.dumps(img)
            for secret in (a["email"], PWD, NEW_PWD):
                if secret in text:
                    problems.append("it holds %r" % secret)
            if problems:
                self.check(False, "%s: outbox item %s" % (what, i), "; ".join(problems) + ": " + text)
        self.ok("%s: the outbox items" % what, "pk OUTBOX#<32 hex>, sk OUTBOX, %s, expires_at = at + 1 day; "
                "no address or password" % ", ".join(sorted(OUTBOX_ATTRS - {"pk", "sk", "expires_at"})))
        return batch

    def drain(self, url: str) -> list:
        """Every message on the queue now (deleted once read), as parsed JSON."""
        out, empty = [], 0
        while empty < 2:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                           VisibilityTimeout=300).get("Messages") or []
            if not got:
                empty += 1
                time.sleep(0.2)
                continue
            empty = 0
            for m in got:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return out

    def received(self, batch: list, accounts: list, what: str, copies: dict | None = None):
        """The queue's messages are the batch's events: each once after de-duplication by
        detail.id (COPIES: how many of each id before it, default one), nothing else;
        each as the contract says."""
        messages = self.drain(self.queue_url)
        images = {r["dynamodb"]["NewImage"]["id"]["S"]: r["dynamodb"]["NewImage"] for r in batch}
        counts = {}
        for m in messages:
            i = (m.get("detail") or {}).get("id") if isinstance(m.get("detail"), dict) else None
            counts[i] = counts.get(i, 0) + 1
        want = copies or {i: 1 for i in images}
        dup = len(messages) - len(counts)
        self.check(counts == want, "%s: what the queue received" % what,
                   "expected %s, got %s (detail.id -> messages)" % (want, counts),
                   "%d messages, %d events after de-duplication by detail.id, %d duplicates before it"
                   % (len(messages), len(counts), dup))
        self.duplicates += dup
        by_user = {a["username"]: a for a in accounts}
        seen = set()
        for m in messages:
            d = m["detail"]
            if d["id"] in seen:
                continue
            seen.add(d["id"])
            img = images[d["id"]]
            a = by_user[img["username"]["S"]]
            at = int(img["at"]["N"])
            problems = []
            if m.get("source") != SOURCE:
                problems.append("source %r" % m.get("source"))
            if m.get("detail-type") != img["detail_type"]["S"]:
                problems.append("detail-type %r, the outbox item says %r"
                                % (m.get("detail-type"), img["detail_type"]["S"]))
            if set(d) != DETAIL_KEYS:
                problems.append("detail keys %s, expected %s" % (sorted(d), sorted(DETAIL_KEYS)))
            if d.get("account_id") != a["account_id"] or d.get("username") != a["username"]:
                problems.append("account_id/username %s/%s" % (d.get("account_id"), d.get("username")))
            if not (isinstance(d.get("at"), str) and RFC3339.match(d["at"]) and epoch(d["at"]) == at):
                problems.append("detail.at %r is not RFC 3339 of the item's at %d" % (d.get("at"), at))
            try:
                if epoch(m.get("time")) != at:
                    problems.append("time %r is not the item's at %d" % (m.get("time"), at))
            except (TypeError, ValueError):
                problems.append("time %r" % m.get("time"))
            text = json.dumps(m)
            for secret in (a["email"], PWD, NEW_PWD):
                if secret in text:
                    problems.append("the event holds %r" % secret)
            if re.search(r"email|pwd|password|token|secret", " ".join(d), re.I):
                problems.append("a secret's field in the detail: %s" % sorted(d))
            if problems:
                self.check(False, "%s: the event %s" % (what, d["id"]), "; ".join(problems) + ": " + text)
            self.delivered[d["id"]] = img
        types = sorted({m["detail-type"] for m in messages})
        self.ok("%s: each event" % what, "source %s, detail-type %s, detail {id, account_id, username, at "
                "(RFC 3339)} and nothing else, time = at, no address, password or token" % (SOURCE, "/".join(types)))

    def answered(self, f: Forwarder, records: list, what: str, want_failed: list) -> dict:
        kind, answer = f.invoke({"Records": records})
        want = {"batchItemFailures": [{"itemIdentifier": s} for s in want_failed]}
        got = answer
        if kind == "response" and isinstance(answer, dict) and isinstance(answer.get("batchItemFailures"), list):
            # All failures are reported; their order is not the contract's.
            got = {"batchItemFailures": sorted(answer["batchItemFailures"], key=lambda x: json.dumps(x))}
            want["batchItemFailures"].sort(key=lambda x: json.dumps(x))
        self.check(kind == "response" and got == want, what,
                   "expected %s, got %s: %s" % (json.dumps(want), kind, answer if isinstance(answer, str)
                                                 else json.dumps(answer)), json.dumps(answer))
        return answer

    # ---- the three parts -------------------------------------------------------------------------
    def part_one(self):
        a = self.life("a")
        records = self.stream.read()
        batch = self.outbox(records, [a], "1 (one account)")
        f = self.forwarder("events-forwarder", AWS_ENDPOINT_URL=self.moto)
        self.answered(f, batch, "1: the forwarder, the 4 records in one batch", [])
        self.received(batch, [a], "1")
        # What the filter drops: skipped, not failures.
        others = [r for r in records if not self.passes(r)]
        kinds = sorted({r["eventName"] for r in others})
        for i in range(0, len(others), 100):
            self.answered(f, others[i:i + 100],
                          "1: the %d records the filter drops (%s): skipped"
                          % (len(others), "/".join(kinds)), [])
        # An outbox insert that cannot be read is never dropped: reported failed, so
        # that Lambda retries it and then records it on the failure queue.
        bad = json.loads(json.dumps(batch[0]))
        bad["eventID"] = uuid.uuid4().hex
        bad["dynamodb"]["SequenceNumber"] = str(int(records[-1]["dynamodb"]["SequenceNumber"]) + 10 ** 6)
        for k in ("detail_type", "account_id", "username"):
            bad["dynamodb"]["NewImage"].pop(k)
        self.answered(f, [bad], "1: an outbox record without a detail_type is reported failed",
                      [bad["dynamodb"]["SequenceNumber"]])
        got = self.drain(self.queue_url)
        self.check(not got, "1: nothing sent for them", "the queue received %s" % got, "the queue received nothing")

    def part_two(self):
        accounts = [self.life(c) for c in "bcd"]
        batch = self.outbox(self.stream.read(), accounts, "2 (three accounts)")
        self.proxy = Proxy(self.moto)
        f = self.forwarder("events-forwarder-proxied", AWS_ENDPOINT_URL=self.moto,
                           AWS_ENDPOINT_URL_EVENTBRIDGE=self.proxy.url)
        self.proxy.set("fail-one")
        kind, answer = f.invoke({"Records": batch})
        calls = list(self.proxy.calls)
        self.check(calls, "2: the forwarder calls EventBridge at AWS_ENDPOINT_URL_EVENTBRIDGE",
                   "the proxy saw no call (%s: %s)" % (kind, answer),
                   "%d PutEvents calls of %s entries through the proxy"
                   % (len(calls), [len(c["entries"]) for c in calls]))
        self.wire(calls, batch, "2")
        failed = calls[0]["failed"][0]
        failed_id = json.loads(failed["Detail"])["id"]
        seq = {r["dynamodb"]["NewImage"]["id"]["S"]: r["dynamodb"]["SequenceNumber"] for r in batch}
        self.check(kind == "response" and answer == {"batchItemFailures": [{"itemIdentifier": seq[failed_id]}]},
                   "2: the proxy failed the 2nd entry of the first call (event %s, record %s)"
                   % (failed_id, seq[failed_id]),
                   "expected batchItemFailures [%s], got %s: %s" % (seq[failed_id], kind, answer),
                   "the forwarder reports exactly that record: %s" % json.dumps(answer))
        # Lambda retries from the lowest failed record on.
        retry = [r for r in batch if int(r["dynamodb"]["SequenceNumber"]) >= int(seq[failed_id])]
        before = self.proxy.set("pass")
        self.answered(f, retry, "2: Lambda's retry, the %d records from %s on, through the proxy passing all"
                      % (len(retry), seq[failed_id]), [])
        self.wire(self.proxy.calls[before:], retry, "2 (the retry)")
        sent_first = [r for r in batch if r["dynamodb"]["NewImage"]["id"]["S"] != failed_id]
        copies = {}
        for r in sent_first + retry:
            i = r["dynamodb"]["NewImage"]["id"]["S"]
            copies[i] = copies.get(i, 0) + 1
        self.received(batch, accounts, "2", copies)

    def part_three(self):
        e = self.life("e")
        batch = self.outbox(self.stream.read(), [e], "3 (one account)")
        f = self.forwarders[-1]
        before = self.proxy.set("fail-all")
        self.answered(f, batch, "3: every call fails (500): every record reported",
                      [r["dynamodb"]["SequenceNumber"] for r in batch])
        tried = self.proxy.calls[before:]
        self.ok("3: the failing calls", "%d PutEvents attempts (the SDK's retries), all answered 500" % len(tried))
        got = self.drain(self.queue_url)
        self.check(not got, "3: nothing sent", "the queue received %s" % got, "the queue received nothing")
        lowest = min(int(r["dynamodb"]["SequenceNumber"]) for r in batch)
        retry = [r for r in batch if int(r["dynamodb"]["SequenceNumber"]) >= lowest]
        self.proxy.set("pass")
        self.answered(f, retry, "3: the retry of the %d records" % len(retry), [])
        self.received(batch, [e], "3")

    def wire(self, calls: list, batch: list, what: str):
        """The PutEvents entries as the forwarder sent them: at most 10 a call, every record's
        entry once per invocation, each as the contract says."""
        images = {r["dynamodb"]["NewImage"]["id"]["S"]: r["dynamodb"]["NewImage"] for r in batch}
        ids = []
        problems = []
        for c in calls:
            if len(c["entries"]) > 10:
                problems.append("a call of %d entries" % len(c["entries"]))
            for e in c["entries"]:
                try:
                    d = json.loads(e.get("Detail") or "null")
                    img = images[d["id"]]
                except (ValueError, KeyError, TypeError):
                    problems.append("an entry of no record of the batch: %s" % e)
                    continue
                ids.append(d["id"])
                want = {"Source": SOURCE, "DetailType": img["detail_type"]["S"], "EventBusName": self.bus}
                if {k: e.get(k) for k in want} != want:
                    problems.append("entry %s, expected %s" % ({k: e.get(k) for k in want}, want))
                if not isinstance(e.get("Time"), (int, float)) or e["Time"] != int(img["at"]["N"]):
                    problems.append("Time %r, expected the item's at %s" % (e.get("Time"), img["at"]["N"]))
        if sorted(ids) != sorted(images):
            problems.append("entries for %s, the batch's ids are %s" % (sorted(ids), sorted(images)))
        self.check(not problems, "%s: the PutEvents entries on the wire" % what, "; ".join(problems),
                   "%d calls (%s entries): Source %s, DetailType, EventBusName %s, Time = at, each record once"
                   % (len(calls), "+".join(str(len(c["entries"])) for c in calls), SOURCE, self.bus))

    def run(self):
        self.setup()
        self.part_one()
        self.part_two()
        self.part_three()
        stray = self.drain(self.stray_url)
        self.check(not stray, "the default bus's rule", "received %s" % stray,
                   "received nothing (every event went to EVENT_BUS_NAME)")
        return len(self.delivered)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
    ap.add_argument("--dev-server", default=os.path.join(target, "debug", "dev-server"))
    ap.add_argument("--forwarder", default=os.path.join(target, "debug", "events_forwarder"))
    args = ap.parse_args()
    for path, pkg in ((args.dev_server, "dev-server"), (args.forwarder, "events_forwarder")):
        if not os.access(path, os.X_OK):
            sys.exit("events_e2e: no %s at %s (cargo build -p %s)" % (pkg, path, pkg))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for k, v in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_REGION", "us-east-1"),
                 ("AWS_EC2_METADATA_DISABLED", "true")):
        os.environ.setdefault(k, v)
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ["AWS_REGION"])
    started = time.time()
    moto_proc = None
    with tempfile.TemporaryDirectory(prefix="events-e2e-") as work:
        moto = (os.environ.get("AWS_ENDPOINT_URL") or "").rstrip("/")
        if not moto:
            moto_proc, moto = start_moto(work)
            os.environ["AWS_ENDPOINT_URL"] = moto
            print("# moto started on %s" % moto)
        run = Run(args, work, moto)
        try:
            events = run.run()
        except Failed:
            for name, path in run.logs:
                print("--- %s's log:\n%s" % (name, tail(path)), file=sys.stderr)
            return 1
        finally:
            for f in run.forwarders:
                f.close()
            if run.proxy is not None:
                run.proxy.shutdown()
                run.proxy.server_close()
            if run.server is not None:
                run.server.stop()
            stop(moto_proc)
    print("events e2e: %d checks passed (%d events from 5 accounts, each arrived once after de-duplication "
          "by detail.id; %d duplicates before it; %.1f s)" % (run.step, events, run.duplicates, time.time() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())

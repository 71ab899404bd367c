#!/usr/bin/env python3
# misp-correlator forwarder for Wazuh's integratord.
#
# integratord runs this once per alert (through the custom-misp-correlator shell wrapper next to it):
#
#   custom-misp-correlator <alert_file> <api_key> <hook_url> [debug] [<options_file> <timeout> <retries>]
#
# Wazuh 4.8 and later pass all seven arguments; older managers pass the first three (and "debug"), and may append
# "> /dev/null 2>&1" as literal arguments. The script POSTs each alert to <hook_url>/v1/alerts?format=analysisd
# and writes the analysisd messages the correlator answers ("analysisd": ["1:<location>:<json>", ...], formatted by
# the service's own AnalysisdMessage, so the bytes are the tail's) to analysisd's socket (queue/sockets/queue) as
# they are, so Wazuh rules (rules/misp_correlator_rules.xml) turn them into alerts.
#
# When the correlator cannot be reached it keeps the alert in a spool file, re-sent first on the next run, and
# sends one "misp.error" event so the SOC sees the outage. It never writes the API key anywhere.
#
# Python standard library only: it runs on Wazuh's bundled Python (3.10+) and on any Python 3.8+.
# Exit status: 1 when the alert file cannot be read at all, 0 otherwise. integratord only logs a non-zero exit
# ("Unable to run integration", wazuh src/os_integrator/integrator.c:453-463 in v4.14.0); it disables nothing.
#
# Options file (JSON, all optional): timeout (s), retries, spool_dir, socket, verify_tls (bool), ca_file,
# backoff (s, first retry delay), backoff_max (s), spool_max_bytes, spool_replay_max, spool_replay_seconds,
# down_window (s). timeout and retries given as arguments win over the options file.
#
# integratord waits for this script with no timeout (wpopenv, then reads its output to the end and wpclose,
# integrator.c:447-453) and runs every integration of every alert one after the other: a run must stay short.
# Re-sending the spool therefore stops after spool_replay_seconds of wall-clock time (default 20 s), whatever
# spool_replay_max allows; the rest waits for the next run.
#
# integratord runs integrations one alert at a time, so an outage must not cost every alert the whole retry
# sequence: for down_window seconds after the correlator was last found unreachable, a run tries once, without
# retries (the first alert that gets through ends the window and empties the spool).

import errno
import hashlib
import ipaddress
import json
import os
import re
import socket
import ssl
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager

try:
    import fcntl
except ImportError:  # not on Unix: the spool is used without locking
    fcntl = None

NAME = "custom-misp-correlator"
VERSION = "1"

# analysisd reads at most this many bytes of one datagram (same limit as AnalysisdMessage.MAX_BYTES in Java)
MAX_MESSAGE_BYTES = 65535
# the forwarder's own error events carry alert fields: each cut to this many characters, so the event stays small
MAX_FIELD_CHARS = 256

DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5
DEFAULT_BACKOFF_MAX = 8.0
DEFAULT_HOOK_URL = "http://127.0.0.1:8080"
DEFAULT_SPOOL_MAX_BYTES = 100 * 1024 * 1024
# re-send at most this many spooled alerts a run: integratord waits for us, and queues alerts meanwhile
DEFAULT_SPOOL_REPLAY_MAX = 1000
# and for at most this long (wall clock): a slow correlator must not hold integratord for hours
DEFAULT_SPOOL_REPLAY_SECONDS = 20.0
DEFAULT_DOWN_WINDOW = 300.0
MAX_ANSWER_BYTES = 64 * 1024 * 1024

EXIT_OK = 0
EXIT_UNREADABLE_INPUT = 1


def wazuh_dir():
    """WAZUH_PATH if set; else the directory above integrations/ holding this script; else /var/ossec."""
    env = os.environ.get("WAZUH_PATH")
    if env:
        return env
    here = os.path.dirname(os.path.realpath(__file__))
    if os.path.basename(here) == "integrations":
        return os.path.dirname(here)
    return "/var/ossec"


# ---------------------------------------------------------------------------------------------------------------
# Logging: logs/integrations.log, or stderr when that cannot be written. Every line goes through mask().

_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/@\s]*@")


class Log(object):
    def __init__(self):
        self.verbose = False
        self.secrets = []
        self.stream = None

    def open(self, directory):
        try:
            self.stream = open(os.path.join(directory, "logs", "integrations.log"), "a", encoding="utf-8",
                               errors="replace")
        except OSError:
            self.stream = None

    def add_secret(self, secret):
        if secret:
            for form in (secret, urllib.parse.quote(secret, safe=""), json.dumps(secret)[1:-1]):
                if form and form not in self.secrets:
                    self.secrets.append(form)
            self.secrets.sort(key=len, reverse=True)

    def mask(self, text):
        text = str(text)
        for secret in self.secrets:
            text = text.replace(secret, "****")
        return _USERINFO.sub(r"\1****@", text)

    def _write(self, level, message):
        text = self.mask(message).replace("\r", "\\r").replace("\n", "\\n")
        line = "%s %s: %s: %s\n" % (time.strftime("%Y/%m/%d %H:%M:%S"), NAME, level, text)
        if self.stream is not None:
            try:
                self.stream.write(line)
                self.stream.flush()
                return
            except (OSError, ValueError):
                self.stream = None
        try:
            sys.stderr.write(line)
            sys.stderr.flush()
        except (OSError, ValueError):
            pass

    def error(self, message):
        self._write("ERROR", message)

    def warning(self, message):
        self._write("WARNING", message)

    def info(self, message):
        self._write("INFO", message)

    def debug(self, message):
        if self.verbose:
            self._write("DEBUG", message)

    def exception(self, message):
        self._write("ERROR", message)
        for line in traceback.format_exc().rstrip().splitlines():
            self._write("ERROR", "  " + line)


# ---------------------------------------------------------------------------------------------------------------
# Arguments and options


class Arguments(object):
    def __init__(self):
        self.alert_file = ""
        self.api_key = ""
        self.hook_url = ""
        self.debug = False
        self.options_file = ""
        self.timeout = None
        self.retries = None


def _is_redirection(token):
    # integratord writes "... > /dev/null 2>&1" when not debugging; some versions hand it over as argv tokens,
    # one token per word or the whole tail as one token
    return ">" in token or token.strip() == "/dev/null"


def parse_arguments(argv):
    args = Arguments()
    positional = list(argv[1:])
    if positional:
        args.alert_file = positional[0]
    if len(positional) > 1 and not _is_redirection(positional[1]):
        args.api_key = positional[1]
    if len(positional) > 2 and not _is_redirection(positional[2]):
        args.hook_url = positional[2].strip()
    numbers = []
    for token in positional[3:]:
        token = token.strip()
        if not token or _is_redirection(token):
            continue
        if token == "debug":
            args.debug = True
        elif re.match(r"^-?\d+(\.\d+)?$", token):
            numbers.append(token)
        elif not args.options_file:
            args.options_file = token
    if numbers:
        args.timeout = numbers[0]
    if len(numbers) > 1:
        args.retries = numbers[1]
    return args


def load_options(path, log):
    if not path:
        return {}
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        log.warning("options file %s cannot be read (%s); using defaults" % (path, e.strerror or e))
        return {}
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return {}
    try:
        options = json.loads(text)
    except ValueError as e:
        log.warning("options file %s is not JSON (%s); using defaults" % (path, e))
        return {}
    if not isinstance(options, dict):
        log.warning("options file %s is not a JSON object; using defaults" % path)
        return {}
    return options


def _number(value, default, name, log, minimum, integer=False):
    if value is None or value == "":
        return default
    try:
        if isinstance(value, bool):
            raise ValueError()
        number = int(float(value)) if integer else float(value)
    except (TypeError, ValueError):
        log.warning("%s=%r is not a number; using %s" % (name, value, default))
        return default
    if number < minimum:
        log.warning("%s=%r is below %s; using %s" % (name, value, minimum, default))
        return default
    return number


def _boolean(value, default, name, log):
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    log.warning("%s=%r is not a boolean; using %s" % (name, value, default))
    return default


class Config(object):
    def __init__(self, args, options, base, log):
        self.api_key = args.api_key
        hook = args.hook_url
        if not hook:
            log.warning("no hook_url given; using %s" % DEFAULT_HOOK_URL)
            hook = DEFAULT_HOOK_URL
        self.url = alerts_url(hook)
        timeout = args.timeout if args.timeout is not None else options.get("timeout")
        self.timeout = _number(timeout, DEFAULT_TIMEOUT, "timeout", log, 0.001)
        retries = args.retries if args.retries is not None else options.get("retries")
        self.retries = _number(retries, DEFAULT_RETRIES, "retries", log, 0, integer=True)
        self.backoff = _number(options.get("backoff"), DEFAULT_BACKOFF, "backoff", log, 0)
        self.backoff_max = _number(options.get("backoff_max"), DEFAULT_BACKOFF_MAX, "backoff_max", log, 0)
        self.verify_tls = _boolean(options.get("verify_tls"), True, "verify_tls", log)
        self.ca_file = options.get("ca_file") or None
        self.socket_path = options.get("socket") or os.path.join(base, "queue", "sockets", "queue")
        self.spool_dir = options.get("spool_dir") or os.path.join(base, "queue", "misp-correlator")
        self.spool_max_bytes = _number(options.get("spool_max_bytes"), DEFAULT_SPOOL_MAX_BYTES, "spool_max_bytes",
                                       log, 1024, integer=True)
        self.spool_replay_max = _number(options.get("spool_replay_max"), DEFAULT_SPOOL_REPLAY_MAX,
                                        "spool_replay_max", log, 0, integer=True)
        self.spool_replay_seconds = _number(options.get("spool_replay_seconds"), DEFAULT_SPOOL_REPLAY_SECONDS,
                                            "spool_replay_seconds", log, 0)
        self.down_window = _number(options.get("down_window"), DEFAULT_DOWN_WINDOW, "down_window", log, 0)


def alerts_url(hook_url):
    """<hook_url>/v1/alerts, whether hook_url is the base URL (with or without a slash) or already the endpoint."""
    url = hook_url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith("/v1/alerts"):
        path += "/v1/alerts"
    # the answer then carries the events as ready analysisd messages
    query = (parts.query + "&" if parts.query else "") + "format=analysisd"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, query, ""))


# ---------------------------------------------------------------------------------------------------------------
# The alert, and the forwarder's own error events (the correlator's events come ready formatted)


def utf8(text):
    # a lone surrogate becomes "?", as Java's String.getBytes(UTF_8) does
    return text.encode("utf-8", "replace")


def _text(value):
    """A scalar as text, as Jackson's asText(); None for null, objects and arrays."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def field(alert, path, default):
    """A field by dotted path, a segment matched exactly or else ignoring case (as Alert.get in Java)."""
    node = alert
    for segment in path.split("."):
        if not isinstance(node, dict):
            return default
        if segment in node:
            node = node[segment]
        else:
            lower = segment.lower()
            node = next((v for k, v in node.items() if k.lower() == lower), None)
        if node is None:
            return default
    text = _text(node)
    return default if text is None else text


def location(alert):
    """"[<id>] (<name>) <ip>->misp" with | doubled and : escaped as |: ; "misp" for the manager (agent 000)."""
    agent_id = field(alert, "agent.id", "000")
    if agent_id == "" or agent_id == "000":
        return "misp"
    raw = "[%s] (%s) %s->misp" % (agent_id, field(alert, "agent.name", ""), field(alert, "agent.ip", ""))
    return raw.replace("|", "||").replace(":", "|:")


def error_message(alert, line, message):
    """The datagram for one of the forwarder's own events ("1:<location>:<json>"): small, so it always fits."""
    data = utf8("1:" + location(alert or {}) + ":" + json.dumps(error_event(alert, line, message), ensure_ascii=False,
                                                          separators=(",", ":")))
    if len(data) > MAX_MESSAGE_BYTES:  # an agent name of 60 kB: the manager's location instead
        data = utf8("1:misp:" + json.dumps(error_event(alert, line, message), ensure_ascii=False,
                                             separators=(",", ":")))
    return data


def parse_alert(line):
    try:
        alert = json.loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return alert if isinstance(alert, dict) else None


def alert_id(alert, line):
    """The alert's id, or the digest the correlator uses for an alert without one."""
    own = _text(alert.get("id")) if alert is not None else None
    if own is not None and own.strip():
        return own
    return "sha256:" + hashlib.sha256(line).hexdigest()[:32]


def error_event(alert, line, message):
    return {
        "integration": "misp",
        "misp": {"error": message},
        "correlator": {
            "alert_id": alert_id(alert, line)[:MAX_FIELD_CHARS],
            "agent_id": field(alert, "agent.id", "000")[:MAX_FIELD_CHARS] if alert is not None else "000",
            "rule_id": field(alert, "rule.id", "")[:MAX_FIELD_CHARS] if alert is not None else "",
        },
    }


# ---------------------------------------------------------------------------------------------------------------
# analysisd


class Analysisd(object):
    def __init__(self, path, log):
        self.path = path
        self.log = log
        self.sock = None

    def send(self, data):
        last = None
        for attempt in range(4):
            try:
                if self.sock is None:
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    sock.settimeout(10)
                    try:
                        sock.connect(self.path)
                    except OSError:
                        sock.close()
                        raise
                    self.sock = sock
                self.sock.send(data)
                return True
            except OSError as e:
                last = e
                self.close()
                time.sleep(0.1 * (2 ** attempt))
        self.log.error("cannot write to analysisd's socket %s: %s" % (self.path, describe(last)))
        return False

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


# ---------------------------------------------------------------------------------------------------------------
# The correlator's HTTP API


class Outcome(object):
    OK = "ok"                  # 200: events to deliver
    REJECTED = "rejected"      # 400/413: a bad alert; never retried, never spooled
    FAILED = "failed"          # 500 and the like: the correlator failed on this alert; not spooled
    UNAVAILABLE = "unavailable"  # connection error, timeout, 502/503/504: retried, then spooled
    REFUSED = "refused"        # 401/403/404/3xx, TLS errors: a set-up problem; spooled without retrying

    def __init__(self, kind, reason="", status=None, events=None, retry_after=None, unfit=0):
        self.kind = kind
        self.reason = reason
        self.status = status
        self.events = events or []  # the analysisd messages, as text
        self.unfit = unfit
        self.retry_after = retry_after


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # a redirect would carry the bearer token to another place: report it instead
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def describe(exc):
    if exc is None:
        return "unknown error"
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        return describe(exc.reason) if isinstance(exc.reason, BaseException) else str(exc.reason)
    if isinstance(exc, socket.timeout) or isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, socket.gaierror):
        return "cannot resolve host (%s)" % (exc.strerror or exc)
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or exc.__class__.__name__


def _short(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _error_message(body):
    try:
        message = json.loads(body.decode("utf-8", "replace")).get("error")
        if message:
            return _short(message)
    except (ValueError, AttributeError):
        pass
    return _short(body.decode("utf-8", "replace"), 200)


def _is_loopback(host):
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Correlator(object):
    def __init__(self, config, log):
        self.config = config
        self.log = log
        self.setup_error = None
        handlers = [_NoRedirect()]
        parts = urllib.parse.urlsplit(config.url)
        if parts.scheme not in ("http", "https"):
            self.setup_error = "hook_url scheme %r is not http or https" % parts.scheme
        if parts.scheme == "https":
            try:
                context = ssl.create_default_context(cafile=config.ca_file)
                if not config.verify_tls:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                handlers.append(urllib.request.HTTPSHandler(context=context))
            except (OSError, ssl.SSLError) as e:
                self.setup_error = "ca_file %s unusable: %s" % (config.ca_file, describe(e))
        if _is_loopback(parts.hostname):
            handlers.append(urllib.request.ProxyHandler({}))  # a proxy from the environment never serves loopback
        self.opener = urllib.request.build_opener(*handlers)

    def post_once(self, body):
        if self.setup_error:
            return Outcome(Outcome.REFUSED, self.setup_error)
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": "%s/%s" % (NAME, VERSION)}
        if self.config.api_key:
            headers["Authorization"] = "Bearer " + self.config.api_key
        request = urllib.request.Request(self.config.url, data=body, headers=headers, method="POST")
        try:
            with self.opener.open(request, timeout=self.config.timeout) as response:
                status = response.getcode()
                answer = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as e:
            return self._http_error(e)
        except urllib.error.URLError as e:
            if isinstance(e.reason, ssl.SSLError):
                return Outcome(Outcome.REFUSED, "TLS: %s" % describe(e.reason))
            return Outcome(Outcome.UNAVAILABLE, describe(e))
        except (socket.timeout, TimeoutError):
            return Outcome(Outcome.UNAVAILABLE, "timed out after %gs" % self.config.timeout)
        except ssl.SSLError as e:
            return Outcome(Outcome.REFUSED, "TLS: %s" % describe(e))
        except (OSError, ValueError, EOFError) as e:
            # http.client's errors (RemoteDisconnected, IncompleteRead, BadStatusLine) are OSError or ValueError
            return Outcome(Outcome.UNAVAILABLE, describe(e))
        except Exception as e:  # http.client.HTTPException and the unforeseen: treat as an outage, keep the alert
            return Outcome(Outcome.UNAVAILABLE, describe(e))
        if status != 200:
            return Outcome(Outcome.REFUSED, "answered status %s" % status, status)
        if len(answer) > MAX_ANSWER_BYTES:
            return Outcome(Outcome.FAILED, "answer larger than %d bytes" % MAX_ANSWER_BYTES, status)
        try:
            parsed = json.loads(answer.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            # not the correlator answering (a proxy's page?): keep the alert
            return Outcome(Outcome.REFUSED, "answered 200 with a body that is not JSON", status)
        lines = parsed.get("analysisd") if isinstance(parsed, dict) else None
        if not isinstance(lines, list):
            # not the correlator, or one older than this forwarder: keep the alert
            return Outcome(Outcome.REFUSED, "answered 200 without analysisd messages", status)
        unfit = parsed.get("analysisd_unfit")
        return Outcome(Outcome.OK, "", status, lines, unfit=unfit if isinstance(unfit, int) else 0)

    def _http_error(self, e):
        status = e.code
        try:
            body = e.read(64 * 1024) or b""
        except Exception:
            body = b""
        message = _error_message(body) if body else (e.reason or "")
        reason = "answered status %s%s" % (status, (": " + _short(message)) if message else "")
        retry_after = None
        try:
            retry_after = float(e.headers.get("Retry-After")) if e.headers and e.headers.get("Retry-After") else None
        except (TypeError, ValueError):
            retry_after = None
        if status in (400, 413, 415, 422):
            return Outcome(Outcome.REJECTED, reason, status)
        if status in (408, 429, 502, 503, 504):
            return Outcome(Outcome.UNAVAILABLE, reason, status, retry_after=retry_after)
        if status in (401, 403, 404, 405) or 300 <= status < 400:
            return Outcome(Outcome.REFUSED, reason, status)
        return Outcome(Outcome.FAILED, reason, status)

    def post(self, body, retries):
        attempts = 1 + retries
        outcome = None
        for attempt in range(attempts):
            outcome = self.post_once(body)
            if outcome.kind != Outcome.UNAVAILABLE:
                break
            if attempt == attempts - 1:
                break
            delay = self.config.backoff * (2 ** attempt)
            if outcome.retry_after:
                delay = max(delay, outcome.retry_after)
            delay = min(delay, self.config.backoff_max)
            self.log.debug("correlator unavailable (%s); attempt %d of %d, next in %.2fs"
                           % (outcome.reason, attempt + 1, attempts, delay))
            time.sleep(delay)
        if outcome.kind == Outcome.UNAVAILABLE and attempts > 1:
            outcome.reason = "%s (%d attempts)" % (outcome.reason, attempts)
        return outcome


# ---------------------------------------------------------------------------------------------------------------
# The spool: one alert a line, oldest first


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Spool(object):
    def __init__(self, directory, max_bytes, log):
        self.directory = directory
        self.path = os.path.join(directory, "spool.ndjson")
        self.lock_path = os.path.join(directory, "spool.lock")
        self.max_bytes = max_bytes
        self.log = log

    def exists(self):
        try:
            return os.path.getsize(self.path) > 0
        except OSError:
            return False

    @contextmanager
    def locked(self, wait):
        """Holds the spool's lock; yields False when another run holds it for longer than wait seconds."""
        if fcntl is None:
            yield True
            return
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            deadline = time.time() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK) or time.time() >= deadline:
                        yield False
                        return
                    time.sleep(0.05)
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def read_lines(self):
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        return [line.strip() for line in data.split(b"\n") if line.strip()]

    def rewrite(self, lines):
        """Replaces the spool by lines, atomically: a crash leaves the old or the new file, never half of one."""
        if not lines:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            return
        temporary = "%s.%d.tmp" % (self.path, os.getpid())
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            _write_all(fd, b"".join(line + b"\n" for line in lines))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        _fsync_dir(self.directory)

    def append(self, line):
        """Adds one alert at the end; returns None, or why it could not be spooled."""
        need = len(line) + 1
        if need > self.max_bytes:
            return "alert larger than the spool limit (%d bytes)" % self.max_bytes
        try:
            os.makedirs(self.directory, 0o750, exist_ok=True)
            with self.locked(wait=30) as held:
                if not held:
                    self.log.warning("spool lock busy for 30s; appending without it")
                size = os.path.getsize(self.path) if os.path.exists(self.path) else 0
                if size + need > self.max_bytes:
                    self._trim(need)
                    size = os.path.getsize(self.path) if os.path.exists(self.path) else 0
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                try:
                    # a crash in the middle of an earlier write left no newline: start on a line of our own
                    separator = b"" if size == 0 or self._ends_with_newline() else b"\n"
                    # one write of the whole line: a crash loses at most this line
                    _write_all(fd, separator + line + b"\n")
                    os.fsync(fd)
                finally:
                    os.close(fd)
            return None
        except OSError as e:
            return "%s: %s" % (self.path, describe(e))

    def _ends_with_newline(self):
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"

    def _trim(self, need):
        # drop the oldest alerts down to 90% of the limit, so the next appends do not trim again
        lines = self.read_lines()
        target = int(self.max_bytes * 0.9) - need
        total = sum(len(line) + 1 for line in lines)
        dropped = 0
        while dropped < len(lines) and total > target:
            total -= len(lines[dropped]) + 1
            dropped += 1
        self.rewrite(lines[dropped:])
        self.log.error("spool %s reached %d bytes: dropped the %d oldest alert(s)"
                       % (self.path, self.max_bytes, dropped))


# ---------------------------------------------------------------------------------------------------------------
# One run


class Forwarder(object):
    def __init__(self, config, log):
        self.config = config
        self.log = log
        self.correlator = Correlator(config, log)
        self.analysisd = Analysisd(config.socket_path, log)
        self.spool = Spool(config.spool_dir, config.spool_max_bytes, log)
        self.down = None  # why the correlator could not be reached, once it failed in this run
        self.analysisd_down = False  # analysisd's socket could not be written to in this run
        # a marker whose age says when the correlator was last found unreachable (by any run)
        self.down_marker = os.path.join(config.spool_dir, "unreachable")
        self.retries = config.retries
        try:
            age = time.time() - os.path.getmtime(self.down_marker)
        except OSError:
            age = None
        self.marked = age is not None
        if age is not None and 0 <= age < config.down_window:
            self.retries = 0
            log.debug("correlator found unreachable %.0fs ago: one attempt, no retries" % age)

    def close(self):
        self.analysisd.close()

    def deliver(self, alert, events, unfit=0):
        """Writes each message as the correlator formatted it; False when analysisd could not be written to."""
        if unfit:
            self.log.error("alert %s: %d event(s) left out by the correlator: each does not fit one analysisd message"
                           " even shrunk" % (self._id(alert), unfit))
        sent = 0
        for event in events:
            if not isinstance(event, str):
                self.log.warning("alert %s: skipped an analysisd message that is not a string" % self._id(alert))
                continue
            data = utf8(event)
            if not self.analysisd.send(data):
                if sent:
                    self.log.error("alert %s: %d of %d events were delivered before analysisd failed"
                                   % (self._id(alert), sent, len(events)))
                return False
            sent += 1
        return True

    @staticmethod
    def _id(alert):
        return (_text(alert.get("id")) if isinstance(alert, dict) else None) or "(no id)"

    def forward(self, line, spooled):
        """Sends one alert line; returns True when it is settled, False when it stays (or goes) in the spool."""
        alert = parse_alert(line)
        if self.analysisd_down and not spooled:
            return self._keep_for_analysisd(alert, line)
        if self.down is not None:
            outcome = Outcome(Outcome.UNAVAILABLE, self.down)
        else:
            outcome = self.correlator.post(line, self.retries)
            self._mark(outcome)
        if outcome.kind == Outcome.OK:
            self.log.debug("alert %s: %d event(s)" % (self._id(alert), len(outcome.events)))
            if self.deliver(alert, outcome.events, outcome.unfit):
                return True
            # the correlator stored the hits; re-sending the alert later answers the same events again
            self.analysisd_down = True
            if spooled:
                return False
            return self._keep_for_analysisd(alert, line)
        if outcome.kind == Outcome.REJECTED:
            self.log.error("alert %s: the correlator rejected it (%s); dropped" % (self._id(alert), outcome.reason))
            return True
        if outcome.kind == Outcome.FAILED:
            self.log.error("alert %s: the correlator failed on it (%s); not retried" % (self._id(alert), outcome.reason))
            self._send_error(alert, line, "misp-correlator failed on the alert: %s" % outcome.reason)
            return True
        # unavailable or refused: keep the alert
        self.down = outcome.reason
        if spooled:
            return False
        problem = self.spool.append(line)
        if problem:
            message = "misp-correlator unreachable: %s; alert could not be spooled (%s)" % (outcome.reason, problem)
            self.log.error("alert %s: %s" % (self._id(alert), message))
        else:
            message = "misp-correlator unreachable: %s; alert spooled" % outcome.reason
            self.log.warning("alert %s: %s in %s" % (self._id(alert), message, self.spool.path))
        self._send_error(alert, line, message)
        return False

    def _keep_for_analysisd(self, alert, line):
        problem = self.spool.append(line)
        if problem:
            self.log.error("alert %s: events lost, analysisd unreachable and the alert could not be spooled: %s"
                           % (self._id(alert), problem))
        else:
            self.log.error("alert %s: analysisd unreachable; alert spooled for re-delivery" % self._id(alert))
        return False

    def _mark(self, outcome):
        if outcome.kind == Outcome.UNAVAILABLE:
            try:
                os.makedirs(self.config.spool_dir, 0o750, exist_ok=True)
                with open(self.down_marker, "w") as f:
                    f.write("%s\n" % self.log.mask(outcome.reason))
            except OSError:
                pass
            self.marked = True
            self.retries = 0
        elif outcome.kind == Outcome.OK and self.marked:
            try:
                os.unlink(self.down_marker)
            except OSError:
                pass
            self.marked = False
            self.retries = self.config.retries

    def _send_error(self, alert, line, message):
        self.analysisd.send(error_message(alert, line, self.log.mask(message)))

    def replay(self):
        """Re-sends the spooled alerts, oldest first; keeps those that still cannot be delivered."""
        if not self.spool.exists():
            return
        with self.spool.locked(wait=0) as held:
            if not held:
                self.log.debug("another run is re-sending the spool")
                return
            lines = self.spool.read_lines()
            if not lines:
                return
            self.log.info("re-sending %d spooled alert(s)" % len(lines))
            settled = 0
            deadline = time.monotonic() + self.config.spool_replay_seconds
            try:
                for line in lines[:self.config.spool_replay_max]:
                    if settled and time.monotonic() >= deadline:
                        self.log.info("spool: replay budget of %gs used" % self.config.spool_replay_seconds)
                        break
                    if not self.forward(line, spooled=True):
                        break
                    settled += 1
            finally:
                if settled:
                    self.spool.rewrite(lines[settled:])
            kept = len(lines) - settled
            if kept:
                why = self.down or ("analysisd unreachable" if self.analysisd_down else "")
                self.log.warning("spool: %d alert(s) re-sent, %d kept%s" % (settled, kept, " (%s)" % why if why else ""))
            else:
                self.log.info("spool: %d alert(s) re-sent, spool empty" % settled)


def main(argv):
    log = Log()
    args = parse_arguments(argv)
    log.add_secret(args.api_key)
    base = wazuh_dir()
    log.open(base)
    log.verbose = args.debug
    log.debug("run: alert file %s, hook_url %s, api key %s, options %s, timeout %s, retries %s"
              % (args.alert_file, args.hook_url or "(none)", "(set)" if args.api_key else "(none)",
                 args.options_file or "(none)", args.timeout, args.retries))
    if not args.alert_file:
        log.error("no alert file given; usage: %s <alert_file> <api_key> <hook_url> [debug] "
                  "[<options_file> <timeout> <retries>]" % NAME)
        return EXIT_UNREADABLE_INPUT
    try:
        with open(args.alert_file, "rb") as f:
            raw = f.read()
    except OSError as e:
        log.error("cannot read alert file %s: %s" % (args.alert_file, describe(e)))
        return EXIT_UNREADABLE_INPUT
    lines = [line.strip() for line in raw.split(b"\n") if line.strip()]
    if not lines:
        log.warning("alert file %s is empty" % args.alert_file)

    handled = 0
    forwarder = None
    try:
        config = Config(args, load_options(args.options_file, log), base, log)
        log.debug("correlator %s, timeout %gs, retries %d, socket %s, spool %s"
                  % (config.url, config.timeout, config.retries, config.socket_path, config.spool_dir))
        forwarder = Forwarder(config, log)
        forwarder.replay()
        for line in lines:
            forwarder.forward(line, spooled=False)
            handled += 1
    except Exception:
        log.exception("unexpected error")
        # keep what was not handled, so the next run sends it
        spool = forwarder.spool if forwarder is not None else Spool(
            os.path.join(base, "queue", "misp-correlator"), DEFAULT_SPOOL_MAX_BYTES, log)
        for line in lines[handled:]:
            problem = spool.append(line)
            if problem:
                log.error("alert lost: %s" % problem)
    finally:
        if forwarder is not None:
            forwarder.close()
    return EXIT_OK


if __name__ == "__main__":
    try:
        code = main(sys.argv)
    except Exception:
        # never let a traceback (which could quote the arguments) reach integratord's log unmasked
        fallback = Log()
        fallback.add_secret(sys.argv[2] if len(sys.argv) > 2 else "")
        fallback.open(wazuh_dir())
        fallback.exception("unexpected error")
        code = EXIT_OK
    sys.exit(code)

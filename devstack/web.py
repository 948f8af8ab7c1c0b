"""The live ticker page: a loopback HTTP server for web/ and the stack's config.json.

`WebServer` writes config.json (the AppSync endpoints and API key of the local
stack) into its state directory and runs this module as a subprocess, which
serves web/ with that one file added. `python -m http.server` serves a single
directory, so it cannot add the generated file.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import signal
import socket
import sys
import urllib.error
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import structlog

from devstack.config import HOST, REPO_ROOT, StackConfig
from devstack.processes import StackError, port_is_open, running_pid, start_detached, stop_process, wait_until

WEB_DIR = REPO_ROOT / "web"
CONFIG_PATH = "/config.json"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0

# Explicit types, because /etc/mime.types differs between systems and a browser
# refuses an ES module served with a non-JavaScript type.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".md": "text/plain; charset=utf-8",
}


class WebServer:
    """The page server of the local stack, on 127.0.0.1:config.web_port."""

    def __init__(self, config: StackConfig):
        self.config = config
        self.home = config.state_dir / "web"
        self.config_file = self.home / "config.json"
        self.log_file = self.home / "server.log"
        self.pid_file = self.home / "server.pid"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.config.web_port}/"

    def write_page_config(self) -> None:
        """Write config.json with the endpoints and key the page connects with."""
        self.home.mkdir(parents=True, exist_ok=True)
        page_config = {
            "graphqlUrl": self.config.graphql_url,
            "realtimeUrl": self.config.realtime_url,
            "apiKey": self.config.appsync_api_key,
        }
        self.config_file.write_text(json.dumps(page_config, indent=2) + "\n")

    def start(self) -> bool:
        """Start the server unless it runs already. Return True when this call started it.

        config.json is rewritten either way; the server reads it on every request.
        """
        port = self.config.web_port
        self.write_page_config()
        if running_pid(self.pid_file) is not None and port_is_open(HOST, port):
            return False
        if port_is_open(HOST, port):
            raise StackError(f"port {port} on {HOST} is in use by another process; stop it or set DEVSTACK_WEB_PORT to a free port")
        pid = start_detached(
            [
                sys.executable, "-m", "devstack.web",
                "--host", HOST,
                "--port", str(port),
                "--web-dir", str(WEB_DIR),
                "--config-file", str(self.config_file),
            ],
            log_file=self.log_file, pid_file=self.pid_file, cwd=REPO_ROOT,
        )
        wait_until(self._is_ready, START_TIMEOUT_S, "the web page server", self.log_file, pid)
        return True

    def _is_ready(self) -> bool:
        if not port_is_open(HOST, self.config.web_port):
            return False
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.config.web_port}{CONFIG_PATH}", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> bool:
        return stop_process(self.pid_file, timeout_s=STOP_TIMEOUT_S)

    def is_running(self) -> bool:
        return running_pid(self.pid_file) is not None


# ---------------------------------------------------------------------------
# The server process: python -m devstack.web


class PageRequestHandler(SimpleHTTPRequestHandler):
    """Serve files of the web directory, and config.json from the state directory."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}

    def __init__(self, *args, config_file: Path, **kwargs):
        self.config_file = config_file
        super().__init__(*args, **kwargs)

    def send_head(self):
        if self.path.split("?", 1)[0] == CONFIG_PATH:
            return self._send_config_head()
        return super().send_head()

    def _send_config_head(self):
        try:
            handle = open(self.config_file, "rb")
        except FileNotFoundError:
            self.send_error(404, f"{self.config_file} is missing; start the stack with bin/stack start, which writes it")
            return None
        size = os.fstat(handle.fileno()).st_size
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES[".json"])
        self.send_header("Content-Length", str(size))
        self.end_headers()
        return handle

    def list_directory(self, path):
        # The page needs no listings, and a listing would show whatever else lies in web/.
        self.send_error(404, "Directory listings are disabled; open /index.html")
        return None

    def end_headers(self):
        # The stack rewrites config.json and developers edit web/, so browsers must revalidate.
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format, *args):
        structlog.get_logger().info("http_request", client=self.client_address[0], message=format % args)


def _configure_logging() -> None:
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )


def _loopback_host(value: str) -> str:
    try:
        loopback = ipaddress.ip_address(value).is_loopback
    except ValueError:
        loopback = value == "localhost"
    if not loopback:
        raise argparse.ArgumentTypeError(f"{value} is not a loopback address; use 127.0.0.1, ::1 or localhost")
    return value


class _ThreadingHTTPServerV6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _stop_on_sigterm(signum, frame):
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.web", description="Serve the live ticker page and its config.json on a loopback address.")
    parser.add_argument("--host", type=_loopback_host, default=HOST, help=f"loopback address to listen on (default {HOST})")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument("--web-dir", type=Path, default=WEB_DIR, help=f"folder with index.html (default {WEB_DIR})")
    parser.add_argument("--config-file", type=Path, required=True, help="the config.json to serve at /config.json")
    args = parser.parse_args(argv)

    _configure_logging()
    log = structlog.get_logger()
    if not (args.web_dir / "index.html").is_file():
        log.error("web_dir_invalid", web_dir=str(args.web_dir), reason="index.html not found")
        return 1
    handler = partial(PageRequestHandler, directory=str(args.web_dir), config_file=args.config_file)
    try:
        server_class = _ThreadingHTTPServerV6 if ":" in args.host else ThreadingHTTPServer
        server = server_class((args.host, args.port), handler)
    except OSError as error:
        log.error("listen_failed", host=args.host, port=args.port, error=str(error))
        return 1
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    log.info("web_server_started", url=f"http://{args.host}:{args.port}/", web_dir=str(args.web_dir), config_file=str(args.config_file))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        log.info("web_server_stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""A token server as Distribution 2.8 expects one, for the benchmark.

Issues RS256 JWTs whose header carries x5c with the signing certificate (the
registry checks it against auth.token.rootcertbundle). The benchmark user gets
every action it asks for; anonymous callers get pull only.

usage: token_server.py PORT CERT KEY USER PASSWORD
"""
import base64
import json
import ssl
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key

PORT, CERT, KEY, USER, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
SERVICE, ISSUER = "regctl-bench", "regctl-bench-issuer"
with open(CERT, "rb") as f:
    X5C = base64.b64encode(x509.load_pem_x509_certificate(f.read()).public_bytes(Encoding.DER)).decode()
with open(KEY, "rb") as f:
    # Loaded once: parsing an RSA key is far slower than signing with it.
    SIGNING_KEY = load_pem_private_key(f.read(), password=None)
EXPECTED = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's algorithm
    # and the client's delayed ACK add 40 ms to every token.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        auth = self.headers.get("Authorization")
        if auth is not None and auth != EXPECTED:
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED"}]})
        logged_in = auth == EXPECTED
        access = []
        for scope in parse_qs(urlparse(self.path).query).get("scope", []):
            parts = scope.split(":")
            if len(parts) < 3:
                continue
            kind, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
            granted = [a for a in actions if logged_in or a == "pull"]
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": USER if logged_in else "", "aud": SERVICE, "exp": now + 3600,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        token = jwt.encode(claims, SIGNING_KEY, algorithm="RS256", headers={"x5c": [X5C]})
        self.reply(200, {"token": token, "expires_in": 3600})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERT, KEY)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()

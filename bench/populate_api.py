#!/usr/bin/python3
"""Populates a registry over the distribution API (plain HTTP, no auth): REPOS
repositories (bench/teamNN/appNNNN) x TAGS tags, each tag its own small image
(a config blob, one shared layer). Monolithic uploads, 8 threads, kept-alive
connections.

usage: populate_api.py HOST:PORT REPOS TAGS
"""
import hashlib
import http.client
import json
import sys
from concurrent.futures import ThreadPoolExecutor

host, repos, tags = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
LAYER = b"regctl benchmark layer\n"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def request(conn, method, path, body=b"", headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status >= 300:
        raise RuntimeError(f"{method} {path}: {resp.status} {data[:200]!r}")
    return resp


def upload(conn, repo, data):
    d = digest(data)
    resp = request(conn, "POST", f"/v2/{repo}/blobs/uploads/")
    location = resp.getheader("Location")
    if location.startswith("http"):
        location = "/" + location.split("/", 3)[3]
    sep = "&" if "?" in location else "?"
    request(conn, "PUT", f"{location}{sep}digest={d}", data,
            {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
    return d


def populate(indexes):
    conn = http.client.HTTPConnection(host)
    for i in indexes:
        repo = f"bench/team{i % 10:02d}/app{i:04d}"
        layer = upload(conn, repo, LAYER)
        for t in range(tags):
            config = json.dumps({"architecture": "amd64", "os": "linux", "created": f"2024-01-{t % 28 + 1:02d}T00:00:00Z",
                                 "rootfs": {"type": "layers", "diff_ids": [layer]}, "config": {"Labels": {"i": f"{i}-{t}"}}}).encode()
            cfg = upload(conn, repo, config)
            manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                   "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": len(config)},
                                   "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": len(LAYER)}]}).encode()
            request(conn, "PUT", f"/v2/{repo}/manifests/v{t}", manifest,
                    {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})


# A failed push ends the script with its status (a thread's exception would not).
with ThreadPoolExecutor(8) as pool:
    for done in [pool.submit(populate, range(k, repos, 8)) for k in range(8)]:
        done.result()

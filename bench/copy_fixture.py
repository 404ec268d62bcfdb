#!/usr/bin/python3
"""Writes the copy benchmark's fixture straight into Distribution's filesystem storage.

usage: copy_fixture.py ROOT REPOSITORIES IMAGES_PER_REPOSITORY OUT_JSON [BIG_MIB]

Repositories bench/teamNN/appNN, each with IMAGES images tagged v1..vN (and
`latest` on the last): every image has one of three shared base layers (2 MiB,
random) and a layer of its own (64-320 KiB, random); every fifth image is a
multi-arch OCI index over two platform images; every third image has a cosign
signature (`sha256-<hex>.sig`, a small OCI manifest with its own layer). With
BIG_MIB, repository big/app holds one image whose single layer is that many
MiB. OUT_JSON gets what a copy of it asks: repositories, tags with their
digests, manifests by digest.
"""
import gzip
import hashlib
import json
import os
import sys

root, repos, images = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out_json = sys.argv[4]
big_mib = int(sys.argv[5]) if len(sys.argv) > 5 else 0
v2 = os.path.join(root, "docker", "registry", "v2")
written = set()
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def blob(data):
    digest = hashlib.sha256(data).hexdigest()
    if digest not in written:
        write(os.path.join(v2, "blobs", "sha256", digest[:2], digest, "data"), data)
        written.add(digest)
    return "sha256:" + digest


def link(repo, kind, digest):
    write(os.path.join(v2, "repositories", repo, kind, "sha256", digest[7:], "link"), digest.encode())


def tag(repo, name, digest):
    base = os.path.join(v2, "repositories", repo, "_manifests", "tags", name)
    write(os.path.join(base, "current", "link"), digest.encode())
    write(os.path.join(base, "index", "sha256", digest[7:], "link"), digest.encode())


def layer_in(repo, data):
    digest = blob(data)
    link(repo, "_layers", digest)
    return {"mediaType": OCI_LAYER, "size": len(data), "digest": digest}


def manifest_in(repo, body):
    data = json.dumps(body).encode()
    digest = blob(data)
    link(repo, os.path.join("_manifests", "revisions"), digest)
    return digest, len(data)


def gz(data):
    """Layers are real gzip (of random bytes): a copier that recompresses what is
    not what its media type says would otherwise change their digests."""
    return gzip.compress(data, compresslevel=1, mtime=0)


BASES = [gz(os.urandom(2 * 1024 * 1024)) for _ in range(3)]


def image(repo, n, arch):
    own = layer_in(repo, gz(os.urandom(64 * 1024 * (1 + n % 5))))
    base = layer_in(repo, BASES[n % 3])
    config = json.dumps({"architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
                         "config": {"Labels": {"seed": f"{repo}/{n}/{arch}"}},
                         "rootfs": {"type": "layers", "diff_ids": [base["digest"], own["digest"]]}}).encode()
    config_desc = layer_in(repo, config)
    config_desc["mediaType"] = OCI_CONFIG
    return manifest_in(repo, {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                              "config": config_desc, "layers": [base, own]})


def signature(repo, subject):
    payload = layer_in(repo, json.dumps({"critical": {"image": {"docker-manifest-digest": subject}}}).encode())
    payload["mediaType"] = "application/vnd.dev.cosign.simplesigning.v1+json"
    config = layer_in(repo, b"{}")
    config["mediaType"] = OCI_CONFIG
    return manifest_in(repo, {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                              "config": config, "layers": [payload]})


listing = {"repositories": {}}
for r in range(repos):
    repo = f"bench/team{r // 10:02d}/app{r:02d}"
    tags = {}
    for n in range(images):
        if n % 5 == 0:
            children = [image(repo, n, arch) for arch in ("amd64", "arm64")]
            digest, size = manifest_in(repo, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": d, "size": s,
                 "platform": {"os": "linux", "architecture": a}}
                for (d, s), a in zip(children, ("amd64", "arm64"))]})
        else:
            digest, size = image(repo, n, "amd64")
        tags[f"v{n + 1}"] = digest
        if n == images - 1:
            tags["latest"] = digest
        if n % 3 == 0:
            sig, _ = signature(repo, digest)
            tags["sha256-" + digest[7:] + ".sig"] = sig
    for name, digest in tags.items():
        tag(repo, name, digest)
    listing["repositories"][repo] = tags

if big_mib:
    repo = "big/app"
    path = os.path.join(root, "big-layer.tmp")
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as f:
        for _ in range(big_mib):
            f.write(os.urandom(1024 * 1024))
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    digest = "sha256:" + h.hexdigest()
    big_size = os.path.getsize(path)
    dest = os.path.join(v2, "blobs", "sha256", digest[7:9], digest[7:], "data")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    os.replace(path, dest)
    link(repo, "_layers", digest)
    config = layer_in(repo, json.dumps({"architecture": "amd64", "os": "linux",
                                         "rootfs": {"type": "layers", "diff_ids": [digest]}}).encode())
    config["mediaType"] = OCI_CONFIG
    manifest, _ = manifest_in(repo, {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config,
                                     "layers": [{"mediaType": OCI_LAYER, "size": big_size,
                                                 "digest": digest}]})
    tag(repo, "v1", manifest)

with open(out_json, "w") as f:
    json.dump(listing, f)
print(sum(len(t) for t in listing["repositories"].values()))

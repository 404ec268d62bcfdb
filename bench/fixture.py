#!/usr/bin/python3
"""Writes a registry fixture straight into Distribution's filesystem storage layout.

usage: fixture.py ROOT REPOSITORIES TAGS_PER_REPOSITORY IMAGES_PER_REPOSITORY

Repositories are nested (bench/teamNN/appNNNN). In each, the tags point at
IMAGES_PER_REPOSITORY distinct images, so several tags share a digest whenever
TAGS > IMAGES; every tenth repository's first image is a multi-arch OCI index
over two platform images. Prints the number of tags written.
"""
import hashlib
import json
import os
import sys

root, repos, tags_per_repo, images_per_repo = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
v2 = os.path.join(root, "docker", "registry", "v2")
written_blobs = set()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def blob(data):
    digest = hashlib.sha256(data).hexdigest()
    if digest not in written_blobs:
        write(os.path.join(v2, "blobs", "sha256", digest[:2], digest, "data"), data)
        written_blobs.add(digest)
    return "sha256:" + digest


def link(repo, kind, digest):
    write(os.path.join(v2, "repositories", repo, kind, "sha256", digest[7:], "link"), digest.encode())


LAYER = b"regctl benchmark layer\n"


def image(repo, seed, arch):
    layer = blob(LAYER)
    link(repo, "_layers", layer)
    config = json.dumps({"architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
                         "config": {"Labels": {"seed": seed}},
                         "rootfs": {"type": "layers", "diff_ids": [layer]}}).encode()
    config_digest = blob(config)
    link(repo, "_layers", config_digest)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                      "size": len(config), "digest": config_digest},
                           "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                       "size": len(LAYER), "digest": layer}]}).encode()
    digest = blob(manifest)
    link(repo, os.path.join("_manifests", "revisions"), digest)
    return digest, len(manifest)


def index(repo, seed):
    children = []
    for arch in ("amd64", "arm64"):
        digest, size = image(repo, seed, arch)
        children.append({"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": size,
                         "digest": digest, "platform": {"os": "linux", "architecture": arch}})
    data = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": children}).encode()
    digest = blob(data)
    link(repo, os.path.join("_manifests", "revisions"), digest)
    return digest


count = 0
for r in range(repos):
    repo = f"bench/team{r % 20:02d}/app{r:05d}"
    digests = []
    for i in range(images_per_repo):
        seed = f"{repo}-{i}"
        digests.append(index(repo, seed) if r % 10 == 0 and i == 0 else image(repo, seed, "amd64")[0])
    for t in range(tags_per_repo):
        digest = digests[t % images_per_repo]
        tag_dir = os.path.join(v2, "repositories", repo, "_manifests", "tags", f"v{t}")
        write(os.path.join(tag_dir, "current", "link"), digest.encode())
        write(os.path.join(tag_dir, "index", "sha256", digest[7:], "link"), digest.encode())
        count += 1
print(count)

#-*- coding:utf-8 -*-
# The seed's listing script with the one change it needs to be correct: follow
# the catalog's and tag lists' Link headers to the last page. Still sequential,
# one request at a time: the honest baseline.

import requests
import os

repo_ip = os.environ['SEED_IP']
repo_port = int(os.environ['SEED_PORT'])
auth = (os.environ['SEED_USER'], os.environ['SEED_PASSWORD'])
base = "https://" + repo_ip + ":" + str(repo_port)
session = requests.Session()

def pages(url, key):
    while url:
        res = session.get(url, auth=auth)
        res.raise_for_status()
        yield from (res.json().get(key) or [])
        nxt = res.links.get('next', {}).get('url')
        url = requests.compat.urljoin(url, nxt) if nxt else None

for name in pages(base + "/v2/_catalog", 'repositories'):
    for tag in pages(base + "/v2/" + name + "/tags/list", 'tags'):
        print(repo_ip + ":" + str(repo_port) + "/" + name + ":" + tag)

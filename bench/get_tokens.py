#!/usr/bin/python3
"""Fetches one pull token per repository from the token server and writes them as
a Lua table for wrk: tokens["repo"] = "jwt".

usage: get_tokens.py REALM SERVICE USER PASSWORD CA [ACTIONS] < repositories > tokens.lua

ACTIONS defaults to `pull`; `pull,delete` gives tokens that may delete too.
"""
import sys

import requests

realm, service, user, password, ca = sys.argv[1:6]
actions = sys.argv[6] if len(sys.argv) > 6 else "pull"
session = requests.Session()
print("tokens = {}")
for line in sys.stdin:
    repo = line.strip()
    if not repo:
        continue
    scopes = [("scope", f"repository:{repo}:{actions}")]
    res = session.get(realm, params=[("service", service)] + scopes, auth=(user, password), verify=ca)
    res.raise_for_status()
    print(f'tokens["{repo}"] = "{res.json()["token"]}"')

#!/usr/bin/python3
"""Fetches one pull token per repository from the token server and writes them as
a Lua table for wrk: tokens["repo"] = "jwt".

usage: get_tokens.py REALM SERVICE USER PASSWORD CA < repositories > tokens.lua
"""
import sys

import requests

realm, service, user, password, ca = sys.argv[1:6]
session = requests.Session()
print("tokens = {}")
for line in sys.stdin:
    repo = line.strip()
    if not repo:
        continue
    scopes = [("scope", f"repository:{repo}:pull")]
    res = session.get(realm, params=[("service", service)] + scopes, auth=(user, password), verify=ca)
    res.raise_for_status()
    print(f'tokens["{repo}"] = "{res.json()["token"]}"')

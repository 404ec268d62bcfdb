#-*- coding:utf-8 -*-
# The listing script from the seed blog post, as written; only the four
# constants come from the environment so the benchmark can point it at its
# registry (REQUESTS_CA_BUNDLE makes requests trust the self-signed certificate).
# Like the original, it reads one catalog page: Distribution's default page is
# 100 repositories, so it stops there.

import requests
import json
import os

repo_ip = os.environ['SEED_IP']
repo_port = int(os.environ['SEED_PORT'])
auth_name = os.environ['SEED_USER']
auth_password = os.environ['SEED_PASSWORD']

def getImagesNames(repo_ip,repo_port):
    docker_images = []
    try:
        url = "https://" + repo_ip + ":" +str(repo_port) + "/v2/_catalog"
        res =requests.get(url, auth=(auth_name, auth_password)).content.strip()
        res_dic = json.loads(res)
        images_type = res_dic['repositories']
        for i in images_type:
            url2 = "https://" + repo_ip + ":" +str(repo_port) +"/v2/" + str(i) + "/tags/list"
            res2 = requests.get(url2, auth=(auth_name, auth_password)).content.strip()
            res_dic2 = json.loads(res2)
            name = res_dic2['name']
            tags = res_dic2['tags']
            if tags:
                for tag in tags:
                    docker_name = str(repo_ip) + ":" + str(repo_port) + "/" + name + ":" + tag
                    docker_images.append(docker_name)
                    print(docker_name)
            else:
                pass
    except Exception as e:
        print(e)

    return docker_images

getImagesNames(repo_ip, repo_port)

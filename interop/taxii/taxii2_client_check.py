"""Drives a running Vigil hub with the OASIS taxii2-client and stix2 libraries.

Usage: python taxii2_client_check.py BASE_URL ADMIN_TOKEN

Creates a user, a token and a collection through the hub's admin API, then
uses taxii2-client (HTTP Basic: user name + token) to list, add, page,
filter, read versions and delete, and stix2 to build and parse the objects.
Prints one line per check and a JSON summary; exits 1 on the first failure.
"""

import json
import sys
import time

import requests
import stix2
from taxii2client.v21 import Server, as_pages

checks = []


def check(name, cond, detail=""):
    checks.append(name)
    if not cond:
        print(f"FAIL {name}: {detail}", flush=True)
        sys.exit(1)
    print(f"ok   {name}", flush=True)


def main():
    base, admin = sys.argv[1].rstrip("/"), sys.argv[2]
    h = {"Authorization": f"Bearer {admin}"}
    org = requests.post(f"{base}/admin/v1/orgs", json={"name": "Interop Lab", "kind": "civil-society"}, headers=h).json()
    user = requests.post(f"{base}/admin/v1/users", json={"name": "interop", "org_id": org["id"], "role": "contributor"}, headers=h).json()
    token = requests.post(f"{base}/admin/v1/users/{user['id']}/tokens", json={"label": "interop"}, headers=h).json()["token"]
    coll = requests.post(f"{base}/admin/v1/collections", json={"title": "Interop", "alias": "interop"}, headers=h).json()
    r = requests.put(f"{base}/admin/v1/collections/{coll['id']}/grants",
                     json={"subject": {"kind": "org", "id": org["id"]}, "can_read": True, "can_write": True}, headers=h)
    check("admin api sets a grant", r.status_code == 204, r.text)

    server = Server(f"{base}/taxii2/", user="interop", password=token)
    check("discovery title", server.title == "Vigil hub", server.title)
    root = server.default
    check("default api root", root is not None and root.versions == ["application/taxii+json;version=2.1"])
    colls = {c.alias: c for c in root.collections}
    check("collection listed with permissions", "interop" in colls and colls["interop"].can_write and colls["interop"].can_read,
          str(list(colls)))
    c = colls["interop"]

    green = stix2.TLP_GREEN
    malware = stix2.Malware(name="Pegasus", is_family=True, object_marking_refs=[green])
    indicators = [
        stix2.Indicator(pattern=f"[domain-name:value = 'spy{i}.example']", pattern_type="stix",
                        valid_from="2021-07-18T00:00:00Z", object_marking_refs=[green])
        for i in range(7)
    ]
    rels = [stix2.Relationship(i, "indicates", malware, object_marking_refs=[green]) for i in indicators]
    bundle = stix2.Bundle(malware, *indicators, *rels)
    status = c.add_objects({"objects": json.loads(bundle.serialize())["objects"]})
    check("add: status complete", status.status == "complete", status.status)
    check("add: every object succeeded", status.success_count == 15 and status.failure_count == 0,
          f"{status.success_count} ok, {status.failure_count} failed")
    again = c.add_objects({"objects": [json.loads(malware.serialize())]})
    check("add: duplicate counted as success", again.success_count == 1 and again.failure_count == 0)

    env = c.get_objects()
    got = {o["id"] for o in env["objects"]}
    check("list: every object", got == {o.id for o in bundle.objects}, str(len(got)))
    parsed = [stix2.parse(o, allow_custom=False) for o in env["objects"]]
    check("list: stix2 parses every object", len(parsed) == 15)

    pages = list(as_pages(c.get_objects, per_request=4))
    paged = [o["id"] for p in pages for o in p.get("objects", [])]
    check("page: four per page", len(pages) == 4 and all(len(p.get("objects", [])) <= 4 for p in pages), str(len(pages)))
    check("page: every object once", sorted(paged) == sorted(got))

    only = c.get_objects(type="malware")
    check("filter: match[type]", [o["id"] for o in only["objects"]] == [malware.id])
    some = c.get_objects(id=[indicators[0].id, indicators[1].id])
    check("filter: match[id]", {o["id"] for o in some["objects"]} == {indicators[0].id, indicators[1].id})
    manifest = c.get_manifest(type="relationship")
    check("manifest: filtered records", len(manifest["objects"]) == 7 and all("date_added" in m for m in manifest["objects"]))

    time.sleep(0.01)
    newer = malware.new_version(description="Sold by NSO Group")
    st = c.add_objects({"objects": [json.loads(newer.serialize())]})
    check("versions: new version added", st.success_count == 1)
    vers = c.object_versions(malware.id)
    check("versions: both listed", len(vers["versions"]) == 2, json.dumps(vers))
    latest = c.get_object(malware.id)
    check("object: latest version by default", latest["objects"][0]["modified"] == vers["versions"][-1])
    first = c.get_object(malware.id, version="first")
    check("object: match[version]=first", first["objects"][0]["modified"] == vers["versions"][0])
    everything = c.get_object(malware.id, version="all")
    check("object: match[version]=all", len(everything["objects"]) == 2)

    after = c.get_objects(added_after=manifest["objects"][-1]["date_added"])
    check("filter: added_after", any(o["id"] == malware.id for o in after["objects"]))

    c.delete_object(indicators[0].id)
    try:
        c.get_object(indicators[0].id)
        check("delete: object gone", False, "still readable")
    except requests.exceptions.HTTPError as e:
        check("delete: object gone", e.response.status_code == 404, str(e))

    anon = Server(f"{base}/taxii2/")
    try:
        anon.default.collections
        hidden = all(col.alias != "interop" for col in anon.default.collections)
        check("anonymous: private collection hidden", hidden)
    except requests.exceptions.HTTPError as e:
        check("anonymous: private collection hidden", e.response.status_code == 401)

    print(json.dumps({"checks": len(checks)}))


if __name__ == "__main__":
    main()

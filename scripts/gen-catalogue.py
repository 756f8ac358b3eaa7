#!/usr/bin/env python3
"""Generate the host's operation catalogue from botocore's service models.

For each service, the newest API version's model is cut down to what the
host's serializers, parsers, signer and paginator use, and written as
host/catalogue/<service>.json.gz:

- metadata: protocol(s), API version, endpoint prefix, signing name, target
  prefix, JSON version, and the global endpoint of each partition for the
  services that have one (IAM, CloudFront, Route 53, Organizations...), from
  botocore's endpoints.json;
- operations: the HTTP binding (method, request URI, response code), the
  host prefix, and the input and output references (shape, result wrapper,
  XML root name and namespace);
- shapes, with only the traits the wire protocols need: prose, enums,
  limits, patterns and error metadata are dropped;
- paginators.

The botocore version is recorded in host/catalogue/SOURCE; regenerate with
that version (pip install botocore==<version>) to get byte-identical files.

Usage: python3 scripts/gen-catalogue.py [OUT_DIR]
"""
import gzip
import json
import os
import sys

import botocore

BOTOCORE_VERSION = "1.44.8"

KEEP_META = (
    "protocol", "protocols", "apiVersion", "endpointPrefix", "signingName",
    "targetPrefix", "jsonVersion", "serviceId", "xmlNamespace",
    "awsQueryCompatible",
)
KEEP_HTTP = ("method", "requestUri", "responseCode")
KEEP_REF = ("shape", "resultWrapper", "locationName", "xmlNamespace")
KEEP_SHAPE = (
    "type", "members", "member", "key", "value", "required", "flattened",
    "locationName", "timestampFormat", "exception", "payload", "union",
    "document", "event", "eventstream", "streaming", "xmlNamespace",
    "wrapper", "sparse",
)
KEEP_MEMBER = (
    "shape", "location", "locationName", "queryName", "flattened",
    "xmlAttribute", "xmlNamespace", "jsonvalue", "idempotencyToken",
    "hostLabel", "streaming", "eventpayload",
)
KEEP_PAGINATOR = (
    "input_token", "output_token", "limit_key", "result_key", "more_results",
    "non_aggregate_keys",
)
# Partitions whose global endpoints are carried; others use regional names.
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


def pick(node, keys):
    return {k: node[k] for k in keys if k in node}


def member(ref):
    return pick(ref, KEEP_MEMBER)


def shape(node):
    out = pick(node, KEEP_SHAPE)
    if "members" in out:
        out["members"] = {n: member(m) for n, m in out["members"].items()}
    for key in ("member", "key", "value"):
        if key in out:
            out[key] = member(out[key])
    return out


def operation(op):
    entry = {"http": pick(op.get("http", {}), KEEP_HTTP)}
    for key in ("input", "output"):
        if key in op:
            entry[key] = pick(op[key], KEEP_REF)
    host_prefix = op.get("endpoint", {}).get("hostPrefix")
    if host_prefix:
        entry["http"]["hostPrefix"] = host_prefix
    return entry


def global_endpoints(endpoints, prefix):
    """Partition -> {hostname, signingRegion} for non-regional services."""
    found = {}
    for partition in endpoints["partitions"]:
        name = partition["partition"]
        service = partition["services"].get(prefix)
        if name not in PARTITIONS or not service:
            continue
        if service.get("isRegionalized", True) or "partitionEndpoint" not in service:
            continue
        endpoint = service.get("endpoints", {}).get(service["partitionEndpoint"], {})
        hostname = endpoint.get("hostname")
        region = endpoint.get("credentialScope", {}).get("region")
        if hostname and region:
            found[name] = {"hostname": hostname, "signingRegion": region}
    return found


def newest(service_dir):
    versions = sorted(d for d in os.listdir(service_dir)
                      if os.path.isdir(os.path.join(service_dir, d)))
    return os.path.join(service_dir, versions[-1]) if versions else None


def load(path):
    if os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz", "rt", encoding="utf-8") as f:
            return json.load(f)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return None


def write_gz(target, text):
    # mtime=0 and no file name keep regenerated files byte-identical.
    with open(target, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                           compresslevel=9, filename="") as f:
            f.write(text.encode("utf-8"))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "host", "catalogue")
    if botocore.__version__ != BOTOCORE_VERSION:
        print(f"warning: botocore {botocore.__version__} is installed; the "
              f"catalogue is pinned to {BOTOCORE_VERSION}", file=sys.stderr)
    data_dir = os.path.join(os.path.dirname(botocore.__file__), "data")
    endpoints = load(os.path.join(data_dir, "endpoints.json"))
    os.makedirs(out_dir, exist_ok=True)
    for old in os.listdir(out_dir):
        if old.endswith(".json.gz"):
            os.remove(os.path.join(out_dir, old))
    count = 0
    for name in sorted(os.listdir(data_dir)):
        version_dir = newest(os.path.join(data_dir, name)) \
            if os.path.isdir(os.path.join(data_dir, name)) else None
        if not version_dir:
            continue
        model = load(os.path.join(version_dir, "service-2.json"))
        if not model or "operations" not in model:
            continue
        pages = load(os.path.join(version_dir, "paginators-1.json")) or {}
        meta = pick(model["metadata"], KEEP_META)
        globals_ = global_endpoints(endpoints, meta["endpointPrefix"])
        if globals_:
            meta["globalEndpoints"] = globals_
        doc = {
            "service": name,
            "metadata": meta,
            "operations": {n: operation(op) for n, op in model["operations"].items()},
            "shapes": {n: shape(s) for n, s in model.get("shapes", {}).items()},
            "paginators": {n: pick(p, KEEP_PAGINATOR)
                           for n, p in pages.get("pagination", {}).items()},
        }
        blob = json.dumps(doc, separators=(",", ":"), sort_keys=True)
        write_gz(os.path.join(out_dir, name + ".json.gz"), blob)
        count += 1
    with open(os.path.join(out_dir, "SOURCE"), "w", encoding="utf-8") as f:
        f.write(f"botocore {botocore.__version__}, {count} services, "
                "generated by scripts/gen-catalogue.py\n")
    print(f"wrote {count} services from botocore {botocore.__version__} "
          f"to {os.path.normpath(out_dir)}")


if __name__ == "__main__":
    main()

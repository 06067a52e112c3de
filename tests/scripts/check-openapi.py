#!/usr/bin/env python3
"""Keeps docs/openapi.yaml honest against the code.

1. The document itself: `openapi: 3.1.x`, every `$ref` resolves, every operation has a
   unique operationId, responses, an `x-contract`, declared tags, and its path
   parameters match the template.
2. The routes: every (method, path) that tg-sandbox's router serves
   (crates/tg-sandbox/src/routes.rs, axum `.route("/p/{x}", get(..).post(..))`) is in the
   document, and the document describes no route that is not served.
3. The operations: every tg-core operation name (`OpKind::name` in
   crates/tg-core/src/api.rs) is the `x-operation` of exactly one operation, with the
   HTTP method `OpKind::method` gives it.

Usage: tests/scripts/check-openapi.py [REPO_ROOT]   (default: two levels above this file)
Needs python3 and PyYAML (Debian: python3-yaml). Exits 1 naming every problem found.
"""

import re
import sys
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("check-openapi: PyYAML is missing (apt-get install python3-yaml)")

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CONTRACTS = {"documented", "extension", "sandbox"}
RAW_STRING = re.compile(r'r(#*)"')
CHAR_LITERAL = re.compile(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Problems:
    def __init__(self):
        self.items = []

    def add(self, msg):
        self.items.append(msg)


# --------------------------------------------------------------------- Rust source


def strip_rust_comments(src):
    """Removes // and /* */ comments, leaving string and char literals intact (so a
    "http://..." in a string is not taken for a comment)."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            out.append(" ")
        elif c == "r" and RAW_STRING.match(src, i) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = RAW_STRING.match(src, i)
            end = src.find('"' + m.group(1), i + len(m.group(0)))
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append(src[i:end])
            i = end
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            out.append(src[i : j + 1])
            i = j + 1
        elif c == "'":
            # A char literal ('x', '\n', '\u{..}') or a lifetime ('a): copy either whole.
            m = CHAR_LITERAL.match(src, i)
            if m:
                out.append(m.group(0))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def balanced(text, open_at):
    """Index just past the bracket closing the one at `open_at` (strings skipped)."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = []
    i = open_at
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "'":
            m = CHAR_LITERAL.match(text, i)
            if m:
                i += len(m.group(0)) - 1
        elif c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if not stack or stack.pop() != c:
                raise ValueError(f"unbalanced '{c}' at offset {i}")
            if not stack:
                return i + 1
        i += 1
    raise ValueError(f"no closing bracket for offset {open_at}")


def top_level_calls(expr):
    """Names called at the outermost level of an expression: `put(a).get(b)` → put, get."""
    names = []
    i = 0
    while i < len(expr):
        m = IDENT.match(expr, i)
        if m:
            j = m.end()
            while j < len(expr) and expr[j].isspace():
                j += 1
            if j < len(expr) and expr[j] == "(":
                names.append(m.group(0))
                i = balanced(expr, j)
                continue
            i = m.end()
            continue
        if expr[i] in "([{":
            i = balanced(expr, i)
            continue
        i += 1
    return names


def served_routes(routes_rs, problems):
    """{(METHOD, path)} from the axum router in routes.rs."""
    src = strip_rust_comments(routes_rs.read_text(encoding="utf-8"))
    routes = set()
    for m in re.finditer(r"\.\s*(route|nest|nest_service|route_service|merge)\s*\(", src):
        kind = m.group(1)
        end = balanced(src, m.end() - 1)
        inner = src[m.end() : end - 1]
        if kind != "route":
            problems.add(
                f"{routes_rs}: .{kind}(...) is not understood by this check; "
                "teach tests/scripts/check-openapi.py how to read it"
            )
            continue
        pm = re.match(r'\s*"((?:[^"\\]|\\.)*)"\s*,', inner)
        if not pm:
            problems.add(f"{routes_rs}: a .route(...) whose path is not a string literal: {inner.strip()[:60]}")
            continue
        path = pm.group(1)
        methods = [n for n in top_level_calls(inner[pm.end() :]) if n in HTTP_METHODS or n in ("any", "on")]
        if not methods:
            problems.add(f"{routes_rs}: route {path} has no get/post/put/delete/patch handler this check can see")
        for name in methods:
            if name in ("any", "on"):
                problems.add(f"{routes_rs}: route {path} uses {name}(..); name the methods so they can be documented")
                continue
            routes.add((name.upper(), path))
    if not routes:
        problems.add(f"{routes_rs}: no .route(...) found — has the router moved?")
    return routes


def tg_core_operations(api_rs, problems):
    """{name: METHOD} for every OpKind, from `fn name` and `fn method` in api.rs."""
    src = strip_rust_comments(api_rs.read_text(encoding="utf-8"))

    def fn_body(fn):
        m = re.search(r"\bfn\s+" + fn + r"\s*\(\s*self\s*\)[^{]*\{", src)
        if not m:
            return None
        return src[m.end() - 1 : balanced(src, m.end() - 1)]

    em = re.search(r"\benum\s+OpKind\s*\{", src)
    variants = []
    if em:
        body = src[em.end() : balanced(src, em.end() - 1) - 1]
        variants = re.findall(r"\b([A-Z][A-Za-z0-9]*)\s*(?:,|$)", body)
    names_body, method_body = fn_body("name"), fn_body("method")
    if not (em and names_body and method_body):
        problems.add(f"{api_rs}: cannot find `enum OpKind`, `fn name(self)` and `fn method(self)`")
        return {}
    names = dict(re.findall(r'OpKind::(\w+)\s*=>\s*"([^"]+)"', names_body))
    methods = {}
    for arm in re.finditer(r"((?:\|?\s*OpKind::\w+\s*)+)=>\s*\{?\s*Method::(\w+)", method_body):
        for v in re.findall(r"OpKind::(\w+)", arm.group(1)):
            methods[v] = arm.group(2).upper()
    ops = {}
    for v in variants:
        if v not in names:
            problems.add(f"{api_rs}: OpKind::{v} has no name in `fn name` (or this check cannot read it)")
        elif v not in methods:
            problems.add(f"{api_rs}: OpKind::{v} has no method in `fn method` (or this check cannot read it)")
        else:
            ops[names[v]] = methods[v]
    if not ops:
        problems.add(f"{api_rs}: no operation names found")
    return ops


# --------------------------------------------------------------------- the document


def resolve_pointer(doc, ref):
    if not ref.startswith("#"):
        raise KeyError("only local references (#/...) are allowed")
    node = doc
    for raw in ref[1:].split("/")[1:] if ref != "#" else []:
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise KeyError(f"'{key}' not found")
    return node


def walk_refs(node, where, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out.append((where, v))
            else:
                walk_refs(v, f"{where}/{k}", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_refs(v, f"{where}[{i}]", out)


def deref(doc, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        node = resolve_pointer(doc, node["$ref"])
        seen += 1
    return node


def normalise(path):
    """/a/{id}/b/{x} → /a/{}/b/{}: parameter names differ between the router and the doc."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def check_document(doc, problems):
    version = str(doc.get("openapi", ""))
    if not re.fullmatch(r"3\.1\.\d+", version):
        problems.add(f"openapi is '{version}', expected 3.1.x")
    for key in ("info", "paths", "components"):
        if not isinstance(doc.get(key), dict):
            problems.add(f"top-level '{key}' is missing")

    refs = []
    walk_refs(doc, "#", refs)
    for where, ref in refs:
        try:
            resolve_pointer(doc, ref)
        except KeyError as e:
            problems.add(f"$ref {ref} at {where} does not resolve: {e}")
    referenced = {r for _, r in refs}
    for name in (doc.get("components") or {}).get("schemas") or {}:
        if f"#/components/schemas/{name}" not in referenced:
            problems.add(f"components.schemas.{name} is never referenced")
    for _, schema in ((doc.get("components") or {}).get("schemas") or {}).items():
        mapping = ((schema or {}).get("discriminator") or {}).get("mapping") or {}
        for target in mapping.values():
            try:
                resolve_pointer(doc, target)
            except KeyError as e:
                problems.add(f"discriminator mapping {target} does not resolve: {e}")

    declared_tags = {t.get("name") for t in doc.get("tags") or []}
    op_ids = {}
    documented = set()
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            problems.add(f"paths.{path} is not an object")
            continue
        shared = [deref(doc, p) for p in item.get("parameters") or []]
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            label = f"{method.upper()} {path}"
            documented.add((method.upper(), path))
            check_operation(doc, label, path, op, shared, op_ids, declared_tags, problems)
    for name, item in (doc.get("webhooks") or {}).items():
        for method in HTTP_METHODS:
            if method in item:
                check_operation(doc, f"webhook {name} {method.upper()}", None, item[method], [], op_ids, declared_tags, problems)
    return documented


def check_operation(doc, label, path, op, shared, op_ids, declared_tags, problems):
    oid = op.get("operationId")
    if not oid:
        problems.add(f"{label}: no operationId")
    elif oid in op_ids:
        problems.add(f"{label}: operationId '{oid}' is also used by {op_ids[oid]}")
    else:
        op_ids[oid] = label
    if not op.get("responses"):
        problems.add(f"{label}: no responses")
    contract = op.get("x-contract")
    if contract not in CONTRACTS:
        problems.add(f"{label}: x-contract is {contract!r}, expected one of {sorted(CONTRACTS)}")
    for tag in op.get("tags") or []:
        if tag not in declared_tags:
            problems.add(f"{label}: tag '{tag}' is not declared under top-level tags")
    if path is None:
        return
    # the family a path belongs to decides its contract
    expected = (
        "extension" if path.startswith("/tgx/")
        else "documented" if path.startswith(("/v1/oauth2/", "/TGCommunityServices/", "/visibility_transaction_search"))
        else "sandbox"
    )
    if contract in CONTRACTS and contract != expected:
        problems.add(f"{label}: x-contract is {contract}, expected {expected} for this path")
    if path.startswith("/_sandbox/") and "sandbox-admin" not in (op.get("tags") or []):
        problems.add(f"{label}: sandbox routes carry the tag sandbox-admin")
    params = shared + [deref(doc, p) for p in op.get("parameters") or []]
    in_path = {p.get("name") for p in params if isinstance(p, dict) and p.get("in") == "path"}
    in_template = set(re.findall(r"\{([^}]+)\}", path))
    for name in sorted(in_template - in_path):
        problems.add(f"{label}: path parameter {{{name}}} is not declared")
    for name in sorted(in_path - in_template):
        problems.add(f"{label}: parameter '{name}' is declared in: path but not in the template")
    headers = {
        (p.get("name") or "").lower(): p
        for p in params
        if isinstance(p, dict) and p.get("in") == "header"
    }
    if path.startswith("/tgx/"):
        if "x-tg-tenant" not in headers:
            problems.add(f"{label}: the X-TG-Tenant header parameter is missing")
        key = headers.get("idempotency-key")
        if label.startswith("POST ") and not (key and key.get("required")):
            problems.add(f"{label}: POST needs a required Idempotency-Key header parameter")
        if not label.startswith("GET ") and key is None:
            problems.add(f"{label}: writes accept an Idempotency-Key header parameter")
        for status in ("401", "429"):
            if status not in (op.get("responses") or {}):
                problems.add(f"{label}: no {status} response")


# --------------------------------------------------------------------- main


def main():
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
    spec_path = root / "docs" / "openapi.yaml"
    routes_rs = root / "crates" / "tg-sandbox" / "src" / "routes.rs"
    api_rs = root / "crates" / "tg-core" / "src" / "api.rs"
    problems = Problems()

    for p in (spec_path, routes_rs, api_rs):
        if not p.is_file():
            sys.exit(f"check-openapi: {p} does not exist")
    try:
        doc = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        sys.exit(f"check-openapi: {spec_path} is not valid YAML: {e}")
    if not isinstance(doc, dict):
        sys.exit(f"check-openapi: {spec_path} is not a YAML mapping")

    documented = check_document(doc, problems)

    served = served_routes(routes_rs, problems)
    served_n = {(m, normalise(p)): p for m, p in served}
    doc_n = {}
    for m, p in documented:
        key = (m, normalise(p))
        if key in doc_n:
            problems.add(f"{m} {p} and {m} {doc_n[key]} are the same route")
        doc_n[key] = p
    for key in sorted(set(served_n) - set(doc_n)):
        problems.add(f"served but not in docs/openapi.yaml: {key[0]} {served_n[key]}")
    for key in sorted(set(doc_n) - set(served_n)):
        problems.add(f"in docs/openapi.yaml but not served by routes.rs: {key[0]} {doc_n[key]}")

    ops = tg_core_operations(api_rs, problems)
    carriers = {}
    for path, item in (doc.get("paths") or {}).items():
        for method in HTTP_METHODS:
            op = (item or {}).get(method) if isinstance(item, dict) else None
            if op and op.get("x-operation") is not None:
                carriers.setdefault(str(op["x-operation"]), []).append((method.upper(), path))
    for name, method in sorted(ops.items()):
        found = carriers.get(name, [])
        if not found:
            problems.add(f"tg-core operation '{name}' is not the x-operation of any operation")
        elif len(found) > 1:
            problems.add(f"tg-core operation '{name}' is the x-operation of {len(found)} operations: {found}")
        elif found[0][0] != method:
            problems.add(f"tg-core operation '{name}' is sent as {method} but documented on {found[0][0]} {found[0][1]}")
    for name in sorted(set(carriers) - set(ops)):
        problems.add(f"x-operation '{name}' ({carriers[name]}) is not a tg-core operation")

    if problems.items:
        print(f"check-openapi: {len(problems.items)} problem(s) in {spec_path.relative_to(root)}:", file=sys.stderr)
        for p in problems.items:
            print(f"  - {p}", file=sys.stderr)
        return 1
    n_ops = len(documented)
    print(
        f"check-openapi: OK — OpenAPI {doc['openapi']}, {n_ops} operations on {len(doc['paths'])} paths, "
        f"all {len(served)} served routes documented, all {len(ops)} tg-core operations mapped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Static checks of the Drupal module that need no Drupal: PHP syntax, YAML syntax,
# info.yml keys, classes named in YAML exist, permissions used by routes exist,
# every config/install file has a schema, and config values have the types strict config
# schema checking (on in Kernel and Functional tests) demands. Exits non-zero naming each problem.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODULE="${1:-$ROOT/drupal_module/trading_grid}"
PHP="${PHP:-php}"
PYTHON="${PYTHON:-python3}"
failed=0

say() { printf '%s\n' "$*"; }
problem() { say "lint-module: $*" >&2; failed=1; }

[ -d "$MODULE" ] || { problem "no module at $MODULE"; exit 1; }
command -v "$PHP" >/dev/null || { problem "php not found"; exit 1; }
"$PYTHON" -c 'import yaml' 2>/dev/null || { problem "python3 with PyYAML is needed (apt-get install python3-yaml)"; exit 1; }

# 1. PHP syntax of every PHP file of the module and its tests.
php_files=0
while IFS= read -r -d '' file; do
  php_files=$((php_files + 1))
  if ! out="$("$PHP" -l "$file" 2>&1)"; then
    problem "PHP syntax: ${file#$ROOT/}: $out"
  fi
done < <(find "$MODULE" -type f \( -name '*.php' -o -name '*.module' -o -name '*.install' -o -name '*.inc' -o -name '*.theme' \) -print0)

# 2. Everything else, in Python.
"$PYTHON" - "$MODULE" <<'PY' || failed=1
import os, re, sys, yaml

module = sys.argv[1]
name = os.path.basename(module.rstrip('/'))
problems = []

def rel(p):
    return os.path.relpath(p, os.path.dirname(module))

def load(path):
    try:
        with open(path, encoding='utf-8') as f:
            return yaml.safe_load(f)
    except Exception as e:  # noqa: BLE001 - any parse error is a finding
        problems.append(f"YAML does not parse: {rel(path)}: {e}")
        return None

yamls = {}
for root, _, files in os.walk(module):
    for f in files:
        if f.endswith('.yml') or f.endswith('.yaml'):
            p = os.path.join(root, f)
            yamls[p] = load(p)

def class_file(fqcn, base):
    """The file a PSR-4 class of this module (or a test module) lives in."""
    fqcn = fqcn.lstrip('\\')
    parts = fqcn.split('\\')
    if len(parts) < 3 or parts[0] != 'Drupal':
        return None
    owner = parts[1]
    if owner == 'Tests':
        return os.path.join(module, 'tests', 'src', *parts[3:]) + '.php'
    candidates = [module] + [os.path.join(module, 'tests', 'modules', d) for d in (os.listdir(os.path.join(module, 'tests', 'modules')) if os.path.isdir(os.path.join(module, 'tests', 'modules')) else [])]
    for c in candidates:
        if os.path.basename(c) == owner:
            return os.path.join(c, 'src', *parts[2:]) + '.php'
    return 'external'

def check_class(fqcn, where):
    path = class_file(fqcn, module)
    if path is None:
        problems.append(f"{where}: '{fqcn}' is not a Drupal\\<module>\\... class")
    elif path != 'external' and not os.path.isfile(path):
        problems.append(f"{where}: class {fqcn} has no file ({rel(path)})")
    elif path != 'external':
        short = fqcn.split('\\')[-1]
        with open(path, encoding='utf-8') as f:
            if not re.search(r'\b(class|interface|trait)\s+' + re.escape(short) + r'\b', f.read()):
                problems.append(f"{where}: {rel(path)} does not declare {short}")

# info.yml files: required keys.
for p, data in yamls.items():
    if p.endswith('.info.yml'):
        if not isinstance(data, dict):
            problems.append(f"{rel(p)}: not a mapping"); continue
        for key in ('name', 'type', 'core_version_requirement'):
            if not data.get(key):
                problems.append(f"{rel(p)}: missing '{key}'")
        if data.get('type') != 'module':
            problems.append(f"{rel(p)}: type must be 'module'")
        req = str(data.get('core_version_requirement', ''))
        if '^10.3' not in req or '^11' not in req:
            problems.append(f"{rel(p)}: core_version_requirement should be '^10.3 || ^11', got '{req}'")
        for dep in data.get('dependencies') or []:
            if not re.match(r'^[a-z0-9_]+:[a-z0-9_]+$', str(dep)):
                problems.append(f"{rel(p)}: dependency '{dep}' must be project:module")

info = yamls.get(os.path.join(module, f'{name}.info.yml'))
if not isinstance(info, dict):
    problems.append(f"{name}.info.yml is missing")
    info = {}

# Services: every class exists; every @service reference is defined (or core).
services_file = os.path.join(module, f'{name}.services.yml')
services = (yamls.get(services_file) or {}).get('services') or {}
defined = set(services)
for test_services in [p for p in yamls if p.endswith('.services.yml') and p != services_file]:
    defined |= set(((yamls.get(test_services) or {}).get('services') or {}))
for sid, spec in services.items():
    where = f"{name}.services.yml: {sid}"
    if isinstance(spec, str):
        if spec.startswith('@') and spec[1:] not in defined and spec[1:].startswith(name):
            problems.append(f"{where}: alias to undefined service {spec}")
        continue
    if not isinstance(spec, dict):
        problems.append(f"{where}: not a mapping"); continue
    cls = spec.get('class') or (sid if '\\' in sid else None)
    if cls:
        check_class(cls, where)
    elif 'parent' not in spec:
        problems.append(f"{where}: no class")
    def refs(value):
        if isinstance(value, str) and value.startswith('@') and not value.startswith('@@'):
            yield value.lstrip('@?')
        elif isinstance(value, (list, tuple)):
            for v in value:
                yield from refs(v)
        elif isinstance(value, dict):
            for v in value.values():
                yield from refs(v)
    for ref in list(refs(spec.get('arguments'))) + list(refs(spec.get('factory'))):
        if ref.startswith(name + '.') and ref not in defined:
            problems.append(f"{where}: argument @{ref} is not a service of {name}")

# The PHP code asks the container only for services that exist.
php_sources = []
for root, _, files in os.walk(module):
    for f in files:
        if f.endswith(('.php', '.module', '.install')):
            php_sources.append(os.path.join(root, f))
for p in php_sources:
    with open(p, encoding='utf-8') as f:
        text = f.read()
    for sid in re.findall(r"(?:container->get|::service)\('(" + re.escape(name) + r"\.[a-z0-9_.]+)'\)", text):
        if sid not in defined:
            problems.append(f"{rel(p)}: asks for service '{sid}' which {name}.services.yml does not define")

# Permissions.
perms_file = os.path.join(module, f'{name}.permissions.yml')
permissions = set((yamls.get(perms_file) or {}).keys()) if os.path.exists(perms_file) else set()
core_permissions = {'access content', 'administer site configuration', 'access administration pages', 'bypass node access', 'administer users', 'access user profiles'}

# Routes: controllers and forms exist, permissions exist, access checks are ours.
routing = yamls.get(os.path.join(module, f'{name}.routing.yml')) or {}
route_names = set(routing)
custom_checks = {tag.get('applies_to') for spec in services.values() if isinstance(spec, dict) for tag in (spec.get('tags') or []) if isinstance(tag, dict) and tag.get('name') == 'access_check'}
for rname, route in routing.items():
    where = f"{name}.routing.yml: {rname}"
    if not isinstance(route, dict) or 'path' not in route:
        problems.append(f"{where}: no path"); continue
    defaults = route.get('defaults') or {}
    for key in ('_controller', '_title_callback'):
        if key in defaults:
            target = str(defaults[key])
            if '::' in target:
                cls, method = target.split('::', 1)
                check_class(cls, where)
                path = class_file(cls, module)
                if path and path != 'external' and os.path.isfile(path):
                    with open(path, encoding='utf-8') as f:
                        if not re.search(r'function\s+' + re.escape(method) + r'\s*\(', f.read()):
                            problems.append(f"{where}: {cls} has no method {method}()")
            elif ':' not in target:
                problems.append(f"{where}: {key} '{target}' is not Class::method")
    for key in ('_form', '_entity_form'):
        if key == '_form' and key in defaults:
            check_class(str(defaults[key]), where)
    reqs = route.get('requirements') or {}
    if not reqs:
        problems.append(f"{where}: no requirements: every route needs an access requirement")
    for perm_expr in [reqs.get('_permission')] if reqs.get('_permission') else []:
        for perm in re.split(r'[+,]', str(perm_expr)):
            perm = perm.strip()
            if perm not in permissions and perm not in core_permissions:
                problems.append(f"{where}: permission '{perm}' is not in {name}.permissions.yml")
    for req in reqs:
        if req.startswith('_') and req not in ('_permission', '_access', '_role', '_user_is_logged_in', '_entity_access', '_csrf_token', '_format', '_content_type_format', '_custom_access', '_entity_create_access', '_module_dependencies') and req not in custom_checks:
            problems.append(f"{where}: access requirement {req} has no access_check service")

# Links refer to routes that exist.
for kind in ('links.menu', 'links.task', 'links.action'):
    data = yamls.get(os.path.join(module, f'{name}.{kind}.yml'))
    for lid, link in (data or {}).items():
        for key in ('route_name', 'base_route', 'parent_id'):
            target = (link or {}).get(key)
            if target and target.startswith(name + '.') and target not in route_names:
                problems.append(f"{name}.{kind}.yml: {lid}: {key} '{target}' is not a route of {name}")

# The configure route of info.yml exists.
if info.get('configure') and info['configure'] not in route_names:
    problems.append(f"{name}.info.yml: configure route '{info['configure']}' is not defined")

# Libraries: own files only, and they exist.
libs = yamls.get(os.path.join(module, f'{name}.libraries.yml')) or {}
for lib, spec in libs.items():
    for section in ('css', 'js'):
        groups = (spec or {}).get(section) or {}
        files = groups.keys() if section == 'js' else [f for g in groups.values() for f in (g or {})]
        for f in files:
            if re.match(r'^(https?:)?//', f):
                problems.append(f"{name}.libraries.yml: {lib}: '{f}' is remote; only the module's own files")
            elif not os.path.isfile(os.path.join(module, f)):
                problems.append(f"{name}.libraries.yml: {lib}: {f} does not exist")

# Config: every config/install and config/optional file has a schema. Core's
# entity configuration has core's schema; the module's own names need ours.
schema = {}
schema_dir = os.path.join(module, 'config', 'schema')
if os.path.isdir(schema_dir):
    for f in os.listdir(schema_dir):
        if f.endswith('.yml'):
            schema.update(yamls.get(os.path.join(schema_dir, f)) or {})
core_prefixes = ('field.storage.', 'field.field.', 'node.type.', 'taxonomy.vocabulary.', 'user.role.',
                 'core.entity_form_display.', 'core.entity_view_display.', 'core.entity_view_mode.',
                 'core.entity_form_mode.', 'views.view.', 'system.action.', 'block.block.',
                 'workflows.workflow.', 'language.content_settings.')
def schema_for(config_name):
    """The module's schema entry for a config name (exact or wildcard), or None."""
    if config_name in schema:
        return schema[config_name] or {}
    for key in schema:
        if '*' in key and re.fullmatch(re.escape(key).replace(r'\*', r'[^.]+'), config_name):
            return schema[key] or {}
    return None
for sub in ('install', 'optional'):
    d = os.path.join(module, 'config', sub)
    if not os.path.isdir(d):
        continue
    for f in sorted(os.listdir(d)):
        if not f.endswith('.yml'):
            continue
        config_name = f[:-4]
        data = yamls.get(os.path.join(d, f))
        if config_name.startswith(core_prefixes):
            if not isinstance(data, dict):
                problems.append(f"config/{sub}/{f}: not a mapping")
                continue
            for key in ('langcode', 'status', 'dependencies'):
                if key not in data:
                    problems.append(f"config/{sub}/{f}: missing '{key}'")
            if config_name.startswith('field.field.'):
                _, _, etype, bundle, field = config_name.split('.')
                storage = f"field.storage.{etype}.{field}"
                if not os.path.exists(os.path.join(d, storage + '.yml')):
                    problems.append(f"config/{sub}/{f}: its storage {storage} is not installed with it")
                deps = (data.get('dependencies') or {}).get('config') or []
                if storage not in deps:
                    problems.append(f"config/{sub}/{f}: dependencies.config lacks {storage}")
                if etype == 'node' and f"node.type.{bundle}" not in deps:
                    problems.append(f"config/{sub}/{f}: dependencies.config lacks node.type.{bundle}")
                if data.get('id') != f"{etype}.{bundle}.{field}":
                    problems.append(f"config/{sub}/{f}: id must be {etype}.{bundle}.{field}")
                # Strict config schema (on in Kernel and Functional tests) types the
                # default values of core field types: a boolean's `value` is an integer
                # (core.data_types.schema.yml, field.value.boolean), so `false` fails
                # installation of the whole module.
                storage_data = yamls.get(os.path.join(d, storage + '.yml')) or {}
                ftype = data.get('field_type') or storage_data.get('type')
                for i, item in enumerate(data.get('default_value') or []):
                    v = item.get('value') if isinstance(item, dict) else None
                    if ftype in ('boolean', 'integer') and v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                        problems.append(f"config/{sub}/{f}: default_value[{i}].value must be an integer for a {ftype} field, got {v!r}")
                    if ftype in ('string', 'string_long', 'list_string', 'text', 'text_long') and v is not None and not isinstance(v, str):
                        problems.append(f"config/{sub}/{f}: default_value[{i}].value must be a string for a {ftype} field, got {v!r}")
            if config_name.startswith('field.storage.'):
                _, _, etype, field = config_name.split('.')
                if data.get('id') != f"{etype}.{field}":
                    problems.append(f"config/{sub}/{f}: id must be {etype}.{field}")
                mods = set((data.get('dependencies') or {}).get('module') or [])
                if data.get('module') not in ('core', None) and data.get('module') not in mods:
                    problems.append(f"config/{sub}/{f}: dependencies.module lacks {data.get('module')}")
            for dep in (data.get('dependencies') or {}).get('config') or []:
                if not os.path.exists(os.path.join(module, 'config', 'install', dep + '.yml')) and not os.path.exists(os.path.join(d, dep + '.yml')):
                    problems.append(f"config/{sub}/{f}: depends on {dep}, which the module does not provide")
            for dep in (data.get('dependencies') or {}).get('module') or []:
                deps = [str(x).split(':')[-1] for x in info.get('dependencies') or []]
                if dep not in deps + [name, 'core', 'system']:
                    problems.append(f"config/{sub}/{f}: depends on module {dep}, which {name}.info.yml does not require")
        elif schema_for(config_name) is None:
            problems.append(f"config/{sub}/{f}: no schema for '{config_name}' in config/schema")
        else:
            # The module's own simple config: each top-level value of the type its schema says.
            mapping = schema_for(config_name).get('mapping') or {}
            python_types = {'boolean': (bool,), 'integer': (int,), 'float': (int, float), 'string': (str,), 'label': (str,), 'text': (str,), 'email': (str,), 'uri': (str,), 'langcode': (str,)}
            for key, value in (data or {}).items():
                t = (mapping.get(key) or {}).get('type')
                inherited = ('langcode', '_core') if schema_for(config_name).get('type') == 'config_object' else ('_core',)
                if key not in mapping and key not in inherited:
                    problems.append(f"config/{sub}/{f}: '{key}' is not in its schema")
                elif t in python_types and value is not None and (not isinstance(value, python_types[t]) or (t != 'boolean' and isinstance(value, bool))):
                    problems.append(f"config/{sub}/{f}: '{key}' must be {t} as its schema says, got {value!r}")

for p in problems:
    print("lint-module: " + p, file=sys.stderr)
print(f"lint-module: {len(yamls)} YAML files checked")
sys.exit(1 if problems else 0)
PY

say "lint-module: $php_files PHP files checked"
if [ "$failed" -ne 0 ]; then
  say "lint-module: FAILED" >&2
  exit 1
fi
say "lint-module: OK"

#!/usr/bin/env python3
"""Generates docs/ (Terraform registry layout) from templates/, examples/
and the provider's schema, as tfplugindocs does for Go providers.

Usage: scripts/gen-docs.py [schema.json]
Without an argument it builds the provider (debug) and asks Terraform for
the schema through a throwaway dev_overrides CLI config.

crates/provider/tests/acceptance/docs_schema.rs checks the result against the schema independently,
so a page that drifts from the code fails the tests.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDRESS = "registry.terraform.io/sei-oss/sei"
# Where the registry lists a type whose page has no template of its own.
DEFAULT_SUBCATEGORY = "Integrations"
WRITE_ONLY = "[Write-only](https://developer.hashicorp.com/terraform/language/resources/ephemeral#write-only-arguments)"


def provider_schema():
    subprocess.run(["cargo", "build", "--quiet", "--bin", "terraform-provider-sei"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        rc = os.path.join(tmp, "cli.tfrc")
        with open(rc, "w") as f:
            f.write('provider_installation {\n  dev_overrides {\n    "sei-oss/sei" = "%s"\n  }\n  direct {}\n}\n'
                    % os.path.join(ROOT, "target", "debug"))
        with open(os.path.join(tmp, "main.tf"), "w") as f:
            f.write('terraform {\n  required_providers {\n    sei = { source = "sei-oss/sei" }\n  }\n}\n')
        env = dict(os.environ, TF_CLI_CONFIG_FILE=rc, CHECKPOINT_DISABLE="1")
        out = subprocess.run(["terraform", "providers", "schema", "-json"], cwd=tmp, env=env,
                             check=True, capture_output=True, text=True).stdout
    return json.loads(out)["provider_schemas"][ADDRESS]


def type_name(t):
    if isinstance(t, str):
        return {"string": "String", "number": "Number", "bool": "Boolean", "dynamic": "Dynamic"}[t]
    kind, arg = t[0], t[1]
    if kind in ("list", "set", "map"):
        return "%s of %s" % (kind.capitalize(), type_name(arg))
    return kind.capitalize()


def anchor(prefix, name):
    return "%s--%s" % (prefix, name)


def attr_line(name, a, nested_anchor=None):
    kinds = [type_name(a["type"])]
    if a.get("optional") and a.get("computed"):
        # Optional, and filled in by the provider when left out.
        kinds.append("Computed")
    if a.get("sensitive"):
        kinds.append("Sensitive")
    if a.get("write_only"):
        kinds.append(WRITE_ONLY)
    if a.get("deprecated"):
        kinds.append("Deprecated")
    desc = a.get("description", "").strip()
    line = "- `%s` (%s) %s" % (name, ", ".join(kinds), desc)
    if nested_anchor:
        line += " (see [below for nested schema](#%s))" % nested_anchor
    return line.rstrip()


def block_marker(b):
    """tfplugindocs' marker: (Block List, Min: 1, Max: 1)."""
    parts = ["Block %s" % b["nesting_mode"].capitalize()]
    if b.get("min_items", 0) > 0:
        parts.append("Min: %d" % b["min_items"])
    if b.get("max_items", 0) > 0:
        parts.append("Max: %d" % b["max_items"])
    return ", ".join(parts)


def section(attrs, blocks, title_style):
    """title_style: '###' for the top level, '' for nested ('Required:').
    Blocks are listed among the attributes, sorted by name, as tfplugindocs
    lists them."""
    groups = {"Required": [], "Optional": [], "Read-Only": []}
    entries = []
    nested = []
    for name in sorted(attrs):
        a = attrs[name]
        group = "Required" if a.get("required") else "Optional" if a.get("optional") else "Read-Only"
        t = a["type"]
        elem = t[1] if isinstance(t, list) and t[0] in ("list", "set") else None
        if isinstance(elem, list) and elem[0] == "object":
            anc = anchor("nestedatt", name)
            entries.append((name, group, attr_line(name, a, anc)))
            nested.append((anc, name, {k: {"type": v, "computed": True} for k, v in elem[1].items()}, {}))
        else:
            entries.append((name, group, attr_line(name, a)))
    for name in sorted(blocks):
        b = blocks[name]
        anc = anchor("nestedblock", name)
        group = "Required" if b.get("min_items", 0) > 0 else "Optional"
        desc = b["block"].get("description", "").strip()
        entries.append((name, group, "- `%s` (%s) %s (see [below for nested schema](#%s))"
                        % (name, block_marker(b), desc, anc)))
        nested.append((anc, name, b["block"].get("attributes", {}), b["block"].get("block_types", {})))
    for name, group, line in sorted(entries):
        groups[group].append(line)
    out = []
    for title, lines in groups.items():
        if not lines:
            continue
        out.append("### %s" % title if title_style else "%s:" % title)
        out.append("")
        out.extend(lines)
        out.append("")
    for anc, name, attrs2, blocks2 in nested:
        out.append('<a id="%s"></a>' % anc)
        out.append("### Nested Schema for `%s`" % name)
        out.append("")
        out.append(section(attrs2, blocks2, "").rstrip())
        out.append("")
    return "\n".join(out)


def schema_markdown(block):
    return "## Schema\n\n" + section(block.get("attributes", {}), block.get("block_types", {}), "###")


def read(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read().strip()


def render(template_path, out_path, fields):
    text = read(template_path)
    for key, value in fields.items():
        text = text.replace("{{%s}}" % key, value)
    leftover = re.findall(r"\{\{[a-z_]+\}\}", text)
    if leftover:
        sys.exit("%s: unfilled %s" % (template_path, leftover))
    os.makedirs(os.path.dirname(os.path.join(ROOT, out_path)), exist_ok=True)
    with open(os.path.join(ROOT, out_path), "w") as f:
        f.write(text + "\n")


def main():
    if len(sys.argv) > 1:
        with open(sys.argv[1]) as f:
            schema = json.load(f)["provider_schemas"][ADDRESS]
    else:
        schema = provider_schema()
    fence = lambda lang, body: "```%s\n%s\n```" % (lang, body)
    render("templates/index.md.tmpl", "docs/index.md", {
        "example": fence("terraform", read("examples/provider/provider.tf")),
        "schema": schema_markdown(schema["provider"]["block"]),
    })
    kinds = [
        ("resource_schemas", "resources", "resources", "resource.tf"),
        ("data_source_schemas", "data-sources", "data-sources", "data-source.tf"),
        ("ephemeral_resource_schemas", "ephemeral-resources", "ephemeral-resources", "ephemeral-resource.tf"),
    ]
    for key, tmpl_dir, doc_dir, example_file in kinds:
        for type_name_, s in sorted(schema.get(key, {}).items()):
            short = type_name_[len("sei_"):]
            fields = {
                "example": fence("terraform", read("examples/%s/%s/%s" % (doc_dir, type_name_, example_file))),
                "schema": schema_markdown(s["block"]),
            }
            imp = "examples/%s/%s/import.sh" % (doc_dir, type_name_)
            if os.path.exists(os.path.join(ROOT, imp)):
                fields["import"] = fence("shell", read(imp))
            template = "templates/%s/%s.md.tmpl" % (tmpl_dir, short)
            if not os.path.exists(os.path.join(ROOT, template)):
                # A type without a page of its own gets the default page:
                # its schema description, its example and its schema.
                template = "templates/default/%s.md.tmpl" % tmpl_dir
                description = s["block"].get("description", "").strip()
                fields.update({
                    "type": type_name_,
                    "subcategory": DEFAULT_SUBCATEGORY,
                    "summary": description.split(". ")[0].rstrip(".") + ".",
                    "description": description,
                })
            render(template, "docs/%s/%s.md" % (doc_dir, short), fields)


if __name__ == "__main__":
    main()

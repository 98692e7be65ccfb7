#!/usr/bin/env python3
"""Generates crates/api-types/src/codedeploy.rs from botocore's CodeDeploy model (gen/service-2.json).

Usage (from anywhere):

    python3 crates/api-types/gen/generate.py           # (re)write src/codedeploy.rs
    python3 crates/api-types/gen/generate.py --check   # exit 1 if src/codedeploy.rs is out of date

Standard library only. The output is a pure function of service-2.json and this script, then formatted by
`rustfmt --edition 2024` from the pinned toolchain (rustfmt must be on PATH), so reruns are byte-identical.

Naming rules (keep README.md and the module docs in sync):
- Rust type = the shape name verbatim (model shape names are already UpperCamelCase: `EC2TagFilter`, `ETag`,
  `S3Location`, ...), unless it would clash with a Rust prelude name or an item of this module (`RESERVED`);
  then `Shape` is appended. No shape clashes today.
- Rust field = the member name in snake_case: a word starts at a lower/digit -> upper change and at the last
  capital of an acronym followed by a lowercase letter (`ec2TagFilters` -> `ec2_tag_filters`, `eTag` -> `e_tag`,
  `ResourceArn` -> `resource_arn`, `ECSService` -> `ecs_service`, `sha256` -> `sha256`). Rust keywords get a
  trailing underscore (`type` -> `type_`).
- Enum values const = the shape name in SCREAMING_SNAKE_CASE (same word split) + `_VALUES`
  (`DeploymentStatus` -> `DEPLOYMENT_STATUS_VALUES`, `EC2TagFilterType` -> `EC2_TAG_FILTER_TYPE_VALUES`).
"""

import argparse
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_PATH = os.path.join(HERE, "service-2.json")
OUT_PATH = os.path.normpath(os.path.join(HERE, "..", "src", "codedeploy.rs"))

# Where gen/service-2.json came from (the file itself carries no botocore version). Update with the model.
MODEL_SOURCE = "botocore 1.44.5 (PyPI wheel), botocore/data/codedeploy/2014-10-06/service-2.json.gz, gunzipped"

RUST_KEYWORDS = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
    "virtual", "yield", "try",
}

# Type names a generated struct must not take: the std prelude, the derives, and this module's own items.
RESERVED = {
    "Option", "Some", "None", "Result", "Ok", "Err", "String", "Vec", "Box", "ToString", "ToOwned", "Default",
    "Clone", "Copy", "Debug", "PartialEq", "Eq", "PartialOrd", "Ord", "Hash", "Send", "Sync", "Sized", "Drop",
    "Fn", "FnMut", "FnOnce", "Iterator", "IntoIterator", "Extend", "From", "Into", "TryFrom", "TryInto",
    "AsRef", "AsMut", "Self", "Serialize", "Deserialize", "BTreeMap", "FromStr", "fmt",
    "Operation", "UnknownOperation", "ErrorBody",
}

def split_words(name):
    """Splits `ec2TagFilters` into [ec2, Tag, Filters], `ECSService` into [ECS, Service], `eTag` into [e, Tag]."""
    words, cur = [], ""
    for i, c in enumerate(name):
        if cur and c.isupper():
            prev = name[i - 1]
            nxt = name[i + 1] if i + 1 < len(name) else ""
            if prev.islower() or prev.isdigit() or (prev.isupper() and nxt.islower()):
                words.append(cur)
                cur = ""
        cur += c
    words.append(cur)
    return words


def snake(name):
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name):
        sys.exit(f"unexpected member name {name!r}")
    s = "_".join(w.lower() for w in split_words(name))
    return s + "_" if s in RUST_KEYWORDS else s


def screaming(name):
    return "_".join(w.upper() for w in split_words(name))


def type_name(shape):
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", shape):
        sys.exit(f"unexpected shape name {shape!r}")
    t = shape[0].upper() + shape[1:]
    return t + "Shape" if t in RESERVED else t


def rust_str(s):
    return json.dumps(s)  # a JSON string literal is a valid Rust string literal for these ASCII names


def escape_markdown(text):
    """Escapes text outside code spans so rustdoc sees neither links, HTML tags nor bare URLs."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        p = parts[i]
        p = p.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]").replace("<", "\\<").replace(">", "\\>")
        p = p.replace("*", "\\*")
        p = re.sub(r"(https?://[^\s\\]+[^\s\\.,;:)])", r"<\1>", p)
        parts[i] = p
    return "`".join(parts)


def first_sentence(doc, limit=240):
    """First sentence of a model documentation string, HTML stripped, `<code>` kept as code spans."""
    if not doc:
        return ""
    text = re.sub(r"<code>(.*?)</code>", lambda m: "`" + re.sub(r"<[^>]+>", "", m.group(1)) + "`", doc, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    text = html.unescape(text)
    text = " ".join(text.split())
    m = re.search(r"(?<!e\.g)(?<!i\.e)(?<!etc)(?<!\bvs)[.!?](?=\s|$)", text)
    if m:
        text = text[: m.end()]
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " ..."
    text = text.replace("``", "")
    if text.count("`") % 2:
        text = text.replace("`", "")
    return escape_markdown(text).strip()


DOC_WIDTH = 116  # like the hand-written modules of this crate
# A wrapped doc line must not start with something markdown reads as a block (list item, heading, quote, ...).
BLOCK_START = re.compile(r"^([-+*#>=|]|\d+[.)])")


def wrap(text, width):
    lines, cur = [], []
    for word in text.split(" "):
        if cur and len(" ".join(cur + [word])) > width:
            nxt = [word]
            while BLOCK_START.match(nxt[0]) and len(cur) > 1:
                nxt.insert(0, cur.pop())
            lines.append(" ".join(cur))
            cur = nxt
        else:
            cur.append(word)
    lines.append(" ".join(cur))
    return lines


def doc_lines(text, indent=""):
    """`///` lines for markdown paragraphs separated by blank lines, wrapped at DOC_WIDTH."""
    if not text:
        return []
    out = []
    for para in text.split("\n\n"):
        if out:
            out.append(f"{indent}///")
        out.extend(f"{indent}/// {line}" for line in wrap(para, DOC_WIDTH - len(indent) - 4))
    return out


class Generator:
    def __init__(self, model_bytes):
        self.model = json.loads(model_bytes)
        self.sha256 = hashlib.sha256(model_bytes).hexdigest()
        self.shapes = self.model["shapes"]
        self.ops = self.model["operations"]
        self.meta = self.model["metadata"]
        self.op_of_shape = {}
        for name, op in self.ops.items():
            for kind in ("input", "output"):
                if kind in op:
                    self.op_of_shape[op[kind]["shape"]] = (name, kind)

    def rust_type(self, shape_name):
        s = self.shapes[shape_name]
        t = s["type"]
        if t == "structure":
            return type_name(shape_name)
        if t == "list":
            return f"Vec<{self.rust_type(s['member']['shape'])}>"
        if t == "map":
            key = self.shapes[s["key"]["shape"]]
            if key["type"] != "string":
                sys.exit(f"map {shape_name} has a non-string key")
            return f"BTreeMap<String, {self.rust_type(s['value']['shape'])}>"
        if t in ("string", "blob"):
            return "String"
        if t in ("integer", "long"):
            return "i64"
        if t == "boolean":
            return "bool"
        if t in ("timestamp", "double", "float"):
            return "f64"
        sys.exit(f"shape {shape_name}: unsupported type {t}")

    def enum_shapes(self):
        return sorted(n for n, s in self.shapes.items() if s["type"] == "string" and "enum" in s)

    def exceptions(self):
        return sorted(n for n, s in self.shapes.items() if s.get("exception"))

    def structures(self):
        return sorted(n for n, s in self.shapes.items() if s["type"] == "structure")

    def member_note(self, struct, member, spec):
        shape_name = spec["shape"]
        s = self.shapes[shape_name]
        notes = [f"Shape `{shape_name}`"]
        if member in struct.get("required", []):
            notes.append("required")
        target = s
        if s["type"] == "list":
            target = self.shapes[s["member"]["shape"]]
            if "enum" in target:
                notes.append(f"items in [`{screaming(s['member']['shape'])}_VALUES`]")
        if "enum" in s:
            notes.append(f"one of [`{screaming(shape_name)}_VALUES`]")
        if "min" in s or "max" in s:
            lo, hi = s.get("min"), s.get("max")
            what = "items" if s["type"] == "list" else ("length" if s["type"] == "string" else "value")
            rng = f"{lo if lo is not None else ''}..{'=' + str(hi) if hi is not None else ''}"
            notes.append(f"{what} {rng}")
        if "pattern" in s:
            notes.append(f"pattern `{s['pattern']}`")
        if s["type"] == "timestamp":
            notes.append("epoch seconds")
        if spec.get("deprecated") or s.get("deprecated") or target.get("deprecated"):
            msg = spec.get("deprecatedMessage") or s.get("deprecatedMessage") or ""
            notes.append("deprecated" + (f" ({escape_markdown(msg.rstrip('.'))})" if msg else ""))
        return "; ".join(notes) + "."

    def emit(self):
        meta = self.meta
        ops = sorted(self.ops)
        exceptions = self.exceptions()
        structures = self.structures()
        enums = self.enum_shapes()
        w = []
        out = w.append

        # Header.
        out("//! CodeDeploy JSON 1.1 wire types, GENERATED from botocore's model. Do not edit by hand.")
        out("//!")
        out(f"//! - Model: `{meta['uid']}` (apiVersion {meta['apiVersion']}, jsonVersion {meta['jsonVersion']}),")
        out("//!   `crates/api-types/gen/service-2.json`, from")
        out(f"//!   {MODEL_SOURCE}")
        out(f"//!   (sha256 `{self.sha256}`).")
        protocols = meta.get("protocols", [meta["protocol"]])
        if protocols != ["json"]:
            out(f"//!   The model lists protocols {', '.join(f'`{p}`' for p in protocols)}; these types are for `json`")
            out("//!   (AWS JSON 1.1), which botocore (AWS CLI v1, boto3) picks first.")
        out(f"//! - Regenerate: `python3 crates/api-types/gen/generate.py` (stdlib only; runs `rustfmt`); check with")
        out("//!   `python3 crates/api-types/gen/generate.py --check`. See `crates/api-types/gen/README.md`.")
        out(f"//! - {len(ops)} operations, {len(self.shapes)} shapes: {len(structures)} structures "
            f"({len(exceptions)} of them exceptions), {len(enums)} string enums.")
        out("//!")
        out("//! Requests arrive as `POST /` with `X-Amz-Target: CodeDeploy_20141006.<Operation>` and")
        out("//! `Content-Type: application/x-amz-json-1.1`; see [`Operation`], [`OPERATION_SHAPES`] and [`ErrorBody`].")
        out("//!")
        out("//! Mapping: every structure shape is a struct of `Option` members (even the model's required ones: the")
        out("//! server answers a missing one with the model's exception, e.g. `ApplicationNameRequiredException`, see")
        out("//! [`REQUIRED_MEMBERS`]); unknown JSON members are ignored. string and enum shapes are `String` (enum values")
        out("//! are validated by the server against the `*_VALUES` consts), integer/long `i64`, boolean `bool`,")
        out("//! timestamp `f64` epoch seconds, double `f64`, blob `String`, list `Vec`, map `BTreeMap<String, _>`.")
        out("//!")
        out("//! Naming: a type is named exactly like its shape (`EC2TagFilter`, `S3Location`, `CreateDeploymentInput`);")
        out("//! a field is its member name in snake_case (`ec2TagFilters` -> `ec2_tag_filters`, `eTag` -> `e_tag`,")
        out("//! `ResourceArn` -> `resource_arn`, `type` -> `type_`), with `#[serde(rename)]` to the exact member name;")
        out("//! an enum's values are `<SHAPE_IN_SCREAMING_SNAKE>_VALUES` (`EC2TagFilterType` -> `EC2_TAG_FILTER_TYPE_VALUES`).")
        out("")
        out("use std::collections::BTreeMap;")
        out("use std::fmt;")
        out("use std::str::FromStr;")
        out("")
        out("use serde::{Deserialize, Serialize};")
        out("")
        out("/// Prefix of the `X-Amz-Target` header: `X-Amz-Target: CodeDeploy_20141006.<Operation>`.")
        out(f"pub const TARGET_PREFIX: &str = {rust_str(meta['targetPrefix'])};")
        out("/// The model's `apiVersion`.")
        out(f"pub const API_VERSION: &str = {rust_str(meta['apiVersion'])};")
        out("/// `Content-Type` of requests and responses (`application/x-amz-json-<jsonVersion>`).")
        out(f"pub const CONTENT_TYPE: &str = {rust_str('application/x-amz-json-' + meta['jsonVersion'])};")
        out("")

        # Operations.
        out("/// The CodeDeploy operations, named as in `X-Amz-Target` (variant = operation name).")
        out("///")
        out("/// Discriminants follow [`Operation::ALL`] and [`OPERATION_SHAPES`] (alphabetical order).")
        out("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]")
        out("pub enum Operation {")
        for name in ops:
            op = self.ops[name]
            doc = first_sentence(op.get("documentation", ""))
            if op.get("deprecated"):
                msg = op.get("deprecatedMessage", "")
                doc = (doc + "\n\n" if doc else "") + "Deprecated" + (f": {escape_markdown(msg)}" if msg else ".")
            w.extend(doc_lines(doc, "    "))
            out(f"    {name},")
        out("}")
        out("")
        out("impl Operation {")
        out("    /// Every operation, in alphabetical order.")
        out("    pub const ALL: &[Operation] = &[")
        for name in ops:
            out(f"        Operation::{name},")
        out("    ];")
        out("")
        out("    /// The operation's name, as in `X-Amz-Target` after the `.`.")
        out("    pub fn name(&self) -> &'static str {")
        out("        match self {")
        for name in ops:
            out(f"            Operation::{name} => {rust_str(name)},")
        out("        }")
        out("    }")
        out("")
        out("    /// The operation named `name` (exact, case-sensitive match), if any.")
        out("    pub fn from_name(name: &str) -> Option<Self> {")
        out("        match name {")
        for name in ops:
            out(f"            {rust_str(name)} => Some(Operation::{name}),")
        out("            _ => None,")
        out("        }")
        out("    }")
        out("")
        out("    /// The operation named by a whole `X-Amz-Target` header value (`CodeDeploy_20141006.<Operation>`).")
        out("    pub fn from_target(target: &str) -> Option<Self> {")
        out("        let name = target.strip_prefix(TARGET_PREFIX)?.strip_prefix('.')?;")
        out("        Self::from_name(name)")
        out("    }")
        out("")
        out("    /// The name of the input shape (the request body's struct), if the operation takes one.")
        out("    pub fn input_shape(&self) -> Option<&'static str> {")
        out("        OPERATION_SHAPES[*self as usize].1")
        out("    }")
        out("")
        out("    /// The name of the output shape (the response body's struct); `None` means an empty `{}` body.")
        out("    pub fn output_shape(&self) -> Option<&'static str> {")
        out("        OPERATION_SHAPES[*self as usize].2")
        out("    }")
        out("")
        out("    /// Decodes `body` as this operation's input shape, as the server does with a request body, and drops it.")
        out("    /// An `Err` is what the server answers with `SerializationException`. (The fuzz targets drive this.)")
        out("    pub fn decode_input(&self, body: &[u8]) -> Result<(), serde_json::Error> {")
        out("        match self {")
        for name in ops:
            shape = self.ops[name].get("input", {}).get("shape")
            target = type_name(shape) if shape else "serde::de::IgnoredAny"
            out(f"            Operation::{name} => serde_json::from_slice::<{target}>(body).map(drop),")
        out("        }")
        out("    }")
        out("")
        out("    /// The exceptions (error shape names) the model lists for this operation.")
        out("    pub fn errors(&self) -> &'static [&'static str] {")
        out("        match self {")
        for name in ops:
            errs = [e["shape"] for e in self.ops[name].get("errors", [])]
            out(f"            Operation::{name} => &[{', '.join(rust_str(e) for e in errs)}],")
        out("        }")
        out("    }")
        out("}")
        out("")
        out("impl fmt::Display for Operation {")
        out("    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {")
        out("        f.write_str(self.name())")
        out("    }")
        out("}")
        out("")
        out("/// Error of the [`FromStr`] impl of [`Operation`]: no operation has this name.")
        out("#[derive(Debug, Clone, PartialEq, Eq)]")
        out("pub struct UnknownOperation(pub String);")
        out("")
        out("impl fmt::Display for UnknownOperation {")
        out("    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {")
        out('        write!(f, "unknown CodeDeploy operation {:?}", self.0)')
        out("    }")
        out("}")
        out("")
        out("impl std::error::Error for UnknownOperation {}")
        out("")
        out("impl FromStr for Operation {")
        out("    type Err = UnknownOperation;")
        out("")
        out("    fn from_str(s: &str) -> Result<Self, Self::Err> {")
        out("        Self::from_name(s).ok_or_else(|| UnknownOperation(s.to_owned()))")
        out("    }")
        out("}")
        out("")
        out("/// `(operation, input shape, output shape)` for every operation, in [`Operation::ALL`] order. A `None` output")
        out("/// means the operation answers an empty `{}` body.")
        out("pub const OPERATION_SHAPES: &[(&str, Option<&str>, Option<&str>)] = &[")
        for name in ops:
            op = self.ops[name]
            i = f"Some({rust_str(op['input']['shape'])})" if "input" in op else "None"
            o = f"Some({rust_str(op['output']['shape'])})" if "output" in op else "None"
            out(f"    ({rust_str(name)}, {i}, {o}),")
        out("];")
        out("")

        # Errors.
        out("/// Every error shape of the model (the `__type` values of [`ErrorBody`]), sorted.")
        out("pub const EXCEPTIONS: &[&str] = &[")
        for e in exceptions:
            out(f"    {rust_str(e)},")
        out("];")
        out("")
        out("/// A JSON 1.1 error response body: `{\"__type\": \"ApplicationNameRequiredException\", \"message\": \"...\"}`,")
        out("/// sent with HTTP 400 (or 5xx for server faults) and header `X-Amzn-ErrorType: <type>`.")
        out("#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]")
        out("#[serde(default)]")
        out("pub struct ErrorBody {")
        out("    /// The error shape name, one of [`EXCEPTIONS`].")
        out('    #[serde(rename = "__type")]')
        out("    pub type_: String,")
        out("    pub message: String,")
        out("}")
        out("")
        out("impl ErrorBody {")
        out("    pub fn new(type_: impl Into<String>, message: impl Into<String>) -> Self {")
        out("        ErrorBody { type_: type_.into(), message: message.into() }")
        out("    }")
        out("}")
        out("")

        # Required members.
        out("/// `(structure, members the model marks required)` for every structure with required members, sorted.")
        out("/// Member names are the wire names; the fields are `Option`s all the same.")
        out("pub const REQUIRED_MEMBERS: &[(&str, &[&str])] = &[")
        for n in structures:
            req = self.shapes[n].get("required")
            if req:
                out(f"    ({rust_str(n)}, &[{', '.join(rust_str(r) for r in req)}]),")
        out("];")
        out("")

        # Enums.
        for n in enums:
            s = self.shapes[n]
            doc = f"Values of the string enum shape `{n}`."
            if s.get("deprecated"):
                doc += " Deprecated."
            out(f"/// {doc}")
            out(f"pub const {screaming(n)}_VALUES: &[&str] = &[{', '.join(rust_str(v) for v in s['enum'])}];")
        out("")

        # Structures.
        for n in structures:
            s = self.shapes[n]
            doc = first_sentence(s.get("documentation", ""))
            extra = []
            if n in self.op_of_shape:
                op, kind = self.op_of_shape[n]
                extra.append(f"{kind.capitalize()} of [`Operation::{op}`].")
            if s.get("exception"):
                extra.append(f"Error shape (`__type: \"{n}\"`).")
            if s.get("deprecated"):
                msg = s.get("deprecatedMessage", "")
                extra.append("Deprecated" + (f": {escape_markdown(msg)}" if msg else "."))
            if extra:
                doc = (doc + "\n\n" if doc else "") + " ".join(extra)
            w.extend(doc_lines(doc))
            out("#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]")
            out("#[serde(default)]")
            members = s.get("members", {})
            if not members:
                out(f"pub struct {type_name(n)} {{}}")
                out("")
                continue
            out(f"pub struct {type_name(n)} {{")
            seen = {}
            for m, spec in members.items():
                field = snake(m)
                if field in seen:
                    sys.exit(f"{n}: members {seen[field]} and {m} both map to field {field}")
                seen[field] = m
                mdoc = first_sentence(spec.get("documentation", ""))
                note = self.member_note(s, m, spec)
                w.extend(doc_lines((mdoc + "\n\n" if mdoc else "") + note, "    "))
                out(f"    #[serde(rename = {rust_str(m)}, skip_serializing_if = \"Option::is_none\")]")
                out(f"    pub {field}: Option<{self.rust_type(spec['shape'])}>,")
            out("}")
            out("")
        return "\n".join(w).rstrip("\n") + "\n"


def rustfmt(source):
    exe = shutil.which("rustfmt")
    if not exe:
        sys.exit("rustfmt not found on PATH (install it with `rustup component add rustfmt`)")
    proc = subprocess.run(
        # The workspace's rustfmt.toml, so `cargo fmt --check` agrees with the generated file.
        [exe, "--edition", "2024", "--config-path", os.path.normpath(os.path.join(HERE, "..", "..", "..", "rustfmt.toml")), "--emit", "stdout"],
        input=source.encode(),
        capture_output=True,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode())
        sys.exit("rustfmt failed on the generated code")
    return proc.stdout.decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the output file is not up to date")
    ap.add_argument("--model", default=MODEL_PATH, help="service-2.json (default: %(default)s)")
    ap.add_argument("--out", default=OUT_PATH, help="output file (default: %(default)s)")
    args = ap.parse_args()
    with open(args.model, "rb") as f:
        code = rustfmt(Generator(f.read()).emit())
    if args.check:
        try:
            with open(args.out, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != code:
            sys.exit(f"{args.out} is out of date; run python3 {os.path.relpath(__file__)}")
        return
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(code)
    print(f"wrote {args.out} ({code.count(chr(10))} lines)")


if __name__ == "__main__":
    main()

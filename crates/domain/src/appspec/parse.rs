//! Parsing and validation of the EC2/on-premises `appspec.yml` (YAML or JSON) into an [`AppSpec`].
//!
//! How: the text goes through the YAML event parser that serde-saphyr re-exports (`serde_saphyr::granit_parser`),
//! not through serde. Its events carry every node's position and every scalar's source text and style, which
//! serde's data model throws away: `version: 0.0` must stay the text "0.0" (a float would let `0` or `0.00` through),
//! `mode: 0755` must keep its digits, and `0755` must not silently become decimal 755 or octal 493. The events
//! are assembled into a small tree of positioned nodes (`Node`), which is then checked by hand, so every problem
//! becomes a [`Diagnostic`] instead of the first serde error ending the parse.
//!
//! Hostile input is refused cheaply: the text is capped at `MAX_TEXT_BYTES`; nesting is capped at `MAX_DEPTH`
//! (the parser's own limits plus ours, which also covers aliases), so no recursion here goes deep; an alias shares
//! its anchor's node instead of copying it, and the tree counts the nodes it would hold once aliases were
//! expanded, so a billion-laughs document is refused at `MAX_NODES` without being expanded.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde_saphyr::granit_parser::{self, ErrorKind, Event, Marker, Parser, ScalarStyle, ScanError, Tag};

use crate::appspec::model::{
    AppSpec, DEFAULT_HOOK_TIMEOUT_SECS, Diagnostic, FileExistsBehavior, FileMapping, Hook, HookScript, ObjectType, Os,
    Permission, SeContext,
};
use crate::lifecycle::LifecycleEvent;

/// Largest AppSpec accepted. Real ones are a few kilobytes; this only bounds the work a hostile file can cause.
const MAX_TEXT_BYTES: usize = 1024 * 1024;
/// Deepest nesting accepted (a valid AppSpec needs 5 levels).
const MAX_DEPTH: usize = 64;
/// Most nodes accepted, counting each alias as a full copy of its anchor (this is what stops billion laughs).
const MAX_NODES: usize = 100_000;
/// Longest time one lifecycle event may take, in seconds (CodeDeploy's documented limit).
const MAX_EVENT_SECS: u64 = 3600;

const TOP_LEVEL_KEYS: &[&str] = &["version", "os", "files", "file_exists_behavior", "permissions", "hooks"];
const FILE_KEYS: &[&str] = &["source", "destination"];
const PERMISSION_KEYS: &[&str] = &["object", "pattern", "except", "owner", "group", "mode", "acls", "context", "type"];
const CONTEXT_KEYS: &[&str] = &["name", "type", "range", "role"];
const SCRIPT_KEYS: &[&str] = &["location", "timeout", "runas", "sudo"];

/// Parses and validates an EC2/on-premises AppSpec given as YAML or JSON.
///
/// On failure returns every problem found, sorted by position. Notes for callers:
/// - only `version: 0.0` (plain or quoted) is accepted, and `os` must be `linux` or `windows`;
/// - unknown keys are errors, at the top level and inside entries;
/// - `timeout` defaults to 3600; the per-event sum check (≤ 3600 s) counts only timeouts written in the file, since
///   counting the default would reject every event with two scripts and no timeouts, which CodeDeploy runs;
/// - a hook whose value is null or an empty list is left out of [`AppSpec::hooks`];
/// - besides CodeDeploy's script events, `hooks` accepts Cutover's extension `OnFailure` (same script keys; CodeDeploy's
///   own agent parses it but never runs it); every other unknown event name is an error;
/// - YAML 1.1 booleans (`yes`/`no`/`on`/`off`) are accepted for `sudo`, and aliases and `<<` merge keys work.
pub fn parse(text: &str) -> Result<AppSpec, Vec<Diagnostic>> {
    // Every path that yields no AppSpec reports why; the fallback message keeps the contract if one ever does not.
    check_text(text, "the AppSpec could not be read", |diagnostics, root| {
        let mut checker = Checker { diagnostics, os: None };
        let spec = checker.document(root);
        (spec, checker.diagnostics)
    })
}

/// Builds the positioned tree of `text` (refusing oversized text) and checks it with `check`, which gets the tree's
/// own diagnostics and returns its result with all of them; on failure every problem, sorted by position (`empty`
/// when there is none to say).
pub(super) fn check_text<T>(
    text: &str,
    empty: &str,
    check: impl FnOnce(Vec<Diagnostic>, Option<&Node>) -> (Option<T>, Vec<Diagnostic>),
) -> Result<T, Vec<Diagnostic>> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(vec![document_error(
            None,
            format!("application specification file is {} bytes, more than the {MAX_TEXT_BYTES} allowed", text.len()),
            None,
        )]);
    }
    let tree = build_tree(text)?;
    let (spec, mut diagnostics) = check(tree.diagnostics, tree.root.as_ref());
    match spec {
        Some(spec) if diagnostics.is_empty() => Ok(spec),
        _ => {
            if diagnostics.is_empty() {
                diagnostics.push(document_error(None, empty.to_owned(), None));
            }
            // Stable, so problems at one position keep the order they were found in.
            diagnostics.sort_by_key(|diagnostic| (diagnostic.line, diagnostic.column));
            Err(diagnostics)
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The positioned tree.

/// 1-based line and column of a node's first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pos {
    pub(super) line: usize,
    pub(super) column: usize,
}

impl From<&Marker> for Pos {
    fn from(marker: &Marker) -> Self {
        Pos { line: marker.line(), column: marker.col() + 1 }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) pos: Pos,
    /// Shared, so an alias costs one pointer rather than a copy of its anchor.
    pub(super) value: Rc<Value>,
    /// Nodes in this subtree once aliases are expanded.
    size: usize,
    /// Levels in this subtree once aliases are expanded (a scalar is 1).
    height: usize,
}

#[derive(Debug)]
pub(super) enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Entries in document order; merge keys are already expanded.
    Map(Vec<Entry>),
}

#[derive(Debug)]
pub(super) struct Scalar {
    pub(super) text: String,
    /// Unquoted and untagged, so YAML's implicit typing applies (`~` is null, `true` a boolean).
    pub(super) plain: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) key: Node,
    pub(super) value: Node,
}

impl Scalar {
    fn is_null(&self) -> bool {
        self.plain && matches!(self.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }
}

impl Node {
    pub(super) fn is_null(&self) -> bool {
        matches!(&*self.value, Value::Scalar(scalar) if scalar.is_null())
    }

    /// The text of a non-null scalar.
    pub(super) fn text(&self) -> Option<&str> {
        match &*self.value {
            Value::Scalar(scalar) if !scalar.is_null() => Some(&scalar.text),
            _ => None,
        }
    }

    fn is_merge_key(&self) -> bool {
        matches!(&*self.value, Value::Scalar(scalar) if scalar.plain && scalar.text == "<<")
    }

    /// What the node is, for "got …" in messages.
    pub(super) fn describe(&self) -> String {
        match &*self.value {
            Value::Scalar(scalar) if scalar.is_null() => "nothing".to_owned(),
            Value::Scalar(scalar) => quote(&scalar.text),
            Value::Seq(_) => "a list".to_owned(),
            Value::Map(_) => "a mapping".to_owned(),
        }
    }
}

/// The document's root node, plus the problems found while building it that do not stop the parse.
pub(super) struct Tree {
    pub(super) root: Option<Node>,
    pub(super) diagnostics: Vec<Diagnostic>,
}

pub(super) fn build_tree(text: &str) -> Result<Tree, Vec<Diagnostic>> {
    let mut options = granit_parser::Options::default();
    // The parser counts flow and block nesting apart and reads ahead of its events; our own check in `Builder`
    // bounds their sum and also sees aliases.
    options.flow_nesting_limit = MAX_DEPTH;
    options.block_nesting_limit = MAX_DEPTH;
    options.set_emit_comments(false);

    let mut builder = Builder::default();
    let mut documents = 0;
    for item in Parser::new_from_str_with_options(text, options) {
        let (event, span) = item.map_err(|error| vec![syntax_error(&error)])?;
        let pos = Pos::from(&span.start);
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    builder.diagnostics.push(document_error(
                        Some(pos),
                        "the file holds more than one YAML document".to_owned(),
                        Some(
                            "an AppSpec is a single document; remove the extra \"---\" and what follows it".to_owned(),
                        ),
                    ));
                    break;
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                builder.scalar(pos, value.into_owned(), style, anchor, tag.as_deref())?;
            }
            Event::SequenceStart(_, anchor, tag) => builder.open(pos, anchor, tag.as_deref(), Open::Seq(Vec::new()))?,
            Event::MappingStart(_, anchor, tag) => {
                builder.open(pos, anchor, tag.as_deref(), Open::Map { entries: Vec::new(), key: None })?;
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close()?,
            Event::Alias(anchor) => builder.alias(pos, anchor)?,
            // Stream and document boundaries, comments and anchor names carry no data.
            _ => {}
        }
    }
    Ok(Tree { root: builder.root, diagnostics: builder.diagnostics })
}

/// The fix of most YAML syntax errors in an AppSpec.
const SYNTAX_HINT: &str = "check the indentation of this line and the one before (keys of one mapping line up, list \
     items start with \"- \"), and quote values that contain \": \" or start with *, & or [";

fn syntax_error(error: &ScanError) -> Diagnostic {
    let marker = error.marker();
    if matches!(error.kind(), ErrorKind::RecursionLimitExceeded) {
        // The same limit as ours, reached first: say it the same way.
        return too_deep(Pos::from(marker));
    }
    Diagnostic {
        line: Some(marker.line()),
        column: Some(marker.col() + 1),
        field: String::new(),
        message: format!("invalid YAML: {}", error.info()),
        hint: Some(SYNTAX_HINT.to_owned()),
    }
}

enum Open {
    Seq(Vec<Node>),
    Map { entries: Vec<Entry>, key: Option<Node> },
}

struct Frame {
    pos: Pos,
    anchor: usize,
    open: Open,
    size: usize,
    /// Height of the tallest child so far.
    child_height: usize,
}

/// Turns parser events into a tree with an explicit stack, so deep input cannot recurse.
#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    /// Completed anchored nodes by the parser's anchor id.
    anchors: HashMap<usize, Node>,
    /// Nodes so far, counting aliases expanded.
    nodes: usize,
    root: Option<Node>,
    diagnostics: Vec<Diagnostic>,
}

impl Builder {
    fn scalar(
        &mut self,
        pos: Pos,
        text: String,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
    ) -> Result<(), Vec<Diagnostic>> {
        let forces_string = tag.is_some_and(|tag| tag.core_suffix() == Some("str") || tag.parts() == ("", "!"));
        if let Some(tag) = tag {
            self.check_tag(pos, tag, &["str", "int", "float", "bool", "null"]);
        }
        self.count(pos, 1)?;
        let plain = style == ScalarStyle::Plain && !forces_string;
        let node = Node { pos, value: Rc::new(Value::Scalar(Scalar { text, plain })), size: 1, height: 1 };
        self.finish(node, anchor);
        Ok(())
    }

    fn open(&mut self, pos: Pos, anchor: usize, tag: Option<&Tag>, open: Open) -> Result<(), Vec<Diagnostic>> {
        if let Some(tag) = tag {
            self.check_tag(pos, tag, &["seq", "map"]);
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(vec![too_deep(pos)]);
        }
        self.count(pos, 1)?;
        self.stack.push(Frame { pos, anchor, open, size: 1, child_height: 0 });
        Ok(())
    }

    fn close(&mut self) -> Result<(), Vec<Diagnostic>> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let (value, size) = match frame.open {
            Open::Seq(items) => (Value::Seq(items), frame.size),
            Open::Map { entries, .. } => {
                let entries = self.merge(entries);
                let size = 1 + entries.iter().map(|entry| entry.key.size + entry.value.size).sum::<usize>();
                (Value::Map(entries), size)
            }
        };
        let node = Node { pos: frame.pos, value: Rc::new(value), size, height: frame.child_height + 1 };
        self.finish(node, frame.anchor);
        Ok(())
    }

    fn alias(&mut self, pos: Pos, anchor: usize) -> Result<(), Vec<Diagnostic>> {
        let Some(target) = self.anchors.get(&anchor) else {
            // The parser resolves an alias to an anchor that is still open, i.e. one of its own ancestors.
            return Err(vec![document_error(
                Some(pos),
                "an alias cannot refer to a node that contains it".to_owned(),
                None,
            )]);
        };
        let node = Node { pos, ..target.clone() };
        if self.stack.len() + node.height > MAX_DEPTH {
            return Err(vec![too_deep(pos)]);
        }
        self.count(pos, node.size)?;
        self.attach(node);
        Ok(())
    }

    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.attach(node);
    }

    fn attach(&mut self, node: Node) {
        let Some(frame) = self.stack.last_mut() else {
            self.root.get_or_insert(node);
            return;
        };
        frame.size += node.size;
        frame.child_height = frame.child_height.max(node.height);
        match &mut frame.open {
            Open::Seq(items) => items.push(node),
            Open::Map { entries, key } => match key.take() {
                None => *key = Some(node),
                Some(key) => entries.push(Entry { key, value: node }),
            },
        }
    }

    fn count(&mut self, pos: Pos, nodes: usize) -> Result<(), Vec<Diagnostic>> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_NODES {
            return Err(vec![document_error(
                Some(pos),
                format!("the document is too large: more than {MAX_NODES} nodes once aliases are expanded"),
                None,
            )]);
        }
        Ok(())
    }

    fn check_tag(&mut self, pos: Pos, tag: &Tag, allowed_core: &[&str]) {
        let nonspecific = tag.parts() == ("", "!");
        if nonspecific || tag.core_suffix().is_some_and(|suffix| allowed_core.contains(&suffix)) {
            return;
        }
        self.diagnostics.push(document_error(
            Some(pos),
            format!("unsupported YAML tag {}", quote(&tag.original())),
            Some("remove the tag".to_owned()),
        ));
    }

    /// Expands YAML 1.1 merge keys (`<<: *base`) as Ruby's Psych does: keys written in the mapping win, then
    /// earlier merged mappings win over later ones. Merged entries take the place of the `<<` entry.
    fn merge(&mut self, entries: Vec<Entry>) -> Vec<Entry> {
        if !entries.iter().any(|entry| entry.key.is_merge_key()) {
            return entries;
        }
        let explicit: HashSet<String> = entries
            .iter()
            .filter(|entry| !entry.key.is_merge_key())
            .filter_map(|entry| entry.key.text().map(str::to_owned))
            .collect();
        let mut merged: HashSet<String> = HashSet::new();
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            if !entry.key.is_merge_key() {
                out.push(entry);
                continue;
            }
            let sources = match &*entry.value.value {
                Value::Seq(items) => items.clone(),
                _ => vec![entry.value.clone()],
            };
            for source in sources {
                let Value::Map(source_entries) = &*source.value else {
                    self.diagnostics.push(document_error(
                        Some(source.pos),
                        format!("a merge key (<<) takes a mapping or a list of mappings, got {}", source.describe()),
                        None,
                    ));
                    continue;
                };
                for source_entry in source_entries {
                    if let Some(key) = source_entry.key.text()
                        && (explicit.contains(key) || !merged.insert(key.to_owned()))
                    {
                        continue;
                    }
                    out.push(source_entry.clone());
                }
            }
        }
        out
    }
}

fn too_deep(pos: Pos) -> Diagnostic {
    document_error(Some(pos), format!("the document is nested more than {MAX_DEPTH} levels deep"), None)
}

pub(super) fn document_error(pos: Option<Pos>, message: String, hint: Option<String>) -> Diagnostic {
    Diagnostic { line: pos.map(|pos| pos.line), column: pos.map(|pos| pos.column), field: String::new(), message, hint }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation.

/// The known keys of one mapping, with their values (null values included, so "required" can point at them).
struct Fields<'a> {
    pos: Pos,
    entries: Vec<(&'a str, &'a Node)>,
}

impl<'a> Fields<'a> {
    /// The value of `name`, when present and not null.
    fn get(&self, name: &str) -> Option<&'a Node> {
        self.entries.iter().find(|(key, _)| *key == name).map(|(_, value)| *value).filter(|value| !value.is_null())
    }

    /// The value of `name` even when it is null.
    fn get_raw(&self, name: &str) -> Option<&'a Node> {
        self.entries.iter().find(|(key, _)| *key == name).map(|(_, value)| *value)
    }
}

struct Checker {
    diagnostics: Vec<Diagnostic>,
    /// The document's `os`, once known; destinations and permissions depend on it.
    os: Option<Os>,
}

impl Checker {
    fn report(&mut self, pos: Pos, field: &str, message: String, hint: Option<String>) {
        self.diagnostics.push(Diagnostic {
            line: Some(pos.line),
            column: Some(pos.column),
            field: field.to_owned(),
            message,
            hint,
        });
    }

    fn document(&mut self, root: Option<&Node>) -> Option<AppSpec> {
        let Some(root) = root.filter(|root| !root.is_null()) else {
            let hint = "start it with \"version: 0.0\" and \"os: linux\"".to_owned();
            self.diagnostics.push(document_error(
                None,
                "application specification file was empty".to_owned(),
                Some(hint),
            ));
            return None;
        };
        let Value::Map(entries) = &*root.value else {
            self.report(
                root.pos,
                "",
                format!("the AppSpec must be a mapping with version, os, files and hooks, got {}", root.describe()),
                Some("start it with \"version: 0.0\" and \"os: linux\", one key per line".to_owned()),
            );
            return None;
        };
        let fields = self.fields(root.pos, entries, "", TOP_LEVEL_KEYS);

        let version = self.version(&fields);
        self.os = self.os(&fields);
        let files = self.files(fields.get("files"));
        let file_exists_behavior = self.file_exists_behavior(fields.get("file_exists_behavior"));
        let permissions = self.permissions(fields.get("permissions"));
        let hooks = self.hooks(&fields);
        Some(AppSpec { version: version?, os: self.os?, files, file_exists_behavior, permissions, hooks })
    }

    /// Checks a mapping's keys (strings, no duplicates, all in `known`) and returns the known ones.
    fn fields<'a>(&mut self, pos: Pos, entries: &'a [Entry], path: &str, known: &[&str]) -> Fields<'a> {
        let mut fields = Fields { pos, entries: Vec::new() };
        for (key, key_node, value) in self.keyed(entries, path) {
            if known.contains(&key) {
                fields.entries.push((key, value));
            } else {
                let hint = unknown_key_hint(key, known, path.is_empty());
                self.report(key_node.pos, &join(path, key), format!("unknown key {}", quote(key)), Some(hint));
            }
        }
        fields
    }

    /// The entries of a mapping whose keys are strings, reporting other keys and duplicates (the first one wins).
    fn keyed<'a>(&mut self, entries: &'a [Entry], path: &str) -> Vec<(&'a str, &'a Node, &'a Node)> {
        let mut first_line: HashMap<&str, usize> = HashMap::new();
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            let key = match &*entry.key.value {
                Value::Scalar(scalar) => scalar.text.as_str(),
                _ => {
                    let message = format!("keys must be strings, got {}", entry.key.describe());
                    let hint = "use a plain name as the key".to_owned();
                    self.report(entry.key.pos, path, message, Some(hint));
                    continue;
                }
            };
            if let Some(line) = first_line.get(key) {
                let message = format!("duplicate key {}, first given on line {line}", quote(key));
                let hint = format!("remove one of the two, or merge them into the one on line {line}");
                self.report(entry.key.pos, &join(path, key), message, Some(hint));
                continue;
            }
            first_line.insert(key, entry.key.pos.line);
            out.push((key, &entry.key, &entry.value));
        }
        out
    }

    /// A required field: reports it missing (at its null value, or at the mapping when absent).
    fn required<'a>(&mut self, fields: &Fields<'a>, name: &str, path: &str, hint: Option<&str>) -> Option<&'a Node> {
        if let Some(value) = fields.get(name) {
            return Some(value);
        }
        let pos = fields.get_raw(name).map_or(fields.pos, |value| value.pos);
        self.report(pos, &join(path, name), format!("{name} is required"), hint.map(str::to_owned));
        None
    }

    /// The text of a scalar that must be a string (numbers and booleans are taken as written, as the agent does).
    fn string(&mut self, node: &Node, path: &str, name: &str) -> Option<String> {
        match &*node.value {
            Value::Scalar(scalar) => Some(scalar.text.clone()),
            _ => {
                let hint = format!("write one value, e.g. {name}: \"text\"");
                self.report(node.pos, path, format!("{name} must be a string, got {}", node.describe()), Some(hint));
                None
            }
        }
    }

    /// Like [`Checker::string`], and the string must not be blank.
    fn nonempty_string(&mut self, node: &Node, path: &str, name: &str) -> Option<String> {
        let text = self.string(node, path, name)?;
        if text.trim().is_empty() {
            let hint = format!("give {name} a value, or leave it out where it is optional");
            self.report(node.pos, path, format!("{name} must not be empty"), Some(hint));
            return None;
        }
        Some(text)
    }

    /// A path of the revision (a hook `location`, a `files` source) must not climb out of it with `..`; a leading
    /// `/` is the revision's root, as for CodeDeploy's agent.
    fn inside_revision(&mut self, node: &Node, path: &str, name: &str, text: &str) -> bool {
        if !text.split(['/', '\\']).any(|component| component == "..") {
            return true;
        }
        let message = format!("{name} must stay inside the revision, got {} (\"..\" is not allowed)", quote(text));
        let hint = "give the path from the revision's root, e.g. scripts/start.sh".to_owned();
        self.report(node.pos, path, message, Some(hint));
        false
    }

    fn optional_nonempty_string(&mut self, fields: &Fields<'_>, name: &str, path: &str) -> Option<String> {
        let node = fields.get(name)?;
        self.nonempty_string(node, &join(path, name), name)
    }

    /// A list of non-blank strings.
    fn string_list(&mut self, node: &Node, path: &str, name: &str) -> Vec<String> {
        let Value::Seq(items) = &*node.value else {
            let hint = node.text().map(|text| format!("write {name}: [{text}]"));
            self.report(node.pos, path, format!("{name} must be a list of strings, got {}", node.describe()), hint);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{index}]");
            if item.is_null() {
                let hint = "remove the empty \"-\" line".to_owned();
                self.report(item.pos, &item_path, format!("{name} entries must not be empty"), Some(hint));
                continue;
            }
            let Value::Scalar(_) = &*item.value else {
                let message = format!("{name} entries must be strings, got {}", item.describe());
                let hint = format!("write the entries as a list of strings, e.g. {name}: [a, b]");
                self.report(item.pos, &item_path, message, Some(hint));
                continue;
            };
            if let Some(text) = self.nonempty_string(item, &item_path, &format!("{name} entries")) {
                out.push(text);
            }
        }
        out
    }

    fn version(&mut self, fields: &Fields<'_>) -> Option<String> {
        let node = self.required(fields, "version", "", Some("add \"version: 0.0\""))?;
        if node.text() == Some("0.0") {
            return Some("0.0".to_owned());
        }
        let hint = "write \"version: 0.0\", the only AppSpec version".to_owned();
        self.report(node.pos, "version", format!("version must be 0.0, got {}", node.describe()), Some(hint));
        None
    }

    fn os(&mut self, fields: &Fields<'_>) -> Option<Os> {
        let node = self.required(fields, "os", "", Some("add \"os: linux\" or \"os: windows\""))?;
        match node.text() {
            Some("linux") => Some(Os::Linux),
            Some("windows") => Some(Os::Windows),
            text => {
                let hint = text
                    .and_then(|text| suggest(text, ["linux", "windows"]))
                    .map(did_you_mean)
                    .or_else(|| Some("write \"os: linux\"; Cutover's agent runs on Linux".to_owned()));
                self.report(node.pos, "os", format!("os must be linux or windows, got {}", node.describe()), hint);
                None
            }
        }
    }

    fn files(&mut self, node: Option<&Node>) -> Vec<FileMapping> {
        let Some(node) = node else {
            return Vec::new();
        };
        let Value::Seq(items) = &*node.value else {
            let message =
                format!("files must be a list of mappings with source and destination, got {}", node.describe());
            self.report(node.pos, "files", message, Some("write each mapping as \"- source: <path in the revision>\" with \"destination: <absolute path>\" below it".to_owned()));
            return Vec::new();
        };
        let mut files = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let path = format!("files[{index}]");
            let Value::Map(entries) = &*item.value else {
                let message =
                    format!("files entries must be mappings with source and destination, got {}", item.describe());
                self.report(item.pos, &path, message, Some("write each mapping as \"- source: <path in the revision>\" with \"destination: <absolute path>\" below it".to_owned()));
                continue;
            };
            let fields = self.fields(item.pos, entries, &path, FILE_KEYS);
            // An empty source is allowed: on Windows it means the whole bundle.
            let source = self
                .required(
                    &fields,
                    "source",
                    &path,
                    Some("add source: a file or directory of the revision, / for all of it"),
                )
                .and_then(|node| {
                    let field = join(&path, "source");
                    self.string(node, &field, "source")
                        .filter(|source| self.inside_revision(node, &field, "source", source))
                });
            let destination = self.destination(&fields, &path);
            if let (Some(source), Some(destination)) = (source, destination) {
                files.push(FileMapping { source, destination });
            }
        }
        files
    }

    fn destination(&mut self, fields: &Fields<'_>, path: &str) -> Option<String> {
        let node =
            self.required(fields, "destination", path, Some("add destination: an absolute directory on the host"))?;
        let field = join(path, "destination");
        let destination = self.nonempty_string(node, &field, "destination")?;
        if is_absolute(&destination, self.os) {
            return Some(destination);
        }
        let hint = match self.os {
            Some(Os::Linux) if is_absolute(&destination, Some(Os::Windows)) => {
                "os is linux, so destination must be a Linux path starting with \"/\"".to_owned()
            }
            Some(Os::Windows) if is_absolute(&destination, Some(Os::Linux)) => {
                "os is windows, so destination must start with a drive such as \"C:\\\"".to_owned()
            }
            Some(Os::Windows) => format!("use an absolute directory such as {}", quote(&format!("C:\\{destination}"))),
            _ => format!("use an absolute directory such as {}", quote(&format!("/{destination}"))),
        };
        self.report(
            node.pos,
            &field,
            format!("destination must be an absolute path, got {}", quote(&destination)),
            Some(hint),
        );
        None
    }

    fn file_exists_behavior(&mut self, node: Option<&Node>) -> Option<FileExistsBehavior> {
        let node = node?;
        if let Some(behavior) = node.text().and_then(FileExistsBehavior::parse) {
            return Some(behavior);
        }
        let hint = node
            .text()
            .and_then(|text| suggest(text, ["DISALLOW", "OVERWRITE", "RETAIN"]))
            .map(did_you_mean)
            .or_else(|| Some("write one of DISALLOW, OVERWRITE or RETAIN, in capitals".to_owned()));
        let message = format!("file_exists_behavior must be DISALLOW, OVERWRITE or RETAIN, got {}", node.describe());
        self.report(node.pos, "file_exists_behavior", message, hint);
        None
    }

    fn permissions(&mut self, node: Option<&Node>) -> Vec<Permission> {
        let Some(node) = node else {
            return Vec::new();
        };
        let Value::Seq(items) = &*node.value else {
            let message = format!("permissions must be a list of mappings with an object, got {}", node.describe());
            self.report(
                node.pos,
                "permissions",
                message,
                Some("write each entry as \"- object: <absolute path>\" with its settings below it".to_owned()),
            );
            return Vec::new();
        };
        if self.os == Some(Os::Windows) && !items.is_empty() {
            self.report(
                node.pos,
                "permissions",
                "permissions are not supported on windows".to_owned(),
                Some("remove permissions, or set them from a hook script".to_owned()),
            );
        }
        let mut permissions = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            if let Some(permission) = self.permission(item, &format!("permissions[{index}]")) {
                permissions.push(permission);
            }
        }
        permissions
    }

    fn permission(&mut self, item: &Node, path: &str) -> Option<Permission> {
        let Value::Map(entries) = &*item.value else {
            let message = format!("permissions entries must be mappings with an object, got {}", item.describe());
            self.report(
                item.pos,
                path,
                message,
                Some("write each entry as \"- object: <absolute path>\" with its settings below it".to_owned()),
            );
            return None;
        };
        let fields = self.fields(item.pos, entries, path, PERMISSION_KEYS);
        let object = self
            .required(&fields, "object", path, Some("add object: the absolute path the settings apply to"))
            .and_then(|node| self.nonempty_string(node, &join(path, "object"), "object"));
        let pattern = match fields.get("pattern") {
            Some(node) => self.nonempty_string(node, &join(path, "pattern"), "pattern"),
            None => Some("**".to_owned()),
        };
        let except = fields.get("except").map(|node| self.string_list(node, &join(path, "except"), "except"));
        let owner = self.optional_nonempty_string(&fields, "owner", path);
        let group = self.optional_nonempty_string(&fields, "group", path);
        let mode = fields.get("mode").and_then(|node| self.mode(node, &join(path, "mode")));
        let acls = fields.get("acls").map(|node| self.string_list(node, &join(path, "acls"), "acls"));
        let context = fields.get("context").and_then(|node| self.context(node, &join(path, "context")));
        let types = match fields.get("type") {
            Some(node) => self.object_types(node, &join(path, "type")),
            None => vec![ObjectType::File, ObjectType::Directory],
        };
        Some(Permission {
            object: object?,
            pattern: pattern?,
            except: except.unwrap_or_default(),
            owner,
            group,
            mode,
            acls: acls.unwrap_or_default(),
            context,
            types,
        })
    }

    /// A mode is 1 to 4 octal digits; YAML may give it as a number, whose decimal text is read as the digits.
    fn mode(&mut self, node: &Node, path: &str) -> Option<u32> {
        if let Some(text) = node.text()
            && (1..=4).contains(&text.len())
            && text.bytes().all(|byte| (b'0'..=b'7').contains(&byte))
            && let Ok(mode) = u32::from_str_radix(text, 8)
        {
            return Some(mode);
        }
        let message = format!("mode must be 1 to 4 octal digits (0-7), got {}", node.describe());
        let hint = "write the mode as octal digits, e.g. mode: 644 or mode: \"0755\"".to_owned();
        self.report(node.pos, path, message, Some(hint));
        None
    }

    fn context(&mut self, node: &Node, path: &str) -> Option<SeContext> {
        let Value::Map(entries) = &*node.value else {
            let message = format!("context must be a mapping with name, type and range, got {}", node.describe());
            let hint = "write context: {type: httpd_sys_content_t} (name and range are optional)".to_owned();
            self.report(node.pos, path, message, Some(hint));
            return None;
        };
        let fields = self.fields(node.pos, entries, path, CONTEXT_KEYS);
        if let Some(role) = fields.get_raw("role") {
            self.report(
                role.pos,
                &join(path, "role"),
                "role is not supported in an SELinux context".to_owned(),
                Some("remove role; only name (the SELinux user), type and range can be set".to_owned()),
            );
        }
        let name = self.optional_nonempty_string(&fields, "name", path);
        let type_ = self
            .required(&fields, "type", path, Some("add type: the SELinux type, e.g. httpd_sys_content_t"))
            .and_then(|node| self.nonempty_string(node, &join(path, "type"), "type"));
        let range = self.optional_nonempty_string(&fields, "range", path);
        Some(SeContext { name, type_: type_?, range })
    }

    fn object_types(&mut self, node: &Node, path: &str) -> Vec<ObjectType> {
        let Value::Seq(items) = &*node.value else {
            let hint = node.text().map(|text| format!("write type: [{text}]"));
            self.report(node.pos, path, format!("type must be a list, got {}", node.describe()), hint);
            return Vec::new();
        };
        if items.is_empty() {
            let hint = "leave type out to cover both".to_owned();
            self.report(node.pos, path, "type must name file, directory or both".to_owned(), Some(hint));
        }
        let mut types = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            match item.text() {
                Some("file") => types.push(ObjectType::File),
                Some("directory") => types.push(ObjectType::Directory),
                text => {
                    let hint = text
                        .and_then(|text| suggest(text, ["file", "directory"]))
                        .map(did_you_mean)
                        .or_else(|| Some("list file, directory or both".to_owned()));
                    let message = format!("type must be file or directory, got {}", item.describe());
                    self.report(item.pos, &format!("{path}[{index}]"), message, hint);
                }
            }
        }
        types
    }

    fn hooks(&mut self, fields: &Fields<'_>) -> Vec<Hook> {
        let Some(node) = fields.get("hooks") else {
            return Vec::new();
        };
        let Value::Map(entries) = &*node.value else {
            let message = format!(
                "hooks must be a mapping of lifecycle event names to lists of scripts, got {}",
                node.describe()
            );
            let hint = "write each event on its own line under hooks, e.g. \"  BeforeInstall:\"".to_owned();
            self.report(node.pos, "hooks", message, Some(hint));
            return Vec::new();
        };
        let mut hooks = Vec::new();
        for (name, key, value) in self.keyed(entries, "hooks") {
            let path = join("hooks", name);
            let event = match name.parse::<LifecycleEvent>() {
                Ok(event) if event.accepts_scripts() => Some(event),
                Ok(event) => {
                    let hint = no_scripts_hint(event).to_owned();
                    self.report(key.pos, &path, format!("{event} cannot have scripts"), Some(hint));
                    None
                }
                Err(_) => {
                    let message = format!("unknown lifecycle event {}", quote(name));
                    self.report(key.pos, &path, message, Some(unknown_event_hint(name)));
                    None
                }
            };
            // CodeDeploy ignores an event whose value is null.
            if value.is_null() {
                continue;
            }
            let scripts = self.scripts(key.pos, value, &path, name);
            if let Some(event) = event
                && !scripts.is_empty()
            {
                hooks.push(Hook { event, scripts });
            }
        }
        hooks
    }

    fn scripts(&mut self, key_pos: Pos, node: &Node, path: &str, event: &str) -> Vec<HookScript> {
        let Value::Seq(items) = &*node.value else {
            self.report(
                node.pos,
                path,
                format!("{event} must be a list of scripts, got {}", node.describe()),
                Some("start each script with \"- location:\"".to_owned()),
            );
            return Vec::new();
        };
        let mut scripts = Vec::with_capacity(items.len());
        // Only timeouts written in the file count towards the event's limit; see `parse`.
        let mut written_timeouts: u64 = 0;
        let mut timeouts_valid = true;
        for (index, item) in items.iter().enumerate() {
            let path = format!("{path}[{index}]");
            let Value::Map(entries) = &*item.value else {
                let hint = item.text().map(|text| format!("write \"- location: {text}\""));
                let message = format!("{event} scripts must be mappings with a location, got {}", item.describe());
                self.report(item.pos, &path, message, hint);
                continue;
            };
            let fields = self.fields(item.pos, entries, &path, SCRIPT_KEYS);
            let location = self
                .required(&fields, "location", &path, Some("add location: the script's path in the revision"))
                .and_then(|node| {
                    let field = join(&path, "location");
                    self.nonempty_string(node, &field, "location")
                        .filter(|location| self.inside_revision(node, &field, "location", location))
                });
            let timeout_secs = match fields.get("timeout") {
                Some(node) => {
                    let timeout = self.timeout(node, &join(&path, "timeout"));
                    match timeout {
                        Some(secs) => written_timeouts = written_timeouts.saturating_add(secs),
                        None => timeouts_valid = false,
                    }
                    timeout
                }
                None => Some(DEFAULT_HOOK_TIMEOUT_SECS),
            };
            let runas = self.optional_nonempty_string(&fields, "runas", &path);
            let sudo = match fields.get("sudo") {
                Some(node) => self.boolean(node, &join(&path, "sudo"), "sudo"),
                None => Some(false),
            };
            if let (Some(location), Some(timeout_secs), Some(sudo)) = (location, timeout_secs, sudo) {
                scripts.push(HookScript { location, timeout_secs, runas, sudo });
            }
        }
        if timeouts_valid && written_timeouts > MAX_EVENT_SECS {
            self.report(
                key_pos,
                path,
                format!(
                    "the timeouts of {event} add up to {written_timeouts} seconds, more than the {MAX_EVENT_SECS} one \
                     lifecycle event may take"
                ),
                Some("lower the timeouts, or move scripts to another lifecycle event".to_owned()),
            );
        }
        scripts
    }

    fn timeout(&mut self, node: &Node, path: &str) -> Option<u64> {
        let digits = node.text().map(|text| text.strip_prefix('+').unwrap_or(text));
        if let Some(digits) = digits
            && !digits.is_empty()
            && digits.bytes().all(|byte| byte.is_ascii_digit())
        {
            // All digits, so a parse failure can only be overflow: far too long either way.
            let secs = digits.parse::<u64>().unwrap_or(u64::MAX);
            if secs > MAX_EVENT_SECS {
                self.report(
                    node.pos,
                    path,
                    format!("timeout must be at most {MAX_EVENT_SECS} seconds, got {}", node.describe()),
                    Some(format!("a lifecycle event may take at most {MAX_EVENT_SECS} seconds in all")),
                );
                return None;
            }
            if secs > 0 {
                return Some(secs);
            }
        }
        let message = format!("timeout must be a positive whole number of seconds, got {}", node.describe());
        let hint = format!("write a number of seconds up to {MAX_EVENT_SECS}, e.g. timeout: 300");
        self.report(node.pos, path, message, Some(hint));
        None
    }

    /// A boolean, with the YAML 1.1 spellings Ruby's Psych also accepts; quoted spellings are taken too.
    fn boolean(&mut self, node: &Node, path: &str, name: &str) -> Option<bool> {
        match node.text().map(str::to_ascii_lowercase).as_deref() {
            Some("true" | "yes" | "on") => Some(true),
            Some("false" | "no" | "off") => Some(false),
            _ => {
                let hint = format!("write {name}: true or {name}: false");
                self.report(
                    node.pos,
                    path,
                    format!("{name} must be true or false, got {}", node.describe()),
                    Some(hint),
                );
                None
            }
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// Quotes text for a message: shortened so a huge scalar cannot flood the output, control characters and quotes
/// escaped, but backslashes kept as written so Windows paths read naturally.
pub(super) fn quote(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    let mut quoted = String::with_capacity(text.len().min(4 * MAX_CHARS) + 5);
    quoted.push('"');
    for (index, character) in text.chars().enumerate() {
        if index == MAX_CHARS {
            quoted.push_str("...");
            break;
        }
        match character {
            '"' => quoted.push_str("\\\""),
            character if character.is_control() => quoted.extend(character.escape_default()),
            character => quoted.push(character),
        }
    }
    quoted.push('"');
    quoted
}

fn is_absolute(path: &str, os: Option<Os>) -> bool {
    let unix = path.starts_with('/');
    let bytes = path.as_bytes();
    let windows = path.starts_with("\\\\")
        || (bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && matches!(bytes[2], b'\\' | b'/'));
    match os {
        Some(Os::Linux) => unix,
        Some(Os::Windows) => windows,
        None => unix || windows,
    }
}

fn did_you_mean(candidate: &str) -> String {
    format!("did you mean {candidate}?")
}

fn unknown_key_hint(key: &str, known: &[&str], top_level: bool) -> String {
    if let Some(candidate) = suggest(key, known.iter().copied()) {
        return did_you_mean(candidate);
    }
    if top_level {
        if key.parse::<LifecycleEvent>().is_ok() {
            return format!("{key} is a lifecycle event; indent it under hooks");
        }
        if key.eq_ignore_ascii_case("resources") {
            return "Resources belongs to ECS and Lambda AppSpecs; an EC2/on-premises AppSpec uses files and hooks"
                .to_owned();
        }
    }
    format!("the keys allowed here are {}", list(known.iter().copied()))
}

fn unknown_event_hint(name: &str) -> String {
    let scripted = LifecycleEvent::ALL
        .into_iter()
        .chain(LifecycleEvent::EXTENSIONS)
        .filter(|event| event.accepts_scripts())
        .map(LifecycleEvent::as_str);
    if let Some(candidate) = suggest(name, scripted.clone()) {
        return did_you_mean(candidate);
    }
    format!("scripts can run in {}", list(scripted))
}

fn no_scripts_hint(event: LifecycleEvent) -> &'static str {
    match event {
        LifecycleEvent::DownloadBundle | LifecycleEvent::Install => {
            "the agent performs DownloadBundle and Install itself; put scripts in BeforeInstall or AfterInstall"
        }
        LifecycleEvent::BlockTraffic => {
            "the server performs BlockTraffic itself; put scripts in BeforeBlockTraffic or AfterBlockTraffic"
        }
        LifecycleEvent::AllowTraffic => {
            "the server performs AllowTraffic itself; put scripts in BeforeAllowTraffic or AfterAllowTraffic"
        }
        LifecycleEvent::AllowTestTraffic | LifecycleEvent::AfterAllowTestTraffic => {
            "AllowTestTraffic and AfterAllowTestTraffic exist only in ECS deployments"
        }
        _ => "Start and End only mark the ends of a deployment; put scripts in ApplicationStop or ValidateService",
    }
}

/// "a, b and c".
fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_owned(),
        None => String::new(),
    }
}

/// The candidate closest to `word`: equal ignoring case, or a small edit distance away (for typos).
fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Typos are short; comparing a huge key against every candidate would only waste time.
    if word.chars().count() > 64 {
        return None;
    }
    let word = word.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&word, &candidate.to_lowercase());
        let limit = if candidate.len() <= 3 { 1 } else { 2 };
        if distance <= limit && best.is_none_or(|(best_distance, _)| distance < best_distance) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, a_char) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

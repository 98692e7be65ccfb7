//! What the Lambda and ECS AppSpecs share: `version: 0.0`, exactly one resource of one type under `Resources`, and
//! `Hooks` as a list of `EVENT: FUNCTION`. Keys are matched case-insensitively; every problem becomes a
//! [`Diagnostic`] with its line and field.

use super::model::Diagnostic;
use super::parse::{Node, Pos, Value, check_text, quote};
use crate::lifecycle::LifecycleEvent;

/// The kind of resource an AppSpec deploys.
pub(super) struct Kind {
    /// The resource's `Type`.
    pub(super) type_name: &'static str,
    /// What one resource is, for messages ("function", "service").
    pub(super) what: &'static str,
    /// The compute platform, for messages.
    pub(super) platform: &'static str,
    pub(super) type_hint: &'static str,
    /// The events whose hooks name functions.
    pub(super) hooks: &'static [LifecycleEvent],
    pub(super) hooks_hint: &'static str,
}

/// The one resource of a document.
pub(super) struct Resource<'a> {
    pub(super) logical_name: String,
    /// `Resources.<name>.Properties`.
    pub(super) properties_field: String,
    pub(super) properties: &'a Node,
    pub(super) hooks: Vec<(LifecycleEvent, String)>,
}

/// Checks `text` with `document` (see [`check_text`]).
pub(super) fn parse<T>(
    text: &str,
    document: impl FnOnce(&mut Check, &Node) -> Option<T>,
) -> Result<T, Vec<Diagnostic>> {
    check_text(text, "the AppSpec is empty", |diagnostics, root| {
        let mut check = Check { diagnostics };
        let spec = root.and_then(|root| document(&mut check, root));
        (spec, check.diagnostics)
    })
}

pub(super) struct Check {
    diagnostics: Vec<Diagnostic>,
}

impl Check {
    pub(super) fn error(&mut self, pos: Pos, field: &str, message: String, hint: Option<&str>) {
        self.diagnostics.push(Diagnostic {
            line: Some(pos.line),
            column: Some(pos.column),
            field: field.to_owned(),
            message,
            hint: hint.map(str::to_owned),
        });
    }

    /// The entries of a mapping, keys lowercased; reports unknown keys (from `known`, lowercase) and non-mappings.
    pub(super) fn mapping<'a>(
        &mut self,
        node: &'a Node,
        field: &str,
        known: &[&str],
    ) -> Option<Vec<(String, &'a Node)>> {
        let Value::Map(entries) = &*node.value else {
            self.error(node.pos, field, format!("{field} must be a mapping, got {}", node.describe()), None);
            return None;
        };
        let mut res = Vec::new();
        for entry in entries {
            let Some(key) = entry.key.text() else {
                self.error(entry.key.pos, field, "keys must be plain text".to_owned(), None);
                continue;
            };
            let lower = key.to_ascii_lowercase();
            if !known.contains(&lower.as_str()) {
                let path = if field.is_empty() { key.to_owned() } else { format!("{field}.{key}") };
                self.error(
                    entry.key.pos,
                    &path,
                    format!("unknown key {}", quote(key)),
                    Some(&format!("expected one of: {}", known.join(", "))),
                );
                continue;
            }
            if res.iter().any(|(seen, _): &(String, &Node)| *seen == lower) {
                self.error(entry.key.pos, field, format!("key {} appears twice", quote(key)), None);
                continue;
            }
            res.push((lower, &entry.value));
        }
        Some(res)
    }

    /// A required text field; `key` is its canonical spelling (matched case-insensitively).
    pub(super) fn required_text(
        &mut self,
        fields: &[(String, &Node)],
        key: &str,
        field: &str,
        pos: Pos,
    ) -> Option<String> {
        let path = format!("{field}.{key}");
        let lower = key.to_ascii_lowercase();
        match fields.iter().find(|(name, _)| *name == lower) {
            None => {
                self.error(pos, &path, format!("{key} is required"), None);
                None
            }
            Some((_, node)) => match node.text().map(str::trim).filter(|text| !text.is_empty()) {
                Some(text) => Some(text.to_owned()),
                None => {
                    self.error(node.pos, &path, format!("{key} must be text, got {}", node.describe()), None);
                    None
                }
            },
        }
    }

    /// `version`, the one resource of `kind` and the hooks.
    pub(super) fn document<'a>(&mut self, root: &'a Node, kind: &Kind) -> Option<Resource<'a>> {
        let fields = self.mapping(root, "", &["version", "resources", "hooks"])?;
        match fields.iter().find(|(key, _)| key == "version") {
            Some((_, node)) if node.text() == Some("0.0") => {}
            Some((_, node)) => {
                self.error(node.pos, "version", format!("version must be 0.0, got {}", node.describe()), None)
            }
            None => self.error(root.pos, "version", "version is required".to_owned(), Some("add \"version: 0.0\"")),
        }
        let resource = match fields.iter().find(|(key, _)| key == "resources") {
            Some((_, node)) => self.resource(node, kind),
            None => {
                let hint = format!("name the {} under Resources", kind.what);
                self.error(root.pos, "Resources", "Resources is required".to_owned(), Some(&hint));
                None
            }
        };
        let hooks = match fields.iter().find(|(key, _)| key == "hooks") {
            Some((_, node)) if !node.is_null() => self.hooks(node, kind),
            _ => Vec::new(),
        };
        let (logical_name, properties_field, properties) = resource?;
        Some(Resource { logical_name, properties_field, properties, hooks })
    }

    fn resource<'a>(&mut self, node: &'a Node, kind: &Kind) -> Option<(String, String, &'a Node)> {
        let Value::Seq(items) = &*node.value else {
            self.error(node.pos, "Resources", format!("Resources must be a list, got {}", node.describe()), None);
            return None;
        };
        if items.len() != 1 {
            let message = format!("Resources must name exactly one {}, got {}", kind.what, items.len());
            self.error(node.pos, "Resources", message, None);
            return None;
        }
        let item = &items[0];
        let Value::Map(entries) = &*item.value else {
            let message =
                format!("a resource must be a mapping of its name to its definition, got {}", item.describe());
            self.error(item.pos, "Resources[0]", message, None);
            return None;
        };
        let [entry] = entries.as_slice() else {
            self.error(item.pos, "Resources[0]", "a resource is one name with its definition".to_owned(), None);
            return None;
        };
        let logical_name = entry.key.text().unwrap_or_default().to_owned();
        let field = format!("Resources.{logical_name}");
        let definition = self.mapping(&entry.value, &field, &["type", "properties"])?;
        match definition.iter().find(|(key, _)| key == "type").map(|(_, node)| *node) {
            Some(node) if node.text() == Some(kind.type_name) => {}
            Some(node) => self.error(
                node.pos,
                &format!("{field}.Type"),
                format!("Type must be {}, got {}", kind.type_name, node.describe()),
                Some(kind.type_hint),
            ),
            None => self.error(
                entry.value.pos,
                &format!("{field}.Type"),
                "Type is required".to_owned(),
                Some(&format!("Type: {}", kind.type_name)),
            ),
        }
        let Some((_, properties)) = definition.iter().find(|(key, _)| key == "properties") else {
            self.error(entry.value.pos, &format!("{field}.Properties"), "Properties is required".to_owned(), None);
            return None;
        };
        Some((logical_name, format!("{field}.Properties"), properties))
    }

    fn hooks(&mut self, node: &Node, kind: &Kind) -> Vec<(LifecycleEvent, String)> {
        let Value::Seq(items) = &*node.value else {
            let example = format!("- {}: my-validation-function", kind.hooks[kind.hooks.len() - 1]);
            let message = format!("Hooks must be a list of single-key mappings, got {}", node.describe());
            self.error(node.pos, "Hooks", message, Some(&example));
            return Vec::new();
        };
        let mut hooks: Vec<(LifecycleEvent, String)> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let field = format!("Hooks[{index}]");
            let Value::Map(entries) = &*item.value else {
                self.error(item.pos, &field, format!("a hook must be EVENT: FUNCTION, got {}", item.describe()), None);
                continue;
            };
            for entry in entries {
                let key = entry.key.text().unwrap_or_default();
                let Some(event) = kind.hooks.iter().find(|event| event.as_str().eq_ignore_ascii_case(key)).copied()
                else {
                    let message = format!("{} is not a hook of {} deployments", quote(key), kind.platform);
                    self.error(entry.key.pos, &field, message, Some(kind.hooks_hint));
                    continue;
                };
                let Some(function) = entry.value.text().map(str::trim).filter(|text| !text.is_empty()) else {
                    self.error(
                        entry.value.pos,
                        &format!("{field}.{key}"),
                        format!("the hook must name a function, got {}", entry.value.describe()),
                        None,
                    );
                    continue;
                };
                if hooks.iter().any(|(seen, _)| *seen == event) {
                    self.error(entry.key.pos, &field, format!("{event} appears twice; each hook runs once"), None);
                    continue;
                }
                hooks.push((event, function.to_owned()));
            }
        }
        hooks
    }
}

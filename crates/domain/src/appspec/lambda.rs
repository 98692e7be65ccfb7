//! The Lambda AppSpec (CodeDeploy's §2.3): one function, the alias that moves from its current version to its
//! target version, and validation hooks naming functions.
//!
//! Keys are matched case-insensitively (the user guide prints `resources`, SAM writes `Resources`). The document goes
//! through the same positioned YAML tree as the server AppSpec, so every problem names its line and field.

use super::model::Diagnostic;
use super::parse::{MAX_TEXT_BYTES, Node, Pos, Value, build_tree, document_error, quote};
use crate::lifecycle::LifecycleEvent;

/// A validated Lambda AppSpec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaAppSpec {
    pub function: LambdaFunction,
    /// Validation hooks in the order written: BeforeAllowTraffic and/or AfterAllowTraffic, each at most once.
    pub hooks: Vec<(LifecycleEvent, String)>,
}

/// The function a Lambda deployment moves: its alias goes from `current_version` to `target_version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaFunction {
    /// The resource's logical name in the AppSpec.
    pub logical_name: String,
    pub name: String,
    pub alias: String,
    pub current_version: String,
    pub target_version: String,
}

impl LambdaAppSpec {
    /// The function named by the hook of `event`, if any.
    pub fn hook(&self, event: LifecycleEvent) -> Option<&str> {
        self.hooks.iter().find(|(name, _)| *name == event).map(|(_, function)| function.as_str())
    }
}

const HOOK_EVENTS: [LifecycleEvent; 2] = [LifecycleEvent::BeforeAllowTraffic, LifecycleEvent::AfterAllowTraffic];

/// Parses and validates a Lambda AppSpec given as YAML or JSON; on failure returns every problem found.
pub fn parse_lambda(text: &str) -> Result<LambdaAppSpec, Vec<Diagnostic>> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(vec![document_error(
            None,
            format!("application specification file is {} bytes, more than the {MAX_TEXT_BYTES} allowed", text.len()),
            None,
        )]);
    }
    let tree = build_tree(text)?;
    let mut check = Check { diagnostics: tree.diagnostics };
    let spec = tree.root.as_ref().and_then(|root| check.document(root));
    let mut diagnostics = check.diagnostics;
    match spec {
        Some(spec) if diagnostics.is_empty() => Ok(spec),
        _ => {
            if diagnostics.is_empty() {
                diagnostics.push(document_error(None, "the AppSpec is empty".to_owned(), None));
            }
            diagnostics.sort_by_key(|diagnostic| (diagnostic.line, diagnostic.column));
            Err(diagnostics)
        }
    }
}

struct Check {
    diagnostics: Vec<Diagnostic>,
}

impl Check {
    fn error(&mut self, pos: Pos, field: &str, message: String, hint: Option<&str>) {
        self.diagnostics.push(Diagnostic {
            line: Some(pos.line),
            column: Some(pos.column),
            field: field.to_owned(),
            message,
            hint: hint.map(str::to_owned),
        });
    }

    /// The entries of a mapping, keys lowercased; reports unknown keys (from `known`, lowercase) and non-mappings.
    fn mapping<'a>(&mut self, node: &'a Node, field: &str, known: &[&str]) -> Option<Vec<(String, &'a Node)>> {
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
    fn required_text(&mut self, fields: &[(String, &Node)], key: &str, field: &str, pos: Pos) -> Option<String> {
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

    fn document(&mut self, root: &Node) -> Option<LambdaAppSpec> {
        let fields = self.mapping(root, "", &["version", "resources", "hooks"])?;
        match fields.iter().find(|(key, _)| key == "version") {
            Some((_, node)) if node.text() == Some("0.0") => {}
            Some((_, node)) => {
                self.error(node.pos, "version", format!("version must be 0.0, got {}", node.describe()), None)
            }
            None => self.error(root.pos, "version", "version is required".to_owned(), Some("add \"version: 0.0\"")),
        }
        let function = match fields.iter().find(|(key, _)| key == "resources") {
            Some((_, node)) => self.resources(node),
            None => {
                self.error(
                    root.pos,
                    "Resources",
                    "Resources is required".to_owned(),
                    Some("name the function under Resources"),
                );
                None
            }
        };
        let hooks = match fields.iter().find(|(key, _)| key == "hooks") {
            Some((_, node)) if !node.is_null() => self.hooks(node),
            _ => Vec::new(),
        };
        Some(LambdaAppSpec { function: function?, hooks })
    }

    fn resources(&mut self, node: &Node) -> Option<LambdaFunction> {
        let Value::Seq(items) = &*node.value else {
            self.error(node.pos, "Resources", format!("Resources must be a list, got {}", node.describe()), None);
            return None;
        };
        if items.len() != 1 {
            self.error(
                node.pos,
                "Resources",
                format!("Resources must name exactly one function, got {}", items.len()),
                None,
            );
            return None;
        }
        let item = &items[0];
        let Value::Map(entries) = &*item.value else {
            self.error(
                item.pos,
                "Resources[0]",
                format!("a resource must be a mapping of its name to its definition, got {}", item.describe()),
                None,
            );
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
            Some(node) if node.text() == Some("AWS::Lambda::Function") => {}
            Some(node) => self.error(
                node.pos,
                &format!("{field}.Type"),
                format!("Type must be AWS::Lambda::Function, got {}", node.describe()),
                Some("a Lambda AppSpec deploys one function; ECS services use AWS::ECS::Service"),
            ),
            None => self.error(
                entry.value.pos,
                &format!("{field}.Type"),
                "Type is required".to_owned(),
                Some("Type: AWS::Lambda::Function"),
            ),
        }
        let Some((_, properties)) = definition.iter().find(|(key, _)| key == "properties") else {
            self.error(entry.value.pos, &format!("{field}.Properties"), "Properties is required".to_owned(), None);
            return None;
        };
        let props_field = format!("{field}.Properties");
        let props = self.mapping(
            properties,
            &props_field,
            &["name", "alias", "currentversion", "targetversion", "description"],
        )?;
        let name = self.required_text(&props, "Name", &props_field, properties.pos);
        let alias = self.required_text(&props, "Alias", &props_field, properties.pos);
        let current_version = self.required_text(&props, "CurrentVersion", &props_field, properties.pos);
        let target_version = self.required_text(&props, "TargetVersion", &props_field, properties.pos);
        if let (Some(current), Some(target)) = (&current_version, &target_version)
            && current == target
        {
            self.error(
                properties.pos,
                &format!("{props_field}.TargetVersion"),
                format!("TargetVersion is the CurrentVersion ({current}): there is nothing to shift"),
                None,
            );
        }
        Some(LambdaFunction {
            logical_name,
            name: name?,
            alias: alias?,
            current_version: current_version?,
            target_version: target_version?,
        })
    }

    fn hooks(&mut self, node: &Node) -> Vec<(LifecycleEvent, String)> {
        let Value::Seq(items) = &*node.value else {
            self.error(
                node.pos,
                "Hooks",
                format!("Hooks must be a list of single-key mappings, got {}", node.describe()),
                Some("- BeforeAllowTraffic: my-validation-function"),
            );
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
                let Some(event) = HOOK_EVENTS.iter().find(|event| event.as_str().eq_ignore_ascii_case(key)).copied()
                else {
                    self.error(
                        entry.key.pos,
                        &field,
                        format!("{} is not a Lambda hook", quote(key)),
                        Some("Lambda deployments have the hooks BeforeAllowTraffic and AfterAllowTraffic"),
                    );
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

#[cfg(test)]
mod tests {
    use super::*;

    const SAM: &str = "version: 0.0\nResources:\n  - myFunction:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: checkout\n        Alias: live\n        CurrentVersion: \"1\"\n        TargetVersion: \"2\"\nHooks:\n  - BeforeAllowTraffic: pre-traffic\n  - AfterAllowTraffic: post-traffic\n";

    #[test]
    fn parses_sam_and_user_guide_spellings() {
        let spec = parse_lambda(SAM).expect("valid");
        assert_eq!(spec.function.name, "checkout");
        assert_eq!(spec.function.alias, "live");
        assert_eq!((spec.function.current_version.as_str(), spec.function.target_version.as_str()), ("1", "2"));
        assert_eq!(spec.hook(LifecycleEvent::BeforeAllowTraffic), Some("pre-traffic"));
        assert_eq!(spec.hook(LifecycleEvent::AfterAllowTraffic), Some("post-traffic"));
        let lower = "version: 0.0\nresources:\n  - fn:\n      type: AWS::Lambda::Function\n      properties:\n        name: checkout\n        alias: live\n        currentversion: 3\n        targetversion: 4\n";
        let spec = parse_lambda(lower).expect("valid");
        assert_eq!(spec.function.target_version, "4");
        assert!(spec.hooks.is_empty());
        let json = r#"{"version": 0.0, "Resources": [{"f": {"Type": "AWS::Lambda::Function", "Properties": {"Name": "a", "Alias": "b", "CurrentVersion": "1", "TargetVersion": "2"}}}]}"#;
        assert_eq!(parse_lambda(json).expect("json").function.name, "a");
    }

    #[test]
    fn every_problem_names_its_line_and_field() {
        let bad = "version: 0.0\nResources:\n  - fn:\n      Type: AWS::ECS::Service\n      Properties:\n        Name: checkout\n        CurrentVersion: \"1\"\n        TargetVersion: \"1\"\n        Colour: blue\nHooks:\n  - BeforeInstall: x\n  - AfterAllowTraffic: \n";
        let errors = parse_lambda(bad).unwrap_err();
        let rendered: Vec<String> = errors
            .iter()
            .map(|error| format!("{}:{} {}", error.line.unwrap_or(0), error.field, error.message))
            .collect();
        let expect = [
            "4:Resources.fn.Type Type must be AWS::Lambda::Function",
            "6:Resources.fn.Properties.Alias Alias is required",
            "6:Resources.fn.Properties.TargetVersion TargetVersion is the CurrentVersion (1)",
            "9:Resources.fn.Properties.Colour unknown key \"Colour\"",
            "11:Hooks[0] \"BeforeInstall\" is not a Lambda hook",
            "12:Hooks[1].AfterAllowTraffic the hook must name a function",
        ];
        for expected in expect {
            assert!(rendered.iter().any(|line| line.starts_with(expected)), "missing {expected:?} in {rendered:#?}");
        }
        assert_eq!(rendered.len(), expect.len(), "{rendered:#?}");
    }

    #[test]
    fn one_function_only() {
        let two = "version: 0.0\nResources:\n  - a:\n      Type: AWS::Lambda::Function\n  - b:\n      Type: AWS::Lambda::Function\n";
        let errors = parse_lambda(two).unwrap_err();
        assert!(errors[0].message.contains("exactly one function"), "{errors:?}");
        assert!(parse_lambda("").is_err());
        assert!(parse_lambda("version: 1.0\n").is_err());
    }
}

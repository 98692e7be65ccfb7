//! The Lambda AppSpec (CodeDeploy's §2.3): one function, the alias that moves from its current version to its
//! target version, and validation hooks naming functions.
//!
//! Keys are matched case-insensitively (the user guide prints `resources`, SAM writes `Resources`). The document goes
//! through the same positioned YAML tree as the server AppSpec, so every problem names its line and field.

use super::model::Diagnostic;
use super::resource::{self, Kind};
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

const LAMBDA: Kind = Kind {
    type_name: "AWS::Lambda::Function",
    what: "function",
    platform: "Lambda",
    type_hint: "a Lambda AppSpec deploys one function; ECS services use AWS::ECS::Service",
    hooks: &[LifecycleEvent::BeforeAllowTraffic, LifecycleEvent::AfterAllowTraffic],
    hooks_hint: "Lambda deployments have the hooks BeforeAllowTraffic and AfterAllowTraffic",
};

/// Parses and validates a Lambda AppSpec given as YAML or JSON; on failure returns every problem found.
pub fn parse_lambda(text: &str) -> Result<LambdaAppSpec, Vec<Diagnostic>> {
    resource::parse(text, |check, root| {
        let resource = check.document(root, &LAMBDA)?;
        let (field, properties) = (resource.properties_field.as_str(), resource.properties);
        let props =
            check.mapping(properties, field, &["name", "alias", "currentversion", "targetversion", "description"])?;
        let name = check.required_text(&props, "Name", field, properties.pos);
        let alias = check.required_text(&props, "Alias", field, properties.pos);
        let current_version = check.required_text(&props, "CurrentVersion", field, properties.pos);
        let target_version = check.required_text(&props, "TargetVersion", field, properties.pos);
        if let (Some(current), Some(target)) = (&current_version, &target_version)
            && current == target
        {
            check.error(
                properties.pos,
                &format!("{field}.TargetVersion"),
                format!("TargetVersion is the CurrentVersion ({current}): there is nothing to shift"),
                None,
            );
        }
        Some(LambdaAppSpec {
            function: LambdaFunction {
                logical_name: resource.logical_name,
                name: name?,
                alias: alias?,
                current_version: current_version?,
                target_version: target_version?,
            },
            hooks: resource.hooks,
        })
    })
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
            "11:Hooks[0] \"BeforeInstall\" is not a hook of Lambda deployments",
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

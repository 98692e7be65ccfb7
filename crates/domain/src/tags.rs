//! Tag filters and tag sets: which instances a deployment group targets, and validation of the filters.
//!
//! A list of filters matches an instance that matches **any** filter. A tag set is a list of such lists (at most
//! three) and matches an instance that matches **every** list. A group uses filters or a tag set, never both.

use std::fmt;

/// The most filter groups a tag set may have.
pub const MAX_TAG_SET_GROUPS: usize = 3;

/// What a filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagFilterType {
    /// The instance has a tag with this key, whatever its value.
    KeyOnly,
    /// The instance has a tag with this value, whatever its key.
    ValueOnly,
    /// The instance has a tag with this key and this value.
    KeyAndValue,
}

impl TagFilterType {
    /// Every filter type.
    pub const ALL: [TagFilterType; 3] = [Self::KeyOnly, Self::ValueOnly, Self::KeyAndValue];

    /// Returns CodeDeploy's spelling: `KEY_ONLY`, `VALUE_ONLY` or `KEY_AND_VALUE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeyOnly => "KEY_ONLY",
            Self::ValueOnly => "VALUE_ONLY",
            Self::KeyAndValue => "KEY_AND_VALUE",
        }
    }

    /// Parses CodeDeploy's spelling (exact, case-sensitive).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|filter_type| filter_type.as_str() == text)
    }
}

impl fmt::Display for TagFilterType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tag filter (`ec2TagFilters[]`, `onPremisesInstanceTagFilters[]`, or an entry of a tag set group).
///
/// An empty string counts as absent: a filter on the empty key or value would be a typo, not an intent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagFilter {
    pub key: Option<String>,
    pub value: Option<String>,
    pub filter_type: TagFilterType,
}

/// A tag on an instance. Instances may carry tags without a value; the value is then empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl TagFilter {
    /// Returns a KEY_ONLY filter.
    pub fn key_only(key: &str) -> Self {
        Self { key: Some(key.to_owned()), value: None, filter_type: TagFilterType::KeyOnly }
    }

    /// Returns a VALUE_ONLY filter.
    pub fn value_only(value: &str) -> Self {
        Self { key: None, value: Some(value.to_owned()), filter_type: TagFilterType::ValueOnly }
    }

    /// Returns a KEY_AND_VALUE filter.
    pub fn key_and_value(key: &str, value: &str) -> Self {
        Self { key: Some(key.to_owned()), value: Some(value.to_owned()), filter_type: TagFilterType::KeyAndValue }
    }

    fn key(&self) -> Option<&str> {
        self.key.as_deref().filter(|key| !key.is_empty())
    }

    fn value(&self) -> Option<&str> {
        self.value.as_deref().filter(|value| !value.is_empty())
    }
}

impl Tag {
    pub fn new(key: &str, value: &str) -> Self {
        Self { key: key.to_owned(), value: value.to_owned() }
    }
}

/// Returns true when some tag in `tags` satisfies `filter`. Comparisons are exact and case-sensitive, like EC2 tags.
///
/// A filter missing the part its type needs matches nothing; `validate_filters` rejects such filters up front.
pub fn matches_filter(filter: &TagFilter, tags: &[Tag]) -> bool {
    match (filter.filter_type, filter.key(), filter.value()) {
        (TagFilterType::KeyOnly, Some(key), _) => tags.iter().any(|tag| tag.key == key),
        (TagFilterType::ValueOnly, _, Some(value)) => tags.iter().any(|tag| tag.value == value),
        (TagFilterType::KeyAndValue, Some(key), Some(value)) => {
            tags.iter().any(|tag| tag.key == key && tag.value == value)
        }
        _ => false,
    }
}

/// Returns true when `tags` match at least one of `filters`; an empty filter list matches nothing.
pub fn matches_any(filters: &[TagFilter], tags: &[Tag]) -> bool {
    filters.iter().any(|filter| matches_filter(filter, tags))
}

/// Returns true when `tags` match every group of the tag set (any filter within each group).
///
/// An empty tag set matches nothing, so a group without targeting deploys to no instance rather than to all of them.
pub fn matches_tag_set(groups: &[Vec<TagFilter>], tags: &[Tag]) -> bool {
    !groups.is_empty() && groups.iter().all(|group| matches_any(group, tags))
}

/// Returns true when an instance with `tags` is targeted by a group's `filters` or `tag_set`, whichever is in use.
///
/// If both are given (which `validate_filters` rejects), the instance must satisfy both.
pub fn is_targeted(filters: &[TagFilter], tag_set: &[Vec<TagFilter>], tags: &[Tag]) -> bool {
    match (filters.is_empty(), tag_set.is_empty()) {
        (true, true) => false,
        (false, true) => matches_any(filters, tags),
        (true, false) => matches_tag_set(tag_set, tags),
        (false, false) => matches_any(filters, tags) && matches_tag_set(tag_set, tags),
    }
}

/// Returns the names of the `instances` that `filters` or `tag_set` target, in the order given.
pub fn select<'a>(
    filters: &[TagFilter],
    tag_set: &[Vec<TagFilter>],
    instances: impl IntoIterator<Item = (&'a str, &'a [Tag])>,
) -> Vec<String> {
    instances
        .into_iter()
        .filter(|(_, tags)| is_targeted(filters, tag_set, tags))
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// Why a group's tag filters are invalid; each variant is one API exception.
///
/// EC2 and on-premises targeting raise differently named exceptions for the same mistakes, so the error gives both
/// names and the caller picks the one for the field it validated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// A filter lacks the key or value its type needs.
    #[error("{filter_type} tag filter needs {missing}")]
    IncompleteFilter { filter_type: TagFilterType, missing: &'static str },
    /// Both a filter list and a tag set were given.
    #[error("tag filters and a tag set cannot be used together")]
    FiltersAndTagSet,
    /// The tag set has more than three groups.
    #[error("a tag set has at most {MAX_TAG_SET_GROUPS} groups, got {groups}")]
    TooManyTagSetGroups { groups: usize },
}

impl TagError {
    /// Returns the API exception for on-premises instance tag filters (`onPremisesInstanceTagFilters`,
    /// `onPremisesTagSet`) and for the tag filters of ListOnPremisesInstances.
    pub fn exception_name(&self) -> &'static str {
        match self {
            Self::IncompleteFilter { .. } => "InvalidTagException",
            Self::FiltersAndTagSet => "InvalidOnPremisesTagCombinationException",
            Self::TooManyTagSetGroups { .. } => "TagSetListLimitExceededException",
        }
    }

    /// Returns the API exception for EC2 tag filters (`ec2TagFilters`, `ec2TagSet`).
    pub fn ec2_exception_name(&self) -> &'static str {
        match self {
            Self::IncompleteFilter { .. } => "InvalidEC2TagException",
            Self::FiltersAndTagSet => "InvalidEC2TagCombinationException",
            Self::TooManyTagSetGroups { .. } => "TagSetListLimitExceededException",
        }
    }
}

/// Validates a group's targeting: each filter has what its type needs, filters and tag set are not both used, and
/// the tag set has at most three groups. Extra parts (a value on a KEY_ONLY filter) are allowed and ignored.
pub fn validate_filters(filters: &[TagFilter], tag_set: &[Vec<TagFilter>]) -> Result<(), TagError> {
    if !filters.is_empty() && !tag_set.is_empty() {
        return Err(TagError::FiltersAndTagSet);
    }
    if tag_set.len() > MAX_TAG_SET_GROUPS {
        return Err(TagError::TooManyTagSetGroups { groups: tag_set.len() });
    }
    filters.iter().chain(tag_set.iter().flatten()).try_for_each(validate_filter)
}

/// Checks that one filter has the key and/or value its type needs.
pub fn validate_filter(filter: &TagFilter) -> Result<(), TagError> {
    let missing = match (filter.filter_type, filter.key(), filter.value()) {
        (TagFilterType::KeyOnly, None, _) => "a key",
        (TagFilterType::ValueOnly, _, None) => "a value",
        (TagFilterType::KeyAndValue, None, None) => "a key and a value",
        (TagFilterType::KeyAndValue, None, Some(_)) => "a key",
        (TagFilterType::KeyAndValue, Some(_), None) => "a value",
        _ => return Ok(()),
    };
    Err(TagError::IncompleteFilter { filter_type: filter.filter_type, missing })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The groups of a tag set, as the case tables spell them.
    type TagSet = Vec<Vec<TagFilter>>;

    /// The exception names a validation case expects: (on-premises, EC2).
    type Exceptions = Option<(&'static str, &'static str)>;

    fn web_prod() -> Vec<Tag> {
        vec![Tag::new("Name", "web-1"), Tag::new("Env", "prod"), Tag::new("Team", "")]
    }

    #[test]
    fn filter_type_spellings() {
        for filter_type in TagFilterType::ALL {
            assert_eq!(TagFilterType::parse(filter_type.as_str()), Some(filter_type));
        }
        assert_eq!(TagFilterType::parse("KEY_AND_VALUE"), Some(TagFilterType::KeyAndValue));
        assert_eq!(TagFilterType::parse("key_only"), None);
        assert_eq!(TagFilterType::ValueOnly.to_string(), "VALUE_ONLY");
    }

    #[test]
    fn single_filters() {
        let tags = web_prod();
        let incomplete = |filter_type| TagFilter { key: None, value: None, filter_type };
        let cases = [
            (TagFilter::key_only("Env"), true),
            (TagFilter::key_only("env"), false),
            (TagFilter::key_only("Team"), true),
            (TagFilter::key_only("prod"), false),
            (TagFilter::value_only("prod"), true),
            (TagFilter::value_only("Prod"), false),
            (TagFilter::value_only("Env"), false),
            (TagFilter::key_and_value("Env", "prod"), true),
            (TagFilter::key_and_value("Env", "staging"), false),
            // The value must belong to the same tag as the key.
            (TagFilter::key_and_value("Name", "prod"), false),
            (TagFilter { value: Some("ignored".to_owned()), ..TagFilter::key_only("Env") }, true),
            (incomplete(TagFilterType::KeyOnly), false),
            (incomplete(TagFilterType::ValueOnly), false),
            (incomplete(TagFilterType::KeyAndValue), false),
            // Empty strings count as absent, so they never match a valueless tag.
            (TagFilter::value_only(""), false),
            (TagFilter::key_and_value("Team", ""), false),
        ];
        for (filter, expected) in cases {
            assert_eq!(matches_filter(&filter, &tags), expected, "{filter:?}");
        }
        assert!(!matches_filter(&TagFilter::key_only("Env"), &[]));
    }

    #[test]
    fn filters_match_any() {
        let tags = web_prod();
        let cases = [
            (vec![], false),
            (vec![TagFilter::key_only("Missing")], false),
            (vec![TagFilter::key_only("Missing"), TagFilter::value_only("prod")], true),
            (vec![TagFilter::key_and_value("Env", "dev"), TagFilter::key_and_value("Env", "prod")], true),
            (vec![TagFilter::key_and_value("Env", "dev"), TagFilter::key_and_value("Env", "qa")], false),
        ];
        for (filters, expected) in cases {
            assert_eq!(matches_any(&filters, &tags), expected, "{filters:?}");
        }
    }

    #[test]
    fn tag_sets_match_every_group() {
        let tags = web_prod();
        let env = vec![TagFilter::key_and_value("Env", "prod"), TagFilter::key_and_value("Env", "staging")];
        let name = vec![TagFilter::key_and_value("Name", "web-1"), TagFilter::key_and_value("Name", "web-2")];
        let role = vec![TagFilter::key_only("Role")];
        let cases = [
            (vec![], false),
            (vec![env.clone()], true),
            (vec![env.clone(), name.clone()], true),
            (vec![env.clone(), name.clone(), role.clone()], false),
            (vec![role.clone()], false),
            (vec![env.clone(), vec![]], false),
        ];
        for (groups, expected) in cases {
            assert_eq!(matches_tag_set(&groups, &tags), expected, "{groups:?}");
        }
    }

    #[test]
    fn selection_uses_filters_or_tag_set() {
        let web_1 = vec![Tag::new("Env", "prod"), Tag::new("Role", "web")];
        let web_2 = vec![Tag::new("Env", "staging"), Tag::new("Role", "web")];
        let db_1 = vec![Tag::new("Env", "prod"), Tag::new("Role", "db")];
        let bare: Vec<Tag> = vec![];
        let instances: Vec<(&str, &[Tag])> =
            vec![("web-1", &web_1), ("web-2", &web_2), ("db-1", &db_1), ("bare", &bare)];

        let prod = vec![TagFilter::key_and_value("Env", "prod")];
        let web = vec![TagFilter::key_and_value("Role", "web")];
        let cases: Vec<(Vec<TagFilter>, TagSet, Vec<&str>)> = vec![
            (prod.clone(), vec![], vec!["web-1", "db-1"]),
            (
                vec![TagFilter::key_and_value("Env", "prod"), TagFilter::value_only("web")],
                vec![],
                vec!["web-1", "web-2", "db-1"],
            ),
            (vec![], vec![prod.clone(), web.clone()], vec!["web-1"]),
            (vec![], vec![web.clone()], vec!["web-1", "web-2"]),
            (vec![], vec![], vec![]),
            (vec![TagFilter::key_only("Nope")], vec![], vec![]),
            // Both given: an instance must satisfy both (validation rejects this combination anyway).
            (web.clone(), vec![prod.clone()], vec!["web-1"]),
        ];
        for (filters, tag_set, expected) in cases {
            assert_eq!(select(&filters, &tag_set, instances.iter().copied()), expected, "{filters:?} {tag_set:?}");
        }
    }

    #[test]
    fn validation() {
        let filter = TagFilter::key_only("Env");
        let group = vec![filter.clone()];
        let cases: Vec<(Vec<TagFilter>, TagSet, Exceptions)> = vec![
            (vec![], vec![], None),
            (vec![filter.clone()], vec![], None),
            (vec![], vec![group.clone(); 3], None),
            (vec![TagFilter::key_and_value("Env", "prod"), TagFilter::value_only("web")], vec![], None),
            (vec![TagFilter { value: Some("extra".to_owned()), ..TagFilter::key_only("Env") }], vec![], None),
            (
                vec![TagFilter { key: None, ..TagFilter::key_only("Env") }],
                vec![],
                Some(("InvalidTagException", "InvalidEC2TagException")),
            ),
            (vec![TagFilter::key_only("")], vec![], Some(("InvalidTagException", "InvalidEC2TagException"))),
            (vec![TagFilter::value_only("")], vec![], Some(("InvalidTagException", "InvalidEC2TagException"))),
            (
                vec![TagFilter { value: None, ..TagFilter::key_and_value("Env", "prod") }],
                vec![],
                Some(("InvalidTagException", "InvalidEC2TagException")),
            ),
            (
                vec![],
                vec![vec![TagFilter::key_and_value("", "prod")]],
                Some(("InvalidTagException", "InvalidEC2TagException")),
            ),
            (
                vec![filter.clone()],
                vec![group.clone()],
                Some(("InvalidOnPremisesTagCombinationException", "InvalidEC2TagCombinationException")),
            ),
            (
                vec![],
                vec![group.clone(); 4],
                Some(("TagSetListLimitExceededException", "TagSetListLimitExceededException")),
            ),
        ];
        for (filters, tag_set, expected) in cases {
            let error = validate_filters(&filters, &tag_set).err();
            let names = error.as_ref().map(|error| (error.exception_name(), error.ec2_exception_name()));
            assert_eq!(names, expected, "{filters:?} {tag_set:?}");
        }
    }

    #[test]
    fn validation_messages() {
        let cases = [
            (TagFilter::key_only(""), "KEY_ONLY tag filter needs a key"),
            (
                TagFilter { key: None, value: None, filter_type: TagFilterType::KeyAndValue },
                "KEY_AND_VALUE tag filter needs a key and a value",
            ),
            (
                TagFilter { value: None, ..TagFilter::key_and_value("Env", "prod") },
                "KEY_AND_VALUE tag filter needs a value",
            ),
            (TagFilter::value_only(""), "VALUE_ONLY tag filter needs a value"),
        ];
        for (filter, message) in cases {
            assert_eq!(validate_filter(&filter).map_err(|error| error.to_string()), Err(message.to_owned()));
        }
        let too_many = validate_filters(&[], &vec![vec![TagFilter::key_only("A")]; 5]);
        assert_eq!(
            too_many.map_err(|error| error.to_string()),
            Err("a tag set has at most 3 groups, got 5".to_owned())
        );
    }
}

//! JSON:API query parameters: `page[number]`, `page[size]`, `sort`, `filter[…]`,
//! `fields[type]` and `include`, checked against what each route supports.
//!
//! Every problem is a 400 with `source.parameter`: an unknown or repeated parameter,
//! an unsupported sort key, filter, include path or sparse field, a page size over
//! [`PageRequest::MAX_SIZE`]. The parameters other than paging are kept (decoded) so
//! pagination links repeat them.

use std::borrow::Cow;
use std::str::Utf8Error;

use emporium_domain::{Page, PageRequest, SortDirection};
use percent_encoding::percent_decode_str;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use serde::Serialize;

use super::error::{ApiError, ErrorObject};
use super::resource::{Relationship, Resource};

/// What one route accepts. Handlers parse their query string with it, and the
/// OpenAPI document lists the same parameters ([`QuerySpec::parameters`]).
#[derive(Debug)]
pub struct QuerySpec {
    /// Whether `page[number]` and `page[size]` apply (lists).
    pub paginated: bool,
    /// Sortable fields (`-name` sorts descending).
    pub sort: &'static [&'static str],
    /// The filters allowed in `filter[name]`.
    pub filters: &'static [Filter],
    /// Relationship paths allowed in `include`.
    pub includes: &'static [&'static str],
    /// Resource types allowed in `fields[type]`, each with its fields.
    pub fieldsets: &'static [FieldSet],
}

impl QuerySpec {
    /// A route that takes no query parameters (writes answer with the whole resource).
    pub const NONE: QuerySpec = QuerySpec {
        paginated: false,
        sort: &[],
        filters: &[],
        includes: &[],
        fieldsets: &[],
    };

    /// Parses `raw` (the query string without `?`) against this spec.
    pub fn parse(&self, raw: Option<&str>) -> Result<ParsedQuery, ApiError> {
        parse_query(raw, self)
    }
}

/// One `filter[name]` a list accepts.
#[derive(Debug)]
pub struct Filter {
    /// The name inside the brackets.
    pub name: &'static str,
    /// What it selects, for the document.
    pub description: &'static str,
    /// The value's schema, for the document (the handler checks the value).
    pub schema: fn() -> MetaSchemaRef,
}

/// The fields of one resource type, for `fields[type]`.
#[derive(Debug)]
pub struct FieldSet {
    /// The resource type.
    pub kind: &'static str,
    /// Its attributes.
    pub attributes: &'static [&'static str],
    /// Its relationships.
    pub relationships: &'static [Relationship],
}

impl FieldSet {
    /// The fields of `R`.
    pub const fn of<R: Resource>() -> Self {
        Self {
            kind: R::TYPE,
            attributes: R::ATTRIBUTES,
            relationships: R::RELATIONSHIPS,
        }
    }

    fn find(&self, name: &str) -> Option<&'static str> {
        self.attributes
            .iter()
            .copied()
            .chain(self.relationships.iter().map(|r| r.name))
            .find(|field| *field == name)
    }

    fn names(&self) -> Vec<&'static str> {
        self.attributes
            .iter()
            .copied()
            .chain(self.relationships.iter().map(|r| r.name))
            .collect()
    }
}

/// A query parameter as the OpenAPI document shows it.
#[derive(Debug)]
pub struct Parameter {
    /// Its name (`page[size]`).
    pub name: String,
    /// What it does.
    pub description: String,
    /// The values the route accepts.
    pub schema: MetaSchemaRef,
}

impl QuerySpec {
    /// The parameters this spec accepts, each with a schema that admits only values
    /// the parser accepts.
    pub fn parameters(&self) -> Vec<Parameter> {
        let mut parameters = Vec::new();
        let mut push = |name: String, description: String, schema: MetaSchema| {
            parameters.push(Parameter {
                name,
                description,
                schema: MetaSchemaRef::Inline(Box::new(schema)),
            });
        };
        if self.paginated {
            push(
                "page[number]".into(),
                "Page number, from 1.".into(),
                MetaSchema {
                    minimum: Some(1.0),
                    maximum: Some(f64::from(u32::MAX)),
                    ..MetaSchema::new_with_format("integer", "int64")
                },
            );
            push(
                "page[size]".into(),
                format!(
                    "Page size, 1 to {} (default {}).",
                    PageRequest::MAX_SIZE,
                    PageRequest::DEFAULT_SIZE
                ),
                MetaSchema {
                    minimum: Some(1.0),
                    maximum: Some(f64::from(PageRequest::MAX_SIZE)),
                    ..MetaSchema::new_with_format("integer", "int32")
                },
            );
        }
        if !self.sort.is_empty() {
            push(
                "sort".into(),
                format!(
                    "Comma-separated sort keys among {}; `-` in front sorts descending.",
                    self.sort.join(", ")
                ),
                sort_pattern(self.sort),
            );
        }
        for filter in self.filters {
            let schema = match (filter.schema)() {
                MetaSchemaRef::Inline(schema) => *schema,
                MetaSchemaRef::Reference(_) => MetaSchema::new("string"),
            };
            push(
                format!("filter[{}]", filter.name),
                filter.description.into(),
                schema,
            );
        }
        if !self.includes.is_empty() {
            push(
                "include".into(),
                format!(
                    "Related resources to include, comma-separated: {}.",
                    self.includes.join(", ")
                ),
                pattern(&alternatives(self.includes), true),
            );
        }
        for fieldset in self.fieldsets {
            let names = fieldset.names();
            push(
                format!("fields[{}]", fieldset.kind),
                format!(
                    "The {} fields to return, comma-separated (empty: none): {}.",
                    fieldset.kind,
                    names.join(", ")
                ),
                pattern(&alternatives(&names), true),
            );
        }
        parameters
    }
}

/// `(a|b|c)`, with regex metacharacters of the names escaped.
fn alternatives(names: &[&str]) -> String {
    let escaped: Vec<String> = names
        .iter()
        .map(|name| {
            name.chars()
                .flat_map(|c| {
                    let special = "\\.+*?()|[]{}^$".contains(c);
                    special.then_some('\\').into_iter().chain([c])
                })
                .collect()
        })
        .collect();
    format!("({})", escaped.join("|"))
}

/// Comma-separated sort keys among `fields`, each optionally preceded by `-`, no
/// field twice (the lookahead refuses a field that comes again, in either direction).
fn sort_pattern(fields: &[&str]) -> MetaSchema {
    let field = alternatives(fields);
    let mut schema = pattern(&format!("-?{field}"), false);
    schema.pattern = Some(format!(
        "^(?!(?:.*,)?-?{field},(?:.*,)?-?\\1(?:,|$))-?{field}(?:,-?{field})*$"
    ));
    schema
}

/// A string of comma-separated `item`s (`empty_allowed`: or nothing).
fn pattern(item: &str, empty_allowed: bool) -> MetaSchema {
    let list = format!("{item}(,{item})*");
    MetaSchema {
        pattern: Some(if empty_allowed {
            format!("^({list})?$")
        } else {
            format!("^{list}$")
        }),
        min_length: (!empty_allowed).then_some(1),
        ..MetaSchema::new("string")
    }
}

/// The fields of one resource type a client asked for (`fields[type]=a,b`); every
/// field when it did not ask.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a>(Option<&'a [&'static str]>);

impl Fields<'_> {
    /// Every field.
    pub const ALL: Fields<'static> = Fields(None);

    /// Whether `name` is to be included.
    pub fn allows(&self, name: &str) -> bool {
        self.0.is_none_or(|fields| fields.contains(&name))
    }

    /// Whether every field is to be included.
    pub fn is_all(&self) -> bool {
        self.0.is_none()
    }
}

/// A parsed, validated query string.
#[derive(Debug, Clone, Default)]
pub struct ParsedQuery {
    /// The page asked for (the default page when the route is not paginated).
    pub page: PageRequest,
    /// Sort keys, most significant first.
    pub sort: Vec<(&'static str, SortDirection)>,
    filters: Vec<(&'static str, String)>,
    include: Vec<&'static str>,
    fields: Vec<(&'static str, Vec<&'static str>)>,
    /// Decoded parameters other than paging, in request order, for links.
    carried: Vec<(String, String)>,
}

impl ParsedQuery {
    /// Whether the answer is the resource as it is: no `include`, no `fields` (the
    /// answer every such caller gets, which may be cached rendered).
    pub fn is_plain(&self) -> bool {
        self.include.is_empty() && self.fields.is_empty()
    }

    /// The value of `filter[name]`, if given.
    pub fn filter(&self, name: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(filter, _)| *filter == name)
            .map(|(_, value)| value.as_str())
    }

    /// The value of `filter[name]` parsed by `parse`, if given; a value it refuses
    /// is a 400 naming the parameter, saying the value is not `what` (e.g. "a
    /// notification status (pending, sent, failed)").
    pub fn parsed_filter<T>(
        &self,
        name: &str,
        what: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        let Some(raw) = self.filter(name) else {
            return Ok(None);
        };
        parse(raw).map(Some).ok_or_else(|| {
            ApiError::from(ApiError::bad_parameter(
                format!("filter[{name}]"),
                format!("{raw:?} is not {what}."),
            ))
        })
    }

    /// `filter[user]`: a user id (a UUID), if given.
    pub fn user_filter(&self) -> Result<Option<emporium_domain::UserId>, ApiError> {
        self.parsed_filter("user", "a user id (a UUID)", |raw| {
            uuid::Uuid::parse_str(raw.trim())
                .ok()
                .map(emporium_domain::UserId)
        })
    }

    /// Whether `include` names `path`.
    pub fn includes(&self, path: &str) -> bool {
        self.include.contains(&path)
    }

    /// The sparse fieldset of `R`.
    pub fn fields_of<R: Resource>(&self) -> Fields<'_> {
        self.fields(R::TYPE)
    }

    /// The sparse fieldset of `resource_type`.
    pub fn fields(&self, resource_type: &str) -> Fields<'_> {
        Fields(
            self.fields
                .iter()
                .find(|(kind, _)| *kind == resource_type)
                .map(|(_, fields)| fields.as_slice()),
        )
    }

    /// Pagination links for `page` of the list at `path` (root-relative, keeping the
    /// other parameters).
    pub fn list_links<T>(&self, path: &str, page: &Page<T>) -> ListLinks {
        let number = page.request.number();
        let last = page.last_page();
        let link = |number: u32| self.page_url(path, number);
        ListLinks {
            self_: link(number),
            first: link(1),
            prev: (number > 1).then(|| link(number - 1)),
            next: (number < last).then(|| link(number + 1)),
            last: link(last),
        }
    }

    fn page_url(&self, path: &str, number: u32) -> String {
        let mut url = String::with_capacity(path.len() + 48);
        url.push_str(path);
        url.push('?');
        for (key, value) in &self.carried {
            url.push_str(&encode(key, true));
            url.push('=');
            url.push_str(&encode(value, false));
            url.push('&');
        }
        url.push_str(&format!(
            "page[number]={number}&page[size]={}",
            self.page.size()
        ));
        url
    }
}

/// Percent-encodes a query component, keeping `[`/`]` in names and `,` in values
/// readable (both are safe there and are what JSON:API's own examples show).
fn encode(text: &str, is_key: bool) -> String {
    let encoded: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
    if is_key {
        encoded.replace("%5B", "[").replace("%5D", "]")
    } else {
        encoded.replace("%2C", ",")
    }
}

/// `links` of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListLinks {
    /// This page.
    #[serde(rename = "self")]
    pub self_: String,
    /// The first page.
    pub first: String,
    /// The previous page.
    pub prev: Option<String>,
    /// The next page.
    pub next: Option<String>,
    /// The last page.
    pub last: String,
}

/// One decoded query parameter: name and value.
type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// The name–value pairs of a query string, decoded as a form does (`+` is a space,
/// then percent-decoding; empty pairs skipped). A name or value that is not UTF-8
/// once decoded is refused (400) rather than read with U+FFFD in place of its bytes.
fn decoded_pairs(raw: &str) -> Result<Vec<Pair<'_>>, ApiError> {
    fn decode(part: &str) -> Result<Cow<'_, str>, Utf8Error> {
        if part.contains('+') {
            let spaced = part.replace('+', " ");
            Ok(Cow::Owned(
                percent_decode_str(&spaced).decode_utf8()?.into_owned(),
            ))
        } else {
            percent_decode_str(part).decode_utf8()
        }
    }
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (decode(name), decode(value)) {
                (Ok(key), Ok(value)) => Ok((key, value)),
                _ => {
                    let key = percent_decode_str(name).decode_utf8_lossy();
                    Err(ApiError::bad_parameter(
                        key.as_ref(),
                        format!("{key} is not UTF-8 text once percent-decoded."),
                    )
                    .into())
                }
            }
        })
        .collect()
}

/// Parses `raw` (the query string without `?`) against `spec`.
pub fn parse_query(raw: Option<&str>, spec: &QuerySpec) -> Result<ParsedQuery, ApiError> {
    let mut parsed = ParsedQuery::default();
    let Some(raw) = raw.filter(|raw| !raw.is_empty()) else {
        return Ok(parsed);
    };
    let mut errors: Vec<ErrorObject> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut page_number: Option<u32> = None;
    let mut page_size: Option<u32> = None;

    for (key, value) in decoded_pairs(raw)? {
        if key.is_empty() {
            if !value.is_empty() {
                errors.push(ApiError::bad_parameter(
                    "",
                    "A query parameter has no name.",
                ));
            }
            continue;
        }
        if seen.iter().any(|s| *s == key) {
            errors.push(
                ErrorObject::new(
                    poem::http::StatusCode::BAD_REQUEST,
                    "duplicate_parameter",
                    "Repeated query parameter",
                    format!("{key} is given more than once."),
                )
                .at_parameter(key.as_ref()),
            );
            continue;
        }
        seen.push(key.to_string());
        let key = key.as_ref();
        let value = value.as_ref();

        match key {
            "page[number]" | "page[size]" if spec.paginated => {
                match parse_page_value(key, value) {
                    Ok(n) if key == "page[number]" => page_number = Some(n),
                    Ok(n) => page_size = Some(n),
                    Err(error) => errors.push(error),
                }
                continue;
            }
            "sort" if !spec.sort.is_empty() => match parse_sort(value, spec.sort) {
                Ok(sort) => parsed.sort = sort,
                Err(error) => errors.push(error),
            },
            "include" => match parse_list(key, value, spec.includes, "unsupported_include", |p| {
                format!("Cannot include {p:?} here{}.", supported(spec.includes))
            }) {
                Ok(include) => parsed.include = include,
                Err(error) => errors.push(error),
            },
            _ => {
                if let Some(name) = bracketed(key, "filter") {
                    match spec.filters.iter().find(|f| f.name == name) {
                        Some(filter) => parsed.filters.push((filter.name, value.to_owned())),
                        None => errors.push(
                            ErrorObject::new(
                                poem::http::StatusCode::BAD_REQUEST,
                                "unsupported_filter",
                                "Unsupported filter",
                                format!(
                                    "Cannot filter by {name:?} here{}.",
                                    supported(
                                        &spec.filters.iter().map(|f| f.name).collect::<Vec<_>>()
                                    )
                                ),
                            )
                            .at_parameter(key),
                        ),
                    }
                } else if let Some(kind) = bracketed(key, "fields") {
                    match spec.fieldsets.iter().find(|fieldset| fieldset.kind == kind) {
                        Some(fieldset) => {
                            let allowed = fieldset.names();
                            match parse_fields(key, value, fieldset, |f| {
                                format!(
                                    "{} have no field {f:?}{}.",
                                    fieldset.kind,
                                    supported(&allowed)
                                )
                            }) {
                                Ok(fields) => parsed.fields.push((fieldset.kind, fields)),
                                Err(error) => errors.push(error),
                            }
                        }
                        None => errors.push(
                            ErrorObject::new(
                                poem::http::StatusCode::BAD_REQUEST,
                                "unsupported_fieldset",
                                "Unsupported sparse fieldset",
                                format!("This route returns no resources of type {kind:?}."),
                            )
                            .at_parameter(key),
                        ),
                    }
                } else {
                    errors.push(
                        ErrorObject::new(
                            poem::http::StatusCode::BAD_REQUEST,
                            "unsupported_parameter",
                            "Unsupported query parameter",
                            format!("This route does not support the query parameter {key:?}."),
                        )
                        .at_parameter(key),
                    );
                    continue;
                }
            }
        }
        parsed.carried.push((key.to_owned(), value.to_owned()));
    }

    if spec.paginated {
        match PageRequest::new(
            page_number.unwrap_or(1),
            page_size.unwrap_or(PageRequest::DEFAULT_SIZE),
        ) {
            Ok(page) => parsed.page = page,
            // Both values were range-checked above; keep the default page.
            Err(_) => parsed.page = PageRequest::default(),
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(ApiError::from_objects(errors))
    }
}

/// `name` of `prefix[name]`.
fn bracketed<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    key.strip_prefix(prefix)?
        .strip_prefix('[')?
        .strip_suffix(']')
        .filter(|name| !name.is_empty() && !name.contains(['[', ']']))
}

fn supported(options: &[&str]) -> String {
    if options.is_empty() {
        String::new()
    } else {
        format!(" (supported: {})", options.join(", "))
    }
}

fn parse_page_value(key: &str, value: &str) -> Result<u32, ErrorObject> {
    let n: u32 = value
        .parse()
        .map_err(|_| ApiError::bad_parameter(key, format!("{key} must be a positive integer.")))?;
    if n == 0 {
        return Err(ApiError::bad_parameter(
            key,
            format!("{key} must be at least 1."),
        ));
    }
    if key == "page[size]" && n > PageRequest::MAX_SIZE {
        return Err(ErrorObject::new(
            poem::http::StatusCode::BAD_REQUEST,
            "page_size_too_large",
            "Page size too large",
            format!("page[size] must be at most {}.", PageRequest::MAX_SIZE),
        )
        .at_parameter(key));
    }
    Ok(n)
}

fn parse_sort(
    value: &str,
    allowed: &'static [&'static str],
) -> Result<Vec<(&'static str, SortDirection)>, ErrorObject> {
    let mut keys = Vec::new();
    for item in value.split(',') {
        let (name, direction) = match item.strip_prefix('-') {
            Some(name) => (name, SortDirection::Descending),
            None => (item, SortDirection::Ascending),
        };
        let Some(field) = allowed.iter().find(|f| **f == name) else {
            return Err(ErrorObject::new(
                poem::http::StatusCode::BAD_REQUEST,
                "unsupported_sort",
                "Unsupported sort",
                format!("Cannot sort by {item:?}{}.", supported(allowed)),
            )
            .at_parameter("sort"));
        };
        if keys.iter().any(|(f, _)| f == field) {
            return Err(ApiError::bad_parameter(
                "sort",
                format!("{name:?} appears more than once in sort."),
            ));
        }
        keys.push((*field, direction));
    }
    Ok(keys)
}

/// A comma-separated list of `fieldset`'s fields; empty means none.
fn parse_fields(
    key: &str,
    value: &str,
    fieldset: &FieldSet,
    message: impl Fn(&str) -> String,
) -> Result<Vec<&'static str>, ErrorObject> {
    let mut fields = Vec::new();
    if value.is_empty() {
        return Ok(fields);
    }
    for item in value.split(',') {
        match fieldset.find(item) {
            Some(field) if !fields.contains(&field) => fields.push(field),
            Some(_) => {}
            None => {
                return Err(ErrorObject::new(
                    poem::http::StatusCode::BAD_REQUEST,
                    "unsupported_field",
                    "Unsupported query parameter value",
                    message(item),
                )
                .at_parameter(key));
            }
        }
    }
    Ok(fields)
}

/// A comma-separated list whose items must all be in `allowed`; empty means none.
fn parse_list(
    key: &str,
    value: &str,
    allowed: &'static [&'static str],
    code: &'static str,
    message: impl Fn(&str) -> String,
) -> Result<Vec<&'static str>, ErrorObject> {
    let mut items = Vec::new();
    if value.is_empty() {
        return Ok(items);
    }
    for item in value.split(',') {
        match allowed.iter().find(|a| **a == item) {
            Some(found) => {
                if !items.contains(found) {
                    items.push(*found);
                }
            }
            None => {
                return Err(ErrorObject::new(
                    poem::http::StatusCode::BAD_REQUEST,
                    code,
                    "Unsupported query parameter value",
                    message(item),
                )
                .at_parameter(key));
            }
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::jsonapi::error::ErrorSource;

    fn text() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")))
    }

    const CATEGORY: Relationship = Relationship::optional("category", "categories");
    const LIST: QuerySpec = QuerySpec {
        paginated: true,
        sort: &["name", "price", "createdAt"],
        filters: &[
            Filter {
                name: "category",
                description: "",
                schema: text,
            },
            Filter {
                name: "q",
                description: "",
                schema: text,
            },
        ],
        includes: &["category"],
        fieldsets: &[
            FieldSet {
                kind: "products",
                attributes: &["name", "price"],
                relationships: &[CATEGORY],
            },
            FieldSet {
                kind: "categories",
                attributes: &["name"],
                relationships: &[],
            },
        ],
    };
    const ONE: QuerySpec = QuerySpec {
        paginated: false,
        sort: &[],
        filters: &[],
        includes: &["category"],
        fieldsets: &[FieldSet {
            kind: "products",
            attributes: &["name", "price"],
            relationships: &[],
        }],
    };

    #[test]
    fn parameter_schemas_admit_only_what_the_parser_accepts() {
        let parameters = LIST.parameters();
        let find = |name: &str| {
            let parameter = parameters.iter().find(|p| p.name == name).unwrap();
            match &parameter.schema {
                MetaSchemaRef::Inline(schema) => (**schema).clone(),
                MetaSchemaRef::Reference(_) => panic!("inline schema expected"),
            }
        };
        assert_eq!(find("page[size]").maximum, Some(100.0));
        assert_eq!(find("page[number]").minimum, Some(1.0));
        assert_eq!(
            find("sort").pattern.as_deref(),
            Some(
                "^(?!(?:.*,)?-?(name|price|createdAt),(?:.*,)?-?\\1(?:,|$))\
                 -?(name|price|createdAt)(?:,-?(name|price|createdAt))*$"
            )
        );
        assert_eq!(
            find("fields[products]").pattern.as_deref(),
            Some("^((name|price|category)(,(name|price|category))*)?$")
        );
        assert_eq!(
            find("include").pattern.as_deref(),
            Some("^((category)(,(category))*)?$")
        );
        assert_eq!(parameters.len(), 8);
    }

    fn error_of(raw: &str, spec: &QuerySpec) -> (u16, &'static str, Option<ErrorSource>) {
        let error = parse_query(Some(raw), spec).unwrap_err();
        let first = &error.errors()[0];
        (error.status().as_u16(), first.code, first.source.clone())
    }

    fn parameter(name: &str) -> Option<ErrorSource> {
        Some(ErrorSource::Parameter(name.to_owned()))
    }

    #[test]
    fn defaults_without_query() {
        let parsed = parse_query(None, &LIST).unwrap();
        assert_eq!(parsed.page, PageRequest::default());
        assert!(parsed.sort.is_empty());
        assert!(parsed.fields("products").allows("anything"));
    }

    #[test]
    fn parses_every_family() {
        let parsed = parse_query(
            Some("page%5Bnumber%5D=2&page[size]=5&sort=-price,name&filter[q]=cup+blue&include=category&fields[products]=name,price"),
            &LIST,
        )
        .unwrap();
        assert_eq!(parsed.page, PageRequest::new(2, 5).unwrap());
        assert_eq!(
            parsed.sort,
            vec![
                ("price", SortDirection::Descending),
                ("name", SortDirection::Ascending)
            ]
        );
        assert_eq!(parsed.filter("q"), Some("cup blue"));
        assert_eq!(parsed.filter("category"), None);
        assert!(parsed.includes("category"));
        let fields = parsed.fields("products");
        assert!(fields.allows("name") && !fields.allows("sku"));
        assert!(parsed.fields("categories").allows("slug"));
    }

    #[test]
    fn empty_fieldset_selects_no_fields() {
        let parsed = parse_query(Some("fields[products]="), &LIST).unwrap();
        assert!(!parsed.fields("products").allows("name"));
    }

    #[test]
    fn refuses_bad_pages() {
        assert_eq!(
            error_of("page[size]=101", &LIST),
            (400, "page_size_too_large", parameter("page[size]"))
        );
        assert_eq!(error_of("page[size]=0", &LIST).2, parameter("page[size]"));
        assert_eq!(
            error_of("page[number]=x", &LIST).2,
            parameter("page[number]")
        );
        assert_eq!(
            error_of("page[number]=-1", &LIST).2,
            parameter("page[number]")
        );
        assert_eq!(
            error_of("page[offset]=1", &LIST),
            (400, "unsupported_parameter", parameter("page[offset]"))
        );
        assert_eq!(
            error_of("page[number]=1", &ONE),
            (400, "unsupported_parameter", parameter("page[number]"))
        );
    }

    #[test]
    fn refuses_parameters_that_are_not_utf8() {
        assert_eq!(
            error_of("filter[q]=%FF%FE", &LIST),
            (400, "invalid_parameter", parameter("filter[q]"))
        );
        // U+FFFD itself, percent-encoded, is text like any other.
        assert!(parse_query(Some("filter[q]=%EF%BF%BD"), &LIST).is_ok());
    }

    #[test]
    fn refuses_unknown_parameters_and_values() {
        assert_eq!(
            error_of("sort=color", &LIST),
            (400, "unsupported_sort", parameter("sort"))
        );
        assert_eq!(error_of("sort=", &LIST).1, "unsupported_sort");
        assert_eq!(error_of("sort=name,-name", &LIST).2, parameter("sort"));
        assert_eq!(
            error_of("sort=name", &ONE),
            (400, "unsupported_parameter", parameter("sort"))
        );
        assert_eq!(
            error_of("filter[color]=red", &LIST),
            (400, "unsupported_filter", parameter("filter[color]"))
        );
        assert_eq!(
            error_of("include=owner", &LIST),
            (400, "unsupported_include", parameter("include"))
        );
        assert_eq!(
            error_of("fields[products]=name,sku", &LIST),
            (400, "unsupported_field", parameter("fields[products]"))
        );
        assert_eq!(
            error_of("fields[users]=name", &LIST),
            (400, "unsupported_fieldset", parameter("fields[users]"))
        );
        assert_eq!(
            error_of("color=red", &LIST),
            (400, "unsupported_parameter", parameter("color"))
        );
        assert_eq!(
            error_of("sort=name&sort=price", &LIST),
            (400, "duplicate_parameter", parameter("sort"))
        );
    }

    #[test]
    fn collects_several_problems() {
        let error = parse_query(Some("color=red&page[size]=500"), &LIST).unwrap_err();
        assert_eq!(error.errors().len(), 2);
    }

    #[test]
    fn links_keep_other_parameters() {
        let parsed = parse_query(
            Some("filter[q]=a%26b&sort=-price,name&page[size]=2&page[number]=2"),
            &LIST,
        )
        .unwrap();
        let page: Page<u8> = Page {
            items: vec![],
            total: 5,
            request: parsed.page,
        };
        let links = parsed.list_links("/v1/products", &page);
        assert_eq!(
            links.self_,
            "/v1/products?filter[q]=a%26b&sort=-price,name&page[number]=2&page[size]=2"
        );
        assert_eq!(
            links.first,
            "/v1/products?filter[q]=a%26b&sort=-price,name&page[number]=1&page[size]=2"
        );
        assert_eq!(links.prev.as_deref(), Some(links.first.as_str()));
        assert_eq!(
            links.next.as_deref(),
            Some("/v1/products?filter[q]=a%26b&sort=-price,name&page[number]=3&page[size]=2")
        );
        assert_eq!(
            links.last,
            "/v1/products?filter[q]=a%26b&sort=-price,name&page[number]=3&page[size]=2"
        );
    }

    #[test]
    fn links_of_a_single_page() {
        let parsed = parse_query(None, &LIST).unwrap();
        let page: Page<u8> = Page {
            items: vec![],
            total: 0,
            request: parsed.page,
        };
        let links = parsed.list_links("/v1/categories", &page);
        assert_eq!(links.first, "/v1/categories?page[number]=1&page[size]=20");
        assert_eq!(links.prev, None);
        assert_eq!(links.next, None);
        assert_eq!(links.last, links.first);
    }
}

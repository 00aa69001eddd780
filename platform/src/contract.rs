//! The contract side of the OpenAPI document: every error an operation can answer, as
//! `application/problem+json` with one `Problem` schema, derived from what the operation takes
//! (a body, a token, a path id, a query) so the rules live in one place; and the compact fix
//! body described as the binary it is.

use utoipa::Modify;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{Content, HttpMethod, KnownFormat, Ref, RefOr};

/// The media type of every error.
pub const PROBLEM: &str = "application/problem+json";

/// Controls, C1 controls and bidirectional overrides and isolates: never in typed text
/// (`pitstop_api::text`).
const BANNED: &str = r"\x00-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069";
/// What counts as nothing to see: spaces and zero-width characters.
const INVISIBLE: &str = r"\s\u200B-\u200F\u2060-\u2064\uFEFF\u00AD\u180E";

/// The text rule as a pattern: one line, at least one visible character.
fn one_line() -> String {
    format!("^[^{BANNED}]*[^{BANNED}{INVISIBLE}][^{BANNED}]*$")
}

/// The text rule for notes: line breaks and tabs allowed; empty, or something visible.
fn many_lines() -> String {
    let banned = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069";
    format!("^([^{banned}]*[^{banned}{INVISIBLE}][^{banned}]*)?$")
}

/// A sign-in address the platform takes: `+` and 8 to 15 digits, or a plain e-mail address
/// (the platform also takes spaces and dashes in numbers; the document states the strict form).
const ADDRESS: &str =
    r"^(\+[0-9]{8,15}|[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+)$";

/// Typed-text fields: (schema, property, one line?).
const TEXT_FIELDS: &[(&str, &str, bool)] = &[
    ("DevLogin", "name", true),
    ("SignIn", "device", true),
    ("SignIn", "name", true),
    ("Invite", "name", true),
    ("NewWorkshop", "name", true),
    ("NewVehicle", "plate", true),
    ("NewVehicle", "make", true),
    ("NewVehicle", "model", true),
    ("NewPart", "name", true),
    ("NewNote", "text", true),
    ("NewOrder", "notes", false),
    ("StatusChange", "note", false),
];

fn object_of<'a>(
    openapi: &'a mut utoipa::openapi::OpenApi,
    schema: &str,
) -> Option<&'a mut utoipa::openapi::schema::Object> {
    match openapi.components.as_mut()?.schemas.get_mut(schema)? {
        RefOr::T(Schema::Object(o)) => Some(o),
        _ => None,
    }
}

fn property<'a>(
    openapi: &'a mut utoipa::openapi::OpenApi,
    schema: &str,
    field: &str,
) -> Option<&'a mut Schema> {
    match object_of(openapi, schema)?.properties.get_mut(field)? {
        RefOr::T(s) => Some(s),
        RefOr::Ref(_) => None,
    }
}

/// States the value rules JSON Schema can say and the derive cannot: the text rule, the
/// address form, the service codes, and the length of each skill.
fn document_values(openapi: &mut utoipa::openapi::OpenApi) {
    for (schema, field, one) in TEXT_FIELDS {
        if let Some(Schema::Object(o)) = property(openapi, schema, field) {
            o.pattern = Some(if *one { one_line() } else { many_lines() });
        }
    }
    for (schema, field) in [
        ("CodeRequest", "address"),
        ("SignIn", "address"),
        ("Invite", "address"),
    ] {
        if let Some(Schema::Object(o)) = property(openapi, schema, field) {
            o.pattern = Some(ADDRESS.into());
        }
    }
    if let Some(Schema::Object(o)) = property(openapi, "NewOrder", "service") {
        o.enum_values = Some(
            pitstop_api::services::catalogue()
                .into_iter()
                .map(|s| serde_json::Value::String(s.code))
                .collect(),
        );
    }
    for (schema, field) in [
        ("TechnicianProfile", "skills"),
        ("TechnicianProfile", "certifications"),
        ("DevLogin", "skills"),
    ] {
        if let Some(Schema::Array(a)) = property(openapi, schema, field)
            && let utoipa::openapi::schema::ArrayItems::RefOrSchema(item) = &mut a.items
            && let RefOr::T(Schema::Object(o)) = item.as_mut()
        {
            o.min_length = Some(1);
            o.max_length = Some(40);
            o.pattern = Some(one_line());
        }
    }
}

/// Adds the error responses and the binary body to the generated document.
#[derive(Debug)]
pub struct Contract;

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM,
                Content::new(Some(Ref::from_schema_name("Problem"))),
            )
            .build(),
    )
}

fn with_retry_after(description: &str) -> RefOr<Response> {
    let mut r = match problem(description) {
        RefOr::T(r) => r,
        RefOr::Ref(_) => unreachable!("built inline above"),
    };
    r.headers.insert(
        "Retry-After".into(),
        utoipa::openapi::header::HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .description(Some("Seconds to wait before trying again."))
            .build(),
    );
    RefOr::T(r)
}

/// Documents `status` unless the handler did; a handler's own description is kept and gets
/// the problem schema.
fn add(op: &mut Operation, status: &str, description: &str, retry: bool) {
    let entry = op.responses.responses.entry(status.to_string());
    match entry {
        std::collections::btree_map::Entry::Vacant(v) => {
            v.insert(if retry {
                with_retry_after(description)
            } else {
                problem(description)
            });
        }
        std::collections::btree_map::Entry::Occupied(mut o) => {
            if let RefOr::T(r) = o.get_mut()
                && r.content.is_empty()
                && status.starts_with(['4', '5'])
            {
                r.content.insert(
                    PROBLEM.into(),
                    Content::new(Some(Ref::from_schema_name("Problem"))),
                );
            }
        }
    }
}

fn document_errors(path: &str, method: HttpMethod, op: &mut Operation) {
    let writes = !matches!(method, HttpMethod::Get | HttpMethod::Head);
    let has_body = op.request_body.is_some();
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_query = op.parameters.as_ref().is_some_and(|ps| {
        ps.iter()
            .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
    });
    if has_body {
        add(
            op,
            "400",
            "The body is not valid JSON, or could not be read.",
            false,
        );
        add(
            op,
            "413",
            "The body is over the size limit (512 KiB by default).",
            false,
        );
        add(
            op,
            "415",
            "The body is not `application/json` (or the endpoint's binary type), or its `Content-Encoding` is not gzip.",
            false,
        );
        add(op, "422", "A value is out of its documented range.", false);
    }
    if has_query {
        add(op, "400", "A query parameter could not be read.", false);
        add(
            op,
            "422",
            "A query value is out of its documented range.",
            false,
        );
    }
    if secured {
        add(
            op,
            "401",
            "No token, or an unknown, expired or signed-out one (`WWW-Authenticate` says which scheme).",
            false,
        );
        add(op, "403", "The account's role may not do this.", false);
    }
    if path.contains('{') {
        add(
            op,
            "404",
            "Nothing with this id, or not the caller's (the same sentence).",
            false,
        );
    }
    add(op, "500", "A server error; it was logged.", false);
    add(op, "503", "The server is busy; nothing was saved.", true);
    if writes {
        add(
            op,
            "507",
            "The server's disk is full; nothing was saved.",
            false,
        );
    }
    if path.starts_with("/v1/auth/") && path != "/v1/auth/sign-out" && path != "/v1/auth/refresh" {
        add(
            op,
            "429",
            "Too many sign-in requests; see `Retry-After`.",
            true,
        );
    }
    if path == "/v1/events" {
        add(
            op,
            "429",
            "The account has all the event streams it may open.",
            false,
        );
    }
    // A handler's own 429 also tells when to come back.
    if let Some(RefOr::T(r)) = op.responses.responses.get_mut("429")
        && !r.headers.contains_key("Retry-After")
        && path.starts_with("/v1/auth/")
    {
        *r = match with_retry_after(&r.description) {
            RefOr::T(t) => t,
            RefOr::Ref(_) => unreachable!(),
        };
    }
}

fn operations(item: &mut PathItem) -> Vec<(HttpMethod, &mut Operation)> {
    let mut out = Vec::new();
    for (m, op) in [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
    ] {
        if let Some(op) = op {
            out.push((m, op));
        }
    }
    out
}

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .schemas
            .insert(
                "Problem".into(),
                <pitstop_api::Problem as utoipa::PartialSchema>::schema(),
            );
        document_values(openapi);
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, op) in operations(item) {
                document_errors(path, method, op);
            }
        }
        // Fix batches and fix streams are bytes (`pitstop_api::fixcodec`), not arrays of
        // numbers.
        for (path, media, what) in [
            (
                "/v1/locations/compact",
                pitstop_api::fixcodec::CONTENT_TYPE,
                "A fix batch in the compact encoding of `pitstop_api::fixcodec`, usually gzipped.",
            ),
            (
                "/v1/locations/stream",
                pitstop_api::fixcodec::STREAM_CONTENT_TYPE,
                "A fix-stream header, then one encoded fix at a time (`pitstop_api::fixcodec`).",
            ),
        ] {
            let Some(op) = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|i| i.post.as_mut())
            else {
                continue;
            };
            let binary = ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                .description(Some(what))
                .build();
            let mut body = RequestBody::new();
            body.content
                .insert(media.into(), Content::new(Some(binary)));
            body.required = Some(utoipa::openapi::Required::True);
            op.request_body = Some(body);
        }
    }
}

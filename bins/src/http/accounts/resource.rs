//! The `users` and `tokens` resource objects: serialisation and OpenAPI schemas.
//! Neither ever carries a password or its hash.

use emporium_application::accounts::Session;
use emporium_domain::Role;
use emporium_domain::accounts::User;
use poem_openapi::Object;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::http::jsonapi::document::{SelfLink, Timestamp};
use crate::http::jsonapi::schema::{ListLinksSchema, ListMetaSchema, ResourceLinksSchema};

/// The user resource type.
pub const USERS: &str = "users";
/// The log-in resource type.
pub const CREDENTIALS: &str = "credentials";
/// The session resource type.
pub const TOKENS: &str = "tokens";

/// The URL of a user.
pub fn self_link(user: &User) -> String {
    format!("/v1/users/{}", user.id)
}

/// The JSON:API name of a role.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Customer => "customer",
        Role::Admin => "admin",
    }
}

/// A user as a JSON:API resource object.
pub struct UserResource<'a>(pub &'a User);

impl Serialize for UserResource<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let user = self.0;
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("type", USERS)?;
        map.serialize_entry("id", &user.id.to_string())?;
        map.serialize_entry("attributes", &UserAttributes(user))?;
        map.serialize_entry(
            "links",
            &SelfLink {
                collection: USERS,
                id: user.id,
            },
        )?;
        map.end()
    }
}

struct UserAttributes<'a>(&'a User);

impl Serialize for UserAttributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let user = self.0;
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("email", user.email.as_str())?;
        map.serialize_entry("name", user.name.as_str())?;
        map.serialize_entry("role", role_name(user.role))?;
        map.serialize_entry("active", &user.active)?;
        map.serialize_entry("createdAt", &Timestamp(&user.created_at))?;
        map.end()
    }
}

/// A new session as a `tokens` resource object. Its id is fresh for every answer:
/// a session is not addressable.
pub struct TokensResource<'a>(pub &'a Session);

impl Serialize for TokensResource<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let session = self.0;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("type", TOKENS)?;
        map.serialize_entry("id", &uuid::Uuid::new_v4().to_string())?;
        map.serialize_entry(
            "attributes",
            &TokensAttributes {
                access_token: &session.access.token,
                refresh_token: &session.refresh.token,
                token_type: "Bearer",
                expires_in: session.access.expires_in.as_secs(),
            },
        )?;
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokensAttributes<'a> {
    access_token: &'a str,
    refresh_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
}

// ---- OpenAPI schemas (documentation only) ----

/// Attributes of a user as served (never the password).
#[derive(Object)]
#[oai(rename = "UserAttributes", rename_all = "camelCase")]
pub struct UserAttributesSchema {
    /// Sign-in address, normalised.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `customer` or `admin`.
    pub role: String,
    /// Whether the account may sign in.
    pub active: bool,
    /// RFC 3339.
    pub created_at: String,
}

/// A `users` resource object.
#[derive(Object)]
#[oai(rename = "UserResource")]
pub struct UserResourceSchema {
    /// Always `users`.
    #[oai(rename = "type")]
    pub type_: String,
    /// UUID.
    pub id: String,
    /// Attributes.
    pub attributes: UserAttributesSchema,
    /// Links.
    pub links: ResourceLinksSchema,
}

/// One user.
#[derive(Object)]
#[oai(rename = "UserDocument")]
pub struct UserDocument {
    /// The user.
    pub data: UserResourceSchema,
}

/// A page of users.
#[derive(Object)]
#[oai(rename = "UserListDocument")]
pub struct UserListDocument {
    /// The users on this page.
    pub data: Vec<UserResourceSchema>,
    /// Pagination links.
    pub links: ListLinksSchema,
    /// `total`: users across all pages.
    pub meta: ListMetaSchema,
}

/// Attributes accepted at registration (no `role`: every new account is a customer).
#[derive(Object)]
#[oai(rename = "RegisterAttributes")]
pub struct RegisterAttributesSchema {
    /// Sign-in address, unique.
    pub email: String,
    /// 8 to 128 characters; never returned.
    pub password: String,
    /// Display name, 1 to 100 characters.
    pub name: String,
}

/// The resource object of a registration.
#[derive(Object)]
#[oai(rename = "RegisterResource")]
pub struct RegisterResourceSchema {
    /// Must be `users`.
    #[oai(rename = "type")]
    pub type_: String,
    /// The new account.
    pub attributes: RegisterAttributesSchema,
}

/// `POST /v1/auth/register` request document.
#[derive(Object)]
#[oai(rename = "RegisterDocument")]
pub struct RegisterDocument {
    /// The account to create.
    pub data: RegisterResourceSchema,
}

/// Log-in attributes.
#[derive(Object)]
#[oai(rename = "CredentialsAttributes")]
pub struct CredentialsAttributesSchema {
    /// Sign-in address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// The resource object of a log-in.
#[derive(Object)]
#[oai(rename = "CredentialsResource")]
pub struct CredentialsResourceSchema {
    /// Must be `credentials`.
    #[oai(rename = "type")]
    pub type_: String,
    /// The credentials.
    pub attributes: CredentialsAttributesSchema,
}

/// `POST /v1/auth/login` request document.
#[derive(Object)]
#[oai(rename = "CredentialsDocument")]
pub struct CredentialsDocument {
    /// The credentials.
    pub data: CredentialsResourceSchema,
}

/// Refresh and log-out attributes.
#[derive(Object)]
#[oai(rename = "RefreshAttributes", rename_all = "camelCase")]
pub struct RefreshAttributesSchema {
    /// The refresh token of the session.
    pub refresh_token: String,
}

/// The resource object of a refresh or log-out.
#[derive(Object)]
#[oai(rename = "RefreshResource")]
pub struct RefreshResourceSchema {
    /// Must be `tokens`.
    #[oai(rename = "type")]
    pub type_: String,
    /// The refresh token.
    pub attributes: RefreshAttributesSchema,
}

/// `POST /v1/auth/refresh` and `/v1/auth/logout` request document.
#[derive(Object)]
#[oai(rename = "RefreshDocument")]
pub struct RefreshDocument {
    /// The refresh token.
    pub data: RefreshResourceSchema,
}

/// Session attributes.
#[derive(Object)]
#[oai(rename = "TokensAttributes", rename_all = "camelCase")]
pub struct TokensAttributesSchema {
    /// Bearer token for `Authorization`.
    pub access_token: String,
    /// Exchange it once at `/v1/auth/refresh`.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// A `tokens` resource object.
#[derive(Object)]
#[oai(rename = "TokensResource")]
pub struct TokensResourceSchema {
    /// Always `tokens`.
    #[oai(rename = "type")]
    pub type_: String,
    /// A fresh id.
    pub id: String,
    /// The tokens.
    pub attributes: TokensAttributesSchema,
}

/// A new session.
#[derive(Object)]
#[oai(rename = "TokensDocument")]
pub struct TokensDocument {
    /// The session.
    pub data: TokensResourceSchema,
}

/// Attributes an admin may change.
#[derive(Object)]
#[oai(rename = "UserUpdateAttributes")]
pub struct UserUpdateAttributesSchema {
    /// `customer` or `admin`.
    pub role: Option<String>,
    /// Whether the account may sign in; `false` also ends its sessions.
    pub active: Option<bool>,
}

/// The resource object of a user update.
#[derive(Object)]
#[oai(rename = "UserUpdateResource")]
pub struct UserUpdateResourceSchema {
    /// Must be `users`.
    #[oai(rename = "type")]
    pub type_: String,
    /// Must be the id in the URL.
    pub id: String,
    /// The changes.
    pub attributes: UserUpdateAttributesSchema,
}

/// `PATCH /v1/users/{id}` request document.
#[derive(Object)]
#[oai(rename = "UserUpdateDocument")]
pub struct UserUpdateDocument {
    /// The changes.
    pub data: UserUpdateResourceSchema,
}

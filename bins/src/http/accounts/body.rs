//! The doors from the account request documents into the domain. Passwords are
//! checked for length before anything else happens to them (no hashing of a 10 000
//! character password) and never appear in an error.

use emporium_domain::Role;
use emporium_domain::accounts::{DisplayName, Email, NewUser, Password, UserChanges};
use uuid::Uuid;

use super::resource::{
    CREDENTIALS, CredentialsDocument, RefreshDocument, RegisterDocument, TOKENS, USERS,
    UserUpdateDocument,
};
use crate::http::jsonapi::members::{
    Problems, attribute_pointer, bool_attribute, invalid_value, missing_required, primary_resource,
    read_only_attribute, refuse_client_id, require_matching_id, string_attribute,
    unknown_attribute, unknown_relationship,
};
use crate::http::jsonapi::{ApiError, JsonApiBody};

/// What a log-in supplies, as typed (the use case answers every bad value alike).
pub struct Credentials {
    /// Sign-in address.
    pub email: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

fn require<T>(problems: &mut Problems, value: Option<T>, name: &str) -> Option<T> {
    if value.is_none() {
        problems.push(missing_required(&attribute_pointer(name), name));
    }
    value
}

impl JsonApiBody<RegisterDocument> {
    /// The account to create. `role`, `active` and other server-kept attributes are
    /// refused (403 `read_only_attribute`): no mass assignment.
    pub fn try_into_domain(&self) -> Result<NewUser, ApiError> {
        let resource = primary_resource(self.value(), USERS)?;
        refuse_client_id(&resource)?;
        let mut problems = Problems::new();
        let (mut email, mut password, mut name) = (None, None, None);
        let (mut seen_email, mut seen_password, mut seen_name) = (false, false, false);
        for (key, value) in resource.attributes() {
            match key.as_str() {
                "email" => {
                    seen_email = true;
                    email = problems.take(string_attribute(key, value).and_then(|text| {
                        Email::parse(text).map_err(|e| invalid_value(&attribute_pointer(key), e.0))
                    }));
                }
                "password" => {
                    seen_password = true;
                    password = problems.take(string_attribute(key, value).and_then(|text| {
                        Password::new(text).map_err(|e| invalid_value(&attribute_pointer(key), e.0))
                    }));
                }
                "name" => {
                    seen_name = true;
                    name = problems.take(string_attribute(key, value).and_then(|text| {
                        DisplayName::new(text)
                            .map_err(|e| invalid_value(&attribute_pointer(key), e.0))
                    }));
                }
                "role" | "active" | "id" | "type" | "createdAt" | "updatedAt" | "passwordHash" => {
                    problems.push(read_only_attribute(key));
                }
                key => problems.push(unknown_attribute(key)),
            }
        }
        for (key, _) in resource.relationships() {
            problems.push(unknown_relationship(key));
        }
        for (seen, field) in [
            (seen_email, "email"),
            (seen_password, "password"),
            (seen_name, "name"),
        ] {
            if !seen {
                require::<()>(&mut problems, None, field);
            }
        }
        match (email, password, name) {
            (Some(email), Some(password), Some(name)) if problems.is_empty() => Ok(NewUser {
                email,
                name,
                password,
            }),
            _ => Err(problems.into_error()),
        }
    }
}

impl JsonApiBody<CredentialsDocument> {
    /// The credentials, as typed.
    pub fn try_into_domain(&self) -> Result<Credentials, ApiError> {
        let resource = primary_resource(self.value(), CREDENTIALS)?;
        refuse_client_id(&resource)?;
        let mut problems = Problems::new();
        let (mut email, mut password) = (None, None);
        for (key, value) in resource.attributes() {
            match key.as_str() {
                "email" => email = problems.take(string_attribute(key, value)),
                "password" => password = problems.take(string_attribute(key, value)),
                key => problems.push(unknown_attribute(key)),
            }
        }
        for (key, _) in resource.relationships() {
            problems.push(unknown_relationship(key));
        }
        let email = require(&mut problems, email, "email");
        let password = require(&mut problems, password, "password");
        match (email, password) {
            (Some(email), Some(password)) if problems.is_empty() => Ok(Credentials {
                email: email.to_owned(),
                password: password.to_owned(),
            }),
            _ => Err(problems.into_error()),
        }
    }
}

impl JsonApiBody<RefreshDocument> {
    /// The refresh token.
    pub fn try_into_domain(&self) -> Result<String, ApiError> {
        let resource = primary_resource(self.value(), TOKENS)?;
        refuse_client_id(&resource)?;
        let mut problems = Problems::new();
        let mut token = None;
        for (key, value) in resource.attributes() {
            match key.as_str() {
                "refreshToken" => token = problems.take(string_attribute(key, value)),
                key => problems.push(unknown_attribute(key)),
            }
        }
        for (key, _) in resource.relationships() {
            problems.push(unknown_relationship(key));
        }
        let token = require(&mut problems, token, "refreshToken");
        match token {
            Some(token) if problems.is_empty() => Ok(token.to_owned()),
            _ => Err(problems.into_error()),
        }
    }
}

impl JsonApiBody<UserUpdateDocument> {
    /// An admin's changes to the user `url_id`: `role` and/or `active`.
    pub fn try_into_domain(&self, url_id: Uuid) -> Result<UserChanges, ApiError> {
        let resource = primary_resource(self.value(), USERS)?;
        require_matching_id(&resource, url_id)?;
        let mut problems = Problems::new();
        let mut changes = UserChanges::default();
        for (key, value) in resource.attributes() {
            match key.as_str() {
                "role" => {
                    changes.role =
                        problems.take(string_attribute(key, value).and_then(|text| match text {
                            "customer" => Ok(Role::Customer),
                            "admin" => Ok(Role::Admin),
                            _ => Err(invalid_value(
                                &attribute_pointer(key),
                                "role must be \"customer\" or \"admin\".",
                            )),
                        }));
                }
                "active" => changes.active = problems.take(bool_attribute(key, value)),
                "email" | "name" | "password" | "id" | "type" | "createdAt" | "updatedAt" => {
                    problems.push(read_only_attribute(key));
                }
                key => problems.push(unknown_attribute(key)),
            }
        }
        for (key, _) in resource.relationships() {
            problems.push(unknown_relationship(key));
        }
        problems.check()?;
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn registration_refuses_a_role() {
        let error = JsonApiBody::<RegisterDocument>::from_value(json!({"data": {"type": "users",
            "attributes": {"email": "a@b.example", "password": "long enough", "name": "A",
                "role": "admin"}}}))
        .try_into_domain()
        .unwrap_err();
        assert_eq!(error.status().as_u16(), 403);
        assert_eq!(error.errors()[0].code, "read_only_attribute");
    }

    #[test]
    fn registration_problems_have_pointers_and_never_echo_the_password() {
        let password = "x".repeat(10_000);
        let error = JsonApiBody::<RegisterDocument>::from_value(json!({"data": {"type": "users",
            "attributes": {"email": "nope", "password": password}}}))
        .try_into_domain()
        .unwrap_err();
        assert_eq!(error.status().as_u16(), 422);
        assert_eq!(error.errors().len(), 3);
        assert!(!format!("{error:?}").contains("xxxxxxxx"));
        let user = JsonApiBody::<RegisterDocument>::from_value(json!({"data": {"type": "users",
            "attributes": {"email": "A@B.example", "password": "long enough", "name": "A"}}}))
        .try_into_domain()
        .unwrap();
        assert_eq!(user.name.as_str(), "A");
    }
}

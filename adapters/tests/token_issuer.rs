//! The JWT token issuer: round trips, and every forged, altered, mis-typed, expired or
//! malformed token refused (fail closed).
#![cfg(feature = "jwt")]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use emporium_adapters::security::{JwtSettings, JwtTokenIssuer, generate_secret};
use emporium_domain::access::{Role, UserId};
use emporium_domain::accounts::{AccessClaims, Email, RefreshClaims, TokenError, TokenIssuer};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &[u8] = b"test-secret-0123456789abcdef-0123456789";

fn issuer() -> JwtTokenIssuer {
    JwtTokenIssuer::new(JwtSettings::new(SECRET)).unwrap()
}

fn access_claims(role: Role) -> AccessClaims {
    AccessClaims {
        user_id: UserId(Uuid::new_v4()),
        role,
        email: Some(Email::parse("ada@example.com").unwrap()),
    }
}

fn refresh_claims() -> RefreshClaims {
    RefreshClaims {
        user_id: UserId(Uuid::new_v4()),
        token_id: Uuid::new_v4(),
    }
}

fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn parts(token: &str) -> (Value, Value, String) {
    let pieces: Vec<&str> = token.split('.').collect();
    assert_eq!(pieces.len(), 3, "a JWS compact token has three parts");
    (
        decode_part(pieces[0]),
        decode_part(pieces[1]),
        pieces[2].to_owned(),
    )
}

/// Signs arbitrary claims the way an attacker holding (or guessing) `secret` would.
fn sign(algorithm: Algorithm, claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// Claims of a valid access token as the issuer would write them.
fn valid_access_payload(user_id: Uuid, role: &str) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "sub": user_id.to_string(), "role": role, "typ": "access",
        "iss": "emporium", "aud": "emporium",
        "iat": now, "exp": now + 600, "jti": Uuid::new_v4().to_string(),
    })
}

fn assert_refused<T: std::fmt::Debug>(result: Result<T, TokenError>, what: &str) {
    assert_eq!(result.unwrap_err(), TokenError::Invalid, "{what}");
}

#[test]
fn access_tokens_round_trip_with_the_documented_claims() {
    let issuer = issuer();
    let now = Utc::now();
    for role in [Role::Customer, Role::Admin] {
        let claims = access_claims(role);
        let issued = issuer.issue_access(claims.clone(), now).unwrap();
        assert_eq!(issued.expires_in, Duration::from_secs(15 * 60));
        assert_eq!(issuer.verify_access(&issued.token), Ok(claims.clone()));

        let (header, payload, _) = parts(&issued.token);
        assert_eq!(header["alg"], "HS256");
        assert_eq!(payload["sub"], claims.user_id.0.to_string());
        // The email travels in the token, so services without the account store
        // can name the buyer.
        assert_eq!(payload["email"], "ada@example.com");
        assert_eq!(
            payload["role"],
            if role == Role::Admin {
                "admin"
            } else {
                "customer"
            }
        );
        assert_eq!(payload["typ"], "access");
        assert_eq!(payload["iss"], "emporium");
        assert_eq!(payload["aud"], "emporium");
        assert_eq!(payload["iat"], now.timestamp());
        assert_eq!(payload["exp"], now.timestamp() + 15 * 60);
        assert!(payload["jti"].as_str().unwrap().parse::<Uuid>().is_ok());
    }
    // Each access token is distinct, even for the same claims and instant.
    let claims = access_claims(Role::Customer);
    assert_ne!(
        issuer.issue_access(claims.clone(), now).unwrap().token,
        issuer.issue_access(claims, now).unwrap().token
    );
}

#[test]
fn refresh_tokens_round_trip_with_the_documented_claims() {
    let issuer = issuer();
    let now = Utc::now();
    let claims = refresh_claims();
    let issued = issuer.issue_refresh(claims, now).unwrap();
    assert_eq!(issued.expires_in, Duration::from_secs(30 * 24 * 60 * 60));
    assert_eq!(issuer.verify_refresh(&issued.token), Ok(claims));

    let (_, payload, _) = parts(&issued.token);
    assert_eq!(payload["typ"], "refresh");
    assert_eq!(payload["sub"], claims.user_id.0.to_string());
    assert_eq!(payload["jti"], claims.token_id.to_string());
    assert_eq!(payload["exp"], now.timestamp() + 30 * 24 * 60 * 60);
    assert!(payload.get("role").is_none());
}

#[test]
fn a_hand_crafted_token_signed_with_the_right_secret_is_accepted() {
    // The control for the forgery tests below: they fail for the reason they name,
    // not because the hand-crafting is wrong.
    let user_id = Uuid::new_v4();
    let token = sign(
        Algorithm::HS256,
        &valid_access_payload(user_id, "customer"),
        SECRET,
    );
    assert_eq!(
        issuer().verify_access(&token),
        Ok(AccessClaims {
            user_id: UserId(user_id),
            role: Role::Customer,
            email: None,
        })
    );
}

#[test]
fn unsigned_alg_none_tokens_are_refused() {
    let issuer = issuer();
    let genuine = issuer
        .issue_access(access_claims(Role::Customer), Utc::now())
        .unwrap()
        .token;
    let (_, mut payload, signature) = parts(&genuine);
    payload["role"] = json!("admin");
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = encode_part(&json!({"alg": alg, "typ": "JWT"}));
        let body = encode_part(&payload);
        assert_refused(
            issuer.verify_access(&format!("{header}.{body}.")),
            "alg none, empty signature",
        );
        assert_refused(
            issuer.verify_access(&format!("{header}.{body}")),
            "alg none, no signature part",
        );
        assert_refused(
            issuer.verify_access(&format!("{header}.{body}.{signature}")),
            "alg none, old signature",
        );
    }
    let no_alg = encode_part(&json!({"typ": "JWT"}));
    assert_refused(
        issuer.verify_access(&format!("{no_alg}.{}.", encode_part(&payload))),
        "no alg",
    );
}

#[test]
fn tampered_payloads_are_refused() {
    let issuer = issuer();
    let genuine = issuer
        .issue_access(access_claims(Role::Customer), Utc::now())
        .unwrap()
        .token;
    let (header, payload, signature) = parts(&genuine);

    let mut admin = payload.clone();
    admin["role"] = json!("admin");
    let mut other_user = payload.clone();
    other_user["sub"] = json!(Uuid::new_v4().to_string());
    let mut longer = payload.clone();
    longer["exp"] = json!(payload["exp"].as_i64().unwrap() + 86_400);
    for (tampered, what) in [
        (admin, "role raised to admin"),
        (other_user, "sub changed"),
        (longer, "exp extended"),
    ] {
        let token = format!(
            "{}.{}.{signature}",
            encode_part(&header),
            encode_part(&tampered)
        );
        assert_refused(issuer.verify_access(&token), what);
    }

    // A flipped bit in the signature.
    let mut bytes = URL_SAFE_NO_PAD.decode(&signature).unwrap();
    bytes[0] ^= 1;
    let (head, _) = genuine.rsplit_once('.').unwrap();
    assert_refused(
        issuer.verify_access(&format!("{head}.{}", URL_SAFE_NO_PAD.encode(bytes))),
        "altered signature",
    );
    assert_refused(
        issuer.verify_access(&format!("{head}.")),
        "signature removed",
    );
}

#[test]
fn tokens_signed_with_another_secret_are_refused() {
    let other_secret = b"another-secret-0123456789abcdef-01234567";
    let other = JwtTokenIssuer::new(JwtSettings::new(other_secret.as_slice())).unwrap();
    let issuer = issuer();
    let now = Utc::now();
    assert_refused(
        issuer.verify_access(
            &other
                .issue_access(access_claims(Role::Admin), now)
                .unwrap()
                .token,
        ),
        "access token of another issuer",
    );
    assert_refused(
        issuer.verify_refresh(&other.issue_refresh(refresh_claims(), now).unwrap().token),
        "refresh token of another issuer",
    );
    let forged = sign(
        Algorithm::HS256,
        &valid_access_payload(Uuid::new_v4(), "admin"),
        other_secret,
    );
    assert_refused(issuer.verify_access(&forged), "forged with another secret");
    let empty_key = sign(
        Algorithm::HS256,
        &valid_access_payload(Uuid::new_v4(), "admin"),
        b"",
    );
    assert_refused(issuer.verify_access(&empty_key), "signed with an empty key");
}

#[test]
fn algorithms_other_than_hs256_are_refused_even_with_the_right_secret() {
    let issuer = issuer();
    for algorithm in [Algorithm::HS384, Algorithm::HS512] {
        let token = sign(
            algorithm,
            &valid_access_payload(Uuid::new_v4(), "customer"),
            SECRET,
        );
        assert_refused(issuer.verify_access(&token), &format!("{algorithm:?}"));
    }
    // A header naming an asymmetric algorithm over an HMAC signature with the secret
    // (key-confusion attempt).
    let genuine = sign(
        Algorithm::HS256,
        &valid_access_payload(Uuid::new_v4(), "admin"),
        SECRET,
    );
    let (_, payload, signature) = parts(&genuine);
    for alg in ["RS256", "ES256", "PS256", "EdDSA", "hs256"] {
        let token = format!(
            "{}.{}.{signature}",
            encode_part(&json!({"alg": alg, "typ": "JWT"})),
            encode_part(&payload)
        );
        assert_refused(issuer.verify_access(&token), alg);
    }
}

#[test]
fn expired_tokens_are_refused_as_expired() {
    let issuer = issuer();
    let an_hour_ago: DateTime<Utc> = Utc::now() - chrono::Duration::hours(1);
    let access = issuer
        .issue_access(access_claims(Role::Admin), an_hour_ago)
        .unwrap()
        .token;
    assert_eq!(issuer.verify_access(&access), Err(TokenError::Expired));

    let last_month = Utc::now() - chrono::Duration::days(31);
    let refresh = issuer
        .issue_refresh(refresh_claims(), last_month)
        .unwrap()
        .token;
    assert_eq!(issuer.verify_refresh(&refresh), Err(TokenError::Expired));

    // Just expired: no grace period beyond the documented leeway (0 s).
    let just_expired = Utc::now() - chrono::Duration::seconds(15 * 60 + 2);
    let token = issuer
        .issue_access(access_claims(Role::Customer), just_expired)
        .unwrap()
        .token;
    assert_eq!(issuer.verify_access(&token), Err(TokenError::Expired));

    // Expired and otherwise wrong is simply invalid: expiry is only reported for
    // tokens that pass every other check.
    assert_refused(
        issuer.verify_refresh(&access),
        "expired access token as refresh",
    );
    assert_refused(
        issuer.verify_access(&refresh),
        "expired refresh token as access",
    );
    let mut payload = valid_access_payload(Uuid::new_v4(), "admin");
    payload["exp"] = json!(an_hour_ago.timestamp());
    assert_eq!(
        issuer.verify_access(&sign(Algorithm::HS256, &payload, SECRET)),
        Err(TokenError::Expired)
    );
    assert_refused(
        issuer.verify_access(&sign(
            Algorithm::HS256,
            &payload,
            b"another-secret-0123456789abcdef-01234567",
        )),
        "expired and forged",
    );
}

#[test]
fn wrong_audience_or_issuer_is_refused() {
    let issuer = issuer();
    let now = Utc::now();
    let mut other_audience = JwtSettings::new(SECRET);
    other_audience.audience = "another-app".into();
    let mut other_issuer = JwtSettings::new(SECRET);
    other_issuer.issuer = "someone-else".into();
    for (settings, what) in [(other_audience, "audience"), (other_issuer, "issuer")] {
        let foreign = JwtTokenIssuer::new(settings).unwrap();
        assert_refused(
            issuer.verify_access(
                &foreign
                    .issue_access(access_claims(Role::Customer), now)
                    .unwrap()
                    .token,
            ),
            &format!("access token with another {what}"),
        );
        assert_refused(
            issuer.verify_refresh(&foreign.issue_refresh(refresh_claims(), now).unwrap().token),
            &format!("refresh token with another {what}"),
        );
    }
    for (claim, value) in [
        ("aud", json!(["another-app"])),
        ("aud", json!("")),
        ("aud", json!(null)),
        ("iss", json!(["someone-else"])),
        ("iss", json!("")),
        ("iss", json!(null)),
    ] {
        let mut payload = valid_access_payload(Uuid::new_v4(), "customer");
        payload[claim] = value.clone();
        assert_refused(
            issuer.verify_access(&sign(Algorithm::HS256, &payload, SECRET)),
            &format!("{claim} = {value}"),
        );
    }
}

#[test]
fn tokens_missing_a_claim_or_with_a_bad_value_are_refused() {
    let issuer = issuer();
    for claim in ["exp", "iss", "aud", "sub", "typ", "iat", "jti", "role"] {
        let mut payload = valid_access_payload(Uuid::new_v4(), "customer");
        payload.as_object_mut().unwrap().remove(claim);
        assert_refused(
            issuer.verify_access(&sign(Algorithm::HS256, &payload, SECRET)),
            &format!("missing {claim}"),
        );
    }
    for (claim, value) in [
        ("exp", json!("tomorrow")),
        ("exp", json!(-1)),
        ("sub", json!("not-a-uuid")),
        ("sub", json!(42)),
        ("role", json!("superuser")),
        ("role", json!("ADMIN")),
        ("typ", json!("ACCESS")),
        ("typ", json!("id")),
        ("jti", json!("not-a-uuid")),
    ] {
        let mut payload = valid_access_payload(Uuid::new_v4(), "customer");
        payload[claim] = value.clone();
        assert_refused(
            issuer.verify_access(&sign(Algorithm::HS256, &payload, SECRET)),
            &format!("{claim} = {value}"),
        );
    }
}

#[test]
fn each_verify_accepts_only_its_own_token_type() {
    let issuer = issuer();
    let now = Utc::now();
    let access = issuer
        .issue_access(access_claims(Role::Admin), now)
        .unwrap()
        .token;
    let refresh = issuer.issue_refresh(refresh_claims(), now).unwrap().token;
    assert_refused(issuer.verify_access(&refresh), "refresh token as access");
    assert_refused(issuer.verify_refresh(&access), "access token as refresh");

    // Even a correctly signed refresh token carrying a role is no access token.
    let mut payload = valid_access_payload(Uuid::new_v4(), "admin");
    payload["typ"] = json!("refresh");
    assert_refused(
        issuer.verify_access(&sign(Algorithm::HS256, &payload, SECRET)),
        "refresh typ with a role",
    );
}

#[test]
fn garbage_is_refused() {
    let issuer = issuer();
    let genuine = issuer
        .issue_access(access_claims(Role::Customer), Utc::now())
        .unwrap()
        .token;
    let long = "a".repeat(100_000);
    for garbage in [
        "",
        " ",
        "garbage",
        "Bearer",
        "a.b.c",
        "..",
        "...",
        "a.b.c.d",
        "eyJhbGciOiJIUzI1NiJ9..",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        &long,
        &format!("Bearer {genuine}"),
        &format!("{genuine}."),
        &format!("{genuine}x"),
        &genuine[..genuine.len() - 1],
        &genuine.replace('.', ""),
    ] {
        assert_refused(issuer.verify_access(garbage), garbage);
        assert_refused(issuer.verify_refresh(garbage), garbage);
    }
}

#[test]
fn secrets_shorter_than_32_bytes_are_refused_and_never_shown() {
    for short in [&b""[..], b"short", &[7_u8; 31]] {
        let error = JwtTokenIssuer::new(JwtSettings::new(short)).unwrap_err();
        assert!(
            error.to_string().contains("EMPORIUM_JWT_SECRET"),
            "error should name the setting: {error}"
        );
    }
    assert!(JwtTokenIssuer::new(JwtSettings::new([7_u8; 32].as_slice())).is_ok());

    let settings = JwtSettings::new(SECRET);
    let secret_text = std::str::from_utf8(SECRET).unwrap();
    let settings_debug = format!("{settings:?}");
    assert!(!settings_debug.contains(secret_text), "{settings_debug}");
    assert!(
        !settings_debug.contains("116, 101, 115, 116"),
        "{settings_debug}"
    );
    let issuer_debug = format!("{:?}", JwtTokenIssuer::new(settings).unwrap());
    assert!(!issuer_debug.contains(secret_text), "{issuer_debug}");
    assert!(
        !issuer_debug.contains("116, 101, 115, 116"),
        "{issuer_debug}"
    );
}

#[test]
fn generated_secrets_are_random_url_safe_and_accepted() {
    let first = generate_secret();
    let second = generate_secret();
    assert_ne!(first, second);
    assert!(first.len() >= 43, "{first}");
    assert!(
        first
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    let issuer = JwtTokenIssuer::new(JwtSettings::new(first)).unwrap();
    let claims = access_claims(Role::Customer);
    let token = issuer
        .issue_access(claims.clone(), Utc::now())
        .unwrap()
        .token;
    assert_eq!(issuer.verify_access(&token), Ok(claims));
}

//! The `user` table (and the `installation:admin` singleton).

use surrealdb::types::SurrealValue;

use super::{DbError, TIME_FORMAT, Transaction, codes};
use crate::db::Db;

/// The UNIQUE index that keeps one account per email.
pub(crate) const EMAIL_INDEX: &str = "user_email";

fn user_fields() -> String {
    format!(
        "record::id(id) AS id, email, is_admin, password_hash, \
         time::format(created_at, '{TIME_FORMAT}') AS created_at"
    )
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct UserRow {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) is_admin: bool,
    pub(crate) password_hash: Option<String>,
    pub(crate) created_at: String,
}

/// Creates an account in one transaction; the first one claims the singleton
/// `installation:admin` (so of two registrations racing to be first, one fails with
/// [`DbError::RecordExists`] instead of both becoming administrators) and adopts the
/// projects made before accounts existed. With `first_only`, any later one THROWs
/// [`codes::REGISTRATION_CLOSED`]; a used email is [`DbError::Unique`] on
/// [`EMAIL_INDEX`].
pub(crate) async fn register(
    db: &Db,
    email: &str,
    password_hash: &str,
    first_only: bool,
) -> Result<Option<UserRow>, DbError> {
    Transaction::new(format!(
        "LET $first = array::len((SELECT VALUE id FROM user LIMIT 1)) = 0;
         IF $first_only AND !$first {{ THROW '{closed}' }};
         LET $created = (CREATE ONLY user CONTENT {{
             email: $email, password_hash: $hash, is_admin: $first
         }});
         IF $first {{
             CREATE installation:admin CONTENT {{ user: $created.id }};
             UPDATE project SET owner = $created.id WHERE owner = NONE;
         }};
         LET $result = (SELECT {fields} FROM ONLY $created.id);",
        closed = codes::REGISTRATION_CLOSED,
        fields = user_fields()
    ))
    .bind("email", email.to_owned())
    .bind("hash", password_hash.to_owned())
    .bind("first_only", first_only)
    .run(db)
    .await
}

pub(crate) async fn set_password_hash(db: &Db, id: &str, hash: &str) -> Result<(), DbError> {
    db.query("UPDATE type::record('user', $id) SET password_hash = $hash")
        .bind(("id", id.to_owned()))
        .bind(("hash", hash.to_owned()))
        .await?
        .check()?;
    Ok(())
}

/// Whether any account exists.
pub(crate) async fn any(db: &Db) -> Result<bool, DbError> {
    let mut response = db
        .query("SELECT VALUE id FROM user LIMIT 1")
        .await?
        .check()?;
    let ids: Vec<surrealdb::types::RecordId> = response.take(0)?;
    Ok(!ids.is_empty())
}

pub(crate) async fn by_email(db: &Db, email: &str) -> Result<Option<UserRow>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT {} FROM user WHERE email = $email LIMIT 1",
            user_fields()
        ))
        .bind(("email", email.to_owned()))
        .await?
        .check()?;
    let rows: Vec<UserRow> = response.take(0)?;
    Ok(rows.into_iter().next())
}

pub(crate) async fn by_id(db: &Db, id: &str) -> Result<Option<UserRow>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT {} FROM ONLY type::record('user', $id)",
            user_fields()
        ))
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

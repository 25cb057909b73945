//! Account use cases: registration, sessions (log in, refresh, log out), the
//! current user, and user administration.

mod authenticate;
mod create_admin;
mod get_current_user;
mod list_users;
mod log_in;
mod log_out;
mod refresh_session;
mod register_user;
mod session;
mod update_user;

pub use authenticate::Authenticate;
pub use create_admin::{CreateAdmin, CreateAdminError};
pub use get_current_user::{GetCurrentUser, GetCurrentUserError};
pub use list_users::{ListUsers, ListUsersError};
pub use log_in::{LogIn, LogInError};
pub use log_out::{LogOut, LogOutError};
pub use refresh_session::{RefreshSession, RefreshSessionError};
pub use register_user::{RegisterUser, RegisterUserError};
pub use session::{Session, SessionIssuer};
pub use update_user::{UpdateUser, UpdateUserError};

#[cfg(test)]
mod test_support;

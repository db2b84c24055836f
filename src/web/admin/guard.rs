//! The checks every staff handler needs, as extractors, so that none can be forgotten:
//! `Allowed<P>` is the logged-in staff member whose role has permission `P`; `Posted<P, F>`
//! is that, plus a form `F` whose CSRF token matched the session's.
//!
//! In that order: an anonymous visitor goes to the login page, a role without the
//! permission gets 403, a body that is no form or too large gets what `web::Form` answers
//! (415, 413), and a stale form gets 403 "form expired".

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use subtle::ConstantTimeEq;

use super::{AdminError, Staff};
use crate::domain::staff::Permission;

/// A permission named as a type, so a handler's signature says what it needs.
pub trait Needs: 'static {
    /// `None`: any logged-in staff member (their own account, logging out).
    const PERMISSION: Option<Permission>;
}

macro_rules! permissions {
    ($($name:ident),+ $(,)?) => {
        /// One type per `Permission`, for `Allowed<P>` and `Posted<P, F>`.
        pub mod need {
            /// Any logged-in staff member, whatever their role.
            pub struct LoggedIn;
            impl super::Needs for LoggedIn {
                const PERMISSION: Option<crate::domain::staff::Permission> = None;
            }
            $(
                pub struct $name;
                impl super::Needs for $name {
                    const PERMISSION: Option<crate::domain::staff::Permission> =
                        Some(crate::domain::staff::Permission::$name);
                }
            )+
        }
    };
}

permissions!(
    ViewDashboard,
    WorkOwnQueues,
    EnterRequests,
    ExportCases,
    ManageRules,
    ManageUsers,
    ManageQueues,
    ViewAuditLog,
    ManagePartners,
    ManageEscalation,
);

/// A logged-in staff member whose role has permission `P`.
pub struct Allowed<P>(pub Staff, PhantomData<P>);

impl<P> Deref for Allowed<P> {
    type Target = Staff;
    fn deref(&self) -> &Staff {
        &self.0
    }
}

impl<P: Needs> FromRequest for Allowed<P> {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AdminError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let staff = Staff::from_request(req, payload);
        Box::pin(async move {
            let staff = staff.await?;
            if let Some(p) = P::PERMISSION {
                staff.require(p)?;
            }
            Ok(Allowed(staff, PhantomData))
        })
    }
}

/// A form posted by a staff member with permission `P`, its CSRF token checked.
pub struct Posted<P, F> {
    pub staff: Staff,
    pub form: F,
    need: PhantomData<P>,
}

/// The form as posted: the session's CSRF token beside the fields `F` reads.
#[derive(Deserialize)]
struct WithToken<F> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: F,
}

/// Errors are actix-web's own for the body (413 too large, 415 not a form, 400 garbled, as
/// for any `web::Form`), and `AdminError`'s for the checks.
impl<P: Needs, F: DeserializeOwned + 'static> FromRequest for Posted<P, F> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let staff = Allowed::<P>::from_request(req, payload);
        let form = web::Form::<WithToken<F>>::from_request(req, payload);
        Box::pin(async move {
            let Allowed(staff, _) = staff.await?;
            let WithToken { csrf, form } = form.await?.into_inner();
            csrf_matches(&staff, &csrf)?;
            Ok(Posted {
                staff,
                form,
                need: PhantomData,
            })
        })
    }
}

/// Checks the CSRF token a form sent; for a form that is not urlencoded (a multipart
/// upload, which `Posted` cannot read), and by `Posted` itself.
pub fn csrf_matches(staff: &Staff, sent: &str) -> Result<(), AdminError> {
    if bool::from(sent.as_bytes().ct_eq(staff.csrf.as_bytes())) {
        Ok(())
    } else {
        Err(AdminError::BadCsrf)
    }
}

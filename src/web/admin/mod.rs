//! The task force's side (`/admin`): login, dashboard, queues, cases, and the settings
//! the lead and admins edit. Every handler takes a `Staff` (which sends anonymous
//! visitors to the login page) and checks the permission it needs.

pub mod account;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod dashboard;
pub mod duplicates;
pub mod escalation;
pub mod forecast;
pub mod guard;
pub mod mail_in;
pub mod messages;
pub mod outbox;
pub mod partners;
pub mod people;
pub mod replies;
pub mod settings;
pub mod upload;

use actix_web::http::{header, StatusCode};
use actix_web::middleware::from_fn;
use actix_web::{web, HttpResponse, ResponseError};
use askama::Template;

use crate::db::DbError;
use crate::domain::staff::Permission;
use crate::web::errors::{html, MessagePage};
pub use auth::Staff;
pub use guard::{need, Allowed, Posted};

/// Every address is one resource holding all of its methods, so that any other method is
/// answered 405 with an `Allow` header naming them. (`cfg.route` would put the method guard
/// on the address itself, and another method would fall through to the not-found page.)
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/login")
            .route(web::get().to(auth::login_form))
            .route(web::post().to(auth::login))
            .wrap(from_fn(crate::web::limits::limit_login)),
    )
    .service(web::resource("/admin/logout").post(auth::logout))
    .service(
        web::resource("/admin/login/code")
            .get(account::code_form)
            .post(account::check_login_code),
    )
    .service(web::resource("/admin/account").get(account::account))
    .service(web::resource("/admin/account/totp/start").post(account::start_totp))
    .service(web::resource("/admin/account/totp").post(account::confirm_totp))
    .service(web::resource("/admin/account/totp/disable").post(account::disable_totp))
    .service(
        web::resource("/admin/setup/{token}")
            .get(auth::setup_form)
            .post(auth::setup),
    )
    .service(web::resource("/admin").get(dashboard::dashboard))
    .service(web::resource("/admin/").get(dashboard::dashboard))
    .service(web::resource("/admin/queues").get(cases::queue_list))
    .service(web::resource("/admin/queues/{slug}").get(cases::queue_view))
    .service(web::resource("/admin/cases").get(cases::search))
    .service(
        web::resource("/admin/people")
            .get(people::form)
            .post(people::search),
    )
    .service(web::resource("/admin/export.csv").get(cases::export_csv))
    .service(web::resource("/admin/audit").get(audit::audit_page))
    .service(web::resource("/admin/audit.csv").get(audit::audit_csv))
    .service(
        web::resource("/admin/requests/new")
            .get(cases::new_request_form)
            .post(cases::create_request),
    )
    .service(
        web::resource("/admin/requests/upload")
            .get(upload::upload_form)
            .post(upload::upload),
    )
    .service(web::resource("/admin/requests/template.csv").get(upload::template))
    .service(web::resource("/admin/requests/{reference}").get(cases::case_page))
    .service(web::resource("/admin/requests/{reference}/duplicates").post(duplicates::decide))
    .service(web::resource("/admin/requests/{reference}/actions").post(cases::case_action))
    .service(web::resource("/admin/requests/{reference}/messages").post(messages::compose))
    .service(web::resource("/admin/requests/{reference}/attachments/{id}").get(cases::attachment))
    .service(web::resource("/admin/mail/unreadable").get(mail_in::unreadable))
    .service(web::resource("/admin/mail/unreadable/{id}").post(mail_in::resolve))
    .service(web::resource("/admin/mail/unreadable/{id}/raw").get(mail_in::raw))
    .service(web::resource("/admin/requests/{reference}/acknowledge").post(escalation::acknowledge))
    .service(
        web::resource("/admin/pages/{id}")
            .get(escalation::follow_link)
            .post(escalation::take),
    )
    .service(
        web::resource("/admin/duty")
            .get(escalation::duty)
            .post(escalation::set_duty),
    )
    .service(web::resource("/admin/escalations").get(escalation::escalations))
    .service(
        web::resource("/admin/escalations/{queue}")
            .get(escalation::rota)
            .post(escalation::save_rota),
    )
    .service(web::resource("/admin/outbox").get(outbox::outbox))
    .service(web::resource("/admin/outbox/retry").post(outbox::retry))
    .service(
        web::resource("/admin/partners")
            .get(partners::partners)
            .post(partners::create_partner),
    )
    .service(web::resource("/admin/partners/{id}/quota").post(partners::set_quota))
    .service(web::resource("/admin/partners/{id}/webhook").post(partners::set_webhook))
    .service(web::resource("/admin/partners/{id}/tokens").post(partners::issue_token))
    .service(web::resource("/admin/partners/tokens/{id}/revoke").post(partners::revoke_token))
    .service(
        web::resource("/admin/users")
            .get(settings::users)
            .post(settings::create_user),
    )
    .service(web::resource("/admin/users/{id}").post(settings::update_user))
    .service(
        web::resource("/admin/rules")
            .get(settings::rules)
            .post(settings::save_rule),
    )
    .service(web::resource("/admin/rules/test").post(settings::test_rule))
    .service(web::resource("/admin/rules/{id}/delete").post(settings::delete_rule))
    .service(
        web::resource("/admin/guidance")
            .get(settings::guidance)
            .post(settings::save_guidance),
    )
    .service(
        web::resource("/admin/replies")
            .get(replies::replies)
            .post(replies::save_reply),
    )
    .service(web::resource("/admin/replies/{id}/delete").post(replies::delete_reply))
    .service(
        web::resource("/admin/queue-settings")
            .get(settings::queues)
            .post(settings::save_queue),
    );
}

/// What the admin layout shows about the person and what they may open.
pub struct Nav {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    pub can_work: bool,
    pub can_enter: bool,
    pub can_rules: bool,
    pub can_users: bool,
    pub can_queues: bool,
    pub can_audit: bool,
    pub can_partners: bool,
    pub can_escalation: bool,
}

impl Nav {
    pub fn of(staff: &Staff) -> Nav {
        Nav {
            name: staff.name.clone(),
            role: staff.role.label(),
            csrf: staff.csrf.clone(),
            can_work: staff.can(Permission::WorkOwnQueues),
            can_enter: staff.can(Permission::EnterRequests),
            can_rules: staff.can(Permission::ManageRules),
            can_users: staff.can(Permission::ManageUsers),
            can_queues: staff.can(Permission::ManageQueues),
            can_audit: staff.can(Permission::ViewAuditLog),
            can_partners: staff.can(Permission::ManagePartners),
            can_escalation: staff.can(Permission::ManageEscalation),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("login required")]
    LoginRequired,
    #[error("your role does not allow this")]
    Forbidden,
    #[error("the form expired; reload the page and try again")]
    BadCsrf,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("database error")]
    Db(#[from] DbError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<crate::app::Error> for AdminError {
    fn from(e: crate::app::Error) -> Self {
        use crate::app::Error;
        match e {
            Error::NotFound => AdminError::NotFound,
            Error::Forbidden => AdminError::Forbidden,
            Error::Invalid(m) => AdminError::Invalid(m),
            Error::Db(e) => AdminError::Db(e),
            Error::Internal(e) => AdminError::Internal(e),
        }
    }
}

impl From<diesel::result::Error> for AdminError {
    fn from(e: diesel::result::Error) -> Self {
        AdminError::Db(e.into())
    }
}

impl From<askama::Error> for AdminError {
    fn from(e: askama::Error) -> Self {
        AdminError::Internal(e.into())
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::LoginRequired => StatusCode::SEE_OTHER,
            AdminError::Forbidden | AdminError::BadCsrf => StatusCode::FORBIDDEN,
            AdminError::NotFound => StatusCode::NOT_FOUND,
            AdminError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AdminError::Db(DbError::Pool(_) | DbError::Connect(_) | DbError::Commit(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AdminError::Db(_) | AdminError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AdminError::LoginRequired = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/admin/login"))
                .finish();
        }
        let status = self.status_code();
        if status.is_server_error() {
            let cause = match self {
                AdminError::Db(e) => format!(
                    "{e}: {:?}",
                    std::error::Error::source(e).map(|s| s.to_string())
                ),
                AdminError::Internal(e) => format!("{e:#}"),
                _ => String::new(),
            };
            tracing::error!(%status, cause = %cause, "admin request failed");
        }
        let (title, message) = match self {
            AdminError::Forbidden => (
                "Not allowed",
                "Your role does not allow this. Ask an administrator if you need it.".to_string(),
            ),
            AdminError::BadCsrf => ("Form expired", self.to_string()),
            AdminError::NotFound => ("Not found", "There is nothing here.".to_string()),
            AdminError::Invalid(m) => ("Please check", m.clone()),
            _ => (
                "Something went wrong",
                "The error has been logged. Please try again.".to_string(),
            ),
        };
        let body = MessagePage {
            tr: Default::default(),
            switch: None,
            title,
            message: &message,
        }
        .render()
        .unwrap_or(message);
        html(status, body)
    }
}

/// 422 when a page is shown again with an error, 200 otherwise.
pub fn status_for(error: &Option<String>) -> StatusCode {
    if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// A CSV download streamed from the chunks a blocking export task sends.
pub fn csv_download(
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    filename: &'static str,
) -> HttpResponse {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, actix_web::Error>(web::Bytes::from(b)), rx))
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(stream)
}

/// Renders a template as a 200 page.
pub fn page(t: impl Template) -> Result<HttpResponse, AdminError> {
    Ok(html(StatusCode::OK, t.render()?))
}

/// Redirects after a successful form post.
/// A file's size as staff pages show it: `512 bytes`, `12 KiB`, `3.4 MiB`.
pub fn file_size(bytes: i64) -> String {
    const MIB: i64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= 1024 {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

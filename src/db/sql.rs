//! The closed vocabularies of the domain as database text, in one place: each is stored as
//! its `as_str` text and read back through `FromStr`, so rows carry the enums and a value
//! the code does not know is an error the moment it is read, never a string passed on.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use std::io::Write;

use super::outbox::OutboxStatus;
use super::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::staff::Role;
use crate::domain::vocab::{
    BirthPrecision, Calendar, Category, Direction, DuplicateStatus, Language, Location, MailOrigin,
    MailOutcome, OutboxKind, Priority, Programs, ReferralProgram, SivStatus, Source, Status,
    SubmitterKind, TokenScope, UsTie,
};

type MultiBackend = <DbConnection as diesel::Connection>::Backend;

/// The text a value is stored as.
trait Stored {
    fn stored(&self) -> std::borrow::Cow<'_, str>;
}

/// Stores `$ty` as text on both backends and on the connection that picks one.
macro_rules! text_column {
    ($($ty:ident => $proxy:ident),+ $(,)?) => {$(
        impl Stored for $ty {
            fn stored(&self) -> std::borrow::Cow<'_, str> {
                self.as_str().into()
            }
        }
    )+ text_column!(@sql $($ty => $proxy),+);};
    (@sql $($ty:ident => $proxy:ident),+) => {$(
        #[derive(diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(foreign_derive, sql_type = Text)]
        #[allow(dead_code)]
        struct $proxy($ty);

        impl FromSql<Text, Sqlite> for $ty {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
                parse(&text)
            }
        }

        impl FromSql<Text, Pg> for $ty {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                parse(std::str::from_utf8(bytes.as_bytes())?)
            }
        }

        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, Text>()
            }
        }

        impl ToSql<Text, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                match self.stored() {
                    std::borrow::Cow::Borrowed(text) => out.set_value(text),
                    std::borrow::Cow::Owned(text) => out.set_value(text),
                }
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.stored().as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }
    )+};
}

text_column!(
    Category => CategoryText,
    Priority => PriorityText,
    Status => StatusText,
    Source => SourceText,
    Language => LanguageText,
    SubmitterKind => SubmitterKindText,
    Location => LocationText,
    SivStatus => SivStatusText,
    ReferralProgram => ReferralProgramText,
    UsTie => UsTieText,
    OutboxKind => OutboxKindText,
    DuplicateStatus => DuplicateStatusText,
    OutboxStatus => OutboxStatusText,
    Role => RoleText,
    TokenScope => TokenScopeText,
    Direction => DirectionText,
    BirthPrecision => BirthPrecisionText,
    Calendar => CalendarText,
    MailOrigin => MailOriginText,
    MailOutcome => MailOutcomeText,
);

impl Stored for Actor {
    fn stored(&self) -> std::borrow::Cow<'_, str> {
        self.to_string().into()
    }
}

text_column!(@sql Actor => ActorText);

impl Stored for Programs {
    fn stored(&self) -> std::borrow::Cow<'_, str> {
        self.as_str().into()
    }
}

text_column!(@sql Programs => ProgramsText);

/// A stored text as `T`; an unknown one names its type, never its value.
fn parse<T: std::str::FromStr>(text: &str) -> deserialize::Result<T> {
    text.parse().map_err(|_| {
        format!(
            "the database holds an unknown {}",
            std::any::type_name::<T>()
                .rsplit("::")
                .next()
                .unwrap_or("value")
        )
        .into()
    })
}

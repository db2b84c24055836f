//! Dates of birth as people write them: in the Gregorian calendar or the Solar Hijri one
//! of the Tazkira (`1369-10-11`, `1369/10/11`), a whole date or the year alone, in any of
//! the three digit scripts. Kept once, in Gregorian, with what is known (day or year);
//! the conversion is ICU4X's Persian calendar, never a table of our own.

use chrono::{Datelike, NaiveDate};
use icu_calendar::cal::Persian;
use icu_calendar::{Date, Iso};

use super::dedup::Birth;
use super::fields::ascii_digits;
use super::problem::Problem;
use super::vocab::{BirthPrecision, Calendar, Language};

/// The earliest date of birth taken.
pub fn earliest() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).expect("a real day")
}

impl Calendar {
    /// What the form offers first: the calendar of the Tazkira to Dari and Pashto readers,
    /// the Gregorian one of passports and case letters to English ones.
    pub fn default_for(language: Language) -> Calendar {
        match language {
            Language::En => Calendar::Gregorian,
            Language::FaAf | Language::Ps => Calendar::HijriShamsi,
        }
    }
}

/// A Solar Hijri day (year, month, day) as a Gregorian date; `None` for a day that does
/// not exist (1369-12-30 in a common year).
pub fn from_solar_hijri(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    let (month, day) = (u8::try_from(month).ok()?, u8::try_from(day).ok()?);
    let persian = Date::try_new_persian(year, month, day).ok()?;
    let iso = persian.to_calendar(Iso);
    NaiveDate::from_ymd_opt(
        iso.year().extended_year(),
        u32::from(iso.month().ordinal),
        u32::from(iso.day_of_month().0),
    )
}

/// A Gregorian date as its Solar Hijri (year, month, day).
pub fn to_solar_hijri(date: NaiveDate) -> (i32, u32, u32) {
    let month = u8::try_from(date.month()).expect("1 to 12");
    let day = u8::try_from(date.day()).expect("1 to 31");
    let iso = Date::try_new_iso(date.year(), month, day).expect("a real day");
    let persian = iso.to_calendar(Persian::new());
    (
        persian.year().extended_year(),
        u32::from(persian.month().ordinal),
        u32::from(persian.day_of_month().0),
    )
}

/// A date of birth, in Gregorian, whether the day or only the year is known, and the
/// calendar it was written in. A year alone is kept as the first day of that year in that
/// calendar (1 January, or 1 Farvardin for a Solar Hijri year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BirthDate {
    pub date: NaiveDate,
    pub precision: BirthPrecision,
    pub calendar: Calendar,
}

/// What was typed, read in one calendar: a day, or a year alone.
#[derive(Clone, Copy)]
enum Written {
    Day(i32, u32, u32),
    Year(i32),
}

/// `YYYY`, `YYYY-MM-DD`, `YYYY/MM/DD` or `DD/MM/YYYY` (ASCII digits already).
fn read(ascii: &str) -> Option<Written> {
    let number = |s: &str, len: std::ops::RangeInclusive<usize>| {
        (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let year = |s: &str| number(s, 4..=4).and_then(|y| i32::try_from(y).ok());
    let parts: Vec<&str> = ascii.split(['-', '/']).collect();
    let one_separator = !(ascii.contains('-') && ascii.contains('/'));
    match parts.as_slice() {
        [y] => Some(Written::Year(year(y)?)),
        [y, m, d] if one_separator && y.len() == 4 => {
            Some(Written::Day(year(y)?, number(m, 1..=2)?, number(d, 1..=2)?))
        }
        [d, m, y] if ascii.contains('/') && !ascii.contains('-') => {
            Some(Written::Day(year(y)?, number(m, 1..=2)?, number(d, 1..=2)?))
        }
        _ => None,
    }
}

impl BirthDate {
    /// Reads a date of birth written in `calendar`: not in the future, not before 1900.
    /// When the date makes no sense in the calendar chosen but does in the other (1369 as
    /// a Gregorian year), the problem says which calendar to choose.
    pub fn parse(raw: &str, calendar: Calendar, today: NaiveDate) -> Result<Self, Problem> {
        let written = read(&ascii_digits(raw.trim())).ok_or(Problem::DateFormat)?;
        let plausible = |b: &BirthDate| b.date >= earliest() && b.date <= today;
        let chosen = Self::in_calendar(&written, calendar).ok_or(Problem::DateFormat)?;
        if plausible(&chosen) {
            return Ok(chosen);
        }
        let other = match calendar {
            Calendar::Gregorian => Calendar::HijriShamsi,
            Calendar::HijriShamsi => Calendar::Gregorian,
        };
        match Self::in_calendar(&written, other).filter(plausible) {
            Some(_) if other == Calendar::HijriShamsi => Err(Problem::DateLooksSolarHijri),
            Some(_) => Err(Problem::DateLooksGregorian),
            None if chosen.date > today => Err(Problem::DateInFuture),
            None => Err(Problem::DateTooEarly),
        }
    }

    fn in_calendar(written: &Written, calendar: Calendar) -> Option<BirthDate> {
        let (date, precision) = match (*written, calendar) {
            (Written::Day(y, m, d), Calendar::Gregorian) => {
                (NaiveDate::from_ymd_opt(y, m, d)?, BirthPrecision::Day)
            }
            (Written::Day(y, m, d), Calendar::HijriShamsi) => {
                (from_solar_hijri(y, m, d)?, BirthPrecision::Day)
            }
            (Written::Year(y), Calendar::Gregorian) => {
                (NaiveDate::from_ymd_opt(y, 1, 1)?, BirthPrecision::Year)
            }
            (Written::Year(y), Calendar::HijriShamsi) => {
                (from_solar_hijri(y, 1, 1)?, BirthPrecision::Year)
            }
        };
        Some(BirthDate {
            date,
            precision,
            calendar,
        })
    }

    /// A row's date; rows from before precision was kept hold Gregorian whole dates.
    pub fn stored(
        date: NaiveDate,
        precision: Option<BirthPrecision>,
        calendar: Option<Calendar>,
    ) -> Self {
        BirthDate {
            date,
            precision: precision.unwrap_or(BirthPrecision::Day),
            calendar: calendar.unwrap_or(Calendar::Gregorian),
        }
    }

    /// What duplicate matching compares: the date, or only the year. A Solar Hijri year
    /// counts as the Gregorian year it starts in (nine of its twelve months).
    pub fn birth(self) -> Birth {
        match self.precision {
            BirthPrecision::Day => Birth::Date(self.date),
            BirthPrecision::Year => Birth::Year(self.date.year()),
        }
    }

    fn solar_hijri_year(self) -> bool {
        self.precision == BirthPrecision::Year && self.calendar == Calendar::HijriShamsi
    }

    /// In Gregorian only: `1990-01-01`, a year `1990`, a Solar Hijri year `1990–1991`.
    pub fn gregorian(self) -> String {
        match self.precision {
            BirthPrecision::Day => self.date.to_string(),
            BirthPrecision::Year if self.solar_hijri_year() => {
                format!("{}–{}", self.date.year(), self.date.year() + 1)
            }
            BirthPrecision::Year => self.date.year().to_string(),
        }
    }

    /// Both calendars, for staff: `1990-01-01 (1368-10-11 SH)`, `1990 (1368–1369 SH)`,
    /// `1990–1991 (1369 SH)`.
    pub fn both_calendars(self) -> String {
        format!("{} ({} SH)", self.gregorian(), self.solar_hijri())
    }

    /// In Solar Hijri only: `1368-10-11`, a Solar Hijri year `1369`, a Gregorian year
    /// `1368–1369`.
    pub fn solar_hijri(self) -> String {
        let (y, m, d) = to_solar_hijri(self.date);
        match self.precision {
            BirthPrecision::Day => format!("{y:04}-{m:02}-{d:02}"),
            BirthPrecision::Year if self.solar_hijri_year() => y.to_string(),
            BirthPrecision::Year => format!("{y}–{}", y + 1),
        }
    }

    pub fn calendar(self) -> Calendar {
        self.calendar
    }

    /// As the requester wrote it, in their calendar: `1369-10-11`, `1369`, `1990-05-31`.
    pub fn as_written(self) -> String {
        let (sy, sm, sd) = to_solar_hijri(self.date);
        match (self.precision, self.calendar) {
            (BirthPrecision::Day, Calendar::Gregorian) => self.date.to_string(),
            (BirthPrecision::Day, Calendar::HijriShamsi) => format!("{sy:04}-{sm:02}-{sd:02}"),
            (BirthPrecision::Year, _) if self.solar_hijri_year() => sy.to_string(),
            (BirthPrecision::Year, _) => self.date.year().to_string(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::fields::tests::in_script;
    use proptest::prelude::*;

    /// The day the tests take as today.
    pub(crate) fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    pub(crate) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn parse(raw: &str, calendar: Calendar) -> Result<BirthDate, Problem> {
        BirthDate::parse(raw, calendar, today())
    }

    #[test]
    fn known_days_convert_both_ways() {
        // 11 Jadi (Dey) 1369 = 1 January 1991; 1 Farvardin 1400 = 21 March 2021.
        assert_eq!(from_solar_hijri(1369, 10, 11), Some(ymd(1991, 1, 1)));
        assert_eq!(from_solar_hijri(1400, 1, 1), Some(ymd(2021, 3, 21)));
        assert_eq!(to_solar_hijri(ymd(1990, 1, 1)), (1368, 10, 11));
        assert_eq!(from_solar_hijri(1369, 13, 1), None);
        assert_eq!(from_solar_hijri(1369, 7, 31), None);
    }

    #[test]
    fn dates_are_read_as_written_on_a_tazkira() {
        let sh = Calendar::HijriShamsi;
        let day = BirthDate {
            date: ymd(1991, 1, 1),
            precision: BirthPrecision::Day,
            calendar: sh,
        };
        for typed in [
            "1369-10-11",
            "1369/10/11",
            "۱۳۶۹/۱۰/۱۱",
            "١٣٦٩-١٠-١١",
            "11/10/1369",
        ] {
            assert_eq!(parse(typed, sh), Ok(day), "{typed}");
        }
        let year = parse("۱۳۶۹", sh).unwrap();
        assert_eq!(year.precision, BirthPrecision::Year);
        assert_eq!(year.date, ymd(1990, 3, 21));
        assert_eq!(year.birth(), Birth::Year(1990));
        assert_eq!(year.as_written(), "1369");
        assert_eq!(year.both_calendars(), "1990–1991 (1369 SH)");
    }

    #[test]
    fn gregorian_dates_are_read_in_every_form() {
        let g = Calendar::Gregorian;
        for typed in [
            "1990-05-01",
            "1990/05/01",
            "01/05/1990",
            "1990-5-1",
            "۱۹۹۰-۰۵-۰۱",
        ] {
            assert_eq!(parse(typed, g).unwrap().date, ymd(1990, 5, 1), "{typed}");
        }
        let year = parse("1990", g).unwrap();
        assert_eq!(year.birth(), Birth::Year(1990));
        assert_eq!(year.both_calendars(), "1990 (1368–1369 SH)");
        assert_eq!(year.as_written(), "1990");
        assert_eq!(
            parse("1990-01-01", g).unwrap().both_calendars(),
            "1990-01-01 (1368-10-11 SH)"
        );
    }

    #[test]
    fn the_wrong_calendar_is_named() {
        assert_eq!(
            parse("1369", Calendar::Gregorian),
            Err(Problem::DateLooksSolarHijri)
        );
        assert_eq!(
            parse("1369-10-11", Calendar::Gregorian),
            Err(Problem::DateLooksSolarHijri)
        );
        assert_eq!(
            parse("1990-05-01", Calendar::HijriShamsi),
            Err(Problem::DateLooksGregorian)
        );
        // Implausible in both: the plain reasons.
        assert_eq!(
            parse("1850-01-01", Calendar::Gregorian),
            Err(Problem::DateTooEarly)
        );
        assert_eq!(
            parse("2030-01-01", Calendar::Gregorian),
            Err(Problem::DateInFuture)
        );
        assert_eq!(
            parse("1990-02-30", Calendar::Gregorian),
            Err(Problem::DateFormat)
        );
        assert_eq!(
            parse("1369-12-30", Calendar::HijriShamsi),
            Err(Problem::DateFormat)
        );
        for bad in [
            "yesterday",
            "1990-05/01",
            "90-05-01",
            "1990-05-01-01",
            "",
            "12345",
        ] {
            assert_eq!(
                parse(bad, Calendar::Gregorian),
                Err(Problem::DateFormat),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_day_of_1300_to_1410_sh_goes_there_and_back() {
        let mut day = from_solar_hijri(1300, 1, 1).unwrap();
        let end = from_solar_hijri(1411, 1, 1).unwrap();
        let mut previous: Option<(i32, u32, u32)> = None;
        let mut count = 0;
        while day < end {
            let (y, m, d) = to_solar_hijri(day);
            assert_eq!(from_solar_hijri(y, m, d), Some(day), "{y}-{m}-{d}");
            // Days follow each other: the next day of the month, or the first of the next.
            if let Some((py, pm, pd)) = previous {
                let next = (y, m, d) == (py, pm, pd + 1)
                    || ((y, m, d) == (py, pm + 1, 1) && pd >= 29)
                    || ((y, m, d) == (py + 1, 1, 1) && pm == 12);
                assert!(next, "{py}-{pm}-{pd} then {y}-{m}-{d}");
            }
            previous = Some((y, m, d));
            day = day.succ_opt().unwrap();
            count += 1;
        }
        // 111 years of 365 or 366 days.
        assert!((111 * 365..=111 * 366).contains(&count), "{count}");
    }

    proptest! {
        /// Our reading of a written day agrees with the library's own conversion.
        #[test]
        fn parsing_agrees_with_the_library(y in 1279i32..1405, m in 1u32..=12, d in 1u32..=31, slash in any::<bool>()) {
            let sep = if slash { '/' } else { '-' };
            let typed = format!("{y}{sep}{m:02}{sep}{d:02}");
            let library = Date::try_new_persian(y, m as u8, d as u8).ok().map(|p| {
                let iso = p.to_calendar(Iso);
                ymd(iso.year().extended_year(), iso.month().ordinal.into(), iso.day_of_month().0.into())
            });
            match library {
                Some(date) if date >= earliest() && date <= today() => {
                    prop_assert_eq!(parse(&typed, Calendar::HijriShamsi).map(|b| b.date), Ok(date));
                }
                Some(_) => prop_assert!(parse(&typed, Calendar::HijriShamsi).is_err()),
                None => prop_assert_eq!(parse(&typed, Calendar::HijriShamsi), Err(Problem::DateFormat)),
            }
        }

        #[test]
        fn persian_digits_equal_latin_ones(
            y in 1279i32..1420, m in 1u32..=12, d in 1u32..=31,
            script in 1u32..3, sh in any::<bool>(), year_only in any::<bool>(),
        ) {
            let calendar = if sh { Calendar::HijriShamsi } else { Calendar::Gregorian };
            let typed = if year_only { format!("{y}") } else { format!("{y}-{m:02}-{d:02}") };
            prop_assert_eq!(parse(&in_script(&typed, script), calendar), parse(&typed, calendar));
        }

        #[test]
        fn a_stored_date_is_shown_as_it_was_written(y in 1279i32..1405, m in 1u32..=12, d in 1u32..=29, year_only in any::<bool>()) {
            let typed = if year_only { format!("{y}") } else { format!("{y:04}-{m:02}-{d:02}") };
            let born = parse(&typed, Calendar::HijriShamsi).unwrap();
            let again = BirthDate::stored(born.date, Some(born.precision), Some(born.calendar));
            prop_assert_eq!(again.as_written(), typed);
        }
    }
}

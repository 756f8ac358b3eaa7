//! Timestamps on the wire. AWS writes them three ways (ISO-8601, HTTP
//! dates, epoch seconds) depending on the protocol, the location and the
//! model's `timestampFormat`; plugins see one: ISO-8601 in UTC with a `Z`.
//! Inputs may be ISO-8601 strings (any offset) or epoch numbers.

use serde_json::{Number, Value};

/// A point in time: seconds since the epoch and a sub-second part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timestamp {
    secs: i64,
    nanos: u32,
}

/// The wire formats a model can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeFormat {
    /// `2015-01-25T08:00:00Z`.
    Iso8601,
    /// `Sun, 25 Jan 2015 08:00:00 GMT`.
    HttpDate,
    /// `1422172800`.
    EpochSeconds,
}

impl TimeFormat {
    /// The format a model names, or `default` when it names none.
    pub(crate) fn named(name: Option<&str>, default: TimeFormat) -> TimeFormat {
        match name {
            Some("iso8601") => TimeFormat::Iso8601,
            Some("rfc822") => TimeFormat::HttpDate,
            Some("unixTimestamp") => TimeFormat::EpochSeconds,
            _ => default,
        }
    }
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Nanoseconds of a fraction's digits (`123` is 123 ms).
fn fraction_nanos(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut padded: String = text.chars().take(9).collect();
    while padded.len() < 9 {
        padded.push('0');
    }
    padded.parse().ok()
}

impl Timestamp {
    fn from_parts(
        year: i64,
        month: u32,
        day: u32,
        (hour, minute, second): (u32, u32, u32),
        nanos: u32,
        offset_secs: i64,
    ) -> Option<Timestamp> {
        let valid = (1..=12).contains(&month)
            && (1..=31).contains(&day)
            && hour < 24
            && minute < 60
            && second <= 60;
        if !valid {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs =
            days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
                - offset_secs;
        Some(Timestamp { secs, nanos })
    }

    /// Epoch seconds, fractions kept to the microsecond.
    pub(crate) fn from_epoch(secs: f64) -> Option<Timestamp> {
        if !secs.is_finite() || secs.abs() > 1e14 {
            return None;
        }
        // A double holds an epoch to about a microsecond; finer digits are
        // noise from the binary fraction.
        let whole = secs.floor();
        let micros = ((secs - whole) * 1e6).round() as u32;
        let (whole, nanos) =
            if micros >= 1_000_000 { (whole + 1.0, 0) } else { (whole, micros * 1000) };
        Some(Timestamp { secs: whole as i64, nanos })
    }

    /// `2015-01-25T08:00:00Z`, `2015-01-25T08:00:00.123+01:00` and the
    /// like; the date and time separator and `Z` may be lower case.
    pub(crate) fn parse_iso8601(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        let (date, time) = text.split_once(['T', 't'])?;
        let mut date_parts = date.splitn(3, '-');
        let year = i64::from(digits(date_parts.next()?)?);
        let month = digits(date_parts.next()?)?;
        let day = digits(date_parts.next()?)?;
        let (clock, offset) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
            (clock, 0)
        } else if let Some(at) = time.rfind(['+', '-']) {
            let (clock, zone) = time.split_at(at);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let zone = &zone[1..];
            let (h, m) = zone.split_once(':').unwrap_or((zone.get(..2)?, zone.get(2..)?));
            (clock, sign * (i64::from(digits(h)?) * 3600 + i64::from(digits(m)?) * 60))
        } else {
            (time, 0)
        };
        let (hms, fraction) = match clock.split_once('.') {
            Some((hms, f)) => (hms, fraction_nanos(f)?),
            None => (clock, 0),
        };
        let mut parts = hms.splitn(3, ':');
        let hour = digits(parts.next()?)?;
        let minute = digits(parts.next()?)?;
        let second = digits(parts.next()?)?;
        Timestamp::from_parts(year, month, day, (hour, minute, second), fraction, offset)
    }

    /// `Sun, 25 Jan 2015 08:00:00 GMT` (fractions allowed).
    pub(crate) fn parse_http_date(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        let rest = text.split_once(", ").map(|(_, r)| r).unwrap_or(text);
        let mut words = rest.split_whitespace();
        let day = digits(words.next()?)?;
        let month_name = words.next()?;
        let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month_name))? as u32 + 1;
        let year = i64::from(digits(words.next()?)?);
        let clock = words.next()?;
        let zone = words.next().unwrap_or("GMT");
        if !matches!(zone, "GMT" | "UTC" | "Z" | "+0000") {
            return None;
        }
        let (hms, fraction) = match clock.split_once('.') {
            Some((hms, f)) => (hms, fraction_nanos(f)?),
            None => (clock, 0),
        };
        let mut parts = hms.splitn(3, ':');
        let hour = digits(parts.next()?)?;
        let minute = digits(parts.next()?)?;
        let second = digits(parts.next()?)?;
        Timestamp::from_parts(year, month, day, (hour, minute, second), fraction, 0)
    }

    /// Wire text in any of the three formats, `hint` tried first.
    pub(crate) fn parse_any(text: &str, hint: TimeFormat) -> Option<Timestamp> {
        let epoch = |t: &str| t.trim().parse::<f64>().ok().and_then(Timestamp::from_epoch);
        match hint {
            TimeFormat::EpochSeconds => epoch(text)
                .or_else(|| Timestamp::parse_iso8601(text))
                .or_else(|| Timestamp::parse_http_date(text)),
            TimeFormat::HttpDate => Timestamp::parse_http_date(text)
                .or_else(|| Timestamp::parse_iso8601(text))
                .or_else(|| epoch(text)),
            TimeFormat::Iso8601 => Timestamp::parse_iso8601(text)
                .or_else(|| Timestamp::parse_http_date(text))
                .or_else(|| epoch(text)),
        }
    }

    /// A JSON input value: an epoch number or an ISO-8601 string (an
    /// epoch in a string and an HTTP date are accepted too).
    pub(crate) fn from_input(value: &Value) -> Option<Timestamp> {
        match value {
            Value::Number(n) => n.as_f64().and_then(Timestamp::from_epoch),
            Value::String(s) => Timestamp::parse_any(s, TimeFormat::Iso8601),
            _ => None,
        }
    }

    fn fraction(&self) -> String {
        if self.nanos == 0 {
            return String::new();
        }
        let digits = format!("{:09}", self.nanos);
        let trimmed = digits.trim_end_matches('0');
        // Milliseconds at least, as AWS writes them.
        let width = trimmed.len().max(3);
        format!(".{}", &digits[..width])
    }

    fn civil(&self) -> (i64, u32, u32, i64) {
        let days = self.secs.div_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (y, m, d, self.secs.rem_euclid(86_400))
    }

    /// `2015-01-25T08:00:00Z`, with a fraction only when there is one.
    pub(crate) fn to_iso8601(self) -> String {
        let (y, m, d, s) = self.civil();
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{}Z",
            s / 3600,
            s / 60 % 60,
            s % 60,
            self.fraction()
        )
    }

    /// `Sun, 25 Jan 2015 08:00:00 GMT`; HTTP dates carry whole seconds.
    pub(crate) fn to_http_date(self) -> String {
        let (y, m, d, s) = self.civil();
        let weekday = WEEKDAYS[self.secs.div_euclid(86_400).rem_euclid(7) as usize];
        let month = MONTHS[(m - 1) as usize % 12];
        format!(
            "{weekday}, {d:02} {month} {y:04} {:02}:{:02}:{:02} GMT",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }

    /// Epoch seconds as text, with a fraction only when there is one.
    pub(crate) fn to_epoch_text(self) -> String {
        format!("{}{}", self.secs, self.fraction())
    }

    /// Epoch seconds as a JSON number: an integer when whole.
    pub(crate) fn to_epoch_number(self) -> Value {
        if self.nanos == 0 {
            return Value::Number(self.secs.into());
        }
        // Through the text, so the number is the double nearest to it.
        let secs: f64 = self.to_epoch_text().parse().unwrap_or(f64::NAN);
        Number::from_f64(secs).map(Value::Number).unwrap_or(Value::Null)
    }

    /// The text of this time in `format`.
    pub(crate) fn to_text(self, format: TimeFormat) -> String {
        match format {
            TimeFormat::Iso8601 => self.to_iso8601(),
            TimeFormat::HttpDate => self.to_http_date(),
            TimeFormat::EpochSeconds => self.to_epoch_text(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        let t = Timestamp::parse_iso8601("2015-01-25T08:00:00Z").unwrap();
        assert_eq!(t.to_epoch_text(), "1422172800");
        assert_eq!(t.to_http_date(), "Sun, 25 Jan 2015 08:00:00 GMT");
        assert_eq!(Timestamp::parse_http_date("Sun, 25 Jan 2015 08:00:00 GMT"), Some(t));
        assert_eq!(Timestamp::from_epoch(1422172800.0), Some(t));
    }

    #[test]
    fn offsets_and_fractions_normalise_to_utc() {
        let t = Timestamp::parse_iso8601("2019-12-16T22:48:18-01:00").unwrap();
        assert_eq!(t.to_iso8601(), "2019-12-16T23:48:18Z");
        let t = Timestamp::parse_iso8601("2000-01-02T20:34:56.123Z").unwrap();
        assert_eq!(t.to_iso8601(), "2000-01-02T20:34:56.123Z");
        assert_eq!(t.to_epoch_number(), serde_json::json!(946845296.123));
        let t = Timestamp::from_epoch(1398796238.123).unwrap();
        assert_eq!(t.to_iso8601(), "2014-04-29T18:30:38.123Z");
    }

    #[test]
    fn garbage_is_not_a_time() {
        for text in ["", "yesterday", "2015-13-01T00:00:00Z", "2015-01-01", "T::"] {
            assert_eq!(Timestamp::parse_any(text, TimeFormat::Iso8601), None, "{text}");
        }
        assert_eq!(Timestamp::from_input(&Value::Bool(true)), None);
    }
}

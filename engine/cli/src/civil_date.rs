//! Unix time → proleptic Gregorian calendar date (UTC), without a date library.
//!
//! Shared by the build script (the build date in `vksplat --version`) and the unit tests,
//! which is why it depends on nothing but `core`.

/// `YYYY-MM-DD` of the UTC day containing `unix_seconds`.
pub fn utc_date(unix_seconds: i64) -> String {
    let (y, m, d) = civil_from_days(unix_seconds.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// (year, month 1–12, day 1–31) of the day `days` after 1970-01-01.
///
/// Counts in 400-year eras starting on 0000-03-01, so that the leap day is the last day of a
/// year and every era has the same 146 097 days.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153; // month, March = 0
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(86_399), "1970-01-01");
        assert_eq!(utc_date(86_400), "1970-01-02");
        assert_eq!(utc_date(-1), "1969-12-31");
        assert_eq!(utc_date(951_782_400), "2000-02-29"); // leap day of a 400-year leap
        assert_eq!(utc_date(951_868_800), "2000-03-01");
        assert_eq!(utc_date(4_107_542_400), "2100-03-01"); // 2100 is not a leap year
        assert_eq!(utc_date(4_107_456_000), "2100-02-28");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14");
    }

    #[test]
    fn every_day_follows_the_previous_one() {
        // Walk 1900..2200 day by day against a calendar counted by hand.
        let days_in = |y: i64, m: u32| match m {
            2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let (mut y, mut m, mut d) = civil_from_days(-25_567); // 1900-01-01
        assert_eq!((y, m, d), (1900, 1, 1));
        for days in -25_566..110_000 {
            d += 1;
            if d > days_in(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
        }
    }
}

//! Money as people type it and as the wire carries it (integer cents), with the platform's
//! range for a part's price, so a form refuses what the platform would.

/// Most a part may cost, in cents (1,000,000.00).
pub const MAX_PART_PRICE_CENTS: i64 = 100_000_000;

/// Most of one part a parts line may count.
pub const MAX_PART_QTY: u32 = 1000;

/// The platform's rule for a parts line's quantity and unit price, with the sentence it
/// answers; the device checks it before queueing, so nothing is queued that it would refuse.
pub fn check_part(qty: u32, unit_price_cents: i64) -> Result<(), String> {
    if !(1..=MAX_PART_QTY).contains(&qty) {
        return Err(format!("Quantity must be between 1 and {MAX_PART_QTY}."));
    }
    if !(0..=MAX_PART_PRICE_CENTS).contains(&unit_price_cents) {
        return Err("Unit price must be between 0 and 1,000,000.00.".into());
    }
    Ok(())
}

/// A price typed by a person ("12", "12.5", "12,50", ".5") in cents, within
/// 0..=[`MAX_PART_PRICE_CENTS`]; `None` for anything else ("twelve", "1.234", "-3").
pub fn parse_cents(typed: &str) -> Option<i64> {
    let t = typed.trim().replace(',', ".");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty())
        || !digits(whole)
        || !digits(frac)
        || frac.len() > 2
        || whole.len() > 7
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    Some(whole * 100 + frac).filter(|c| (0..=MAX_PART_PRICE_CENTS).contains(c))
}

#[cfg(test)]
mod tests {
    use super::{check_part, parse_cents};

    #[test]
    fn part_lines_within_the_platforms_range() {
        assert!(check_part(1, 0).is_ok());
        assert!(check_part(1000, 100_000_000).is_ok());
        assert!(check_part(0, 100).unwrap_err().contains("Quantity"));
        assert!(check_part(1001, 100).unwrap_err().contains("Quantity"));
        assert!(check_part(1, -1).unwrap_err().contains("Unit price"));
        assert!(
            check_part(1, 100_000_001)
                .unwrap_err()
                .contains("Unit price")
        );
    }

    #[test]
    fn prices_as_typed() {
        assert_eq!(parse_cents("12"), Some(1200));
        assert_eq!(parse_cents(" 12,5 "), Some(1250));
        assert_eq!(parse_cents("0.05"), Some(5));
        assert_eq!(parse_cents(".5"), Some(50));
        assert_eq!(parse_cents("1000000"), Some(100_000_000));
        for bad in [
            "twelve", "", "1.234", "-3", "1e3", "10000000", "12..5", "€12",
        ] {
            assert_eq!(parse_cents(bad), None, "{bad}");
        }
    }
}

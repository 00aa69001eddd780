//! Vehicle Identification Number checks (ISO 3779; check digit per 49 CFR 565).

/// Why a VIN was refused, as a sentence for the person who typed it.
pub fn validate(vin: &str) -> Result<String, String> {
    let vin = vin.trim().to_ascii_uppercase();
    // Characters, not bytes: "Ä" is one character the person typed (refused just below).
    let n = vin.chars().count();
    if n != 17 {
        return Err(format!("A VIN has 17 characters; this one has {n}."));
    }
    if let Some(c) = vin.chars().find(|c| !c.is_ascii_alphanumeric()) {
        return Err(format!("A VIN has only letters and digits, not '{c}'."));
    }
    if let Some(c) = vin.chars().find(|c| matches!(c, 'I' | 'O' | 'Q')) {
        return Err(format!(
            "A VIN never contains the letter '{c}' (I, O and Q are not used; did you mean 1 or 0?)."
        ));
    }
    if is_north_american(&vin) {
        let expected = check_digit(&vin);
        let actual = vin.as_bytes()[8] as char;
        if actual != expected {
            return Err(format!(
                "The check digit (9th character) is '{actual}' but should be '{expected}'; a character was probably mistyped."
            ));
        }
    }
    Ok(vin)
}

/// North American VINs (first character 1-5) carry a mandatory check digit in position 9.
pub fn is_north_american(vin: &str) -> bool {
    matches!(vin.as_bytes().first(), Some(b'1'..=b'5'))
}

/// The check digit ('0'-'9' or 'X') for a 17-character VIN of the allowed alphabet.
pub fn check_digit(vin: &str) -> char {
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let sum: u32 = vin
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| transliterate(b) * w)
        .sum();
    match sum % 11 {
        10 => 'X',
        n => char::from_digit(n, 10).unwrap_or('0'),
    }
}

fn transliterate(b: u8) -> u32 {
    match b {
        b'0'..=b'9' => u32::from(b - b'0'),
        b'A' | b'J' => 1,
        b'B' | b'K' | b'S' => 2,
        b'C' | b'L' | b'T' => 3,
        b'D' | b'M' | b'U' => 4,
        b'E' | b'N' | b'V' => 5,
        b'F' | b'W' => 6,
        b'G' | b'P' | b'X' => 7,
        b'H' | b'Y' => 8,
        b'R' | b'Z' => 9,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_known_good_north_american_vin() {
        // The worked example from 49 CFR 565 literature.
        assert_eq!(validate("1m8gdm9axkp042788").unwrap(), "1M8GDM9AXKP042788");
        assert_eq!(validate("11111111111111111").unwrap(), "11111111111111111");
    }

    #[test]
    fn rejects_bad_check_digit() {
        let e = validate("1M8GDM9A1KP042788").unwrap_err();
        assert!(e.contains("check digit"), "{e}");
    }

    #[test]
    fn rejects_length_and_alphabet() {
        assert!(validate("1M8GDM9AXKP04278").unwrap_err().contains("17"));
        assert!(validate("WVWZZZ1JZXW00000O").unwrap_err().contains("'O'"));
        assert!(validate("WVWZZZ1JZXW0000-1").unwrap_err().contains("'-'"));
        // 17 characters, 18 bytes: the sentence names the letter, not a length of 17.
        let e = validate("WVWZZZ1JZXW00000Ä").unwrap_err();
        assert!(e.contains("'Ä'"), "{e}");
    }

    #[test]
    fn european_vins_need_no_check_digit() {
        assert!(validate("WVWZZZ1JZXW000001").is_ok());
    }
}

//! Where an order goes.

use serde::{Deserialize, Serialize};

use crate::catalog::{ValueError, string_value, trimmed_with_length};

/// The officially assigned ISO 3166-1 alpha-2 codes (249), in order.
const ISO_3166_ALPHA_2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

string_value!(
    /// A country: an officially assigned ISO 3166-1 alpha-2 code (`GB`, `DE`, …),
    /// upper case.
    CountryCode,
    |value| {
        let assigned = value.len() == 2
            && ISO_3166_ALPHA_2
                .split(' ')
                .any(|code| code == value.as_str());
        if assigned {
            Ok(value)
        } else {
            Err(ValueError(format!(
                "country must be an ISO 3166-1 alpha-2 code such as \"GB\", got {value:?}"
            )))
        }
    }
);

string_value!(
    /// A recipient's name on a parcel: trimmed, 1 to 100 characters.
    RecipientName,
    |value| trimmed_with_length(value, "name", 100)
);

string_value!(
    /// A street line of an address: trimmed, 1 to 200 characters.
    AddressLine,
    |value| trimmed_with_length(value, "address line", 200)
);

string_value!(
    /// A city: trimmed, 1 to 100 characters.
    City,
    |value| trimmed_with_length(value, "city", 100)
);

string_value!(
    /// A postal code: trimmed, 1 to 20 characters of letters, digits, spaces and `-`.
    PostalCode,
    |value| {
        let value = trimmed_with_length(value, "postal code", 20)?;
        if value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        {
            Ok(value)
        } else {
            Err(ValueError(
                "postal code may contain only letters, digits, spaces and '-'".into(),
            ))
        }
    }
);

/// The address an order is shipped to. Each part validates itself, so an address
/// that exists is a complete one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingAddress {
    /// Who receives the parcel.
    pub name: RecipientName,
    /// Street and number.
    pub line1: AddressLine,
    /// A second line (flat, building), if any.
    pub line2: Option<AddressLine>,
    /// City.
    pub city: City,
    /// Postal code.
    pub postal_code: PostalCode,
    /// Country.
    pub country: CountryCode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_assigned_alpha_2_codes() {
        assert_eq!(ISO_3166_ALPHA_2.split(' ').count(), 249);
        for good in ["GB", "DE", "US", "ZW", "AD"] {
            assert!(CountryCode::new(good).is_ok(), "{good}");
        }
        for bad in ["gb", "UK", "XX", "GBR", "", "G"] {
            assert!(CountryCode::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn address_parts_validate() {
        assert_eq!(
            RecipientName::new("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert!(RecipientName::new(" ").is_err());
        assert!(PostalCode::new("N1 1AA").is_ok());
        assert!(PostalCode::new("N1;1AA").is_err());
        assert!(City::new("x".repeat(101)).is_err());
        assert!(AddressLine::new("1\u{0}").is_err());
    }
}

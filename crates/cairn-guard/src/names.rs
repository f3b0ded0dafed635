//! Person names and street addresses: the two kinds no single pattern validates. Names are runs of
//! capitalised words scored by a names list (US Census, public domain) and by shape; addresses are
//! house numbers with street words, in English and the common European forms.

use std::collections::HashSet;
use std::sync::OnceLock;

use regex::Regex;

fn list(text: &'static str) -> HashSet<&'static str> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
}

fn first_names() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| list(include_str!("../data/first-names.txt")))
}

fn last_names() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| list(include_str!("../data/last-names.txt")))
}

/// Capitalised words that begin sentences or name things, never people on their own.
const NOT_NAMES: &[&str] = &[
    "THE",
    "A",
    "AN",
    "THIS",
    "THAT",
    "THESE",
    "THOSE",
    "IT",
    "ITS",
    "I",
    "WE",
    "YOU",
    "HE",
    "SHE",
    "THEY",
    "MY",
    "OUR",
    "YOUR",
    "HIS",
    "HER",
    "THEIR",
    "IN",
    "ON",
    "AT",
    "FOR",
    "TO",
    "FROM",
    "BY",
    "WITH",
    "AND",
    "OR",
    "BUT",
    "IF",
    "SO",
    "AS",
    "OF",
    "IS",
    "ARE",
    "WAS",
    "WERE",
    "BE",
    "BEEN",
    "DO",
    "DOES",
    "DID",
    "HAVE",
    "HAS",
    "HAD",
    "CAN",
    "COULD",
    "WILL",
    "WOULD",
    "SHALL",
    "SHOULD",
    "MAY",
    "MIGHT",
    "MUST",
    "PLEASE",
    "THANKS",
    "THANK",
    "HELLO",
    "HI",
    "HEY",
    "DEAR",
    "YES",
    "NO",
    "NOT",
    "ALL",
    "ANY",
    "SOME",
    "EACH",
    "EVERY",
    "WHEN",
    "WHERE",
    "WHY",
    "HOW",
    "WHAT",
    "WHO",
    "WHICH",
    "THERE",
    "HERE",
    "THEN",
    "NOW",
    "ALSO",
    "JUST",
    "ONLY",
    "AFTER",
    "BEFORE",
    "DURING",
    "SINCE",
    "UNTIL",
    "MR",
    "MRS",
    "MS",
    "MISS",
    "DR",
    "PROF",
    "SIR",
    "MADAM",
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
    "STREET",
    "ROAD",
    "AVENUE",
    "LANE",
    "DRIVE",
    "COURT",
    "PLACE",
    "SQUARE",
    "NORTH",
    "SOUTH",
    "EAST",
    "WEST",
    "NEW",
    "OLD",
    "GREAT",
    "SAINT",
    "ST",
    "LAKE",
    "RIVER",
    "MOUNT",
    "CITY",
    "COUNTY",
    "STATE",
    "UNITED",
    "KINGDOM",
    "REPUBLIC",
    "BANK",
    "COMPANY",
    "INC",
    "LTD",
    "LLC",
    "CORP",
    "GROUP",
    "UNIVERSITY",
    "COLLEGE",
    "SCHOOL",
    "HOSPITAL",
    "CHURCH",
    "CLUB",
    "HOTEL",
    "CENTER",
    "CENTRE",
    "PARK",
    "HALL",
    "OFFICE",
    "DEPARTMENT",
    "MINISTRY",
    "EMAIL",
    "PHONE",
    "ADDRESS",
    "NAME",
    "DATE",
    "ACCOUNT",
    "CARD",
    "NUMBER",
    "ID",
    "PASSWORD",
    "USER",
    "CUSTOMER",
    "CLIENT",
    "PATIENT",
    "EMPLOYEE",
    "MANAGER",
    "TEAM",
    "PROJECT",
    "REPORT",
    "CHAPTER",
    "SECTION",
    "PAGE",
    "TABLE",
    "FIGURE",
    "NOTE",
    "NOTES",
    "SUMMARY",
    "TOTAL",
    "ORDER",
    "INVOICE",
    "MEETING",
    "GOOD",
    "BEST",
    "REGARDS",
    "SINCERELY",
    "YOURS",
    "LOVE",
    "CHEERS",
    "OK",
    "OKAY",
    "SORRY",
    "WELCOME",
    "CALL",
    "CONTACT",
    "SEND",
    "GET",
    "SEE",
    "LET",
    "MAKE",
    "TAKE",
    "GIVE",
    "TELL",
    "ASK",
    "USE",
    "FIND",
    "KEEP",
];

fn not_name(upper: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| NOT_NAMES.iter().copied().collect())
        .contains(upper)
}

fn candidates() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\b\p{Lu}[\p{Ll}\p{Lu}'’\-]*\p{Ll}[\p{Ll}'’\-]*(?:[ \t]+(?:\p{Lu}\.?|\p{Lu}[\p{Ll}\p{Lu}'’\-]*\p{Ll}[\p{Ll}'’\-]*)){0,3}\b\.?")
            .expect("valid")
    })
}

/// Person-name candidates: `(start, end, score)` in bytes, before context.
pub(crate) fn persons(text: &str) -> Vec<(usize, usize, f32)> {
    let mut out = Vec::new();
    for m in candidates().find_iter(text) {
        // Words with their byte offsets; leading and trailing words that are not names are dropped.
        let mut words: Vec<(usize, usize)> = Vec::new();
        let mut at = m.start();
        for w in m.as_str().split([' ', '\t']) {
            if !w.is_empty() {
                words.push((at, at + w.len()));
            }
            at += w.len() + 1;
        }
        let upper =
            |(s, e): (usize, usize)| text[s..e].trim_end_matches(['.', '\'', '’']).to_uppercase();
        while words
            .first()
            .is_some_and(|w| not_name(&upper(*w)) || upper(*w).chars().count() == 1)
        {
            words.remove(0);
        }
        while words.last().is_some_and(|w| not_name(&upper(*w))) {
            words.pop();
        }
        // A sentence's first word glued to a name ("Yesterday Mary Johnson"): start at the first
        // known first name when the words before it are not names.
        let known = |w: &str| first_names().contains(w) || last_names().contains(w);
        if let Some(i) = words
            .iter()
            .position(|w| first_names().contains(upper(*w).as_str()))
            && i > 0
            && words[..i].iter().all(|w| !known(&upper(*w)))
        {
            words.drain(..i);
        }
        if words.is_empty() {
            continue;
        }
        let full: Vec<String> = words
            .iter()
            .map(|w| upper(*w))
            .filter(|w| w.chars().count() > 1)
            .collect();
        if full.is_empty() || full.iter().any(|w| not_name(w)) {
            continue;
        }
        let first = first_names().contains(full[0].as_str());
        let last = full.len() > 1 && last_names().contains(full[full.len() - 1].as_str());
        let any_known = full
            .iter()
            .any(|w| first_names().contains(w.as_str()) || last_names().contains(w.as_str()));
        let score = match (full.len(), first, last) {
            (1, true, _) => 0.5,
            (1, false, _) if last_names().contains(full[0].as_str()) => 0.3,
            (1, _, _) => 0.2,
            (_, true, true) => 0.9,
            (_, true, false) | (_, false, true) => 0.7,
            _ if any_known => 0.55,
            // Two or more capitalised words, none known: foreign names, or organisations.
            _ => 0.5,
        };
        let start = words[0].0;
        let end = words[words.len() - 1].1;
        let end = start + text[start..end].trim_end_matches(['.', '\'', '’']).len();
        out.push((start, end, score));
    }
    out
}

/// Words that name a kind of street, after its name (English) or fused to it (European).
const STREET_WORDS: &str = r"Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Square|Sq|Terrace|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Trail|Close|Crescent|Row|Gardens|Mews|Walk|Grove|Plaza|Alley|Loop|Pike|Hill|Green|Park";

fn address_regexes() -> &'static [(Regex, f32)] {
    static RES: OnceLock<Vec<(Regex, f32)>> = OnceLock::new();
    RES.get_or_init(|| {
        let english = format!(r"\b\d{{1,6}}[A-Za-z]?(?:[ \t]+\d{{1,5}})?[ \t]+(?:\p{{Lu}}[\p{{L}}'.\-]*[ \t]+){{0,4}}(?:{STREET_WORDS})\b\.?(?:,?[ \t]*(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|#)[ \t]*\w+)?");
        let romance = r"(?i)\b(?:\d{1,5},?[ \t]+)?(?:rue|rua|via|viale|calle|avenida|avenue|piazza|plaza|carrer|chemin|boulevard|place|allée|travessa|largo|corso)[ \t]+(?:[\p{L}'’\-]+[ \t]+){0,4}?(?:\d{1,5}[a-z]?\b|[\p{L}'’\-]+)";
        let fused = r"\b(?:\d{1,6}[ \t]+)?\p{Lu}[\p{L}\-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|katu|tie|kuja|gatan|vägen|gränd|vej|veien|gate|gata|laan|straat|plein|gracht|utca|ulica|cesta|ulice|náměstí)[ \t]+\d{1,5}[a-zA-Z]?\b";
        let unit = r"\b(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat)[ \t]*#?\d{1,5}[A-Za-z]?\b";
        let military = r"\b(?:PSC|Unit|CMR)[ \t]+\d{3,5},[ \t]*Box[ \t]+\d{3,5}(?:\s+APO|\s+FPO|\s+DPO)?(?:[ \t]+A[AEP][ \t]+\d{5})?";
        vec![
            (Regex::new(&english).expect("valid"), 0.85),
            (Regex::new(romance).expect("valid"), 0.7),
            (Regex::new(fused).expect("valid"), 0.8),
            (Regex::new(unit).expect("valid"), 0.6),
            (Regex::new(military).expect("valid"), 0.9),
        ]
    })
}

/// Street-address candidates: `(start, end, score)` in bytes.
pub(crate) fn addresses(text: &str) -> Vec<(usize, usize, f32)> {
    address_regexes()
        .iter()
        .flat_map(|(re, score)| {
            re.find_iter(text)
                .map(move |m| (m.start(), m.end(), *score))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(String, f32)> {
        persons(text)
            .into_iter()
            .map(|(s, e, p)| (text[s..e].to_string(), p))
            .collect()
    }

    #[test]
    fn full_names_score_high_and_sentence_words_do_not() {
        let found = names("Yesterday Mary Johnson met The Board. Please call Robert.");
        assert!(
            found.contains(&("Mary Johnson".to_string(), 0.9)),
            "{found:?}"
        );
        assert!(
            found.iter().all(|(n, s)| n != "The Board" || *s < 0.5),
            "{found:?}"
        );
        // A lone first name is a name (privacy first); a lone word that is only a surname needs context.
        assert!(
            found.iter().any(|(n, s)| n == "Robert" && *s >= 0.5),
            "{found:?}"
        );
        assert!(
            found.iter().all(|(n, s)| n != "Board" || *s < 0.5),
            "{found:?}"
        );
    }

    #[test]
    fn addresses_in_several_styles_are_found() {
        for a in [
            "24 Clarke Avenue",
            "2450 Crown St",
            "Gesterbyntie 68",
            "Friedhofstrasse 33",
            "Via Roma 131",
            "36 rue de pologne",
            "Suite 464",
            "PSC 3294, Box 9168",
        ] {
            let text = format!("Send it to {a} please");
            let found = addresses(&text);
            assert!(
                found
                    .iter()
                    .any(|(s, e, _)| text[*s..*e].contains(a.split(' ').next().unwrap())),
                "{a}: {found:?}"
            );
        }
        assert!(addresses("We walked 3 miles along the river.").is_empty());
    }
}

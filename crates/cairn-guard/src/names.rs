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

/// The surname of a name of two words or more, without titles, particles or degrees, when it is
/// long enough (four characters) to be looked for alone without matching inside other words.
pub(crate) fn surname(name: &str) -> Option<&str> {
    let words: Vec<&str> = name
        .split([' ', '\t'])
        .map(|w| w.trim_end_matches(','))
        .filter(|w| !w.is_empty())
        .filter(|w| !degree_word().is_match(w) && !title_word().is_match(w))
        .collect();
    let last = *words.last()?;
    (words.len() >= 2 && last.chars().count() >= 4 && last.chars().next()?.is_uppercase())
        .then_some(last)
}

fn title_word() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(&format!(r"^(?:(?:{TITLES})\.?|{PARTICLES})$")).expect("valid"))
}

/// Titles before a name, as English and German write them (with or without their dot).
const TITLES: &str = r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Lady|Lord|Rev|Herr|Frau|Ing|Dipl\.-Ing|Dipl\.-Kfm|Dipl\.-Psych|Univ\.Prof|Univ\.-Prof|Mag|Ind|Misc";

/// A word of a name: capitalised, with a lower-case letter (so not a degree such as `MBA`).
const NAME_WORD: &str = r"\p{Lu}[\p{L}'’\-]*\p{Ll}[\p{L}'’\-]*";

/// The small words of Dutch, German, French, Italian and Spanish surnames (`van der`, `von`, `de`).
const PARTICLES: &str = r"van|von|der|den|de|du|da|di|del|della|zu|ten|ter|la|le|y";

/// Degrees and generational suffixes after a name.
pub(crate) const DEGREES: &str = r"B\.Sc\.|B\.A\.|B\.Eng\.|M\.Sc\.|M\.A\.|M\.Eng\.|LL\.M\.|MBA\.?|Ph\.?D\.?|M\.?D\.?|DDS|DVM|Jr\.?|Sr\.?|III|II|IV|Esq\.?";

/// A name after one or more titles ("Dipl.-Ing. Eva-Maria Stadelmann B.Sc.", "Ms Lisa May"):
/// the title says a name follows, so its words count whatever they are.
fn titled() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!(
            r"\b(?:(?:{TITLES})\.?[ \t]+){{1,3}}{NAME_WORD}(?:[ \t]+(?:{NAME_WORD}|{PARTICLES})){{0,3}}(?:,?[ \t]+(?:{DEGREES}))*"
        ))
        .expect("valid")
    })
}

/// A word that is a degree or a suffix, whole.
fn degree_word() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(&format!(r"^(?:{DEGREES})$")).expect("valid"))
}

/// Degrees right after a name: `^(, B.Sc.)+`.
fn degrees_after() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(&format!(r"^(?:,?[ \t]+(?:{DEGREES}))+")).expect("valid"))
}

/// Person-name candidates: `(start, end, score)` in bytes, before context. A name's titles and
/// degrees go with it.
pub(crate) fn persons(text: &str) -> Vec<(usize, usize, f32)> {
    let mut out: Vec<(usize, usize, f32)> = titled()
        .find_iter(text)
        .map(|m| (m.start(), m.end(), 0.85))
        .collect();
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
        // Only where a sentence starts: mid-sentence, a capitalised word is part of the name.
        let before = text[..m.start()].trim_end();
        let sentence_start = before.is_empty() || before.ends_with(['.', '!', '?', ':', '\n']);
        if sentence_start
            && let Some(i) = words
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
        // Degrees after the name, read as initials by the candidate ("Maria Aumann B.Eng.").
        if words.len() > 2
            && let Some(d) = degrees_after().find(&text[words[words.len() - 2].1..])
        {
            let end = words[words.len() - 2].1 + d.end();
            out.push((start, end, score));
            continue;
        }
        // The dot of a last word that is a suffix ("Jr.") is part of the name.
        let last = &text[words[words.len() - 1].0..end];
        let mut end = if degree_word().is_match(last) {
            end
        } else {
            start + text[start..end].trim_end_matches(['.', '\'', '’']).len()
        };
        if let Some(d) = degrees_after().find(&text[end..]) {
            end += d.end();
        }
        out.push((start, end, score));
    }
    merge_overlapping(out)
}

/// One candidate per name: overlapping ones (a titled name and the name inside it) become their
/// union, with the best score.
fn merge_overlapping(mut found: Vec<(usize, usize, f32)>) -> Vec<(usize, usize, f32)> {
    found.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
    let mut merged: Vec<(usize, usize, f32)> = Vec::with_capacity(found.len());
    for (start, end, score) in found {
        match merged.last_mut() {
            Some(last) if start < last.1 => {
                last.1 = last.1.max(end);
                last.2 = last.2.max(score);
            }
            _ => merged.push((start, end, score)),
        }
    }
    merged
}

/// Words that name a kind of street, after its name (English, with the abbreviations of the US
/// Postal Service and Royal Mail), or fused to it (European).
const STREET_WORDS: &str = r"Street|St|Streets|Avenue|Ave|Road|Rd|Roads|Lane|Ln|Drive|Dr|Drives|Boulevard|Blvd|Court|Ct|Courts|Way|Ways|Place|Pl|Square|Sq|Squares|Terrace|Parkway|Pkwy|Parkways|Circle|Cir|Circles|Highway|Hwy|Trail|Close|Crescent|Row|Gardens|Garden|Mews|Walk|Walks|Grove|Groves|Plaza|Alley|Loop|Pike|Hill|Hills|Green|Greens|Park|Parks|Branch|Bridge|Brook|Brooks|Burg|Burgs|Bypass|Camp|Canyon|Cape|Causeway|Center|Centers|Cliff|Cliffs|Club|Common|Corner|Corners|Course|Cove|Coves|Creek|Crest|Crossing|Crossroad|Curve|Dale|Dam|Divide|Estate|Estates|Expressway|Extension|Extensions|Falls|Fall|Ferry|Field|Fields|Flat|Flats|Ford|Fords|Forest|Forge|Forges|Fork|Forks|Fort|Freeway|Gateway|Glen|Glens|Harbor|Harbour|Harbors|Haven|Heights|Hollow|Inlet|Island|Islands|Isle|Junction|Junctions|Key|Keys|Knoll|Knolls|Lake|Lakes|Land|Landing|Light|Lights|Loaf|Lock|Locks|Lodge|Mall|Manor|Manors|Meadow|Meadows|Mill|Mills|Mission|Motorway|Mount|Mountain|Mountains|Neck|Orchard|Oval|Overpass|Pass|Passage|Path|Pine|Pines|Plain|Plains|Point|Points|Port|Ports|Prairie|Radial|Ramp|Ranch|Rapid|Rapids|Rest|Ridge|Ridges|River|Route|Rue|Run|Shoal|Shoals|Shore|Shores|Skyway|Spring|Springs|Spur|Spurs|Station|Stravenue|Stream|Summit|Throughway|Trace|Track|Trafficway|Tunnel|Turnpike|Underpass|Union|Unions|Valley|Valleys|Via|Viaduct|View|Views|Village|Villages|Ville|Vista|Wall|Well|Wells|Wharf|Quay|Rise|Vale|Yard|Hey|Drove|Chase|Parade|Embankment";

/// German street types as their own word after a hyphenated name (`Karl-Marx-Straße`).
const GERMAN_STREET_WORDS: &str = r"Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer|Markt|Chaussee|Steig|Pfad|Kai|Berg|Hof|Graben|Wall|Brücke|Promenade|Anger|Stieg";

/// A house number: `12`, `12a`, `4/5`, `2-1`, `58 - 98`.
const HOUSE_NUMBER: &str = r"\d{1,5}[a-zA-Z]?(?:[ \t]*[-/][ \t]*\d{1,5}[a-zA-Z]?)?\b";

fn address_regexes() -> &'static [(Regex, f32)] {
    static RES: OnceLock<Vec<(Regex, f32)>> = OnceLock::new();
    RES.get_or_init(|| {
        let english = format!(r"\b\d{{1,6}}[A-Za-z]?(?:[ \t]+\d{{1,5}})?[ \t]+(?:\p{{Lu}}[\p{{L}}'’.\-]*[ \t]+){{0,4}}(?:{STREET_WORDS})\b\.?(?:,?[ \t]*(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|#)[ \t]*\w+)?");
        // A flat or studio first, as Royal Mail writes it: "Flat 3, Smith Road".
        let flat_first = format!(r"\b(?:Flat|Studio|Apartment|Unit|Suite)[ \t]+\d{{1,4}}[A-Za-z]?,?[ \t]+(?:\d{{1,5}}[A-Za-z]?[ \t]+)?(?:\p{{Lu}}[\p{{L}}'’.\-]*[ \t]+){{1,4}}(?:{STREET_WORDS})\b\.?");
        let romance = r"(?i)\b(?:\d{1,5},?[ \t]+)?(?:rue|rua|via|viale|calle|avenida|avenue|piazza|plaza|carrer|chemin|boulevard|place|allée|travessa|largo|corso)[ \t]+(?:[\p{L}'’\-]+[ \t]+){0,4}?(?:\d{1,5}[a-z]?\b|[\p{L}'’\-]+)";
        let fused = format!(r"\b(?:\d{{1,6}}[ \t]+)?\p{{Lu}}[\p{{L}}\-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|markt|steig|pfad|graben|katu|tie|kuja|gatan|vägen|gränd|vej|veien|gate|gata|laan|straat|plein|gracht|utca|ulica|cesta|ulice|náměstí)[ \t]+{HOUSE_NUMBER}");
        // A hyphenated name and the street type as its own word: "Hans-Böckler-Allee 2-1", and a
        // first name of two words before it ("Franz Josef-Kabus-Platz 6").
        let hyphenated = format!(r"\b(?:\p{{Lu}}[\p{{L}}.]*[ \t]+)?(?:\p{{Lu}}[\p{{L}}.]*-)+(?:{GERMAN_STREET_WORDS})[ \t]+{HOUSE_NUMBER}");
        let unit = r"\b(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Studio)[ \t]*#?\d{1,5}[A-Za-z]?\b";
        let military = r"\b(?:PSC|Unit|CMR)[ \t]+\d{3,5},[ \t]*Box[ \t]+\d{3,5}(?:\s+APO|\s+FPO|\s+DPO)?(?:[ \t]+A[AEP][ \t]+\d{5})?";
        vec![
            (Regex::new(&english).expect("valid"), 0.85),
            (Regex::new(&flat_first).expect("valid"), 0.85),
            (Regex::new(romance).expect("valid"), 0.7),
            (Regex::new(&fused).expect("valid"), 0.8),
            (Regex::new(&hyphenated).expect("valid"), 0.8),
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
    fn a_surname_is_the_last_word_that_is_not_a_title_or_degree() {
        assert_eq!(
            surname("Dipl.-Ing. Eva-Maria Stadelmann B.Sc."),
            Some("Stadelmann")
        );
        assert_eq!(surname("Mr. Joshua Edwards Jr."), Some("Edwards"));
        assert_eq!(surname("Greta Lindqvist"), Some("Lindqvist"));
        assert_eq!(surname("Prof. Caroline Dussen van"), Some("Dussen"));
        assert_eq!(surname("Robert"), None, "one word: no surname apart");
        assert_eq!(surname("Li Wu"), None, "too short to look for alone");
    }

    #[test]
    fn titled_names_and_their_degrees_are_one_name() {
        for name in [
            "Dipl.-Ing. Eva-Maria Stadelmann B.Sc.",
            "Univ.Prof. Rico Holzapfel B.Eng.",
            "Ms Lisa May",
            "Dr. Kevin Nielsen MD",
            "Mrs. Natalie Santiago Jr.",
            "Maria Aumann B.Eng.",
        ] {
            let text = format!("Send it to {name} please.");
            let found = names(&text);
            assert!(
                found.iter().any(|(n, s)| n == name && *s >= 0.5),
                "{name}: {found:?}"
            );
        }
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
            "Hans-Böckler-Allee 2-1",
            "Ringallee 2/1",
            "Flat 59H, Alexander Court",
            "4715 Moreno Skyway",
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
